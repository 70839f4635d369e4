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
    pub run_id: String,
    pub session_key: String,
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
    Delta { text: String },
    /// A runtime item (tool call, command, reasoning …), forwarded as an `agent` event.
    Item { kind: String, data: Value },
    /// A runtime status line (thread started, retrying …).
    Status {
        phase: String,
        message: Option<String>,
    },
}

/// A successful run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecOutcome {
    pub final_text: String,
    pub thread_id: Option<String>,
}

/// The class of a failed run: the one failure class shared with the app-server client and the
/// cooldowns table. The manager records [`FailureClass::reported`] of what an executor returns.
pub use openclaw_rs_protocol::FailureClass;

/// A failed run, with its class and a message meant for the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} error: {message}", class.as_str())]
pub struct ExecError {
    pub class: FailureClass,
    pub message: String,
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
    fn execute(
        &self,
        req: ExecRequest,
        events: mpsc::Sender<ExecEvent>,
        cancel: Cancel,
    ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>>;
}
