//! esl4j engine: FreeSWITCH Event Socket protocol and connections.
//!
//! Layout:
//! - [`proto`]: sans-IO protocol. [`proto::FrameParser`] frames bytes split anywhere,
//!   [`proto::ServerMessage`] classifies frames, [`proto::Event`] decodes plain/JSON/XML
//!   events into one flat buffer, [`proto::command`] encodes every command and refuses
//!   CR/LF injection.
//! - [`error`]: [`EslError`] and its stable [`ErrorKind`].
//! - [`Connection`] (`connection/`): one socket, a reader task (`driver.rs`) and a writer task;
//!   its state (`state.rs`) and reconnect (`reconnect.rs`). Replies
//!   are matched FIFO; events go to a bounded queue ([`Incoming`], [`OverflowPolicy`]);
//!   `bgapi` jobs and `execute` completions are correlated by client-generated UUIDs.
//! - `handshake.rs`: the inbound `auth` and outbound `connect` exchanges, before the reader task.
//! - [`Client`] (`inbound.rs`): connect + auth with deadlines, optional reconnect that queues
//!   [`Incoming::Disconnected`], replays subscriptions and emits [`Incoming::Reconnected`].
//! - [`Server`] / [`Session`] (`outbound.rs`): the listener for the `socket` application.
//!
//! The crate never installs a tracing subscriber, and passwords never reach logs or errors.
//!
//! ```no_run
//! use std::time::Duration;
//! use esl4j_engine::proto::EventFormat;
//! use esl4j_engine::{Client, ClientConfig, Incoming, Password};
//!
//! # async fn example() -> Result<(), esl4j_engine::EslError> {
//! let client = Client::connect(ClientConfig::new("127.0.0.1:8021", Password::new("ClueCon"))).await?;
//! println!("{}", client.api("status").await?.text());
//! client.subscribe(EventFormat::Plain, &["CHANNEL_ANSWER", "BACKGROUND_JOB"]).await?;
//! let job = client.bgapi("originate user/1000 &park").await?;
//! let result = job.wait(Duration::from_secs(60)).await?;
//! println!("{}", result.body_text().unwrap_or_default());
//! for item in client.recv_batch(1000, Some(Duration::from_secs(1))).await? {
//!     if let Incoming::Event(event) = item {
//!         println!("{:?} {:?}", event.name(), event.header("Unique-ID"));
//!     }
//! }
//! client.close().await;
//! # Ok(())
//! # }
//! ```

mod connection;
pub mod error;
mod handshake;
mod id;
mod inbound;
mod log_limit;
mod outbound;
mod outbox;
pub mod park;
pub mod proto;
mod queue;

pub use connection::{
    Connection, ConnectionConfig, ExecuteOptions, Execution, Gap, Job, ReconnectPolicy, Response,
};
pub use error::{CommandError, ErrorKind, EslError, ProtocolError};
pub use inbound::{Client, ClientConfig, Password};
pub use outbound::{RoutedItems, Server, ServerConfig, ServerStats, Session, SocketMode};
pub use queue::{Incoming, OverflowPolicy, OverloadCounts, QueueStats};
