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
use openclaw_app_server::{CancelToken, Pool, PoolConfig, ProcessKey, RunEvent, RunSpec, RunTools};
use openclaw_protocol::{scopes, ErrorCode, ErrorShape};
use openclaw_sessions::{
    BoxFuture, Cancel, ChatState, Cleanup, ExecError, ExecEvent, ExecOutcome, ExecRequest,
    FailureClass, ManagerOptions, RunExecutor, RunSnapshot, RunState, SendRequest, SessionError,
    SessionEvent, SessionInfo, SessionManager, SpawnRequest, TranscriptEntry,
};
use serde_json::{json, Map, Value};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

/// Topic of connections subscribed to every session.
const TOPIC_ALL: &str = "sessions";
/// Default and maximum `agent.wait` timeout.
const DEFAULT_WAIT_MS: u64 = 30_000;
const MAX_WAIT_MS: u64 = 600_000;

/// The sessions area's part of the gateway state.
#[derive(Debug)]
pub struct Sessions {
    pub manager: SessionManager,
    /// The shared app-server processes runs execute on.
    pub pool: Pool,
}

fn topic_for(key: &str) -> String {
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
    mut config: tokio::sync::watch::Receiver<Arc<openclaw_config::Config>>,
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
        let (name, payload) = wire_event(&ev);
        let topic = topic_for(ev.session_key());
        let origin = ev.origin().cloned();
        state.broadcast_where(name, &payload, |c| {
            origin.as_deref() == Some(c.id())
                || c.is_subscribed(TOPIC_ALL)
                || c.is_subscribed(&topic)
        });
    }
}

/// A session event as its wire event name and payload.
pub fn wire_event(ev: &SessionEvent) -> (&'static str, Value) {
    match ev {
        SessionEvent::Chat(c) => {
            let mut p = Map::new();
            p.insert("runId".into(), json!(c.run_id));
            p.insert("sessionKey".into(), json!(c.session_key));
            p.insert("agentId".into(), json!(c.agent_id));
            p.insert("seq".into(), json!(c.seq));
            p.insert("state".into(), json!(c.state.as_str()));
            if let Some(v) = &c.phase {
                p.insert("phase".into(), json!(v));
            }
            if let Some(v) = &c.delta_text {
                p.insert("deltaText".into(), json!(v));
            }
            if c.state == ChatState::Final {
                p.insert(
                    "message".into(),
                    json!({
                        "role": "assistant",
                        "content": [{"type": "text", "text": c.message.clone().unwrap_or_default()}],
                    }),
                );
            }
            if let Some(v) = &c.error_message {
                p.insert("errorMessage".into(), json!(v));
            }
            if let Some(v) = c.error_class {
                p.insert("errorClass".into(), json!(v.as_str()));
            }
            if let Some(v) = c.run_state {
                p.insert("status".into(), json!(v.as_str()));
            }
            if let Some(v) = &c.spawned_by {
                p.insert("spawnedBy".into(), json!(v));
            }
            ("chat", Value::Object(p))
        }
        SessionEvent::Agent(a) => (
            "agent",
            json!({
                "runId": a.run_id,
                "stream": a.stream,
                "data": a.data,
                "sessionKey": a.session_key,
                "agentId": a.agent_id,
                "seq": a.seq,
                "ts": a.ts,
            }),
        ),
        SessionEvent::Changed(c) => (
            "sessions.changed",
            json!({
                "sessionKey": c.session_key,
                "agentId": c.session.agent_id,
                "reason": c.reason,
                "runId": c.run_id,
                "ts": c.ts,
                "session": session_row(&c.session),
            }),
        ),
    }
}

/// The `sessions` and `tasks` sections of `status`, from one listing of the sessions: counts an
/// operator needs to judge the run queue, in OpenClaw's shape plus ours.
pub fn status_sections(state: &GatewayState) -> (Value, Value) {
    let dir = state.opts.state_dir.join("sessions").display().to_string();
    let Some(s) = state.sessions.get() else {
        let sessions = json!({
            "started": false, "count": 0, "paths": [dir],
            "defaults": {"model": null, "contextTokens": null}, "recent": [], "byAgent": [],
        });
        return (sessions, task_summary(&[]));
    };
    let list = s.manager.list();
    let limits = s.manager.limits();
    // OpenClaw's `sessions.byAgent` rows (its CLI's `status` reads them).
    let mut by_agent: std::collections::BTreeMap<&str, usize> = Default::default();
    for i in &list {
        *by_agent.entry(i.agent_id.as_str()).or_default() += 1;
    }
    let by_agent: Vec<Value> = by_agent
        .into_iter()
        .map(|(agent, count)| json!({"agentId": agent, "path": dir, "count": count, "recent": []}))
        .collect();
    let sessions = json!({
        "started": true,
        "paths": [dir],
        "defaults": {"model": null, "contextTokens": null},
        "recent": [],
        "byAgent": by_agent,
        "count": list.len(),
        "running": list.iter().filter(|i| i.running_run_id.is_some()).count(),
        "queued": list.iter().map(|i| i.queued).sum::<usize>(),
        "pendingAnnounces": list.iter().map(|i| i.pending_announces).sum::<usize>(),
        "appServerPids": s.pool.live_pids(),
        "limits": {
            "maxSpawnDepth": limits.max_spawn_depth,
            "maxChildrenPerSession": limits.max_children_per_session,
            "maxConcurrentSubagentRuns": limits.max_concurrent_subagent_runs,
        },
    });
    (sessions, task_summary(&list))
}

/// OpenClaw's `status.tasks` summary, filled with this gateway's active subagent runs (runs of
/// sessions at depth ≥ 1). Finished runs are not counted: `total` is the active count.
fn task_summary(list: &[SessionInfo]) -> Value {
    let (mut queued, mut running) = (0usize, 0usize);
    for i in list.iter().filter(|i| i.depth > 0) {
        queued += i.queued;
        running += usize::from(i.running_run_id.is_some());
    }
    let active = queued + running;
    json!({
        "total": active, "active": active, "terminal": 0, "failures": 0,
        "byStatus": {
            "queued": queued, "running": running, "succeeded": 0, "failed": 0,
            "timed_out": 0, "cancelled": 0, "lost": 0,
        },
        "byRuntime": {"subagent": active, "acp": 0, "cli": 0, "cron": 0},
    })
}

/// One `sessions.list` row.
pub fn session_row(s: &SessionInfo) -> Value {
    json!({
        "key": s.key,
        "sessionKey": s.key,
        "agentId": s.agent_id,
        "kind": match s.kind {
            openclaw_sessions::KeyKind::Main => "main",
            _ => "subagent",
        },
        "spawnedBy": s.spawned_by,
        "depth": s.depth,
        "label": s.label,
        "createdAt": s.created_at,
        "updatedAt": s.updated_at,
        "status": s.status(),
        "runningRunId": s.running_run_id,
        "queued": s.queued,
        "lastRunId": s.last_run_id,
        "lastRunStatus": s.last_run_state.map(|r| r.as_str()),
        "children": s.children,
        "pendingAnnounces": s.pending_announces,
    })
}

fn run_payload(r: &RunSnapshot) -> Value {
    json!({
        "runId": r.run_id,
        "sessionKey": r.session_key,
        "status": r.state.as_str(),
        "attempts": r.attempts,
        "createdAt": r.created_at,
        "startedAt": r.started_at,
        "endedAt": r.ended_at,
        "text": r.text,
        "error": r.error,
        "errorClass": r.error_class.map(|c| c.as_str()),
        "retryable": r.retryable,
        "spawnedBy": r.spawned_by,
    })
}

fn history_message(e: &TranscriptEntry) -> Value {
    json!({
        "role": e.role,
        "content": [{"type": "text", "text": e.text}],
        "timestamp": e.ts,
        "runId": e.run_id,
        "status": e.state.map(|s| s.as_str()),
        "errorClass": e.error_class.map(|c| c.as_str()),
        "childSessionKey": e.child_session_key,
        "announceId": e.announce_id,
    })
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

fn manager(state: &GatewayState) -> Result<&SessionManager, ErrorShape> {
    let s = state.sessions.get().ok_or_else(|| {
        ErrorShape::new(ErrorCode::Unavailable, "sessions are not started yet")
            .retry_after(Some(500))
    })?;
    s.manager.sync_config(state.config.load_full());
    Ok(&s.manager)
}

/// Params reader that names the method and field in every error.
#[derive(Debug)]
struct Params<'a> {
    method: &'static str,
    v: &'a Value,
}

impl<'a> Params<'a> {
    fn new(method: &'static str, v: &'a Value) -> Result<Self, ErrorShape> {
        if !(v.is_object() || v.is_null()) {
            return Err(ErrorShape::invalid_params(
                method,
                "params must be an object",
            ));
        }
        Ok(Params { method, v })
    }

    fn opt_str(&self, name: &str) -> Result<Option<String>, ErrorShape> {
        match self.v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ErrorShape::invalid_params(
                self.method,
                format!("`{name}` must be a string"),
            )),
        }
    }

    /// The required `idempotencyKey`, with an error that says what it is for (`per`: what each
    /// key names, e.g. "message").
    fn idempotency_key(&self, per: &str) -> Result<String, ErrorShape> {
        self.opt_str("idempotencyKey")?.ok_or_else(|| {
            ErrorShape::invalid_params(
                self.method,
                format!(
                    "`idempotencyKey` is required (a unique id per {per}; reuse it when retrying)"
                ),
            )
        })
    }

    fn str(&self, name: &str) -> Result<String, ErrorShape> {
        self.opt_str(name)?
            .ok_or_else(|| ErrorShape::invalid_params(self.method, format!("`{name}` is required")))
    }

    fn opt_u64(&self, name: &str) -> Result<Option<u64>, ErrorShape> {
        match self.v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                ErrorShape::invalid_params(
                    self.method,
                    format!("`{name}` must be a non-negative integer"),
                )
            }),
        }
    }

    fn opt_bool(&self, name: &str) -> Result<Option<bool>, ErrorShape> {
        match self.v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ErrorShape::invalid_params(
                self.method,
                format!("`{name}` must be a boolean"),
            )),
        }
    }

    /// `sessionKey`, accepting `key` as an alias.
    fn session_key(&self) -> Result<Option<String>, ErrorShape> {
        Ok(self.opt_str("sessionKey")?.or(self.opt_str("key")?))
    }
}

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::new("sessions.spawn", scopes::WRITE, sessions_spawn),
        MethodSpec::new("sessions.list", scopes::READ, sessions_list),
        MethodSpec::new("sessions.get", scopes::READ, sessions_get),
        MethodSpec::new("sessions.subscribe", scopes::READ, sessions_subscribe),
        MethodSpec::new("sessions.unsubscribe", scopes::READ, sessions_unsubscribe),
        MethodSpec::new("chat.send", scopes::WRITE, chat_send),
        MethodSpec::new("chat.abort", scopes::WRITE, chat_abort),
        MethodSpec::new("chat.history", scopes::READ, chat_history),
        MethodSpec::new("agent.wait", scopes::WRITE, agent_wait),
        MethodSpec::new("agent", scopes::WRITE, agent_turn),
    ]
}

async fn sessions_spawn(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let p = Params::new("sessions.spawn", &params)?;
    let cleanup = match p.opt_str("cleanup")?.as_deref() {
        None | Some("keep") => Cleanup::Keep,
        Some("delete") => Cleanup::Delete,
        Some(other) => {
            return Err(ErrorShape::invalid_params(
                "sessions.spawn",
                format!("`cleanup` must be \"keep\" or \"delete\", not {other:?}"),
            ))
        }
    };
    let timeout = p
        .opt_u64("runTimeoutSeconds")?
        .or(p.opt_u64("timeoutSeconds")?)
        .filter(|s| *s > 0)
        .map(Duration::from_secs);
    let req = SpawnRequest {
        task: p.str("task")?,
        agent_id: p.opt_str("agentId")?,
        model: p.opt_str("model")?,
        runtime: p.opt_str("runtime")?,
        label: p.opt_str("label")?,
        run_timeout: timeout,
        cleanup,
        parent_session_key: p.opt_str("parentSessionKey")?,
        origin: Some(Arc::from(ctx.conn_id())),
        idempotency_key: p.opt_str("idempotencyKey")?,
    };
    let acc = manager(&state)?.spawn(req).await.map_err(error_shape)?;
    let mut out = json!({
        "status": "accepted",
        "runId": acc.run_id,
        "childSessionKey": acc.child_session_key,
    });
    if acc.duplicate {
        out["duplicate"] = json!(true);
    }
    Ok(out)
}

async fn sessions_list(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let p = Params::new("sessions.list", &params)?;
    let limit = p.opt_u64("limit")?.unwrap_or(100).clamp(1, 10_000) as usize;
    let offset = p.opt_u64("offset")?.unwrap_or(0) as usize;
    let agent = p.opt_str("agentId")?;
    let spawned_by = p.opt_str("spawnedBy")?;
    let exclude_sub = p.opt_bool("excludeSubagents")?.unwrap_or(false);
    let all: Vec<SessionInfo> = manager(&state)?
        .list()
        .into_iter()
        .filter(|s| agent.as_deref().is_none_or(|a| a == s.agent_id))
        .filter(|s| spawned_by.is_none() || s.spawned_by == spawned_by)
        .filter(|s| !exclude_sub || s.depth == 0)
        .collect();
    let total = all.len();
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(session_row)
        .collect();
    let next = offset + page.len();
    Ok(json!({
        "ts": crate::state::now_ms(),
        "count": page.len(),
        "totalCount": total,
        "limitApplied": limit,
        "hasMore": next < total,
        "nextOffset": (next < total).then_some(next),
        "sessions": page,
    }))
}

async fn sessions_get(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let p = Params::new("sessions.get", &params)?;
    let key = p
        .session_key()?
        .ok_or_else(|| ErrorShape::invalid_params("sessions.get", "`sessionKey` is required"))?;
    openclaw_sessions::parse_key(&key).map_err(error_shape)?;
    let s = manager(&state)?.get(&key).ok_or_else(|| {
        ErrorShape::new(
            ErrorCode::InvalidRequest,
            format!("unknown session {key:?}: see sessions.list"),
        )
    })?;
    Ok(json!({ "session": session_row(&s) }))
}

async fn sessions_subscribe(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let p = Params::new("sessions.subscribe", &params)?;
    manager(&state)?;
    match p.session_key()? {
        Some(key) => {
            openclaw_sessions::parse_key(&key).map_err(error_shape)?;
            ctx.subscribe(&topic_for(&key));
            Ok(json!({ "subscribed": true, "sessionKey": key }))
        }
        None => {
            ctx.subscribe(TOPIC_ALL);
            Ok(json!({ "subscribed": true }))
        }
    }
}

async fn sessions_unsubscribe(
    _state: Arc<GatewayState>,
    ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let p = Params::new("sessions.unsubscribe", &params)?;
    match p.session_key()? {
        Some(key) => ctx.connection().unsubscribe(&topic_for(&key)),
        None => ctx.connection().unsubscribe(TOPIC_ALL),
    }
    Ok(json!({ "subscribed": false }))
}

async fn chat_send(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let p = Params::new("chat.send", &params)?;
    let session_key = p.str("sessionKey")?;
    let idem = p.idempotency_key("message")?;
    let req = SendRequest {
        session_key,
        message: p.str("message")?,
        idempotency_key: Some(idem),
        model: p.opt_str("model")?,
        runtime: p.opt_str("runtime")?,
        timeout: p
            .opt_u64("timeoutMs")?
            .filter(|m| *m > 0)
            .map(Duration::from_millis),
        origin: Some(Arc::from(ctx.conn_id())),
    };
    let acc = manager(&state)?.send(req).await.map_err(error_shape)?;
    let mut out = json!({ "runId": acc.run_id, "status": "started" });
    if acc.duplicate {
        out["duplicate"] = json!(true);
        out["runStatus"] = json!(acc.state.as_str());
    }
    Ok(out)
}

async fn chat_abort(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let p = Params::new("chat.abort", &params)?;
    let key = p.str("sessionKey")?;
    let run = p.opt_str("runId")?;
    let ids = manager(&state)?
        .abort(&key, run.as_deref())
        .await
        .map_err(error_shape)?;
    Ok(json!({ "ok": true, "aborted": !ids.is_empty(), "runIds": ids }))
}

async fn chat_history(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let p = Params::new("chat.history", &params)?;
    let key = p.str("sessionKey")?;
    let limit = p.opt_u64("limit")?.unwrap_or(200).clamp(1, 10_000) as usize;
    let entries = manager(&state)?
        .history(&key, limit)
        .await
        .map_err(error_shape)?;
    Ok(json!({
        "sessionKey": key,
        "messages": entries.iter().map(history_message).collect::<Vec<_>>(),
    }))
}

async fn agent_wait(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let p = Params::new("agent.wait", &params)?;
    let run_id = p.str("runId")?;
    let ms = p
        .opt_u64("timeoutMs")?
        .unwrap_or(DEFAULT_WAIT_MS)
        .min(MAX_WAIT_MS);
    let snap = manager(&state)?
        .wait(&run_id, Duration::from_millis(ms))
        .await
        .map_err(error_shape)?;
    Ok(wait_payload(&snap))
}

/// `agent {message, idempotencyKey, agentId?, sessionKey?, model?, timeout?}`: OpenClaw's agent
/// turn, as its CLI's `openclaw agent` sends it. The message goes to the session like
/// `chat.send`; the call is answered twice with the same id: `{status:"accepted", runId,
/// sessionKey, agentId}` at once, then, when the run ends, `{runId, status: ok|error|timeout,
/// summary, result:{payloads:[{text}]}}`. A retried key whose run is still going is answered
/// `status:"in_flight"`. Channel delivery (`deliver:true`) is refused: this gateway has no channels.
async fn agent_turn(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let p = Params::new("agent", &params)?;
    let message = p.str("message")?;
    let idem = p.idempotency_key("turn")?;
    if p.opt_bool("deliver")? == Some(true) {
        return Err(ErrorShape::invalid_params(
            "agent",
            "`deliver:true` needs a delivery channel and this gateway has none; drop --deliver",
        ));
    }
    let agent_id = p.opt_str("agentId")?;
    let session_key = match (p.opt_str("sessionKey")?, &agent_id) {
        (Some(k), _) if openclaw_sessions::parse_key(&k).is_ok() => k,
        (Some(k), agent) if k == "main" || k == "global" => {
            openclaw_sessions::main_key(agent.as_deref().unwrap_or("main"))
        }
        (Some(k), _) => {
            return Err(ErrorShape::invalid_params(
                "agent",
                format!("unknown sessionKey {k:?}: use agent:<agentId>:main or a subagent key from sessions.list"),
            ))
        }
        (None, agent) => openclaw_sessions::main_key(agent.as_deref().unwrap_or("main")),
    };
    let timeout = p
        .opt_u64("timeout")?
        .filter(|s| *s > 0)
        .map(Duration::from_secs);
    let req = SendRequest {
        session_key: session_key.clone(),
        message,
        idempotency_key: Some(idem),
        model: p.opt_str("model")?,
        runtime: None,
        timeout,
        origin: Some(Arc::from(ctx.conn_id())),
    };
    let mgr = manager(&state)?;
    let acc = mgr.send(req).await.map_err(error_shape)?;
    // Every branch above yields a valid key.
    let agent = openclaw_sessions::parse_key(&session_key)
        .map(|k| k.agent_id)
        .unwrap_or_else(|_| "main".into());
    if acc.duplicate && !acc.state.is_terminal() {
        return Ok(json!({
            "runId": acc.run_id, "status": "in_flight", "sessionKey": session_key,
            "agentId": agent, "summary": "already running",
        }));
    }
    ctx.respond_interim(json!({
        "runId": acc.run_id, "status": "accepted", "sessionKey": session_key,
        "agentId": agent, "acceptedAt": crate::state::now_ms(),
    }));
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
    let mut out = wait_payload(&snap);
    out["summary"] = json!(match snap.state {
        RunState::Completed => "completed",
        RunState::Aborted | RunState::Timeout => "aborted",
        _ => "failed",
    });
    let text = match (&snap.text, &snap.error) {
        (Some(t), _) if !t.is_empty() => Some(t.clone()),
        (_, Some(e)) => Some(e.clone()),
        _ => None,
    };
    let payloads: Vec<Value> = text
        .map(|t| json!({"text": t, "isError": snap.state != RunState::Completed}))
        .into_iter()
        .collect();
    out["result"] = json!({
        "payloads": payloads,
        "meta": {
            "durationMs": snap.ended_at.zip(snap.started_at).map(|(e, s)| e.saturating_sub(s)),
            "runStatus": snap.state.as_str(),
            "errorClass": snap.error_class.map(|c| c.as_str()),
        },
    });
    out["agentId"] = json!(agent);
    Ok(out)
}

/// `agent.wait`'s reply: the run payload with OpenClaw's wait vocabulary in `status` (`ok`,
/// `error`, `timeout`, `pending` for a run still queued, plus `stopReason`) and this gateway's
/// run state in `runStatus`. `waitTimedOut` is set when the wait ended before the run did.
fn wait_payload(snap: &RunSnapshot) -> Value {
    let mut out = run_payload(snap);
    out["runStatus"] = json!(snap.state.as_str());
    let (status, stop_reason) = match snap.state {
        RunState::Queued => ("pending", None),
        RunState::Running => ("timeout", None),
        RunState::Completed => ("ok", None),
        RunState::Failed => ("error", None),
        RunState::Aborted => ("error", Some("aborted")),
        RunState::Timeout => ("timeout", Some("timeout")),
        RunState::Interrupted => ("error", Some("interrupted")),
    };
    out["status"] = json!(status);
    if let Some(reason) = stop_reason {
        out["stopReason"] = json!(reason);
    }
    if !snap.state.is_terminal() {
        out["waitTimedOut"] = json!(true);
        if snap.state == RunState::Queued {
            out["timeoutPhase"] = json!("queue");
        }
    }
    out
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
        match cfg.runtimes.get(runtime) {
            Some(rt) => {
                if !rt.kind.is_empty() && rt.kind != "app-server" {
                    return Err(config_err(format!(
                        "runtimes.{runtime}.kind is {:?}; only \"app-server\" is supported",
                        rt.kind
                    )));
                }
                if rt.command.is_empty() {
                    return Err(config_err(format!(
                        "runtimes.{runtime}.command is empty; set it to the program and its arguments"
                    )));
                }
                if let Some(home) = rt.home.as_ref().filter(|h| !h.is_absolute()) {
                    return Err(config_err(format!(
                        "runtimes.{runtime}.home is {}, a relative path; make it absolute",
                        home.display()
                    )));
                }
                Ok(ProcessKey {
                    command: rt.command.clone(),
                    env: rt.env.clone(),
                    home: rt.home.clone(),
                    auth_identity: rt.auth_profile.clone(),
                    experimental_api: rt.dynamic_tools,
                })
            }
            None if runtime == openclaw_sessions::DEFAULT_RUNTIME => {
                Ok(ProcessKey::new(vec![embedded_binary()
                    .to_string_lossy()
                    .into_owned()]))
            }
            None => Err(config_err(format!(
                "unknown runtime {runtime:?}: configure runtimes.{runtime} in openclaw.json"
            ))),
        }
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

fn map_class(c: openclaw_app_server::FailureClass) -> FailureClass {
    use openclaw_app_server::FailureClass as A;
    match c {
        A::Auth => FailureClass::Auth,
        A::RateLimit => FailureClass::RateLimit,
        A::Quota => FailureClass::Quota,
        A::Upstream | A::StreamIdle | A::Overload => FailureClass::Upstream,
        A::Timeout => FailureClass::Timeout,
        A::Interrupted => FailureClass::Interrupted,
        A::Config => FailureClass::Config,
        _ => FailureClass::Runtime,
    }
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
                let run = openclaw_app_server::execute_with_tools(
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
                        openclaw_app_server::FailureClass::Interrupted
                            | openclaw_app_server::FailureClass::Timeout
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
                        crate::reload::record_run_failure(&st, a, e.class.as_str());
                    }
                    ExecError {
                        class: map_class(e.class),
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

    /// Every run state maps onto OpenClaw's `agent.wait` vocabulary; our state stays in `runStatus`.
    #[test]
    fn wait_payload_speaks_openclaw_status_and_keeps_ours() {
        let snap = |state| RunSnapshot {
            run_id: "r".into(),
            session_key: "agent:main:main".into(),
            state,
            attempts: 1,
            created_at: 1,
            started_at: None,
            ended_at: None,
            text: None,
            error: None,
            error_class: None,
            retryable: false,
            spawned_by: None,
        };
        let rows = [
            (RunState::Queued, "pending", None, true),
            (RunState::Running, "timeout", None, true),
            (RunState::Completed, "ok", None, false),
            (RunState::Failed, "error", None, false),
            (RunState::Aborted, "error", Some("aborted"), false),
            (RunState::Timeout, "timeout", Some("timeout"), false),
            (RunState::Interrupted, "error", Some("interrupted"), false),
        ];
        for (state, status, stop, timed_out) in rows {
            let v = wait_payload(&snap(state));
            assert_eq!(v["status"], status, "{state:?}: {v}");
            assert_eq!(v["runStatus"], state.as_str(), "{state:?}: {v}");
            assert_eq!(v["stopReason"].as_str(), stop, "{state:?}: {v}");
            assert_eq!(
                v["waitTimedOut"].as_bool() == Some(true),
                timed_out,
                "{state:?}: {v}"
            );
        }
        assert_eq!(
            wait_payload(&snap(RunState::Queued))["timeoutPhase"],
            "queue"
        );
    }
    use openclaw_sessions::{ChatEvent, LimitKind, LimitViolation, RunState};

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

    #[test]
    fn chat_events_have_the_openclaw_shape() {
        let ev = SessionEvent::Chat(ChatEvent {
            run_id: "r1".into(),
            session_key: "agent:main:main".into(),
            agent_id: "main".into(),
            seq: 3,
            state: ChatState::Final,
            phase: None,
            delta_text: None,
            message: Some("hi\n".into()),
            error_message: None,
            error_class: None,
            run_state: Some(RunState::Completed),
            spawned_by: None,
            origin: Some(Arc::from("conn-1")),
        });
        let (name, p) = wire_event(&ev);
        assert_eq!(name, "chat");
        assert_eq!(p["state"], "final");
        assert_eq!(p["seq"], 3);
        assert_eq!(p["message"]["role"], "assistant");
        assert_eq!(p["message"]["content"][0]["text"], "hi\n");
        assert_eq!(p["status"], "completed");
        // Internal routing data never reaches the wire.
        assert!(p.get("origin").is_none());
        assert!(p.get("spawnedBy").is_none());
    }

    #[test]
    fn params_name_the_method_and_field() {
        let v = json!({"task": 5});
        let p = Params::new("sessions.spawn", &v).unwrap();
        let e = p.str("task").unwrap_err();
        assert_eq!(
            e.message,
            "invalid sessions.spawn params: `task` must be a string"
        );
        let e = Params::new("chat.send", &json!([1])).unwrap_err();
        assert!(e.message.contains("must be an object"));
    }
}
