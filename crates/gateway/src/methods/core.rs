//! Core methods: `health`, `status`, `gateway.identity.get`.

use super::MethodSpec;
use crate::state::{now_ms, GatewayState};
use openclaw_rs_protocol::methods::gateway::{
    CliAgentRow, CliAgents, CliProjection, ConfigReloadHealth, GatewayFacts, GatewayIdentity,
    GatewayIdentityParams, HealthParams, HealthResult, ModelRuntimeHealth, PairingSummary,
    PluginsHealth, ProcessMemory, StatusHeartbeat, StatusParams, StatusResult, TaskAudit,
};
use openclaw_rs_protocol::Policy;
use std::sync::Arc;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(
            |state, _ctx, _p: HealthParams| async move { Ok(health_payload(&state)) },
        )
        .with_fast(|state| state.health_text()),
        MethodSpec::typed(|state, _ctx, p: StatusParams| async move {
            let mut out = status_payload(&state);
            if p.include_cli_projection == Some(true) {
                out.cli_projection = Some(cli_projection(&state));
            }
            Ok(out)
        }),
        MethodSpec::typed(|state, _ctx, _p: GatewayIdentityParams| async move {
            Ok(GatewayIdentity {
                boot_id: state.boot_id.clone(),
                instance_id: state.boot_id.clone(),
                version: crate::VERSION.into(),
                host: hostname(),
                pid: std::process::id(),
            })
        }),
    ]
}

/// The `health` payload (also `hello-ok.snapshot.health` and the `health` event).
pub fn health_payload(state: &GatewayState) -> HealthResult {
    let started = std::time::Instant::now();
    let draining = state.is_draining();
    HealthResult {
        ok: !draining,
        ts: now_ms(),
        duration_ms: started.elapsed().as_millis() as u64,
        plugins: PluginsHealth::default(),
        config_reload: ConfigReloadHealth {
            hot_reload_status: "active".into(),
        },
        channels: Default::default(),
        channel_order: Vec::new(),
        channel_labels: Default::default(),
        heartbeat_seconds: 0,
        default_agent_id: "main".into(),
        agents: Vec::new(),
        model_runtime: Some(ModelRuntimeHealth::default()),
        event_loop: state.event_loop_stats().to_wire(),
        gateway: Some(GatewayFacts {
            version: crate::VERSION.into(),
            uptime_ms: state.uptime_ms(),
            connections: state.connection_count(),
            draining,
        }),
    }
}

/// The `status` payload: process facts an operator needs to judge the gateway, and OpenClaw's
/// summary fields so that its `openclaw status` renders this gateway.
pub fn status_payload(state: &Arc<GatewayState>) -> StatusResult {
    let auth = state.auth.load();
    let (sessions, tasks) = super::sessions::status_sections(state);
    StatusResult {
        runtime_version: crate::VERSION.into(),
        version: crate::VERSION.into(),
        pid: std::process::id(),
        boot_id: state.boot_id.clone(),
        started_at_ms: state.started_at_ms,
        uptime_ms: state.uptime_ms(),
        connections: state.connection_count(),
        process_memory: ProcessMemory {
            rss_bytes: rss_bytes(),
        },
        event_loop: Some(state.event_loop_stats().to_wire()),
        config_path: state.opts.config_path.display().to_string(),
        state_dir: state.opts.state_dir.root().display().to_string(),
        auth_mode: auth.mode.as_str().into(),
        listen: state.opts.listen_urls.clone(),
        draining: state.is_draining(),
        reload: state.reload.status(),
        sessions,
        heartbeat: StatusHeartbeat {
            default_agent_id: "main".into(),
            agents: Vec::new(),
        },
        channel_summary: Vec::new(),
        queued_system_events: Vec::new(),
        degraded_secret_owners: Vec::new(),
        degraded_plugins: Vec::new(),
        tasks,
        task_audit: TaskAudit::default(),
        pairing: PairingSummary {
            pending: state.devices.pending_count(now_ms()),
        },
        policy: Policy {
            max_payload: state.opts.max_payload,
            max_buffered_bytes: state.opts.max_buffered_bytes,
            tick_interval_ms: state.opts.tick_interval.as_millis() as u64,
        },
        cli_projection: None,
        control_ui: Some(
            state
                .control_ui
                .status(state.config.load().gateway.control_ui.is_enabled()),
        ),
        runtimes: state.sessions.get().map(|s| {
            let p = s.pool.stats();
            openclaw_rs_protocol::methods::gateway::RuntimeHealth {
                processes: p.ledger.processes,
                leases: p.ledger.leases,
                spawned_total: p.spawned_total,
                retired_graceful_total: p.retired_graceful_total,
                retired_wedged_total: p.retired_wedged_total,
            }
        }),
        cooldowns: active_cooldowns(state),
    }
}

/// The cooldowns in force now, for `status`.
fn active_cooldowns(
    state: &GatewayState,
) -> Vec<openclaw_rs_protocol::methods::gateway::ActiveCooldown> {
    let now = openclaw_rs_cooldowns::now_ms();
    state
        .reload
        .cooldowns()
        .snapshot()
        .entries()
        .into_iter()
        .filter(|e| e.until() > now)
        .map(|e| openclaw_rs_protocol::methods::gateway::ActiveCooldown {
            profile: e.profile.clone(),
            lane: e.lane.clone(),
            model: e.model.clone(),
            reason: e.reason.as_str().to_owned(),
            until_ms: e.until(),
        })
        .collect()
}

/// `status {includeCliProjection:true}`: the agents OpenClaw's CLI lists (`main` and each
/// `agents.entries` key).
fn cli_projection(state: &GatewayState) -> CliProjection {
    let cfg = state.config.load();
    let mut ids = vec!["main".to_owned()];
    ids.extend(cfg.agents.entries.keys().filter(|k| *k != "main").cloned());
    CliProjection {
        agents: CliAgents {
            default_id: "main".into(),
            ownership: None,
            selection_required: false,
            rows: ids.into_iter().map(|id| CliAgentRow { id }).collect(),
        },
        update_channel: None,
    }
}

/// Resident set size from `/proc/self/status` (`VmRSS`), `null` where unavailable.
pub fn rss_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The machine's hostname (`/proc/sys/kernel/hostname`, read once), or `localhost`.
pub fn hostname() -> String {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_owned())
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "localhost".into())
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_is_read_on_linux() {
        let rss = rss_bytes().unwrap();
        assert!(rss > 0);
    }
}
