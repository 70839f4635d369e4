//! `device.pair.*` and `device.token.*`: pairing requests, paired devices, device tokens
//! (scope `operator.pairing`). The logic lives in `openclaw-auth`; this file maps params and
//! results and broadcasts the pairing events.

use super::{CallCtx, MethodSpec};
use crate::state::{now_ms, GatewayState};
use openclaw_protocol::{close, scopes, ErrorShape};
use serde_json::{json, Value};
use std::sync::Arc;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::new("device.pair.list", scopes::PAIRING, list),
        MethodSpec::new("device.pair.approve", scopes::PAIRING, approve),
        MethodSpec::new("device.pair.reject", scopes::PAIRING, reject),
        MethodSpec::new("device.pair.remove", scopes::PAIRING, remove),
        MethodSpec::new("device.token.rotate", scopes::PAIRING, rotate),
        MethodSpec::new("device.token.revoke", scopes::PAIRING, revoke),
    ]
}

fn str_param<'a>(method: &str, params: &'a Value, key: &str) -> Result<&'a str, ErrorShape> {
    params
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ErrorShape::invalid_params(method, format!("`{key}` (string) is required")))
}

fn role_param(method: &str, params: &Value) -> Result<String, ErrorShape> {
    match params.get("role") {
        None | Some(Value::Null) => Ok(scopes::ROLE_OPERATOR.to_owned()),
        Some(Value::String(r)) if r == scopes::ROLE_OPERATOR || r == scopes::ROLE_NODE => {
            Ok(r.clone())
        }
        Some(other) => Err(ErrorShape::invalid_params(
            method,
            format!("`role` must be \"operator\" or \"node\", got {other}"),
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
    _params: Value,
) -> Result<Value, ErrorShape> {
    Ok(state.devices.list(now_ms()))
}

async fn approve(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let id = str_param("device.pair.approve", &params, "requestId")?;
    let (v, ev) = state
        .devices
        .approve(id, now_ms())
        .map_err(|e| e.to_error_shape())?;
    crate::connect::broadcast_auth_event(&state, &ev);
    Ok(v)
}

async fn reject(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let id = str_param("device.pair.reject", &params, "requestId")?;
    let (v, ev) = state
        .devices
        .reject(id, now_ms())
        .map_err(|e| e.to_error_shape())?;
    crate::connect::broadcast_auth_event(&state, &ev);
    Ok(v)
}

async fn remove(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let id = str_param("device.pair.remove", &params, "deviceId")?.to_owned();
    let v = state
        .devices
        .remove(&id, now_ms())
        .map_err(|e| e.to_error_shape())?;
    // A removed device loses its live connections too.
    state.close_where(
        |c| c.info().device_id.as_deref() == Some(id.as_str()),
        close::AUTHORITY_REVOKED,
        close::REASON_AUTHORITY_REVOKED,
    );
    Ok(v)
}

async fn rotate(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let method = "device.token.rotate";
    let id = str_param(method, &params, "deviceId")?;
    own_device_or_admin(&ctx, id)?;
    let role = role_param(method, &params)?;
    let scopes: Option<Vec<String>> = match params.get("scopes") {
        None | Some(Value::Null) => None,
        Some(v) => Some(serde_json::from_value(v.clone()).map_err(|_| {
            ErrorShape::invalid_params(method, "`scopes` must be an array of strings")
        })?),
    };
    // Nobody mints scopes they do not hold themselves.
    if let Some(s) = &scopes {
        if let Some(missing) = s.iter().find(|s| !ctx.has_scope(s)) {
            return Err(ErrorShape::missing_scope(missing, &[missing.as_str()]));
        }
    }
    let r = state
        .devices
        .rotate(id, &role, scopes.as_deref(), now_ms())
        .map_err(|e| e.to_error_shape())?;
    let mut v = json!({
        "deviceId": r.device_id,
        "role": r.role,
        "scopes": r.record.scopes,
        "rotatedAtMs": r.record.rotated_at_ms.unwrap_or(r.record.created_at_ms),
    });
    // The new token goes only to the device it belongs to (proven by its signature at connect).
    if ctx.device_id() == Some(r.device_id.as_str()) {
        v["tokenDelivery"] = json!("in-band");
        v["token"] = json!(r.token);
    } else {
        v["tokenDelivery"] = json!("withheld-cross-device");
    }
    Ok(v)
}

async fn revoke(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    params: Value,
) -> Result<Value, ErrorShape> {
    let method = "device.token.revoke";
    let id = str_param(method, &params, "deviceId")?;
    own_device_or_admin(&ctx, id)?;
    let role = role_param(method, &params)?;
    state
        .devices
        .revoke(id, &role, now_ms())
        .map_err(|e| e.to_error_shape())
}
