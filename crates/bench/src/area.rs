//! Measures that belong to the other areas, through their public entry points: the app-server
//! lease pool and run execution (embedded runtime), sessions through the gateway, the cooldown
//! table, and the reload classifier.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::SinkExt;
use openclaw_rs_app_server::{CancelToken, Pool, PoolConfig, ProcessKey, RunSpec};
use openclaw_rs_protocol::{Frame, RequestFrame};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::report::percentile;
use crate::ws;

/// Median time of one `acquire` + drop of the lease, on a process that is already running.
pub async fn lease_acquire_release(app_server: &Path, iterations: usize) -> Result<Duration> {
    let pool = Pool::new(PoolConfig::default());
    let key = ProcessKey::new(vec![app_server.to_string_lossy().into_owned()]);
    let deadline = || tokio::time::Instant::now() + Duration::from_secs(30);
    // Warm: the first acquire spawns and initializes the process.
    drop(
        pool.acquire(&key, deadline())
            .await
            .context("first acquire (spawn)")?,
    );
    // Batches of 100, so the clock's own cost stays out of the figure.
    let batch = 100;
    let mut per_op = Vec::new();
    for _ in 0..(iterations / batch).max(1) {
        let t = Instant::now();
        for _ in 0..batch {
            let lease = pool.acquire(&key, deadline()).await?;
            drop(lease);
        }
        per_op.push(t.elapsed() / batch as u32);
    }
    pool.shutdown().await;
    percentile(&per_op, 50.0).ok_or_else(|| anyhow!("no sample"))
}

/// Trivial runs (`true` on the `exec` model) per second through one shared embedded app-server,
/// `concurrency` at a time, for `duration`.
pub async fn runs_per_sec(
    app_server: &Path,
    concurrency: usize,
    duration: Duration,
) -> Result<f64> {
    let pool = Pool::new(PoolConfig::default());
    let key = ProcessKey::new(vec![app_server.to_string_lossy().into_owned()]);
    let cwd = tempfile::tempdir()?;
    let spec = RunSpec {
        task: "true".into(),
        model: Some("exec".into()),
        cwd: cwd.path().to_path_buf(),
        timeout: Duration::from_secs(60),
        thread_id: None,
        ..Default::default()
    };
    let one = |pool: Pool, key: ProcessKey, spec: RunSpec| async move {
        let (tx, _rx) = tokio::sync::mpsc::channel(64);
        openclaw_rs_app_server::run::execute(&pool, &key, spec, tx, CancelToken::new())
            .await
            .map_err(|e| anyhow!("run failed: {e:?}"))
    };
    // Warm the process.
    one(pool.clone(), key.clone(), spec.clone()).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (pool, key, spec) = (pool.clone(), key.clone(), spec.clone());
        let (stop, done) = (stop.clone(), done.clone());
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                one(pool.clone(), key.clone(), spec.clone()).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        });
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    pool.shutdown().await;
    Ok(rate)
}

/// Median cost of one `Cooldowns::check` while another thread keeps swapping the table
/// (`record_failure` in a loop).
pub fn cooldown_lookup_under_swaps(duration: Duration) -> Result<(Duration, u64)> {
    use openclaw_rs_cooldowns::{Cooldowns, FailureReason, Policy};
    let table = Arc::new(Cooldowns::in_memory(Policy::default()));
    let now = openclaw_rs_cooldowns::now_ms();
    for p in 0..200 {
        table.record_failure(
            &format!("profile-{p}"),
            "gpt",
            "main",
            FailureReason::RateLimit,
            now,
        )?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let writer = {
        let (table, stop, swaps) = (table.clone(), stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let p = format!("profile-{}", i % 200);
                let _ = table.record_failure(&p, "gpt", "main", FailureReason::Transient, now);
                swaps.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };
    let batch = 1000u32;
    let mut per_op = Vec::new();
    let mut hits = 0u64;
    let until = Instant::now() + duration;
    let mut i = 0usize;
    while Instant::now() < until {
        let t = Instant::now();
        for _ in 0..batch {
            let p = PROFILES[i % PROFILES.len()];
            if std::hint::black_box(table.check(p, "gpt", "main", now)).is_some() {
                hits += 1;
            }
            i += 1;
        }
        per_op.push(t.elapsed() / batch);
    }
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    if hits == 0 {
        bail!("no lookup hit a cooling-down profile: the measure is not exercising the table");
    }
    let median = percentile(&per_op, 50.0).ok_or_else(|| anyhow!("no sample"))?;
    Ok((median, swaps.load(Ordering::Relaxed)))
}

const PROFILES: [&str; 8] = [
    "profile-1",
    "profile-17",
    "profile-42",
    "profile-99",
    "profile-123",
    "profile-150",
    "profile-199",
    "profile-none",
];

/// Median time of `classify(old, new)` where the two configs differ in many paths; returns
/// the time and the number of changed paths.
pub fn classify_large_diff() -> Result<(Duration, usize)> {
    let build = |model: &str, level: &str, port: u16| -> Result<openclaw_rs_config::Config> {
        let mut entries = serde_json::Map::new();
        for i in 0..1000 {
            entries.insert(
                format!("agent-{i}"),
                json!({"model": format!("{model}-{i}"), "workspace": format!("/work/{model}/{i}")}),
            );
        }
        let mut runtimes = serde_json::Map::new();
        for i in 0..100 {
            runtimes.insert(
                format!("rt-{i}"),
                json!({"kind": "app-server", "command": ["codex", "app-server", model], "env": {"K": model}}),
            );
        }
        let mut profiles = serde_json::Map::new();
        for i in 0..200 {
            profiles.insert(
                format!("p-{i}"),
                json!({"provider": "openai", "label": model}),
            );
        }
        let doc = json!({
            "gateway": {"port": port},
            "logging": {"level": level},
            "agents": {"defaults": {"model": model}, "entries": entries},
            "runtimes": runtimes,
            "auth": {"profiles": profiles},
        });
        Ok(serde_json::from_value(doc)?)
    };
    let old = build("a", "info", 18789)?;
    let new = build("b", "debug", 18790)?;
    let plan = openclaw_rs_reload::classify(&old, &new);
    let paths = plan.changed_paths.len();
    if paths < 1000 {
        bail!("the large diff only has {paths} changed paths");
    }
    let mut samples = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        std::hint::black_box(openclaw_rs_reload::classify(&old, &new));
        samples.push(t.elapsed());
    }
    Ok((
        percentile(&samples, 50.0).ok_or_else(|| anyhow!("no sample"))?,
        paths,
    ))
}

/// Latencies of `sessions.spawn {task:"echo …"}` on the embedded runtime, one at a time:
/// request sent → first `agent`/`chat` event of the run, and → its final `chat` event.
pub async fn spawn_latency(
    url: &str,
    token: &str,
    n: usize,
) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut conn, _) = ws::connect_scoped(
        url,
        token,
        &ws::Auth::Token,
        &["operator.read", "operator.write"],
    )
    .await?;
    let mut first = Vec::with_capacity(n);
    let mut fin = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        send(
            &mut conn,
            &format!("s{i}"),
            "sessions.spawn",
            json!({"task": format!("echo bench-{i}")}),
        )
        .await?;
        let mut run_id: Option<String> = None;
        let mut early: Vec<(String, Instant, bool)> = Vec::new();
        let mut got_first: Option<Duration> = None;
        loop {
            let frame = ws::next_frame(&mut conn).await?;
            let now = Instant::now();
            match frame {
                Frame::Response(r) if r.id == format!("s{i}") => {
                    if !r.ok {
                        bail!("sessions.spawn failed: {:?}", r.error);
                    }
                    let id = r
                        .payload
                        .as_ref()
                        .and_then(|p| p["runId"].as_str())
                        .map(str::to_string)
                        .ok_or_else(|| anyhow!("sessions.spawn reply without runId"))?;
                    for (rid, at, is_final) in early.drain(..) {
                        if rid == id {
                            got_first.get_or_insert(at - t);
                            if is_final {
                                fin.push(at - t);
                            }
                        }
                    }
                    run_id = Some(id);
                    if fin.len() == i + 1 {
                        break;
                    }
                }
                Frame::Event(e) if e.event == "agent" || e.event == "chat" => {
                    let payload = e.payload.unwrap_or(Value::Null);
                    let rid = payload["runId"].as_str().unwrap_or("").to_string();
                    let state = payload["state"].as_str().unwrap_or("");
                    if e.event == "chat" && (state == "error" || state == "aborted") {
                        bail!("run ended {state}: {payload}");
                    }
                    let is_final = e.event == "chat" && state == "final";
                    match &run_id {
                        None => early.push((rid, now, is_final)),
                        Some(id) if *id == rid => {
                            got_first.get_or_insert(now - t);
                            if is_final {
                                fin.push(now - t);
                                break;
                            }
                        }
                        Some(_) => {}
                    }
                }
                _ => {}
            }
        }
        first.push(got_first.ok_or_else(|| anyhow!("no event before the final one"))?);
    }
    Ok((first, fin))
}

/// Completed `sessions.spawn` runs per second with `concurrency` spawns in flight on one
/// connection, for `duration` or until `max_spawns` were sent; returns (runs/s, runs completed).
pub async fn spawn_throughput(
    url: &str,
    token: &str,
    concurrency: usize,
    duration: Duration,
    max_spawns: u64,
) -> Result<(f64, u64)> {
    let (mut conn, _) = ws::connect_scoped(
        url,
        token,
        &ws::Auth::Token,
        &["operator.read", "operator.write"],
    )
    .await?;
    let started = Instant::now();
    let mut next = 0u64;
    let mut in_flight = 0usize;
    let mut done = 0u64;
    // runId → still running; replies map request ids to run ids.
    let mut finished_early: HashMap<String, ()> = HashMap::new();
    let mut running: HashMap<String, ()> = HashMap::new();
    loop {
        while in_flight < concurrency && started.elapsed() < duration && next < max_spawns {
            send(
                &mut conn,
                &format!("t{next}"),
                "sessions.spawn",
                json!({"task": "true"}),
            )
            .await?;
            next += 1;
            in_flight += 1;
        }
        if in_flight == 0 {
            break;
        }
        match ws::next_frame(&mut conn).await? {
            Frame::Response(r) if r.id.starts_with('t') => {
                if !r.ok {
                    bail!("sessions.spawn failed: {:?}", r.error);
                }
                let id = r
                    .payload
                    .as_ref()
                    .and_then(|p| p["runId"].as_str())
                    .unwrap_or("")
                    .to_string();
                if finished_early.remove(&id).is_some() {
                    in_flight -= 1;
                    done += 1;
                } else {
                    running.insert(id, ());
                }
            }
            Frame::Event(e) if e.event == "chat" => {
                let payload = e.payload.unwrap_or(Value::Null);
                let state = payload["state"].as_str().unwrap_or("");
                if matches!(state, "final" | "error" | "aborted") {
                    if state != "final" {
                        bail!("run ended {state}: {payload}");
                    }
                    let rid = payload["runId"].as_str().unwrap_or("").to_string();
                    if running.remove(&rid).is_some() {
                        in_flight -= 1;
                        done += 1;
                    } else {
                        finished_early.insert(rid, ());
                    }
                }
            }
            _ => {}
        }
    }
    Ok((done as f64 / started.elapsed().as_secs_f64(), done))
}

async fn send(conn: &mut ws::Ws, id: &str, method: &str, params: Value) -> Result<()> {
    let frame = Frame::Request(RequestFrame {
        id: id.into(),
        method: method.into(),
        params: Some(params),
        traceparent: None,
    });
    conn.send(Message::text(frame.to_text())).await?;
    Ok(())
}

/// What clients saw while a gateway restarted in place.
#[derive(Debug, Clone, Copy)]
pub struct RestartWindow {
    /// Longest gap between two consecutive successful handshakes (probing back to back).
    pub gap: Duration,
    /// Connection attempts refused by the kernel (nothing listening).
    pub refused: u64,
    /// Other failed attempts (reset, closed during the handshake, refused by the gateway).
    pub failed: u64,
    /// SIGUSR2 → first hello-ok carrying a new `bootId`.
    pub to_new_boot: Duration,
}

/// Probes `url` with back-to-back handshakes, sends SIGUSR2 to `pid`, and watches until a
/// handshake returns a new `server.bootId` (then probes 300 ms more).
pub async fn restart_window(
    url: &str,
    token: &str,
    pid: u32,
    deadline: Duration,
) -> Result<RestartWindow> {
    let boot_of = |hello: &Value| {
        hello
            .pointer("/server/bootId")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let (_, hello) = ws::connect(url, token, &ws::Auth::Token).await?;
    let first_boot = boot_of(&hello).ok_or_else(|| anyhow!("hello-ok has no server.bootId"))?;
    // A little steady state first.
    let mut last_ok = Instant::now();
    let mut gap = Duration::ZERO;
    let mut refused = 0;
    let mut failed = 0;
    let probe_deadline = Duration::from_secs(10);
    let mut signalled: Option<Instant> = None;
    let mut new_boot_at: Option<Instant> = None;
    let started = Instant::now();
    loop {
        if signalled.is_none() && started.elapsed() > Duration::from_millis(300) {
            let status = std::process::Command::new("kill")
                .args(["-USR2", &pid.to_string()])
                .status()?;
            if !status.success() {
                bail!("kill -USR2 {pid} failed");
            }
            signalled = Some(Instant::now());
        }
        if let Some(at) = new_boot_at {
            if at.elapsed() > Duration::from_millis(300) {
                break;
            }
        }
        if let Some(s) = signalled {
            if s.elapsed() > deadline {
                bail!("no handshake with a new bootId within {deadline:?} of SIGUSR2 ({refused} refused, {failed} failed)");
            }
        }
        match tokio::time::timeout(probe_deadline, ws::connect(url, token, &ws::Auth::Token)).await
        {
            Ok(Ok((mut conn, hello))) => {
                let now = Instant::now();
                gap = gap.max(now - last_ok);
                last_ok = now;
                if new_boot_at.is_none()
                    && signalled.is_some()
                    && boot_of(&hello).as_deref() != Some(first_boot.as_str())
                {
                    new_boot_at = Some(now);
                }
                let _ = conn.close(None).await;
            }
            Ok(Err(e)) => {
                let refused_now = e.chain().any(|c| {
                    c.downcast_ref::<std::io::Error>()
                        .map(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
                        .unwrap_or(false)
                        || c.to_string().contains("Connection refused")
                });
                if refused_now {
                    refused += 1;
                } else {
                    failed += 1;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err(_) => failed += 1,
        }
    }
    let (Some(s), Some(n)) = (signalled, new_boot_at) else {
        bail!("restart not observed");
    };
    Ok(RestartWindow {
        gap,
        refused,
        failed,
        to_new_boot: n - s,
    })
}

/// The floor under the handshake figures: a minimal WebSocket server (own thread and runtime)
/// that sends a challenge and answers `connect` with a fixed small hello-ok. The same client
/// handshaking with it, interleaved with a gateway's handshakes, shows what the client and
/// loopback cost alone; the rest of a gateway's figure is the gateway's own work.
#[derive(Debug)]
pub struct FloorServer {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl FloorServer {
    pub fn start() -> Result<FloorServer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("ws://{}", listener.local_addr()?);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || -> Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let serve = async {
                    loop {
                        let (tcp, _) = listener.accept().await?;
                        tcp.set_nodelay(true)?;
                        tokio::spawn(floor_connection(tcp));
                    }
                    #[allow(unreachable_code)]
                    anyhow::Ok(())
                };
                tokio::select! {
                    r = serve => r,
                    _ = stop_rx => Ok(()),
                }
            })
        });
        Ok(FloorServer {
            url,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for FloorServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn floor_connection(tcp: tokio::net::TcpStream) {
    use futures_util::StreamExt;
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let challenge = json!({"type": "event", "event": "connect.challenge",
        "payload": {"nonce": "00000000-0000-0000-0000-000000000000", "ts": 0}});
    if ws.send(Message::text(challenge.to_string())).await.is_err() {
        return;
    }
    while let Some(Ok(msg)) = ws.next().await {
        if let Message::Text(t) = msg {
            let id = serde_json::from_str::<Value>(t.as_str())
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_string))
                .unwrap_or_default();
            let hello = json!({"type": "res", "id": id, "ok": true, "payload": {
                "type": "hello-ok", "protocol": 4,
                "server": {"version": "floor", "connId": "c"},
                "features": {"methods": [], "events": []},
                "auth": {"role": "operator", "scopes": ["operator.read"]},
                "policy": {"maxPayload": 1, "maxBufferedBytes": 1, "tickIntervalMs": 30000}}});
            let _ = ws.send(Message::text(hello.to_string())).await;
        }
    }
}
