//! Core methods: `health`, `status`, `gateway.identity.get`.

use crate::base::now_ms;
use crate::rpc::MethodSpec;
use crate::state::GatewayState;
use openclaw_rs_protocol::methods::gateway::{
    AgentSessions, SessionLimits, StatusSessionDefaults, StatusSessions, TaskSummary,
    TasksByRuntime, TasksByStatus,
};
use openclaw_rs_protocol::methods::gateway::{
    CliAgentRow, CliAgents, CliProjection, ConfigReloadHealth, GatewayFacts, GatewayIdentity,
    GatewayIdentityParams, HealthParams, HealthResult, ModelRuntimeHealth, PairingSummary,
    PluginsHealth, ProcessMemory, StatusHeartbeat, StatusParams, StatusResult, TaskAudit,
};
use openclaw_rs_protocol::Policy;
use openclaw_rs_sessions::SessionInfo;
use std::sync::Arc;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(
            |state, _ctx, _p: HealthParams| async move { Ok(health_payload(&state)) },
        )
        .with_fast(health_text),
        MethodSpec::typed(|state, _ctx, p: StatusParams| async move {
            let mut out = status_payload(&state);
            if p.include_cli_projection == Some(true) {
                out.cli_projection = Some(cli_projection(&state));
            }
            Ok(out)
        }),
        MethodSpec::typed(|state, _ctx, _p: GatewayIdentityParams| async move {
            Ok(GatewayIdentity {
                boot_id: state.boot_id().to_owned(),
                instance_id: state.boot_id().to_owned(),
                version: crate::base::VERSION.into(),
                host: crate::base::hostname(),
                pid: std::process::id(),
            })
        }),
    ]
}

/// The `health` payload serialized, from the state's cache (at most
/// [`crate::state::HEALTH_CACHE_TTL`] old): the fast path of `health`.
pub(crate) fn health_text(state: &GatewayState) -> Arc<str> {
    state.cached_health(|| {
        openclaw_rs_protocol::Payload::encode(&health_payload(state))
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|_| "null".into())
            .into()
    })
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
            version: crate::base::VERSION.into(),
            uptime_ms: state.uptime_ms(),
            connections: state.connection_count(),
            draining,
        }),
    }
}

/// The `status` payload: process facts an operator needs to judge the gateway, and OpenClaw's
/// summary fields so that its `openclaw status` renders this gateway.
pub fn status_payload(state: &Arc<GatewayState>) -> StatusResult {
    let auth = state.shared_auth();
    let (sessions, tasks) = status_sections(state);
    StatusResult {
        runtime_version: crate::base::VERSION.into(),
        version: crate::base::VERSION.into(),
        pid: std::process::id(),
        boot_id: state.boot_id().to_owned(),
        started_at_ms: state.started_at_ms(),
        uptime_ms: state.uptime_ms(),
        connections: state.connection_count(),
        process_memory: ProcessMemory {
            rss_bytes: crate::base::rss_bytes(),
        },
        event_loop: Some(state.event_loop_stats().to_wire()),
        config_path: state.options().config_path.display().to_string(),
        state_dir: state.options().state_dir.root().display().to_string(),
        auth_mode: auth.mode.as_str().into(),
        listen: state.options().listen_urls.clone(),
        draining: state.is_draining(),
        reload: state.reload().status(),
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
            pending: state.auth_service().pending_count(now_ms()),
        },
        policy: Policy {
            max_payload: state.options().max_payload,
            max_buffered_bytes: state.options().max_buffered_bytes,
            tick_interval_ms: state.options().tick_interval.as_millis() as u64,
        },
        cli_projection: None,
        control_ui: Some(
            state
                .control_ui()
                .status(state.config().load().gateway.control_ui.is_enabled()),
        ),
        runtimes: state.sessions().map(|s| {
            let p = s.pool().stats();
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
        .reload()
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
    let cfg = state.config().load();
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

/// The `sessions` and `tasks` sections of `status`, from one listing of the sessions: counts an
/// operator needs to judge the run queue, in OpenClaw's shape plus ours.
pub fn status_sections(state: &GatewayState) -> (StatusSessions, TaskSummary) {
    let dir = state
        .options()
        .state_dir
        .join("sessions")
        .display()
        .to_string();
    let Some(s) = state.sessions() else {
        let sessions = StatusSessions {
            started: false,
            paths: vec![dir],
            count: 0,
            defaults: StatusSessionDefaults::default(),
            recent: Vec::new(),
            by_agent: Vec::new(),
            running: None,
            queued: None,
            pending_announces: None,
            app_server_pids: None,
            limits: None,
        };
        return (sessions, task_summary(&[]));
    };
    let list = s.manager().list();
    let limits = s.manager().limits();
    // OpenClaw's `sessions.byAgent` rows (its CLI's `status` reads them).
    let mut by_agent: std::collections::BTreeMap<&str, usize> = Default::default();
    for i in &list {
        *by_agent.entry(i.agent_id.as_str()).or_default() += 1;
    }
    let by_agent = by_agent
        .into_iter()
        .map(|(agent, count)| AgentSessions {
            agent_id: agent.to_owned(),
            path: dir.clone(),
            count,
            recent: Vec::new(),
        })
        .collect();
    let sessions = StatusSessions {
        started: true,
        paths: vec![dir],
        count: list.len(),
        defaults: StatusSessionDefaults::default(),
        recent: Vec::new(),
        by_agent,
        running: Some(list.iter().filter(|i| i.running_run_id.is_some()).count()),
        queued: Some(list.iter().map(|i| i.queued).sum()),
        pending_announces: Some(list.iter().map(|i| i.pending_announces).sum()),
        app_server_pids: Some(s.pool().live_pids()),
        limits: Some(SessionLimits {
            max_spawn_depth: limits.max_spawn_depth,
            max_children_per_session: limits.max_children_per_session,
            max_concurrent_subagent_runs: limits.max_concurrent_subagent_runs,
        }),
    };
    (sessions, task_summary(&list))
}

/// OpenClaw's `status.tasks` summary, filled with this gateway's active subagent runs (runs of
/// sessions at depth ≥ 1). Finished runs are not counted: `total` is the active count.
fn task_summary(list: &[SessionInfo]) -> TaskSummary {
    let (mut queued, mut running) = (0usize, 0usize);
    for i in list.iter().filter(|i| i.depth > 0) {
        queued += i.queued;
        running += usize::from(i.running_run_id.is_some());
    }
    let active = queued + running;
    TaskSummary {
        total: active,
        active,
        by_status: TasksByStatus {
            queued,
            running,
            ..TasksByStatus::default()
        },
        by_runtime: TasksByRuntime {
            subagent: active,
            ..TasksByRuntime::default()
        },
        ..TaskSummary::default()
    }
}
