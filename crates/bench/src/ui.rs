//! The Control UI measured in a real browser, ours and Node serving the same UI build: navigation →
//! chat composer ready (median of 5), the UI's RPC count and bytes on load, and `chat.send` → first
//! streamed `chat` delta. Runs `crates/test-support/browser/control-ui.mjs` (mode "bench") with node
//! 24, playwright-core and Debian's `/usr/bin/chromium`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::procs::{GatewaySpec, Running};
use crate::report::{Better, Cell, Row};
use crate::ws;

/// What the browser needs.
#[derive(Debug, Clone)]
pub struct Browser {
    pub node: PathBuf,
    pub playwright: PathBuf,
    pub chromium: PathBuf,
    /// `dist/control-ui` of the installed openclaw package (ours is configured to serve it).
    pub control_ui: PathBuf,
}

/// One side's browser measures.
#[derive(Debug)]
pub struct UiSide {
    pub shell_ready: Result<Duration>,
    pub composer_ready: Result<Duration>,
    pub load_rpcs: Result<u64>,
    pub load_bytes: Result<u64>,
    pub first_delta: Result<Duration>,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../test-support/browser/control-ui.mjs")
}

/// Waits until the gateway answers `health` (Node answers UNAVAILABLE for a while after start).
async fn wait_health(url: &str, token: &str, bound: Duration) -> Result<()> {
    let until = Instant::now() + bound;
    let mut last = anyhow::anyhow!("not tried");
    while Instant::now() < until {
        match ws::connect(url, token, &ws::Auth::Token).await {
            Ok((mut conn, _)) => match ws::sequential(&mut conn, "health", 1).await {
                Ok(_) => return Ok(()),
                Err(e) => last = e,
            },
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(last.context(format!("no health answer within {bound:?}")))
}

/// Runs the browser script in bench mode against a running gateway.
fn run_script(browser: &Browser, base: &str, token: &str, chat: bool, skip: &str) -> Result<Value> {
    let opts = json!({
        "base": base,
        "token": token,
        "out": std::env::temp_dir().join("openclaw-bench-ui"),
        "playwright": browser.playwright,
        "chromium": browser.chromium,
        "mode": "bench",
        "runs": 5,
        "chat": chat,
        "chatSkipReason": skip,
        "views": [],
    });
    let out = Command::new(&browser.node)
        .arg(script())
        .arg(opts.to_string())
        .stdin(std::process::Stdio::null())
        .output()
        .context("running the browser script")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CONTROL_UI_REPORT "))
        .with_context(|| {
            format!(
                "no report from the browser script: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    let report: Value = serde_json::from_str(line).context("the report is not JSON")?;
    if let Some(e) = report["error"].as_str() {
        bail!("browser: {}", e.lines().next().unwrap_or(e));
    }
    Ok(report)
}

fn ms(v: &Value) -> Option<Duration> {
    v.as_u64().map(Duration::from_millis)
}

/// Starts `spec` (with `config` when given), waits for health, measures, stops it.
pub fn measure(
    rt: &tokio::runtime::Runtime,
    spec: &GatewaySpec,
    token: &str,
    config: Option<&str>,
    browser: &Browser,
    chat: bool,
    skip: &str,
) -> Result<UiSide> {
    let running: Running = match config {
        Some(c) => spec.spawn_with_config(token, c)?,
        None => spec.spawn(token)?,
    };
    let url = running.url();
    let base = format!("http://127.0.0.1:{}", running.port);
    let health = rt.block_on(wait_health(&url, token, Duration::from_secs(150)));
    let side = health.and_then(|()| {
        let report = run_script(browser, &base, token, chat, skip)?;
        let bench = &report["bench"];
        let load = &bench["load"];
        Ok(UiSide {
            shell_ready: ms(&bench["shellReadyMedianMs"]).context("no page-ready sample"),
            composer_ready: match ms(&bench["composerReadyMedianMs"]) {
                Some(d) => Ok(d),
                None => Err(anyhow::anyhow!(
                    "{}",
                    bench["composerNote"].as_str().unwrap_or("no sample")
                )),
            },
            load_rpcs: load["rpcs"].as_u64().context("no load sample"),
            load_bytes: match (load["receivedBytes"].as_u64(), load["sentBytes"].as_u64()) {
                (Some(r), Some(s)) => Ok(r + s),
                _ => Err(anyhow::anyhow!("no load sample")),
            },
            first_delta: match ms(&bench["firstDeltaMs"]) {
                Some(d) => Ok(d),
                None => Err(anyhow::anyhow!(
                    "{}",
                    bench["deltaNote"].as_str().unwrap_or("no delta")
                )),
            },
        })
    });
    if side.is_err() {
        eprintln!(
            "openclaw-bench: {} gateway log:\n{}",
            spec.label,
            running.log_tail()
        );
    }
    running.stop(Duration::from_secs(10));
    side
}

/// Our config for the browser run: serve the npm package's Control UI build.
pub fn ours_config(browser: &Browser) -> String {
    json!({"gateway": {"controlUi": {"root": browser.control_ui}}}).to_string()
}

/// The rows: ours next to Node.
pub fn rows(ours: &Result<UiSide>, node: &Result<UiSide>) -> Vec<Row> {
    type Pick = fn(&UiSide) -> Cell;
    let cell = |side: &Result<UiSide>, pick: Pick| match side {
        Ok(s) => pick(s),
        Err(e) => Cell::Missing(crate::short(e)),
    };
    let mut rows = Vec::new();
    let mut add = |metric: &str, pick: Pick, target: &'static str| {
        rows.push(
            Row::new(metric, cell(ours, pick), cell(node, pick), Better::Lower).target(target),
        );
    };
    add(
        "Control UI: navigation → connected, first page rendered (median of 5, Chromium)",
        |s| match &s.shell_ready {
            Ok(d) => Cell::Time(*d),
            Err(e) => Cell::Missing(crate::short(e)),
        },
        "",
    );
    add(
        "Control UI: navigation → chat composer ready (median of 5, Chromium)",
        |s| match &s.composer_ready {
            Ok(d) => Cell::Time(*d),
            Err(e) => Cell::Missing(crate::short(e)),
        },
        "",
    );
    add(
        "Control UI: RPCs on load (until no RPC in flight)",
        |s| match &s.load_rpcs {
            Ok(n) => Cell::Int(*n),
            Err(e) => Cell::Missing(crate::short(e)),
        },
        "",
    );
    add(
        "Control UI: WebSocket bytes on load (sent + received)",
        |s| match &s.load_bytes {
            Ok(n) => Cell::Bytes(*n),
            Err(e) => Cell::Missing(crate::short(e)),
        },
        "",
    );
    add(
        "Control UI: `chat.send` → first streamed delta (ours: embedded runtime, model exec)",
        |s| match &s.first_delta {
            Ok(d) => Cell::Time(*d),
            Err(e) => Cell::Missing(crate::short(e)),
        },
        "",
    );
    rows
}
