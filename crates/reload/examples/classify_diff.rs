//! Classify a config edit the way the gateway does before applying it: each changed path is
//! hot (with the action that applies it in place), needs a restart, or needs nothing.
//!
//! ```text
//! cargo run -p openclaw-rs-reload --example classify_diff
//! ```

use std::path::Path;
use std::process::ExitCode;

use openclaw_rs_reload::classify::action_name;
use openclaw_rs_reload::{classify, HotAction, Kind};

const OLD: &str = r#"{
  gateway: { port: 18789, auth: { mode: "token", token: "old-secret" } },
  logging: { level: "info" },
}"#;

const NEW: &str = r#"{
  gateway: { port: 18790, auth: { mode: "token", token: "new-secret" } },
  logging: { level: "debug" },
}"#;

fn main() -> ExitCode {
    let parse = |text: &str| openclaw_rs_config::parse(text, Path::new("openclaw.json"));
    let (old, new) = match (parse(OLD), parse(NEW)) {
        (Ok(o), Ok(n)) => (o.config, n.config),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let plan = classify(&old, &new);
    for d in &plan.decisions {
        let what = match (d.kind, d.action) {
            (Kind::Hot, Some(a)) => format!("hot ({})", action_name(a)),
            (Kind::Restart, _) => "restart".to_string(),
            _ => "none".to_string(),
        };
        println!("{:<22} {what}", d.path);
    }
    let actions: Vec<String> = plan.actions.iter().map(|a| action_name(*a)).collect();
    println!(
        "hot actions: {actions:?}; restart: {:?}",
        plan.restart_paths
    );

    let expected = plan.requires_restart()
        && plan.restart_paths == ["gateway.port"]
        && plan.actions.contains(&HotAction::SetLogLevel)
        && plan.actions.contains(&HotAction::RotateSharedSecret);
    if expected {
        println!("ok");
        ExitCode::SUCCESS
    } else {
        eprintln!("error: unexpected plan: {plan:?}");
        ExitCode::FAILURE
    }
}
