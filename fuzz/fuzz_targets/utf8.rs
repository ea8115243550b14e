//! The incremental UTF-8 validator against `std::str::from_utf8`, on arbitrary bytes cut
//! at arbitrary points: same verdict, and a failure no later than the first byte after
//! which no continuation could make the text valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_proto::Utf8Validator;

fuzz_target!(|data: &[u8]| {
    let Some((&cut_seed, bytes)) = data.split_first() else { return };
    let expected = std::str::from_utf8(bytes);
    let mut validator = Utf8Validator::new();
    let mut fed = 0;
    let mut failed_piece = None;
    let step = usize::from(cut_seed % 17) + 1;
    while fed < bytes.len() {
        let end = (fed + step).min(bytes.len());
        if validator.feed(&bytes[fed..end]).is_err() {
            failed_piece = Some(fed..end);
            break;
        }
        fed = end;
    }
    let verdict = failed_piece.is_none() && validator.finish().is_ok();
    assert_eq!(verdict, expected.is_ok());
    if let Some(piece) = failed_piece {
        // The first byte after which no continuation can make the text valid.
        let hopeless = (0..bytes.len())
            .find(|&k| matches!(std::str::from_utf8(&bytes[..=k]), Err(e) if e.error_len().is_some()))
            .expect("a failed feed means some prefix is hopeless");
        assert!(piece.contains(&hopeless), "failed on {piece:?}, first hopeless byte {hopeless}");
    }
});
