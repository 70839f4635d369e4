//! Public request, snapshot and event types of the sessions layer.
//!
//! These are plain Rust types; the gateway converts them to wire JSON at its boundary.

use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

use crate::key::KeyKind;
use openclaw_rs_protocol::FailureClass;

/// The state of a run. `queued → running → completed | failed | aborted | timeout | interrupted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunState {
    Queued,
    Running,
    Completed,
    Failed,
    Aborted,
    Timeout,
    Interrupted,
}

impl RunState {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Completed => "completed",
            RunState::Failed => "failed",
            RunState::Aborted => "aborted",
            RunState::Timeout => "timeout",
            RunState::Interrupted => "interrupted",
        }
    }

    /// Parse the wire spelling.
    pub fn parse(s: &str) -> Option<RunState> {
        Some(match s {
            "queued" => RunState::Queued,
            "running" => RunState::Running,
            "completed" => RunState::Completed,
            "failed" => RunState::Failed,
            "aborted" => RunState::Aborted,
            "timeout" => RunState::Timeout,
            "interrupted" => RunState::Interrupted,
            _ => return None,
        })
    }

    /// No further transitions.
    pub fn is_terminal(self) -> bool {
        !matches!(self, RunState::Queued | RunState::Running)
    }
}

/// What happens to a child session after its result was announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cleanup {
    /// Keep the child session and its transcript (default).
    #[default]
    Keep,
    /// Archive the child's journal once its result is in the parent's transcript.
    Delete,
}

/// `sessions.spawn` (and in-process spawns from inside a run).
#[derive(Debug, Clone, Default)]
pub struct SpawnRequest {
    pub task: String,
    /// Agent of the child (default: the parent's agent).
    pub agent_id: Option<String>,
    pub model: Option<String>,
    pub runtime: Option<String>,
    pub label: Option<String>,
    pub run_timeout: Option<Duration>,
    pub cleanup: Cleanup,
    /// Parent session (default `agent:<agentId or "main">:main`).
    pub parent_session_key: Option<String>,
    /// Opaque tag of the requester (the gateway's connection id), copied onto the run's events.
    pub origin: Option<Arc<str>>,
    /// Becomes the child's run id; a spawn repeated with the same key under the same parent
    /// returns the child it made the first time and spawns nothing. Spawns from inside a run
    /// get one derived from the parent run, so a parent re-run after a crash finds its children
    /// instead of making them twice.
    pub idempotency_key: Option<String>,
}

/// A spawn that was persisted and queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnAccepted {
    pub run_id: String,
    pub child_session_key: String,
    /// True when the idempotency key was seen before and nothing new was spawned.
    pub duplicate: bool,
}

/// `chat.send`.
#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    pub session_key: String,
    pub message: String,
    /// Becomes the run id; a retry with the same key returns the same run and runs nothing.
    pub idempotency_key: Option<String>,
    pub model: Option<String>,
    pub runtime: Option<String>,
    pub timeout: Option<Duration>,
    pub origin: Option<Arc<str>>,
}

/// A message that was persisted (or recognised as a retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAccepted {
    pub run_id: String,
    /// True when the idempotency key was seen before and nothing new was queued.
    pub duplicate: bool,
    pub state: RunState,
}

/// A run as seen from outside.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSnapshot {
    pub run_id: String,
    pub session_key: String,
    pub state: RunState,
    pub attempts: u32,
    pub created_at: u64,
    pub started_at: Option<u64>,
    pub ended_at: Option<u64>,
    pub text: Option<String>,
    pub error: Option<String>,
    pub error_class: Option<FailureClass>,
    /// A failed run that may succeed if tried again (its process crashed, an overload …).
    pub retryable: bool,
    pub spawned_by: Option<String>,
}

/// A session as seen from outside.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    pub key: String,
    pub agent_id: String,
    pub kind: KeyKind,
    pub spawned_by: Option<String>,
    pub depth: u32,
    pub label: Option<String>,
    pub created_at: u64,
    pub updated_at: u64,
    /// The running run, if any.
    pub running_run_id: Option<String>,
    /// Runs waiting in this session's FIFO.
    pub queued: usize,
    pub last_run_id: Option<String>,
    pub last_run_state: Option<RunState>,
    /// Child sessions spawned from this one.
    pub children: usize,
    /// Child results waiting to be recorded in this session's transcript.
    pub pending_announces: usize,
}

impl SessionInfo {
    /// `idle`, `running` or `queued`.
    pub fn status(&self) -> &'static str {
        if self.running_run_id.is_some() {
            "running"
        } else if self.queued > 0 {
            "queued"
        } else {
            "idle"
        }
    }
}

/// One transcript entry (`chat.history`).
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptEntry {
    /// The entry's position in the session's transcript: 1 for its first message, counting
    /// the journal's messages, replies and announces in order (stable: the journal only grows).
    pub seq: u64,
    /// `user`, `assistant` or `system` (announces of child results).
    pub role: &'static str,
    pub run_id: String,
    pub text: String,
    pub ts: u64,
    /// Terminal state for assistant entries and announces.
    pub state: Option<RunState>,
    pub error_class: Option<FailureClass>,
    /// For announces: the child session and the announce id.
    pub child_session_key: Option<String>,
    pub announce_id: Option<String>,
}

/// `chat` event states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatState {
    Status,
    Delta,
    Final,
    Error,
    Aborted,
}

impl ChatState {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatState::Status => "status",
            ChatState::Delta => "delta",
            ChatState::Final => "final",
            ChatState::Error => "error",
            ChatState::Aborted => "aborted",
        }
    }
}

/// A `chat` event.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatEvent {
    pub run_id: String,
    pub session_key: String,
    pub agent_id: String,
    /// Per-run sequence, shared with the run's `agent` events.
    pub seq: u64,
    pub state: ChatState,
    /// For `status`: the phase (`queued`, `started`, `retrying` …).
    pub phase: Option<String>,
    pub delta_text: Option<String>,
    /// For `final`: the assistant's text.
    pub message: Option<String>,
    pub error_message: Option<String>,
    pub error_class: Option<FailureClass>,
    /// The run's terminal state on `final`/`error`/`aborted`.
    pub run_state: Option<RunState>,
    pub spawned_by: Option<String>,
    pub origin: Option<Arc<str>>,
}

/// An `agent` event.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentEvent {
    pub run_id: String,
    pub session_key: String,
    pub agent_id: String,
    pub stream: String,
    pub data: Value,
    pub seq: u64,
    pub ts: u64,
    pub origin: Option<Arc<str>>,
}

/// A `sessions.changed` event.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedEvent {
    pub session_key: String,
    /// `created`, `spawned`, `message`, `run.started`, `run.ended`, `announce`, `deleted`.
    pub reason: &'static str,
    pub run_id: Option<String>,
    pub ts: u64,
    pub session: SessionInfo,
}

/// Everything the manager reports to the gateway.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    Chat(ChatEvent),
    Agent(AgentEvent),
    Changed(ChangedEvent),
}

impl SessionEvent {
    /// The session the event is about.
    pub fn session_key(&self) -> &str {
        match self {
            SessionEvent::Chat(e) => &e.session_key,
            SessionEvent::Agent(e) => &e.session_key,
            SessionEvent::Changed(e) => &e.session_key,
        }
    }

    /// The requester tag of the run, if any.
    pub fn origin(&self) -> Option<&Arc<str>> {
        match self {
            SessionEvent::Chat(e) => e.origin.as_ref(),
            SessionEvent::Agent(e) => e.origin.as_ref(),
            SessionEvent::Changed(_) => None,
        }
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What one retention pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Finished subagent sessions moved to `sessions/archive/` and dropped from memory.
    pub archived: usize,
    /// Archived journals deleted (too old, or beyond `maxArchived`).
    pub pruned: usize,
    /// Live journals compacted (past `journalMaxBytes`; their oldest runs moved to the archive).
    pub compacted: usize,
}
