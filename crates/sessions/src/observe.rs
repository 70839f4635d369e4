//! A hook for metrics: give the manager an [`Observer`] at construction
//! ([`crate::ManagerOptions::observer`]) and it reports that manager's run endings and journal
//! fsyncs to it. Nothing global: two managers in one process report to their own observers. No
//! metrics library here (the gateway counts these in its Prometheus metrics).

use crate::executor::FailureClass;
use crate::types::RunState;
use std::time::Duration;

/// Receives events worth counting. Implementations must be cheap and must not block: they are
/// called on the manager's hot paths (under its state lock, and on the journal writer).
pub trait Observer: Send + Sync {
    /// A run reached a terminal state; `duration` from its start (None if it never started).
    fn run_finished(
        &self,
        state: RunState,
        class: Option<FailureClass>,
        duration: Option<Duration>,
    );
    /// One journal append's `fsync` took `took`.
    fn journal_fsync(&self, took: Duration);
}

pub(crate) fn run_finished(
    observer: Option<&dyn Observer>,
    state: RunState,
    class: Option<FailureClass>,
    started_at_ms: Option<u64>,
) {
    if let Some(o) = observer {
        let duration =
            started_at_ms.map(|s| Duration::from_millis(crate::types::now_ms().saturating_sub(s)));
        o.run_finished(state, class, duration);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        BoxFuture, Cancel, ExecError, ExecEvent, ExecOutcome, ExecRequest, ManagerOptions,
        RunExecutor, SessionManager, SpawnRequest,
    };
    use std::sync::{Arc, Mutex};

    struct Echo;
    impl RunExecutor for Echo {
        fn execute(
            &self,
            req: ExecRequest,
            _events: tokio::sync::mpsc::Sender<ExecEvent>,
            _cancel: Cancel,
        ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>> {
            Box::pin(async move {
                Ok(ExecOutcome {
                    final_text: req.task,
                    thread_id: None,
                })
            })
        }
    }

    /// What one observer was told.
    #[derive(Default)]
    struct Seen {
        runs: Mutex<Vec<RunState>>,
        fsyncs: Mutex<usize>,
    }
    impl Observer for Seen {
        fn run_finished(&self, state: RunState, _: Option<FailureClass>, _: Option<Duration>) {
            self.runs.lock().unwrap().push(state);
        }
        fn journal_fsync(&self, _: Duration) {
            *self.fsyncs.lock().unwrap() += 1;
        }
    }

    fn open(dir: &std::path::Path, seen: &Arc<Seen>) -> SessionManager {
        let mut opts = ManagerOptions::new(openclaw_rs_state::StateDir::new(dir));
        opts.observer = Some(seen.clone());
        let config = Arc::new(openclaw_rs_config::Config::default());
        SessionManager::open(opts, config, Arc::new(Echo)).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_manager_reports_to_its_own_observer() {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (seen_a, seen_b) = (Arc::new(Seen::default()), Arc::new(Seen::default()));
        let (a, b) = (open(da.path(), &seen_a), open(db.path(), &seen_b));
        let accepted = a
            .spawn(SpawnRequest {
                task: "observed".into(),
                ..SpawnRequest::default()
            })
            .await
            .unwrap();
        let run = a
            .wait(&accepted.run_id, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(run.state, RunState::Completed);
        assert_eq!(*seen_a.runs.lock().unwrap(), vec![RunState::Completed]);
        // The message, `started` and `ended` records each waited for an fsync.
        assert!(*seen_a.fsyncs.lock().unwrap() >= 3);
        assert!(seen_b.runs.lock().unwrap().is_empty());
        assert_eq!(*seen_b.fsyncs.lock().unwrap(), 0);
        a.shutdown().await;
        b.shutdown().await;
    }
}
