//! Typed params, results and event payloads, one module per area.
//!
//! Field names, optionality and enums follow OpenClaw's `<Name>ParamsSchema`,
//! `<Name>ResultSchema` and event schemas in its npm package (`openclaw@2026.9.6`). Params types
//! are closed (`deny_unknown_fields`) where OpenClaw's schema is, and declare every field
//! OpenClaw's clients may send, including the ones this gateway accepts and does not act on
//! (each says so). Result fields that this gateway cannot fill truthfully are left out, never
//! invented. `tests/e2e/conformance.rs` checks every payload against OpenClaw's validators.

pub mod approvals;
pub mod config;
pub mod devices;
pub mod events;
pub mod gateway;
pub mod sessions;
pub mod subsystems;
pub mod system;
// The Control UI's and TUI's chat, session views, agents and models.
pub mod agents;
pub mod chat;
pub mod models;
pub mod session_views;

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::ops::Deref;

/// A string that is not empty (OpenClaw's `NonEmptyString`). Decoding `""` fails with the
/// validator's phrase, `must NOT have fewer than 1 characters`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
#[serde(transparent)]
pub struct NonEmpty(String);

impl NonEmpty {
    /// `Some` unless `s` is empty.
    pub fn new(s: impl Into<String>) -> Option<NonEmpty> {
        let s = s.into();
        (!s.is_empty()).then_some(NonEmpty(s))
    }

    /// The string.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for NonEmpty {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NonEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<NonEmpty> for String {
    fn from(s: NonEmpty) -> String {
        s.0
    }
}

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NonEmpty::new(s)
            .ok_or_else(|| serde::de::Error::custom("must NOT have fewer than 1 characters"))
    }
}

/// What a [`Choice`] expects (the decoder turns it into the validator's `anyOf` phrases).
pub(crate) const CHOICE_EXPECTING: &str = "one of the schema's string constants";

/// A string field whose OpenClaw schema is an `anyOf` of string constants (`"mine" | "team" |
/// "all"`). A non-string is refused in the validator's words (`must be string; … must match a
/// schema in anyOf`); the value set itself is the handler's to check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(transparent)]
pub struct Choice(pub String);

impl Deref for Choice {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Choice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Choice;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(CHOICE_EXPECTING)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Choice, E> {
                Ok(Choice(v.to_owned()))
            }
        }
        d.deserialize_str(V)
    }
}

/// Implements [`crate::Request`] for params types: `request!(Params => Result, "method");`.
macro_rules! request {
    ($($params:ty => $result:ty, $name:literal;)+) => {
        $(
            impl $crate::rpc::Request for $params {
                const METHOD: &'static str = $name;
                type Result = $result;
            }
        )+
    };
}
pub(crate) use request;

/// Implements [`crate::Event`] for payload types: `event!(Payload, "name");`.
macro_rules! event {
    ($($payload:ty, $name:literal;)+) => {
        $(
            impl $crate::rpc::Event for $payload {
                const NAME: &'static str = $name;
            }
        )+
    };
}
pub(crate) use event;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_empty_refuses_empty() {
        assert!(serde_json::from_str::<NonEmpty>(r#""""#).is_err());
        let s: NonEmpty = serde_json::from_str(r#""k""#).unwrap();
        assert_eq!(&*s, "k");
    }
}
