//! The server-to-client stream: any bytes, cut into any chunks, must give frames or a typed
//! error, never a panic, a hang or a buffer past the caps.
#![no_main]

use esl4j_engine::proto::{FrameLimits, FrameParser, ServerMessage};
use libfuzzer_sys::fuzz_target;

/// Small caps so the fuzzer reaches them; the real ones are 10 MiB and 16 MiB.
const LIMITS: FrameLimits = FrameLimits {
    max_header_bytes: 4096,
    max_body_bytes: 8192,
};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size, so splits inside line ends and bodies are explored.
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut parser = FrameParser::new(LIMITS);
    for piece in stream.chunks(chunk) {
        parser.feed(piece);
        loop {
            match parser.next_frame() {
                Ok(Some(frame)) => drop(ServerMessage::from_frame(frame)),
                Ok(None) => break,
                Err(_) => {
                    assert!(parser.next_frame().is_err(), "a failed parser stays failed");
                    return;
                }
            }
        }
        assert!(
            parser.buffered_len() <= LIMITS.max_header_bytes + LIMITS.max_body_bytes + chunk + 2,
            "buffer past the caps"
        );
    }
});
