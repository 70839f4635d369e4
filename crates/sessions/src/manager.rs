//! The session manager: sessions, per-session FIFO of runs, the subagent lane, durable
//! announces and recovery after a crash.
//!
//! # Concurrency model
//! - All in-memory state sits in one `std::sync::Mutex<Inner>`; it is never held across an
//!   `.await` or a file write.
//! - Each session's journal has its own async mutex, so appends to one file are ordered;
//!   the write + fsync itself happens on the blocking pool.
//! - A session has at most one worker task, started when it has work (a queued run or a pending
//!   announce) and ended when it has none, so an idle session costs only its in-memory record.
//!   Workers are owned by the manager's `JoinSet` and stop on [`SessionManager::shutdown`].
//!
//! # Durability
//! - `spawn`/`send` return only after the message record is fsynced in the session journal.
//! - A child's terminal result goes to the outbox (atomic write) *before* the child's `ended`
//!   record; the parent's worker records it in the parent's journal (dedupe by announce id)
//!   and only then deletes the outbox file. After a crash the outbox is replayed.
//! - A run that was `running` when the process died is re-queued (attempt + 1) while
//!   `attempts < max_attempts`, else it ends as `interrupted` (and is announced as such).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, UNIX_EPOCH};

use openclaw_rs_config::Config;
use openclaw_rs_state::StateDir;
use serde_json::json;
use tokio::sync::{broadcast, mpsc, watch, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::error::{LimitKind, LimitViolation, SessionError};
use crate::executor::{Cancel, ExecError, ExecEvent, ExecRequest, FailureClass, RunExecutor};
use crate::journal::{self, Announce, Record};
use crate::key::{self, KeyKind};
use crate::limits::Limits;
use crate::spawner::{SpawnFuture, SpawnHandle, SpawnTarget};
use crate::types::*;

mod compaction;
mod recovery;
mod retention;
mod worker;

/// The runtime used when nothing else names one.
pub const DEFAULT_RUNTIME: &str = "embedded";
/// Largest task/message accepted.
pub const MAX_TASK_BYTES: usize = 256 * 1024;
/// Largest final text kept in a journal record (longer output is cut, with a marker).
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;
/// Terminal runs whose text is larger than this are not kept in memory (bounds the cache).
const MAX_CACHED_TEXT_BYTES: usize = 8 * 1024;
/// Runs queued or running across the gateway beyond which a spawn is refused as retryable
/// (each queued run holds its task, at most [`MAX_TASK_BYTES`], in memory).
pub const MAX_ACTIVE_RUNS: usize = 10_000;
/// Time an executor gets to wind down after cancel before its future is dropped.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// Options fixed at start-up.
#[derive(Clone)]
pub struct ManagerOptions {
    /// Journals live in `<state>/sessions/`.
    pub state: StateDir,
    /// Working directory of runs when the agent has no `workspace` (default `$STATE/workspace`).
    pub workspace: PathBuf,
    /// A run interrupted by a crash is re-run while its attempts are below this (default 2).
    pub max_attempts: u32,
    /// Run deadline when the request names none (default 10 min).
    pub default_run_timeout: Duration,
    /// Event channel capacity (a receiver slower than this loses events and is told so).
    pub event_capacity: usize,
    /// Terminal runs kept in memory for `wait` (older ones are read back from journals).
    pub recent_runs: usize,
    /// Told about this manager's run endings and journal fsyncs (default: none). The gateway
    /// puts its metrics here.
    pub observer: Option<Arc<dyn crate::observe::Observer>>,
}

impl std::fmt::Debug for ManagerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagerOptions")
            .field("state", &self.state)
            .field("workspace", &self.workspace)
            .field("max_attempts", &self.max_attempts)
            .field("default_run_timeout", &self.default_run_timeout)
            .field("event_capacity", &self.event_capacity)
            .field("recent_runs", &self.recent_runs)
            .field("observer", &self.observer.as_ref().map(|_| "<observer>"))
            .finish_non_exhaustive()
    }
}

impl ManagerOptions {
    /// Defaults for a state dir.
    pub fn new(state: StateDir) -> Self {
        let workspace = state.join("workspace");
        ManagerOptions {
            state,
            workspace,
            max_attempts: 2,
            default_run_timeout: Duration::from_secs(600),
            event_capacity: 8192,
            recent_runs: 256,
            observer: None,
        }
    }
}

/// Owns every session, run and announce. Cheap to clone.
#[derive(Clone)]
pub struct SessionManager {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("dir", &self.shared.dir)
            .finish_non_exhaustive()
    }
}

/// How a [`SpawnHandle`] reaches the manager (the handle lives below the manager, in
/// `spawner.rs`, so that the executor seam does not depend on the manager).
impl SpawnTarget for Shared {
    fn spawn(
        self: Arc<Self>,
        req: SpawnRequest,
    ) -> SpawnFuture<Result<SpawnAccepted, SessionError>> {
        Box::pin(async move { SessionManager { shared: self }.spawn(req).await })
    }

    fn wait(
        self: Arc<Self>,
        run_id: String,
        timeout: Duration,
    ) -> SpawnFuture<Result<RunSnapshot, SessionError>> {
        Box::pin(async move { SessionManager { shared: self }.wait(&run_id, timeout).await })
    }
}

struct Shared {
    /// `$STATE/sessions`.
    dir: PathBuf,
    opts: ManagerOptions,
    executor: Arc<dyn RunExecutor>,
    /// Fan-out of events to the gateway (and tests, benches).
    events: broadcast::Sender<SessionEvent>,
    inner: Mutex<Inner>,
    /// Woken when a subagent lane slot frees up or the limit changes.
    lane_notify: Notify,
    /// The live config (runtime resolution, workspaces, limits).
    config: Mutex<Arc<Config>>,
    /// Flipped once by `shutdown`; every worker selects on it.
    shutdown_tx: watch::Sender<bool>,
    /// Owner of every worker task.
    tasks: Mutex<JoinSet<()>>,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, SessionState>,
    /// Queued, running and recently finished runs.
    runs: HashMap<String, RunEntry>,
    /// Every run id ever accepted → its session (idempotency and `wait` on old runs).
    run_index: HashMap<String, String>,
    recent_terminal: VecDeque<String>,
    /// Runs compacted out of their journal that stay in `run_index` only while they are in
    /// the cache of recent runs (removed from the index when they age out of it).
    index_until_uncached: HashSet<String>,
    lane_in_use: u32,
    limits: Limits,
    draining: bool,
    closed: bool,
}

impl Inner {
    /// Sessions with queued messages or pending announces (what a kick would start).
    fn keys_with_work(&self) -> Vec<String> {
        self.sessions
            .iter()
            .filter(|(_, s)| !s.queue.is_empty() || !s.pending_announces.is_empty())
            .map(|(k, _)| k.clone())
            .collect()
    }
}

struct SessionState {
    agent_id: String,
    kind: KeyKind,
    spawned_by: Option<String>,
    depth: u32,
    label: Option<String>,
    cleanup: Cleanup,
    created_at: u64,
    updated_at: u64,
    /// The `session` record is on disk.
    persisted: bool,
    queue: VecDeque<String>,
    running: Option<String>,
    /// The running run's `started` record is on disk (it counts as running from then on).
    started: bool,
    /// A worker task is active for this session.
    worker: bool,
    pending_announces: Vec<Announce>,
    /// Announce ids recorded in this journal whose outbox file may still exist (the only ones
    /// that could be offered again; others are forgotten to keep idle parents small).
    delivered: HashSet<String>,
    children: Vec<String>,
    last_run: Option<(String, RunState)>,
    /// Runtime thread of the last completed run (the next run resumes it).
    thread_id: Option<String>,
    /// Journal size right after the last compaction (or attempt), 0 before any: a journal whose
    /// kept tail alone exceeds the limit is compacted again only after it has grown.
    compact_floor: u64,
    journal: Arc<tokio::sync::Mutex<()>>,
}

struct RunEntry {
    session_key: String,
    text: String,
    model: Option<String>,
    runtime: Option<String>,
    timeout_ms: Option<u64>,
    state: RunState,
    attempts: u32,
    created_at: u64,
    started_at: Option<u64>,
    ended_at: Option<u64>,
    final_text: Option<String>,
    error: Option<String>,
    error_class: Option<FailureClass>,
    retryable: bool,
    origin: Option<Arc<str>>,
    seq: u64,
    abort_requested: bool,
    cancel: Option<watch::Sender<bool>>,
    done: watch::Sender<bool>,
}

fn cap_text(mut s: String) -> String {
    if s.len() > MAX_TEXT_BYTES {
        let mut cut = MAX_TEXT_BYTES;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n[output truncated]");
    }
    s
}

impl SessionState {
    fn new(
        key: &str,
        agent_id: String,
        spawned_by: Option<String>,
        depth: u32,
        ts: u64,
    ) -> SessionState {
        let kind = key::parse_key(key)
            .map(|p| p.kind)
            .unwrap_or(KeyKind::Subagent);
        SessionState {
            agent_id,
            kind,
            spawned_by,
            depth,
            label: None,
            cleanup: Cleanup::Keep,
            created_at: ts,
            updated_at: ts,
            persisted: false,
            queue: VecDeque::new(),
            running: None,
            started: false,
            worker: false,
            pending_announces: Vec::new(),
            delivered: HashSet::new(),
            children: Vec::new(),
            last_run: None,
            thread_id: None,
            compact_floor: 0,
            journal: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    fn session_record(&self, key: &str) -> Record {
        Record::Session {
            key: key.to_string(),
            agent_id: self.agent_id.clone(),
            spawned_by: self.spawned_by.clone(),
            depth: self.depth,
            label: self.label.clone(),
            cleanup: (self.cleanup == Cleanup::Delete).then(|| "delete".to_string()),
            ts: self.created_at,
        }
    }

    fn is_active(&self) -> bool {
        self.running.is_some() || !self.queue.is_empty()
    }

    fn info(&self, key: &str) -> SessionInfo {
        SessionInfo {
            key: key.to_string(),
            agent_id: self.agent_id.clone(),
            kind: self.kind,
            spawned_by: self.spawned_by.clone(),
            depth: self.depth,
            label: self.label.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            running_run_id: self.running.clone().filter(|_| self.started),
            queued: self.queue.len() + usize::from(self.running.is_some() && !self.started),
            last_run_id: self.last_run.as_ref().map(|(r, _)| r.clone()),
            last_run_state: self.last_run.as_ref().map(|(_, s)| *s),
            children: self.children.len(),
            pending_announces: self.pending_announces.len(),
        }
    }
}

impl RunEntry {
    fn new(session_key: &str, text: String, ts: u64) -> RunEntry {
        RunEntry {
            session_key: session_key.to_string(),
            text,
            model: None,
            runtime: None,
            timeout_ms: None,
            state: RunState::Queued,
            attempts: 0,
            created_at: ts,
            started_at: None,
            ended_at: None,
            final_text: None,
            error: None,
            error_class: None,
            retryable: false,
            origin: None,
            seq: 0,
            abort_requested: false,
            cancel: None,
            done: watch::channel(false).0,
        }
    }

    fn snapshot(&self, run_id: &str, spawned_by: Option<String>) -> RunSnapshot {
        RunSnapshot {
            run_id: run_id.to_string(),
            session_key: self.session_key.clone(),
            state: self.state,
            attempts: self.attempts,
            created_at: self.created_at,
            started_at: self.started_at,
            ended_at: self.ended_at,
            text: self.final_text.clone(),
            error: self.error.clone(),
            error_class: self.error_class,
            retryable: self.retryable,
            spawned_by,
        }
    }
}

/// Runs waiting and running in one lane.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneCounts {
    /// Runs accepted and waiting in their sessions' queues.
    pub queued: usize,
    /// Runs holding their session's running slot.
    pub running: usize,
}

/// [`SessionManager::lane_depths`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneDepths {
    /// Runs of top-level sessions (main and named).
    pub main: LaneCounts,
    /// Runs of spawned child sessions.
    pub subagent: LaneCounts,
}

#[derive(Clone)]
struct Ending {
    state: RunState,
    text: Option<String>,
    error: Option<String>,
    class: Option<FailureClass>,
    retryable: bool,
    thread_id: Option<String>,
}

impl SessionManager {
    /// Open (or create) `$STATE/sessions`, replay every journal and the outbox, re-queue
    /// interrupted runs and start workers for sessions with work.
    ///
    /// Must be called inside a Tokio runtime. Blocking file I/O happens here, once, at start-up.
    pub fn open(
        opts: ManagerOptions,
        config: Arc<Config>,
        executor: Arc<dyn RunExecutor>,
    ) -> Result<SessionManager, SessionError> {
        let dir = opts.state.join("sessions");
        openclaw_rs_state::ensure_dir(&dir)?;
        let (events, _) = broadcast::channel(opts.event_capacity.max(16));
        let limits = Limits::from_config(&config);
        let shared = Arc::new(Shared {
            dir,
            opts,
            executor,
            events,
            inner: Mutex::new(Inner {
                limits,
                ..Inner::default()
            }),
            lane_notify: Notify::new(),
            config: Mutex::new(config),
            shutdown_tx: watch::channel(false).0,
            tasks: Mutex::new(JoinSet::new()),
        });
        let mgr = SessionManager { shared };
        mgr.recover()?;
        let sweeper = mgr.shared.clone().sweeper();
        lock(&mgr.shared.tasks).spawn(sweeper);
        Ok(mgr)
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.shared.events.subscribe()
    }

    /// Replace the live config (limits apply to the next spawn; the lane resizes at once).
    pub fn set_config(&self, config: Arc<Config>) {
        let limits = Limits::from_config(&config);
        *lock(&self.shared.config) = config;
        lock(&self.shared.inner).limits = limits;
        self.shared.lane_notify.notify_waiters();
    }

    /// [`SessionManager::set_config`] only when `config` is a different snapshot (cheap to call
    /// before every request with the gateway's live config).
    pub fn sync_config(&self, config: Arc<Config>) {
        if !Arc::ptr_eq(&lock(&self.shared.config), &config) {
            self.set_config(config);
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        lock(&self.shared.inner).limits
    }

    /// While draining, accepted messages are persisted and queued but no new run starts;
    /// runs already in flight continue. Turning it off starts queued work again.
    pub fn set_draining(&self, draining: bool) {
        let keys: Vec<String> = {
            let mut inner = lock(&self.shared.inner);
            inner.draining = draining;
            if draining {
                return;
            }
            inner.keys_with_work()
        };
        for k in keys {
            self.shared.kick(&k);
        }
    }

    /// Runs currently executing (what a restart drain waits for).
    pub fn running_runs(&self) -> usize {
        lock(&self.shared.inner)
            .sessions
            .values()
            .filter(|s| s.running.is_some())
            .count()
    }

    /// Queued and running runs per lane (`main`: top-level sessions; `subagent`: children),
    /// for metrics.
    pub fn lane_depths(&self) -> LaneDepths {
        let inner = lock(&self.shared.inner);
        let mut d = LaneDepths::default();
        for s in inner.sessions.values() {
            let lane = if s.spawned_by.is_some() {
                &mut d.subagent
            } else {
                &mut d.main
            };
            lane.queued += s.queue.len();
            lane.running += usize::from(s.running.is_some());
        }
        d
    }

    /// Runs accepted and not finished (queued or running).
    pub fn active_runs(&self) -> usize {
        lock(&self.shared.inner)
            .sessions
            .values()
            .map(|s| s.queue.len() + usize::from(s.running.is_some()))
            .sum()
    }

    /// Spawn a child session running `req.task`. Returns once the child and its first message
    /// are on disk; the run itself proceeds in the background.
    pub async fn spawn(&self, req: SpawnRequest) -> Result<SpawnAccepted, SessionError> {
        let sh = &self.shared;
        check_task(&req.task, "task")?;
        if let Some(a) = &req.agent_id {
            key::check_agent_id(a)?;
        }
        let parent_key = match &req.parent_session_key {
            Some(p) => {
                key::parse_key(p)?;
                p.clone()
            }
            None => key::main_key(req.agent_id.as_deref().unwrap_or("main")),
        };
        if let Some(l) = &req.label {
            if l.len() > 256 {
                return Err(SessionError::InvalidRequest(
                    "label is longer than 256 bytes; shorten it".into(),
                ));
            }
        }
        self.check_runtime(req.runtime.as_deref())?;
        let ts = now_ms();
        let run_id = match &req.idempotency_key {
            Some(k) => {
                key::check_run_id(k)?;
                k.clone()
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let (child_key, records, journal_lock) = {
            let mut inner = lock(&sh.inner);
            if inner.closed {
                return Err(shutting_down());
            }
            if let Some(existing) = inner.run_index.get(&run_id) {
                // Only an idempotency key can name an existing run (uuids are fresh).
                let parent_of_existing = inner
                    .sessions
                    .get(existing)
                    .and_then(|s| s.spawned_by.as_deref());
                if parent_of_existing == Some(parent_key.as_str()) {
                    return Ok(SpawnAccepted {
                        run_id,
                        child_session_key: existing.clone(),
                        duplicate: true,
                    });
                }
                return Err(SessionError::InvalidRequest(format!(
                    "idempotencyKey {run_id:?} was already used for session {existing:?}; use a fresh key per spawn"
                )));
            }
            let limits = inner.limits;
            // The parent: an existing session, or an agent's main session created on demand.
            if !inner.sessions.contains_key(&parent_key) {
                let p = key::parse_key(&parent_key)?;
                if p.kind == KeyKind::Subagent {
                    return Err(SessionError::NotFound(format!(
                        "unknown parent session {parent_key:?}: spawn from an existing session or omit parentSessionKey"
                    )));
                }
                inner.sessions.insert(
                    parent_key.clone(),
                    SessionState::new(&parent_key, p.agent_id, None, 0, ts),
                );
            }
            let (parent_agent, parent_depth, active_children) = {
                let p = &inner.sessions[&parent_key];
                let active = p
                    .children
                    .iter()
                    .filter(|c| inner.sessions.get(*c).is_some_and(|s| s.is_active()))
                    .count() as u32;
                (p.agent_id.clone(), p.depth, active)
            };
            let depth = parent_depth + 1;
            if depth > limits.max_spawn_depth {
                return Err(SessionError::Limit(LimitViolation {
                    kind: LimitKind::SpawnDepth,
                    value: depth,
                    max: limits.max_spawn_depth,
                }));
            }
            // The child limit stops runaway recursion by agents: it applies to spawns that name
            // their parent (a run's in-process spawns always do, and `--parent` from a shell).
            // A shell spawn without a parent is not an agent's child; it only queues.
            if req.parent_session_key.is_some()
                && active_children + 1 > limits.max_children_per_session
            {
                return Err(SessionError::Limit(LimitViolation {
                    kind: LimitKind::ChildrenPerSession,
                    value: active_children + 1,
                    max: limits.max_children_per_session,
                }));
            }
            // Beyond `maxConcurrentSubagentRuns` a run waits in the subagent lane (FIFO, visible
            // as `queued`); only a gateway-wide backlog bound refuses, as retryable.
            let active: usize = inner
                .sessions
                .values()
                .map(|s| s.queue.len() + usize::from(s.running.is_some()))
                .sum();
            if active >= MAX_ACTIVE_RUNS {
                return Err(SessionError::Unavailable(format!(
                    "{active} runs are already queued or running (the gateway holds at most {MAX_ACTIVE_RUNS}); wait for some to finish and retry"
                )));
            }
            let agent_id = req.agent_id.clone().unwrap_or(parent_agent);
            let child_key = key::new_subagent_key(&agent_id);
            let mut child =
                SessionState::new(&child_key, agent_id, Some(parent_key.clone()), depth, ts);
            child.label = req.label.clone();
            child.cleanup = req.cleanup;
            child.persisted = true;
            // Reserve the slot now (counted by concurrent spawns); the worker is started only
            // after the records are on disk.
            child.queue.push_back(run_id.clone());
            let records = vec![
                child.session_record(&child_key),
                Record::Message {
                    run_id: run_id.clone(),
                    text: req.task.clone(),
                    model: req.model.clone(),
                    runtime: req.runtime.clone(),
                    timeout_ms: req.run_timeout.map(|d| d.as_millis() as u64),
                    ts,
                },
            ];
            let jl = child.journal.clone();
            inner.sessions.insert(child_key.clone(), child);
            if let Some(p) = inner.sessions.get_mut(&parent_key) {
                p.children.push(child_key.clone());
            }
            let mut run = RunEntry::new(&child_key, req.task.clone(), ts);
            run.model = req.model.clone();
            run.runtime = req.runtime.clone();
            run.timeout_ms = req.run_timeout.map(|d| d.as_millis() as u64);
            run.origin = req.origin;
            inner.runs.insert(run_id.clone(), run);
            inner.run_index.insert(run_id.clone(), child_key.clone());
            (child_key, records, jl)
        };
        let path = sh.journal_path(&child_key);
        let write = {
            let _g = journal_lock.lock().await;
            let path = path.clone();
            blocking(move || journal::append(&path, &records)).await
        };
        if let Ok(took) = write {
            sh.fsynced(took);
        }
        if let Err(e) = write {
            // Not acknowledged: forget the reservation entirely, on disk too. The child's key is
            // fresh, so the journal (if a partial write created it) is ours alone to remove.
            if let Err(rm) = std::fs::remove_file(&path) {
                if rm.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %path.display(), error = %rm, "could not remove the journal of a refused spawn");
                }
            }
            let mut inner = lock(&sh.inner);
            inner.sessions.remove(&child_key);
            inner.runs.remove(&run_id);
            inner.run_index.remove(&run_id);
            if let Some(p) = inner.sessions.get_mut(&parent_key) {
                p.children.retain(|c| c != &child_key);
            }
            return Err(e);
        }
        sh.emit_changed(&child_key, "spawned", Some(&run_id));
        sh.emit_run_status(&run_id, "queued");
        sh.kick(&child_key);
        Ok(SpawnAccepted {
            run_id,
            child_session_key: child_key,
            duplicate: false,
        })
    }

    /// Queue a message on a session (`chat.send`). Returns once the message is on disk.
    /// An agent's main session is created on first use; a child session must exist.
    pub async fn send(&self, req: SendRequest) -> Result<SendAccepted, SessionError> {
        let sh = &self.shared;
        check_task(&req.message, "message")?;
        let parsed = key::parse_key(&req.session_key)?;
        if let Some(k) = &req.idempotency_key {
            key::check_run_id(k)?;
        }
        self.check_runtime(req.runtime.as_deref())?;
        let key = req.session_key.clone();
        let ts = now_ms();
        // Appends to one journal are serialised; holding its lock across the idempotency check
        // and the write makes a concurrent retry see the first attempt.
        let jl = {
            let mut inner = lock(&sh.inner);
            if inner.closed {
                return Err(shutting_down());
            }
            if !inner.sessions.contains_key(&key) {
                if parsed.kind == KeyKind::Subagent {
                    return Err(SessionError::NotFound(format!(
                        "unknown session {key:?}: spawn it with sessions.spawn first"
                    )));
                }
                inner.sessions.insert(
                    key.clone(),
                    SessionState::new(&key, parsed.agent_id.clone(), None, 0, ts),
                );
            }
            inner.sessions[&key].journal.clone()
        };
        let _g = jl.lock().await;
        let run_id = req
            .idempotency_key
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let records = {
            let mut inner = lock(&sh.inner);
            if let Some(existing) = inner.run_index.get(&run_id) {
                if existing != &key {
                    return Err(SessionError::InvalidRequest(format!(
                        "idempotencyKey {run_id:?} was already used for session {existing:?}; use a fresh key per message"
                    )));
                }
                let state = inner
                    .runs
                    .get(&run_id)
                    .map(|r| r.state)
                    .unwrap_or(RunState::Completed);
                return Ok(SendAccepted {
                    run_id,
                    duplicate: true,
                    state,
                });
            }
            let s = inner
                .sessions
                .get_mut(&key)
                .ok_or_else(|| SessionError::NotFound(format!("unknown session {key:?}")))?;
            let mut records = Vec::with_capacity(2);
            if !s.persisted {
                records.push(s.session_record(&key));
            }
            records.push(Record::Message {
                run_id: run_id.clone(),
                text: req.message.clone(),
                model: req.model.clone(),
                runtime: req.runtime.clone(),
                timeout_ms: req.timeout.map(|d| d.as_millis() as u64),
                ts,
            });
            records
        };
        let path = sh.journal_path(&key);
        let took = blocking(move || journal::append(&path, &records)).await?;
        sh.fsynced(took);
        {
            let mut inner = lock(&sh.inner);
            let Some(s) = inner.sessions.get_mut(&key) else {
                return Err(SessionError::NotFound(format!(
                    "session {key:?} was removed"
                )));
            };
            s.persisted = true;
            s.queue.push_back(run_id.clone());
            s.updated_at = ts;
            let mut run = RunEntry::new(&key, req.message.clone(), ts);
            run.model = req.model;
            run.runtime = req.runtime;
            run.timeout_ms = req.timeout.map(|d| d.as_millis() as u64);
            run.origin = req.origin;
            inner.runs.insert(run_id.clone(), run);
            inner.run_index.insert(run_id.clone(), key.clone());
        }
        drop(_g);
        sh.emit_changed(&key, "message", Some(&run_id));
        sh.emit_run_status(&run_id, "queued");
        sh.kick(&key);
        Ok(SendAccepted {
            run_id,
            duplicate: false,
            state: RunState::Queued,
        })
    }

    /// Abort one run, or every queued/running run of a session. Returns the aborted run ids.
    pub async fn abort(
        &self,
        session_key: &str,
        run_id: Option<&str>,
    ) -> Result<Vec<String>, SessionError> {
        let sh = &self.shared;
        let (queued, running) = {
            let mut inner = lock(&sh.inner);
            let s = inner.sessions.get(session_key).ok_or_else(|| {
                SessionError::NotFound(format!("unknown session {session_key:?}"))
            })?;
            let mut targets: Vec<String> = s.queue.iter().cloned().collect();
            targets.extend(s.running.iter().cloned());
            if let Some(r) = run_id {
                if !targets.iter().any(|t| t == r) {
                    let known = inner.run_index.get(r).map(|k| k == session_key);
                    return match known {
                        Some(true) => Ok(Vec::new()), // already finished: nothing to abort
                        _ => Err(SessionError::NotFound(format!(
                            "unknown run {r:?} in session {session_key:?}"
                        ))),
                    };
                }
                targets = vec![r.to_string()];
            }
            let running_id = s.running.clone();
            let mut queued = Vec::new();
            let mut running = Vec::new();
            for t in targets {
                if Some(&t) == running_id.as_ref() {
                    if let Some(run) = inner.runs.get_mut(&t) {
                        run.abort_requested = true;
                        if let Some(c) = &run.cancel {
                            let _ = c.send(true);
                        }
                    }
                    running.push(t);
                } else {
                    queued.push(t);
                }
            }
            if let Some(s) = inner.sessions.get_mut(session_key) {
                s.queue.retain(|q| !queued.contains(q));
            }
            (queued, running)
        };
        for r in &queued {
            sh.finish(r, aborted_before_start()).await;
        }
        let mut all = queued;
        all.extend(running);
        Ok(all)
    }

    /// Wait up to `timeout` for a run to end; returns its snapshot either way.
    pub async fn wait(&self, run_id: &str, timeout: Duration) -> Result<RunSnapshot, SessionError> {
        let rx = {
            let inner = lock(&self.shared.inner);
            match inner.runs.get(run_id) {
                Some(r) if !r.state.is_terminal() => Some(r.done.subscribe()),
                Some(_) => None,
                None if inner.run_index.contains_key(run_id) => None,
                None => return Err(SessionError::NotFound(format!("unknown runId {run_id:?}"))),
            }
        };
        if let Some(mut rx) = rx {
            let _ = tokio::time::timeout(timeout, until_set(&mut rx)).await;
        }
        self.run(run_id).await
    }

    /// A run's current snapshot (read back from its journal when no longer in memory).
    pub async fn run(&self, run_id: &str) -> Result<RunSnapshot, SessionError> {
        let key = {
            let inner = lock(&self.shared.inner);
            if let Some(r) = inner.runs.get(run_id) {
                let spawned_by = inner
                    .sessions
                    .get(&r.session_key)
                    .and_then(|s| s.spawned_by.clone());
                return Ok(r.snapshot(run_id, spawned_by));
            }
            inner
                .run_index
                .get(run_id)
                .cloned()
                .ok_or_else(|| SessionError::NotFound(format!("unknown runId {run_id:?}")))?
        };
        let dir = self.shared.dir.clone();
        let stem = key::file_stem(&key);
        let id = run_id.to_string();
        let (first, records) = blocking(move || {
            let path = journal::locate(&dir, &stem).ok_or_else(|| {
                SessionError::NotFound(format!("the journal of run {id:?} is gone"))
            })?;
            // Backwards from the end to the run's message: the cost is bounded by how much
            // happened in the session since.
            let records = journal::read_tail(
                &path,
                1,
                |r| matches!(r, Record::Message { run_id, .. } if *run_id == id),
            )?;
            Ok((journal::read_first(&path)?, records))
        })
        .await?;
        let mut snap: Option<RunSnapshot> = None;
        let mut spawned = first
            .as_ref()
            .and_then(Record::identity)
            .and_then(|(_, p)| p.map(str::to_string));
        for r in records {
            match r {
                Record::Session { spawned_by, .. } => spawned = spawned_by,
                Record::Snapshot(s) => spawned = s.spawned_by,
                Record::Message { run_id: id, ts, .. } if id == run_id => {
                    snap = Some(RunSnapshot {
                        run_id: id,
                        session_key: key.clone(),
                        state: RunState::Queued,
                        attempts: 0,
                        created_at: ts,
                        started_at: None,
                        ended_at: None,
                        text: None,
                        error: None,
                        error_class: None,
                        retryable: false,
                        spawned_by: spawned.clone(),
                    })
                }
                Record::Started {
                    run_id: id,
                    attempt,
                    ts,
                } if id == run_id => {
                    if let Some(s) = &mut snap {
                        s.attempts = attempt;
                        s.started_at = Some(ts);
                    }
                }
                Record::Ended {
                    run_id: id,
                    status,
                    text,
                    error,
                    error_class,
                    retryable,
                    ts,
                    ..
                } if id == run_id => {
                    if let Some(s) = &mut snap {
                        s.retryable = retryable;
                        s.state = RunState::parse(&status).unwrap_or(RunState::Interrupted);
                        s.text = text;
                        s.error = error;
                        s.error_class = error_class
                            .as_deref()
                            .map(|c| FailureClass::parse_lenient(c).reported());
                        s.ended_at = Some(ts);
                    }
                }
                _ => {}
            }
        }
        snap.ok_or_else(|| SessionError::NotFound(format!("unknown runId {run_id:?}")))
    }

    /// Every session, most recently updated first.
    pub fn list(&self) -> Vec<SessionInfo> {
        let inner = lock(&self.shared.inner);
        let mut v: Vec<SessionInfo> = inner.sessions.iter().map(|(k, s)| s.info(k)).collect();
        v.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.key.cmp(&b.key)));
        v
    }

    /// One session.
    pub fn get(&self, key: &str) -> Option<SessionInfo> {
        lock(&self.shared.inner)
            .sessions
            .get(key)
            .map(|s| s.info(key))
    }

    /// The last `limit` transcript entries of a session (user messages, results, announces),
    /// each with its position in the whole transcript (the journal is read from its start).
    pub async fn history(
        &self,
        key: &str,
        limit: usize,
    ) -> Result<Vec<TranscriptEntry>, SessionError> {
        key::parse_key(key)?;
        let (persisted, jl) = {
            let inner = lock(&self.shared.inner);
            match inner.sessions.get(key) {
                Some(s) => (s.persisted, s.journal.clone()),
                None => return Err(SessionError::NotFound(format!("unknown session {key:?}"))),
            }
        };
        if !persisted {
            return Ok(Vec::new());
        }
        let path = self.shared.journal_path(key);
        let read = move || {
            let path = path.clone();
            blocking(move || journal::read_numbered(&path, limit, Record::is_transcript))
        };
        // Read without the journal lock (appends need not wait for a long read). A compaction
        // swaps the file under that lock, leaving a moment with no live journal: a read that
        // fell into it is done again once the swap is over.
        let records = match read().await {
            Ok(r) => r,
            Err(_) => {
                let _g = jl.lock().await;
                read().await?
            }
        };
        let mut out = Vec::new();
        for (seq, r) in records {
            match r {
                Record::Message {
                    run_id, text, ts, ..
                } => out.push(TranscriptEntry {
                    seq,
                    role: "user",
                    run_id,
                    text,
                    ts,
                    state: None,
                    error_class: None,
                    child_session_key: None,
                    announce_id: None,
                }),
                Record::Ended {
                    run_id,
                    status,
                    text,
                    error,
                    error_class,
                    ts,
                    ..
                } => out.push(TranscriptEntry {
                    seq,
                    role: "assistant",
                    run_id,
                    text: text.or(error).unwrap_or_default(),
                    ts,
                    state: RunState::parse(&status),
                    error_class: error_class
                        .as_deref()
                        .map(|c| FailureClass::parse_lenient(c).reported()),
                    child_session_key: None,
                    announce_id: None,
                }),
                Record::Announce(a) => out.push(TranscriptEntry {
                    seq,
                    role: "system",
                    run_id: a.run_id,
                    text: a.text.or(a.error).unwrap_or_default(),
                    ts: a.ts,
                    state: RunState::parse(&a.status),
                    error_class: a
                        .error_class
                        .as_deref()
                        .map(|c| FailureClass::parse_lenient(c).reported()),
                    child_session_key: Some(a.child_key),
                    announce_id: Some(a.announce_id),
                }),
                Record::Session { .. } | Record::Snapshot(_) | Record::Started { .. } => {}
            }
        }
        let skip = out.len().saturating_sub(limit);
        Ok(out.split_off(skip))
    }

    /// A spawn handle for runs of `session_key` (what executors receive).
    pub fn spawn_handle(&self, session_key: &str) -> SpawnHandle {
        let target: Weak<dyn SpawnTarget> = Arc::downgrade(&self.shared) as Weak<dyn SpawnTarget>;
        SpawnHandle::new(target, session_key.to_string(), None, None)
    }

    /// Apply `session.retention.*` now (the manager also does it every minute): archive
    /// finished subagent sessions past `archiveAfterMinutes`, then prune archived journals.
    pub async fn apply_retention(&self) -> RetentionReport {
        self.shared.apply_retention(now_ms()).await
    }

    /// [`SessionManager::apply_retention`] as of another time (tests move the clock forward).
    #[cfg(test)]
    pub(crate) async fn apply_retention_at(&self, now_ms: u64) -> RetentionReport {
        self.shared.apply_retention(now_ms).await
    }

    /// Entries of the run-id index (tests check that archived runs leave it).
    #[cfg(test)]
    pub(crate) fn run_index_len(&self) -> usize {
        lock(&self.shared.inner).run_index.len()
    }

    /// Announce ids a session remembers for de-duplication (tests check they stay bounded).
    #[cfg(test)]
    pub(crate) fn delivered_len(&self, key: &str) -> usize {
        lock(&self.shared.inner)
            .sessions
            .get(key)
            .map_or(0, |s| s.delivered.len())
    }

    /// Compact `key`'s journal now, keeping `keep` finished runs; `crash_after` stops after that
    /// many on-disk steps, as a crash would (memory untouched). Whether it compacted.
    #[cfg(test)]
    pub(crate) async fn compact_now(
        &self,
        key: &str,
        keep: usize,
        crash_after: Option<u8>,
    ) -> Result<bool, SessionError> {
        self.shared.compact(key, keep, now_ms(), crash_after).await
    }

    /// Stop every worker. Runs in flight are dropped without an `ended` record, so the next
    /// start re-runs them (or ends them as `interrupted`). Idempotent.
    pub async fn shutdown(&self) {
        {
            let mut inner = lock(&self.shared.inner);
            inner.closed = true;
        }
        // `send_replace`, not `send`: with no receiver subscribed yet (a task not polled so far),
        // `send` would leave the value unset and that task would wait forever.
        self.shared.shutdown_tx.send_replace(true);
        self.shared.lane_notify.notify_waiters();
        let mut set = std::mem::take(&mut *lock(&self.shared.tasks));
        while set.join_next().await.is_some() {}
    }

    fn check_runtime(&self, runtime: Option<&str>) -> Result<(), SessionError> {
        let Some(r) = runtime else { return Ok(()) };
        let cfg = lock(&self.shared.config).clone();
        if r == DEFAULT_RUNTIME || cfg.runtimes.contains_key(r) {
            Ok(())
        } else {
            let mut known: Vec<&str> = cfg.runtimes.keys().map(|s| s.as_str()).collect();
            known.push(DEFAULT_RUNTIME);
            Err(SessionError::InvalidRequest(format!(
                "unknown runtime {r:?}: configure runtimes.{r} in openclaw.json or use one of: {}",
                known.join(", ")
            )))
        }
    }
}

fn check_task(text: &str, what: &str) -> Result<(), SessionError> {
    if text.trim().is_empty() {
        return Err(SessionError::InvalidRequest(format!(
            "{what} is empty: pass the text to run"
        )));
    }
    if text.len() > MAX_TASK_BYTES {
        return Err(SessionError::InvalidRequest(format!(
            "{what} is {} bytes; the limit is {MAX_TASK_BYTES}",
            text.len()
        )));
    }
    Ok(())
}

fn aborted_before_start() -> Ending {
    Ending {
        state: RunState::Aborted,
        text: None,
        error: Some("aborted before it started".into()),
        class: None,
        retryable: false,
        thread_id: None,
    }
}

/// Resolves once a flag channel is `true` (or its sender is gone). The borrow guard never
/// crosses an await, so futures using it stay `Send`.
async fn until_set(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await.map(|_| ());
}

fn shutting_down() -> SessionError {
    SessionError::Unavailable("the gateway is shutting down; retry after it restarts".into())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock must not take every later request down with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SessionError> + Send + 'static,
) -> Result<T, SessionError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SessionError::Storage(format!("journal writer task failed: {e}")))?
}

impl Shared {
    /// The observer, if the manager was given one.
    fn observer(&self) -> Option<&dyn crate::observe::Observer> {
        self.opts.observer.as_deref()
    }

    /// Report one journal fsync (the time [`journal::append`] returned).
    fn fsynced(&self, took: Duration) {
        if let Some(o) = self.observer() {
            o.journal_fsync(took);
        }
    }

    fn journal_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.jsonl", key::file_stem(key)))
    }

    fn emit(&self, ev: SessionEvent) {
        let _ = self.events.send(ev);
    }

    fn emit_changed(&self, key: &str, reason: &'static str, run_id: Option<&str>) {
        let info = lock(&self.inner).sessions.get(key).map(|s| s.info(key));
        if let Some(session) = info {
            self.emit(SessionEvent::Changed(ChangedEvent {
                session_key: key.to_string(),
                reason,
                run_id: run_id.map(str::to_string),
                ts: now_ms(),
                session,
            }));
        }
    }

    /// Build a chat event for a run (assigning its next seq), or None if the run is unknown.
    fn chat_event(&self, run_id: &str, state: ChatState) -> Option<ChatEvent> {
        let mut inner = lock(&self.inner);
        let inner = &mut *inner;
        let run = inner.runs.get_mut(run_id)?;
        run.seq += 1;
        let s = inner.sessions.get(&run.session_key);
        Some(ChatEvent {
            run_id: run_id.to_string(),
            session_key: run.session_key.clone(),
            agent_id: s.map(|s| s.agent_id.clone()).unwrap_or_default(),
            seq: run.seq,
            state,
            phase: None,
            delta_text: None,
            message: None,
            error_message: None,
            error_class: None,
            run_state: None,
            spawned_by: s.and_then(|s| s.spawned_by.clone()),
            origin: run.origin.clone(),
        })
    }

    fn emit_run_status(&self, run_id: &str, phase: &str) {
        if let Some(mut ev) = self.chat_event(run_id, ChatState::Status) {
            ev.phase = Some(phase.to_string());
            self.emit(SessionEvent::Chat(ev));
        }
    }

    fn emit_agent(&self, run_id: &str, stream: &str, data: serde_json::Value) {
        let ev = {
            let mut inner = lock(&self.inner);
            let inner = &mut *inner;
            let Some(run) = inner.runs.get_mut(run_id) else {
                return;
            };
            run.seq += 1;
            AgentEvent {
                run_id: run_id.to_string(),
                session_key: run.session_key.clone(),
                agent_id: inner
                    .sessions
                    .get(&run.session_key)
                    .map(|s| s.agent_id.clone())
                    .unwrap_or_default(),
                stream: stream.to_string(),
                data,
                seq: run.seq,
                ts: now_ms(),
                origin: run.origin.clone(),
            }
        };
        self.emit(SessionEvent::Agent(ev));
    }
}
