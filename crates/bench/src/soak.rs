//! `openclaw-bench soak` and `openclaw-bench chaos` (run by `cargo xtask soak|chaos`): a steady
//! load over minutes with the gateway's resource use sampled, and kill -9 rounds with runs in
//! flight. Loopback only; every wait is bounded.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use openclaw_rs_protocol::{decode_frame, Frame};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::{procs, report, ws};

const TOKEN: &str = "soak-token";
const SCOPES: &[&str] = &["operator.read", "operator.write", "operator.admin"];

/// Flags shared by both commands.
#[derive(Debug)]
struct Opts {
    gateway: PathBuf,
    minutes: f64,
    rounds: usize,
    write_docs: Option<PathBuf>,
    /// Soak: `sessions.spawn` calls per second.
    spawns_per_sec: f64,
    /// Soak: `session.retention.archiveAfterMinutes` for the run (else the gateway's default).
    retention_minutes: Option<u64>,
    /// Soak: `session.retention.journalMaxBytes` for the run (else the gateway's default).
    journal_max_bytes: Option<u64>,
}

fn parse(args: &[String]) -> Result<Opts> {
    let mut o = Opts {
        gateway: PathBuf::new(),
        minutes: 5.0,
        rounds: 10,
        write_docs: None,
        spawns_per_sec: 0.5,
        retention_minutes: None,
        journal_max_bytes: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| anyhow!("{a} needs a value"))
        };
        match a.as_str() {
            "--ours" => o.gateway = PathBuf::from(value()?),
            "--minutes" => {
                let v = value()?;
                o.minutes = v
                    .parse()
                    .with_context(|| format!("--minutes {v}: expected a number"))?;
            }
            "--rounds" => {
                let v = value()?;
                o.rounds = v
                    .parse()
                    .with_context(|| format!("--rounds {v}: expected a whole number"))?;
            }
            "--write-docs" => o.write_docs = Some(PathBuf::from(value()?)),
            "--spawns-per-sec" => {
                let v = value()?;
                o.spawns_per_sec = v
                    .parse::<f64>()
                    .ok()
                    .filter(|r| *r > 0.0 && *r <= 200.0)
                    .with_context(|| format!("--spawns-per-sec {v}: expected a number in (0, 200]"))?;
            }
            "--retention-minutes" => {
                let v = value()?;
                o.retention_minutes = Some(v.parse().with_context(|| {
                    format!("--retention-minutes {v}: expected whole minutes (session.retention.archiveAfterMinutes)")
                })?);
            }
            "--journal-max-bytes" => {
                let v = value()?;
                o.journal_max_bytes = Some(v.parse().with_context(|| {
                    format!("--journal-max-bytes {v}: expected bytes (session.retention.journalMaxBytes)")
                })?);
            }
            other => bail!("unknown argument `{other}` (expected --ours PATH, --minutes N, --rounds N, --spawns-per-sec F, --retention-minutes M, --journal-max-bytes N, --write-docs PATH)"),
        }
    }
    o.gateway = std::fs::canonicalize(&o.gateway).with_context(|| {
        format!(
            "--ours {}: not found (build it with `cargo build --release --bins`)",
            o.gateway.display()
        )
    })?;
    Ok(o)
}

/// `openclaw-bench soak --ours GATEWAY --minutes N [--write-docs PATH]`.
pub fn soak_main(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let block = rt.block_on(soak(&o))?;
    println!("{block}");
    if let Some(path) = &o.write_docs {
        write_section(path, "soak", &block)?;
        eprintln!(
            "openclaw-bench: wrote the soak section of {}",
            path.display()
        );
    }
    Ok(())
}

/// `openclaw-bench chaos --ours GATEWAY --rounds N [--write-docs PATH]`.
pub fn chaos_main(args: &[String]) -> Result<()> {
    let o = parse(args)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let block = rt.block_on(chaos(&o))?;
    println!("{block}");
    if let Some(path) = &o.write_docs {
        write_section(path, "chaos", &block)?;
        eprintln!(
            "openclaw-bench: wrote the chaos section of {}",
            path.display()
        );
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// soak

/// `health` requests per second on one connection.
const HEALTH_PER_SEC: u64 = 200;
/// Resource sample period.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Duration,
    rss_kb: u64,
    fds: usize,
    files: u64,
    bytes: u64,
    /// Runs finished (completed or failed) by then.
    runs: u64,
}

async fn soak(o: &Opts) -> Result<String> {
    let spec = procs::GatewaySpec::ours(&o.gateway);
    let mut retention = serde_json::Map::new();
    if let Some(m) = o.retention_minutes {
        retention.insert("archiveAfterMinutes".into(), json!(m));
    }
    if let Some(b) = o.journal_max_bytes {
        retention.insert("journalMaxBytes".into(), json!(b));
    }
    let config = json!({"session": {"retention": retention}}).to_string();
    let gw = if retention.is_empty() {
        spec.spawn(TOKEN)?
    } else {
        spec.spawn_with_config(TOKEN, &config)?
    };
    let pid = gw.pid();
    let state = gw.home.path().join(".openclaw");
    let url = gw.url();
    let (rpc, _) = ws::connect_scoped(&url, TOKEN, &ws::Auth::Token, SCOPES).await?;
    let (spawner, _) = ws::connect_scoped(&url, TOKEN, &ws::Auth::Token, SCOPES).await?;
    let (mut rpc_tx, mut rpc_rx) = rpc.split();
    let (mut sp_tx, mut sp_rx) = spawner.split();
    let duration = Duration::from_secs_f64(o.minutes * 60.0);
    let start = Instant::now();
    let mut health_tick = tokio::time::interval(Duration::from_micros(1_000_000 / HEALTH_PER_SEC));
    health_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let spawn_every = Duration::from_secs_f64(1.0 / o.spawns_per_sec);
    let mut spawn_tick = tokio::time::interval(spawn_every);
    spawn_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sample_tick = tokio::time::interval(SAMPLE_EVERY);
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut rpc_errors = 0u64;
    let mut next_id = 0u64;
    let (mut spawned, mut spawn_refused) = (0u64, 0u64);
    let mut runs: HashSet<String> = HashSet::new();
    let (mut completed, mut failed) = (0u64, 0u64);
    let mut samples: Vec<Sample> = Vec::new();
    let deadline = tokio::time::Instant::now() + duration;
    eprintln!(
        "openclaw-bench: soak for {:.1} min: {HEALTH_PER_SEC} health/s, one spawn every {:?}, pid {pid}, config {}",
        o.minutes, spawn_every, if retention.is_empty() { "default" } else { config.as_str() }
    );
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = health_tick.tick() => {
                next_id += 1;
                let id = format!("h{next_id}");
                let req = json!({"type":"req","id":id,"method":"health","params":{}});
                rpc_tx.send(Message::text(req.to_string())).await?;
                sent.insert(id, Instant::now());
            }
            _ = spawn_tick.tick() => {
                next_id += 1;
                let req = json!({"type":"req","id":format!("s{next_id}"),"method":"sessions.spawn",
                    "params":{"task": format!("echo soak-{next_id}")}});
                sp_tx.send(Message::text(req.to_string())).await?;
            }
            _ = sample_tick.tick() => {
                let (files, bytes) = dir_usage(&state);
                samples.push(Sample { at: start.elapsed(), rss_kb: rss_kb(pid)?, fds: fd_count(pid)?, files, bytes, runs: completed + failed });
            }
            msg = rpc_rx.next() => {
                let text = frame_text(msg)?;
                if let Ok(Frame::Response(r)) = decode_frame(&text, 64 << 20) {
                    if let Some(t) = sent.remove(&r.id) {
                        latencies.push(t.elapsed());
                    }
                    if !r.ok { rpc_errors += 1; }
                }
            }
            msg = sp_rx.next() => {
                let text = frame_text(msg)?;
                match decode_frame(&text, 64 << 20) {
                    Ok(Frame::Response(r)) if r.id.starts_with('s') => {
                        if r.ok {
                            spawned += 1;
                            if let Some(id) = r.payload.as_ref().and_then(|p| p["runId"].as_str()) {
                                runs.insert(id.to_owned());
                            }
                        } else {
                            spawn_refused += 1;
                        }
                    }
                    Ok(Frame::Event(e)) if e.event == "chat" => {
                        let p = e.payload.unwrap_or(Value::Null);
                        let id = p["runId"].as_str().unwrap_or_default();
                        if runs.remove(id) {
                            match p["state"].as_str() {
                                Some("final") => completed += 1,
                                Some("error" | "aborted") => failed += 1,
                                _ => { runs.insert(id.to_owned()); }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let elapsed = start.elapsed();
    let (files, bytes) = dir_usage(&state);
    samples.push(Sample {
        at: elapsed,
        rss_kb: rss_kb(pid)?,
        fds: fd_count(pid)?,
        files,
        bytes,
        runs: completed + failed,
    });
    gw.stop(Duration::from_secs(5));
    if samples.len() < 3 {
        bail!("too few samples for a slope: run longer (--minutes)");
    }
    // The first minute warms caches and pools: the slope is fitted after it (when the run is
    // long enough to leave at least half of it).
    let warm = Duration::from_secs(60).min(elapsed / 2);
    let fit: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.at >= warm)
        .map(|s| (s.at.as_secs_f64() / 3600.0, s.rss_kb as f64 / 1024.0))
        .collect();
    let slope = least_squares_slope(&fit);
    // Bounded caches and pools fill first and then stay: what is still kept per run shows in
    // the second half, after they are full.
    let at = |frac: f64| -> Sample {
        let t = elapsed.mul_f64(frac);
        *samples
            .iter()
            .min_by_key(|s| s.at.abs_diff(t))
            .unwrap_or(&samples[0])
    };
    let quarters = [0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|f| {
            let s = at(*f);
            format!("{:.1} MB ({} runs)", s.rss_kb as f64 / 1024.0, s.runs)
        })
        .collect::<Vec<_>>()
        .join(" / ");
    let (mid, end) = (at(0.5), at(1.0));
    let second_half = if end.runs > mid.runs {
        format!(
            "{:+.3} KB",
            (end.rss_kb as f64 - mid.rss_kb as f64) / (end.runs - mid.runs) as f64
        )
    } else {
        "-".into()
    };
    let first = samples[0];
    let last = samples[samples.len() - 1];
    let max_fds = samples.iter().map(|s| s.fds).max().unwrap_or(0);
    let max_rss = samples.iter().map(|s| s.rss_kb).max().unwrap_or(0);
    let p = |q: f64| {
        report::percentile(&latencies, q)
            .map(report::show_time)
            .unwrap_or_else(|| "-".into())
    };
    let runs_total = completed + failed;
    let per_run = if runs_total > 0 {
        format!(
            "{:.2} KB",
            (last.rss_kb as f64 - first.rss_kb as f64) / runs_total as f64
        )
    } else {
        "-".into()
    };
    // The slope over the run rate: what each run leaves behind once the warm-up is over.
    let runs_per_hour = runs_total as f64 / (elapsed.as_secs_f64() / 3600.0);
    let per_run_slope = if runs_total > 0 {
        format!("{:+.3} KB", slope * 1024.0 / runs_per_hour)
    } else {
        "-".into()
    };
    let config_note = if retention.is_empty() {
        "the default config".to_owned()
    } else {
        format!("`openclaw.json` = `{config}`")
    };
    let mut flags = format!("--minutes {}", o.minutes);
    if (o.spawns_per_sec - 0.5).abs() > f64::EPSILON {
        flags.push_str(&format!(" --spawns-per-sec {}", o.spawns_per_sec));
    }
    if let Some(m) = o.retention_minutes {
        flags.push_str(&format!(" --retention-minutes {m}"));
    }
    if let Some(b) = o.journal_max_bytes {
        flags.push_str(&format!(" --journal-max-bytes {b}"));
    }
    Ok(format!(
        "### Soak ({date}; {machine})\n\n\
         `cargo xtask soak {flags}` (release build, loopback, {config_note}): {HEALTH_PER_SEC} `health`/s on one connection, {rate} `sessions.spawn` (`echo`, no parent) per second on another.\n\n\
         | measure | value |\n|---|---|\n\
         | duration | {dur:.1} min |\n\
         | health requests answered | {answered} ({rpc_errors} errors), p50 {p50}, p99 {p99} |\n\
         | spawns accepted / refused | {spawned} / {spawn_refused} |\n\
         | runs completed / failed / unfinished at the end | {completed} / {failed} / {open} |\n\
         | RSS first / last / max | {rss0:.1} / {rss1:.1} / {rssmax:.1} MB |\n\
         | RSS slope (least squares, after {warm:.0} s warm-up) | {slope:+.1} MB/h |\n\
         | RSS change per finished run: (last − first) / runs | {per_run} |\n\
         | RSS slope per run: slope / runs per hour | {per_run_slope} |\n\
         | RSS at 25 / 50 / 75 / 100 % of the run | {quarters} |\n\
         | RSS change per run in the second half: (last − middle) / runs in between | {second_half} |\n\
         | open fds first / last / max | {fd0} / {fd1} / {max_fds} |\n\
         | state dir files first / last | {f0} / {f1} |\n\
         | state dir bytes first / last | {b0} / {b1} |\n",
        date = now_utc(),
        machine = machine(),
        rate = o.spawns_per_sec,
        dur = elapsed.as_secs_f64() / 60.0,
        answered = latencies.len(),
        p50 = p(50.0),
        p99 = p(99.0),
        open = runs.len(),
        rss0 = first.rss_kb as f64 / 1024.0,
        rss1 = last.rss_kb as f64 / 1024.0,
        rssmax = max_rss as f64 / 1024.0,
        warm = warm.as_secs_f64(),
        fd0 = first.fds,
        fd1 = last.fds,
        f0 = first.files,
        f1 = last.files,
        b0 = first.bytes,
        b1 = last.bytes,
    ))
}

fn frame_text(
    msg: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
) -> Result<String> {
    match msg {
        Some(Ok(Message::Text(t))) => Ok(t.as_str().to_owned()),
        Some(Ok(_)) => Ok(String::new()),
        Some(Err(e)) => Err(anyhow!("gateway connection failed: {e}")),
        None => Err(anyhow!("gateway closed the connection")),
    }
}

/// Slope of y over x by least squares (0 with fewer than two distinct x).
pub fn least_squares_slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 {
        0.0
    } else {
        sxy / sxx
    }
}

/// The gateway process's own resident set (not its children's), in KiB.
fn rss_kb(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("the gateway (pid {pid}) is gone"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS for pid {pid}"))
}

fn fd_count(pid: u32) -> Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))
        .with_context(|| format!("read /proc/{pid}/fd"))?
        .count())
}

/// Files and bytes under `dir` (recursively).
fn dir_usage(dir: &Path) -> (u64, u64) {
    let (mut files, mut bytes) = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => {
                    files += 1;
                    bytes += m.len();
                }
                Err(_) => {}
            }
        }
    }
    (files, bytes)
}

// ------------------------------------------------------------------------------------------
// chaos

/// Runs spawned per round before the kill: more than the subagent lane (the default
/// `session.maxConcurrentSubagentRuns` is 8), so the kill finds runs running and runs queued.
/// Shell spawns name no parent, so the child limit does not refuse them.
const RUNS_PER_ROUND: usize = 12;
/// How long each run takes (so that the kill finds it in flight).
const RUN_TASK: &str = "sleep 1; echo chaos";
/// Longest wait for the gateway to accept a connection after a (re)start.
const START_GUARD: Duration = Duration::from_secs(30);
/// Longest wait for an acknowledged run to end after the restart.
const RUN_GUARD: Duration = Duration::from_secs(60);
/// `session.retention.journalMaxBytes` of the chaos gateway: the smallest allowed, so that the
/// parent of the spawns (`agent:main:main`) is compacted over and over while kills land.
const CHAOS_JOURNAL_MAX_BYTES: u64 = 1024;
/// The parent of every shell spawn.
const CHAOS_PARENT: &str = "agent:main:main";

async fn chaos(o: &Opts) -> Result<String> {
    let home = tempfile::Builder::new().prefix("chaos-").tempdir()?;
    let state = home.path().join(".openclaw");
    std::fs::create_dir_all(&state)?;
    // Compaction under fire: a tiny journal limit keeping one run and one announce.
    std::fs::write(
        state.join("openclaw.json"),
        json!({"session": {"retention": {
            "journalMaxBytes": CHAOS_JOURNAL_MAX_BYTES,
            "journalKeepRuns": 1
        }}})
        .to_string(),
    )?;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let url = format!("ws://127.0.0.1:{port}");
    let log = home.path().join("gateway.log");
    let mut acked: Vec<String> = Vec::new();
    let mut restart_times: Vec<Duration> = Vec::new();
    let mut killed_in_flight = 0usize;
    let mut killed_queued = 0usize;
    eprintln!(
        "openclaw-bench: chaos, {} rounds of {RUNS_PER_ROUND} runs then kill -9 (state {})",
        o.rounds,
        state.display()
    );
    for round in 0..o.rounds {
        let t = Instant::now();
        let mut child = start_gateway(&o.gateway, port, &state, &log)?;
        let (mut conn, _) = connect_within(&url, START_GUARD, &log).await?;
        restart_times.push(t.elapsed());
        // The previous rounds' runs end (re-run after the crash when they were interrupted)
        // before new ones are added: the child limit counts unfinished runs.
        for id in &acked {
            let _ = wait_run(&mut conn, id, RUN_GUARD).await;
        }
        let mut ids = Vec::new();
        for i in 0..RUNS_PER_ROUND {
            let r = call(
                &mut conn,
                "sessions.spawn",
                json!({"task": RUN_TASK, "idempotencyKey": format!("chaos-{round}-{i}")}),
            )
            .await?;
            let id = r["runId"]
                .as_str()
                .ok_or_else(|| anyhow!("sessions.spawn without runId: {r}"))?;
            ids.push(id.to_owned());
        }
        // Kill while they run: wait until one is running, then a varying extra delay.
        let running_deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let list = call(&mut conn, "sessions.list", json!({})).await?;
            let count = |status: &str| {
                list["sessions"]
                    .as_array()
                    .map(|a| a.iter().filter(|s| s["status"] == status).count())
                    .unwrap_or(0)
            };
            let n = count("running");
            if n > 0 || Instant::now() > running_deadline {
                killed_in_flight += n;
                killed_queued += count("queued");
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(50 * (round as u64 % 8))).await;
        acked.extend(ids);
        child.kill()?; // SIGKILL
        let _ = child.wait();
    }
    // One last start: every acknowledged run must end.
    let mut child = start_gateway(&o.gateway, port, &state, &log)?;
    let (mut conn, _) = connect_within(&url, START_GUARD, &log).await?;
    let (mut completed, mut failed, mut lost, mut reruns) = (0, 0, 0, 0);
    let mut lost_ids = Vec::new();
    for id in &acked {
        match wait_run(&mut conn, id, RUN_GUARD).await {
            Ok(r) => {
                match r["runStatus"].as_str() {
                    Some("completed") => completed += 1,
                    Some("failed" | "aborted" | "interrupted") => failed += 1,
                    _ => {
                        lost += 1;
                        lost_ids.push(format!("{id}: {r}"));
                    }
                }
                if r["attempts"].as_u64().unwrap_or(1) > 1 {
                    reruns += 1;
                }
            }
            Err(e) => {
                lost += 1;
                lost_ids.push(format!("{id}: {e}"));
            }
        }
    }
    // Exactly once across compactions and kills: the parent's transcript positions continue
    // through every compaction, so its last position counts the announces ever recorded.
    let announce_deadline = Instant::now() + RUN_GUARD;
    let announced = loop {
        let h = call(
            &mut conn,
            "chat.history",
            json!({"sessionKey": CHAOS_PARENT, "limit": 1}),
        )
        .await?;
        let n = h["totalMessages"].as_u64().unwrap_or(0) as usize;
        if n >= acked.len() || Instant::now() > announce_deadline {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let sessions = state.join("sessions");
    let stem = CHAOS_PARENT.replace(':', "~");
    let compactions = std::fs::read_dir(sessions.join("archive"))
        .map(|r| {
            r.flatten()
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(&format!("{stem}."))
                })
                .count()
        })
        .unwrap_or(0);
    let parent_bytes =
        std::fs::metadata(sessions.join(format!("{stem}.jsonl"))).map_or(0, |m| m.len());
    for l in lost_ids.iter().take(5) {
        eprintln!("openclaw-bench: lost or unfinished: {l}");
    }
    let avg_restart = restart_times.iter().sum::<Duration>() / restart_times.len().max(1) as u32;
    if lost > 0 || announced != acked.len() {
        bail!(
            "chaos: {lost} acknowledged runs lost, {announced} child results recorded in the parent for {} runs (state kept in {})",
            acked.len(),
            home.keep().display()
        );
    }
    Ok(format!(
        "### Chaos ({date}; {machine})\n\n\
         `cargo xtask chaos --rounds {rounds}` (release build, loopback): each round starts the gateway on the same state dir, waits for the earlier runs, acknowledges {RUNS_PER_ROUND} `sessions.spawn` runs (`{RUN_TASK}`), then kill -9 while they run (more runs than the subagent lane: some running, some queued). The gateway runs with `session.retention.journalMaxBytes` {CHAOS_JOURNAL_MAX_BYTES}, so the parent's journal is compacted throughout.\n\n\
         | measure | value |\n|---|---|\n\
         | rounds | {rounds} |\n\
         | runs acknowledged | {acked} |\n\
         | sessions running / queued at the kill (sum over rounds, as `sessions.list` showed them just before) | {killed_in_flight} / {killed_queued} |\n\
         | completed / failed after the restarts | {completed} / {failed} |\n\
         | acknowledged runs lost | {lost} |\n\
         | runs that ran more than once (attempts > 1) | {reruns} |\n\
         | child results recorded in the parent (one per run expected) | {announced} |\n\
         | parent journal compactions (`journalMaxBytes` {CHAOS_JOURNAL_MAX_BYTES}) / its final size | {compactions} / {parent_bytes} B |\n\
         | restart to first connection (mean) | {restart} |\n",
        date = now_utc(),
        machine = machine(),
        rounds = o.rounds,
        acked = acked.len(),
        restart = report::show_time(avg_restart),
    ))
}

fn start_gateway(bin: &Path, port: u16, state: &Path, log: &Path) -> Result<Child> {
    use std::os::unix::process::CommandExt;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    Command::new(bin)
        .args(["--port", &port.to_string(), "--token", TOKEN, "--state-dir"])
        .arg(state)
        .env_remove("OPENCLAW_GATEWAY_TOKEN")
        .env_remove("OPENCLAW_CONFIG_PATH")
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .process_group(0)
        .spawn()
        .with_context(|| format!("spawn {}", bin.display()))
}

async fn connect_within(url: &str, guard: Duration, log: &Path) -> Result<(ws::Ws, Value)> {
    let deadline = Instant::now() + guard;
    loop {
        match ws::connect_scoped(url, TOKEN, &ws::Auth::Token, SCOPES).await {
            Ok(c) => return Ok(c),
            Err(e) if Instant::now() > deadline => {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(20).collect();
                bail!(
                    "gateway did not accept a connection within {guard:?}: {e:#}\nlog tail:\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

async fn call(conn: &mut ws::Ws, method: &str, params: Value) -> Result<Value> {
    let id = uuid::Uuid::new_v4().to_string();
    let req = json!({"type":"req","id":id,"method":method,"params":params});
    conn.send(Message::text(req.to_string())).await?;
    loop {
        if let Frame::Response(r) = ws::next_frame(conn).await? {
            if r.id == id {
                if r.ok {
                    return Ok(r.payload.unwrap_or(Value::Null));
                }
                bail!(
                    "{method} failed: {}",
                    r.error.map(|e| e.to_string()).unwrap_or_default()
                );
            }
        }
    }
}

async fn wait_run(conn: &mut ws::Ws, id: &str, guard: Duration) -> Result<Value> {
    let r = call(
        conn,
        "agent.wait",
        json!({"runId": id, "timeoutMs": guard.as_millis() as u64}),
    )
    .await?;
    if r["waitTimedOut"] == true {
        bail!("run {id} did not end within {guard:?}");
    }
    Ok(r)
}

// ------------------------------------------------------------------------------------------
// report

fn now_utc() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "date unknown".into())
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "?".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    format!("nproc {cpus}, Linux {kernel}, load {load} at the end")
}

/// Replace the block between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in `path` (append
/// the markers and the block when they are missing).
fn write_section(path: &Path, name: &str, block: &str) -> Result<()> {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (text.find(&begin), text.find(&end)) {
        (Some(b), Some(e)) if b < e => format!("{}{begin}\n{block}{}", &text[..b], &text[e..]),
        _ => format!("{}\n{begin}\n{block}{end}\n", text.trim_end()),
    };
    let tmp = path.with_extension("md.tmp");
    std::fs::write(&tmp, new)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line_and_of_noise() {
        let line: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0 * i as f64 + 1.0)).collect();
        assert!((least_squares_slope(&line) - 3.0).abs() < 1e-9);
        let flat: Vec<(f64, f64)> = (0..10)
            .map(|i| (i as f64, if i % 2 == 0 { 5.0 } else { 6.0 }))
            .collect();
        assert!(least_squares_slope(&flat).abs() < 0.2);
        assert_eq!(least_squares_slope(&[(1.0, 2.0)]), 0.0);
    }

    #[test]
    fn sections_are_replaced_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.md");
        std::fs::write(&p, "# R\n\nintro\n").unwrap();
        write_section(&p, "soak", "one\n").unwrap();
        write_section(&p, "soak", "two\n").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.matches("<!-- soak:begin -->").count(), 1);
        assert!(text.contains("two\n") && !text.contains("one\n"), "{text}");
        assert!(text.starts_with("# R\n\nintro\n"));
    }
}
