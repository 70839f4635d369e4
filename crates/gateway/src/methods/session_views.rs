//! The session views of the Control UI and TUI: `sessions.describe`,
//! `sessions.messages.subscribe|unsubscribe` (delivering `session.message` events),
//! `sessions.observer.visibility`, and the valid empty answers of features this gateway does not
//! have: `sessions.catalog.list` (external session catalogs), `sessions.groups.list|defaults`
//! (session groups), `sessions.branches.list` (transcripts here are linear) and
//! `sessions.companion.state` (no companion).

use super::sessions::{canonical_key, error_shape, manager};
use super::{CallCtx, MethodSpec};
use crate::state::GatewayState;
use openclaw_rs_protocol::methods::session_views::{
    MessagesSubscription, OkTrue, SessionMessageEvent, SessionRemoval, SessionsBranchesListParams,
    SessionsBranchesListResult, SessionsCatalogListParams, SessionsCatalogListResult,
    SessionsCompanionStateParams, SessionsCompanionStateResult, SessionsDeleteParams,
    SessionsDescribeParams, SessionsDescribeResult, SessionsGroupsDefaultsParams,
    SessionsGroupsDefaultsResult, SessionsGroupsListParams, SessionsGroupsListResult,
    SessionsMessagesSubscribeParams, SessionsMessagesUnsubscribeParams,
    SessionsObserverVisibilityParams, SessionsResetParams,
};
use openclaw_rs_protocol::{ErrorCode, ErrorShape};
use std::sync::Arc;

/// How many transcript entries are read back to find the one a change event names.
const MESSAGE_LOOKBACK: usize = 8;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(sessions_describe),
        MethodSpec::typed(messages_subscribe),
        MethodSpec::typed(messages_unsubscribe),
        MethodSpec::typed(observer_visibility),
        MethodSpec::typed(catalog_list),
        MethodSpec::typed(groups_list),
        MethodSpec::typed(groups_defaults),
        MethodSpec::typed(branches_list),
        MethodSpec::typed(companion_state),
        MethodSpec::typed(sessions_reset),
        MethodSpec::typed(sessions_delete),
        MethodSpec::unavailable("sessions.patch", NO_PATCH),
        MethodSpec::unavailable("sessions.create", NO_CREATE),
    ]
}

/// Topic of connections subscribed to a session's messages.
fn messages_topic(key: &str) -> String {
    format!("messages:{key}")
}

async fn sessions_describe(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: SessionsDescribeParams,
) -> Result<SessionsDescribeResult, ErrorShape> {
    let key = canonical_key(&p.key, p.agent_id.as_deref())?;
    let session = match manager(&state)?.get(&key) {
        Some(info) => crate::wire::session_row(&info),
        None => {
            let parsed = openclaw_rs_sessions::parse_key(&key).map_err(error_shape)?;
            if parsed.kind == openclaw_rs_sessions::KeyKind::Subagent {
                return Err(ErrorShape::new(
                    ErrorCode::InvalidRequest,
                    format!("unknown session {key:?}: see sessions.list"),
                ));
            }
            // A main or named session exists from its first message on; until then, its row.
            crate::wire::unstarted_row(&key, &parsed)
        }
    };
    let mut rows = [session];
    super::agents::fill_models(&state.config.load(), &mut rows);
    let [session] = rows;
    Ok(SessionsDescribeResult { session })
}

async fn messages_subscribe(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    p: SessionsMessagesSubscribeParams,
) -> Result<MessagesSubscription, ErrorShape> {
    let key = canonical_key(&p.key, p.agent_id.as_deref())?;
    manager(&state)?;
    ctx.subscribe(&messages_topic(&key));
    Ok(MessagesSubscription {
        subscribed: true,
        key,
    })
}

async fn messages_unsubscribe(
    _state: Arc<GatewayState>,
    ctx: CallCtx,
    p: SessionsMessagesUnsubscribeParams,
) -> Result<MessagesSubscription, ErrorShape> {
    let key = canonical_key(&p.key, p.agent_id.as_deref())?;
    ctx.connection().unsubscribe(&messages_topic(&key));
    Ok(MessagesSubscription {
        subscribed: false,
        key,
    })
}

/// A session's transcript grew (`change` says by which run): send the new entry as
/// `session.message` to the connections subscribed to its messages. The journal is read on a
/// task of its own, only when someone is subscribed.
pub(crate) fn deliver_new_message(
    state: &Arc<GatewayState>,
    change: &openclaw_rs_sessions::ChangedEvent,
) {
    let topic = messages_topic(&change.session_key);
    if !state.connections().iter().any(|c| c.is_subscribed(&topic)) {
        return;
    }
    let Some(run_id) = change.run_id.clone() else {
        return;
    };
    // `message`: the user's message; `run.ended`: the reply; `announce`: a child's result.
    let role = match change.reason {
        "message" => "user",
        "announce" => "system",
        _ => "assistant",
    };
    let key = change.session_key.clone();
    let agent = change.session.agent_id.clone();
    let state = Arc::clone(state);
    tokio::spawn(async move {
        let Ok(mgr) = manager(&state) else { return };
        let entries = match mgr.history(&key, MESSAGE_LOOKBACK).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(session = %key, error = %error_shape(e), "session.message not sent");
                return;
            }
        };
        let Some(entry) = entries
            .iter()
            .rev()
            .find(|e| e.role == role && (e.run_id == run_id || role == "system"))
        else {
            return;
        };
        let event = SessionMessageEvent {
            session_key: key,
            agent_id: agent,
            message: crate::wire::history_message(entry),
            message_id: format!("{}#{}", entry.run_id, entry.seq),
            message_seq: entry.seq,
            run_id: entry.run_id.clone(),
            ts: crate::state::now_ms(),
        };
        state.broadcast_where(&event, |c| c.is_subscribed(&topic));
    });
}

async fn observer_visibility(
    _state: Arc<GatewayState>,
    _ctx: CallCtx,
    _p: SessionsObserverVisibilityParams,
) -> Result<OkTrue, ErrorShape> {
    // Nothing here depends on whether a viewer is looking.
    Ok(OkTrue { ok: true })
}

async fn catalog_list(
    _state: Arc<GatewayState>,
    _ctx: CallCtx,
    _p: SessionsCatalogListParams,
) -> Result<SessionsCatalogListResult, ErrorShape> {
    Ok(SessionsCatalogListResult::default())
}

async fn groups_list(
    _state: Arc<GatewayState>,
    _ctx: CallCtx,
    _p: SessionsGroupsListParams,
) -> Result<SessionsGroupsListResult, ErrorShape> {
    Ok(SessionsGroupsListResult::default())
}

async fn groups_defaults(
    _state: Arc<GatewayState>,
    _ctx: CallCtx,
    _p: SessionsGroupsDefaultsParams,
) -> Result<SessionsGroupsDefaultsResult, ErrorShape> {
    Ok(SessionsGroupsDefaultsResult::default())
}

async fn branches_list(
    _state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: SessionsBranchesListParams,
) -> Result<SessionsBranchesListResult, ErrorShape> {
    canonical_key(&p.session_key, p.agent_id.as_deref())?;
    Ok(SessionsBranchesListResult::default())
}

async fn companion_state(
    _state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: SessionsCompanionStateParams,
) -> Result<SessionsCompanionStateResult, ErrorShape> {
    canonical_key(&p.session_key, p.agent_id.as_deref())?;
    Ok(SessionsCompanionStateResult::default())
}

/// Why a session's settings cannot be patched here.
const NO_PATCH: &str = "sessions.patch is unavailable: openclaw-rs has no per-session settings \
     (label, model, thinking level) in its session engine yet; a session runs on its agent's \
     runtime and model (set `agents.<id>.runtime` / `model` in the config)";

/// Why sessions are not created by this method here.
const NO_CREATE: &str = "sessions.create is unavailable: openclaw-rs has no explicit session \
     creation; a session is created by its first message (send to a new sessionKey, e.g. \
     `my-work-2`, with chat.send or agent)";

/// Why a session's transcript cannot be reset or removed here.
const NO_REMOVAL: &str = "the session engine (crates/sessions) keeps every session's journal \
     and has no way yet to reset or remove one without risking durable state; continue in a \
     new session instead (another sessionKey, e.g. `my-work-2`)";

async fn sessions_reset(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: SessionsResetParams,
) -> Result<SessionRemoval, ErrorShape> {
    let key = canonical_key(&p.key, p.agent_id.as_deref())?;
    manager(&state)?;
    Err(ErrorShape::new(
        ErrorCode::Unavailable,
        format!("sessions.reset {key:?} is unavailable: {NO_REMOVAL}"),
    ))
}

async fn sessions_delete(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: SessionsDeleteParams,
) -> Result<SessionRemoval, ErrorShape> {
    let key = canonical_key(&p.key, p.agent_id.as_deref())?;
    manager(&state)?;
    Err(ErrorShape::new(
        ErrorCode::Unavailable,
        format!("sessions.delete {key:?} is unavailable: {NO_REMOVAL}"),
    ))
}
