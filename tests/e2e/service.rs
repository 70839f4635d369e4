//! The gateway as a service: start right after a crash, the systemd user unit.

use crate::util::{gateway_log, kill_9};
use openclaw_rs_test_support::gateway::bin_path;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A CLI invocation isolated from the caller's environment.
fn openclaw(args: &[&str]) -> Output {
    let mut cmd = Command::new(bin_path("openclaw"));
    cmd.args(args).stdin(Stdio::null());
    for k in [
        "OPENCLAW_STATE_DIR",
        "OPENCLAW_CONFIG_PATH",
        "OPENCLAW_GATEWAY_PORT",
        "OPENCLAW_GATEWAY_TOKEN",
        "OPENCLAW_GATEWAY_PASSWORD",
        "OPENCLAW_GATEWAY_URL",
        "OPENCLAW_LISTEN_FDS",
        "NOTIFY_SOCKET",
    ] {
        cmd.env_remove(k);
    }
    cmd.output().expect("run openclaw")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The pid in "gateway started (pid N) ...".
fn started_pid(out: &Output) -> u32 {
    let t = text(out);
    assert!(
        out.status.success() && t.contains("gateway started"),
        "start did not start: {t}"
    );
    let at = t.find("(pid ").expect("pid in the start line") + 5;
    t[at..]
        .split(')')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {t}"))
}

/// Stops the background gateway of a state dir even when an assertion fails.
struct StopOnDrop(String);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = openclaw(&["gateway", "stop", "--state-dir", &self.0]);
    }
}

/// issue 12 item 6: `gateway start` issued at once after `kill -9` used to answer "already
/// running" for the killed pid (still exiting, its last thread holding the lock). Every start
/// must now start a new gateway.
#[test]
fn start_right_after_kill_9_always_starts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap().to_owned();
    let start = [
        "gateway",
        "start",
        "--port",
        "0",
        "--state-dir",
        state.as_str(),
    ];
    let mut pid = started_pid(&openclaw(&start));
    let _guard = StopOnDrop(state.clone());
    let began = Instant::now();
    for round in 0..30 {
        kill_9(pid);
        let out = openclaw(&start);
        let next = started_pid(&out);
        assert_ne!(next, pid, "round {round}: {}", text(&out));
        pid = next;
        assert!(
            began.elapsed() < Duration::from_secs(240),
            "30 rounds took over 240 s (round {round})"
        );
    }
}

/// The same for `gateway run` (the foreground binary a supervisor restarts): the killed child
/// is left unreaped (a zombie) while its successor starts.
#[test]
fn run_right_after_kill_9_always_runs() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path();
    let mut zombies = Vec::new();
    for round in 0..10 {
        let child = spawn_gateway(state);
        let pid = child.id();
        wait_ready(state, pid, round);
        kill_9(pid);
        // Not reaped yet: the next one starts while this one is a zombie or still exiting.
        zombies.push(child);
    }
    let mut last = spawn_gateway(state);
    wait_ready(state, last.id(), 10);
    let _ = last.kill();
    let _ = last.wait();
    for mut z in zombies {
        let _ = z.wait();
    }
}

fn spawn_gateway(state: &Path) -> std::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(gateway_log(state))
        .unwrap();
    Command::new(bin_path("gateway"))
        .args(["--port", "0", "--state-dir"])
        .arg(state)
        .env_remove("OPENCLAW_GATEWAY_TOKEN")
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

/// Bounded wait until `gateway.runtime.json` names `pid` (written once it is bound and locked).
fn wait_ready(state: &Path, pid: u32, round: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info: Option<serde_json::Value> = std::fs::read(state.join("gateway.runtime.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if info.is_some_and(|i| i["pid"] == pid) {
            return;
        }
        let gone = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z"))
            .unwrap_or(true);
        assert!(
            !gone && Instant::now() < deadline,
            "round {round}: gateway {pid} never became ready; log:\n{}",
            std::fs::read_to_string(gateway_log(state)).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
