//! What a chat name and a room name may be, and the one-line reason when they are not.

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// The longest room name, in characters.
pub const MAX_ROOM_CHARS: usize = 32;
/// The room of a join that names none, through a path that names none (`/ws`).
pub const DEFAULT_ROOM: &str = "lobby";

/// A name shown beside messages: 1 to 32 characters, letters (any script), digits, spaces
/// and `_ - .`, with no space at either end. Returns it, or why not (a sentence for the page).
pub fn check_name(name: &str) -> Result<&str, String> {
    let count = name.chars().count();
    if count == 0 {
        return Err("a name is needed".to_owned());
    }
    if count > MAX_NAME_CHARS {
        return Err(format!(
            "a name has at most {MAX_NAME_CHARS} characters (this one has {count})"
        ));
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        return Err("a name may not start or end with a space".to_owned());
    }
    if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.')))
    {
        return Err(format!(
            "a name has letters, digits, spaces, '_', '-' and '.' only (not {bad:?})"
        ));
    }
    Ok(name)
}

/// A room name, which is also a topic name and a path segment (`/ws/ROOM`): 1 to 32
/// characters among `a-z 0-9 _ -`. Returns it, or why not (a sentence for the page).
pub fn check_room(room: &str) -> Result<&str, String> {
    let count = room.chars().count();
    if count == 0 {
        return Err("a room is needed".to_owned());
    }
    if count > MAX_ROOM_CHARS {
        return Err(format!(
            "a room has at most {MAX_ROOM_CHARS} characters (this one has {count})"
        ));
    }
    if let Some(bad) = room
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-')))
    {
        return Err(format!(
            "a room has lower-case letters a-z, digits, '_' and '-' only (not {bad:?})"
        ));
    }
    Ok(room)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("alice").is_ok());
        assert!(check_name("Zoë O.-K_2").is_ok());
        assert!(check_name("名前").is_ok());
        assert!(check_name(&"a".repeat(32)).is_ok());
        assert!(
            check_name(&"a".repeat(33))
                .unwrap_err()
                .contains("at most 32")
        );
        assert!(check_name("").unwrap_err().contains("needed"));
        assert!(check_name(" bob").unwrap_err().contains("space"));
        assert!(check_name("<img>").unwrap_err().contains("'<'"));
        assert!(check_name("a\nb").is_err());
        assert!(check_name("a\u{202e}b").is_err());
    }

    #[test]
    fn rooms() {
        assert!(check_room("lobby").is_ok());
        assert!(check_room("room-2_b").is_ok());
        assert!(check_room(DEFAULT_ROOM).is_ok());
        assert!(check_room("Lobby").unwrap_err().contains("'L'"));
        assert!(check_room("a/b").is_err());
        assert!(check_room("").is_err());
        assert!(
            check_room(&"r".repeat(33))
                .unwrap_err()
                .contains("at most 32")
        );
    }
}
