//! Runs TDLib with no account and no network: shows which TDLib is linked, parses formatted
//! text, and makes a round trip through a TDLib client.
//!
//! ```sh
//! cargo run --example offline
//! ```

use std::error::Error;
use std::ffi::{CStr, CString, c_int};
use std::time::{Duration, Instant};

use tdlib::raw::execute;

fn main() -> Result<(), Box<dyn Error>> {
    // TDLib logs at verbosity 5 to stderr by default; keep errors only.
    execute(r#"{"@type":"setLogVerbosityLevel","new_verbosity_level":1}"#)?;

    let version = execute(r#"{"@type":"getOption","name":"version"}"#)?;
    let commit = execute(r#"{"@type":"getOption","name":"commit_hash"}"#)?;
    println!("linked TDLib: {version}");
    println!("its commit:   {commit}");
    println!(
        "tdlib-sys is pinned to TDLib {} ({}), linked {}",
        tdlib::TDLIB_VERSION,
        tdlib::TDLIB_COMMIT,
        if tdlib::LINKED_STATICALLY {
            "statically"
        } else {
            "dynamically"
        }
    );

    let parsed = execute(
        r#"{"@type":"parseTextEntities","text":"<b>bold</b> and <i>italic</i>","parse_mode":{"@type":"textParseModeHTML"}}"#,
    )?;
    println!("parseTextEntities: {parsed}");

    let answer = client_round_trip()?;
    println!("testSquareInt(12) through a client: {answer}");
    Ok(())
}

/// Creates a client, sends `testSquareInt`, waits for the answer, and closes the client (TDLib
/// may abort a process that exits with a client still open). The typed async client will do
/// this for you; here it is done by hand on TDLib's C interface.
fn client_round_trip() -> Result<String, Box<dyn Error>> {
    // SAFETY: no preconditions.
    let client_id = unsafe { tdlib_sys::td_create_client_id() };
    send(
        client_id,
        r#"{"@type":"testSquareInt","x":12,"@extra":"square"}"#,
    )?;
    let answer = receive_until(|text| text.contains(r#""@extra":"square""#))?;
    send(client_id, r#"{"@type":"close"}"#)?;
    receive_until(|text| {
        text.contains(r#""authorization_state":{"@type":"authorizationStateClosed"}"#)
    })?;
    Ok(answer)
}

fn send(client_id: c_int, request: &str) -> Result<(), Box<dyn Error>> {
    let request = CString::new(request)?;
    // SAFETY: a valid NUL-terminated request; TDLib copies it before returning.
    unsafe { tdlib_sys::td_send(client_id, request.as_ptr()) };
    Ok(())
}

/// Receives (this program's only receiving thread) until `wanted` matches, for at most 10 s.
fn receive_until(wanted: impl Fn(&str) -> bool) -> Result<String, Box<dyn Error>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        // SAFETY: only this thread calls td_receive; the answer is copied at once.
        let answer = unsafe { tdlib_sys::td_receive(1.0) };
        if answer.is_null() {
            continue;
        }
        // SAFETY: non-null answers are NUL-terminated and valid until the next call.
        let text = unsafe { CStr::from_ptr(answer) }
            .to_string_lossy()
            .into_owned();
        if wanted(&text) {
            return Ok(text);
        }
    }
    Err("TDLib did not answer within 10 s".into())
}
