//! Sessions methods: `sessions.spawn`, `sessions.list`, `sessions.get`,
//! `sessions.subscribe`, `sessions.unsubscribe`. Who receives which session event is the
//! fan-out's business (`crate::fanout`); runs execute in `crate::runs`.

use crate::rpc::{CallCtx, MethodSpec};
use crate::state::GatewayState;
use crate::wire;
use openclaw_rs_protocol::methods::sessions::{
    Cleanup as WireCleanup, SessionRow, SessionsGetParams, SessionsGetResult, SessionsListParams,
    SessionsListResult, SessionsSpawnParams, SessionsSubscribeParams, SessionsUnsubscribeParams,
    SpawnAccepted, Subscription,
};
use openclaw_rs_protocol::{ErrorCode, ErrorShape};
use openclaw_rs_sessions::{Cleanup, SessionInfo, SpawnRequest};
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(sessions_spawn),
        MethodSpec::typed(sessions_list),
        MethodSpec::typed(sessions_get),
        MethodSpec::typed(sessions_subscribe),
        MethodSpec::typed(sessions_unsubscribe),
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
    let acc = state
        .session_manager()?
        .spawn(req)
        .await
        .map_err(wire::error_shape)?;
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
    let all: Vec<SessionInfo> = state
        .session_manager()?
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
    crate::methods::agents::fill_models(&state.config().load(), &mut sessions);
    let next = offset + sessions.len();
    Ok(SessionsListResult {
        ts: crate::base::now_ms(),
        path: state
            .options()
            .state_dir
            .join("sessions")
            .display()
            .to_string(),
        count: sessions.len(),
        total_count: total,
        limit_applied: limit,
        has_more: next < total,
        next_offset: (next < total).then_some(next),
        defaults: crate::methods::agents::session_defaults(&state),
        sessions,
    })
}

async fn sessions_get(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: SessionsGetParams,
) -> Result<SessionsGetResult, ErrorShape> {
    let key = p.session_key.ok_or_else(|| {
        ErrorShape::invalid_params("sessions.get", "must have required property 'sessionKey'")
    })?;
    wire::known_key(&key)?;
    let s = state.session_manager()?.get(&key).ok_or_else(|| {
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
    state.session_manager()?;
    match p.session_key {
        Some(key) => {
            wire::known_key(&key)?;
            ctx.subscribe(&crate::fanout::topic_for(&key));
            Ok(Subscription {
                subscribed: true,
                session_key: Some(key.into()),
            })
        }
        None => {
            ctx.subscribe(crate::fanout::TOPIC_ALL);
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
        Some(key) => ctx
            .connection()
            .unsubscribe(&crate::fanout::topic_for(&key)),
        None => ctx.connection().unsubscribe(crate::fanout::TOPIC_ALL),
    }
    Ok(Subscription {
        subscribed: false,
        session_key: None,
    })
}
