//! TDLib accounts served over [NATS](https://nats.io) by a group of nodes, with remote clients
//! that have the `tdlib` crate's API.
//!
//! - Accounts are registered in a key-value bucket ([`registry`]), their parameters and login
//!   encrypted with a key the nodes hold.
//! - [Nodes](node) share the registered accounts through leases ([`lease`]): each account is
//!   served by exactly one node, and when a node dies the others take its accounts over.
//! - Requests go to `tdlib.<account>.rpc` (NATS request/reply, TDLib's JSON both ways).
//! - Updates go into the JetStream stream [`subjects::UPDATE_STREAM`], on
//!   `tdlib.<account>.update.<type>.<partition>` (the partition is the chat's, see
//!   [`subjects::partition`]), each with an id that makes a repeated delivery detectable.
//! - A [remote client](connect) is a [`tdlib::Client`] whose requests and updates travel over
//!   NATS: typed `send`, subscriptions and `auth::authorize` work on it as on a local one.
//! - Programs that handle updates read the stream durably ([`consumer::Durable`]: it keeps its
//!   place while they are stopped), as a group of workers that keeps each chat's order
//!   ([`consumer::WorkQueue`]), or as a plain NATS subscription (fan-out, nothing kept).
//! - Secrets (API hash, bot token, database key, phone number) stay in the registration:
//!   requests that would carry one over NATS are refused, and TDLib output that contains one
//!   has it replaced ([`secrets`]).
//!
//! The `tdlib-nats` binary runs a node (`serve`) and administers accounts (`account add`,
//! `account list`, `login`, ...); see the crate's README section in the repository.

pub mod bucket;
pub mod consumer;
pub mod lease;
pub mod node;
pub mod registry;
pub mod remote;
pub mod secrets;
pub mod serving;
pub mod subjects;

pub use remote::connect;
pub use serving::serve;

/// Errors of this crate: NATS's own, or the client's.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
