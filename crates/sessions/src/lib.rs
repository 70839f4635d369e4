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
//!
//! Entry points: [`SessionManager::open`] with your [`RunExecutor`], then
//! [`SessionManager::spawn`] / [`SessionManager::send`], [`SessionManager::wait`] and
//! [`SessionManager::subscribe`] for the [`SessionEvent`] stream. An executor spawns subagents
//! through [`ExecRequest::spawner`].
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use openclaw_rs_sessions::*;
//!
//! /// An executor that answers every task with its text reversed.
//! struct Reverse;
//! impl RunExecutor for Reverse {
//!     fn execute(
//!         &self,
//!         req: ExecRequest,
//!         events: tokio::sync::mpsc::Sender<ExecEvent>,
//!         _cancel: Cancel,
//!     ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>> {
//!         Box::pin(async move {
//!             let text: String = req.task.chars().rev().collect();
//!             let _ = events.send(ExecEvent::Delta { text: text.clone() }).await;
//!             Ok(ExecOutcome { final_text: text, thread_id: None })
//!         })
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let root = std::env::temp_dir().join(format!("sessions-doc-{}", std::process::id()));
//! let state = openclaw_rs_state::StateDir::new(&root);
//! let config = Arc::new(openclaw_rs_config::Config::default());
//! let manager = SessionManager::open(ManagerOptions::new(state), config, Arc::new(Reverse))
//!     .expect("open the sessions dir");
//! let accepted = manager
//!     .spawn(SpawnRequest { task: "olleh".into(), ..SpawnRequest::default() })
//!     .await
//!     .expect("spawned");
//! let run = manager.wait(&accepted.run_id, Duration::from_secs(10)).await.expect("known run");
//! assert_eq!(run.state, RunState::Completed);
//! assert_eq!(run.text.as_deref(), Some("hello"));
//! manager.shutdown().await;
//! std::fs::remove_dir_all(&root).expect("clean up");
//! # });
//! ```

#![warn(missing_docs)]

mod error;
mod executor;
mod journal;
mod key;
mod limits;
mod manager;
pub mod observe;
mod spawner;
mod types;

pub use error::{LimitKind, LimitViolation, SessionError};
pub use executor::{
    BoxFuture, Cancel, ExecError, ExecEvent, ExecOutcome, ExecRequest, FailureClass, RunExecutor,
};
pub use key::{
    canonical_key, check_agent_id, main_key, parse_key, valid_agent_id, KeyKind, ParsedKey,
    MAX_KEY_LEN,
};
pub use limits::{Limits, Retention};
pub use manager::{
    LaneCounts, LaneDepths, ManagerOptions, SessionManager, DEFAULT_RUNTIME, MAX_ACTIVE_RUNS,
    MAX_TASK_BYTES, MAX_TEXT_BYTES,
};
pub use spawner::SpawnHandle;
pub use types::{
    AgentEvent, ChangedEvent, ChatEvent, ChatState, Cleanup, RetentionReport, RunSnapshot,
    RunState, SendAccepted, SendRequest, SessionEvent, SessionInfo, SpawnAccepted, SpawnRequest,
    TranscriptEntry,
};

/// Entry points for the fuzz targets in `fuzz/` (not an API).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::journal::fuzz_replay as journal_replay;
}

#[cfg(test)]
mod tests;
