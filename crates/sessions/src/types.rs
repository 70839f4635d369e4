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
    /// Accepted and on disk, waiting for its session (FIFO) or for a subagent slot.
    Queued,
    /// The executor is working on it.
    Running,
    /// The executor returned a result.
    Completed,
    /// The executor returned an error (see [`RunSnapshot::error_class`]).
    Failed,
    /// Stopped by [`SessionManager::abort`](crate::SessionManager::abort).
    Aborted,
    /// Passed its deadline (the request's timeout, else
    /// [`ManagerOptions::default_run_timeout`](crate::ManagerOptions::default_run_timeout)).
    Timeout,
    /// The gateway stopped while it ran and it was not run again (its attempts were used up), or
    /// the executor reported the `interrupted` class.
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
    /// The task text; must not be blank, at most [`MAX_TASK_BYTES`](crate::MAX_TASK_BYTES) bytes.
    pub task: String,
    /// Agent of the child (default: the parent's agent).
    pub agent_id: Option<String>,
    /// Model for the child's run (default: the agent's, else `agents.defaults.model`, else the
    /// runtime's own).
    pub model: Option<String>,
    /// Runtime for the child's run: [`DEFAULT_RUNTIME`](crate::DEFAULT_RUNTIME) or a key of
    /// `runtimes` in the config, else refused (default: the agent's, else `agents.defaults`).
    pub runtime: Option<String>,
    /// A label for the child session, shown in listings and in its announce.
    pub label: Option<String>,
    /// The run's deadline (default:
    /// [`ManagerOptions::default_run_timeout`](crate::ManagerOptions::default_run_timeout)).
    pub run_timeout: Option<Duration>,
    /// What happens to the child session once its result is announced.
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
    /// The child's run id (the idempotency key when one was given).
    pub run_id: String,
    /// The child session, `agent:<agentId>:subagent:<uuid>` (for a duplicate, the one made the
    /// first time).
    pub child_session_key: String,
    /// True when the idempotency key was seen before and nothing new was spawned.
    pub duplicate: bool,
}

/// `chat.send`.
#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    /// The target session; an agent's main or a named session is created on first use, a
    /// subagent session must exist.
    pub session_key: String,
    /// The message text; must not be blank, at most [`MAX_TASK_BYTES`](crate::MAX_TASK_BYTES)
    /// bytes.
    pub message: String,
    /// Becomes the run id; a retry with the same key returns the same run and runs nothing.
    pub idempotency_key: Option<String>,
    /// Model for this run (default: the agent's, else `agents.defaults.model`).
    pub model: Option<String>,
    /// Runtime for this run, checked like [`SpawnRequest::runtime`].
    pub runtime: Option<String>,
    /// The run's deadline (default:
    /// [`ManagerOptions::default_run_timeout`](crate::ManagerOptions::default_run_timeout)).
    pub timeout: Option<Duration>,
    /// Opaque tag of the requester, copied onto the run's events (see [`SessionEvent::origin`]).
    pub origin: Option<Arc<str>>,
}

/// A message that was persisted (or recognised as a retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAccepted {
    /// The run id (the idempotency key when one was given).
    pub run_id: String,
    /// True when the idempotency key was seen before and nothing new was queued.
    pub duplicate: bool,
    /// The run's state now: `Queued` for a new message, the current state for a retry.
    pub state: RunState,
}

/// A run as seen from outside.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSnapshot {
    /// The run id.
    pub run_id: String,
    /// The session the run belongs to.
    pub session_key: String,
    /// Where the run is now.
    pub state: RunState,
    /// How many times the run was started; above 1 when a restart interrupted it and it ran again.
    pub attempts: u32,
    /// When the message was accepted, Unix ms.
    pub created_at: u64,
    /// When the last attempt started, Unix ms.
    pub started_at: Option<u64>,
    /// When the run reached a terminal state, Unix ms.
    pub ended_at: Option<u64>,
    /// The result text when completed; for failed, aborted or timed-out runs the output streamed so
    /// far, if any. Capped at [`MAX_TEXT_BYTES`](crate::MAX_TEXT_BYTES).
    pub text: Option<String>,
    /// The error message of a run that did not complete.
    pub error: Option<String>,
    /// The failure class of a failed, timed-out or interrupted run, as clients see it
    /// ([`FailureClass::reported`]).
    pub error_class: Option<FailureClass>,
    /// A failed run that may succeed if tried again (its process crashed, an overload …).
    pub retryable: bool,
    /// The parent session key, for a run of a spawned child.
    pub spawned_by: Option<String>,
}

/// A session as seen from outside.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// The session key.
    pub key: String,
    /// The agent the session belongs to.
    pub agent_id: String,
    /// Main, named or subagent session.
    pub kind: KeyKind,
    /// The parent session key of a spawned child.
    pub spawned_by: Option<String>,
    /// Spawn depth: 0 for top-level sessions, the parent's depth + 1 for a child (at most
    /// `session.maxSpawnDepth`).
    pub depth: u32,
    /// The label given at spawn.
    pub label: Option<String>,
    /// When the session was created, Unix ms.
    pub created_at: u64,
    /// When the session last changed (a message, a run's start or end, an announce), Unix ms.
    pub updated_at: u64,
    /// The running run, if any.
    pub running_run_id: Option<String>,
    /// Runs waiting in this session's FIFO.
    pub queued: usize,
    /// The session's most recent run.
    pub last_run_id: Option<String>,
    /// The state of that run.
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
    /// The run the entry belongs to: the message's run, the run that replied, or for an announce
    /// the child's run.
    pub run_id: String,
    /// The message, the reply (or the error message of a run that did not complete), or the
    /// child's result.
    pub text: String,
    /// When it was recorded, Unix ms.
    pub ts: u64,
    /// Terminal state for assistant entries and announces.
    pub state: Option<RunState>,
    /// The failure class of a run that did not complete, as clients see it
    /// ([`FailureClass::reported`]).
    pub error_class: Option<FailureClass>,
    /// For announces: the child session and the announce id.
    pub child_session_key: Option<String>,
    /// The announce id (unique per child result; the parent records each once).
    pub announce_id: Option<String>,
}

/// `chat` event states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatState {
    /// A run phase changed: `queued`, `started`, or a runtime status the executor reported.
    Status,
    /// A piece of assistant output ([`ChatEvent::delta_text`]).
    Delta,
    /// The run completed ([`ChatEvent::message`] holds its text).
    Final,
    /// The run failed, timed out or was interrupted ([`ChatEvent::error_message`]).
    Error,
    /// The run was aborted.
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
    /// The run the event is about.
    pub run_id: String,
    /// The run's session.
    pub session_key: String,
    /// The session's agent.
    pub agent_id: String,
    /// Per-run sequence, shared with the run's `agent` events.
    pub seq: u64,
    /// Which kind of `chat` event this is.
    pub state: ChatState,
    /// For `status`: the phase (`queued`, `started`, `retrying` …).
    pub phase: Option<String>,
    /// For `delta`: the new piece of output.
    pub delta_text: Option<String>,
    /// For `final`: the assistant's text.
    pub message: Option<String>,
    /// For `error` and `aborted`: the run's error message (`aborted` for an abort).
    pub error_message: Option<String>,
    /// For `error`: the failure class, as clients see it ([`FailureClass::reported`]).
    pub error_class: Option<FailureClass>,
    /// The run's terminal state on `final`/`error`/`aborted`.
    pub run_state: Option<RunState>,
    /// The parent session key, when the run belongs to a spawned child.
    pub spawned_by: Option<String>,
    /// The requester tag given with the spawn or message (see [`SessionEvent::origin`]).
    pub origin: Option<Arc<str>>,
}

/// An `agent` event.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentEvent {
    /// The run the event is about.
    pub run_id: String,
    /// The run's session (for `announce`: the parent session that recorded the result).
    pub session_key: String,
    /// The session's agent.
    pub agent_id: String,
    /// The stream: `lifecycle` (start, status phases, end), `assistant` (output deltas), `item`
    /// (runtime items such as tool calls) or `announce` (a child's result recorded in the parent).
    pub stream: String,
    /// The stream's payload as JSON, e.g. `{"phase": "start", "attempt": 1}` on `lifecycle`.
    pub data: Value,
    /// Per-run sequence, shared with the run's `chat` events (0 for `announce`).
    pub seq: u64,
    /// When the event was emitted, Unix ms.
    pub ts: u64,
    /// The requester tag given with the spawn or message (see [`SessionEvent::origin`]).
    pub origin: Option<Arc<str>>,
}

/// A `sessions.changed` event.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedEvent {
    /// The session that changed.
    pub session_key: String,
    /// `created`, `spawned`, `message`, `run.started`, `run.ended`, `announce`, `deleted`.
    pub reason: &'static str,
    /// The run involved: the spawned, sent, started or ended run, or the announced child run.
    pub run_id: Option<String>,
    /// When it changed, Unix ms.
    pub ts: u64,
    /// The session as it is after the change.
    pub session: SessionInfo,
}

/// Everything the manager reports to the gateway.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// A `chat` event: status, output, and the run's end.
    Chat(ChatEvent),
    /// An `agent` event: the detailed streams of a run.
    Agent(AgentEvent),
    /// A `sessions.changed` event: a session was created, got a message, started or ended a run…
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
