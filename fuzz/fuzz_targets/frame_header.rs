//! The frame header parser on arbitrary bytes: never panics; a complete header re-encodes
//! to the same bytes when its length used the minimal form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ws_proto::{FrameHeader, HeaderParse, MAX_HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    match FrameHeader::parse(data) {
        Ok(HeaderParse::Complete { header, len }) => {
            assert!(len <= data.len() && len <= MAX_HEADER_LEN);
            assert!(header.payload_len < 1 << 63);
            if header.opcode.is_control() {
                assert!(header.fin && header.payload_len <= 125);
            }
            let mut out = [0u8; MAX_HEADER_LEN];
            let n = header.encode(&mut out);
            if n == len {
                assert_eq!(&out[..n], &data[..len]);
            }
        }
        Ok(HeaderParse::Incomplete { needed }) => assert!(needed >= 1 && data.len() + needed <= MAX_HEADER_LEN),
        Err(err) => assert_eq!(err.close_code().as_u16(), 1002),
    }
});
