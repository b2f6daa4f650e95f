//! [`ClientBuilder`]: options of a new client, and the check that the linked TDLib is the
//! release the typed API was generated for.

use std::sync::OnceLock;

use tdlib_types::functions;

use crate::subscription::{DEFAULT_CAPACITY, DEFAULT_WARN_AT};
use crate::{Client, Error};

/// Options for a new [`Client`].
///
/// [`ClientBuilder::build`] creates the client; [`ClientBuilder::start`] creates it and sets
/// TDLib's parameters, returning once TDLib has accepted them. Parameters are an argument of
/// `start` only, so they cannot be given to a builder and silently not sent:
///
/// ```compile_fail
/// let client = tdlib::Client::builder()
///     .parameters(tdlib::auth::parameters(1, "hash", "db")) // no such method
///     .build();
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    capacity: usize,
    warn_at: usize,
    allow_version_mismatch: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            capacity: DEFAULT_CAPACITY,
            warn_at: DEFAULT_WARN_AT,
            allow_version_mismatch: false,
        }
    }
}

impl ClientBuilder {
    /// How many updates a subscription's queue keeps, by default, for a subscriber that falls
    /// behind (see [`SubscriptionBuilder::capacity`](crate::SubscriptionBuilder::capacity));
    /// at least 1. Default [`DEFAULT_CAPACITY`](crate::DEFAULT_CAPACITY).
    pub fn update_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How long a lossless subscription's queue may grow, by default, before a warning is
    /// logged (see [`SubscriptionBuilder::warn_at`](crate::SubscriptionBuilder::warn_at)).
    pub fn lossless_warning(mut self, length: usize) -> Self {
        self.warn_at = length.max(1);
        self
    }

    /// Accept a linked TDLib of another release than the typed API's, with a warning instead
    /// of an error. Requests and answers may then not match the library: a field it does not
    /// know is ignored, an object of a type the API does not know arrives as `Unrecognized`.
    pub fn allow_version_mismatch(mut self, allow: bool) -> Self {
        self.allow_version_mismatch = allow;
        self
    }

    /// The queue options of the clients this builder makes.
    pub(crate) fn queue_options(&self) -> (usize, usize) {
        (self.capacity, self.warn_at)
    }

    /// Creates the client. The TDLib instance starts at once and asks for its parameters
    /// (`authorizationStateWaitTdlibParameters`): send them with [`Client::send`], or log in with
    /// [`auth::authorize`](crate::auth::authorize), or use [`ClientBuilder::start`] instead.
    pub fn build(self) -> Result<Client, Error> {
        crate::logging::init();
        if let Err(error) = library_version() {
            if !self.allow_version_mismatch {
                return Err(error);
            }
            tracing::warn!(target: "tdlib", %error, "TDLib version mismatch allowed");
        }
        Client::create(self.capacity, self.warn_at)
    }

    /// Creates the client, sets `parameters` (API id and hash, database directory, ...; see
    /// [`auth::parameters`](crate::auth::parameters)) and returns once TDLib has accepted them.
    /// If TDLib refuses them, the client is closed and TDLib's error returned.
    pub async fn start(self, parameters: functions::SetTdlibParameters) -> Result<Client, Error> {
        let client = self.build()?;
        if let Err(error) = client.send(parameters).await {
            let _ = client.close().await;
            return Err(error);
        }
        Ok(client)
    }
}

/// The version check, done once per process.
fn library_version() -> Result<(), Error> {
    static CHECKED: OnceLock<Result<(), Error>> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let option = |name: &str| -> Result<String, Error> {
                match crate::execute(functions::GetOption { name: name.into() })? {
                    tdlib_types::enums::OptionValue::String(value) => Ok(value.value),
                    _ => Err(Error::version_mismatch(
                        format!("a library whose {name} option is not a string"),
                        tdlib_sys::TDLIB_VERSION.into(),
                    )),
                }
            };
            crate::error::check_version(
                &option("version")?,
                &option("commit_hash")?,
                tdlib_sys::TDLIB_VERSION,
                tdlib_sys::TDLIB_COMMIT,
            )
        })
        .clone()
}
