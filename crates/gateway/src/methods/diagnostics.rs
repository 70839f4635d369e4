//! Diagnostics the Control UI (Connection, Debug, Config views) and OpenClaw's CLI (`doctor`,
//! `status --all`, `system heartbeat last`) read: `system.info`, `update.status`,
//! `last-heartbeat`, `diagnostics.stability`, `diagnostics.lanes`, `doctor.memory.status`,
//! `config.schema`.
//!
//! Every figure is measured here or read from `/proc`; what this gateway does not have (an
//! update channel, a heartbeat, a diagnostic recorder, a memory subsystem) is answered with
//! OpenClaw's "none" shape for it.

use crate::base::now_ms;
use crate::rpc::MethodSpec;
use crate::state::GatewayState;
use openclaw_rs_protocol::methods::system::{
    ConfigSchemaChild, ConfigSchemaLookupParams, ConfigSchemaLookupResult, ConfigSchemaParams,
    ConfigSchemaResponse, DiagnosticsLanesParams, DiagnosticsLanesResult,
    DiagnosticsStabilityParams, DiagnosticsStabilityResult, DoctorMemoryStatusParams,
    DoctorMemoryStatusResult, HeartbeatEvent, Lane, LastHeartbeatParams, MemoryEmbedding,
    SystemInfoParams, SystemInfoResult, UiHint, UpdateStatusParams, UpdateStatusResult,
};
use openclaw_rs_protocol::{ErrorCode, ErrorShape};

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(
            |state, _ctx, _p: SystemInfoParams| async move { Ok(system_info(&state)) },
        ),
        MethodSpec::typed(|_state, _ctx, _p: UpdateStatusParams| async move {
            Ok(UpdateStatusResult::default())
        }),
        MethodSpec::typed(|_state, _ctx, _p: LastHeartbeatParams| async move {
            Ok(None::<HeartbeatEvent>)
        }),
        MethodSpec::typed(|_state, _ctx, _p: DiagnosticsStabilityParams| async move {
            Ok(DiagnosticsStabilityResult {
                generated_at: iso_now(),
                ..DiagnosticsStabilityResult::default()
            })
        }),
        MethodSpec::typed(
            |state, _ctx, _p: DiagnosticsLanesParams| async move { Ok(lanes(&state)) },
        ),
        MethodSpec::typed(|_state, _ctx, p: DoctorMemoryStatusParams| async move {
            Ok(DoctorMemoryStatusResult {
                agent_id: p.agent_id.unwrap_or_else(|| "main".into()),
                search_runtime_registered: false,
                embedding: MemoryEmbedding {
                    ok: false,
                    error: Some(
                        "memory search unavailable (openclaw-rs has no memory subsystem)".into(),
                    ),
                },
            })
        }),
        MethodSpec::typed(
            |_state, _ctx, _p: ConfigSchemaParams| async move { Ok(config_schema()) },
        ),
        MethodSpec::typed(|_state, _ctx, p: ConfigSchemaLookupParams| async move {
            config_schema_lookup(p.path.as_str())
        }),
    ]
}

/// Now as ISO-8601 UTC with milliseconds (`2026-12-03T13:35:10.417Z`).
pub(crate) fn iso_now() -> String {
    crate::logfile::iso_ms(now_ms())
}

/// A `/proc/meminfo` figure in bytes.
fn meminfo(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn system_info(state: &GatewayState) -> SystemInfoResult {
    let host = crate::base::hostname();
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let meminfo_text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
    });
    let load_average = std::fs::read_to_string("/proc/loadavg").ok().and_then(|t| {
        let v: Vec<f64> = t
            .split_whitespace()
            .take(3)
            .filter_map(|x| x.parse().ok())
            .collect();
        <[f64; 3]>::try_from(v).ok()
    });
    let port = state
        .options()
        .listen_urls
        .iter()
        .find_map(|u| u.rsplit(':').next()?.trim_end_matches('/').parse().ok());
    let platform = std::env::consts::OS.to_owned();
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    let os_name = match platform.as_str() {
        "linux" => "Linux",
        "macos" => "macOS",
        other => other,
    };
    SystemInfoResult {
        machine_name: host.clone(),
        hostname: host,
        os_label: format!("{os_name} {release}").trim().to_owned(),
        platform,
        release,
        arch: arch.to_owned(),
        port,
        node_version: format!("openclaw-rs {}", crate::base::VERSION),
        pid: std::process::id(),
        process_instance_id: Some(state.boot_id().to_owned()),
        uptime_ms: state.uptime_ms(),
        cpu_count: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        cpu_model,
        load_average,
        memory_total_bytes: meminfo(&meminfo_text, "MemTotal:").unwrap_or(0),
        memory_free_bytes: meminfo(&meminfo_text, "MemAvailable:").unwrap_or(0),
        event_loop: Some(state.event_loop_stats().to_wire()),
    }
}

/// Run lanes: `main` (top-level sessions; each runs one turn at a time, no gateway-wide cap)
/// and `subagent` (spawned sessions, capped by `session.maxConcurrentSubagentRuns`).
fn lanes(state: &GatewayState) -> DiagnosticsLanesResult {
    let draining = state.is_draining();
    let mut main = Lane {
        lane: "main".into(),
        draining,
        ..Lane::default()
    };
    let mut sub = Lane {
        lane: "subagent".into(),
        draining,
        ..Lane::default()
    };
    if let Some(s) = state.sessions() {
        for i in s.manager().list() {
            let lane = if i.depth > 0 { &mut sub } else { &mut main };
            lane.queued_count += i.queued as u64;
            lane.active_count += u64::from(i.running_run_id.is_some());
        }
        sub.max_concurrent = Some(u64::from(s.manager().limits().max_concurrent_subagent_runs));
    }
    DiagnosticsLanesResult {
        ts: now_ms(),
        lanes: vec![main, sub],
        dynamic: None,
    }
}

/// The config editor's hint for table row `i`.
fn hint(i: usize, f: &openclaw_rs_config::schema::FieldDoc) -> UiHint {
    UiHint {
        label: Some(openclaw_rs_config::schema::label(f.path)),
        help: Some(format!("{} Default: {}.", f.doc, f.default)),
        group: f.path.split('.').next().map(str::to_owned),
        order: Some(i as i64),
        sensitive: openclaw_rs_config::schema::is_sensitive(f.path).then_some(true),
        ..UiHint::default()
    }
}

/// The table row (and its index) describing `path`, if any.
fn row(path: &str) -> Option<(usize, &'static openclaw_rs_config::schema::FieldDoc)> {
    openclaw_rs_config::schema::SCHEMA
        .iter()
        .enumerate()
        .find(|(_, f)| openclaw_rs_config::schema::pattern_matches(f.path, path))
}

/// What an edit of `path` needs, from the reload classifier's rules (`none` without a rule).
fn reload_kind(path: &str) -> String {
    use openclaw_rs_reload::classify::Decision;
    match openclaw_rs_reload::classify::rule_for(path).map(|r| r.decision) {
        Some(Decision::Restart) => "restart",
        // A token or password rotation with the mode unchanged is applied in place.
        Some(Decision::Hot(_) | Decision::SharedSecret) => "hot",
        Some(Decision::None) | None => "none",
    }
    .to_owned()
}

/// `config.schema.lookup`: one node of the generated schema, its children, and what editing
/// each needs.
fn config_schema_lookup(path: &str) -> Result<ConfigSchemaLookupResult, ErrorShape> {
    let Some((schema, kids)) = openclaw_rs_config::schema::lookup_schema(path) else {
        // Node's refusal, word for word.
        return Err(ErrorShape::new(
            ErrorCode::InvalidRequest,
            "config schema path not found",
        ));
    };
    let hinted = |p: &str| row(p).map(|(i, f)| (hint(i, f), f.path.to_owned()));
    let (hint, hint_path) = hinted(path).unzip();
    let children = kids
        .into_iter()
        .map(|k| {
            let (hint, hint_path) = hinted(&k.path).unzip();
            ConfigSchemaChild {
                reload_kind: Some(reload_kind(&k.path)),
                key: k.key,
                path: k.path,
                kind: k.ty,
                required: false,
                has_children: k.has_children,
                hint,
                hint_path,
            }
        })
        .collect();
    Ok(ConfigSchemaLookupResult {
        path: path.to_owned(),
        schema,
        reload_kind: Some(reload_kind(path)),
        hint,
        hint_path,
        children,
    })
}

/// `config.schema`: generated from the config schema table (`openclaw_rs_config::schema`).
fn config_schema() -> ConfigSchemaResponse {
    let ui_hints = openclaw_rs_config::schema::SCHEMA
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.to_owned(), hint(i, f)))
        .collect();
    ConfigSchemaResponse {
        schema: openclaw_rs_config::schema::json_schema(),
        ui_hints,
        version: crate::base::VERSION.to_owned(),
        generated_at: iso_now(),
    }
}
