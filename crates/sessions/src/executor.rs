//! The seam between the sessions layer and whatever actually runs a task.
//!
//! **API Boundary:** the gateway implements [`RunExecutor`] on top of
//! `openclaw_rs_app_server::run::execute`; this crate never talks to a runtime process itself.

use serde_json::Value;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

use crate::spawner::SpawnHandle;

/// Everything an executor needs to run one task.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    /// The run id (also the key of the run's events).
    pub run_id: String,
    /// The session the run belongs to.
    pub session_key: String,
    /// The session's agent.
    pub agent_id: String,
    /// The task or message text.
    pub task: String,
    /// Model requested for this run (None: the runtime's default).
    pub model: Option<String>,
    /// Runtime name, already resolved (run param → agent entry → defaults → `embedded`).
    pub runtime: String,
    /// Working directory of the run.
    pub cwd: PathBuf,
    /// The run's deadline; the executor should interrupt the turn when it passes.
    pub timeout: Duration,
    /// The parent session when this run belongs to a spawned child.
    pub spawned_by: Option<String>,
    /// 1 for the first attempt; 2+ when re-run after a restart interrupted it.
    pub attempt: u32,
    /// In-process handle for spawning subagents from inside this run (parent = this session).
    pub spawner: SpawnHandle,
    /// The thread of this session's last completed run: continue the conversation there.
    /// An executor that cannot resume it should start a fresh thread instead of failing.
    pub resume_thread_id: Option<String>,
}

/// Progress reported by an executor while a run is in flight.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ExecEvent {
    /// A piece of assistant output.
    Delta {
        /// The new text, appended to what the run streamed so far.
        text: String,
    },
    /// A runtime item (tool call, command, reasoning …), forwarded as an `agent` event.
    Item {
        /// The item's kind (the gateway's app-server executor passes the notification method).
        kind: String,
        /// The item as JSON, forwarded unchanged.
        data: Value,
    },
    /// A runtime status line (thread started, retrying …).
    Status {
        /// The phase name, forwarded as the `chat` status phase (e.g. `retrying`).
        phase: String,
        /// A human-readable detail, if any.
        message: Option<String>,
    },
}

/// A successful run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecOutcome {
    /// The assistant's final text; when empty, the manager keeps the text streamed through
    /// [`ExecEvent::Delta`] instead.
    pub final_text: String,
    /// The runtime's thread, if it has one; the session's next run gets it as
    /// [`ExecRequest::resume_thread_id`].
    pub thread_id: Option<String>,
}

/// The class of a failed run: the one failure class shared with the app-server client and the
/// cooldowns table. The manager records [`FailureClass::reported`] of what an executor returns.
pub use openclaw_rs_protocol::FailureClass;

/// A failed run, with its class and a message meant for the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} error: {message}", class.as_str())]
pub struct ExecError {
    /// What kind of failure; the manager records its [`FailureClass::reported`] class.
    pub class: FailureClass,
    /// What went wrong, for the user; becomes the run's error message.
    pub message: String,
    /// Whether trying again may succeed (copied to [`RunSnapshot::retryable`](crate::RunSnapshot::retryable)).
    pub retryable: bool,
}

/// A cancellation signal for one run: fires on abort, timeout or shutdown.
#[derive(Debug, Clone)]
pub struct Cancel(pub(crate) watch::Receiver<bool>);

impl Cancel {
    /// Has cancellation been requested?
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when cancellation is requested (or its owner is gone).
    pub async fn cancelled(&mut self) {
        let _ = self.0.wait_for(|c| *c).await;
    }

    /// A signal and its trigger (for executors' own tests).
    pub fn pair() -> (watch::Sender<bool>, Cancel) {
        let (tx, rx) = watch::channel(false);
        (tx, Cancel(rx))
    }
}

/// A boxed, sendable future (the trait stays object-safe without an extra crate).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs one task. Implementations must honour `cancel` and `req.timeout` and must not panic.
///
/// The manager also drops the returned future when the run is aborted or times out, so an
/// implementation must release what it holds on drop.
pub trait RunExecutor: Send + Sync + 'static {
    /// Run `req` to its end, sending progress on `events`, and return the result or the failure.
    ///
    /// The manager forwards each event as it arrives (`chat`/`agent` events); a full channel makes
    /// `events.send` wait. Return promptly once `cancel` fires.
    fn execute(
        &self,
        req: ExecRequest,
        events: mpsc::Sender<ExecEvent>,
        cancel: Cancel,
    ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>>;
}
