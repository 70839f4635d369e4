//! A hook for metrics: the embedder (the gateway) installs one [`Observer`] per process and
//! this crate reports run endings and journal fsyncs to it. No metrics library here.

use crate::executor::FailureClass;
use crate::types::RunState;
use std::sync::OnceLock;
use std::time::Duration;

/// Receives events worth counting. Implementations must be cheap and must not block.
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

static OBSERVER: OnceLock<&'static dyn Observer> = OnceLock::new();

/// Install the process's observer; `false` if one was installed already (the first one stays).
pub fn set_observer(observer: &'static dyn Observer) -> bool {
    OBSERVER.set(observer).is_ok()
}

pub(crate) fn run_finished(
    state: RunState,
    class: Option<FailureClass>,
    started_at_ms: Option<u64>,
) {
    if let Some(o) = OBSERVER.get() {
        let duration =
            started_at_ms.map(|s| Duration::from_millis(crate::types::now_ms().saturating_sub(s)));
        o.run_finished(state, class, duration);
    }
}

pub(crate) fn journal_fsync(took: Duration) {
    if let Some(o) = OBSERVER.get() {
        o.journal_fsync(took);
    }
}
