//! The one typed failure class of a run, shared by the app-server client (which classifies),
//! the sessions layer (which records and reports) and the cooldowns table (which decides what
//! a failure costs an auth profile). Defined here because its names are wire vocabulary
//! (`errorClass`, `errorDetail.providerRuntimeFailureKind`) and every other crate can depend on
//! this one.
//!
//! **Serialized form:** snake_case (`auth`, `rate_limit`, `stream_idle`, …). The camelCase names
//! the app-server client used in earlier builds (`rateLimit`, `streamIdle`) are accepted on read;
//! an unknown name reads as [`FailureClass::Runtime`], so a newer peer never breaks a reader.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a run failed. Decides retry policy and cooldowns; reported to clients as `errorClass`.
///
/// The app-server client produces the fine classes; the sessions layer reports the eight
/// classes clients see today ([`FailureClass::reported`]): `auth`, `rate_limit`, `quota`,
/// `upstream`, `timeout`, `interrupted`, `runtime`, `config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureClass {
    /// Bad or expired credential (HTTP 401/403).
    Auth,
    /// Too many requests (HTTP 429). Retry later.
    RateLimit,
    /// Usage/quota exhausted. Not retryable.
    Quota,
    /// Upstream 5xx or connection failure.
    Upstream,
    /// The model stream went idle.
    StreamIdle,
    /// The run deadline passed (the turn was interrupted).
    Timeout,
    /// The run was cancelled by the caller (abort, shutdown, restart).
    Interrupted,
    /// The runtime rejected a request (`-32600`) or spoke an unexpected shape.
    Protocol,
    /// The runtime stayed overloaded (`-32001`) after retries.
    Overload,
    /// The runtime process died or its stream broke.
    Transport,
    /// The runtime process could not start.
    Startup,
    /// Configuration error (unknown model or runtime, missing env var, bad request params).
    Config,
    /// Any other runtime failure (the class a custom executor reports when it knows no better).
    Runtime,
}

impl FailureClass {
    /// Every class, in declaration order.
    pub const ALL: [FailureClass; 13] = [
        Self::Auth,
        Self::RateLimit,
        Self::Quota,
        Self::Upstream,
        Self::StreamIdle,
        Self::Timeout,
        Self::Interrupted,
        Self::Protocol,
        Self::Overload,
        Self::Transport,
        Self::Startup,
        Self::Config,
        Self::Runtime,
    ];

    /// The stable snake_case name (the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::RateLimit => "rate_limit",
            Self::Quota => "quota",
            Self::Upstream => "upstream",
            Self::StreamIdle => "stream_idle",
            Self::Timeout => "timeout",
            Self::Interrupted => "interrupted",
            Self::Protocol => "protocol",
            Self::Overload => "overload",
            Self::Transport => "transport",
            Self::Startup => "startup",
            Self::Config => "config",
            Self::Runtime => "runtime",
        }
    }

    /// Reads a name written by any build: the snake_case form, or the older camelCase
    /// `rateLimit` / `streamIdle`. `None` for a name no build wrote.
    pub fn from_name(name: &str) -> Option<FailureClass> {
        match name {
            "rateLimit" => return Some(Self::RateLimit),
            "streamIdle" => return Some(Self::StreamIdle),
            _ => {}
        }
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Like [`FailureClass::from_name`], but an unknown name is [`FailureClass::Runtime`].
    pub fn parse_lenient(name: &str) -> FailureClass {
        Self::from_name(name).unwrap_or(Self::Runtime)
    }

    /// The class reported to clients (`errorClass`): stream idle and overload fold into
    /// `upstream`; protocol, transport and startup failures into `runtime`.
    pub fn reported(self) -> FailureClass {
        match self {
            Self::StreamIdle | Self::Overload => Self::Upstream,
            Self::Protocol | Self::Transport | Self::Startup => Self::Runtime,
            c => c,
        }
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FailureClass {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FailureClass {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Self::parse_lenient(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_old_spellings_read() {
        for c in FailureClass::ALL {
            assert_eq!(FailureClass::from_name(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).expect("serialize");
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            let back: FailureClass = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, c);
        }
        assert_eq!(
            serde_json::from_str::<FailureClass>("\"rateLimit\"").expect("camel"),
            FailureClass::RateLimit
        );
        assert_eq!(
            FailureClass::from_name("streamIdle"),
            Some(FailureClass::StreamIdle)
        );
        assert_eq!(FailureClass::from_name("nonsense"), None);
        assert_eq!(
            serde_json::from_str::<FailureClass>("\"nonsense\"").expect("lenient"),
            FailureClass::Runtime
        );
    }

    #[test]
    fn reported_classes_are_the_eight_clients_know() {
        let reported: std::collections::BTreeSet<&str> = FailureClass::ALL
            .into_iter()
            .map(|c| c.reported().as_str())
            .collect();
        let expected: std::collections::BTreeSet<&str> = [
            "auth",
            "rate_limit",
            "quota",
            "upstream",
            "timeout",
            "interrupted",
            "runtime",
            "config",
        ]
        .into_iter()
        .collect();
        assert_eq!(reported, expected);
        for c in FailureClass::ALL {
            assert_eq!(c.reported().reported(), c.reported(), "{c} folds once");
        }
    }
}
