//! Every gateway-backed command of the real OpenClaw CLI (reference §4's table), run against the
//! gateway under test through `HOME/.openclaw/openclaw.json` (`{gateway:{mode:"remote",remote:{url,
//! token}}}`), `--json` where the command has it: exit 0 and output that says the command worked
//! (parsed JSON with the expected fields, log lines with a level, our model `exec` listed). Prints
//! a table command → exit code → first line of output, and fails listing every bad row.
//!
//! Runs against ours unless `OPENCLAW_E2E_TARGET=node`, which checks the expectations themselves
//! on the reference gateway (commands that need a model are skipped there, with the reason).

use std::time::Duration;

use openclaw_rs_test_support::node;
use serde_json::{json, Value};

use crate::clients::{skipped, Target, UnderTest};

const TOKEN: &str = "cli-table-token-93ab";
/// One CLI command (node startup alone takes 5–15 s on a loaded 2-core machine).
const CLI_GUARD: Duration = Duration::from_secs(120);

/// What a command's output must show.
type Check = fn(Target, &Output) -> Result<(), String>;

/// One command's run.
struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    /// The JSON document the command printed (skipping any log lines before it).
    fn json(&self) -> Result<Value, String> {
        if let Ok(v) = serde_json::from_str(self.stdout.trim()) {
            return Ok(v);
        }
        let mut offset = 0;
        for line in self.stdout.split_inclusive('\n') {
            if line.starts_with('{') || line.starts_with('[') {
                if let Ok(v) = serde_json::from_str(&self.stdout[offset..]) {
                    return Ok(v);
                }
            }
            offset += line.len();
        }
        Err("stdout holds no JSON document".into())
    }

    /// Every stdout line that is a JSON value.
    fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l.trim()).ok())
            .collect()
    }

    /// The first line of output (a JSON document compacted onto one line).
    fn first_line(&self) -> String {
        if let Ok(v) = self.json() {
            return v.to_string().chars().take(90).collect();
        }
        let line = self
            .stdout
            .lines()
            .chain(self.stderr.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        line.chars().take(90).collect()
    }
}

fn object(o: &Output) -> Result<Value, String> {
    let v = o.json()?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(format!("expected a JSON object, got {v}"))
    }
}

fn any_json(o: &Output) -> Result<(), String> {
    o.json().map(|_| ())
}

fn health_ok(_: Target, o: &Output) -> Result<(), String> {
    let v = object(o)?;
    if v["ok"] == true {
        Ok(())
    } else {
        Err(format!("no `ok: true`: {v}"))
    }
}

fn is_object(_: Target, o: &Output) -> Result<(), String> {
    object(o).map(|_| ())
}

fn parses(_: Target, o: &Output) -> Result<(), String> {
    any_json(o)
}

fn models_of(v: &Value) -> Vec<String> {
    let list = v["models"]
        .as_array()
        .or_else(|| v.as_array())
        .cloned()
        .unwrap_or_default();
    list.iter()
        .filter_map(|m| {
            m["id"]
                .as_str()
                .or_else(|| m["key"].as_str())
                .or_else(|| m["name"].as_str())
                .or_else(|| m.as_str())
                .map(str::to_owned)
        })
        .collect()
}

/// Ours lists the embedded runtime's model `exec`; Node (no provider here) any well-formed list.
fn lists_exec(t: Target, o: &Output) -> Result<(), String> {
    let v = o.json()?;
    let models = models_of(&v);
    if t == Target::Node || models.iter().any(|m| m == "exec" || m.ends_with("/exec")) {
        Ok(())
    } else {
        Err(format!("model `exec` not listed; models: {models:?}"))
    }
}

/// `logs --json`: log records with a level (OpenClaw's JSONL lines).
fn log_lines(_: Target, o: &Output) -> Result<(), String> {
    let records = o.json_lines();
    let with_level = records
        .iter()
        .filter(|r| {
            r["level"].is_string()
                || r["logLevelName"].is_string()
                || r["_meta"]["logLevelName"].is_string()
        })
        .count();
    if with_level > 0 {
        Ok(())
    } else {
        Err(format!(
            "no log line with a level among {} JSON records",
            records.len()
        ))
    }
}

fn devices(_: Target, o: &Output) -> Result<(), String> {
    let v = o.json()?;
    if v["paired"].is_array() || v["pending"].is_array() || v.is_array() {
        Ok(())
    } else {
        Err(format!("no paired/pending lists: {v}"))
    }
}

/// A JSON object whose `key` is an array (the lists Node returns, empty or not).
fn array_field(o: &Output, key: &str) -> Result<(), String> {
    let v = object(o)?;
    if v[key].is_array() {
        Ok(())
    } else {
        Err(format!("no `{key}` array: {v}"))
    }
}

fn jobs(_: Target, o: &Output) -> Result<(), String> {
    array_field(o, "jobs")
}

fn paired(_: Target, o: &Output) -> Result<(), String> {
    array_field(o, "paired")
}

fn nodes(_: Target, o: &Output) -> Result<(), String> {
    array_field(o, "nodes")
}

fn skills(_: Target, o: &Output) -> Result<(), String> {
    array_field(o, "skills")
}

fn daily(_: Target, o: &Output) -> Result<(), String> {
    array_field(o, "daily")
}

fn profiles(_: Target, o: &Output) -> Result<(), String> {
    array_field(o, "profiles")
}

fn reloaded(_: Target, o: &Output) -> Result<(), String> {
    let v = object(o)?;
    if v["ok"] == true {
        Ok(())
    } else {
        Err(format!("secrets reload without ok: true: {v}"))
    }
}

fn approvals_file(_: Target, o: &Output) -> Result<(), String> {
    let v = object(o)?;
    if v["file"].is_object() {
        Ok(())
    } else {
        Err(format!("no approvals `file` object: {v}"))
    }
}

fn presence(_: Target, o: &Output) -> Result<(), String> {
    let v = o.json()?;
    match v.as_array() {
        Some(a) if !a.is_empty() => Ok(()),
        _ => Err(format!("expected a non-empty presence list: {v}")),
    }
}

fn channels(_: Target, o: &Output) -> Result<(), String> {
    let v = object(o)?;
    if v.get("error").is_some() || v["gatewayReachable"] == false {
        Err(format!("the CLI did not reach the gateway: {v}"))
    } else {
        Ok(())
    }
}

fn agent_echo(_: Target, o: &Output) -> Result<(), String> {
    if o.stdout.contains("cli-agent-ok") {
        Ok(())
    } else {
        Err("the run's output `cli-agent-ok` is missing".into())
    }
}

fn doctor(_: Target, o: &Output) -> Result<(), String> {
    if o.stdout.trim().is_empty() {
        Err("doctor printed nothing".into())
    } else {
        Ok(())
    }
}

/// (command, check, skip reason on ours / on Node).
struct Row {
    args: &'static [&'static str],
    check: Check,
    skip_node: Option<&'static str>,
}

const NO_MODEL: &str = "needs a model provider; the Node gateway has none configured here";

fn table() -> Vec<Row> {
    let r = |args: &'static [&'static str], check: Check| Row {
        args,
        check,
        skip_node: None,
    };
    vec![
        r(&["health", "--json"], health_ok),
        r(&["gateway", "health", "--json"], health_ok),
        r(&["gateway", "call", "health", "--json"], health_ok),
        r(&["status", "--json"], is_object),
        r(&["status", "--all", "--json"], is_object),
        r(&["gateway", "probe", "--json"], health_ok),
        Row {
            args: &["agent", "--message", "echo cli-agent-ok", "--json"],
            check: agent_echo,
            skip_node: Some(NO_MODEL),
        },
        r(&["logs", "--json", "--limit", "50"], log_lines),
        r(&["devices", "list", "--json"], devices),
        r(&["models", "list", "--json"], lists_exec),
        r(&["gateway", "call", "models.list", "--json"], lists_exec),
        r(&["channels", "status", "--json"], channels),
        r(&["channels", "list", "--json"], is_object),
        r(&["cron", "list", "--json"], jobs),
        r(&["cron", "status", "--json"], is_object),
        r(&["nodes", "list", "--json"], paired),
        r(&["nodes", "status", "--json"], nodes),
        r(&["skills", "list", "--json"], skills),
        r(&["doctor", "--non-interactive"], doctor),
        r(&["approvals", "get", "--gateway", "--json"], approvals_file),
        r(&["gateway", "usage-cost", "--json"], daily),
        r(&["users", "list", "--json"], profiles),
        r(&["system", "heartbeat", "last", "--json"], parses),
        r(&["secrets", "reload", "--json"], reloaded),
        r(&["system", "presence", "--json"], presence),
    ]
}

/// Gateway-backed commands this table does not run, with the reason.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "message send",
        "needs a chat channel (Telegram, Slack, …); this gateway has none",
    ),
    ("channels login", "needs a chat channel account"),
    ("models auth login", "needs a model provider key"),
];

async fn run(home: &std::path::Path, args: &[&str]) -> Output {
    let Some(cmd) = node::openclaw_js_cli(home) else {
        return Output {
            code: -1,
            stdout: String::new(),
            stderr: "openclaw is not installed".into(),
        };
    };
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    match tokio::time::timeout(CLI_GUARD, cmd.output()).await {
        Ok(Ok(out)) => Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        Ok(Err(e)) => Output {
            code: -1,
            stdout: String::new(),
            stderr: format!("spawn: {e}"),
        },
        Err(_) => Output {
            code: -1,
            stdout: String::new(),
            stderr: format!("did not finish within {CLI_GUARD:?}"),
        },
    }
}

async fn cli_table_on(target: Target) {
    let test = "cli_table";
    if node::node_bin().is_none() || node::openclaw_mjs().is_none() {
        skipped(
            test,
            "node 24 or openclaw is not installed",
            "cargo xtask install-deps",
        );
        return;
    }
    let gw = UnderTest::start(target, TOKEN)
        .await
        .unwrap_or_else(|e| panic!("the {} gateway did not start: {e}", target.name()));
    let home = tempfile::tempdir().expect("cli home");
    std::fs::create_dir_all(home.path().join(".openclaw")).expect("state dir");
    let config =
        json!({"gateway": {"mode": "remote", "remote": {"url": gw.ws_url, "token": gw.token}}});
    std::fs::write(
        home.path().join(".openclaw/openclaw.json"),
        config.to_string(),
    )
    .expect("write the CLI's config");

    let mut problems = Vec::new();
    let mut lines = Vec::new();
    for row in table() {
        let shown = row.args.join(" ");
        if let (Target::Node, Some(why)) = (target, row.skip_node) {
            eprintln!("!!! SKIPPED `openclaw {shown}` on node: {why}");
            lines.push(format!("{shown} | skipped | {why}"));
            continue;
        }
        let out = run(home.path(), row.args).await;
        let verdict = if out.code != 0 {
            Err(format!("exit {}", out.code))
        } else {
            (row.check)(target, &out)
        };
        lines.push(format!(
            "{shown} | {} | {}{}",
            out.code,
            out.first_line(),
            verdict
                .as_ref()
                .err()
                .map(|e| format!("  <- {e}"))
                .unwrap_or_default()
        ));
        if let Err(e) = verdict {
            problems.push(format!(
                "`openclaw {shown}`: {e}\n    stdout: {}\n    stderr: {}",
                out.stdout
                    .chars()
                    .take(400)
                    .collect::<String>()
                    .replace('\n', "\n            "),
                out.stderr
                    .chars()
                    .take(400)
                    .collect::<String>()
                    .replace('\n', "\n            ")
            ));
        }
    }
    eprintln!(
        "\nreal OpenClaw CLI against the {} gateway — command | exit | first line",
        target.name()
    );
    for l in &lines {
        eprintln!("{l}");
    }
    for (cmd, why) in NOT_RUN {
        eprintln!("!!! SKIPPED `openclaw {cmd}`: {why}");
    }
    assert!(
        problems.is_empty(),
        "{} of the CLI table's commands failed on the {} gateway:\n  {}\ngateway log:\n{}",
        problems.len(),
        target.name(),
        problems.join("\n  "),
        gw.log_tail()
    );
    gw.stop().await;
}

/// Reference §4's CLI table against the gateway under test (ours unless
/// `OPENCLAW_E2E_TARGET=node`).
#[tokio::test]
async fn real_cli_table_against_the_gateway() {
    cli_table_on(Target::from_env()).await;
}
