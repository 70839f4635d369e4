//! `device.pair.*` and `device.token.*`: pairing requests, paired devices, device tokens
//! (scope `operator.pairing`). The logic lives in `openclaw-rs-auth`; this file maps params and
//! results and broadcasts the pairing events.

use crate::base::now_ms;
use crate::rpc::{CallCtx, MethodSpec};
use crate::state::GatewayState;
use crate::wire;
use openclaw_rs_protocol::methods::devices::{
    DevicePairApproveParams, DevicePairApproved, DevicePairList, DevicePairListParams,
    DevicePairRejectParams, DevicePairRejected, DevicePairRemoveParams, DevicePairRemoved,
    DeviceTokenRevokeParams, DeviceTokenRevoked, DeviceTokenRotateParams, DeviceTokenRotated,
};
use openclaw_rs_protocol::{close, scopes, ErrorShape};
use std::sync::Arc;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(list),
        MethodSpec::typed(approve),
        MethodSpec::typed(reject),
        MethodSpec::typed(remove),
        MethodSpec::typed(rotate),
        MethodSpec::typed(revoke),
    ]
}

/// `operator` or `node`, or the error naming the choices.
fn role_param(method: &str, role: &str) -> Result<String, ErrorShape> {
    match role {
        scopes::ROLE_OPERATOR | scopes::ROLE_NODE => Ok(role.to_owned()),
        other => Err(ErrorShape::invalid_params(
            method,
            format!("at /role: must be \"operator\" or \"node\", got {other:?}"),
        )),
    }
}

/// Non-admin callers may rotate or revoke only the token of the device they connected with.
fn own_device_or_admin(ctx: &CallCtx, device_id: &str) -> Result<(), ErrorShape> {
    if ctx.device_id() == Some(device_id) || ctx.has_scope(scopes::ADMIN) {
        Ok(())
    } else {
        Err(ErrorShape::missing_scope(scopes::ADMIN, &[scopes::ADMIN]))
    }
}

async fn list(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    _p: DevicePairListParams,
) -> Result<DevicePairList, ErrorShape> {
    let (pending, paired) = state.auth_service().list(now_ms());
    Ok(DevicePairList {
        pending: pending.iter().map(wire::pending_pairing).collect(),
        paired: paired.iter().map(wire::paired_device).collect(),
    })
}

async fn approve(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: DevicePairApproveParams,
) -> Result<DevicePairApproved, ErrorShape> {
    let (req, device, ev) = state
        .auth_service()
        .approve(p.request_id.trim(), now_ms())
        .map_err(|e| e.to_error_shape())?;
    crate::connect::broadcast_auth_event(&state, &ev);
    Ok(DevicePairApproved {
        request_id: req.request_id,
        device: wire::paired_device(&device),
    })
}

async fn reject(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: DevicePairRejectParams,
) -> Result<DevicePairRejected, ErrorShape> {
    let (req, ev) = state
        .auth_service()
        .reject(p.request_id.trim(), now_ms())
        .map_err(|e| e.to_error_shape())?;
    crate::connect::broadcast_auth_event(&state, &ev);
    Ok(DevicePairRejected {
        request_id: req.request_id,
        device_id: req.device_id,
        decision: "rejected".into(),
    })
}

async fn remove(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: DevicePairRemoveParams,
) -> Result<DevicePairRemoved, ErrorShape> {
    let id = p.device_id.trim().to_owned();
    let removed = state
        .auth_service()
        .remove(&id)
        .map_err(|e| e.to_error_shape())?;
    // A removed device loses its live connections too.
    state.close_where(
        |c| c.info().device_id.as_deref() == Some(id.as_str()),
        close::AUTHORITY_REVOKED,
        close::REASON_AUTHORITY_REVOKED,
    );
    Ok(DevicePairRemoved {
        device_id: removed.device_id,
        removed_at_ms: now_ms(),
    })
}

async fn rotate(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    p: DeviceTokenRotateParams,
) -> Result<DeviceTokenRotated, ErrorShape> {
    let method = "device.token.rotate";
    let id = p.device_id.trim();
    own_device_or_admin(&ctx, id)?;
    let role = role_param(method, &p.role)?;
    let scopes: Option<Vec<String>> = p.scopes.map(|s| s.into_iter().map(String::from).collect());
    // Nobody mints scopes they do not hold themselves.
    if let Some(s) = &scopes {
        if let Some(missing) = s.iter().find(|s| !ctx.has_scope(s)) {
            return Err(ErrorShape::missing_scope(missing, &[missing.as_str()]));
        }
    }
    let r = state
        .auth_service()
        .rotate(id, &role, scopes.as_deref(), now_ms())
        .map_err(|e| e.to_error_shape())?;
    // The new token goes only to the device it belongs to (proven by its signature at connect).
    let own = ctx.device_id() == Some(r.device_id.as_str());
    Ok(DeviceTokenRotated {
        rotated_at_ms: r.record.rotated_at_ms.unwrap_or(r.record.created_at_ms),
        scopes: r.record.scopes,
        token_delivery: if own {
            "in-band"
        } else {
            "withheld-cross-device"
        }
        .into(),
        token: own.then_some(r.token),
        device_id: r.device_id,
        role: r.role,
    })
}

async fn revoke(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    p: DeviceTokenRevokeParams,
) -> Result<DeviceTokenRevoked, ErrorShape> {
    let method = "device.token.revoke";
    let id = p.device_id.trim();
    own_device_or_admin(&ctx, id)?;
    let role = role_param(method, &p.role)?;
    let t = state
        .auth_service()
        .revoke(id, &role, now_ms())
        .map_err(|e| e.to_error_shape())?;
    Ok(DeviceTokenRevoked {
        device_id: id.to_owned(),
        role,
        revoked_at_ms: t.revoked_at_ms,
    })
}
