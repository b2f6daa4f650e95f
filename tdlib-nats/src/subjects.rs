//! The NATS names of an account's traffic, and the buckets the nodes share.

/// The JetStream stream that keeps every account's updates.
pub const UPDATE_STREAM: &str = "TDLIB_UPDATES";

/// The subjects of [`UPDATE_STREAM`].
pub const UPDATE_SUBJECTS: &str = "tdlib.*.update.>";

/// The key-value bucket of account registrations (their values encrypted, see
/// [`crate::registry`]).
pub const ACCOUNTS_BUCKET: &str = "tdlib_accounts";

/// The key-value bucket of leases: which node holds which account, and which nodes are alive.
pub const LEASES_BUCKET: &str = "tdlib_leases";

/// Updates are spread over this many partitions by chat (the last token of their subject):
/// all updates of a chat are in one partition, and a work queue keeps each partition in order.
pub const PARTITIONS: u32 = 16;

/// Where requests to `account` go.
pub fn rpc(account: &str) -> String {
    format!("tdlib.{account}.rpc")
}

/// Where `account`'s updates of type `kind` (TDLib's `@type`, e.g. `updateNewMessage`) in
/// `partition` go.
pub fn update(account: &str, kind: &str, partition: u32) -> String {
    format!("tdlib.{account}.update.{kind}.{partition}")
}

/// Every update subject of `account` (`*`: of every account).
pub fn updates(account: &str) -> String {
    format!("tdlib.{account}.update.>")
}

/// Every update subject of `account` (`*`: of every account) in `partition`.
pub fn partition_updates(account: &str, partition: u32) -> String {
    format!("tdlib.{account}.update.*.{partition}")
}

/// The partition of the updates of `chat_id`; updates of no chat are in partition 0.
pub fn partition(chat_id: Option<i64>) -> u32 {
    match chat_id {
        None => 0,
        // Mixed first: chat ids of one kind share their low digits' patterns.
        Some(chat_id) => {
            let mixed = (chat_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            ((mixed >> 32) % u64::from(PARTITIONS)) as u32
        }
    }
}

/// Whether `name` can be part of a subject or a key: letters, digits, `-` and `_` only (no
/// `.`, `*`, `>` or spaces, which NATS gives meanings), at most 64 bytes.
pub fn is_valid_account(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// An error for a name that [`is_valid_account`] refuses.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), crate::BoxError> {
    if is_valid_account(name) {
        Ok(())
    } else {
        Err(format!("not a valid {what} name: {name:?} (1 to 64 letters, digits, - and _)").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_account_names() {
        assert_eq!(rpc("bot-1"), "tdlib.bot-1.rpc");
        assert_eq!(
            update("bot-1", "updateNewMessage", 3),
            "tdlib.bot-1.update.updateNewMessage.3"
        );
        assert_eq!(updates("a"), "tdlib.a.update.>");
        assert_eq!(partition_updates("*", 7), "tdlib.*.update.*.7");
        for bad in ["", "a.b", "a*", ">", "a b", &"x".repeat(65)] {
            assert!(!is_valid_account(bad), "{bad:?}");
        }
        assert!(is_valid_account("Bot_1-x"));
    }

    #[test]
    fn chats_are_spread_over_every_partition() {
        assert_eq!(partition(None), 0);
        let mut seen = [0u32; PARTITIONS as usize];
        for chat_id in (1..=1600).chain((1..=1600).map(|n| -1_000_000_000_000 - n)) {
            let partition = partition(Some(chat_id));
            assert!(partition < PARTITIONS);
            assert_eq!(partition, super::partition(Some(chat_id)));
            seen[partition as usize] += 1;
        }
        // 3,200 chats: each partition gets a fair share (200 on average).
        assert!(
            seen.iter().all(|count| (120..=280).contains(count)),
            "{seen:?}"
        );
    }
}
