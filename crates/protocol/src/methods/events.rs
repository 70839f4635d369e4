//! Gateway-wide events: `tick`, `health`, `shutdown`, `config.changed`, and the
//! `stateVersion` that `health` events and `hello-ok.snapshot` carry.
//!
//! Session events live in [`super::sessions`], pairing events in [`super::devices`];
//! [`EVENTS`] lists every event this gateway sends (`hello-ok.features.events`).

use super::event;
use super::gateway::HealthResult;
use crate::handshake::ChallengePayload;
use serde::{Deserialize, Serialize};

/// Every event name this gateway can send.
pub const EVENTS: &[&str] = &[
    "connect.challenge",
    "tick",
    "health",
    "shutdown",
    "config.changed",
    "chat",
    "agent",
    "sessions.changed",
    "device.pair.requested",
    "device.pair.resolved",
    "session.message",
];

/// `tick {ts}`, every `policy.tickIntervalMs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    /// Server time, in Unix milliseconds.
    pub ts: u64,
}

/// `shutdown {reason, restartExpectedMs?}`, before the 1012 close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shutdown {
    /// Why the gateway is going away (e.g. `service restart`, `gateway shutting down`).
    pub reason: String,
    /// Set when the gateway comes back by itself (a restart in place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_expected_ms: Option<u64>,
}

/// `stateVersion {presence, health}` of `hello-ok.snapshot` and `health` events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateVersion {
    /// Bumped whenever the set of connected clients changes.
    pub presence: u64,
    /// Bumped whenever the gateway's health snapshot changes.
    pub health: u64,
}

/// `config.changed`: an edit was applied or refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigChanged {
    /// The config file the edit was read from.
    pub path: String,
    /// Hash of the file that was read.
    pub hash: String,
    /// When the edit was handled, in Unix milliseconds.
    pub ts: u64,
    /// Dotted config paths that differ from the previous config (e.g. `gateway.auth.token`).
    pub changed_paths: Vec<String>,
    /// False when the edit was refused (`error` says why) or `gateway.reload.mode` is `off`.
    pub applied: bool,
    /// Why the edit was refused (e.g. the file does not parse); absent when it was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Hot actions performed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// Restart-required paths waiting for the restart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_restart: Vec<String>,
    /// Paths this gateway ignores or cannot apply yet; empty when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The edit reverted a pending restart's change, so the restart was called off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restart_cancelled: bool,
}

event! {
    Tick, "tick";
    Shutdown, "shutdown";
    HealthResult, "health";
    ConfigChanged, "config.changed";
    ChallengePayload, "connect.challenge";
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_event_type_is_listed() {
        use crate::rpc::Event;
        for name in [
            super::Tick::NAME,
            super::Shutdown::NAME,
            super::HealthResult::NAME,
            super::ConfigChanged::NAME,
            super::ChallengePayload::NAME,
            crate::methods::sessions::ChatEvent::NAME,
            crate::methods::sessions::AgentEvent::NAME,
            crate::methods::sessions::SessionsChanged::NAME,
            crate::methods::devices::PairRequested::NAME,
            crate::methods::devices::PairResolved::NAME,
            crate::methods::session_views::SessionMessageEvent::NAME,
        ] {
            assert!(super::EVENTS.contains(&name), "{name} is not in EVENTS");
        }
        assert_eq!(super::EVENTS.len(), 11);
    }
}
