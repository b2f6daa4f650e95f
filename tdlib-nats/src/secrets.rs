//! Keeping the registration's secrets off NATS subjects: requests that would carry them are
//! refused before they are sent, and TDLib's output that contains one (the account's own phone
//! number in its user object, in the login code's information) has it replaced before it is
//! published.

use serde_json::Value;

/// Functions whose parameters are secrets of the registration (API hash, database key, bot
/// token, phone number): a node sends them itself from the registration, and neither a remote
/// client nor a node carries them over NATS.
pub const SECRET_FUNCTIONS: [&str; 7] = [
    "setTdlibParameters",
    "checkAuthenticationBotToken",
    "setAuthenticationPhoneNumber",
    "setDatabaseEncryptionKey",
    "changePhoneNumber",
    "sendPhoneNumberCode",
    "checkDatabaseEncryptionKey",
];

/// The secret-carrying function `request` (TDLib JSON) calls, if it calls one, judged by its
/// decoded `@type` (escapes such as `\u0044` cannot hide a name). Text that is not a JSON
/// object with one string `@type` counts as calling one: it is not sent either (TDLib would
/// not run it, and it may hold anything).
pub fn secret_function(request: &str) -> Option<&'static str> {
    #[derive(serde::Deserialize)]
    struct Called<'a> {
        #[serde(rename = "@type", borrow)]
        function: std::borrow::Cow<'a, str>,
    }
    match serde_json::from_str::<Called<'_>>(request) {
        Ok(called) => secret_name(&called.function),
        Err(_) => Some("a request that is not a JSON object with one @type"),
    }
}

/// `function` if it is one of [`SECRET_FUNCTIONS`].
pub fn secret_name(function: &str) -> Option<&'static str> {
    SECRET_FUNCTIONS.into_iter().find(|name| *name == function)
}

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Replaces secrets in TDLib's output.
#[derive(Clone, Default)]
pub struct Scrubber {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Scrubber {
    /// A scrubber of `secrets` (each at least 4 bytes long; shorter ones are ignored).
    pub fn new(secrets: Vec<String>) -> Scrubber {
        let mut secrets = secrets;
        secrets.retain(|secret| secret.len() >= 4);
        Scrubber { secrets }
    }

    /// `json` with every string that contains a secret changed to have [`REDACTED`] in its
    /// place; unchanged (and not parsed) when no secret occurs in it.
    pub fn scrub(&self, json: String) -> String {
        if !self
            .secrets
            .iter()
            .any(|secret| json.contains(secret.as_str()))
        {
            return json;
        }
        let Ok(mut value) = serde_json::from_str::<Value>(&json) else {
            // Not JSON (never TDLib's output): nothing of it leaves.
            return serde_json::json!({"@type": "error", "code": 500, "message": "output withheld: it held a secret"}).to_string();
        };
        self.scrub_value(&mut value);
        value.to_string()
    }

    fn scrub_value(&self, value: &mut Value) {
        // Iterative: TDLib's output nests deeply at times.
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                Value::String(text) => {
                    for secret in &self.secrets {
                        if text.contains(secret.as_str()) {
                            *text = text.replace(secret.as_str(), REDACTED);
                        }
                    }
                }
                Value::Array(items) => stack.extend(items.iter_mut()),
                Value::Object(fields) => stack.extend(fields.values_mut()),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_that_carry_secrets_are_recognized() {
        assert_eq!(
            secret_function(r#"{"@type":"checkAuthenticationBotToken","token":"1:x"}"#),
            Some("checkAuthenticationBotToken")
        );
        assert_eq!(
            secret_function(r#"{"api_hash":"x","@type":"setTdlibParameters"}"#),
            Some("setTdlibParameters")
        );
        // An escaped name is the name.
        assert_eq!(
            secret_function(r#"{"@type":"set\u0044atabaseEncryptionKey","new_encryption_key":""}"#),
            Some("setDatabaseEncryptionKey")
        );
        // Named in a text, not called.
        assert_eq!(
            secret_function(r#"{"@type":"sendMessage","text":"setTdlibParameters"}"#),
            None
        );
        assert_eq!(secret_function(r#"{"@type":"getMe"}"#), None);
        // Not readable, or two @type (which one would TDLib take?): not sent.
        for unreadable in [
            r#"{"@type":"checkAuthenticationBotToken","token":"1:x""#,
            r#"{"@type":"getMe","@type":"setTdlibParameters"}"#,
            r#"{"token":"1:x"}"#,
            "[1]",
            "",
        ] {
            assert!(secret_function(unreadable).is_some(), "{unreadable}");
        }
    }

    #[test]
    fn secrets_in_strings_are_replaced_and_numbers_kept() {
        let scrubber = Scrubber::new(vec!["15550100".into(), "x".into()]);
        let text = r#"{"@type":"user","id":15550100,"phone_number":"15550100","bio":"call +15550100 now","x":"x"}"#;
        let scrubbed: Value = serde_json::from_str(&scrubber.scrub(text.into())).unwrap();
        assert_eq!(scrubbed["id"], 15550100);
        assert_eq!(scrubbed["phone_number"], REDACTED);
        assert_eq!(scrubbed["bio"], format!("call +{REDACTED} now"));
        // Secrets shorter than 4 bytes are not looked for.
        assert_eq!(scrubbed["x"], "x");
        let clean = r#"{"@type":"ok"}"#;
        assert_eq!(scrubber.scrub(clean.into()), clean);
        let deep = format!("{}\"15550100\"{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(!scrubber.scrub(deep).contains("15550100"));
    }
}
