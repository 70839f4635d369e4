//! The lease pool: one shared app-server process per [`ProcessKey`], leased by runs.
//!
//! - Acquirers during a startup share it; each waiter has its own deadline, and only the last
//!   claimant cancels a stalled startup.
//! - A [`Lease`] releases exactly once, on drop.
//! - Idle processes close after a grace period (30 s by default) via the reaper task, which the
//!   pool owns: it ends when the pool is shut down or the last handle is dropped.
//! - Graceful retirement detaches a process (new acquirers get a fresh one) and closes it when its
//!   last lease drops. Hard retirement (wedged process) fails every lease on it at once.
//! - Every physical child is tracked until reaped, so [`Pool::shutdown`] reaps them all.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::client::{Client, ClientConfig, ExitWatch, InitInfo};
use crate::error::{PoolError, TransportError, TransportFailureKind};
use crate::key::ProcessKey;
use crate::ledger::{Begin, Caps, Counts, EntryId, Health, Ledger, StartState};

/// Defaults applied to every `thread/start`.
#[derive(Debug, Clone)]
pub struct ThreadDefaults {
    /// `approvalPolicy` (`never`, `on-request`, `untrusted`).
    pub approval_policy: String,
    /// `sandbox` (`read-only`, `workspace-write`, `danger-full-access`).
    pub sandbox: String,
    /// `ephemeral`: ephemeral threads cannot be resumed.
    pub ephemeral: bool,
}

impl Default for ThreadDefaults {
    fn default() -> Self {
        Self {
            approval_policy: "never".to_string(),
            sandbox: "workspace-write".to_string(),
            ephemeral: false,
        }
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// An unleased process closes after this long (default 30 s).
    pub idle_grace: Duration,
    /// Spawn + `initialize` must finish within this (default 20 s).
    pub startup_timeout: Duration,
    /// Timeout of ordinary requests (`thread/start`, `turn/start`; default 60 s). A timeout marks
    /// the process wedged.
    pub request_timeout: Duration,
    /// Timeout of `turn/interrupt` (default 5 s). No answer marks the process wedged.
    pub interrupt_timeout: Duration,
    /// Live processes per key, including retired ones still draining (default 4).
    pub max_processes_per_key: usize,
    /// Live processes in total (default 32).
    pub max_processes_total: usize,
    /// Retries of a request rejected with `-32001` overload (default 3).
    pub overload_retries: u32,
    /// Base backoff for overload retries (default 50 ms, doubled each time, plus jitter).
    pub overload_backoff: Duration,
    /// Client tunables (queues, approval policy).
    pub client: ClientConfig,
    /// Thread defaults.
    pub thread: ThreadDefaults,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            idle_grace: Duration::from_secs(30),
            startup_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(60),
            interrupt_timeout: Duration::from_secs(5),
            max_processes_per_key: 4,
            max_processes_total: 32,
            overload_retries: 3,
            overload_backoff: Duration::from_millis(50),
            client: ClientConfig::default(),
            thread: ThreadDefaults::default(),
        }
    }
}

/// A ready process as held by the pool and by leases.
#[derive(Debug, Clone)]
pub struct Process {
    /// The connection.
    pub client: Arc<Client>,
    /// Result of `initialize` (shared: cloning a process handle allocates nothing).
    pub init: Arc<InitInfo>,
}

impl Health for Process {
    fn is_poisoned(&self) -> bool {
        self.client.is_poisoned()
    }
}

/// Pool counters (for tests, status and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Lease accounting.
    pub ledger: Counts,
    /// Children spawned and not yet reaped.
    pub live_children: usize,
    /// Children spawned since the pool was created.
    pub spawned_total: u64,
    /// Graceful retirements asked for (a failed run's process; closes when idle).
    pub retired_graceful_total: u64,
    /// Hard retirements of wedged processes (every lease on them failed at once).
    pub retired_wedged_total: u64,
}

/// One process slot, for status output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Program of the key.
    pub program: String,
    /// Pid, once the process is ready.
    pub pid: Option<u32>,
    /// Server version parsed from `userAgent`.
    pub version: Option<String>,
    /// Active leases.
    pub leases: usize,
    /// Acquirers waiting on its startup.
    pub pending: usize,
    /// Retired (detached from its key), closing when its last lease drops.
    pub retired: bool,
    /// The transport failed.
    pub poisoned: bool,
}

#[derive(Debug)]
struct Startup {
    cancel: watch::Sender<bool>,
    task: JoinHandle<()>,
}

#[derive(Debug)]
struct Inner {
    config: PoolConfig,
    ledger: Mutex<Ledger<Process>>,
    startups: Mutex<HashMap<EntryId, Startup>>,
    live: Mutex<HashMap<u32, ExitWatch>>,
    shutdown: AtomicBool,
    spawned: AtomicU64,
    retired_graceful: AtomicU64,
    retired_wedged: AtomicU64,
    reaper: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Inner {
    fn caps(&self) -> Caps {
        Caps {
            per_key: self.config.max_processes_per_key.max(1),
            total: self.config.max_processes_total.max(1),
        }
    }

    fn release(&self, id: EntryId) {
        let close = lock(&self.ledger).release(id, std::time::Instant::now());
        if let Some(p) = close {
            p.client.close();
        }
    }

    fn reap(&self) {
        let closing =
            lock(&self.ledger).reap_idle(std::time::Instant::now(), self.config.idle_grace);
        for p in closing {
            tracing::debug!(pid = p.client.pid(), "closing idle app-server");
            p.client.close();
        }
        lock(&self.live).retain(|_, w| !w.has_exited());
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(reaper) = lock(&self.reaper).take() {
            reaper.abort();
        }
        for (_, s) in lock(&self.startups).drain() {
            let _ = s.cancel.send(true);
            s.task.abort();
        }
        let (procs, _) = lock(&self.ledger).drain();
        for p in procs {
            p.client.close();
        }
    }
}

/// The lease pool. Cheap to clone; all clones share one state.
#[derive(Debug, Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

impl Pool {
    /// Creates a pool and its reaper task. Must be called inside a Tokio runtime.
    pub fn new(config: PoolConfig) -> Self {
        let inner = Arc::new(Inner {
            config,
            ledger: Mutex::new(Ledger::default()),
            startups: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            shutdown: AtomicBool::new(false),
            spawned: AtomicU64::new(0),
            retired_graceful: AtomicU64::new(0),
            retired_wedged: AtomicU64::new(0),
            reaper: Mutex::new(None),
        });
        let tick =
            (inner.config.idle_grace / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let weak = Arc::downgrade(&inner);
        let reaper = tokio::spawn(reaper_task(weak, tick));
        *lock(&inner.reaper) = Some(reaper);
        Self { inner }
    }

    /// The configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    /// Current counters.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            ledger: lock(&self.inner.ledger).counts(),
            live_children: lock(&self.inner.live)
                .values()
                .filter(|w| !w.has_exited())
                .count(),
            spawned_total: self.inner.spawned.load(Ordering::Relaxed),
            retired_graceful_total: self.inner.retired_graceful.load(Ordering::Relaxed),
            retired_wedged_total: self.inner.retired_wedged.load(Ordering::Relaxed),
        }
    }

    /// Every process slot (starting, ready, retired but draining).
    pub fn processes(&self) -> Vec<ProcessInfo> {
        let mut out: Vec<ProcessInfo> = lock(&self.inner.ledger)
            .slots()
            .into_iter()
            .map(|(key, p, leases, pending, retired)| ProcessInfo {
                program: key.program().to_string(),
                pid: p.as_ref().map(|p| p.client.pid()),
                version: p.as_ref().and_then(|p| p.init.version.clone()),
                leases,
                pending,
                retired,
                poisoned: p.as_ref().is_some_and(|p| p.client.is_poisoned()),
            })
            .collect();
        out.sort_by(|a, b| (&a.program, a.pid).cmp(&(&b.program, b.pid)));
        out
    }

    /// Pids of children spawned and not yet reaped.
    pub fn live_pids(&self) -> Vec<u32> {
        lock(&self.inner.live)
            .values()
            .filter(|w| !w.has_exited())
            .map(ExitWatch::pid)
            .collect()
    }

    /// Leases the shared process for `key`, starting it if needed. `deadline` bounds only this
    /// caller's wait: a shared startup continues for other waiters.
    pub async fn acquire(&self, key: &ProcessKey, deadline: Instant) -> Result<Lease, PoolError> {
        if key.command.first().is_none_or(|p| p.trim().is_empty()) {
            return Err(PoolError::InvalidKey(
                "the command is empty; set `runtimes.<name>.command` to [program, args...]"
                    .to_string(),
            ));
        }
        if self.inner.shutdown.load(Ordering::SeqCst) {
            return Err(PoolError::Shutdown);
        }
        let mut close = Vec::new();
        let begin = lock(&self.inner.ledger).begin_acquire(key, self.inner.caps(), &mut close);
        for p in close {
            p.client.close();
        }
        let (id, mut rx) = match begin? {
            Begin::Leased(id, p) => return Ok(self.lease(id, p)),
            Begin::Wait(id, rx) => (id, rx),
            Begin::Start(id, tx, rx) => {
                self.start(id, key.clone(), tx);
                (id, rx)
            }
        };
        let waited = tokio::time::timeout_at(deadline, async {
            rx.wait_for(|s| !matches!(s, StartState::Pending))
                .await
                .map(|s| s.clone())
        })
        .await;
        let now = std::time::Instant::now();
        match waited {
            Ok(Ok(StartState::Ready(_))) => {
                let p = lock(&self.inner.ledger).finish_wait(id);
                match p {
                    Some(p) => Ok(self.lease(id, p)),
                    None => Err(PoolError::Startup {
                        command: key.program().to_string(),
                        message: "the process was retired before this waiter could use it"
                            .to_string(),
                    }),
                }
            }
            Ok(Ok(StartState::Failed(e))) => {
                lock(&self.inner.ledger).abandon_wait(id, now);
                Err(e)
            }
            Ok(Ok(StartState::Pending)) | Ok(Err(_)) => {
                let ab = lock(&self.inner.ledger).abandon_wait(id, now);
                if let Some(p) = ab.close {
                    p.client.close();
                }
                Err(PoolError::Startup {
                    command: key.program().to_string(),
                    message: "the startup was abandoned".to_string(),
                })
            }
            Err(_elapsed) => {
                let ab = lock(&self.inner.ledger).abandon_wait(id, now);
                if ab.cancel_startup {
                    if let Some(s) = lock(&self.inner.startups).remove(&id) {
                        tracing::info!(
                            command = key.program(),
                            "last waiter gave up; cancelling the stalled app-server startup"
                        );
                        let _ = s.cancel.send(true);
                    }
                }
                if let Some(p) = ab.close {
                    p.client.close();
                }
                Err(PoolError::AcquireTimeout {
                    command: key.program().to_string(),
                })
            }
        }
    }

    fn lease(&self, id: EntryId, process: Process) -> Lease {
        Lease {
            pool: Some(self.inner.clone()),
            id,
            process,
        }
    }

    fn start(&self, id: EntryId, key: ProcessKey, tx: watch::Sender<StartState<Process>>) {
        let (cancel, cancel_rx) = watch::channel(false);
        let weak = Arc::downgrade(&self.inner);
        let mut startups = lock(&self.inner.startups);
        let task = tokio::spawn(startup_task(weak, id, key, tx, cancel_rx));
        startups.insert(id, Startup { cancel, task });
    }

    /// Closes every process and waits until every child is reaped. Further acquires fail.
    pub async fn shutdown(&self) {
        self.inner.shutdown.store(true, Ordering::SeqCst);
        if let Some(reaper) = lock(&self.inner.reaper).take() {
            reaper.abort();
        }
        let startups: Vec<Startup> = lock(&self.inner.startups).drain().map(|(_, s)| s).collect();
        for s in &startups {
            let _ = s.cancel.send(true);
        }
        for s in startups {
            let _ = s.task.await;
        }
        let (procs, _) = lock(&self.inner.ledger).drain();
        for p in &procs {
            p.client.close();
        }
        let watches: Vec<ExitWatch> = lock(&self.inner.live).values().cloned().collect();
        for w in watches {
            w.wait().await;
        }
        lock(&self.inner.live).clear();
    }
}

async fn reaper_task(weak: Weak<Inner>, tick: Duration) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(inner) = weak.upgrade() else { return };
        if inner.shutdown.load(Ordering::SeqCst) {
            return;
        }
        inner.reap();
    }
}

async fn startup_task(
    weak: Weak<Inner>,
    id: EntryId,
    key: ProcessKey,
    tx: watch::Sender<StartState<Process>>,
    mut cancel: watch::Receiver<bool>,
) {
    let Some(inner) = weak.upgrade() else { return };
    let command = key.program().to_string();
    let fail = |inner: &Inner, message: String| {
        lock(&inner.ledger).startup_failed(id);
        lock(&inner.startups).remove(&id);
        tracing::warn!(%command, %message, "app-server startup failed");
        let _ = tx.send(StartState::Failed(PoolError::Startup {
            command: command.clone(),
            message,
        }));
    };
    let client = match Client::spawn(&key.spawn_spec(), inner.config.client.clone()) {
        Ok(c) => Arc::new(c),
        Err(e) => return fail(&inner, e.to_string()),
    };
    inner.spawned.fetch_add(1, Ordering::Relaxed);
    lock(&inner.live).insert(client.pid(), client.exit_watch());
    let timeout = inner.config.startup_timeout;
    // Hold only a weak reference while waiting, so a dropped pool does not wait for a slow start.
    drop(inner);
    let init = tokio::select! {
        r = client.initialize_with(timeout, key.experimental_api) => r,
        _ = cancel.wait_for(|c| *c) => {
            client.close();
            return;
        }
    };
    let Some(inner) = weak.upgrade() else {
        client.close();
        return;
    };
    match init {
        Ok(init) => {
            let process = Process {
                client: client.clone(),
                init: Arc::new(init),
            };
            let res =
                lock(&inner.ledger).startup_ready(id, process.clone(), std::time::Instant::now());
            lock(&inner.startups).remove(&id);
            match res {
                Ok(()) => {
                    tracing::info!(pid = client.pid(), %command, version = ?process.init.version, "app-server ready");
                    let _ = tx.send(StartState::Ready(process));
                }
                Err(p) => p.client.close(),
            }
        }
        Err(e) => {
            // Prefer the exit status and stderr over "connection closed".
            let mut message = e.to_string();
            let exited =
                tokio::time::timeout(Duration::from_millis(500), client.exit_watch().wait()).await;
            if let Ok(status) = exited {
                message = format!("exited before answering initialize ({status})");
            }
            let tail = client.stderr_tail();
            if !tail.is_empty() {
                message.push_str("; stderr: ");
                message.push_str(&tail);
            }
            client.kill(TransportError::new(
                TransportFailureKind::Closed,
                "startup failed",
            ));
            fail(&inner, message);
        }
    }
}

/// A lease on a shared process. Dropping it releases the lease exactly once.
#[derive(Debug)]
pub struct Lease {
    pool: Option<Arc<Inner>>,
    id: EntryId,
    process: Process,
}

impl Lease {
    /// The JSON-RPC client of the leased process.
    pub fn client(&self) -> &Arc<Client> {
        &self.process.client
    }

    /// `initialize` result of the process.
    pub fn init(&self) -> &InitInfo {
        &self.process.init
    }

    /// Pid of the leased process.
    pub fn pid(&self) -> u32 {
        self.process.client.pid()
    }

    /// Graceful retirement: new acquirers get a fresh process; this one closes when its last
    /// lease drops. Sibling runs keep working.
    pub fn retire(&self) {
        if let Some(pool) = &self.pool {
            pool.retired_graceful.fetch_add(1, Ordering::Relaxed);
        }
        self.detach();
    }

    fn detach(&self) {
        if let Some(pool) = &self.pool {
            let close = lock(&pool.ledger).retire(self.id);
            if let Some(p) = close {
                p.client.close();
            }
        }
    }

    /// Hard retirement for a wedged process: detach it and fail every lease on it now.
    pub fn retire_wedged(&self, reason: &str) {
        if let Some(pool) = &self.pool {
            pool.retired_wedged.fetch_add(1, Ordering::Relaxed);
        }
        self.detach();
        tracing::warn!(
            pid = self.pid(),
            reason,
            "retiring wedged app-server; failing its active runs"
        );
        self.process
            .client
            .kill(TransportError::new(TransportFailureKind::Wedged, reason));
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.release(self.id);
        }
    }
}
