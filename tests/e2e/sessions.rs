//! Sessions end to end: the real `openclaw` CLI and real gateways (in-process and as a separate
//! process that gets `kill -9`), runs on the real embedded runtime binary, and the seed scenario
//! (a helper's auth failure must not hurt its parent) on the fault-injecting fake app-server.

use crate::util::{
    call, client, connect_retry, connected, fake_runtime, gateway_command, kill_9, kill_and_wait,
    openclaw_rs_cli, queue_messages, running_sessions, seed_runtime, send_main, spawn_and_wait,
    spawn_children, start_with_config, wait_for, wait_run, wait_session_running, with_runtime,
    Secret, RUN_GUARD as GUARD,
};
use openclaw_rs_client::Client;
use openclaw_rs_config::Config;
use openclaw_rs_test_support::gateway::{bin_path, free_port, TestGateway};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

async fn call_err(c: &Client, method: &str, params: Value) -> openclaw_rs_protocol::ErrorShape {
    match c.request(method, params).await {
        Ok(v) => panic!("{method} unexpectedly succeeded: {v}"),
        Err(e) => e
            .error_shape()
            .cloned()
            .unwrap_or_else(|| panic!("{method}: not a server error: {e}")),
    }
}

/// The announce ids recorded in a session's transcript.
async fn announces(c: &Client, key: &str) -> Vec<String> {
    let h = call(
        c,
        "chat.history",
        json!({"sessionKey": key, "limit": 10_000}),
    )
    .await;
    h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "system")
        .map(|m| m["runId"].as_str().unwrap().to_owned())
        .collect()
}

/// Poll until `key` has `n` announces (or the guard passes); returns them.
async fn wait_announces(c: &Client, key: &str, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + GUARD;
    loop {
        let a = announces(c, key).await;
        if a.len() >= n || tokio::time::Instant::now() > deadline {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `openclaw <args> --url <gw> --token <token>`, run with the gateway's state dir.
async fn openclaw_on(gw: &TestGateway, token: &str, args: &[&str]) -> std::process::Output {
    let mut all = args.to_vec();
    all.extend(["--url", &gw.url, "--token", token]);
    openclaw_rs_cli(&all, Some(gw.state_dir.path())).await
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Seed 001's pre-flight check, on a fresh state dir, through the embedded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_sessions_spawn_echo_prints_test() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let token = gw.token.clone().unwrap();
    let out = openclaw_on(&gw, &token, &["sessions-spawn", "--task", "echo test"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "test\n");

    // The child is listed with its parent, and its result reached the parent's transcript.
    let out = openclaw_on(&gw, &token, &["sessions", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let child = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["classification"] == "subagent")
        .expect("child session listed")
        .clone();
    assert_eq!(child["spawnedBy"], "agent:main:main");
    assert_eq!(child["lastRunStatus"], "completed");
    let c = client(&gw).await;
    assert_eq!(wait_announces(&c, "agent:main:main", 1).await.len(), 1);
    c.close().await;

    // A failing task exits non-zero with the runtime class.
    let out = openclaw_on(
        &gw,
        &token,
        &["sessions-spawn", "--task", "echo partial; exit 3"],
    )
    .await;
    assert_eq!(out.status.code(), Some(70), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("partial"));
    assert!(
        text(&out.stderr).contains("exit code 3"),
        "{}",
        text(&out.stderr)
    );
    gw.stop().await.unwrap();
}

/// Each limit refused once, with FORBIDDEN naming the limit and its setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_limit_is_refused_with_its_setting() {
    bin_path("openclaw-app-server");
    let mut config = Config::default();
    config.session.max_children_per_session = Some(1);
    config.session.max_concurrent_subagent_runs = Some(2);
    let gw = start_with_config(config).await;
    let c = client(&gw).await;
    let slow = |parent: &str| json!({"task": "sleep 30", "parentSessionKey": parent});
    let a = call(&c, "sessions.spawn", slow("agent:main:main")).await;
    assert_eq!(a["status"], "accepted");
    let child = a["childSessionKey"].as_str().unwrap().to_owned();

    let e = call_err(&c, "sessions.spawn", slow(&child)).await;
    assert_eq!(e.code, openclaw_rs_protocol::ErrorCode::Forbidden);
    assert!(
        e.message
            .starts_with("spawn depth 2 exceeds session.maxSpawnDepth = 1"),
        "{}",
        e.message
    );
    assert_eq!(e.details.as_ref().unwrap()["limit"], "maxSpawnDepth");

    let e = call_err(&c, "sessions.spawn", slow("agent:main:main")).await;
    assert_eq!(e.code, openclaw_rs_protocol::ErrorCode::Forbidden);
    assert!(
        e.message.contains("session.maxChildrenPerSession = 1"),
        "{}",
        e.message
    );

    // Concurrency is a lane, not a refusal: with two subagent runs executing, a third waits
    // as `queued` and is visible so in sessions.get.
    let b = call(&c, "sessions.spawn", slow("agent:ops:main")).await;
    wait_for(
        &c,
        "sessions.list",
        json!({}),
        "two subagent runs executing",
        |l| running_sessions(l) >= 2,
    )
    .await;
    let q = call(&c, "sessions.spawn", slow("agent:qa:main")).await;
    assert_eq!(q["status"], "accepted", "{q}");
    let w = call(
        &c,
        "agent.wait",
        json!({"runId": q["runId"], "timeoutMs": 0}),
    )
    .await;
    assert_eq!(w["runStatus"], "queued", "{w}");

    // The CLI reports a limit with its own exit code.
    let token = gw.token.clone().unwrap();
    let out = openclaw_on(
        &gw,
        &token,
        &[
            "sessions-spawn",
            "--task",
            "echo x",
            "--parent",
            "agent:main:main",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(75), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("session.maxChildrenPerSession"));

    // agent.wait speaks OpenClaw's vocabulary: a wait that ends first is a `timeout`.
    let w = call(
        &c,
        "agent.wait",
        json!({"runId": a["runId"], "timeoutMs": 0}),
    )
    .await;
    assert_eq!(w["status"], "timeout", "{w}");
    assert_eq!(w["runStatus"], "running", "{w}");
    assert_eq!(w["waitTimedOut"], true, "{w}");

    // Abort the slow runs; they end as aborted.
    for r in [&a, &b, &q] {
        let key = r["childSessionKey"].as_str().unwrap();
        let ab = call(&c, "chat.abort", json!({"sessionKey": key})).await;
        assert_eq!(ab["aborted"], true);
        let w = wait_run(&c, r["runId"].as_str().unwrap()).await;
        assert_eq!(w["runStatus"], "aborted");
        assert_eq!(w["status"], "error", "{w}");
        assert_eq!(w["stopReason"], "aborted", "{w}");
    }
    c.close().await;
    gw.stop().await.unwrap();
}

/// `chat.send` retried with the same idempotencyKey runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_send_retry_with_same_key_runs_once() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let c = client(&gw).await;
    let params = json!({
        "sessionKey": "agent:main:main",
        "message": "echo ran >> once.txt; echo done",
        "idempotencyKey": "retry-1",
    });
    let (a, b) = tokio::join!(
        call(&c, "chat.send", params.clone()),
        call(&c, "chat.send", params.clone())
    );
    assert_eq!(a["runId"], "retry-1");
    assert_eq!(b["runId"], "retry-1");
    assert_eq!(a["status"], "started");
    let w = wait_run(&c, "retry-1").await;
    assert_eq!(w["runStatus"], "completed", "{w}");
    assert_eq!(w["status"], "ok", "{w}");
    assert!(w["waitTimedOut"].is_null(), "{w}");
    let again = call(&c, "chat.send", params).await;
    assert_eq!(again["runId"], "retry-1");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["runStatus"], "completed");
    let ran = std::fs::read_to_string(gw.state_dir.path().join("workspace/once.txt")).unwrap();
    assert_eq!(ran, "ran\n", "the task ran more than once");
    // One user message and one result in the transcript.
    let h = call(&c, "chat.history", json!({"sessionKey": "agent:main:main"})).await;
    let roles: Vec<&str> = h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, vec!["user", "assistant"]);
    c.close().await;
    gw.stop().await.unwrap();
}

/// A `gateway` process that can be killed.
struct GatewayProc {
    child: tokio::process::Child,
    url: String,
}

fn start_gateway_proc(state: &Path, port: u16, token: &str) -> GatewayProc {
    let child = gateway_command(state)
        .args(["--port", &port.to_string(), "--token", token])
        .spawn()
        .expect("spawn gateway");
    GatewayProc {
        child,
        url: format!("ws://127.0.0.1:{port}"),
    }
}

/// kill -9 with 3 running runs and 10 queued messages; after a restart all 13 end and the
/// parent's transcript holds each child's announce exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_with_queued_and_running_runs_loses_nothing() {
    bin_path("openclaw-app-server");
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let token = "kill9-test-token";
    let mut gw = start_gateway_proc(state.path(), port, token);
    let c = connect_retry(&gw.url, Secret::Token(token), state.path()).await;
    // A completed run on the main session before the crash: its thread dies with the
    // app-server, so the next message there must fall back to a fresh thread.
    send_main(&c, "warm", "echo warm", None).await;
    assert_eq!(wait_run(&c, "warm").await["runStatus"], "completed");
    let (mut runs, children) = spawn_children(&c, 3, "c").await;
    runs.extend(queue_messages(&c, &children, 10, |i| format!("sleep 1; echo q-{i}")).await);
    // Wait until the three first runs are running (the ten others are queued behind them).
    let l = wait_for(&c, "sessions.list", json!({}), "runs never started", |l| {
        running_sessions(l) == 3
    })
    .await;
    let rows = l["sessions"].as_array().unwrap();
    let queued: u64 = rows.iter().map(|s| s["queued"].as_u64().unwrap()).sum();
    assert_eq!(queued, 10, "{l}");
    drop(c);
    kill_9(gw.child.id().unwrap());
    let _ = gw.child.wait().await;

    let mut gw2 = start_gateway_proc(state.path(), port, token);
    let c = connect_retry(&gw2.url, Secret::Token(token), state.path()).await;
    for r in &runs {
        let w = wait_run(&c, r).await;
        assert_eq!(w["runStatus"], "completed", "run {r}: {w}");
    }
    let got = wait_announces(&c, "agent:main:main", runs.len()).await;
    let uniq: HashSet<&String> = got.iter().collect();
    assert_eq!(
        uniq.len(),
        got.len(),
        "an announce was delivered twice: {got:?}"
    );
    let expected: HashSet<&String> = runs.iter().collect();
    assert_eq!(uniq, expected, "announces do not match the runs");
    // The main session continues although its previous thread died with the old process.
    send_main(&c, "after", "echo after", None).await;
    let w = wait_run(&c, "after").await;
    assert_eq!(w["runStatus"], "completed", "{w}");
    assert_eq!(w["text"], "after\n");
    // The interrupted runs were re-run: attempt 2.
    for r in &runs[..3] {
        let w = wait_run(&c, r).await;
        assert_eq!(w["attempts"], 2, "{w}");
    }
    c.close().await;
    kill_and_wait(&mut gw2.child).await;
}

/// kill -9 while a parent run that spawned a child in process is still going: after the restart
/// the parent is re-run (attempt 2), its `sessions_spawn` call finds the child the first attempt
/// made instead of spawning another, and it completes. One child, one announce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_parent_rerun_finds_its_child_instead_of_spawning_twice() {
    bin_path("openclaw-app-server");
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let token = "kill9-rerun-token";
    let gate = state.path().join("parent-gate");
    let task = format!(
        r#""$OPENCLAW_APP_SERVER_BIN" tool sessions_spawn '{{"task":"echo from-child","label":"kid"}}'; while [ ! -e {gate} ]; do sleep 0.05; done; echo parent-done"#,
        gate = gate.display()
    );
    let mut gw = start_gateway_proc(state.path(), port, token);
    let c = connect_retry(&gw.url, Secret::Token(token), state.path()).await;
    send_main(&c, "rerun-parent", &task, None).await;
    let kids = wait_for(
        &c,
        "sessions.list",
        json!({"spawnedBy": "agent:main:main"}),
        "the child was never spawned",
        |l| l["sessions"].as_array().map_or(0, Vec::len) == 1,
    )
    .await;
    let child = kids["sessions"][0]["key"].clone();
    wait_session_running(&c, "agent:main:main", "the parent is not running").await;
    drop(c);
    kill_9(gw.child.id().unwrap());
    let _ = gw.child.wait().await;
    std::fs::write(&gate, b"go").unwrap();

    let mut gw2 = start_gateway_proc(state.path(), port, token);
    let c = connect_retry(&gw2.url, Secret::Token(token), state.path()).await;
    let w = wait_run(&c, "rerun-parent").await;
    assert_eq!(w["runStatus"], "completed", "{w}");
    assert_eq!(w["attempts"], 2, "{w}");
    let out = w["text"].as_str().unwrap_or_default();
    assert!(out.contains(r#""duplicate":true"#), "{out}");
    assert!(out.contains(child.as_str().unwrap_or("?")), "{out}");
    assert!(out.contains("parent-done"), "{out}");
    let kids = call(&c, "sessions.list", json!({"spawnedBy": "agent:main:main"})).await;
    let rows = kids["sessions"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "the re-run spawned a second child: {kids}");
    assert_eq!(rows[0]["key"], child);
    let got = wait_announces(&c, "agent:main:main", 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    c.close().await;
    kill_and_wait(&mut gw2.child).await;
}

/// Seed scenario (issue 4): a helper with a bad credential fails with a clear auth error while
/// its parent's run continues on the same shared app-server; the parent completes, its
/// connection never closes, the process keeps its pid and a sibling right after succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helper_auth_failure_does_not_hurt_the_parent() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let config = with_runtime(Config::default(), "fake", seed_runtime(&gate));
    let gw = start_with_config(config).await;
    let c = client(&gw).await;
    let parent = send_main(&c, "parent-1", "long parent task", Some("gated")).await;
    assert_eq!(parent["runId"], "parent-1");
    wait_session_running(&c, "agent:main:main", "parent never started").await;
    let sessions = gw.state.sessions().expect("sessions started");
    let pids = {
        let deadline = tokio::time::Instant::now() + GUARD;
        loop {
            let p = sessions.pool().live_pids();
            if !p.is_empty() || tokio::time::Instant::now() > deadline {
                break p;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    assert_eq!(pids.len(), 1, "one shared app-server: {pids:?}");

    let helper = call(
        &c,
        "sessions.spawn",
        json!({"task": "helper task", "model": "bad-key"}),
    )
    .await;
    let h = wait_run(&c, helper["runId"].as_str().unwrap()).await;
    assert_eq!(h["runStatus"], "failed", "{h}");
    assert_eq!(h["status"], "error", "{h}");
    assert_eq!(h["errorClass"], "auth", "{h}");
    assert!(
        h["error"].as_str().unwrap().contains("401"),
        "the error should say what failed: {h}"
    );
    // The same failure through the CLI exits with the auth code and says why.
    let token = gw.token.clone().unwrap();
    let out = openclaw_on(
        &gw,
        &token,
        &[
            "sessions-spawn",
            "--task",
            "helper via cli",
            "--model",
            "bad-key",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(77), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("(auth)"),
        "{}",
        text(&out.stderr)
    );
    // The parent is still running on the same process.
    let s = call(&c, "sessions.get", json!({"sessionKey": "agent:main:main"})).await;
    assert_eq!(s["session"]["status"], "running", "{s}");
    assert_eq!(sessions.pool().live_pids(), pids);

    std::fs::write(&gate, b"go").unwrap();
    let p = wait_run(&c, "parent-1").await;
    assert_eq!(p["runStatus"], "completed", "{p}");

    let sibling = call(
        &c,
        "sessions.spawn",
        json!({"task": "sibling says hi", "model": "echo"}),
    )
    .await;
    let s = wait_run(&c, sibling["runId"].as_str().unwrap()).await;
    assert_eq!(s["runStatus"], "completed", "{s}");
    assert!(
        s["text"].as_str().unwrap().contains("sibling says hi"),
        "{s}"
    );
    assert_eq!(
        sessions.pool().live_pids(),
        pids,
        "the shared process was replaced"
    );

    // Every child result reached the parent, once each; the parent's socket never closed.
    let got = wait_announces(&c, "agent:main:main", 3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    // No reconnect policy: a client whose socket closed never returns to Connected.
    assert!(
        connected(&c),
        "the parent's connection closed: {:?}",
        &*c.status().borrow()
    );
    c.close().await;
    gw.stop().await.unwrap();
}

/// The CLI's exit code names the error class: auth 77, timeout 124; `--no-wait --json`
/// returns the accepted spawn at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_exit_codes_name_the_error_class() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let token = gw.token.clone().unwrap();
    let out = openclaw_on(
        &gw,
        "not-the-token",
        &["sessions-spawn", "--task", "echo x"],
    )
    .await;
    assert_eq!(out.status.code(), Some(77), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("token"), "{}", text(&out.stderr));

    let out = openclaw_on(
        &gw,
        &token,
        &["sessions-spawn", "--task", "sleep 30", "--timeout", "1"],
    )
    .await;
    assert_eq!(out.status.code(), Some(124), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("timeout"),
        "{}",
        text(&out.stderr)
    );

    let out = openclaw_on(
        &gw,
        &token,
        &[
            "sessions-spawn",
            "--task",
            "echo later",
            "--no-wait",
            "--json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "accepted");
    let c = client(&gw).await;
    let w = wait_run(&c, v["runId"].as_str().unwrap()).await;
    assert_eq!(w["runStatus"], "completed");
    assert_eq!(w["text"], "later\n");
    c.close().await;
    gw.stop().await.unwrap();
}

/// Events reach the connection that started the run and the subscribers, and nobody else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_events_reach_the_sender_and_subscribers_only() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let all = client(&gw).await;
    let one = client(&gw).await;
    let sender = client(&gw).await;
    let bystander = client(&gw).await;
    let mut all_ev = all.events();
    let mut one_ev = one.events();
    let mut sender_ev = sender.events();
    let mut by_ev = bystander.events();
    assert_eq!(
        call(&all, "sessions.subscribe", json!({})).await["subscribed"],
        true
    );
    call(
        &one,
        "sessions.subscribe",
        json!({"sessionKey": "agent:main:main"}),
    )
    .await;
    let r = send_main(&sender, "ev-1", "echo hello", None).await;
    assert_eq!(r["runId"], "ev-1");
    assert_eq!(wait_run(&sender, "ev-1").await["runStatus"], "completed");

    /// Collect chat events of run ev-1 until its final one; returns (states, saw sessions.changed).
    async fn collect(
        rx: &mut tokio::sync::broadcast::Receiver<openclaw_rs_protocol::EventFrame>,
    ) -> (Vec<String>, bool) {
        let mut states = Vec::new();
        let mut changed = false;
        let _ = tokio::time::timeout(GUARD, async {
            loop {
                let ev = rx.recv().await.expect("event stream");
                let p = ev.payload.unwrap_or_default();
                if ev.event == "sessions.changed" {
                    assert_eq!(p["sessionKey"], "agent:main:main");
                    changed = true;
                }
                if ev.event == "chat" && p["runId"] == "ev-1" {
                    let s = p["state"].as_str().unwrap().to_owned();
                    if s == "final" {
                        assert_eq!(p["message"]["content"][0]["text"], "hello\n");
                    }
                    let done = s == "final";
                    states.push(s);
                    if done {
                        return;
                    }
                }
            }
        })
        .await;
        (states, changed)
    }
    for (name, rx) in [
        ("all", &mut all_ev),
        ("one", &mut one_ev),
        ("sender", &mut sender_ev),
    ] {
        let (states, changed) = collect(rx).await;
        assert_eq!(states.first().map(String::as_str), Some("status"), "{name}");
        assert!(states.iter().any(|s| s == "delta"), "{name}: {states:?}");
        assert_eq!(states.last().map(String::as_str), Some("final"), "{name}");
        if name != "sender" {
            assert!(changed, "{name} got no sessions.changed");
        }
    }
    // The bystander saw no session traffic at all.
    while let Ok(ev) = by_ev.try_recv() {
        assert!(
            !matches!(ev.event.as_str(), "chat" | "agent" | "sessions.changed"),
            "bystander got {ev:?}"
        );
    }
    for c in [all, one, sender, bystander] {
        c.close().await;
    }
    gw.stop().await.unwrap();
}

/// The real Node `openclaw gateway call` drives our sessions methods: `chat.send` then
/// `sessions.list` (interop item of the sessions issue).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_openclaw_cli_calls_chat_send_and_sessions_list() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let token = gw.token.clone().unwrap();
    let home = tempfile::tempdir().unwrap();
    let real_call = |method: &str, params: Value| {
        let cmd = openclaw_rs_test_support::node::openclaw_js_cli(home.path());
        let url = gw.url.clone();
        let token = token.clone();
        let method = method.to_owned();
        async move {
            let mut cmd = tokio::process::Command::from(cmd?);
            cmd.args([
                "gateway",
                "call",
                &method,
                "--params",
                &params.to_string(),
                "--url",
                &url,
                "--token",
                &token,
                "--json",
            ])
            .kill_on_drop(true);
            let out = tokio::time::timeout(GUARD, cmd.output())
                .await
                .expect("the real openclaw CLI hung")
                .expect("spawn the real openclaw CLI");
            Some(out)
        }
    };
    let Some(out) = real_call(
        "chat.send",
        json!({"sessionKey": "agent:main:main", "message": "echo interop", "idempotencyKey": "interop-1"}),
    )
    .await
    else {
        eprintln!("!!! SKIPPED real_openclaw_cli_calls_chat_send_and_sessions_list: node 24 or the openclaw npm package is missing (run `cargo xtask install-deps`)");
        return;
    };
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let sent: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(sent["runId"], "interop-1");
    assert_eq!(sent["status"], "started");
    let c = client(&gw).await;
    let w = wait_run(&c, "interop-1").await;
    assert_eq!(w["runStatus"], "completed");
    assert_eq!(w["text"], "interop\n");

    let out = real_call("sessions.list", json!({})).await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let keys: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["agent:main:main"], "{list}");
    assert_eq!(list["sessions"][0]["lastRunStatus"], "completed");
    c.close().await;
    gw.stop().await.unwrap();
}

/// Converse of the seed scenario: the shared app-server dies mid-turn. Only the run on it fails
/// (retryable), the next run gets a fresh process, and no connection drops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_server_crash_fails_only_its_run_and_the_next_gets_a_fresh_process() {
    let config = with_runtime(
        Config::default(),
        "fake",
        fake_runtime(&["--crash-model", "crash"]),
    );
    let gw = start_with_config(config).await;
    let c = client(&gw).await;
    let sessions = gw.state.sessions().expect("sessions started");
    let spawn_wait =
        |task: &str, model: &str| spawn_and_wait(&c, json!({"task": task, "model": model}));
    let first = spawn_wait("before", "echo").await;
    assert_eq!(first["runStatus"], "completed", "{first}");
    let before = sessions.pool().live_pids();
    assert_eq!(before.len(), 1, "{before:?}");

    let crashed = spawn_wait("boom", "crash").await;
    assert_eq!(crashed["runStatus"], "failed", "{crashed}");
    assert_eq!(crashed["retryable"], true, "{crashed}");
    assert_eq!(crashed["errorClass"], "runtime", "{crashed}");

    let after = spawn_wait("after", "echo").await;
    assert_eq!(after["runStatus"], "completed", "{after}");
    let now = sessions.pool().live_pids();
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now, before, "the crashed process was reused");
    assert_eq!(wait_announces(&c, "agent:main:main", 3).await.len(), 3);
    assert!(
        connected(&c),
        "the connection closed: {:?}",
        &*c.status().borrow()
    );
    c.close().await;
    gw.stop().await.unwrap();
}

/// `openclaw sessions-spawn` outlives a gateway crash: it reconnects once the gateway is back
/// and reports the re-run's result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_spawn_reports_the_result_across_a_gateway_crash() {
    bin_path("openclaw-app-server");
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let token = "cli-crash-token";
    let mut gw = start_gateway_proc(state.path(), port, token);
    let c = connect_retry(&gw.url, Secret::Token(token), state.path()).await;
    let cli_state = tempfile::tempdir().unwrap();
    let mut cli = tokio::process::Command::new(bin_path("openclaw"));
    cli.args([
        "sessions-spawn",
        "--task",
        "sleep 2; echo survived",
        "--url",
        &gw.url,
        "--token",
        token,
    ])
    .env("OPENCLAW_STATE_DIR", cli_state.path())
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let cli = cli.spawn().unwrap();
    // Wait until the run is running, then crash the gateway under it.
    wait_for(&c, "sessions.list", json!({}), "never ran", |l| {
        running_sessions(l) > 0
    })
    .await;
    drop(c);
    kill_9(gw.child.id().unwrap());
    let _ = gw.child.wait().await;
    let mut gw2 = start_gateway_proc(state.path(), port, token);
    let out = tokio::time::timeout(GUARD, cli.wait_with_output())
        .await
        .expect("the CLI hung")
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stderr.contains("connection lost"), "{stderr}");
    assert!(
        stdout.contains("survived"),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    kill_and_wait(&mut gw2.child).await;
}

/// `sessions.list` filters, `sessions.get`/`chat.history` errors, and `openclaw sessions tail`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_errors_and_tail() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let token = gw.token.clone().unwrap();
    let c = client(&gw).await;
    let a = call(
        &c,
        "sessions.spawn",
        json!({"task": "echo from-ops", "agentId": "ops", "label": "ops-child"}),
    )
    .await;
    wait_run(&c, a["runId"].as_str().unwrap()).await;
    send_main(&c, "t-1", "echo hi", None).await;
    wait_run(&c, "t-1").await;

    let ops = call(&c, "sessions.list", json!({"agentId": "ops"})).await;
    let keys: Vec<&str> = ops["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{ops}");
    assert!(keys.contains(&"agent:ops:main"));
    let mains = call(&c, "sessions.list", json!({"excludeSubagents": true})).await;
    assert_eq!(mains["totalCount"], 2, "{mains}");
    let kids = call(&c, "sessions.list", json!({"spawnedBy": "agent:ops:main"})).await;
    assert_eq!(kids["sessions"][0]["label"], "ops-child", "{kids}");
    let status = call(&c, "status", json!({})).await;
    assert_eq!(status["sessions"]["count"], 3, "{status}");
    assert_eq!(status["sessions"]["running"], 0, "{status}");
    assert_eq!(status["sessions"]["limits"]["maxSpawnDepth"], 1, "{status}");
    let page = call(&c, "sessions.list", json!({"limit": 1})).await;
    assert_eq!(page["count"], 1);
    assert_eq!(page["hasMore"], true);

    let e = call_err(
        &c,
        "sessions.get",
        json!({"sessionKey": "agent:nobody:main"}),
    )
    .await;
    assert!(e.message.contains("unknown session"), "{}", e.message);
    // A bare key such as `session:agent:x` is OpenClaw's `agent:main:session:agent:x`; an
    // `agent:` key without a session name is malformed (as on OpenClaw).
    let e = call_err(&c, "chat.history", json!({"sessionKey": "agent:x"})).await;
    assert!(e.message.contains("malformed session key"), "{}", e.message);
    let e = call_err(
        &c,
        "chat.send",
        json!({"sessionKey": "agent:main:main", "message": "x"}),
    )
    .await;
    assert!(e.message.contains("idempotencyKey"), "{}", e.message);
    let e = call_err(&c, "agent.wait", json!({"runId": "nope"})).await;
    assert!(e.message.contains("unknown runId"), "{}", e.message);

    let out = openclaw_on(
        &gw,
        &token,
        &["sessions", "tail", "agent:main:main", "--no-follow"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "> echo hi\nhi\n");
    let out = openclaw_on(
        &gw,
        &token,
        &["sessions", "tail", "agent:ops:main", "--no-follow"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.starts_with("[announce from agent:ops:subagent:") && printed.contains("from-ops"),
        "{printed}"
    );
    c.close().await;
    gw.stop().await.unwrap();
}

/// Session limits are hot: raising `session.maxChildrenPerSession` over `config.patch` lets the
/// next spawn through without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_limits_apply_on_hot_reload() {
    bin_path("openclaw-app-server");
    let mut config = Config::default();
    config.session.max_children_per_session = Some(1);
    let gw = start_with_config(config).await;
    let c = client(&gw).await;
    let slow = json!({"task": "sleep 30", "parentSessionKey": "agent:main:main"});
    let a = call(&c, "sessions.spawn", slow.clone()).await;
    let e = call_err(&c, "sessions.spawn", slow.clone()).await;
    assert!(
        e.message.contains("session.maxChildrenPerSession = 1"),
        "{}",
        e.message
    );
    let got = call(&c, "config.get", json!({})).await;
    let res = call(
        &c,
        "config.patch",
        json!({"raw": "{ session: { maxChildrenPerSession: 3 } }", "baseHash": got["hash"]}),
    )
    .await;
    assert_eq!(res["requiresRestart"], false, "{res}");
    let b = call(&c, "sessions.spawn", slow).await;
    assert_eq!(b["status"], "accepted");
    // Still the same process and connection: clean up the slow runs.
    for r in [&a, &b] {
        call(
            &c,
            "chat.abort",
            json!({"sessionKey": r["childSessionKey"]}),
        )
        .await;
        assert_eq!(
            wait_run(&c, r["runId"].as_str().unwrap()).await["runStatus"],
            "aborted"
        );
    }
    c.close().await;
    gw.stop().await.unwrap();
}

/// A shell user can queue 50 spawns with the default config: none is refused (no parent named,
/// so the child limit does not apply; beyond the lane they wait as `queued`), and all complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_shell_spawns_queue_and_all_complete() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let token = gw.token.clone().unwrap();
    let mut runs = Vec::new();
    for i in 0..50 {
        let out = openclaw_on(
            &gw,
            &token,
            &[
                "sessions-spawn",
                "--task",
                &format!("sleep 0.2; echo job-{i}"),
                "--no-wait",
                "--json",
            ],
        )
        .await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "spawn {i}: {}",
            text(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], "accepted", "{v}");
        runs.push(v["runId"].as_str().unwrap().to_owned());
    }
    let c = client(&gw).await;
    for (i, r) in runs.iter().enumerate() {
        let w = wait_run(&c, r).await;
        assert_eq!(w["runStatus"], "completed", "{w}");
        assert_eq!(w["text"], format!("job-{i}\n"));
    }
    c.close().await;
    gw.stop().await.unwrap();
}

/// kill -9 in a loop while shell spawns finish and their parent's journal is compacted over and
/// over (`journalMaxBytes` 1024, one run and one announce kept): after the last restart every
/// acknowledged run has ended, the parent recorded each child's result exactly once (its
/// transcript positions continue through compactions, so `totalMessages` counts them all), the
/// compacted history went to the archive, and no unfinished compaction is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_journal_compactions_loses_and_doubles_nothing() {
    const ROUNDS: usize = 6;
    const PER_ROUND: usize = 6;
    bin_path("openclaw-app-server");
    let state = tempfile::tempdir().unwrap();
    std::fs::write(
        state.path().join("openclaw.json"),
        json!({"session": {"retention": {"journalMaxBytes": 1024, "journalKeepRuns": 1}}})
            .to_string(),
    )
    .unwrap();
    let port = free_port();
    let token = "kill9-compaction-token";
    let mut runs = Vec::new();
    for round in 0..ROUNDS {
        let mut gw = start_gateway_proc(state.path(), port, token);
        let c = connect_retry(&gw.url, Secret::Token(token), state.path()).await;
        for i in 0..PER_ROUND {
            let id = format!("compact-{round}-{i}");
            let r = call(
                &c,
                "sessions.spawn",
                json!({"task": format!("echo {id}"), "idempotencyKey": id}),
            )
            .await;
            assert_eq!(r["runId"], id.as_str(), "{r}");
            runs.push(id);
        }
        // Kill at a different point each round: at once, or once some results are recorded
        // (each recorded result past 1 KiB makes the parent compact).
        let recorded = round * PER_ROUND + (round % 3) * 2;
        let deadline = tokio::time::Instant::now() + GUARD;
        while round % 3 != 0 && tokio::time::Instant::now() < deadline {
            let h = call(
                &c,
                "chat.history",
                json!({"sessionKey": "agent:main:main", "limit": 1}),
            )
            .await;
            if h["totalMessages"].as_u64().unwrap_or(0) as usize >= recorded {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(c);
        kill_9(gw.child.id().unwrap());
        let _ = gw.child.wait().await;
    }
    let mut gw = start_gateway_proc(state.path(), port, token);
    let c = connect_retry(&gw.url, Secret::Token(token), state.path()).await;
    for r in &runs {
        let w = wait_run(&c, r).await;
        assert_eq!(w["runStatus"], "completed", "run {r}: {w}");
    }
    let h = wait_for(
        &c,
        "chat.history",
        json!({"sessionKey": "agent:main:main", "limit": 10_000}),
        "the children's results never all reached the parent",
        |h| h["totalMessages"].as_u64().unwrap_or(0) as usize >= runs.len(),
    )
    .await;
    assert_eq!(
        h["totalMessages"].as_u64().unwrap() as usize,
        runs.len(),
        "a child's result was recorded twice or lost: {h}"
    );
    // The live transcript is the compacted tail: each entry once, all of them real runs.
    let live: Vec<&str> = h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["runId"].as_str().unwrap())
        .collect();
    assert!(live.len() < runs.len(), "never compacted: {live:?}");
    let uniq: HashSet<&&str> = live.iter().collect();
    assert_eq!(uniq.len(), live.len(), "{live:?}");
    assert!(live.iter().all(|r| runs.iter().any(|x| x == r)), "{live:?}");
    let sessions = state.path().join("sessions");
    let segments = std::fs::read_dir(sessions.join("archive"))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("agent~main~main.")
        })
        .count();
    assert!(segments >= 1, "no compacted segment in the archive");
    let leftovers: Vec<_> = std::fs::read_dir(&sessions)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".compact"))
        .map(|e| e.file_name())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    c.close().await;
    kill_and_wait(&mut gw.child).await;
}
