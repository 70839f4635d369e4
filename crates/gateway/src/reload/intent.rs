//! [`RestartIntent`]: a restart the gateway is draining for, or has stopped for.
//!
//! Layer 0: uses nothing else in the crate.

/// A restart the gateway is draining for, or has stopped for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartIntent {
    /// Who asked: `config reload`, `gateway.restart.request (conn …)`, `SIGUSR2`.
    pub who: String,
    /// Why, e.g. `config change requires restart (gateway.port)`.
    pub reason: String,
    /// Restart-required config paths (empty for an explicit restart).
    pub paths: Vec<String>,
    /// When it was asked for (ms since the epoch).
    pub requested_at_ms: u64,
    /// When the drain gives up waiting for in-flight runs (they are persisted and re-run).
    pub deadline_ms: u64,
    /// Skip the wait (never the persistence).
    pub force: bool,
    /// Asked for explicitly (not cancelled by reverting config).
    pub explicit: bool,
    /// `draining` or `restarting`.
    pub phase: &'static str,
}
