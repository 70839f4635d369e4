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
