//! Received text shown on a terminal: control characters escaped, so that a server cannot
//! move the cursor, retitle the window or hide text with escape sequences (as
//! `python -m websockets` does). Line feeds and tabs are kept.

use std::borrow::Cow;

/// `text` with every control character but `\n` and `\t` written as `\xNN` (C0 and DEL)
/// or `\u{NN}` (C1); borrowed when there is none.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn escape_sequences_bells_and_c1_controls_are_shown_not_run() {
        assert_eq!(
            escape_controls("plain text\tand a tab"),
            "plain text\tand a tab"
        );
        assert_eq!(
            escape_controls("\u{1b}[2Jcleared\u{7}"),
            "\\x1b[2Jcleared\\x07"
        );
        assert_eq!(escape_controls("two\nlines\r"), "two\nlines\\x0d");
        assert_eq!(escape_controls("c1 \u{9b}31m"), "c1 \\u{9b}31m");
        assert_eq!(escape_controls("\u{7f}"), "\\x7f");
    }
}
