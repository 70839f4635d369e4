//! Connection admission under hostile load, against the real `gateway` binary: idle sockets
//! cannot lock fresh clients out, a connection storm gets an answer for every attempt (served or
//! `503`), and the gateway's descriptors return to their baseline afterwards.
//!
//! `OPENCLAW_E2E_GATEWAY_BIN` points these tests at another build (e.g. `target/release/gateway`)
//! to measure it; they print their figures on stderr (`--nocapture`).

use crate::util::{connect_retry, Secret};
use futures_util::{SinkExt, StreamExt};
use openclaw_rs_test_support::gateway::{bin_path, free_port};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

const TOKEN: &str = "admission-token";
/// Hang guard for one client attempt (TCP connect retries included).
const ATTEMPT_GUARD: Duration = Duration::from_secs(30);
/// How long the gateway gets to release descriptors after a storm.
const FD_SETTLE: Duration = Duration::from_secs(10);

fn gateway_bin() -> PathBuf {
    std::env::var_os("OPENCLAW_E2E_GATEWAY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| bin_path("gateway"))
}

/// The real gateway binary on a private state dir, killed on drop.
struct Proc {
    child: tokio::process::Child,
    port: u16,
    pid: u32,
    state: tempfile::TempDir,
}

impl Proc {
    async fn start() -> Proc {
        // This test process opens thousands of sockets too.
        let _ = openclaw_rs_gateway::raise_fd_limit();
        let state = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = std::fs::File::create(state.path().join("gateway-test.log")).unwrap();
        let child = tokio::process::Command::new(gateway_bin())
            .args(["--port", &port.to_string(), "--token", TOKEN, "--state-dir"])
            .arg(state.path())
            .env_remove("OPENCLAW_GATEWAY_TOKEN")
            .env("OPENCLAW_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn the gateway binary (cargo build --workspace --bins)");
        let pid = child.id().expect("gateway pid");
        let p = Proc {
            child,
            port,
            pid,
            state,
        };
        let c = connect_retry(&p.url(), Secret::Token(TOKEN), p.state.path()).await;
        drop(c);
        p
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Socket descriptors the gateway holds open now. Only sockets: a file the gateway opens
    /// on first use (its JSONL log, a journal) is not what these tests bound, and counting it
    /// made the "back to baseline" check depend on when the baseline was taken.
    fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .unwrap_or_else(|e| panic!("read /proc/{}/fd: {e}", self.pid))
            .flatten()
            .filter(|e| {
                std::fs::read_link(e.path())
                    .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
            })
            .count()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.state.path().join("gateway-test.log")).unwrap_or_default()
    }

    /// Wait (bounded by `within`) until the gateway holds at most `target` descriptors; returns
    /// how long it took, or panics with the last count.
    async fn wait_fds_at_most(&self, target: usize, within: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let n = self.fds();
            if n <= target {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < within,
                "gateway still holds {n} descriptors after {within:?} (baseline {target})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Open `n` TCP sockets to `port` that never send a byte (at most 256 connecting at once).
async fn hold_idle(port: u16, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    let mut pending = futures_util::stream::iter((0..n).map(|_| async move {
        tokio::time::timeout(ATTEMPT_GUARD, TcpStream::connect(("127.0.0.1", port)))
            .await
            .expect("hang guard: idle TCP connect")
            .expect("idle TCP connect")
    }))
    .buffer_unordered(256);
    while let Some(s) = pending.next().await {
        held.push(s);
    }
    held
}

/// `k` fresh clients, one after the other, each doing the full typed `connect` handshake and a
/// `health` call. Returns the slowest handshake.
async fn fresh_clients_connect(p: &Proc, k: usize) -> Duration {
    let mut slowest = Duration::ZERO;
    for i in 0..k {
        let start = Instant::now();
        let mut o = openclaw_rs_client::ClientOptions::new(p.url());
        o.token = Some(TOKEN.into());
        let c = tokio::time::timeout(ATTEMPT_GUARD, openclaw_rs_client::Client::connect(o))
            .await
            .unwrap_or_else(|_| panic!("hang guard: fresh client {i} connect"))
            .unwrap_or_else(|e| {
                panic!("fresh client {i} could not connect: {e}\nlog:\n{}", p.log())
            });
        let h = tokio::time::timeout(ATTEMPT_GUARD, c.request("health", json!({})))
            .await
            .expect("hang guard: health")
            .expect("health after connect");
        assert_eq!(h["ok"], true, "{h}");
        slowest = slowest.max(start.elapsed());
    }
    slowest
}

/// `expect_pressure`: so many idle sockets that evictions must happen (with 1,100 the
/// tightened deadlines alone may free enough slots) and the pressure line must be logged.
async fn lockout_case(idle: usize, expect_pressure: bool) {
    let p = Proc::start().await;
    let baseline = p.fds();
    let start = Instant::now();
    let held = hold_idle(p.port, idle).await;
    let opened = start.elapsed();
    // The gateway has accepted them all once its pool is full and it holds no more than the
    // pool (1,024) plus its own descriptors: the rest were evicted, oldest silent first.
    let k = 15;
    let slowest = fresh_clients_connect(&p, k).await;
    let during = p.fds();
    // Evicted sockets linger up to 250 ms to receive their 503, on top of the pool.
    assert!(
        during <= baseline + 1024 + 256,
        "gateway holds {during} descriptors with {idle} idle sockets (baseline {baseline}): the pre-auth pool is not bounded"
    );
    eprintln!(
        "admission: {idle} idle sockets held (opened in {opened:?}); {k}/{k} fresh clients connected, slowest {slowest:?}; gateway fds {baseline} -> {during}"
    );
    // The gateway may still be accepting the last idle sockets (they complete in the kernel's
    // backlog first): wait, bounded, for the evictions' log line.
    let logged = Instant::now();
    while expect_pressure && !p.log().contains("connection pressure") {
        assert!(
            logged.elapsed() < FD_SETTLE,
            "no pressure line in the gateway log:\n{}",
            tail(&p.log(), 20)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(held);
    let settle = p.wait_fds_at_most(baseline, FD_SETTLE).await;
    eprintln!("admission: fds back to {baseline} within {settle:?} after closing the idle sockets");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_clients_connect_while_1100_idle_sockets_are_held() {
    lockout_case(1_100, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_clients_connect_while_5000_idle_sockets_are_held() {
    lockout_case(5_000, true).await;
}

/// How one storm attempt ended.
#[derive(Debug)]
enum Outcome {
    /// Upgraded and authenticated (`hello-ok`).
    Served,
    /// Answered `503` with `Retry-After`, or closed 1013 (try again later) before `connect`.
    Busy,
    /// Anything else: the failure, for the report.
    Dropped(String),
}

/// One attempt: TCP connect, WebSocket upgrade, `connect` with the token; a served socket stays
/// open (as a real client's would, counted in `parked`) until `hold` turns false.
async fn attempt(
    port: u16,
    mut hold: tokio::sync::watch::Receiver<bool>,
    parked: Arc<AtomicUsize>,
) -> Outcome {
    let tcp = match TcpStream::connect(("127.0.0.1", port)).await {
        Ok(s) => s,
        Err(e) => return Outcome::Dropped(format!("tcp connect: {e}")),
    };
    let url = format!("ws://127.0.0.1:{port}");
    let mut ws = match tokio_tungstenite::client_async(url, tcp).await {
        Ok((ws, _)) => ws,
        Err(WsError::Http(resp)) if resp.status() == 503 => {
            return if resp.headers().contains_key("retry-after") {
                Outcome::Busy
            } else {
                Outcome::Dropped("503 without Retry-After".into())
            };
        }
        Err(e) => return Outcome::Dropped(format!("upgrade: {e}")),
    };
    let req = json!({"type":"req","id":"c1","method":"connect","params":{
        "minProtocol": 4, "maxProtocol": 4, "caps": [],
        "client": {"id": "cli", "version": "1.0.0", "platform": "linux", "mode": "cli"},
        "role": "operator", "scopes": ["operator.read"], "auth": {"token": TOKEN},
    }});
    // The challenge comes first; the gateway may close 1013 instead if it evicted this socket.
    let mut sent = false;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                if v["event"] == "connect.challenge" && !sent {
                    if let Err(e) = ws.send(Message::text(req.to_string())).await {
                        return Outcome::Dropped(format!("send connect: {e}"));
                    }
                    sent = true;
                } else if v["type"] == "res" {
                    if v["ok"] != true {
                        return Outcome::Dropped(format!("connect refused: {v}"));
                    }
                    parked.fetch_add(1, Ordering::AcqRel);
                    let _ = hold.wait_for(|h| !*h).await;
                    let _ = ws.close(None).await;
                    return Outcome::Served;
                }
            }
            Some(Ok(Message::Close(Some(f)))) if u16::from(f.code) == 1013 => return Outcome::Busy,
            Some(Ok(Message::Close(f))) => return Outcome::Dropped(format!("closed: {f:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Outcome::Dropped(format!("read: {e}")),
            None => return Outcome::Dropped("socket ended without a close".into()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_2000_connections_is_served_or_answered_503_and_fds_return() {
    let p = Proc::start().await;
    let baseline = p.fds();
    let n = 2_000;
    let (release, hold) = tokio::sync::watch::channel(true);
    let parked = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (hold, parked, port) = (hold.clone(), parked.clone(), p.port);
        tasks.spawn(async move {
            tokio::time::timeout(ATTEMPT_GUARD, attempt(port, hold, parked))
                .await
                .unwrap_or_else(|_| Outcome::Dropped("no answer within the hang guard".into()))
        });
    }
    // All attempts at once: the served ones hold their authenticated sockets until every
    // attempt has an outcome, then all are released.
    let (mut served, mut busy, mut dropped) = (0usize, 0usize, Vec::new());
    let mut peak = 0;
    let mut done = 0;
    let mut released = false;
    let mut sampled = Instant::now();
    loop {
        if !released && done + parked.load(Ordering::Acquire) >= n {
            released = true;
            let _ = release.send(false);
        }
        if sampled.elapsed() >= Duration::from_millis(100) {
            peak = peak.max(p.fds());
            sampled = Instant::now();
        }
        match tokio::time::timeout(Duration::from_millis(100), tasks.join_next()).await {
            Ok(Some(r)) => {
                done += 1;
                match r.expect("attempt task") {
                    Outcome::Served => served += 1,
                    Outcome::Busy => busy += 1,
                    Outcome::Dropped(why) => dropped.push(why),
                }
            }
            Ok(None) => break,
            Err(_) => {}
        }
        assert!(
            start.elapsed() < ATTEMPT_GUARD * 3,
            "storm did not end: served {served}, busy {busy}, dropped {}",
            dropped.len()
        );
    }
    let took = start.elapsed();
    eprintln!(
        "admission storm: {n} attempts in {took:?}: {served} served, {busy} answered busy (503/1013), {} dropped; gateway fds {baseline} -> peak {peak}",
        dropped.len()
    );
    assert!(
        dropped.is_empty(),
        "{} of {n} attempts got no answer, e.g. {:?}\nlog tail:\n{}",
        dropped.len(),
        &dropped[..dropped.len().min(5)],
        tail(&p.log(), 20)
    );
    assert_eq!(served + busy, n);
    assert!(served > 0, "nothing was served");
    let settle = p.wait_fds_at_most(baseline, FD_SETTLE).await;
    eprintln!("admission storm: gateway fds back to {baseline} within {settle:?}");
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
