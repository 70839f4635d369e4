//! Sessions, runs, the durable inbound queue, transcripts and durable announces of child results.
//!
//! Entry point: [`SessionManager`]. It owns every session (`agent:<id>:main` and spawned
//! children `agent:<id>:subagent:<uuid>`), runs each session's messages one at a time (FIFO),
//! caps concurrent subagent runs, and executes runs through a [`RunExecutor`] supplied by the
//! gateway. Everything is journaled under `$STATE/sessions/` (layout in `journal.rs`, rules in
//! `docs/sessions.md`) so that a crash loses nothing that was acknowledged.
//!
//! **API Boundary:** this crate knows nothing of WebSockets or the wire format; it emits
//! [`SessionEvent`]s that the gateway maps to `chat`, `agent` and `sessions.changed` frames.

mod error;
mod executor;
mod journal;
mod key;
mod limits;
mod manager;
mod types;

pub use error::{LimitKind, LimitViolation, SessionError};
pub use executor::{
    BoxFuture, Cancel, ExecError, ExecEvent, ExecOutcome, ExecRequest, FailureClass, RunExecutor,
};
pub use key::{
    canonical_key, check_agent_id, main_key, parse_key, valid_agent_id, KeyKind, ParsedKey,
    MAX_KEY_LEN,
};
pub use limits::Limits;
pub use manager::{
    ManagerOptions, SessionManager, SpawnHandle, DEFAULT_RUNTIME, MAX_TASK_BYTES, MAX_TEXT_BYTES,
};
pub use types::{
    AgentEvent, ChangedEvent, ChatEvent, ChatState, Cleanup, RunSnapshot, RunState, SendAccepted,
    SendRequest, SessionEvent, SessionInfo, SpawnAccepted, SpawnRequest, TranscriptEntry,
};

/// Entry points for the fuzz targets in `fuzz/` (not an API).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::journal::fuzz_replay as journal_replay;
}

#[cfg(test)]
mod tests;
