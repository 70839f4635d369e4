//! `config.get` (read scope, secrets redacted), `config.set`, `config.patch` and `gateway.restart.request` (admin scope).
//!
//! Writes go through the same path as file edits (`ConfigStore` → classify → hot apply →
//! `config.changed`), so a write over RPC and an edit in an editor behave the same.

use crate::reload::hot::apply_outcome;
use crate::rpc::MethodSpec;
use crate::state::GatewayState;
use openclaw_rs_protocol::methods::config::{
    ConfigApplyParams, ConfigGetParams, ConfigGetResult, ConfigIssue, ConfigPatchParams,
    ConfigSetParams, ConfigWriteResult, CooldownRow, CooldownsClearParams, CooldownsClearResult,
    CooldownsListParams, CooldownsListResult, RestartPreflightParams, RestartRequestParams,
    RestartRequestResult, SentinelPayload, SentinelStats, WriteSentinel,
};
use openclaw_rs_protocol::{ErrorCode, ErrorShape};
use openclaw_rs_reload::store::{redact, WriteError};
use openclaw_rs_reload::ReloadOutcome;
use std::sync::Arc;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        // Read scope, as in OpenClaw: secrets are redacted everywhere in the reply, `raw` included.
        MethodSpec::typed(|state, _ctx, _p: ConfigGetParams| async move { Ok(config_get(&state)) }),
        MethodSpec::typed(|state, _ctx, p: ConfigSetParams| async move {
            write(
                &state,
                Write::Set,
                p.raw.into(),
                p.base_hash.map(String::from),
            )
            .await
        }),
        MethodSpec::typed(|state, _ctx, p: ConfigPatchParams| async move {
            write(
                &state,
                Write::Patch,
                p.raw.into(),
                p.base_hash.map(String::from),
            )
            .await
        }),
        // OpenClaw's `config.apply {raw, baseHash?, …}`: a whole-file write like `config.set`
        // (its extra fields are accepted and ignored: restarts here are drained, never
        // scheduled by delay).
        MethodSpec::typed(|state, _ctx, p: ConfigApplyParams| async move {
            write(
                &state,
                Write::Apply,
                p.raw.into(),
                p.base_hash.map(String::from),
            )
            .await
        }),
        // Auth-profile cooldowns are runtime state: list them, and clear one profile by hand
        // (e.g. after topping up a billing account) without touching config.
        MethodSpec::typed(|state, _ctx, _p: CooldownsListParams| async move {
            let now = openclaw_rs_cooldowns::now_ms();
            let snap = state.reload().cooldowns().snapshot();
            let cooldowns = snap
                .entries()
                .into_iter()
                .map(|e| CooldownRow {
                    profile: e.profile.clone(),
                    model: e.model.clone(),
                    lane: e.lane.clone(),
                    cooldown_until: e.cooldown_until,
                    disabled_until: e.disabled_until,
                    reason: e.reason.as_str().to_owned(),
                    error_count: e.error_count,
                    failure_counts: e
                        .failure_counts
                        .iter()
                        .map(|(r, n)| (r.as_str().to_owned(), *n))
                        .collect(),
                    last_failure_at: e.last_failure_at,
                    active: e.until() > now,
                })
                .collect();
            Ok(CooldownsListResult { cooldowns, ts: now })
        }),
        MethodSpec::typed(|state, _ctx, p: CooldownsClearParams| async move {
            let profile = p.profile.into_string();
            let cd = state.reload().cooldowns().clone();
            let p2 = profile.clone();
            tokio::task::spawn_blocking(move || cd.clear_profile(&p2))
                .await
                .map_err(|e| ErrorShape::new(ErrorCode::Unavailable, e.to_string()))?
                .map_err(|e| {
                    ErrorShape::new(ErrorCode::Unavailable, format!("auth.cooldowns.clear: {e}"))
                })?;
            tracing::info!(%profile, "auth profile cooldowns cleared by request");
            Ok(CooldownsClearResult { ok: true, profile })
        }),
        MethodSpec::typed(|state, _ctx, _p: RestartPreflightParams| async move {
            Ok(state.reload().preflight())
        }),
        MethodSpec::typed(|state, ctx, p: RestartRequestParams| async move {
            let force = p.force.unwrap_or(false);
            let reason = p.reason.unwrap_or_else(|| "restart requested".into());
            let who = format!("gateway.restart.request (conn {})", ctx.conn_id());
            let intent = state.reload().request_restart(&who, &reason, force);
            Ok(RestartRequestResult {
                ok: true,
                restart: crate::wire::restart_intent(&intent),
            })
        }),
    ]
}

fn config_get(state: &GatewayState) -> ConfigGetResult {
    let store = state.reload().store();
    let snap = store.snapshot();
    let status = store.status();
    let live = redact(&serde_json::to_value(&*store.config()).unwrap_or_default());
    let parsed = redact(&snap.raw);
    // The file text carries secrets verbatim; when it has any, `raw` is the redacted document
    // as JSON instead (a `config.set` of it restores the secrets, and `hash` still names the file).
    let raw = if parsed == *snap.raw {
        snap.text.to_string()
    } else {
        serde_json::to_string_pretty(&parsed).unwrap_or_default()
    };
    ConfigGetResult {
        path: store.path().display().to_string(),
        included_paths: Vec::new(),
        exists: snap.exists,
        raw,
        source_config: parsed.clone(),
        parsed,
        resolved: live.clone(),
        runtime_config: live.clone(),
        config: live,
        config_revision_hash: snap.hash.clone(),
        hash: snap.hash.clone(),
        applied_config_hash: status.hash.clone(),
        valid: status.last_error.is_none(),
        issues: status
            .last_error
            .iter()
            .map(|e| ConfigIssue {
                message: e.message.clone(),
                at_ms: e.at_ms,
            })
            .collect(),
        warnings: snap.warnings.clone(),
        legacy_issues: Vec::new(),
        pending_restart: status.pending_restart.clone(),
    }
}

/// The three config writes.
#[derive(Debug, Clone, Copy)]
enum Write {
    Set,
    Patch,
    Apply,
}

impl Write {
    fn method(self) -> &'static str {
        match self {
            Write::Set => "config.set",
            Write::Patch => "config.patch",
            Write::Apply => "config.apply",
        }
    }
}

fn invalid(method: &str, msg: impl std::fmt::Display) -> ErrorShape {
    ErrorShape::new(ErrorCode::InvalidRequest, format!("{method}: {msg}"))
}

async fn write(
    state: &Arc<GatewayState>,
    kind: Write,
    raw: String,
    base: Option<String>,
) -> Result<ConfigWriteResult, ErrorShape> {
    let method = kind.method();
    let store = state.reload().store().clone();
    let result = tokio::task::spawn_blocking(move || match kind {
        Write::Patch => store.patch(&raw, base.as_deref()),
        Write::Set | Write::Apply => store.set(&raw, base.as_deref()),
    })
    .await
    .map_err(|e| ErrorShape::new(ErrorCode::Unavailable, format!("{method}: {e}")))?;
    let outcome = result.map_err(|e| match e {
        WriteError::BaseHashMismatch { .. } | WriteError::BaseHashRequired => {
            invalid(method, e).with_detail_code("CONFIG_BASE_HASH_MISMATCH")
        }
        WriteError::Io(_) | WriteError::Read { .. } => {
            ErrorShape::new(ErrorCode::Unavailable, format!("{method}: {e}"))
        }
        other => invalid(method, other),
    })?;
    apply_outcome(state, &outcome);
    let store = state.reload().store();
    let live = serde_json::to_value(&*store.config()).unwrap_or_default();
    let (changed_paths, pending, actions) = match &outcome {
        ReloadOutcome::Applied(a) => (
            a.changed_paths.clone(),
            a.pending_restart.clone(),
            crate::wire::hot_actions(&a.plan.actions),
        ),
        _ => (Vec::new(), store.pending_restart(), Vec::new()),
    };
    let path = store.path().display().to_string();
    let requires_restart = !pending.is_empty();
    Ok(ConfigWriteResult {
        ok: true,
        path: path.clone(),
        hash: store.snapshot().hash,
        config: redact(&live),
        changed_paths,
        actions,
        requires_restart,
        pending_restart: pending,
        sentinel: WriteSentinel {
            persisted: true,
            payload: SentinelPayload {
                kind: method.replace('.', "-"),
                status: "ok".into(),
                stats: SentinelStats {
                    mode: method.into(),
                    root: path,
                    requires_restart,
                },
            },
        },
    })
}
