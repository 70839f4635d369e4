//! Core methods: `health`, `status`, `gateway.identity.get`.

use super::MethodSpec;
use crate::state::{now_ms, GatewayState};
use openclaw_protocol::scopes;
use serde_json::{json, Value};
use std::sync::Arc;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::new("health", scopes::READ, |state, _ctx, _params| async move {
            Ok(health_payload(&state))
        })
        .with_fast(|state| state.health_text()),
        MethodSpec::new("status", scopes::READ, |state, _ctx, params| async move {
            let mut out = status_payload(&state);
            if params.get("includeCliProjection").and_then(Value::as_bool) == Some(true) {
                out["cliProjection"] = cli_projection(&state);
            }
            Ok(out)
        }),
        MethodSpec::new(
            "gateway.identity.get",
            scopes::READ,
            |state, _ctx, _params| async move { Ok(identity_payload(&state)) },
        ),
    ]
}

/// The `health` payload (also `hello-ok.snapshot.health` and the `health` event).
///
/// Shape-compatible with OpenClaw's: `{ok, ts, durationMs, plugins, configReload, channels, …}`.
pub fn health_payload(state: &GatewayState) -> Value {
    let started = std::time::Instant::now();
    let draining = state.is_draining();
    json!({
        "ok": !draining,
        "ts": now_ms(),
        "durationMs": started.elapsed().as_millis() as u64,
        "plugins": { "loaded": [], "errors": [], "unavailable": [] },
        "configReload": { "hotReloadStatus": "active" },
        "channels": {},
        "channelOrder": [],
        "channelLabels": {},
        "heartbeatSeconds": 0,
        "defaultAgentId": "main",
        "agents": [],
        "modelRuntime": { "degraded": false, "pendingAgents": [] },
        "eventLoop": state.event_loop_stats().to_json(),
        "gateway": {
            "version": crate::VERSION,
            "uptimeMs": state.uptime_ms(),
            "connections": state.connection_count(),
            "draining": draining,
        },
    })
}

/// The `status` payload: process facts an operator needs to judge the gateway.
pub fn status_payload(state: &Arc<GatewayState>) -> Value {
    let auth = state.auth.load();
    let (sessions, tasks) = super::sessions::status_sections(state);
    json!({
        "runtimeVersion": crate::VERSION,
        "version": crate::VERSION,
        "pid": std::process::id(),
        "bootId": state.boot_id,
        "startedAtMs": state.started_at_ms,
        "uptimeMs": state.uptime_ms(),
        "connections": state.connection_count(),
        "processMemory": { "rssBytes": rss_bytes() },
        "configPath": state.opts.config_path.display().to_string(),
        "stateDir": state.opts.state_dir.root().display().to_string(),
        "authMode": auth.mode.as_str(),
        "listen": state.opts.listen_urls,
        "draining": state.is_draining(),
        "reload": state.reload.status_json(),
        "sessions": sessions,
        // OpenClaw's status summary fields, so its `openclaw status` renders this gateway.
        "heartbeat": { "defaultAgentId": "main", "agents": [] },
        "channelSummary": [],
        "queuedSystemEvents": [],
        "degradedSecretOwners": [],
        "degradedPlugins": [],
        "tasks": tasks,
        "taskAudit": {
            "total": 0, "warnings": 0, "errors": 0,
            "byCode": {
                "stale_queued": 0, "stale_running": 0, "lost": 0, "delivery_failed": 0,
                "missing_cleanup": 0, "inconsistent_timestamps": 0,
            },
        },
        "pairing": { "pending": state.devices.pending_count(crate::state::now_ms()) },
        "policy": {
            "maxPayload": state.opts.max_payload,
            "maxBufferedBytes": state.opts.max_buffered_bytes,
            "tickIntervalMs": state.opts.tick_interval.as_millis() as u64,
        },
    })
}

/// `status {includeCliProjection:true}`: the agents OpenClaw's CLI lists (`main` and each
/// `agents.entries` key).
fn cli_projection(state: &GatewayState) -> Value {
    let cfg = state.config.load();
    let mut ids = vec!["main".to_owned()];
    ids.extend(cfg.agents.entries.keys().filter(|k| *k != "main").cloned());
    json!({
        "agents": {
            "defaultId": "main",
            "ownership": null,
            "selectionRequired": false,
            "rows": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
        },
        "updateChannel": null,
    })
}

fn identity_payload(state: &GatewayState) -> Value {
    json!({
        "bootId": state.boot_id,
        "instanceId": state.boot_id,
        "version": crate::VERSION,
        "host": hostname(),
        "pid": std::process::id(),
    })
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
