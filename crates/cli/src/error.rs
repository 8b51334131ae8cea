//! The CLI's one error type: a sentence for the operator, naming what is wrong.

use std::fmt;

/// An operator-facing error. Its text names the input and the problem, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The core's settings errors already name the setting and redact key material.
impl From<edgejwt_core::SettingsError> for Error {
    fn from(e: edgejwt_core::SettingsError) -> Self {
        Self(e.to_string())
    }
}

/// The CLI's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
