//! Sessions methods (`sessions.*`, `chat.*`, `agent.wait`), the run executor backed by the
//! app-server pool, and the fan-out of session events to connections.
//!
//! # Who receives which event
//! - `chat` and `agent` events of a run go to the connection that started it (`chat.send`,
//!   `sessions.spawn`), to connections subscribed to its session (`sessions.subscribe
//!   {sessionKey}`), and to connections subscribed to everything (`sessions.subscribe {}`).
//!   The announce of a child's result (`agent` with `stream:"announce"` on the *parent's*
//!   session key) also goes to the connection that spawned the child.
//! - `sessions.changed` goes to connections subscribed to everything or to that session.
//!
//! # Runtimes
//! A run's runtime is its `runtime` param, else `agents.entries.<id>.runtime`, else
//! `agents.defaults.runtime`, else `embedded`. `embedded` (unless overridden in `runtimes`)
//! is the `openclaw-app-server` binary next to the running executable (or
//! `$OPENCLAW_APP_SERVER_BIN`). Every runtime is an app-server process shared through one
//! [`Pool`]: a run's failure fails that run only.
//!
//! # Tools for runs
//! Runs on the embedded runtime, and on runtimes configured with `dynamicTools: true` (real
//! Codex), are offered the dynamic tool `sessions_spawn` (module `tools`): a task calls
//! `"$OPENCLAW_APP_SERVER_BIN" tool sessions_spawn '{"task":…}'`, or the model calls the tool and
//! Codex sends `item/tool/call`; either way the child is spawned in process through the run's
//! `SpawnHandle`, never over WebSocket.

mod tools;

use super::{CallCtx, MethodSpec};
use crate::state::GatewayState;
use crate::wire::{self, SessionWireEvent};
use openclaw_rs_app_server::{
    CancelToken, Pool, PoolConfig, ProcessKey, RunEvent, RunSpec, RunTools,
};
use openclaw_rs_protocol::methods::gateway::{
    AgentSessions, SessionLimits, StatusSessionDefaults, StatusSessions, TaskSummary,
    TasksByRuntime, TasksByStatus,
};
use openclaw_rs_protocol::methods::sessions::{
    AgentAccepted, AgentDone, AgentMeta, AgentOutput, AgentParams, AgentPayload, AgentReply,
    AgentRuntime, AgentWaitParams, ChatAbortParams, ChatAbortResult, ChatHistoryParams,
    ChatHistoryResult, ChatSendParams, ChatSendResult, Cleanup as WireCleanup, RunResult,
    SessionDefaults, SessionRow, SessionsGetParams, SessionsGetResult, SessionsListParams,
    SessionsListResult, SessionsSpawnParams, SessionsSubscribeParams, SessionsUnsubscribeParams,
    SpawnAccepted, Subscription,
};
use openclaw_rs_protocol::{scopes, ErrorCode, ErrorShape};
use openclaw_rs_sessions::{
    BoxFuture, Cancel, Cleanup, ExecError, ExecEvent, ExecOutcome, ExecRequest, FailureClass,
    ManagerOptions, RunExecutor, RunState, SendRequest, SessionError, SessionEvent, SessionInfo,
    SessionManager, SpawnRequest,
};
use serde_json::json;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

/// Topic of connections subscribed to every session.
pub(crate) const TOPIC_ALL: &str = "sessions";
/// Default and maximum `agent.wait` timeout.
const DEFAULT_WAIT_MS: u64 = 30_000;
const MAX_WAIT_MS: u64 = 600_000;
/// The most transcript entries a history read scans (to count them and page from the end).
const HISTORY_SCAN: usize = 100_000;

/// The sessions area's part of the gateway state.
#[derive(Debug)]
pub struct Sessions {
    pub manager: SessionManager,
    /// The shared app-server processes runs execute on.
    pub pool: Pool,
    /// The runtimes' last `model/list` answers.
    pub models: super::agents::ModelCache,
}

pub(crate) fn topic_for(key: &str) -> String {
    format!("session:{key}")
}

/// Open the session store and return the event fan-out task (owned by the server's
/// background set). Called once by `serve` before accepting connections.
pub(crate) fn start(
    state: &Arc<GatewayState>,
) -> Result<impl Future<Output = ()> + Send + 'static, crate::GatewayError> {
    let pool = Pool::new(PoolConfig::default());
    let executor = Arc::new(AppServerExecutor {
        pool: pool.clone(),
        state: Arc::downgrade(state),
    });
    let opts = ManagerOptions::new(state.opts.state_dir.clone());
    let manager = SessionManager::open(opts, state.config.load_full(), executor)
        .map_err(|e| crate::GatewayError::Config(format!("cannot open the session store: {e}")))?;
    let events = manager.subscribe();
    // A restart drain pauses new runs (messages are still accepted and persisted) and waits
    // for the running ones.
    state
        .reload
        .add_drain_target(Arc::new(SessionsDrain(manager.clone())));
    let config = state.reload.subscribe_config();
    if state
        .sessions
        .set(Sessions {
            manager: manager.clone(),
            pool,
            models: Default::default(),
        })
        .is_err()
    {
        tracing::warn!("session manager was already started");
    }
    Ok(fanout(Arc::downgrade(state), manager, events, config))
}

/// The sessions manager as seen by a restart drain.
#[derive(Debug)]
struct SessionsDrain(SessionManager);

impl crate::reload::DrainTarget for SessionsDrain {
    fn set_paused(&self, paused: bool) {
        self.0.set_draining(paused);
    }

    fn in_flight(&self) -> usize {
        self.0.running_runs()
    }
}

/// Stop runs (they re-run after the next start) and the app-server processes.
pub(crate) async fn stop(state: &GatewayState) {
    if let Some(s) = state.sessions.get() {
        s.manager.shutdown().await;
        s.pool.shutdown().await;
    }
}

/// Forward session events to connections; apply config changes (limits, runtimes) to the
/// manager as the reload area publishes them.
async fn fanout(
    state: Weak<GatewayState>,
    manager: SessionManager,
    mut events: tokio::sync::broadcast::Receiver<SessionEvent>,
    mut config: tokio::sync::watch::Receiver<Arc<openclaw_rs_config::Config>>,
) {
    use tokio::sync::broadcast::error::RecvError;
    let mut config_open = true;
    loop {
        let received = tokio::select! {
            r = events.recv() => r,
            c = config.changed(), if config_open => {
                match c {
                    Ok(()) => {
                        let cfg = config.borrow_and_update().clone();
                        manager.sync_config(cfg);
                    }
                    Err(_) => config_open = false,
                }
                continue;
            }
        };
        let ev = match received {
            Ok(ev) => ev,
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(
                    skipped = n,
                    "session events overflowed the fan-out buffer; some were not delivered"
                );
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let Some(state) = state.upgrade() else { return };
        let topic = topic_for(ev.session_key());
        let origin = ev.origin().cloned();
        let to = |c: &crate::state::Connection| {
            origin.as_deref() == Some(c.id())
                || c.is_subscribed(TOPIC_ALL)
                || c.is_subscribed(&topic)
        };
        if let SessionEvent::Changed(c) = &ev {
            if matches!(c.reason, "message" | "run.ended" | "announce") {
                super::session_views::deliver_new_message(&state, c);
            }
        }
        match wire::session_event(&ev) {
            SessionWireEvent::Chat(e) => state.broadcast_where(&e, to),
            SessionWireEvent::Agent(e) => state.broadcast_where(&e, to),
            SessionWireEvent::Changed(e) => state.broadcast_where(&*e, to),
        };
    }
}

/// Send a `chat` event the way the fan-out sends a run's: to the connection `origin`, to the
/// session's subscribers and to connections subscribed to every session.
pub(crate) fn deliver_chat(
    state: &GatewayState,
    origin: &str,
    ev: &openclaw_rs_protocol::methods::sessions::ChatEvent,
) {
    let topic = topic_for(&ev.session_key);
    state.broadcast_where(ev, |c| {
        c.id() == origin || c.is_subscribed(TOPIC_ALL) || c.is_subscribed(&topic)
    });
}

/// The canonical key of a session key as OpenClaw's clients type it (see `docs/sessions.md`):
/// `agent:<agentId>:<rest>` keys are taken as they are (and must be keys this engine knows);
/// `main` (and `global`) name the agent's main session; any other key `<rest>` is
/// `agent:<agentId>:<rest>` (agent `main` unless `agentId` is given), as the Node gateway maps
/// `openclaw agent --session <rest>`.
pub(crate) fn canonical_key(raw: &str, agent: Option<&str>) -> Result<String, ErrorShape> {
    openclaw_rs_sessions::canonical_key(raw, agent).map_err(error_shape)
}

/// The `sessions` and `tasks` sections of `status`, from one listing of the sessions: counts an
/// operator needs to judge the run queue, in OpenClaw's shape plus ours.
pub fn status_sections(state: &GatewayState) -> (StatusSessions, TaskSummary) {
    let dir = state.opts.state_dir.join("sessions").display().to_string();
    let Some(s) = state.sessions.get() else {
        let sessions = StatusSessions {
            started: false,
            paths: vec![dir],
            count: 0,
            defaults: StatusSessionDefaults::default(),
            recent: Vec::new(),
            by_agent: Vec::new(),
            running: None,
            queued: None,
            pending_announces: None,
            app_server_pids: None,
            limits: None,
        };
        return (sessions, task_summary(&[]));
    };
    let list = s.manager.list();
    let limits = s.manager.limits();
    // OpenClaw's `sessions.byAgent` rows (its CLI's `status` reads them).
    let mut by_agent: std::collections::BTreeMap<&str, usize> = Default::default();
    for i in &list {
        *by_agent.entry(i.agent_id.as_str()).or_default() += 1;
    }
    let by_agent = by_agent
        .into_iter()
        .map(|(agent, count)| AgentSessions {
            agent_id: agent.to_owned(),
            path: dir.clone(),
            count,
            recent: Vec::new(),
        })
        .collect();
    let sessions = StatusSessions {
        started: true,
        paths: vec![dir],
        count: list.len(),
        defaults: StatusSessionDefaults::default(),
        recent: Vec::new(),
        by_agent,
        running: Some(list.iter().filter(|i| i.running_run_id.is_some()).count()),
        queued: Some(list.iter().map(|i| i.queued).sum()),
        pending_announces: Some(list.iter().map(|i| i.pending_announces).sum()),
        app_server_pids: Some(s.pool.live_pids()),
        limits: Some(SessionLimits {
            max_spawn_depth: limits.max_spawn_depth,
            max_children_per_session: limits.max_children_per_session,
            max_concurrent_subagent_runs: limits.max_concurrent_subagent_runs,
        }),
    };
    (sessions, task_summary(&list))
}

/// OpenClaw's `status.tasks` summary, filled with this gateway's active subagent runs (runs of
/// sessions at depth ≥ 1). Finished runs are not counted: `total` is the active count.
fn task_summary(list: &[SessionInfo]) -> TaskSummary {
    let (mut queued, mut running) = (0usize, 0usize);
    for i in list.iter().filter(|i| i.depth > 0) {
        queued += i.queued;
        running += usize::from(i.running_run_id.is_some());
    }
    let active = queued + running;
    TaskSummary {
        total: active,
        active,
        by_status: TasksByStatus {
            queued,
            running,
            ..TasksByStatus::default()
        },
        by_runtime: TasksByRuntime {
            subagent: active,
            ..TasksByRuntime::default()
        },
        ..TaskSummary::default()
    }
}

/// Map a sessions error to the wire.
pub fn error_shape(e: SessionError) -> ErrorShape {
    match e {
        SessionError::Limit(v) => ErrorShape::new(ErrorCode::Forbidden, v.to_string())
            .with_details(json!({
                "code": "LIMIT_EXCEEDED",
                "limit": v.kind.as_str(),
                "setting": v.kind.setting(),
                "value": v.value,
                "max": v.max,
            })),
        SessionError::Unavailable(m) => {
            ErrorShape::new(ErrorCode::Unavailable, m).retry_after(Some(1000))
        }
        SessionError::Storage(m) => {
            ErrorShape::new(ErrorCode::Unavailable, format!("session storage: {m}"))
                .retry_after(Some(1000))
        }
        other => ErrorShape::new(ErrorCode::InvalidRequest, other.to_string()),
    }
}

pub(crate) fn manager(state: &GatewayState) -> Result<&SessionManager, ErrorShape> {
    let s = state.sessions.get().ok_or_else(|| {
        ErrorShape::new(ErrorCode::Unavailable, "sessions are not started yet")
            .retry_after(Some(500))
    })?;
    s.manager.sync_config(state.config.load_full());
    Ok(&s.manager)
}

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(sessions_spawn),
        MethodSpec::typed(sessions_list),
        MethodSpec::typed(sessions_get),
        MethodSpec::typed(sessions_subscribe),
        MethodSpec::typed(sessions_unsubscribe),
        MethodSpec::typed(chat_send),
        MethodSpec::typed(chat_abort),
        MethodSpec::typed(chat_history),
        MethodSpec::typed(agent_wait),
        MethodSpec::typed(agent_turn),
    ]
}

async fn sessions_spawn(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    p: SessionsSpawnParams,
) -> Result<SpawnAccepted, ErrorShape> {
    let timeout = p
        .run_timeout_seconds
        .or(p.timeout_seconds)
        .filter(|s| *s > 0)
        .map(Duration::from_secs);
    let req = SpawnRequest {
        task: p.task.into(),
        agent_id: p.agent_id.map(String::from),
        model: p.model.map(String::from),
        runtime: p.runtime.map(String::from),
        label: p.label,
        run_timeout: timeout,
        cleanup: match p.cleanup.unwrap_or_default() {
            WireCleanup::Keep => Cleanup::Keep,
            WireCleanup::Delete => Cleanup::Delete,
        },
        parent_session_key: p.parent_session_key.map(String::from),
        origin: Some(Arc::from(ctx.conn_id())),
        idempotency_key: p.idempotency_key.map(String::from),
    };
    let acc = manager(&state)?.spawn(req).await.map_err(error_shape)?;
    Ok(SpawnAccepted {
        status: "accepted".into(),
        run_id: acc.run_id,
        child_session_key: acc.child_session_key,
        duplicate: acc.duplicate,
    })
}

async fn sessions_list(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: SessionsListParams,
) -> Result<SessionsListResult, ErrorShape> {
    let limit = p.limit.unwrap_or(100).clamp(1, 10_000) as usize;
    let offset = p.offset.unwrap_or(0) as usize;
    let agent = p.agent_id;
    let spawned_by = p.spawned_by;
    let exclude_sub = p.exclude_subagents.unwrap_or(false);
    let all: Vec<SessionInfo> = manager(&state)?
        .list()
        .into_iter()
        .filter(|s| agent.as_deref().is_none_or(|a| a == s.agent_id))
        .filter(|s| {
            spawned_by
                .as_deref()
                .is_none_or(|p| s.spawned_by.as_deref() == Some(p))
        })
        .filter(|s| !exclude_sub || s.depth == 0)
        .collect();
    let total = all.len();
    let mut sessions: Vec<SessionRow> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(wire::session_row)
        .collect();
    super::agents::fill_models(&state.config.load(), &mut sessions);
    let next = offset + sessions.len();
    Ok(SessionsListResult {
        ts: crate::state::now_ms(),
        path: state.opts.state_dir.join("sessions").display().to_string(),
        count: sessions.len(),
        total_count: total,
        limit_applied: limit,
        has_more: next < total,
        next_offset: (next < total).then_some(next),
        defaults: session_defaults(&state),
        sessions,
    })
}

/// What a new session of the default agent runs with.
pub(crate) fn session_defaults(state: &GatewayState) -> SessionDefaults {
    let cfg = state.config.load();
    let (id, source) = super::agents::agent_runtime(&cfg, "main");
    SessionDefaults {
        model: super::agents::agent_model(&cfg, "main", &id),
        model_provider: Some(id.clone()),
        context_tokens: None,
        agent_runtime: AgentRuntime {
            id,
            source: source.into(),
        },
        model_selection_target: "session".into(),
        thinking_levels: Vec::new(),
        thinking_options: Vec::new(),
    }
}

/// A known session key, or the error that says how to find one.
fn known_key(key: &str) -> Result<(), ErrorShape> {
    openclaw_rs_sessions::parse_key(key)
        .map(|_| ())
        .map_err(error_shape)
}

async fn sessions_get(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: SessionsGetParams,
) -> Result<SessionsGetResult, ErrorShape> {
    let key = p.session_key.ok_or_else(|| {
        ErrorShape::invalid_params("sessions.get", "must have required property 'sessionKey'")
    })?;
    known_key(&key)?;
    let s = manager(&state)?.get(&key).ok_or_else(|| {
        ErrorShape::new(
            ErrorCode::InvalidRequest,
            format!("unknown session {key:?}: see sessions.list"),
        )
    })?;
    Ok(SessionsGetResult {
        session: wire::session_row(&s),
    })
}

async fn sessions_subscribe(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    p: SessionsSubscribeParams,
) -> Result<Subscription, ErrorShape> {
    manager(&state)?;
    match p.session_key {
        Some(key) => {
            known_key(&key)?;
            ctx.subscribe(&topic_for(&key));
            Ok(Subscription {
                subscribed: true,
                session_key: Some(key.into()),
            })
        }
        None => {
            ctx.subscribe(TOPIC_ALL);
            Ok(Subscription {
                subscribed: true,
                session_key: None,
            })
        }
    }
}

async fn sessions_unsubscribe(
    _state: Arc<GatewayState>,
    ctx: CallCtx,
    p: SessionsUnsubscribeParams,
) -> Result<Subscription, ErrorShape> {
    match p.session_key {
        Some(key) => ctx.connection().unsubscribe(&topic_for(&key)),
        None => ctx.connection().unsubscribe(TOPIC_ALL),
    }
    Ok(Subscription {
        subscribed: false,
        session_key: None,
    })
}

async fn chat_send(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    p: ChatSendParams,
) -> Result<ChatSendResult, ErrorShape> {
    let key = canonical_key(&p.session_key, p.agent_id.as_deref())?;
    if let Some(reply) = super::chat::try_command(&state, &ctx, &key, &p).await {
        return reply;
    }
    // The run's events reach this connection after it has read this answer.
    ctx.connection().hold_events_until_read(ctx.request_id());
    let req = SendRequest {
        session_key: key,
        message: p.message,
        idempotency_key: Some(p.idempotency_key.into()),
        model: p.model,
        runtime: p.runtime,
        timeout: p.timeout_ms.filter(|m| *m > 0).map(Duration::from_millis),
        origin: Some(Arc::from(ctx.conn_id())),
    };
    let acc = manager(&state)?.send(req).await.map_err(error_shape)?;
    Ok(ChatSendResult {
        run_id: acc.run_id,
        status: "started".into(),
        duplicate: acc.duplicate,
        run_status: acc.duplicate.then(|| acc.state.as_str().to_owned()),
    })
}

async fn chat_abort(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: ChatAbortParams,
) -> Result<ChatAbortResult, ErrorShape> {
    let key = canonical_key(&p.session_key, p.agent_id.as_deref())?;
    let run_ids = manager(&state)?
        .abort(&key, p.run_id.as_deref())
        .await
        .map_err(error_shape)?;
    Ok(ChatAbortResult {
        ok: true,
        aborted: !run_ids.is_empty(),
        run_ids,
    })
}

async fn chat_history(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: ChatHistoryParams,
) -> Result<ChatHistoryResult, ErrorShape> {
    let limit = p.limit.unwrap_or(200).clamp(1, 10_000) as usize;
    let key = canonical_key(&p.session_key, p.agent_id.as_deref())?;
    history_result(&state, &key, limit).await
}

/// The last `limit` messages of a session with its row and the defaults (`chat.history`,
/// `chat.startup`). An agent's main session that has no message yet has an empty history.
pub(crate) async fn history_result(
    state: &GatewayState,
    key: &str,
    limit: usize,
) -> Result<ChatHistoryResult, ErrorShape> {
    let parsed = openclaw_rs_sessions::parse_key(key).map_err(error_shape)?;
    let mgr = manager(state)?;
    let entries = match mgr.history(key, HISTORY_SCAN).await {
        Ok(e) => e,
        Err(SessionError::NotFound(_))
            if parsed.kind != openclaw_rs_sessions::KeyKind::Subagent =>
        {
            Vec::new()
        }
        Err(e) => return Err(error_shape(e)),
    };
    // Entries carry their position in the whole transcript: the last one's is the count.
    let total = entries.last().map_or(0, |e| e.seq as usize);
    let skip = entries.len().saturating_sub(limit);
    let mut info = [mgr
        .get(key)
        .as_ref()
        .map(wire::session_row)
        .unwrap_or_else(|| wire::unstarted_row(key, &parsed))];
    super::agents::fill_models(&state.config.load(), &mut info);
    let [info] = info;
    Ok(ChatHistoryResult {
        session_key: key.to_owned(),
        messages: entries[skip..].iter().map(wire::history_message).collect(),
        pending_inputs: Default::default(),
        has_more: entries.get(skip).is_some_and(|e| e.seq > 1),
        total_messages: total,
        defaults: session_defaults(state),
        session_info: Some(info),
    })
}

async fn agent_wait(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: AgentWaitParams,
) -> Result<RunResult, ErrorShape> {
    let ms = p.timeout_ms.unwrap_or(DEFAULT_WAIT_MS).min(MAX_WAIT_MS);
    let snap = manager(&state)?
        .wait(&p.run_id, Duration::from_millis(ms))
        .await
        .map_err(error_shape)?;
    Ok(wire::run_result(&snap))
}

/// `agent {message, idempotencyKey, agentId?, sessionKey?, sessionId?, model?, timeout?}`:
/// OpenClaw's agent turn, as its CLI's `openclaw agent` sends it. The message goes to the session
/// like `chat.send`; the call is answered twice with the same id: `{status:"accepted", runId,
/// sessionKey, agentId}` at once, then, when the run ends, `{runId, status: ok|error|timeout,
/// summary, result:{payloads:[{text}]}}`. A retried key whose run is still going is answered
/// `status:"in_flight"`. Channel delivery (`deliver:true`) is refused: this gateway has no
/// channels. `/new` and `/reset` need `operator.admin` (OpenClaw's rule); everything else
/// `operator.write`.
async fn agent_turn(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    p: AgentParams,
) -> Result<AgentReply, ErrorShape> {
    let reset = {
        let m = p.message.trim_start().to_ascii_lowercase();
        m == "/new" || m == "/reset" || m.starts_with("/new ") || m.starts_with("/reset ")
    };
    ctx.require_scope(if reset { scopes::ADMIN } else { scopes::WRITE })?;
    if p.deliver == Some(true) {
        return Err(ErrorShape::invalid_params(
            "agent",
            "`deliver:true` needs a delivery channel and this gateway has none; drop --deliver",
        ));
    }
    let agent_id = p.agent_id.map(String::from);
    let agent = agent_id.as_deref().unwrap_or("main");
    let session_key = match (p.session_key, p.session_id) {
        (Some(k), _) => canonical_key(&k, agent_id.as_deref())?,
        // OpenClaw keys `--session-id X` as `agent:<agent>:explicit:X`.
        (None, Some(id)) if !id.is_empty() => {
            canonical_key(&format!("agent:{agent}:explicit:{id}"), agent_id.as_deref())?
        }
        (None, _) => openclaw_rs_sessions::main_key(agent),
    };
    let timeout = p.timeout.filter(|s| *s > 0).map(Duration::from_secs);
    let req = SendRequest {
        session_key: session_key.clone(),
        message: p.message.into(),
        idempotency_key: Some(p.idempotency_key.into()),
        model: p.model,
        runtime: None,
        timeout,
        origin: Some(Arc::from(ctx.conn_id())),
    };
    let mgr = manager(&state)?;
    let acc = mgr.send(req).await.map_err(error_shape)?;
    // Every branch above yields a valid key.
    let agent = openclaw_rs_sessions::parse_key(&session_key)
        .map(|k| k.agent_id)
        .unwrap_or_else(|_| "main".into());
    if acc.duplicate && !acc.state.is_terminal() {
        let snap = mgr
            .wait(&acc.run_id, Duration::ZERO)
            .await
            .map_err(error_shape)?;
        let mut run = wire::run_result(&snap);
        run.status = "in_flight".into();
        return Ok(AgentReply::Done(Box::new(AgentDone {
            run,
            summary: "already running".into(),
            agent_id: agent,
            result: None,
        })));
    }
    ctx.respond_interim(&AgentAccepted {
        run_id: acc.run_id.clone(),
        status: "accepted".into(),
        session_key: session_key.clone(),
        agent_id: agent.clone(),
        accepted_at: crate::state::now_ms(),
    });
    // Wait for the run's end in bounded slices; give up only if the caller went away.
    let snap = loop {
        let snap = mgr
            .wait(&acc.run_id, Duration::from_millis(DEFAULT_WAIT_MS))
            .await
            .map_err(error_shape)?;
        if snap.state.is_terminal() {
            break snap;
        }
        if ctx.connection().is_closed() {
            return Err(ErrorShape::new(
                ErrorCode::Unavailable,
                "the caller disconnected; the run continues (agent.wait picks it up)",
            ));
        }
    };
    let summary = match snap.state {
        RunState::Completed => "completed",
        RunState::Aborted | RunState::Timeout => "aborted",
        _ => "failed",
    };
    let text = match (&snap.text, &snap.error) {
        (Some(t), _) if !t.is_empty() => Some(t.clone()),
        (_, Some(e)) => Some(e.clone()),
        _ => None,
    };
    let payloads = text
        .map(|text| AgentPayload {
            text,
            is_error: snap.state != RunState::Completed,
        })
        .into_iter()
        .collect();
    Ok(AgentReply::Done(Box::new(AgentDone {
        run: wire::run_result(&snap),
        summary: summary.into(),
        agent_id: agent,
        result: Some(AgentOutput {
            payloads,
            meta: AgentMeta {
                duration_ms: snap
                    .ended_at
                    .zip(snap.started_at)
                    .map(|(e, s)| e.saturating_sub(s)),
                run_status: snap.state.as_str().into(),
                error_class: snap.error_class.map(|c| c.as_str().to_owned()),
            },
        }),
    })))
}

/// Runs tasks on app-server processes from the shared pool.
struct AppServerExecutor {
    pool: Pool,
    state: Weak<GatewayState>,
}

impl AppServerExecutor {
    /// `runtimes.<runtime>.sandbox`, when set.
    fn sandbox(&self, runtime: &str) -> Option<String> {
        let state = self.state.upgrade()?;
        let cfg = state.config.load();
        let mode = cfg.runtimes.get(runtime)?.sandbox?;
        Some(mode.as_str().to_owned())
    }

    fn process_key(&self, runtime: &str) -> Result<ProcessKey, ExecError> {
        let config_err = |message: String| ExecError {
            class: FailureClass::Config,
            message,
            retryable: false,
        };
        let state = self
            .state
            .upgrade()
            .ok_or_else(|| config_err("the gateway is shutting down".into()))?;
        let cfg = state.config.load();
        runtime_process_key(&cfg, runtime).map_err(config_err)
    }
}

/// The app-server process of a runtime (`runtimes.<name>`, or the built-in `embedded`), or why
/// the config does not describe one.
pub(crate) fn runtime_process_key(
    cfg: &openclaw_rs_config::Config,
    runtime: &str,
) -> Result<ProcessKey, String> {
    match cfg.runtimes.get(runtime) {
        Some(rt) => {
            if !rt.kind.is_empty() && rt.kind != "app-server" {
                return Err(format!(
                    "runtimes.{runtime}.kind is {:?}; only \"app-server\" is supported",
                    rt.kind
                ));
            }
            if rt.command.is_empty() {
                return Err(format!(
                    "runtimes.{runtime}.command is empty; set it to the program and its arguments"
                ));
            }
            if let Some(home) = rt.home.as_ref().filter(|h| !h.is_absolute()) {
                return Err(format!(
                    "runtimes.{runtime}.home is {}, a relative path; make it absolute",
                    home.display()
                ));
            }
            Ok(ProcessKey {
                command: rt.command.clone(),
                env: rt.env.clone(),
                home: rt.home.clone(),
                auth_identity: rt.auth_profile.clone(),
                experimental_api: rt.dynamic_tools,
            })
        }
        None if runtime == openclaw_rs_sessions::DEFAULT_RUNTIME => {
            Ok(ProcessKey::new(vec![embedded_binary()
                .to_string_lossy()
                .into_owned()]))
        }
        None => Err(format!(
            "unknown runtime {runtime:?}: configure runtimes.{runtime} in openclaw.json"
        )),
    }
}

/// `$OPENCLAW_APP_SERVER_BIN`, else `openclaw-app-server` next to the running executable
/// (or one directory up, for test executables in `target/<profile>/deps`).
pub fn embedded_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("OPENCLAW_APP_SERVER_BIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    const NAME: &str = "openclaw-app-server";
    let exe = std::env::current_exe().ok();
    let dir = exe.as_deref().and_then(|e| e.parent());
    if let Some(dir) = dir {
        let here = dir.join(NAME);
        if here.is_file() {
            return here;
        }
        if let Some(up) = dir.parent().map(|u| u.join(NAME)) {
            if up.is_file() {
                return up;
            }
        }
        return here;
    }
    PathBuf::from(NAME)
}

/// Whether runs on `key` are offered the gateway's dynamic tools: runtimes configured with
/// `dynamicTools: true` (their processes negotiate Codex's `experimentalApi`), and the embedded
/// runtime, which takes them without it and is recognised by its program name
/// (`openclaw-app-server`, default or configured).
fn takes_dynamic_tools(key: &ProcessKey) -> bool {
    key.experimental_api
        || key.command.first().is_some_and(|program| {
            std::path::Path::new(program)
                .file_name()
                .is_some_and(|n| n == "openclaw-app-server")
        })
}

fn map_event(ev: RunEvent) -> ExecEvent {
    match ev {
        RunEvent::Delta { text } => ExecEvent::Delta { text },
        RunEvent::Item { kind, data } => ExecEvent::Item { kind, data },
        RunEvent::ThreadStarted { thread_id } => ExecEvent::Status {
            phase: "thread_started".into(),
            message: Some(thread_id),
        },
        RunEvent::TurnStarted { turn_id } => ExecEvent::Status {
            phase: "turn_started".into(),
            message: Some(turn_id),
        },
        RunEvent::Retrying { message } => ExecEvent::Status {
            phase: "retrying".into(),
            message: Some(message),
        },
    }
}

impl RunExecutor for AppServerExecutor {
    fn execute(
        &self,
        req: ExecRequest,
        events: mpsc::Sender<ExecEvent>,
        mut cancel: Cancel,
    ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>> {
        let key = self.process_key(&req.runtime);
        let sandbox = self.sandbox(&req.runtime);
        let pool = self.pool.clone();
        // Auth-profile cooldowns and failover (reload area): pick a profile not cooling down
        // in this run's lane; a failure is recorded in that lane only.
        let weak = self.state.clone();
        let auth = match weak.upgrade() {
            Some(st) => crate::reload::select_run_auth(
                &st,
                &req.runtime,
                req.model.as_deref(),
                req.spawned_by.is_some(),
            ),
            None => Ok(None),
        };
        Box::pin(async move {
            let mut key = key?;
            let auth = auth.map_err(|message| ExecError {
                class: FailureClass::RateLimit,
                message,
                retryable: false,
            })?;
            if let Some(a) = &auth {
                key.auth_identity = Some(a.profile.clone());
                key.env.extend(a.env.clone());
            }
            if let Err(e) = std::fs::create_dir_all(&req.cwd) {
                return Err(ExecError {
                    class: FailureClass::Config,
                    message: format!("cannot create workspace {}: {e}", req.cwd.display()),
                    retryable: false,
                });
            }
            let mut spec = RunSpec {
                task: req.task,
                model: req.model,
                cwd: req.cwd,
                timeout: req.timeout,
                thread_id: req.resume_thread_id,
                sandbox,
            };
            let run_tools = if takes_dynamic_tools(&key) {
                let now = tokio::time::Instant::now();
                let deadline = now
                    .checked_add(req.timeout)
                    .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
                RunTools::new(
                    tools::specs(),
                    Arc::new(tools::RunToolHandler::new(req.spawner.clone(), deadline)),
                )
            } else {
                RunTools::none()
            };
            let token = CancelToken::new();
            let mut cancelled = false;
            let result = loop {
                let (tx, mut rx) = mpsc::channel::<RunEvent>(256);
                let resuming = spec.thread_id.is_some();
                let run = openclaw_rs_app_server::execute_with_tools(
                    &pool,
                    &key,
                    spec.clone(),
                    run_tools.clone(),
                    tx,
                    token.clone(),
                );
                tokio::pin!(run);
                let mut thread_opened = false;
                let result = loop {
                    tokio::select! {
                        r = &mut run => break r,
                        Some(ev) = rx.recv() => {
                            thread_opened |= matches!(ev, RunEvent::ThreadStarted { .. });
                            let _ = events.send(map_event(ev)).await;
                        }
                        _ = cancel.cancelled(), if !cancelled => {
                            cancelled = true;
                            token.cancel();
                        }
                    }
                };
                while let Ok(ev) = rx.try_recv() {
                    thread_opened |= matches!(ev, RunEvent::ThreadStarted { .. });
                    let _ = events.send(map_event(ev)).await;
                }
                // The previous thread is gone (its process was replaced, or it never existed
                // there): nothing ran yet, so continue in a fresh thread.
                let refused_resume = resuming
                    && !thread_opened
                    && !cancelled
                    && matches!(&result, Err(e) if !matches!(
                        e.class,
                        openclaw_rs_app_server::FailureClass::Interrupted
                            | openclaw_rs_app_server::FailureClass::Timeout
                    ));
                if refused_resume {
                    if let Err(e) = &result {
                        tracing::info!(error = %e, "cannot resume the session's thread; starting a new one");
                    }
                    spec.thread_id = None;
                    continue;
                }
                break result;
            };
            match result {
                Ok(out) => Ok(ExecOutcome {
                    final_text: out.final_text,
                    thread_id: Some(out.thread_id),
                }),
                Err(e) => Err({
                    if let (Some(a), Some(st)) = (&auth, weak.upgrade()) {
                        crate::reload::record_run_failure(&st, a, e.class);
                    }
                    ExecError {
                        class: e.class,
                        message: match e.http_status {
                            Some(code) => format!("{} (HTTP {code})", e.message),
                            None => e.message,
                        },
                        retryable: e.retryable,
                    }
                }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_rs_sessions::{LimitKind, LimitViolation};

    #[test]
    fn limit_errors_are_forbidden_with_the_setting() {
        let e = error_shape(SessionError::Limit(LimitViolation {
            kind: LimitKind::ChildrenPerSession,
            value: 6,
            max: 5,
        }));
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(
            e.message.contains("session.maxChildrenPerSession = 5"),
            "{e}"
        );
        let d = e.details.unwrap();
        assert_eq!(d["code"], "LIMIT_EXCEEDED");
        assert_eq!(d["limit"], "maxChildrenPerSession");
        assert_eq!(d["value"], 6);
        let e = error_shape(SessionError::Storage("disk full".into()));
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert_eq!(e.retryable, Some(true));
        let e = error_shape(SessionError::NotFound("unknown runId".into()));
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }
}
