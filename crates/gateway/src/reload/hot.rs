//! Hot apply: one reload outcome (from the watcher or an in-process write) becomes the live
//! config, its hot actions (log level, shared-secret rotation with 4001 closes, cooldown
//! policy, …) and a `config.changed` broadcast.
//!
//! Layer 2: uses `state`, `launch`, `wire` and `reload::runtime`.

use crate::options::SharedAuth;
use crate::reload::runtime::lock;
use crate::state::GatewayState;
use openclaw_rs_config::{AuthMode, Config};
use openclaw_rs_cooldowns::Policy;
use openclaw_rs_reload::{HotAction, ReloadOutcome};

/// Apply one outcome (from the watcher or an in-process write): swap the live config, perform
/// hot actions, broadcast `config.changed`, and wake the restart logic.
pub fn apply_outcome(state: &GatewayState, outcome: &ReloadOutcome) {
    let rt = &state.reload();
    let _serial = lock(&rt.apply_lock);
    state.metrics().config_reload(outcome);
    match outcome {
        ReloadOutcome::Unchanged => {}
        ReloadOutcome::Rejected(r) => {
            state.broadcast(&crate::wire::config_rejected(r));
        }
        ReloadOutcome::Applied(a) => {
            if !a.apply_disabled {
                // `state.config()` is the store's ArcSwap: already swapped.
                let old = a.previous.clone();
                let new = rt.store.config();
                for action in &a.plan.actions {
                    apply_action(state, *action, &old, &new);
                }
                rt.config_tx.send_replace(new);
                tracing::info!(paths = ?a.changed_paths, actions = ?a.plan.actions, "config hot reload applied");
            }
            state.broadcast(&crate::wire::config_applied(a));
            rt.wake.notify_one();
        }
    }
}

fn apply_action(state: &GatewayState, action: HotAction, old: &Config, new: &Config) {
    match action {
        HotAction::SetLogLevel => {
            let level = new.logging.level.clone().unwrap_or_else(|| "info".into());
            match lock(&state.reload().log_hook).as_ref() {
                Some(hook) => match hook(&level) {
                    Ok(()) => tracing::info!(%level, "log level changed"),
                    Err(e) => tracing::warn!(%level, error = %e, "log level not applied"),
                },
                None => {
                    tracing::info!(%level, "logging.level recorded (this process has no log reload handle)")
                }
            }
        }
        HotAction::RotateSharedSecret => rotate_shared_secret(state, old, new),
        HotAction::UpdateCooldownSettings => {
            state
                .reload()
                .cooldowns
                .set_policy(Policy::from_settings(&new.auth.cooldowns));
        }
        // Read from the live config where they are used (next run, next lease, next connect);
        // areas that cache them watch `subscribe_config`.
        HotAction::ReloadRuntimes
        | HotAction::UpdateAgentDefaults
        | HotAction::UpdateLimits
        | HotAction::UpdateTrustedProxies
        | HotAction::UpdateAuthProfiles => {}
        // The HTTP path reads `gateway.controlUi.enabled` from the live config per request.
        HotAction::ToggleControlUi => {
            tracing::info!(
                enabled = new.gateway.control_ui.is_enabled(),
                "control UI serving toggled"
            );
        }
    }
}

/// Shared token/password rotation with the auth mode unchanged: the new secret works at once,
/// connections that proved the old one close with 4001 "gateway auth changed". A secret set by a
/// flag or environment variable wins over the file and is left alone.
fn rotate_shared_secret(state: &GatewayState, old: &Config, new: &Config) {
    let current = state.shared_auth();
    let mut next: SharedAuth = (*current).clone();
    let mut closed_method = None;
    // Where the token in force came from: the config file, the generated token file, or a
    // flag/environment variable (which wins and is never rotated by a config edit).
    let token_file = || {
        openclaw_rs_state::read_optional(&state.options().state_dir.join(crate::launch::TOKEN_FILE))
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .filter(|t| !t.is_empty())
    };
    if old.gateway.auth.token != new.gateway.auth.token {
        let from_config = current.token.is_some()
            && (current.token == old.gateway.auth.token
                || (old.gateway.auth.token.is_none() && current.token == token_file()));
        if !from_config {
            tracing::warn!("gateway.auth.token changed in config, but the token in force comes from a flag or environment variable; not rotated");
        } else {
            next.token = match new.gateway.auth.token.clone().filter(|t| !t.is_empty()) {
                Some(t) => Some(t),
                None if current.mode == AuthMode::Token => {
                    crate::launch::load_or_generate_token(&state.options().state_dir)
                        .map(|(t, _)| t)
                        .ok()
                }
                None => None,
            };
            if next.token != current.token && current.mode == AuthMode::Token {
                closed_method = Some("token");
            }
        }
    }
    if old.gateway.auth.password != new.gateway.auth.password {
        let from_config = current.password == old.gateway.auth.password;
        if !from_config {
            tracing::warn!("gateway.auth.password changed in config, but the password in force comes from a flag or environment variable; not rotated");
        } else {
            next.password = new.gateway.auth.password.clone();
            if next.password != current.password && current.mode == AuthMode::Password {
                closed_method = Some("password");
            }
        }
    }
    if next == *current {
        return;
    }
    let stale_token = state.auth_service().stale_device_tokens(&next.secrets());
    state.set_shared_auth(next);
    // Device tokens earned with the old secret stop working; their connections go too.
    let stale = state.close_where(
        |c| {
            let i = c.info();
            i.auth_method == "device-token"
                && i.device_id
                    .as_deref()
                    .is_some_and(|d| stale_token(d, &i.role))
        },
        openclaw_rs_protocol::close::AUTH_CHANGED,
        openclaw_rs_protocol::close::REASON_AUTH_CHANGED,
    );
    if stale > 0 {
        tracing::info!(
            closed = stale,
            "shared secret rotated; connections on device tokens earned with it closed"
        );
    }
    if let Some(method) = closed_method {
        let n = state.close_where(
            |c| c.info().auth_method == method,
            openclaw_rs_protocol::close::AUTH_CHANGED,
            openclaw_rs_protocol::close::REASON_AUTH_CHANGED,
        );
        tracing::info!(
            closed = n,
            method,
            "shared secret rotated; old-credential connections closed"
        );
    }
}
