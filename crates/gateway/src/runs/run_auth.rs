//! Runtime auth selection: which auth profile a run uses, chosen from the cooldown table, and
//! recording a failed run against it.
//!
//! This is the one place where runs meet cooldowns (`openclaw_rs_cooldowns`): the app-server
//! executor calls [`select_run_auth`] before a run and [`record_run_failure`] after a failure.
//!
//! Layer 0: uses nothing else in the crate (config and cooldowns are passed in).

use openclaw_rs_config::Config;
use openclaw_rs_cooldowns::Cooldowns;

/// The auth profile a run uses, chosen by [`select_run_auth`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAuth {
    /// The chosen `auth.profiles` entry.
    pub profile: String,
    /// `main` for a user's own session, `subagent` for spawned helpers.
    pub lane: String,
    /// The model the failure is recorded for (`default` when the run named none).
    pub model: String,
    /// Profiles passed over because they were cooling down.
    pub skipped: Vec<openclaw_rs_cooldowns::Skipped>,
    /// `auth.profiles.<profile>.env`, merged into the runtime's environment.
    pub env: std::collections::BTreeMap<String, String>,
}

/// The lane of a run: helpers (spawned runs) record failures in their own lane, so a helper's
/// 401 never cools down the profile of the user's own session (`auth.cooldowns.helperLanePolicy`).
pub fn run_lane(spawned: bool) -> &'static str {
    if spawned {
        "subagent"
    } else {
        openclaw_rs_cooldowns::MAIN_LANE
    }
}

/// Choose the auth profile for a run on `runtime`: the candidates are `auth.order.<runtime>`,
/// else the runtime's `authProfile`; the first one not cooling down for (model, lane) wins.
/// `Ok(None)`: the runtime has no auth profile (nothing to track). `Err`: every candidate is
/// cooling down; the message names each one and until when.
pub fn select_run_auth(
    cfg: &Config,
    cooldowns: &Cooldowns,
    runtime: &str,
    model: Option<&str>,
    spawned: bool,
) -> Result<Option<RunAuth>, String> {
    let candidates: Vec<String> = match cfg.auth.order.get(runtime) {
        Some(order) if !order.is_empty() => order.clone(),
        _ => match cfg
            .runtimes
            .get(runtime)
            .and_then(|r| r.auth_profile.clone())
        {
            Some(p) => vec![p],
            None => return Ok(None),
        },
    };
    let model = model.unwrap_or("default").to_string();
    let lane = run_lane(spawned);
    let selected = cooldowns
        .select(&candidates, &model, lane, openclaw_rs_cooldowns::now_ms())
        .map_err(|e| e.to_string())?;
    if !selected.skipped.is_empty() {
        let skipped: Vec<String> = selected.skipped.iter().map(|s| s.to_string()).collect();
        tracing::info!(profile = %selected.profile, skipped = ?skipped, lane, "auth profile failover");
    }
    let env = cfg
        .auth
        .profiles
        .get(&selected.profile)
        .and_then(|p| p.get("env"))
        .and_then(|e| e.as_object())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(RunAuth {
        profile: selected.profile,
        lane: lane.to_string(),
        model,
        skipped: selected.skipped,
        env,
    }))
}

/// Record a failed run against its auth profile (runtime state in `state/cooldowns.json`; never
/// config, so never a reload or restart). Classes that say nothing about the profile are
/// ignored.
pub fn record_run_failure(
    cooldowns: &Cooldowns,
    auth: &RunAuth,
    class: openclaw_rs_cooldowns::FailureClass,
) {
    let Some(reason) = openclaw_rs_cooldowns::FailureReason::from_class(class) else {
        return;
    };
    if let Err(e) = cooldowns.record_failure(
        &auth.profile,
        &auth.model,
        &auth.lane,
        reason,
        openclaw_rs_cooldowns::now_ms(),
    ) {
        tracing::warn!("cooldown recorded in memory but not persisted: {e}");
    }
}
