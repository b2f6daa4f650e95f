//! TDLib accounts served over [NATS](https://nats.io): a node runs `tdlib` clients and answers
//! their requests on NATS subjects, publishing their updates into a JetStream stream; a remote
//! client ([`connect`]) is a [`tdlib::Client`] whose requests and updates travel over NATS, so
//! code written for a local client (typed `send`, subscriptions, `auth::authorize`) works on an
//! account served by another process or machine.
//!
//! Subjects (see [`subjects`]):
//! - `tdlib.<account>.rpc`: requests, NATS request/reply, TDLib's JSON both ways (TDLib's
//!   refusals as its `error` objects);
//! - `tdlib.<account>.update.<type>`: updates, in the JetStream stream
//!   [`subjects::UPDATE_STREAM`], each with a `Nats-Msg-Id` (`<account>:<session>:<sequence>`)
//!   that makes a redelivery detectable.
//!
//! Programs that handle updates read the stream with a durable consumer
//! ([`consumer::Durable`]): it keeps its place while they are stopped, and workers that share
//! its name share the updates.
//!
//! This is the first part of the design: one node serves the accounts it is given. Leases that
//! move accounts between nodes, the registration bucket and the admin tool come next.

pub mod consumer;
pub mod node;
pub mod remote;
pub mod subjects;

pub use node::serve;
pub use remote::connect;

/// Errors of this crate: NATS's own, or the client's.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
