//! The registration bucket: each account's TDLib parameters and login, encrypted with a key the
//! nodes (and the administrator) hold.
//!
//! Values are sealed with ChaCha20-Poly1305 under a 256-bit [`SecretKey`], with the account's
//! name as associated data, so a value copied to another account's key does not open. Whoever
//! can read the bucket without the key sees account names and nothing else. The key lives in a
//! file (`tdlib-nats key generate`), never on NATS.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use tdlib::functions;

use crate::{BoxError, bucket, subjects};

/// How an account logs in without anyone at a terminal.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Login {
    /// A bot: the node logs in with this token.
    BotToken(String),
    /// A user: the node sends this phone number; the code (and the password, if any) are
    /// given by an operator through a remote client (`tdlib-nats login`).
    PhoneNumber(String),
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Login::BotToken(_) => "BotToken(<redacted>)",
            Login::PhoneNumber(_) => "PhoneNumber(<redacted>)",
        })
    }
}

/// An account's registration. Its `Debug` shows no secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The application's API id (from my.telegram.org).
    pub api_id: i32,
    /// The application's API hash (secret).
    pub api_hash: String,
    /// How the account logs in.
    pub login: Login,
    /// The key TDLib encrypts its database with (secret; may be empty).
    #[serde(default)]
    pub database_encryption_key: String,
    /// Whether the account lives on Telegram's test servers.
    #[serde(default)]
    pub use_test_dc: bool,
    /// The language code TDLib reports (default `en`).
    #[serde(default = "default_language")]
    pub system_language_code: String,
    /// The device model TDLib reports (default `tdlib-nats`).
    #[serde(default = "default_device")]
    pub device_model: String,
    /// The application version TDLib reports (default: this crate's version).
    #[serde(default = "default_version")]
    pub application_version: String,
}

fn default_language() -> String {
    "en".to_owned()
}

fn default_device() -> String {
    "tdlib-nats".to_owned()
}

fn default_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

impl Registration {
    /// A registration with the defaults above.
    pub fn new(api_id: i32, api_hash: impl Into<String>, login: Login) -> Registration {
        Registration {
            api_id,
            api_hash: api_hash.into(),
            login,
            database_encryption_key: String::new(),
            use_test_dc: false,
            system_language_code: default_language(),
            device_model: default_device(),
            application_version: default_version(),
        }
    }

    /// TDLib's parameters for the account, its database in `directory`.
    pub fn parameters(&self, directory: &Path) -> functions::SetTdlibParameters {
        let path = |name: &str| directory.join(name).to_string_lossy().into_owned();
        functions::SetTdlibParameters {
            use_test_dc: self.use_test_dc,
            database_directory: path("database"),
            files_directory: path("files"),
            database_encryption_key: self.database_encryption_key.clone().into_bytes(),
            use_file_database: true,
            use_chat_info_database: true,
            use_message_database: true,
            use_secret_chats: false,
            api_id: self.api_id,
            api_hash: self.api_hash.clone(),
            system_language_code: self.system_language_code.clone(),
            device_model: self.device_model.clone(),
            system_version: String::new(),
            application_version: self.application_version.clone(),
        }
    }

    /// The secrets in it, as they could appear in TDLib's output (the phone number as digits).
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![self.api_hash.clone(), self.database_encryption_key.clone()];
        match &self.login {
            Login::BotToken(token) => secrets.push(token.clone()),
            Login::PhoneNumber(phone) => {
                secrets.push(phone.clone());
                secrets.push(phone.chars().filter(char::is_ascii_digit).collect());
            }
        }
        // Too short to be told apart from other text; nothing to hide in them anyway.
        secrets.retain(|secret| secret.len() >= 4);
        secrets
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("api_id", &self.api_id)
            .field("api_hash", &"<redacted>")
            .field("login", &self.login)
            .field("use_test_dc", &self.use_test_dc)
            .finish_non_exhaustive()
    }
}

/// The key the registrations are sealed with. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// The first byte of a sealed value: the format's version.
const SEALED_V1: u8 = 1;

impl SecretKey {
    /// A new random key.
    pub fn generate() -> Result<SecretKey, BoxError> {
        let mut key = [0; 32];
        getrandom::fill(&mut key).map_err(|error| format!("no randomness: {error}"))?;
        Ok(SecretKey(key))
    }

    /// The key as 64 hexadecimal digits (what a key file holds).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// A key from 64 hexadecimal digits (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<SecretKey, BoxError> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err("a key is 64 hexadecimal digits (tdlib-nats key generate)".into());
        }
        let mut key = [0; 32];
        for (index, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * index..2 * index + 2], 16)?;
        }
        Ok(SecretKey(key))
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<SecretKey, BoxError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read the key file {}: {error}", path.display()))?;
        SecretKey::from_hex(&text)
            .map_err(|error| format!("the key file {}: {error}", path.display()).into())
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.0))
    }

    /// Seals `plain` for `account`: version, nonce, ciphertext with its tag.
    pub fn seal(&self, account: &str, plain: &[u8]) -> Result<Vec<u8>, BoxError> {
        let mut nonce = [0; 12];
        getrandom::fill(&mut nonce).map_err(|error| format!("no randomness: {error}"))?;
        let sealed = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: account.as_bytes(),
                },
            )
            .map_err(|_| "sealing failed")?;
        let mut value = Vec::with_capacity(1 + nonce.len() + sealed.len());
        value.push(SEALED_V1);
        value.extend_from_slice(&nonce);
        value.extend_from_slice(&sealed);
        Ok(value)
    }

    /// Opens what [`SecretKey::seal`] sealed for `account`.
    pub fn open(&self, account: &str, value: &[u8]) -> Result<Vec<u8>, BoxError> {
        let refused = || -> BoxError {
            format!(
                "the registration of {account} cannot be opened: another key sealed it, or it \
                 was changed"
            )
            .into()
        };
        if value.len() < 1 + 12 + 16 || value[0] != SEALED_V1 {
            return Err(refused());
        }
        self.cipher()
            .decrypt(
                Nonce::from_slice(&value[1..13]),
                Payload {
                    msg: &value[13..],
                    aad: account.as_bytes(),
                },
            )
            .map_err(|_| refused())
    }
}

/// The registration bucket, opened with the key.
#[derive(Clone)]
pub struct Registry {
    kv: kv::Store,
    key: SecretKey,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

impl Registry {
    /// Opens the bucket (creating it, with one replica, if needed).
    pub async fn open(nats: &async_nats::Client, key: SecretKey) -> Result<Registry, BoxError> {
        Registry::open_with_replicas(nats, key, 1).await
    }

    /// Opens the bucket (creating it with `replicas` copies if needed).
    pub async fn open_with_replicas(
        nats: &async_nats::Client,
        key: SecretKey,
        replicas: usize,
    ) -> Result<Registry, BoxError> {
        let js = jetstream::new(nats.clone());
        let (kv, _) =
            bucket::open(&js, subjects::ACCOUNTS_BUCKET, Duration::ZERO, replicas).await?;
        Ok(Registry { kv, key })
    }

    /// Registers a new account; an account of that name must not exist.
    pub async fn add(&self, account: &str, registration: &Registration) -> Result<(), BoxError> {
        subjects::check_name("account", account)?;
        let plain = serde_json::to_vec(registration)?;
        let sealed = self.key.seal(account, &plain)?;
        self.kv
            .create(account, sealed.into())
            .await
            .map_err(|error| match error.kind() {
                kv::CreateErrorKind::AlreadyExists => {
                    format!("account {account} is registered already").into()
                }
                _ => BoxError::from(error),
            })?;
        Ok(())
    }

    /// Removes an account's registration (its node stops serving it at its next renewal).
    pub async fn remove(&self, account: &str) -> Result<(), BoxError> {
        subjects::check_name("account", account)?;
        if self.kv.get(account).await?.is_none() {
            return Err(format!("account {account} is not registered").into());
        }
        self.kv.purge(account).await?;
        Ok(())
    }

    /// An account's registration, if it is registered.
    pub async fn get(&self, account: &str) -> Result<Option<Registration>, BoxError> {
        subjects::check_name("account", account)?;
        let Some(sealed) = self.kv.get(account).await? else {
            return Ok(None);
        };
        let plain = self.key.open(account, &sealed)?;
        Ok(Some(serde_json::from_slice(&plain).map_err(|error| {
            format!("the registration of {account} is not readable: {error}")
        })?))
    }

    /// The registered accounts' names, sorted.
    pub async fn accounts(&self) -> Result<Vec<String>, BoxError> {
        names(&self.kv).await
    }
}

/// The registered accounts' names, sorted (the names are not secret: no key needed). None if
/// the bucket does not exist yet.
pub async fn registered_accounts(nats: &async_nats::Client) -> Result<Vec<String>, BoxError> {
    let js = jetstream::new(nats.clone());
    match bucket::open_existing(&js, subjects::ACCOUNTS_BUCKET).await? {
        Some((kv, _)) => names(&kv).await,
        None => Ok(Vec::new()),
    }
}

async fn names(kv: &kv::Store) -> Result<Vec<String>, BoxError> {
    let names: Vec<String> = kv.keys().await?.try_collect().await?;
    // A key written while the listing runs can be listed twice: a set.
    let names: std::collections::BTreeSet<String> = names
        .into_iter()
        .filter(|name| subjects::is_valid_account(name))
        .collect();
    Ok(names.into_iter().collect())
}

impl Registry {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_their_key_and_account_only() {
        let key = SecretKey::generate().unwrap();
        let sealed = key.seal("alice", b"secret").unwrap();
        assert!(!sealed.windows(6).any(|window| window == b"secret"));
        assert_eq!(key.open("alice", &sealed).unwrap(), b"secret");
        assert!(key.open("bob", &sealed).is_err());
        let other = SecretKey::generate().unwrap();
        assert!(other.open("alice", &sealed).is_err());
        let mut changed = sealed.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert!(key.open("alice", &changed).is_err());
        for short in [&[][..], &[1], &sealed[..20]] {
            assert!(key.open("alice", short).is_err());
        }
        // Two seals of one value differ (a fresh nonce each).
        assert_ne!(key.seal("alice", b"secret").unwrap(), sealed);
    }

    #[test]
    fn keys_round_trip_as_hex_and_stay_out_of_debug() {
        let key = SecretKey::generate().unwrap();
        let again = SecretKey::from_hex(&format!(" {}\n", key.to_hex())).unwrap();
        assert_eq!(again.0, key.0);
        assert!(!format!("{key:?}").contains(&key.to_hex()[..8]));
        for bad in ["", "00", &"g".repeat(64), &"0".repeat(63), &"é".repeat(32)] {
            assert!(SecretKey::from_hex(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_of_a_registration_shows_no_secret() {
        let mut registration = Registration::new(
            7,
            "hash-0123456789",
            Login::PhoneNumber("+1 555 0100".into()),
        );
        registration.database_encryption_key = "db-key-secret".into();
        let shown = format!("{registration:?}");
        for secret in ["hash-0123456789", "555", "db-key-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(registration.secrets().contains(&"15550100".to_owned()));
        let bot = Registration::new(7, "hash-0123456789", Login::BotToken("1:token".into()));
        assert!(!format!("{bot:?}").contains("1:token"));
    }
}
