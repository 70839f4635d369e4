//! The in-process spawn capability handed to executors ([`SpawnHandle`]), and the idempotency
//! key of a run's n-th spawn. It sits below both the executor seam and the manager: the handle
//! reaches the manager through the crate-private [`SpawnTarget`] trait, so `executor.rs` never
//! depends on `manager.rs`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::error::SessionError;
use crate::types::{RunSnapshot, SpawnAccepted, SpawnRequest};

/// The future type of [`SpawnTarget`] (object-safe without an extra crate).
pub(crate) type SpawnFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What a [`SpawnHandle`] needs from the manager; implemented by the manager's shared state.
pub(crate) trait SpawnTarget: Send + Sync + 'static {
    /// Spawn a child (the request is complete: parent, origin and idempotency key are set).
    fn spawn(
        self: Arc<Self>,
        req: SpawnRequest,
    ) -> SpawnFuture<Result<SpawnAccepted, SessionError>>;
    /// Wait up to `timeout` for a run to end, like `SessionManager::wait`.
    fn wait(
        self: Arc<Self>,
        run_id: String,
        timeout: Duration,
    ) -> SpawnFuture<Result<RunSnapshot, SessionError>>;
}

/// In-process spawn capability of one run: spawns children of that run's session.
///
/// Handed to executors in [`crate::ExecRequest::spawner`]; this is how an agent asks for a subagent
/// without ever logging in to the gateway over WebSocket.
#[derive(Clone)]
pub struct SpawnHandle {
    target: Weak<dyn SpawnTarget>,
    parent: String,
    /// Requester tag of the run holding the handle: its children's events go there too.
    origin: Option<Arc<str>>,
    /// The run holding the handle, and how many spawns it asked for so far: the n-th spawn of
    /// `task` by run R gets the idempotency key `derived_spawn_key(R, n, task)`, so every
    /// attempt of R maps its spawns onto the same children.
    run: Option<(String, Arc<AtomicU32>)>,
}

impl std::fmt::Debug for SpawnHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpawnHandle")
            .field("parent", &self.parent)
            .finish()
    }
}

impl SpawnHandle {
    /// A handle spawning children of `parent`; `run` is the run holding it and its spawn count.
    pub(crate) fn new(
        target: Weak<dyn SpawnTarget>,
        parent: String,
        origin: Option<Arc<str>>,
        run: Option<(String, Arc<AtomicU32>)>,
    ) -> SpawnHandle {
        SpawnHandle {
            target,
            parent,
            origin,
            run,
        }
    }

    /// The session this handle spawns children of.
    pub fn parent(&self) -> &str {
        &self.parent
    }

    /// Spawn a child of this handle's session (`parent_session_key` is forced to it). Without
    /// an `origin` of its own, the child's events also go to whoever started the run that holds
    /// this handle.
    pub async fn spawn(&self, mut req: SpawnRequest) -> Result<SpawnAccepted, SessionError> {
        let target = self
            .target
            .upgrade()
            .ok_or_else(|| SessionError::Unavailable("the session manager has shut down".into()))?;
        req.parent_session_key = Some(self.parent.clone());
        if req.origin.is_none() {
            req.origin = self.origin.clone();
        }
        if let (None, Some((run_id, spawns))) = (&req.idempotency_key, &self.run) {
            let n = spawns.fetch_add(1, Ordering::Relaxed);
            req.idempotency_key = Some(derived_spawn_key(run_id, n, &req.task));
        }
        target.spawn(req).await
    }

    /// Wait up to `timeout` for a run (typically a child this handle spawned) to end; returns
    /// its snapshot either way, like [`crate::SessionManager::wait`].
    pub async fn wait(&self, run_id: &str, timeout: Duration) -> Result<RunSnapshot, SessionError> {
        let target = self
            .target
            .upgrade()
            .ok_or_else(|| SessionError::Unavailable("the session manager has shut down".into()))?;
        target.wait(run_id.to_string(), timeout).await
    }
}

/// The idempotency key of the `n`-th spawn of `task` by run `run_id`: `<run>.spawn<n>.<fnv64
/// of the task>` (a stable hash: the key must survive a restart into a newer build), or with the
/// run id hashed too when that would pass the 128-character limit of run ids. The task is part
/// of the key so that a re-run that asks for something else gets a new child.
pub(crate) fn derived_spawn_key(run_id: &str, n: u32, task: &str) -> String {
    fn fnv64(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
    let task = fnv64(task.as_bytes());
    let k = format!("{run_id}.spawn{n}.{task:016x}");
    if k.len() <= 128 {
        k
    } else {
        format!("{:016x}.spawn{n}.{task:016x}", fnv64(run_id.as_bytes()))
    }
}
