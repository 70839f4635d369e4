//! `config.get` (read scope, secrets redacted), `config.set`, `config.patch` and `gateway.restart.request` (admin scope).
//!
//! Writes go through the same path as file edits (`ConfigStore` → classify → hot apply →
//! `config.changed`), so a write over RPC and an edit in an editor behave the same.

use super::MethodSpec;
use crate::reload::apply_outcome;
use crate::state::GatewayState;
use openclaw_protocol::{scopes, ErrorCode, ErrorShape};
use openclaw_reload::store::{redact, WriteError};
use openclaw_reload::ReloadOutcome;
use serde_json::{json, Value};
use std::sync::Arc;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        // Read scope, as in OpenClaw: secrets are redacted everywhere in the reply, `raw` included.
        MethodSpec::new("config.get", scopes::READ, |state, _ctx, _p| async move {
            Ok(config_get(&state))
        }),
        MethodSpec::new("config.set", scopes::ADMIN, |state, _ctx, p| async move {
            write(&state, "config.set", &p, false).await
        }),
        MethodSpec::new("config.patch", scopes::ADMIN, |state, _ctx, p| async move {
            write(&state, "config.patch", &p, true).await
        }),
        // OpenClaw's `config.apply {raw, baseHash?, …}`: a whole-file write like `config.set`
        // (its extra fields — sessionKey, note, restartDelayMs — are accepted and ignored:
        // restarts here are drained, never scheduled by delay).
        MethodSpec::new("config.apply", scopes::ADMIN, |state, _ctx, p| async move {
            write(&state, "config.apply", &p, false).await
        }),
        // Auth-profile cooldowns are runtime state: list them, and clear one profile by hand
        // (e.g. after topping up a billing account) without touching config.
        MethodSpec::new(
            "auth.cooldowns.list",
            scopes::READ,
            |state, _ctx, _p| async move {
                let now = openclaw_cooldowns::now_ms();
                let snap = state.reload.cooldowns().snapshot();
                let rows: Vec<Value> = snap
                    .entries()
                    .into_iter()
                    .map(|e| {
                        let mut v = serde_json::to_value(e).unwrap_or_default();
                        v["active"] = json!(e.until() > now);
                        v
                    })
                    .collect();
                Ok(json!({ "cooldowns": rows, "ts": now }))
            },
        ),
        MethodSpec::new(
            "auth.cooldowns.clear",
            scopes::ADMIN,
            |state, _ctx, p| async move {
                let profile = p
                    .get("profile")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        invalid(
                            "auth.cooldowns.clear",
                            "`profile` (an auth profile id) is required",
                        )
                    })?
                    .to_string();
                let cd = state.reload.cooldowns().clone();
                let p2 = profile.clone();
                tokio::task::spawn_blocking(move || cd.clear_profile(&p2))
                    .await
                    .map_err(|e| ErrorShape::new(ErrorCode::Unavailable, e.to_string()))?
                    .map_err(|e| {
                        ErrorShape::new(
                            ErrorCode::Unavailable,
                            format!("auth.cooldowns.clear: {e}"),
                        )
                    })?;
                tracing::info!(%profile, "auth profile cooldowns cleared by request");
                Ok(json!({ "ok": true, "profile": profile }))
            },
        ),
        MethodSpec::new(
            "gateway.restart.preflight",
            scopes::ADMIN,
            |state, _ctx, _p| async move { Ok(state.reload.preflight_json()) },
        ),
        MethodSpec::new(
            "gateway.restart.request",
            scopes::ADMIN,
            |state, ctx, p| async move {
                let force = p.get("force").and_then(Value::as_bool).unwrap_or(false);
                let reason = p
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("restart requested")
                    .to_string();
                let who = format!("gateway.restart.request (conn {})", ctx.conn_id());
                let intent = state.reload.request_restart(&who, &reason, force);
                Ok(json!({ "ok": true, "restart": intent }))
            },
        ),
    ]
}

fn config_get(state: &GatewayState) -> Value {
    let store = state.reload.store();
    let snap = store.snapshot();
    let status = store.status();
    let live = serde_json::to_value(&*store.config()).unwrap_or_default();
    let parsed = redact(&snap.raw);
    let live = redact(&live);
    // The file text carries secrets verbatim; when it has any, `raw` is the redacted document
    // as JSON instead (a `config.set` of it restores the secrets, and `hash` still names the file).
    let raw = if parsed == *snap.raw {
        snap.text.to_string()
    } else {
        serde_json::to_string_pretty(&parsed).unwrap_or_default()
    };
    // Same keys as OpenClaw's `config.get` (includes are not supported: `includedPaths` is
    // empty; the source, resolved and runtime configs are the same document here).
    json!({
        "path": store.path(),
        "includedPaths": [],
        "exists": snap.exists,
        "raw": raw,
        "parsed": parsed,
        "sourceConfig": parsed,
        "resolved": live,
        "runtimeConfig": live,
        "config": live,
        "hash": snap.hash,
        "configRevisionHash": snap.hash,
        "appliedConfigHash": status.hash,
        "valid": status.last_error.is_none(),
        "issues": status.last_error.iter().map(|e| json!({"message": e.message, "atMs": e.at_ms})).collect::<Vec<_>>(),
        "warnings": snap.warnings,
        "legacyIssues": [],
        "pendingRestart": status.pending_restart,
    })
}

fn invalid(method: &str, msg: impl std::fmt::Display) -> ErrorShape {
    ErrorShape::new(ErrorCode::InvalidRequest, format!("{method}: {msg}"))
}

async fn write(
    state: &Arc<GatewayState>,
    method: &'static str,
    p: &Value,
    patch: bool,
) -> Result<Value, ErrorShape> {
    let raw = p
        .get("raw")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(method, "`raw` (the JSON5 text) is required"))?
        .to_string();
    let base = match p.get("baseHash") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid(method, "`baseHash` must be a string")),
    };
    let store = state.reload.store().clone();
    let result = tokio::task::spawn_blocking(move || {
        if patch {
            store.patch(&raw, base.as_deref())
        } else {
            store.set(&raw, base.as_deref())
        }
    })
    .await
    .map_err(|e| ErrorShape::new(ErrorCode::Unavailable, format!("{method}: {e}")))?;
    let outcome = result.map_err(|e| match e {
        WriteError::BaseHashMismatch { .. } | WriteError::BaseHashRequired => {
            invalid(method, e).with_details(json!({"code": "CONFIG_BASE_HASH_MISMATCH"}))
        }
        WriteError::Io(_) | WriteError::Read { .. } => {
            ErrorShape::new(ErrorCode::Unavailable, format!("{method}: {e}"))
        }
        other => invalid(method, other),
    })?;
    apply_outcome(state, &outcome);
    let store = state.reload.store();
    let live = serde_json::to_value(&*store.config()).unwrap_or_default();
    let (changed, pending, actions) = match &outcome {
        ReloadOutcome::Applied(a) => (
            a.changed_paths.clone(),
            a.pending_restart.clone(),
            json!(a.plan.actions),
        ),
        _ => (Vec::new(), store.pending_restart(), json!([])),
    };
    let hash = store.snapshot().hash;
    Ok(json!({
        "ok": true,
        "path": store.path(),
        "hash": hash,
        "config": redact(&live),
        "changedPaths": changed,
        "actions": actions,
        "requiresRestart": !pending.is_empty(),
        "pendingRestart": pending,
        // OpenClaw reports the write as a persisted "sentinel".
        "sentinel": {
            "persisted": true,
            "payload": {
                "kind": method.replace('.', "-"),
                "status": "ok",
                "stats": { "mode": method, "root": store.path(), "requiresRestart": !pending.is_empty() },
            },
        },
    }))
}
