//! Runs TDLib with no account and no network: shows which TDLib is linked, parses formatted
//! text, and makes a round trip through a TDLib client.
//!
//! ```sh
//! cargo run --example offline
//! ```

#[path = "offline_demo/mod.rs"]
mod offline_demo;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), tdlib::Error> {
    offline_demo::run().await
}
