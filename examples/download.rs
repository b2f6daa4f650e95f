//! Downloads a file with a progress bar: by TDLib's file id, or the file of a message.
//!
//! ```text
//! TDLIB_API_ID=... TDLIB_API_HASH=... TDLIB_BOT_TOKEN=... cargo run --example download -- <file id>
//! TDLIB_API_ID=... TDLIB_API_HASH=... cargo run --example download -- <chat id> <message id>
//! ```
//! TDLib's file ids belong to its database: take them from this account's messages (the second
//! form finds the file of a message: a photo's largest size, a document, a video, ...). Ctrl-C
//! cancels the download (dropping it sends `cancelDownloadFile`).

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use tdlib::transfer::TransferEvent;
use tdlib::{Client, functions};

#[tokio::main]
async fn main() -> ExitCode {
    let _closer = tdlib::CloseOnExit::new();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target = match parse(&args) {
        Ok(target) => target,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let (account, client) = match common::start("download").await {
        Ok(started) => started,
        Err(code) => return code,
    };
    let outcome = async {
        account.log_in(&client).await?;
        let file_id = match target {
            Target::File(id) => id,
            Target::Message { chat_id, message_id } => {
                file_of_message(&client, chat_id, message_id).await?
            }
        };
        download(&client, file_id).await
    };
    let outcome = tokio::select! {
        outcome = outcome => outcome,
        _ = tokio::signal::ctrl_c() => Err("cancelled".to_owned()),
    };
    common::finish("download", &client, outcome).await
}

enum Target {
    File(i32),
    Message { chat_id: i64, message_id: i64 },
}

fn parse(args: &[String]) -> Result<Target, String> {
    let usage = "usage: download <file id> | download <chat id> <message id>";
    let number =
        |text: &String| text.parse::<i64>().map_err(|_| format!("not a number: {text}\n{usage}"));
    match args {
        [file] => {
            let id = number(file)?;
            i32::try_from(id).map(Target::File).map_err(|_| format!("not a file id: {id}\n{usage}"))
        }
        [chat, message] => {
            Ok(Target::Message { chat_id: number(chat)?, message_id: number(message)? })
        }
        _ => Err(usage.to_owned()),
    }
}

async fn file_of_message(client: &Client, chat_id: i64, message_id: i64) -> Result<i32, String> {
    let message = client
        .send(functions::GetMessage { chat_id, message_id })
        .await
        .map_err(|error| format!("getMessage: {error}"))?;
    let file = tdlib::transfer::file_of(&message.content);
    file.map(|file| file.id).ok_or_else(|| format!("message {message_id} has no file"))
}

async fn download(client: &Client, file_id: i32) -> Result<(), String> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            .expect("a valid template"),
    );
    let mut download = client.download_file_with_priority(file_id, 32);
    while let Some(event) = download.next().await {
        match event {
            TransferEvent::Progress(progress) => {
                bar.set_length(progress.total);
                bar.set_position(progress.done);
            }
            TransferEvent::Done(file) => {
                bar.finish();
                println!("saved {} bytes at {}", file.file.size, file.path.display());
                return Ok(());
            }
            TransferEvent::Failed(error) => {
                bar.abandon();
                return Err(format!("download of file {file_id}: {error}"));
            }
            _ => {}
        }
    }
    Err("the download ended without a result".to_owned())
}
