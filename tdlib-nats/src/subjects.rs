//! The NATS names of an account's traffic.

/// The JetStream stream that keeps every account's updates.
pub const UPDATE_STREAM: &str = "TDLIB_UPDATES";

/// The subjects of [`UPDATE_STREAM`].
pub const UPDATE_SUBJECTS: &str = "tdlib.*.update.>";

/// Where requests to `account` go.
pub fn rpc(account: &str) -> String {
    format!("tdlib.{account}.rpc")
}

/// Where `account`'s updates of type `kind` (TDLib's `@type`, e.g. `updateNewMessage`) go.
pub fn update(account: &str, kind: &str) -> String {
    format!("tdlib.{account}.update.{kind}")
}

/// Every update subject of `account`.
pub fn updates(account: &str) -> String {
    format!("tdlib.{account}.update.>")
}

/// Whether `account` can be part of a subject: letters, digits, `-` and `_` only (no `.`,
/// `*`, `>` or spaces, which NATS gives meanings).
pub fn is_valid_account(account: &str) -> bool {
    !account.is_empty()
        && account.len() <= 64
        && account
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_account_names() {
        assert_eq!(rpc("bot-1"), "tdlib.bot-1.rpc");
        assert_eq!(
            update("bot-1", "updateNewMessage"),
            "tdlib.bot-1.update.updateNewMessage"
        );
        assert_eq!(updates("a"), "tdlib.a.update.>");
        for bad in ["", "a.b", "a*", ">", "a b", &"x".repeat(65)] {
            assert!(!is_valid_account(bad), "{bad:?}");
        }
        assert!(is_valid_account("Bot_1-x"));
    }
}
