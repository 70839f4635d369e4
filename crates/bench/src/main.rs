//! `openclaw-bench`: measures our gateway and the real Node OpenClaw gateway side by side, in one run,
//! on this machine, and prints a markdown table (also written to `--out`). Driven by `cargo xtask bench`,
//! which builds the release binaries and passes their paths.
//!
//! ```text
//! openclaw-bench --ours target/release/gateway [--node <node> --openclaw <openclaw.mjs>]
//!                [--playwright <playwright-core dir> --control-ui <openclaw dist/control-ui>]
//!                [--chromium /usr/bin/chromium]
//!                [--quick] [--ui-only] [--out docs/benchmarks.md] [--command "cargo xtask bench"]
//! ```
//!
//! `--ui-only` measures only the Control UI rows (prints the table; use without `--out`).
#![allow(clippy::disallowed_methods)] // the benchmark starts the gateways and tools it measures directly (the spawn rule is for library code)

mod area;
mod procs;
mod report;
mod soak;
mod ui;
mod ws;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use report::{percentile, Better, Cell, Row};

const TOKEN: &str = "bench-token-0123456789";

#[derive(Debug)]
struct Args {
    ours: PathBuf,
    app_server: Option<PathBuf>,
    node: Option<(PathBuf, PathBuf)>,
    quick: bool,
    out: Option<PathBuf>,
    command: String,
    playwright: Option<PathBuf>,
    control_ui: Option<PathBuf>,
    chromium: PathBuf,
    ui_only: bool,
}

/// How much of everything one run does.
#[derive(Debug, Clone, Copy)]
struct Plan {
    ours_spawns: usize,
    node_spawns: usize,
    idle: Duration,
    handshakes: usize,
    sequential: usize,
    pipeline_for: Duration,
    skip_node_restart: bool,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                ours_spawns: 3,
                node_spawns: 1,
                idle: Duration::from_secs(2),
                handshakes: 20,
                sequential: 200,
                pipeline_for: Duration::from_secs(1),
                skip_node_restart: true,
            }
        } else {
            Plan {
                ours_spawns: 5,
                node_spawns: 2,
                idle: Duration::from_secs(5),
                handshakes: 50,
                sequential: 500,
                pipeline_for: Duration::from_secs(3),
                skip_node_restart: false,
            }
        }
    }
}

fn parse_args() -> Result<Args> {
    let mut ours = None;
    let mut app_server = None;
    let mut node = None;
    let mut openclaw = None;
    let mut quick = false;
    let mut out = None;
    let mut command = String::from("cargo xtask bench");
    let mut playwright = None;
    let mut control_ui = None;
    let mut chromium = PathBuf::from("/usr/bin/chromium");
    let mut ui_only = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--ours" => ours = Some(PathBuf::from(value("--ours")?)),
            "--app-server" => app_server = Some(PathBuf::from(value("--app-server")?)),
            "--node" => node = Some(PathBuf::from(value("--node")?)),
            "--openclaw" => openclaw = Some(PathBuf::from(value("--openclaw")?)),
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--command" => command = value("--command")?,
            "--playwright" => playwright = Some(PathBuf::from(value("--playwright")?)),
            "--control-ui" => control_ui = Some(PathBuf::from(value("--control-ui")?)),
            "--chromium" => chromium = PathBuf::from(value("--chromium")?),
            "--quick" => quick = true,
            "--ui-only" => ui_only = true,
            other => bail!(
                "unknown argument `{other}` (see the doc comment of crates/bench/src/main.rs)"
            ),
        }
    }
    let ours = absolute(ours.context("--ours <path to our release `gateway` binary> is required")?);
    let (node, openclaw) = (node.map(absolute), openclaw.map(absolute));
    let node = match (node, openclaw) {
        (Some(n), Some(o)) => Some((n, o)),
        (None, None) => None,
        _ => bail!("--node and --openclaw go together"),
    };
    Ok(Args {
        ours,
        app_server: app_server.map(absolute),
        node,
        quick,
        out,
        command,
        playwright: playwright.map(absolute),
        control_ui: control_ui.map(absolute),
        chromium,
        ui_only,
    })
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("soak") => soak::soak_main(&args[1..]),
        Some("chaos") => soak::chaos_main(&args[1..]),
        _ => real_main(),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("openclaw-bench: error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<()> {
    let args = parse_args()?;
    let load_before = loadavg();
    let plan = Plan::new(args.quick);
    // One client thread: the load generator takes at most one core, the server gets the rest.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    let ours_spec = procs::GatewaySpec::ours(&args.ours);
    if args.ui_only {
        eprintln!("openclaw-bench: measuring the Control UI in Chromium (only)");
        println!("{}", report::markdown(&ui_rows(&rt, &args, &ours_spec)));
        return Ok(());
    }
    eprintln!("openclaw-bench: measuring ours ({})", args.ours.display());
    let ours = measure_side(&rt, &ours_spec, plan.ours_spawns, &plan);
    if let Err(e) = &ours {
        eprintln!("openclaw-bench: ours not measured: {e:#}");
    }

    let node = match node_spec(&args) {
        Ok(spec) => {
            eprintln!("openclaw-bench: measuring the Node gateway");
            let side = measure_side(&rt, &spec, plan.node_spawns, &plan);
            if let Err(e) = &side {
                eprintln!("openclaw-bench: node not measured: {e:#}");
            }
            side
        }
        Err(e) => Err(e),
    };

    let mut rows = rows(&ours, &node, &plan);
    eprintln!("openclaw-bench: measuring the other areas' entry points");
    rows.extend(area_rows(&rt, &args, &ours_spec, &plan));
    eprintln!("openclaw-bench: measuring the Control UI in Chromium");
    rows.extend(ui_rows(&rt, &args, &ours_spec));
    let table = report::markdown(&rows);
    println!("{table}");
    if let Some(out) = &args.out {
        let load = format!("{load_before} at the start, {} at the end", loadavg());
        let doc = document(&table, &args, &plan, &ours, &node, &load);
        std::fs::write(out, doc).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("openclaw-bench: wrote {}", out.display());
    }
    Ok(())
}

/// The Control UI rows: ours and Node serving the same UI build, measured in Chromium.
fn ui_rows(rt: &tokio::runtime::Runtime, args: &Args, ours_spec: &procs::GatewaySpec) -> Vec<Row> {
    let browser = match (&args.node, &args.playwright, &args.control_ui) {
        (Some((node, _)), Some(playwright), Some(control_ui)) if args.chromium.is_file() => {
            ui::Browser {
                node: node.clone(),
                playwright: playwright.clone(),
                chromium: args.chromium.clone(),
                control_ui: control_ui.clone(),
            }
        }
        _ => {
            let why = anyhow::anyhow!(
                "needs node, playwright-core, the Control UI build (`cargo xtask install-deps`) and {}",
                args.chromium.display()
            );
            eprintln!("openclaw-bench: Control UI not measured: {why}");
            return ui::rows(&Err(anyhow::anyhow!("{why}")), &Err(why));
        }
    };
    let ours = ui::measure(
        rt,
        ours_spec,
        TOKEN,
        Some(&ui::ours_config(&browser)),
        &browser,
        true,
        "",
    );
    if let Err(e) = &ours {
        eprintln!("openclaw-bench: Control UI on ours not measured: {e:#}");
    }
    let node = node_spec(args).and_then(|spec| {
        ui::measure(
            rt,
            &spec,
            TOKEN,
            None,
            &browser,
            false,
            "n/a: no model provider is configured on the Node gateway here",
        )
    });
    if let Err(e) = &node {
        eprintln!("openclaw-bench: Control UI on Node not measured: {e:#}");
    }
    ui::rows(&ours, &node)
}

/// How to start the real Node gateway (reference §1).
fn node_spec(args: &Args) -> Result<procs::GatewaySpec> {
    let Some((node_bin, mjs)) = &args.node else {
        bail!("node/openclaw not given (run `cargo xtask install-deps`)");
    };
    Ok(procs::GatewaySpec {
        label: "node",
        argv: vec![
            node_bin.to_string_lossy().into_owned(),
            mjs.to_string_lossy().into_owned(),
            "gateway".into(),
            "run".into(),
            "--allow-unconfigured".into(),
            "--token".into(),
            "{token}".into(),
            "--bind".into(),
            "loopback".into(),
            "--port".into(),
            "{port}".into(),
        ],
        env: vec![(
            "PATH".into(),
            path_with(node_bin.parent().map(PathBuf::from)),
        )],
        deadline: Duration::from_secs(90),
    })
}

fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

fn path_with(dir: Option<PathBuf>) -> String {
    let mut dirs: Vec<PathBuf> = dir.into_iter().collect();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Everything measured against one kind of gateway.
#[derive(Debug)]
struct Side {
    port_open: Vec<Duration>,
    ready: Vec<Duration>,
    rss: Result<(u64, usize)>,
    hs_token: Result<Vec<Duration>>,
    /// The floor server's handshakes, interleaved one for one with `hs_token`.
    hs_floor: Result<Vec<Duration>>,
    hs_device: Result<Vec<Duration>>,
    hs_device_token: Result<Vec<Duration>>,
    health_seq: Result<Vec<Duration>>,
    pipe_1: Result<ws::Throughput>,
    pipe_32: Result<ws::Throughput>,
}

fn measure_side(
    rt: &tokio::runtime::Runtime,
    spec: &procs::GatewaySpec,
    spawns: usize,
    plan: &Plan,
) -> Result<Side> {
    let mut port_open = Vec::new();
    let mut ready = Vec::new();
    let mut last = None;
    for i in 0..spawns.max(1) {
        let running = spec.spawn(TOKEN)?;
        eprintln!(
            "openclaw-bench: {} spawn {}: port open after {}, ready after {}",
            spec.label,
            i + 1,
            report::show_time(running.port_open),
            running
                .ready
                .map(report::show_time)
                .unwrap_or_else(|| "?".into())
        );
        port_open.push(running.port_open);
        ready.extend(running.ready);
        if let Some(prev) = last.replace(running) {
            procs::Running::stop(prev, Duration::from_secs(10));
        }
    }
    let running = last.context("no spawn")?;
    let url = running.url();
    let side = rt.block_on(async {
        // One handshake first (a warm process), then idle before reading RSS.
        ws::connect(&url, TOKEN, &ws::Auth::Token)
            .await
            .with_context(|| format!("first handshake with {}", spec.label))?;
        tokio::time::sleep(plan.idle).await;
        let rss = running.tree_rss();
        eprintln!("openclaw-bench: {} idle RSS {:?}", spec.label, rss);
        let (hs_token, hs_floor) = interleaved_handshakes(&url, plan.handshakes).await;
        let (hs_device, hs_device_token) = device_handshakes(&url, plan.handshakes).await;
        let health_seq = async {
            let (mut conn, _) = ws::connect(&url, TOKEN, &ws::Auth::Token).await?;
            ws::sequential(&mut conn, "health", plan.sequential).await
        }
        .await;
        let pipe_1 = ws::pipelined(&url, TOKEN, "health", 1, 256, plan.pipeline_for).await;
        let pipe_32 = ws::pipelined(&url, TOKEN, "health", 32, 32, plan.pipeline_for).await;
        anyhow::Ok(Side {
            port_open,
            ready,
            rss,
            hs_token,
            hs_floor,
            hs_device,
            hs_device_token,
            health_seq,
            pipe_1,
            pipe_32,
        })
    })?;
    running.stop(Duration::from_secs(10));
    Ok(side)
}

/// Shared-token handshakes with the gateway, each followed by one with the floor server, so both
/// series see the same machine load.
async fn interleaved_handshakes(
    url: &str,
    n: usize,
) -> (Result<Vec<Duration>>, Result<Vec<Duration>>) {
    let floor = match area::FloorServer::start() {
        Ok(f) => f,
        Err(e) => {
            let theirs = ws::handshakes(url, TOKEN, &ws::Auth::Token, n).await;
            return (theirs, Err(e));
        }
    };
    let mut gateway = Vec::with_capacity(n);
    let mut floor_times = Vec::with_capacity(n);
    for _ in 0..n {
        match ws::handshakes(url, TOKEN, &ws::Auth::Token, 1).await {
            Ok(v) => gateway.extend(v),
            Err(e) => return (Err(e), Err(anyhow::anyhow!("gateway handshakes failed"))),
        }
        match ws::handshakes(&floor.url, "", &ws::Auth::Token, 1).await {
            Ok(v) => floor_times.extend(v),
            Err(e) => return (Ok(gateway), Err(e)),
        }
    }
    (Ok(gateway), Ok(floor_times))
}

/// Handshakes with a v3 device signature (after one connect that pairs the device silently on
/// loopback), then with the device token that connect returned.
async fn device_handshakes(url: &str, n: usize) -> (Result<Vec<Duration>>, Result<Vec<Duration>>) {
    let identity = match openclaw_rs_auth::DeviceIdentity::generate(now_ms()) {
        Ok(id) => Arc::new(id),
        Err(e) => {
            let msg = format!("generating a device identity: {e}");
            return (Err(anyhow::anyhow!("{msg}")), Err(anyhow::anyhow!("{msg}")));
        }
    };
    let device = ws::Auth::Device(identity.clone());
    // The first connect pairs the device (silently, on loopback with the shared token).
    if let Err(e) = ws::connect(url, TOKEN, &device).await {
        let msg = format!("{e:#}");
        return (Err(anyhow::anyhow!("{msg}")), Err(anyhow::anyhow!("{msg}")));
    }
    let signed = ws::handshakes(url, TOKEN, &device, n).await;
    // The token in force now (a gateway may have re-issued it on every signed connect).
    let with_token = match ws::connect(url, TOKEN, &device).await {
        Ok((_, hello)) => match hello.pointer("/auth/deviceToken").and_then(|v| v.as_str()) {
            Some(t) => ws::device_token_handshakes(url, identity, t.to_string(), n).await,
            None => Err(anyhow::anyhow!("hello-ok carried no auth.deviceToken")),
        },
        Err(e) => Err(e),
    };
    (signed, with_token)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn median(v: &[Duration]) -> Option<Duration> {
    percentile(v, 50.0)
}

/// The innermost cause only (the whole chain goes to stderr once).
fn short_root(err: &anyhow::Error) -> String {
    let text = err.root_cause().to_string();
    if text.len() > 80 {
        let cut = (0..=80)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}…", &text[..cut])
    } else {
        text
    }
}

fn short(err: &anyhow::Error) -> String {
    let text = format!("{err:#}");
    let text = text.replace('|', "/").replace('\n', " ");
    if text.len() > 120 {
        let cut = (0..=120)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}…", &text[..cut])
    } else {
        text
    }
}

fn pct(r: &Result<Vec<Duration>>, p: f64) -> Cell {
    match r {
        Ok(v) => percentile(v, p)
            .map(Cell::Time)
            .unwrap_or(Cell::Missing("no sample".into())),
        Err(e) => Cell::Missing(short(e)),
    }
}

fn rate(r: &Result<ws::Throughput>) -> Cell {
    match r {
        Ok(t) if t.refused > 0 => {
            Cell::RateNote(t.ok_per_sec, format!("{} refused as busy", t.refused))
        }
        Ok(t) => Cell::Rate(t.ok_per_sec),
        Err(e) => Cell::Missing(short(e)),
    }
}

fn rows(ours: &Result<Side>, node: &Result<Side>, plan: &Plan) -> Vec<Row> {
    type Pick = fn(&Side) -> Cell;
    let cell = |side: &Result<Side>, pick: Pick| match side {
        Ok(s) => pick(s),
        Err(e) => Cell::Missing(short_root(e)),
    };
    let mut rows = Vec::new();
    let mut add = |metric: String, pick: Pick, better: Better, target: &'static str| {
        rows.push(Row::new(metric, cell(ours, pick), cell(node, pick), better).target(target));
    };
    add(
        format!(
            "spawn → port open (median of {}/{} spawns)",
            plan.ours_spawns, plan.node_spawns
        ),
        |s| {
            median(&s.port_open)
                .map(Cell::Time)
                .unwrap_or(Cell::Missing("no sample".into()))
        },
        Better::Lower,
        "≤ 20 ms",
    );
    add(
        "spawn → /readyz 200 (median)".into(),
        |s| {
            median(&s.ready)
                .map(Cell::Time)
                .unwrap_or(Cell::Missing("no /readyz".into()))
        },
        Better::Lower,
        "",
    );
    add(
        format!(
            "idle RSS, whole process tree ({} s idle)",
            plan.idle.as_secs()
        ),
        |s| match &s.rss {
            Ok((bytes, _)) => Cell::Bytes(*bytes),
            Err(e) => Cell::Missing(short(e)),
        },
        Better::Lower,
        "≤ 10 MB",
    );
    let n = plan.handshakes;
    add(
        format!("handshake p50, shared token ({n} connects)"),
        |s| pct(&s.hs_token, 50.0),
        Better::Lower,
        "≤ 200 µs",
    );
    add(
        format!("handshake p99, shared token ({n} connects)"),
        |s| pct(&s.hs_token, 99.0),
        Better::Lower,
        "",
    );
    add(
        format!("handshake floor p50: same client, minimal WS server, interleaved ({n})"),
        |s| pct(&s.hs_floor, 50.0),
        Better::Lower,
        "",
    );
    add(
        format!("handshake p50, v3 device signature ({n})"),
        |s| pct(&s.hs_device, 50.0),
        Better::Lower,
        "≤ 250 µs",
    );
    add(
        format!("handshake p99, v3 device signature ({n})"),
        |s| pct(&s.hs_device, 99.0),
        Better::Lower,
        "",
    );
    add(
        format!("handshake p50, device token ({n})"),
        |s| pct(&s.hs_device_token, 50.0),
        Better::Lower,
        "≤ 250 µs",
    );
    add(
        format!("handshake p99, device token ({n})"),
        |s| pct(&s.hs_device_token, 99.0),
        Better::Lower,
        "",
    );
    let m = plan.sequential;
    add(
        format!("sequential `health` RTT p50 ({m} calls)"),
        |s| pct(&s.health_seq, 50.0),
        Better::Lower,
        "≤ 50 µs",
    );
    add(
        format!("sequential `health` RTT p99 ({m} calls)"),
        |s| pct(&s.health_seq, 99.0),
        Better::Lower,
        "",
    );
    add(
        "pipelined `health`, 1 connection (window 256)".into(),
        |s| rate(&s.pipe_1),
        Better::Higher,
        "≥ 100k/s",
    );
    add(
        "pipelined `health`, 32 connections (window 32 each)".into(),
        |s| rate(&s.pipe_32),
        Better::Higher,
        "",
    );
    rows
}

/// Measures that belong to other areas (auth rows are above; app-server, sessions, cooldowns,
/// reload here), each through that area's public entry point. A measure that cannot run says why.
fn area_rows(
    rt: &tokio::runtime::Runtime,
    args: &Args,
    ours_spec: &procs::GatewaySpec,
    plan: &Plan,
) -> Vec<Row> {
    let missing = |e: &anyhow::Error| {
        eprintln!("openclaw-bench: not measured: {e:#}");
        Cell::Missing(short(e))
    };
    let secs = plan.pipeline_for;
    let mut rows = Vec::new();

    let app_server = args
        .app_server
        .clone()
        .or_else(|| args.ours.parent().map(|d| d.join("openclaw-app-server")))
        .filter(|p| p.is_file());
    let lease = match &app_server {
        Some(bin) => rt.block_on(area::lease_acquire_release(bin, 10_000)),
        None => Err(anyhow::anyhow!(
            "openclaw-app-server binary not found next to --ours"
        )),
    };
    rows.push(
        Row::new(
            "lease acquire+release, warm embedded app-server (median of 100-op batches)",
            lease.map(Cell::Time).unwrap_or_else(|e| missing(&e)),
            Cell::Na,
            Better::Lower,
        )
        .target("≤ 5 µs"),
    );
    let runs = match &app_server {
        Some(bin) => rt.block_on(area::runs_per_sec(bin, 32, secs)),
        None => Err(anyhow::anyhow!(
            "openclaw-app-server binary not found next to --ours"
        )),
    };
    rows.push(Row::new(
        "runs/s, `true` on model exec, 32 concurrent, one shared embedded app-server",
        runs.map(Cell::Rate).unwrap_or_else(|e| missing(&e)),
        Cell::Na,
        Better::Higher,
    ));

    // Sessions through a fresh gateway of ours whose limits allow 32 concurrent subagent runs.
    /// First-event and final latencies, runs/s, and (RSS, process count) with 1,000 sessions.
    type SessionsOut = (Vec<Duration>, Vec<Duration>, f64, (u64, usize));
    let sessions = (|| -> Result<SessionsOut> {
        let running = ours_spec.spawn_with_config(
            TOKEN,
            r#"{ "session": { "maxChildrenPerSession": 100000, "maxConcurrentSubagentRuns": 32 } }"#,
        )?;
        let url = running.url();
        let out = rt.block_on(async {
            let n = plan.handshakes / 2;
            let (first, fin) = area::spawn_latency(&url, TOKEN, n).await?;
            let (rate, done) = area::spawn_throughput(&url, TOKEN, 32, secs, u64::MAX).await?;
            // Top up to 1,000 sessions (each spawn leaves its child session), then idle.
            let have = n as u64 + done;
            if have < 1000 {
                area::spawn_throughput(&url, TOKEN, 32, Duration::from_secs(600), 1000 - have)
                    .await?;
            }
            tokio::time::sleep(plan.idle).await;
            anyhow::Ok((first, fin, rate))
        });
        let rss = running.tree_rss();
        running.stop(Duration::from_secs(10));
        let (first, fin, rate) = out?;
        Ok((first, fin, rate, rss?))
    })();
    match sessions {
        Ok((first, fin, rate, (rss, procs))) => {
            let n = first.len();
            rows.push(
                Row::new(
                    format!("sessions.spawn → first event, `echo` on embedded (p50 of {n})"),
                    pct(&Ok(first), 50.0),
                    Cell::Na,
                    Better::Lower,
                )
                .target("≤ 20 ms"),
            );
            rows.push(Row::new(
                format!("sessions.spawn → final, `echo` on embedded (p50 of {n})"),
                pct(&Ok(fin), 50.0),
                Cell::Na,
                Better::Lower,
            ));
            rows.push(Row::new(
                "sessions.spawn runs/s, 32 in flight on one connection",
                Cell::Rate(rate),
                Cell::Na,
                Better::Higher,
            ));
            rows.push(Row::new(
                format!(
                    "RSS with ≥ 1,000 idle sessions (gateway + {} child process(es))",
                    procs - 1
                ),
                Cell::Bytes(rss),
                Cell::Na,
                Better::Lower,
            ));
        }
        Err(e) => {
            let cell = missing(&e);
            rows.push(
                Row::new(
                    "sessions.spawn → first event (p50)",
                    cell.clone(),
                    Cell::Na,
                    Better::Lower,
                )
                .target("≤ 20 ms"),
            );
            rows.push(Row::new(
                "sessions.spawn runs/s, 32 in flight",
                cell,
                Cell::Na,
                Better::Higher,
            ));
        }
    }

    let cooldown = area::cooldown_lookup_under_swaps(secs);
    rows.push(
        Row::new(
            match &cooldown {
                Ok((_, swaps)) => format!(
                    "cooldown lookup under concurrent swaps (median; {swaps} swaps meanwhile)"
                ),
                Err(_) => "cooldown lookup under concurrent swaps (median)".to_string(),
            },
            cooldown
                .map(|(d, _)| Cell::Time(d))
                .unwrap_or_else(|e| missing(&e)),
            Cell::Na,
            Better::Lower,
        )
        .target("≤ 100 ns"),
    );
    let classify = area::classify_large_diff();
    rows.push(Row::new(
        match &classify {
            Ok((_, paths)) => format!("classify() on a large diff ({paths} changed paths, median)"),
            Err(_) => "classify() on a large diff".to_string(),
        },
        classify
            .map(|(d, _)| Cell::Time(d))
            .unwrap_or_else(|e| missing(&e)),
        Cell::Na,
        Better::Lower,
    ));
    // Restart in place (SIGUSR2), ours and Node, probed the same way.
    let ours_restart = (|| -> Result<area::RestartWindow> {
        let running = ours_spec.spawn(TOKEN)?;
        let (pid, url) = (running.pid(), running.url());
        let w = rt.block_on(area::restart_window(
            &url,
            TOKEN,
            pid,
            Duration::from_secs(30),
        ));
        running.stop(Duration::from_secs(10));
        w
    })();
    let node_restart = if plan.skip_node_restart {
        Err(anyhow::anyhow!("skipped in --quick"))
    } else {
        node_spec(args).and_then(|spec| {
            let running = spec.spawn(TOKEN)?;
            let (pid, url) = (running.pid(), running.url());
            let w = rt.block_on(area::restart_window(
                &url,
                TOKEN,
                pid,
                Duration::from_secs(90),
            ));
            running.stop(Duration::from_secs(10));
            w
        })
    };
    let cell = |w: &Result<area::RestartWindow>, pick: fn(&area::RestartWindow) -> Cell| match w {
        Ok(w) => pick(w),
        Err(e) => missing(e),
    };
    rows.push(
        Row::new(
            "restart in place (SIGUSR2): longest gap between successful handshakes",
            cell(&ours_restart, |w| Cell::Time(w.gap)),
            cell(&node_restart, |w| Cell::Time(w.gap)),
            Better::Lower,
        )
        .target("≤ 50 ms"),
    );
    rows.push(Row::new(
        "restart in place: SIGUSR2 → hello-ok from the new boot",
        cell(&ours_restart, |w| Cell::Time(w.to_new_boot)),
        cell(&node_restart, |w| Cell::Time(w.to_new_boot)),
        Better::Lower,
    ));
    rows.push(
        Row::new(
            "restart in place: refused / failed connection attempts",
            cell(&ours_restart, |w| Cell::Count(w.refused, w.failed)),
            cell(&node_restart, |w| Cell::Count(w.refused, w.failed)),
            Better::Lower,
        )
        .target("0 refused"),
    );
    rows
}

fn document(
    table: &str,
    args: &Args,
    plan: &Plan,
    ours: &Result<Side>,
    node: &Result<Side>,
    load: &str,
) -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let procs = |s: &Result<Side>| match s {
        Ok(Side {
            rss: Ok((_, n)), ..
        }) => n.to_string(),
        _ => "?".into(),
    };
    format!(
        "# Benchmarks\n\n\
         Generated by `{command}` (do not edit by hand; rerun the command). One run, on this machine: \
         {cpus} CPUs ({model}). Ours is the release build of `gateway`; the Node side is \
         `openclaw@2026.9.6` on node 24 (`openclaw gateway run --allow-unconfigured --bind loopback --token …`). \
         Both run on loopback with a fresh state dir and shared-token auth; the load generator \
         (`crates/bench`, one client thread) runs on the same machine and talks to one gateway at a time.\n\n\
         {table}\n\
         Notes:\n\
         - \"ours better by\" is Node ÷ ours for times and sizes, ours ÷ Node for rates.\n\
         - Port-open is polled every 100 µs; RSS sums `VmRSS` over the gateway and all its descendants \
         (ours: {ours_procs} process(es), Node: {node_procs}).\n\
         - Handshake = TCP connect + WebSocket upgrade + `connect.challenge` + `connect` → `hello-ok`, \
         client `cli`, scope `operator.read`. Device-signature handshakes use one identity paired \
         silently on loopback by a first connect. The \"floor\" row is the same client against a minimal \
         WebSocket server that answers `connect` with a fixed small `hello-ok`, one floor handshake after each \
         gateway handshake: what the client and loopback cost alone at that moment (a gateway's own share is \
         its figure minus the floor; a floor ratio near 1× means both sides ran under similar load).\n\
         - Pipelined runs keep a window of requests in flight for {secs} s per configuration.\n\
         - {spawns} spawns of ours, {nspawns} of Node (Node takes 5–12 s to start on an idle box).\n\
         - The machine is shared (other builds may run): load average {load}. Compare sides within one run only.\n\
         - Device-token handshakes: each connect presents the token the previous `hello-ok` returned (a \
         gateway that re-issues on every connect is followed, as a real client would).\n\
         - Lease: `Pool::acquire` + drop of the lease on an already running `openclaw-app-server` (release \
         build), timed in batches of 100. Runs/s: `openclaw_rs_app_server::run::execute` of task `true` on model \
         `exec`, 32 tasks looping concurrently on one shared process.\n\
         - `sessions.spawn`: over the WebSocket on a fresh gateway of ours whose config raises \
         `session.maxChildrenPerSession` and `session.maxConcurrentSubagentRuns` (32); first event = first \
         `agent`/`chat` event of the run, final = its `chat` `state:\"final\"`.\n\
         - Cooldown lookup: `Cooldowns::check` on a 200-profile table while another thread calls \
         `record_failure` in a loop (each call swaps the whole snapshot). Classify: `openclaw_rs_reload::classify` \
         on two configs that differ in the reported number of paths.\n\
         - Restart: a client handshakes back to back; after 300 ms the gateway gets SIGUSR2 (ours: drain, then \
         re-exec with the listening socket inherited; Node: its in-process restart). Refused = TCP connection \
         refused; failed = any other failed handshake.\n\
         - Control UI: both gateways serve the same build (`dist/control-ui` of openclaw@2026.9.6; ours through \
         `gateway.controlUi.root`), loaded in Debian's headless Chromium by playwright-core \
         (`crates/test-support/browser/control-ui.mjs`). Composer ready = `page.goto(/#token=…)` → the chat \
         composer visible, fresh browser context each time. RPCs and bytes on load: every WebSocket frame of \
         the first load until no RPC is in flight for 750 ms. First delta: the composer's `chat.send` frame → \
         the first `chat` event with `state:\"delta\"` (ours: the embedded runtime's model `exec` running \
         `echo bench`; Node has no model provider configured here, so n/a).\n",
        command = args.command,
        ours_procs = procs(ours),
        node_procs = procs(node),
        secs = plan.pipeline_for.as_secs(),
        spawns = plan.ours_spawns,
        nspawns = plan.node_spawns,
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| {
            let parts: Vec<&str> = t.split_whitespace().take(3).collect();
            (parts.len() == 3).then(|| parts.join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}
