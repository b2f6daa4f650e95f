//! TDLib (Telegram's client library) for Rust: typed async requests, and updates through
//! subscriptions.
//!
//! ```
//! use tdlib::{Client, functions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tdlib::Error> {
//! let client = Client::new()?;
//! let square = client.send(functions::TestSquareInt { x: 12 }).await?;
//! assert_eq!(square.value, 144);
//! client.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! - [`Client`]: one TDLib instance. [`Client::send`] takes any request of [`functions`] and
//!   returns its answer type; [`Client::subscribe`] subscribes to one kind of update
//!   ([`Subscription`]); [`Client::close`] closes. Futures work on any executor.
//! - Its promises: every request ends (with an answer, TDLib's error, or an [`Error`] saying
//!   why not; requests TDLib could not answer are refused before they are sent); only updates
//!   reach subscriptions, filtered before they are queued; a lossless subscription loses
//!   nothing; `close` ends everything that waits; a failure of the receive loop ends what it
//!   affects with an error instead of leaving it waiting, and is reported by [`health`].
//! - The whole typed API is generated from the schema of the linked TDLib: [`types`],
//!   [`enums`], [`functions`], [`Object`] (see [`tdlib_types`]).
//! - [`blocking`] (feature `blocking`, on by default): the same client for programs without an
//!   async runtime, such as desktop apps: blocking calls, updates in `crossbeam-channel`
//!   receivers.
//! - [`transfer`]: downloads with progress ([`Client::download_file`]) and sent messages followed
//!   until the server has them ([`Client::send_message`]), in both faces.
//! - [`remote`]: the same client for a TDLib in another process, through a transport (requests)
//!   and an update feed.
//! - [`auth`] logs a client in ([`auth::authorize`] with an [`auth::Authenticator`]: a bot
//!   token, or a user asked at the terminal, or your own).
//! - [`ordered::for_each_by_key`] handles updates in order per chat while chats run
//!   concurrently.
//! - [`execute`] runs a synchronous request without a client; [`raw::execute`] does so with
//!   JSON.
//! - TDLib's log goes to [`tracing`] (see [`logging`]).
//!
//! # Layout
//!
//! One file per concern, and no file that needs a file that needs it:
//! `ffi` (every `unsafe` call into TDLib) ← `error`, `request` (checking and encoding what goes
//! to TDLib), `answer` (decoding what comes back) ← `logging`, `execute`, `raw` ← `subscription`
//! and `state` (what subscribers and watchers see) ← `dispatcher` (the receive loop, the pending
//! table, routing; its module docs describe the threading model) ← `client` (requests),
//! `builder`, `shutdown` (close, [`CloseOnExit`]) ← `transfer` (trackers fed on the receive
//! thread) ← `blocking` (the blocking face over all of it), `auth`, `ordered`. `timer` gives time
//! limits without a runtime. The library itself is found and linked by [`tdlib_sys`].

mod answer;
pub mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
mod builder;
mod client;
mod dispatcher;
mod error;
mod execute;
mod ffi;
pub mod logging;
pub mod ordered;
pub mod raw;
pub mod remote;
mod request;
mod shutdown;
mod state;
mod subscription;
mod timer;
pub mod transfer;

pub use builder::ClientBuilder;
pub use client::Client;
pub use dispatcher::{Health, RECEIVE_STACK_SIZE, health};
pub use error::{Error, ErrorKind};
pub use execute::execute;
pub use logging::set_log_verbosity;
pub use request::MAX_REQUEST_DEPTH;
pub use shutdown::CloseOnExit;
pub use state::StateWatch;
pub use subscription::{
    DEFAULT_CAPACITY, DEFAULT_WARN_AT, Event, Received, Subscription, SubscriptionBuilder,
    TryRecvError,
};
pub use tdlib_sys::{LINKED_STATICALLY, TDLIB_COMMIT, TDLIB_VERSION};
pub use tdlib_types::{Object, codec, enums, functions, types};
