//! `openclaw doctor`: check the config file, the cooldown state and the running gateway's
//! reload status, and say what to fix.
//!
//! Works without a running gateway (the file checks are offline). Exit 0 when nothing needs
//! attention, 1 otherwise.

use crate::client::{self, ClientArgs};
use crate::service::RuntimeInfo;
use openclaw_rs_protocol::methods::gateway::StatusParams;
use serde_json::{json, Value};
use std::process::ExitCode;

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// `openclaw doctor`.
pub async fn run(args: ClientArgs) -> anyhow::Result<ExitCode> {
    let state = client::state_dir(args.conn.state_dir.as_ref());
    let mut problems: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    // 1. The config file, exactly as the gateway would read it.
    let path = openclaw_rs_config::config_path(&state, env);
    let config = match openclaw_rs_config::load(&path) {
        Ok(l) => {
            for w in &l.warnings {
                notes.push(format!("config: {w}"));
            }
            json!({"path": path, "valid": true, "warnings": l.warnings})
        }
        Err(e) => {
            problems.push(format!(
                "config is invalid: {e}\n  the gateway keeps running on its last good config; fix the file and it is picked up automatically"
            ));
            json!({"path": path, "valid": false, "error": e.to_string()})
        }
    };

    // 2. Cooldowns (runtime state, never in config).
    let now = openclaw_rs_cooldowns::now_ms();
    let cooldowns = match openclaw_rs_cooldowns::Cooldowns::open(
        &state,
        openclaw_rs_cooldowns::Policy::default(),
    ) {
        Ok(c) => {
            let snap = c.snapshot();
            let active: Vec<Value> = snap
                .entries()
                .into_iter()
                .filter(|e| e.until() > now)
                .map(|e| {
                    notes.push(format!(
                        "auth profile {} is {} in lane {}{} ({}) until {}",
                        e.profile,
                        if e.disabled_until.is_some_and(|d| d > now) {
                            "disabled"
                        } else {
                            "cooling down"
                        },
                        e.lane,
                        e.model
                            .as_deref()
                            .map(|m| format!(" for model {m}"))
                            .unwrap_or_default(),
                        e.reason.as_str(),
                        openclaw_rs_cooldowns::rfc3339(e.until())
                    ));
                    serde_json::to_value(e).unwrap_or_default()
                })
                .collect();
            json!({"active": active})
        }
        Err(e) => {
            problems.push(format!("cooldowns: {e}"));
            json!({"error": e.to_string()})
        }
    };

    // 3. The running gateway's view: rejected edits, pending restarts.
    let gateway = if RuntimeInfo::read(&state).is_some() || args.conn.url.is_some() {
        match connect(&args, &state).await {
            Ok(c) => {
                let s = c.call(StatusParams::default()).await;
                c.close().await;
                match s {
                    Ok(s) => {
                        if let Some(ui) = &s.control_ui {
                            let url = s.listen.first().map(String::as_str).unwrap_or("");
                            // A gateway without a UI build is a valid (headless) setup: a note.
                            notes.push(format!(
                                "control UI: {}",
                                crate::service::control_ui_line(ui, url)
                            ));
                        }
                        let reload = &s.reload;
                        if let Some(e) = &reload.last_error {
                            problems.push(format!(
                                "the gateway rejected the last config edit and keeps its last good config: {}",
                                e.message
                            ));
                        }
                        if let Some(r) = &reload.restart {
                            notes.push(format!(
                                "restart pending ({}): {}; deadline {}",
                                r.who,
                                r.reason,
                                openclaw_rs_cooldowns::rfc3339(r.deadline_ms)
                            ));
                        }
                        json!({"running": true, "pid": s.pid, "reload": reload, "controlUi": s.control_ui})
                    }
                    Err(e) => {
                        problems.push(format!("gateway status failed: {e}"));
                        json!({"running": true, "error": e.to_string()})
                    }
                }
            }
            Err(e) => {
                notes.push(format!("gateway not reachable: {e}"));
                json!({"running": false})
            }
        }
    } else {
        json!({"running": false})
    };

    // 4. Auth: token sources vs the running gateway, this machine's device, pending pairing.
    let auth = crate::devices::doctor_section(&args, &state, &mut problems, &mut notes).await;

    if args.json {
        client::print_json(&json!({
            "ok": problems.is_empty(),
            "problems": problems,
            "notes": notes,
            "config": config,
            "cooldowns": cooldowns,
            "gateway": gateway,
            "auth": auth,
        }));
    } else {
        for p in &problems {
            println!("problem: {p}");
        }
        for n in &notes {
            println!("note: {n}");
        }
        if problems.is_empty() {
            println!("doctor: no problems found");
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Connect without reading the config file (it may be the thing that is broken): `--url` or
/// the runtime file's URL, and `--token`/`--password`, `OPENCLAW_GATEWAY_TOKEN`, or the token
/// file in the state dir.
async fn connect(
    args: &ClientArgs,
    state: &openclaw_rs_state::StateDir,
) -> anyhow::Result<openclaw_rs_client::Client> {
    let url = args
        .conn
        .url
        .clone()
        .or_else(|| RuntimeInfo::read(state).map(|r| r.url))
        .ok_or_else(|| anyhow::anyhow!("no gateway URL: pass --url"))?;
    let mut o = openclaw_rs_client::ClientOptions::new(url);
    o.password = args.conn.password.clone();
    o.token = args
        .conn
        .token
        .clone()
        .or_else(|| env("OPENCLAW_GATEWAY_TOKEN"))
        .or_else(|| {
            std::fs::read_to_string(state.join(openclaw_rs_gateway::launch::TOKEN_FILE))
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
        });
    o.scopes = vec![openclaw_rs_protocol::scopes::READ.to_owned()];
    o.connect_timeout = std::time::Duration::from_millis(args.timeout.max(1));
    o.request_timeout = o.connect_timeout;
    Ok(openclaw_rs_client::Client::connect(o).await?)
}
