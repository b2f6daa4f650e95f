//! [`Bot`]: logs in a bot with a token from configuration.

use std::fmt;

use tdlib_types::functions;

use super::{AuthError, AuthStep, Authenticator, Login};
use crate::Error;

/// An [`Authenticator`] for a bot: TDLib parameters and a bot token, both fixed. A refused
/// token ends the login with [`AuthError::Refused`] (step [`AuthStep::BotToken`]); there is
/// nobody to ask for another one. Its `Debug` output shows neither the token nor the API hash.
#[derive(Clone)]
pub struct Bot {
    parameters: functions::SetTdlibParameters,
    token: String,
}

impl Bot {
    /// A bot that logs in with `token` (from @BotFather's `/newbot`).
    pub fn new(parameters: functions::SetTdlibParameters, token: impl Into<String>) -> Bot {
        Bot {
            parameters,
            token: token.into(),
        }
    }
}

impl fmt::Debug for Bot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bot")
            .field("parameters", &self.parameters)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Authenticator for Bot {
    async fn parameters(&mut self) -> Result<functions::SetTdlibParameters, AuthError> {
        Ok(self.parameters.clone())
    }

    async fn login(&mut self, previous: Option<&Error>) -> Result<Login, AuthError> {
        match previous {
            Some(error) => Err(AuthError::Refused {
                step: AuthStep::BotToken,
                error: error.clone(),
            }),
            None => Ok(Login::BotToken(self.token.clone())),
        }
    }
}
