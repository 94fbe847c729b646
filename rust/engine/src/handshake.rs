//! Reading whole messages before a connection's reader task exists: the inbound auth
//! exchange, the outbound `connect` exchange and a reconnect's subscription replay.

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::error::EslError;
use crate::proto::{FrameParser, ServerMessage};

/// Bytes made room for before each socket read during a handshake (a connect reply with its
/// channel data is 3-8 KiB: the buffer grows once at most).
const HANDSHAKE_READ_CHUNK: usize = 4 * 1024;

/// Reads until one complete server message is available, before the reader task exists
/// (handshakes); `None` when the peer closed first.
pub(crate) async fn read_message(
    stream: &mut TcpStream,
    parser: &mut FrameParser,
) -> Result<Option<ServerMessage>, EslError> {
    loop {
        if let Some(frame) = parser.next_frame()? {
            return Ok(Some(ServerMessage::from_frame(frame)?));
        }
        if stream
            .read_buf(parser.read_buffer(HANDSHAKE_READ_CHUNK))
            .await?
            == 0
        {
            return Ok(None);
        }
    }
}
