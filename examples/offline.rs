//! Runs TDLib with no account and no network: shows which TDLib is linked, parses formatted
//! text, and makes a round trip through a TDLib client.
//!
//! ```sh
//! cargo run --example offline
//! ```

use tdlib::{Client, enums, execute, functions, types};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), tdlib::Error> {
    let version = execute(functions::GetOption {
        name: "version".into(),
    })?;
    let commit = execute(functions::GetOption {
        name: "commit_hash".into(),
    })?;
    println!("linked TDLib: {}", option_text(&version));
    println!("its commit:   {}", option_text(&commit));
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

    let parsed = execute(functions::ParseTextEntities {
        text: "<b>bold</b> and <i>italic</i>".into(),
        parse_mode: enums::TextParseMode::HTML(types::TextParseModeHTML {}),
    })?;
    println!("parseTextEntities: {:?}", parsed.text);
    for entity in &parsed.entities {
        println!(
            "  {} at {}..{}",
            entity_name(&entity.r#type),
            entity.offset,
            entity.offset + entity.length
        );
    }
    let markdown = execute(functions::GetMarkdownText { text: parsed })?;
    println!("as Markdown: {:?}", markdown.text);

    // A client: TDLib starts an instance for it; it must be closed before the process exits.
    let client = Client::new()?;
    let square = client.send(functions::TestSquareInt { x: 12 }).await?;
    println!("testSquareInt(12) through a client: {}", square.value);
    client.close().await?;
    Ok(())
}

fn option_text(value: &enums::OptionValue) -> String {
    match value {
        enums::OptionValue::String(text) => text.value.clone(),
        other => format!("{other:?}"),
    }
}

fn entity_name(kind: &enums::TextEntityType) -> String {
    let debug = format!("{kind:?}");
    debug.split('(').next().unwrap_or_default().to_owned()
}
