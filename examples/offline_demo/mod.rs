//! The offline demo, shared by the `offline` example and by `echo` when it has no credentials:
//! shows which TDLib is linked, parses formatted text, and makes a round trip through a client.

use tdlib::{Client, enums, execute, functions, types};

/// Prints what TDLib does without an account or a network.
pub async fn run() -> Result<(), tdlib::Error> {
    let version = execute(functions::GetOption { name: "version".into() })?;
    let commit = execute(functions::GetOption { name: "commit_hash".into() })?;
    println!("linked TDLib: {}", option_text(&version));
    println!("its commit:   {}", option_text(&commit));
    println!(
        "tdlib-sys is pinned to TDLib {} ({}), linked {}",
        tdlib::TDLIB_VERSION,
        tdlib::TDLIB_COMMIT,
        if tdlib::LINKED_STATICALLY { "statically" } else { "dynamically" }
    );

    let parsed = execute(functions::ParseTextEntities {
        text: "<b>bold</b> and <i>italic</i>".into(),
        parse_mode: enums::TextParseMode::HTML(types::TextParseModeHTML {}),
    })?;
    println!("parseTextEntities: {:?}", parsed.text);
    print_entities(&parsed.entities);
    let markdown = execute(functions::GetMarkdownText { text: parsed })?;
    println!("as Markdown: {:?}", markdown.text);

    // And the other way: Markdown into entities.
    let from_markdown = execute(functions::ParseMarkdown {
        text: types::FormattedText {
            text: "**strong**, `code` and [a link](https://core.telegram.org)".into(),
            entities: Vec::new(),
        },
    })?;
    println!("parseMarkdown: {:?}", from_markdown.text);
    print_entities(&from_markdown.entities);

    // A client: TDLib starts an instance for it; it must be closed before the process exits.
    let client = Client::new()?;
    let square = client.send(functions::TestSquareInt { x: 12 }).await?;
    println!("testSquareInt(12) through a client: {}", square.value);
    let echoed =
        client.send(functions::TestCallString { x: "h\u{e9}llo \u{1f30d}".into() }).await?;
    println!("testCallString round trip: {:?}", echoed.value);
    let vector =
        client.send(functions::TestCallVectorInt { x: vec![i32::MIN, 0, i32::MAX] }).await?;
    println!("testCallVectorInt round trip: {:?}", vector.value);
    let refused = client
        .send(functions::TestReturnError {
            error: types::Error { code: 429, message: "FLOOD_WAIT_7".into() },
        })
        .await;
    match refused {
        Err(error) => {
            println!("testReturnError: {error} (retry after {:?})", error.retry_after())
        }
        Ok(_) => println!("testReturnError: unexpectedly no error"),
    }
    client.close().await?;
    Ok(())
}

fn option_text(value: &enums::OptionValue) -> String {
    match value {
        enums::OptionValue::String(text) => text.value.clone(),
        other => format!("{other:?}"),
    }
}

fn print_entities(entities: &[types::TextEntity]) {
    for entity in entities {
        println!(
            "  {} at {}..{}",
            entity_name(&entity.r#type),
            entity.offset,
            entity.offset + entity.length
        );
    }
}

fn entity_name(kind: &enums::TextEntityType) -> String {
    let debug = format!("{kind:?}");
    debug.split('(').next().unwrap_or_default().to_owned()
}
