//! The session views of the Control UI and TUI: `sessions.describe`,
//! `sessions.messages.subscribe|unsubscribe` (delivering `session.message` events),
//! `sessions.observer.visibility`, and the valid empty answers of features this gateway does not
//! have: `sessions.catalog.list` (external session catalogs), `sessions.groups.list|defaults`
//! (session groups), `sessions.branches.list` (transcripts here are linear) and
//! `sessions.companion.state` (no companion).

use crate::rpc::{CallCtx, MethodSpec};
use crate::state::GatewayState;
use crate::wire::{canonical_key, error_shape};
use openclaw_rs_protocol::methods::session_views::{
    MessagesSubscription, OkTrue, SessionRemoval, SessionsBranchesListParams,
    SessionsBranchesListResult, SessionsCatalogListParams, SessionsCatalogListResult,
    SessionsCompanionStateParams, SessionsCompanionStateResult, SessionsDeleteParams,
    SessionsDescribeParams, SessionsDescribeResult, SessionsGroupsDefaultsParams,
    SessionsGroupsDefaultsResult, SessionsGroupsListParams, SessionsGroupsListResult,
    SessionsMessagesSubscribeParams, SessionsMessagesUnsubscribeParams,
    SessionsObserverVisibilityParams, SessionsResetParams,
};
use openclaw_rs_protocol::{ErrorCode, ErrorShape};
use std::sync::Arc;

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

async fn sessions_describe(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: SessionsDescribeParams,
) -> Result<SessionsDescribeResult, ErrorShape> {
    let key = canonical_key(&p.key, p.agent_id.as_deref())?;
    let session = match state.session_manager()?.get(&key) {
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
    crate::methods::agents::fill_models(&state.config().load(), &mut rows);
    let [session] = rows;
    Ok(SessionsDescribeResult { session })
}

async fn messages_subscribe(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    p: SessionsMessagesSubscribeParams,
) -> Result<MessagesSubscription, ErrorShape> {
    let key = canonical_key(&p.key, p.agent_id.as_deref())?;
    state.session_manager()?;
    ctx.subscribe(&crate::fanout::messages_topic(&key));
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
    ctx.connection()
        .unsubscribe(&crate::fanout::messages_topic(&key));
    Ok(MessagesSubscription {
        subscribed: false,
        key,
    })
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
    state.session_manager()?;
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
    state.session_manager()?;
    Err(ErrorShape::new(
        ErrorCode::Unavailable,
        format!("sessions.delete {key:?} is unavailable: {NO_REMOVAL}"),
    ))
}
