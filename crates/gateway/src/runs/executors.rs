//! Run executors per runtime: a run goes to the executor registered for its runtime, else to
//! the default one (the app-server executor unless the embedder replaced it).
//!
//! Layer 1: uses nothing else in the crate.

use openclaw_rs_sessions::{
    BoxFuture, Cancel, ExecError, ExecEvent, ExecOutcome, ExecRequest, RunExecutor,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// The executors an embedder chose (none: every runtime runs on the app-server pool).
#[derive(Clone, Default)]
pub(crate) struct Executors {
    pub(crate) by_runtime: BTreeMap<String, Arc<dyn RunExecutor>>,
    pub(crate) default: Option<Arc<dyn RunExecutor>>,
}

impl std::fmt::Debug for Executors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executors")
            .field("runtimes", &self.by_runtime.keys().collect::<Vec<_>>())
            .field("custom_default", &self.default.is_some())
            .finish()
    }
}

impl Executors {
    /// Whether any executor replaces the app-server one.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_runtime.is_empty() && self.default.is_none()
    }

    /// The executor the sessions manager runs with: `fallback` for runtimes without their own
    /// (unless a default was given), routed by `ExecRequest::runtime`.
    pub(crate) fn into_router(self, fallback: Arc<dyn RunExecutor>) -> Arc<dyn RunExecutor> {
        let default = self.default.unwrap_or(fallback);
        if self.by_runtime.is_empty() {
            return default;
        }
        Arc::new(Router {
            by_runtime: self.by_runtime,
            default,
        })
    }
}

/// Sends each run to its runtime's executor.
struct Router {
    by_runtime: BTreeMap<String, Arc<dyn RunExecutor>>,
    default: Arc<dyn RunExecutor>,
}

impl RunExecutor for Router {
    fn execute(
        &self,
        req: ExecRequest,
        events: mpsc::Sender<ExecEvent>,
        cancel: Cancel,
    ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>> {
        let exec = self.by_runtime.get(&req.runtime).unwrap_or(&self.default);
        exec.execute(req, events, cancel)
    }
}
