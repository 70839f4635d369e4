//! Config reload and restarts against real gateways: hot token rotation (4001), invalid edits
//! that keep the last good config, seed 003 (a cooldown never restarts anything), `config.*`
//! writes, and a re-exec restart of the real `gateway` binary that refuses no connection.

use crate::util::{
    call, connect_retry, connected, gateway_command, kill_and_wait, openclaw_rs_cli,
    queue_messages, running_sessions, seed_runtime, send_main, spawn_and_wait, spawn_children,
    wait_for, wait_run, wait_session_running, with_runtime, Secret,
};
use openclaw_rs_client::{Client, ClientError, ClientOptions};
use openclaw_rs_config::{AuthMode, Config};
use openclaw_rs_cooldowns::{FailureReason, MAIN_LANE};
use openclaw_rs_gateway::SharedAuth;
use openclaw_rs_test_support::gateway::{TestGateway, TestGatewayOptions};
use serde_json::{json, Value};
use std::time::Duration;

const HANG_GUARD: Duration = Duration::from_secs(30);

fn token_config(token: &str) -> Config {
    let mut c = Config::default();
    c.gateway.auth.mode = Some(AuthMode::Token);
    c.gateway.auth.token = Some(token.into());
    c
}

async fn start_with_token(token: &str) -> TestGateway {
    TestGateway::start(TestGatewayOptions {
        auth: Some(SharedAuth::token(token)),
        config: Some(token_config(token)),
        ..Default::default()
    })
    .await
}

async fn connect(url: &str, token: &str) -> Result<Client, ClientError> {
    let mut o = ClientOptions::new(url);
    o.token = Some(token.into());
    Client::connect(o).await
}

/// Wait for the next `config.changed` event on `c`.
async fn config_changed(c: &Client) -> Value {
    let mut rx = c.events();
    tokio::time::timeout(HANG_GUARD, async {
        loop {
            match rx.recv().await {
                Ok(ev) if ev.event == "config.changed" => return ev.payload.unwrap_or_default(),
                Ok(_) => {}
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    })
    .await
    .expect("no config.changed event within the hang guard")
}

/// Wait until `c` is closed; its close frame, if one came. Panics with `what` after the guard.
async fn wait_closed(c: &Client, what: &str) -> Option<openclaw_rs_client::CloseInfo> {
    let mut status = c.status();
    tokio::time::timeout(HANG_GUARD, async {
        loop {
            if let openclaw_rs_client::Status::Closed(info) = status.borrow().clone() {
                return info;
            }
            status.changed().await.expect("status channel");
        }
    })
    .await
    .expect(what)
}

/// A task that waits for the next `config.changed` event on `c`.
fn on_config_changed(c: &Client) -> tokio::task::JoinHandle<Value> {
    let c = c.clone();
    tokio::spawn(async move { config_changed(&c).await })
}

/// Write `contents` to the gateway's config file; the `config.changed` event that follows.
async fn edit_config(c: &Client, gw: &TestGateway, contents: &str) -> Value {
    let pending = on_config_changed(c);
    std::fs::write(config_path(gw), contents).unwrap();
    pending.await.unwrap()
}

fn config_path(gw: &TestGateway) -> std::path::PathBuf {
    gw.state_dir.path().join("openclaw.json")
}

#[tokio::test]
async fn token_rotation_closes_old_token_connections_with_4001_and_new_token_works() {
    let gw = start_with_token("old-token").await;
    let old = connect(&gw.url, "old-token")
        .await
        .expect("old token connects");
    let watcher = connect(&gw.url, "old-token").await.unwrap();
    let changed = on_config_changed(&watcher);
    std::fs::write(
        config_path(&gw),
        "{ gateway: { auth: { mode: 'token', token: 'new-token' } } }",
    )
    .unwrap();
    let closed = wait_closed(&old, "old-token connection was not closed").await;
    let info = closed.expect("close frame");
    assert_eq!(info.code, 4001, "{info:?}");
    assert_eq!(info.reason, "gateway auth changed");
    // The event may or may not reach a connection that is being closed; it names the path.
    if let Ok(Ok(p)) = tokio::time::timeout(Duration::from_secs(5), changed).await {
        assert_eq!(p["changedPaths"], json!(["gateway.auth.token"]));
        assert_eq!(p["actions"], json!(["rotateSharedSecret"]));
    }
    let new = connect(&gw.url, "new-token")
        .await
        .expect("new token works at once");
    new.request("health", json!({})).await.unwrap();
    let err = connect(&gw.url, "old-token").await.unwrap_err();
    assert_eq!(err.detail_code(), Some("AUTH_TOKEN_MISMATCH"), "{err}");
    gw.stop().await.unwrap();
}

#[tokio::test]
async fn invalid_edit_keeps_last_good_config_and_status_shows_the_error() {
    let gw = start_with_token("t").await;
    let c = connect(&gw.url, "t").await.unwrap();
    let before = c.request("config.get", json!({})).await.unwrap();
    let ev = edit_config(&c, &gw, "{ gateway: { auth: { token: 'x' ").await;
    let err = ev["error"]
        .as_str()
        .expect("config.changed carries the error");
    assert!(err.contains("syntax error"), "{err}");
    assert_eq!(ev["applied"], false);
    // The last good config keeps serving: same token, same hash, and the error is in status.
    let status = c.request("status", json!({})).await.unwrap();
    let last = &status["reload"]["lastError"];
    assert!(
        last["message"].as_str().unwrap().contains("line"),
        "{status}"
    );
    assert!(last["atMs"].as_u64().unwrap() > 0);
    assert_eq!(
        last["path"].as_str().unwrap(),
        config_path(&gw).display().to_string()
    );
    let after = c.request("config.get", json!({})).await.unwrap();
    assert_eq!(after["hash"], before["hash"]);
    assert_eq!(after["valid"], false);
    connect(&gw.url, "t").await.expect("old token still works");
    // `openclaw doctor` shows the same: the file is invalid and the gateway kept its config.
    let sd = gw.state_dir.path().to_str().unwrap().to_owned();
    let out = openclaw_rs_cli(
        &[
            "doctor",
            "--json",
            "--url",
            &gw.url,
            "--token",
            "t",
            "--state-dir",
            &sd,
        ],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "doctor exit code");
    let d: Value = serde_json::from_slice(&out.stdout).expect("doctor --json");
    assert_eq!(d["config"]["valid"], false, "{d}");
    let problems = d["problems"].to_string();
    assert!(problems.contains("keeps its last good config"), "{d}");
    assert!(problems.contains("line"), "{d}");
    // Other CLI commands still reach the gateway; `gateway status` shows the rejected edit.
    let out = openclaw_rs_cli(
        &[
            "gateway",
            "status",
            "--url",
            &gw.url,
            "--token",
            "t",
            "--state-dir",
            &sd,
        ],
        None,
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("last edit rejected"), "{stdout}");
    assert!(stdout.contains("syntax error"), "{stdout}");
    assert!(stderr.contains("warning: config"), "{stderr}");
    // Without --token, the token configured in the unreadable file cannot be used, and the
    // refusal says so.
    let out = openclaw_rs_cli(&["health", "--url", &gw.url, "--state-dir", &sd], None).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("the config file could not be read"),
        "{stderr}"
    );
    // A good edit clears the error.
    let ev = edit_config(
        &c,
        &gw,
        "{ gateway: { auth: { mode: 'token', token: 't' } }, logging: { level: 'debug' } }",
    )
    .await;
    assert_eq!(ev["changedPaths"], json!(["logging.level"]), "{ev}");
    let status = c.request("status", json!({})).await.unwrap();
    assert!(status["reload"]["lastError"].is_null(), "{status}");
    gw.stop().await.unwrap();
}

/// Seed 003: a helper lane's 401 records a cooldown. Nothing restarts, nothing reloads, the
/// config file is untouched, the user's connection stays, and the main lane is unaffected.
/// A user edit of `auth.cooldowns` settings is hot, never a restart.
#[tokio::test]
async fn seed_003_cooldown_in_helper_lane_never_restarts_or_touches_main_lane() {
    let gw = start_with_token("t").await;
    let user = connect(&gw.url, "t").await.unwrap();
    let mut events = user.events();
    let cooldowns = gw.state.reload().cooldowns().clone();
    let now = openclaw_rs_cooldowns::now_ms();
    let info = cooldowns
        .record_failure(
            "anthropic:cli",
            "opus",
            "helper:slug",
            FailureReason::AuthPermanent,
            now,
        )
        .unwrap();
    assert!(info.until > now);
    // Runtime state lives in the state dir, never in openclaw.json.
    assert!(gw.state_dir.path().join("state/cooldowns.json").exists());
    assert!(
        !config_path(&gw).exists(),
        "a cooldown must not write config"
    );
    // The user's lane still selects the profile.
    let sel = cooldowns
        .select(
            &["anthropic:cli".to_string()],
            "opus",
            MAIN_LANE,
            now + 1000,
        )
        .unwrap();
    assert_eq!(sel.profile, "anthropic:cli");
    assert!(sel.skipped.is_empty());
    // A helper in the same lane fails over with a message naming the skipped profile.
    let err = cooldowns
        .select(
            &["anthropic:cli".to_string()],
            "opus",
            "helper:slug",
            now + 1000,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("anthropic:cli (auth_permanent, disabled until"),
        "{err}"
    );

    // Now the user puts cooldown settings in config over RPC: hot, no restart.
    let got = user.request("config.get", json!({})).await.unwrap();
    let res = user
        .request(
            "config.patch",
            json!({
                "raw": "{ auth: { cooldowns: { billingBaseMs: 60000, helperLanePolicy: 'local' } } }",
                "baseHash": got["hash"],
            }),
        )
        .await
        .unwrap();
    assert_eq!(res["requiresRestart"], false, "{res}");
    assert_eq!(res["actions"], json!(["updateCooldownSettings"]));
    assert_eq!(cooldowns.policy().billing_base_ms, 60_000);
    // Only config.changed arrived: no shutdown, the connection is alive and serving.
    tokio::time::sleep(Duration::from_millis(200)).await;
    while let Ok(ev) = events.try_recv() {
        assert_ne!(
            ev.event, "shutdown",
            "a cooldown settings edit must not restart"
        );
    }
    let status = user.request("status", json!({})).await.unwrap();
    assert_eq!(status["reload"]["restart"], Value::Null, "{status}");
    assert_eq!(status["draining"], false);
    gw.stop().await.unwrap();
}

#[tokio::test]
async fn config_get_is_read_scoped_and_never_shows_a_secret() {
    // OpenClaw serves `config.get` to operator.read; the token must not reach such a client.
    let gw = start_with_token("s3cret-token-value").await;
    let mut o = ClientOptions::new(&gw.url);
    o.token = Some("s3cret-token-value".into());
    o.scopes = vec!["operator.read".into()];
    let reader = Client::connect(o).await.unwrap();
    let got = reader.request("config.get", json!({})).await.unwrap();
    assert!(
        !got.to_string().contains("s3cret-token-value"),
        "config.get leaked the token: {got}"
    );
    assert!(
        got["raw"]
            .as_str()
            .unwrap()
            .contains("__OPENCLAW_REDACTED__"),
        "{got}"
    );
    // The redacted raw text round-trips through config.set without losing the secret.
    let admin = connect(&gw.url, "s3cret-token-value").await.unwrap();
    admin
        .request(
            "config.set",
            json!({"raw": got["raw"], "baseHash": got["hash"]}),
        )
        .await
        .unwrap();
    connect(&gw.url, "s3cret-token-value")
        .await
        .expect("the secret survived a config.set of the redacted text");
    // Writes stay admin-only.
    let err = reader
        .request("config.set", json!({"raw": "{}", "baseHash": got["hash"]}))
        .await
        .unwrap_err();
    assert_eq!(err.error_shape().unwrap().code.as_str(), "FORBIDDEN");
    gw.stop().await.unwrap();
}

#[tokio::test]
async fn config_writes_check_base_hash_and_hold_restart_paths() {
    let gw = start_with_token("t").await;
    let c = connect(&gw.url, "t").await.unwrap();
    let got = c.request("config.get", json!({})).await.unwrap();
    assert_eq!(
        got["config"]["gateway"]["auth"]["token"],
        "__OPENCLAW_REDACTED__"
    );
    let err = c
        .request(
            "config.set",
            json!({"raw": "{}", "baseHash": "sha256:stale"}),
        )
        .await
        .unwrap_err();
    let shape = err.error_shape().unwrap();
    assert_eq!(shape.code.as_str(), "INVALID_REQUEST");
    assert!(shape.message.contains("config.get"), "{}", shape.message);
    let err = c
        .request(
            "config.patch",
            json!({"raw": "{ logging: { level: 'x' } }"}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("baseHash is required"), "{err}");
    let err = c
        .request(
            "config.set",
            json!({"raw": "{ gateway: { port: 'x' } }", "baseHash": got["hash"]}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("gateway"), "{err}");
    // A restart-required edit with a run in flight: announced (who/why/deadline in status),
    // new runs paused, the old port kept live; reverting the edit cancels the restart.
    let target = std::sync::Arc::new(FakeRuns::default());
    target
        .in_flight
        .store(1, std::sync::atomic::Ordering::SeqCst);
    gw.state.reload().add_drain_target(target.clone());
    let pre = call(&c, "gateway.restart.preflight", json!({})).await;
    assert_eq!(pre["inFlightRuns"], 1, "{pre}");
    assert!(pre["restart"].is_null(), "{pre}");
    let got = c.request("config.get", json!({})).await.unwrap();
    let res = c
        .request(
            "config.set",
            json!({"raw": "{ gateway: { auth: { mode: 'token', token: 't' }, reload: { drainTimeoutMs: 600000 } }, session: { maxSpawnDepth: 2 } }", "baseHash": got["hash"]}),
        )
        .await
        .unwrap();
    assert_eq!(res["requiresRestart"], false, "{res}");
    assert_eq!(
        gw.state.config().load().session.max_spawn_depth,
        Some(2),
        "hot value is live"
    );
    let res = c
        .request(
            "config.patch",
            json!({"raw": "{ gateway: { port: 1 } }", "baseHash": res["hash"]}),
        )
        .await
        .unwrap();
    assert_eq!(res["requiresRestart"], true, "{res}");
    assert_eq!(res["pendingRestart"], json!(["gateway.port"]));
    assert_eq!(
        gw.state.config().load().gateway.port,
        None,
        "restart paths are held back"
    );
    let restart = wait_status(&c, |s| !s["reload"]["restart"].is_null()).await;
    let r = &restart["reload"]["restart"];
    assert_eq!(r["who"], "config reload", "{r}");
    assert!(
        r["reason"].as_str().unwrap().contains("gateway.port"),
        "{r}"
    );
    assert_eq!(r["phase"], "draining");
    assert!(r["deadlineMs"].as_u64().unwrap() > r["requestedAtMs"].as_u64().unwrap());
    assert!(
        target.paused.load(std::sync::atomic::Ordering::SeqCst),
        "new runs wait during the drain"
    );
    let res = c
        .request(
            "config.patch",
            json!({"raw": "{ gateway: { port: null } }", "baseHash": res["hash"]}),
        )
        .await
        .unwrap();
    assert_eq!(res["requiresRestart"], false, "{res}");
    wait_status(&c, |s| s["reload"]["restart"].is_null()).await;
    assert!(
        !target.paused.load(std::sync::atomic::Ordering::SeqCst),
        "revert resumes runs"
    );
    c.request("health", json!({}))
        .await
        .expect("still serving, no restart");
    // OpenClaw's config.apply is a whole-file write.
    let got = call(&c, "config.get", json!({})).await;
    let res = call(
        &c,
        "config.apply",
        json!({"raw": got["raw"], "baseHash": got["hash"], "note": "no-op"}),
    )
    .await;
    assert_eq!(res["changedPaths"], json!([]), "{res}");
    gw.stop().await.unwrap();
}

/// Stand-in for the sessions manager's drain hooks (counts only; the real manager is covered
/// by the sessions e2e tests).
#[derive(Debug, Default)]
struct FakeRuns {
    in_flight: std::sync::atomic::AtomicUsize,
    paused: std::sync::atomic::AtomicBool,
}

impl openclaw_rs_gateway::reload::DrainTarget for FakeRuns {
    fn set_paused(&self, paused: bool) {
        self.paused
            .store(paused, std::sync::atomic::Ordering::SeqCst);
    }
    fn in_flight(&self) -> usize {
        self.in_flight.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn wait_status(c: &Client, pred: impl Fn(&Value) -> bool) -> Value {
    wait_for(
        c,
        "status",
        json!({}),
        "status never reached the expected state",
        pred,
    )
    .await
}

/// `GET /metrics` with `secret` as the bearer credential; the body of a 200.
async fn metrics_text(port: u16, secret: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect for /metrics");
    let req = format!(
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {secret}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("send request");
    let mut buf = String::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_string(&mut buf))
        .await
        .expect("/metrics answered within 30 s")
        .expect("read /metrics");
    let (head, body) = buf.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

/// A restart-required edit on the real binary: the gateway drains, re-execs itself with the
/// listening socket inherited, and a client connecting every 5 ms throughout never sees
/// "connection refused"; `hello-ok` is served again afterwards by a new boot id, same pid.
#[tokio::test]
async fn restart_reexecs_without_refusing_connections() {
    let dir = tempfile::tempdir().unwrap();
    let port = openclaw_rs_test_support::gateway::free_port();
    std::fs::write(
        dir.path().join("openclaw.json"),
        format!("{{ gateway: {{ port: {port}, auth: {{ mode: 'token', token: 'tok' }} }} }}"),
    )
    .unwrap();
    let mut child = gateway_command(dir.path())
        .env("OPENCLAW_LOG", "info")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn gateway");
    let url = format!("ws://127.0.0.1:{port}");
    let first = connect_retry(&url, Secret::Token("tok"), dir.path()).await;
    let boot1 = first.hello().server.conn_id.clone();
    let pid1 = first.request("status", json!({})).await.unwrap()["pid"].clone();
    let boot_id1 = first.request("status", json!({})).await.unwrap()["bootId"].clone();

    let probe = Probe::start(port);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A burst of restart-required edits (the auth mode becomes password; the port stays):
    // one restart, with the last edit's values.
    for pw in ["pw-1", "pw-2", "pw"] {
        std::fs::write(
            dir.path().join("openclaw.json"),
            format!(
                "{{ gateway: {{ port: {port}, auth: {{ mode: 'password', password: '{pw}' }} }} }}"
            ),
        )
        .unwrap();
    }
    // The old connection gets shutdown + 1012.
    let info = wait_closed(&first, "old connection not closed for restart").await;
    assert_eq!(info.map(|i| i.code), Some(1012));
    // hello-ok again, now with the password, from the re-executed image.
    let second = connect_retry(&url, Secret::Password("pw"), dir.path()).await;
    let status = second.request("status", json!({})).await.unwrap();
    assert_eq!(status["pid"], pid1, "re-exec keeps the pid");
    assert_ne!(status["bootId"], boot_id1, "a new image serves");
    assert_eq!(status["authMode"], "password");
    // The new image's metrics carry the restart count handed over by the old one.
    let metrics = metrics_text(port, "pw").await;
    assert!(
        metrics
            .lines()
            .any(|l| l == "openclaw_gateway_restarts_total 1"),
        "{metrics}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (ok, refused) = probe.finish().await;
    eprintln!("restart probe: {ok} connects ok, {refused} refused (first conn {boot1})");
    assert_eq!(
        refused, 0,
        "a client saw connection refused during the restart"
    );
    assert!(ok > 0);
    let log = std::fs::read_to_string(dir.path().join("gateway-test.log")).unwrap();
    assert_eq!(
        log.matches("re-executing gateway with inherited listeners")
            .count(),
        1,
        "a burst of edits must cause exactly one restart:\n{log}"
    );
    kill_and_wait(&mut child).await;
}

/// A `gateway.port` edit is a restart onto the new port: the re-executed gateway (same pid, new
/// boot) serves the new port, the old port is released, and `gateway.runtime.json` names the new
/// URL so the CLI finds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_change_restarts_onto_the_new_port() {
    let dir = tempfile::tempdir().unwrap();
    let old_port = openclaw_rs_test_support::gateway::free_port();
    let new_port = openclaw_rs_test_support::gateway::free_port();
    assert_ne!(old_port, new_port);
    let config = |port: u16| {
        format!("{{ gateway: {{ port: {port}, auth: {{ mode: 'token', token: 'tok' }} }} }}")
    };
    std::fs::write(dir.path().join("openclaw.json"), config(old_port)).unwrap();
    let mut child = gateway_command(dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn gateway");
    let old_url = format!("ws://127.0.0.1:{old_port}");
    let first = connect_retry(&old_url, Secret::Token("tok"), dir.path()).await;
    let before = first.request("status", json!({})).await.unwrap();

    std::fs::write(dir.path().join("openclaw.json"), config(new_port)).unwrap();
    let info = wait_closed(&first, "old connection not closed for the restart").await;
    assert_eq!(info.map(|i| i.code), Some(1012));
    let new_url = format!("ws://127.0.0.1:{new_port}");
    let second = connect_retry(&new_url, Secret::Token("tok"), dir.path()).await;
    let after = second.request("status", json!({})).await.unwrap();
    assert_eq!(after["pid"], before["pid"], "re-exec keeps the pid");
    assert_ne!(after["bootId"], before["bootId"], "a new image serves");
    assert!(
        after["listen"]
            .to_string()
            .contains(&format!(":{new_port}")),
        "{after}"
    );
    // The old port is released.
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    loop {
        match tokio::net::TcpStream::connect(("127.0.0.1", old_port)).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ => {}
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the old port {old_port} is still served after the restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The CLI finds the gateway on its new port through the runtime file.
    let runtime_file = dir.path().join("gateway.runtime.json");
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    loop {
        let runtime = std::fs::read_to_string(&runtime_file).unwrap_or_default();
        if runtime.contains(&format!(":{new_port}")) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gateway.runtime.json never named the new port: {runtime}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sd = dir.path().to_str().unwrap().to_owned();
    let out = openclaw_rs_cli(&["health", "--token", "tok", "--state-dir", &sd], None).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    second.close().await;
    kill_and_wait(&mut child).await;
}

/// A TCP connect every 5 ms against `port`, counting refusals.
struct Probe {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<(u32, u32)>,
}

impl Probe {
    fn start(port: u16) -> Probe {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let (mut ok, mut refused) = (0u32, 0u32);
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                    Ok(_) => ok += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => refused += 1,
                    Err(e) => panic!("probe connect failed unexpectedly: {e}"),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (ok, refused)
        });
        Probe { stop, task }
    }

    /// Stop probing; (successful connects, refused connects).
    async fn finish(self) -> (u32, u32) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.task.await.expect("probe task")
    }
}

/// The issue's scenario on the real binary: 5 runs in flight and 20 messages queued when a
/// restart-required edit lands. The gateway keeps accepting (a message sent during the drain is
/// queued, not refused), drains the 5 runs, re-execs with the socket inherited, and after the
/// restart all 26 runs complete. A 5 ms connect probe sees no refusal throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_with_runs_in_flight_and_queued_loses_nothing() {
    openclaw_rs_test_support::gateway::bin_path("openclaw-app-server");
    let dir = tempfile::tempdir().unwrap();
    let port = openclaw_rs_test_support::gateway::free_port();
    let cfg = dir.path().join("openclaw.json");
    let write_cfg = |auth: &str| {
        std::fs::write(
            &cfg,
            format!("{{ gateway: {{ port: {port}, auth: {auth}, reload: {{ drainTimeoutMs: 60000 }} }} }}"),
        )
        .unwrap()
    };
    write_cfg("{ mode: 'token', token: 'tok' }");
    let mut child = gateway_command(dir.path())
        .env_remove("OPENCLAW_LOG")
        .spawn()
        .expect("spawn gateway");
    let url = format!("ws://127.0.0.1:{port}");
    let c = connect_retry(&url, Secret::Token("tok"), dir.path()).await;
    let boot1 = call(&c, "status", json!({})).await["bootId"].clone();
    let (mut runs, children) = spawn_children(&c, 5, "r").await;
    runs.extend(queue_messages(&c, &children, 20, |i| format!("echo q-{i}")).await);
    wait_for(
        &c,
        "sessions.list",
        json!({}),
        "the 5 runs never started",
        |l| running_sessions(l) == 5,
    )
    .await;
    let probe = Probe::start(port);
    // Restart-required edit: the auth mode becomes password (the port stays).
    write_cfg("{ mode: 'password', password: 'pw' }");
    let drain = wait_for(
        &c,
        "status",
        json!({}),
        "the restart was never announced in status",
        |s| !s["reload"]["restart"].is_null(),
    )
    .await;
    assert_eq!(
        drain["reload"]["restart"]["who"], "config reload",
        "{drain}"
    );
    // During the drain new work is accepted and persisted, never refused.
    let during = json!({"sessionKey": children[0], "message": "echo during-drain", "idempotencyKey": "during-drain"});
    match c.request("chat.send", during.clone()).await {
        Ok(r) => runs.push(r["runId"].as_str().unwrap().to_owned()),
        Err(e) => {
            // Only acceptable if the drain already ended (socket closed for the restart).
            assert!(
                matches!(e, ClientError::Closed(_)),
                "a message during the drain was refused: {e}"
            );
            let c2 = connect_retry(&url, Secret::Password("pw"), dir.path()).await;
            let r = call(&c2, "chat.send", during).await;
            runs.push(r["runId"].as_str().unwrap().to_owned());
        }
    }
    let c = connect_retry(&url, Secret::Password("pw"), dir.path()).await;
    let s = call(&c, "status", json!({})).await;
    assert_ne!(s["bootId"], boot1, "the gateway restarted");
    assert_eq!(s["authMode"], "password");
    for r in &runs {
        let w = wait_run(&c, r).await;
        assert_eq!(
            w["runStatus"], "completed",
            "run {r} after the restart: {w}"
        );
    }
    assert_eq!(runs.len(), 26);
    let (ok, refused) = probe.finish().await;
    eprintln!("restart with 25 runs: probe {ok} connects ok, {refused} refused");
    assert_eq!(
        refused, 0,
        "a client saw connection refused during the restart"
    );
    c.close().await;
    kill_and_wait(&mut child).await;
}

/// `openclaw gateway restart` on a running gateway restarts it in place: same pid, a new boot,
/// and a 5 ms connect probe sees no refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_gateway_restart_is_in_place_and_refuses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sd = dir.path().to_str().unwrap().to_owned();
    let port = openclaw_rs_test_support::gateway::free_port();
    let p = port.to_string();
    let out = openclaw_rs_cli(
        &["gateway", "start", "--port", &p, "--state-dir", &sd],
        None,
    )
    .await;
    let guard = StopGuard(sd.clone());
    assert!(
        out.status.success(),
        "start: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = std::fs::read_to_string(dir.path().join("gateway.token")).unwrap();
    let url = format!("ws://127.0.0.1:{port}");
    let c = connect_retry(&url, Secret::Token(token.trim()), dir.path()).await;
    let before = call(&c, "status", json!({})).await;
    let probe = Probe::start(port);
    let out = openclaw_rs_cli(&["gateway", "restart", "--state-dir", &sd], None).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "restart: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("restarting in place"), "{stdout}");
    let c = connect_retry(&url, Secret::Token(token.trim()), dir.path()).await;
    let after = call(&c, "status", json!({})).await;
    assert_eq!(after["pid"], before["pid"], "in place: same pid");
    assert_ne!(after["bootId"], before["bootId"], "a new image serves");
    // `--force` goes through gateway.restart.request {force}: again in place, again a new boot.
    let out = openclaw_rs_cli(&["gateway", "restart", "--force", "--state-dir", &sd], None).await;
    assert!(
        out.status.success(),
        "restart --force: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let c = connect_retry(&url, Secret::Token(token.trim()), dir.path()).await;
    let forced = call(&c, "status", json!({})).await;
    assert_eq!(forced["pid"], before["pid"]);
    assert_ne!(forced["bootId"], after["bootId"], "--force restarted again");
    let (ok, refused) = probe.finish().await;
    assert_eq!(
        refused, 0,
        "connection refused during `openclaw gateway restart` ({ok} ok)"
    );
    c.close().await;
    drop(guard);
}

/// Stops the background gateway of a state dir, also when an assertion fails.
struct StopGuard(String);

impl Drop for StopGuard {
    fn drop(&mut self) {
        let _ = std::process::Command::new(openclaw_rs_test_support::gateway::bin_path("openclaw"))
            .args(["gateway", "stop", "--state-dir", &self.0])
            .env_remove("OPENCLAW_STATE_DIR")
            .output();
    }
}

/// Seed 003 end to end on real runs: the user's run is in flight on the main lane; a helper
/// (spawned) run on the same auth profile fails with HTTP 401. The failure is recorded as a
/// cooldown in the helper's lane only (`state/cooldowns.json`, never `openclaw.json`): no
/// config change, no reload, no restart; the user's run completes and the user's next message
/// runs on the same profile. The next helper fails over to the backup profile, and the error
/// when nothing is left names the skipped profiles and until when.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_helper_401_cools_only_its_lane_and_user_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let config = with_runtime(
        token_config("t"),
        "claude",
        openclaw_rs_config::RuntimeConfig {
            auth_profile: Some("anthropic:cli".into()),
            ..seed_runtime(&gate)
        },
    );
    let gw = TestGateway::start(TestGatewayOptions {
        auth: Some(SharedAuth::token("t")),
        config: Some(config),
        ..Default::default()
    })
    .await;
    let c = connect(&gw.url, "t").await.unwrap();
    let mut events = c.events();
    let user = send_main(&c, "user-1", "long user task", Some("gated")).await;
    assert_eq!(user["runId"], "user-1");
    wait_session_running(&c, "agent:main:main", "the user's run never started").await;

    // The helper fails with 401 on the same profile.
    let h = spawn_and_wait(&c, json!({"task": "make a slug", "model": "bad-key"})).await;
    assert_eq!(h["runStatus"], "failed", "{h}");
    assert_eq!(h["errorClass"], "auth", "{h}");
    let cd = gw.state.reload().cooldowns().clone();
    let now = openclaw_rs_cooldowns::now_ms();
    let in_helper = cd.check("anthropic:cli", "bad-key", "subagent", now);
    assert!(
        in_helper.is_some(),
        "the helper lane cools down: {:?}",
        cd.snapshot()
    );
    assert!(
        cd.check("anthropic:cli", "gated", MAIN_LANE, now).is_none(),
        "the user's lane must stay usable"
    );
    let persisted =
        std::fs::read_to_string(gw.state_dir.path().join("state/cooldowns.json")).unwrap();
    assert!(persisted.contains("\"lane\": \"subagent\""), "{persisted}");
    assert!(
        !config_path(&gw).exists(),
        "a cooldown never writes openclaw.json"
    );
    // `gateway status` and `doctor` show the cooldown (status.cooldowns).
    let sd = gw.state_dir.path().to_str().unwrap().to_owned();
    let cli = [
        "--url",
        gw.url.as_str(),
        "--token",
        "t",
        "--state-dir",
        sd.as_str(),
    ];
    let out = openclaw_rs_cli(&[&["gateway", "status"][..], &cli].concat(), None).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("cooldown:    auth profile anthropic:cli in lane subagent"),
        "{text}"
    );
    let out = openclaw_rs_cli(&[&["doctor", "--json"][..], &cli].concat(), None).await;
    let d: Value = serde_json::from_slice(&out.stdout).expect("doctor --json");
    assert!(
        d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "cooldowns.active" && f["severity"] == "warn"),
        "{d}"
    );

    // The user's run completes; the user's next message is accepted and runs.
    std::fs::write(&gate, b"go").unwrap();
    let u = wait_run(&c, "user-1").await;
    assert_eq!(u["runStatus"], "completed", "{u}");
    let next = send_main(&c, "user-2", "next message", Some("echo")).await;
    let n = wait_run(&c, next["runId"].as_str().unwrap()).await;
    assert_eq!(n["runStatus"], "completed", "{n}");

    // No reload, no restart, the socket never closed.
    while let Ok(ev) = events.try_recv() {
        assert!(
            ev.event != "shutdown" && ev.event != "config.changed",
            "unexpected {} event: {:?}",
            ev.event,
            ev.payload
        );
    }
    assert!(
        connected(&c),
        "the user's connection changed state: {:?}",
        &*c.status().borrow()
    );
    let s = call(&c, "status", json!({})).await;
    assert!(s["reload"]["restart"].is_null(), "{s}");
    assert!(
        s["reload"]["lastAppliedAtMs"].is_null(),
        "nothing was reloaded: {s}"
    );

    // With a backup profile in auth.order, the next helper fails over to it.
    let got = call(&c, "config.get", json!({})).await;
    let res = call(
        &c,
        "config.patch",
        json!({"raw": "{ auth: { order: { claude: ['anthropic:cli', 'anthropic:backup'] } } }", "baseHash": got["hash"]}),
    )
    .await;
    assert_eq!(res["requiresRestart"], false, "{res}");
    let w = spawn_and_wait(&c, json!({"task": "slug again", "model": "echo"})).await;
    assert_eq!(
        w["runStatus"], "completed",
        "failover to the backup profile: {w}"
    );
    // Once the backup is disabled too, the helper's error names both profiles.
    cd.record_failure(
        "anthropic:backup",
        "echo",
        "subagent",
        FailureReason::AuthPermanent,
        openclaw_rs_cooldowns::now_ms(),
    )
    .unwrap();
    let w = spawn_and_wait(&c, json!({"task": "slug 3", "model": "echo"})).await;
    assert_eq!(w["runStatus"], "failed", "{w}");
    let err = w["error"].as_str().unwrap_or_default();
    assert!(
        err.contains("anthropic:cli (auth_permanent, disabled until")
            && err.contains("anthropic:backup (auth_permanent, disabled until"),
        "{w}"
    );
    // Cooldowns are listed and cleared over RPC, never through config.
    let l = call(&c, "auth.cooldowns.list", json!({})).await;
    assert_eq!(l["cooldowns"].as_array().unwrap().len(), 2, "{l}");
    call(
        &c,
        "auth.cooldowns.clear",
        json!({"profile": "anthropic:cli"}),
    )
    .await;
    assert!(cd
        .check(
            "anthropic:cli",
            "echo",
            "subagent",
            openclaw_rs_cooldowns::now_ms()
        )
        .is_none());
    let w = spawn_and_wait(&c, json!({"task": "slug 4", "model": "echo"})).await;
    assert_eq!(w["runStatus"], "completed", "after clearing: {w}");
    c.close().await;
    gw.stop().await.unwrap();
}

/// `gateway.restart.request {force: true}` skips the drain wait but never the persistence: the
/// run in flight is interrupted by the restart and re-run by the new image (attempt 2), and
/// the restart still refuses no connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_restart_reruns_the_interrupted_run() {
    openclaw_rs_test_support::gateway::bin_path("openclaw-app-server");
    let dir = tempfile::tempdir().unwrap();
    let port = openclaw_rs_test_support::gateway::free_port();
    std::fs::write(
        dir.path().join("openclaw.json"),
        format!("{{ gateway: {{ port: {port}, auth: {{ mode: 'token', token: 'tok' }} }} }}"),
    )
    .unwrap();
    let mut child = gateway_command(dir.path()).spawn().expect("spawn gateway");
    let url = format!("ws://127.0.0.1:{port}");
    let c = connect_retry(&url, Secret::Token("tok"), dir.path()).await;
    let run = send_main(&c, "long-1", "sleep 3; echo survived", None).await;
    wait_session_running(&c, "agent:main:main", "the run never started").await;
    let boot1 = call(&c, "status", json!({})).await["bootId"].clone();
    let probe = Probe::start(port);
    let r = call(
        &c,
        "gateway.restart.request",
        json!({"force": true, "reason": "e2e forced restart"}),
    )
    .await;
    assert_eq!(r["restart"]["force"], true, "{r}");
    assert!(
        r["restart"]["who"]
            .as_str()
            .unwrap()
            .contains("gateway.restart.request"),
        "{r}"
    );
    let c = tokio::time::timeout(HANG_GUARD, async {
        loop {
            let c = connect_retry(&url, Secret::Token("tok"), dir.path()).await;
            if let Ok(s) = c.request("status", json!({})).await {
                if s["bootId"] != boot1 {
                    return c;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the gateway did not come back");
    let w = wait_run(&c, run["runId"].as_str().unwrap()).await;
    assert_eq!(w["runStatus"], "completed", "{w}");
    assert_eq!(
        w["attempts"], 2,
        "the interrupted run was re-run after the restart: {w}"
    );
    let (ok, refused) = probe.finish().await;
    assert_eq!(
        refused, 0,
        "connection refused during a forced restart ({ok} ok)"
    );
    c.close().await;
    kill_and_wait(&mut child).await;
}

/// A token given by flag or environment wins over the file: a config token edit does not
/// rotate it and closes nobody.
#[tokio::test]
async fn flag_token_is_not_rotated_by_a_config_edit() {
    let gw = TestGateway::start(TestGatewayOptions {
        auth: Some(SharedAuth::token("flag-token")),
        ..Default::default()
    })
    .await;
    let c = connect(&gw.url, "flag-token").await.unwrap();
    let ev = edit_config(&c, &gw, "{ gateway: { auth: { token: 'file-token' } } }").await;
    assert_eq!(ev["changedPaths"], json!(["gateway.auth.token"]), "{ev}");
    c.request("health", json!({}))
        .await
        .expect("the flag-token connection stays open");
    connect(&gw.url, "flag-token")
        .await
        .expect("the flag token still works");
    let err = connect(&gw.url, "file-token").await.unwrap_err();
    assert_eq!(err.detail_code(), Some("AUTH_TOKEN_MISMATCH"), "{err}");
    gw.stop().await.unwrap();
}

/// `gateway.handshakeTimeoutMs` is hot: after the edit, a socket that never sends `connect` is
/// closed by the new timeout (200 ms), long before the 10 s default.
#[tokio::test]
async fn handshake_timeout_edit_applies_to_the_next_connection() {
    use futures_util::StreamExt;
    let gw = start_with_token("t").await;
    let c = connect(&gw.url, "t").await.unwrap();
    let got = call(&c, "config.get", json!({})).await;
    let res = call(
        &c,
        "config.patch",
        json!({"raw": "{ gateway: { handshakeTimeoutMs: 200 } }", "baseHash": got["hash"]}),
    )
    .await;
    assert_eq!(res["actions"], json!(["updateLimits"]), "{res}");
    let (mut ws, _) = tokio_tungstenite::connect_async(gw.url.as_str())
        .await
        .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(m) = ws.next().await {
            match m {
                Ok(tokio_tungstenite::tungstenite::Message::Close(f)) => return f,
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("the socket was not closed by the new handshake timeout");
    let f = closed.expect("close frame");
    assert_eq!(f.reason.as_str(), "connect challenge timeout");
    gw.stop().await.unwrap();
}

/// A restart never re-execs into a config file that cannot be loaded: if the file turns invalid
/// while a restart drains, the restart is cancelled and the gateway keeps serving.
#[tokio::test]
async fn restart_is_cancelled_when_the_file_turns_invalid_during_the_drain() {
    let gw = start_with_token("t").await;
    let c = connect(&gw.url, "t").await.unwrap();
    let target = std::sync::Arc::new(FakeRuns::default());
    target
        .in_flight
        .store(1, std::sync::atomic::Ordering::SeqCst);
    gw.state.reload().add_drain_target(target.clone());
    std::fs::write(
        config_path(&gw),
        "{ gateway: { port: 1, auth: { mode: 'token', token: 't' } } }",
    )
    .unwrap();
    wait_status(&c, |s| s["reload"]["restart"]["phase"] == "draining").await;
    let ev = edit_config(&c, &gw, "{ gateway: { port: 1, ").await;
    assert!(ev["error"].is_string(), "{ev}");
    // The run finishes; the drain would now restart, but the file cannot be loaded.
    target
        .in_flight
        .store(0, std::sync::atomic::Ordering::SeqCst);
    let s = wait_status(&c, |s| s["reload"]["restart"].is_null()).await;
    assert!(s["reload"]["lastError"]["message"].is_string(), "{s}");
    assert!(
        !target.paused.load(std::sync::atomic::Ordering::SeqCst),
        "runs resume when the restart is cancelled"
    );
    call(&c, "health", json!({})).await;
    connect(&gw.url, "t").await.expect("still serving");
    gw.stop().await.unwrap();
}

/// `logging.level` is hot on the real binary: the tracing filter is swapped in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_level_edit_swaps_the_log_filter_of_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let port = openclaw_rs_test_support::gateway::free_port();
    let cfg = dir.path().join("openclaw.json");
    let write = |level: &str| {
        std::fs::write(
            &cfg,
            format!("{{ gateway: {{ port: {port}, auth: {{ mode: 'token', token: 'tok' }} }}, logging: {{ level: '{level}' }} }}"),
        )
        .unwrap()
    };
    write("info");
    let log_path = crate::util::gateway_log(dir.path());
    let mut child = gateway_command(dir.path())
        .env_remove("OPENCLAW_LOG")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn gateway");
    let url = format!("ws://127.0.0.1:{port}");
    let c = connect_retry(&url, Secret::Token("tok"), dir.path()).await;
    let before = std::fs::read_to_string(&log_path).unwrap();
    assert!(!before.contains("DEBUG"), "info level at start:\n{before}");
    let pending = on_config_changed(&c);
    write("debug");
    let ev = pending.await.unwrap();
    assert_eq!(ev["actions"], json!(["setLogLevel"]), "{ev}");
    // Something that logs at debug: a connection that comes and goes.
    connect_retry(&url, Secret::Token("tok"), dir.path())
        .await
        .close()
        .await;
    let after = tokio::time::timeout(HANG_GUARD, async {
        loop {
            let l = std::fs::read_to_string(&log_path).unwrap();
            if l.contains("DEBUG") {
                return l;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("no debug line after switching logging.level to debug");
    assert!(after.contains("log level changed"), "{after}");
    c.close().await;
    kill_and_wait(&mut child).await;
}

/// A socket that connected but never sent its request does not hold a shutdown (or a
/// restart's re-exec) for the grace period: draining drops it at once.
#[tokio::test]
async fn idle_preauth_socket_does_not_hold_the_shutdown() {
    let gw = TestGateway::start(TestGatewayOptions {
        auth: Some(SharedAuth::token("t")),
        config: Some(token_config("t")),
        handshake_timeout: Some(Duration::from_secs(600)),
        shutdown_grace: Some(Duration::from_secs(600)),
        ..Default::default()
    })
    .await;
    let idle = tokio::net::TcpStream::connect(("127.0.0.1", gw.port))
        .await
        .unwrap();
    // Make sure the gateway accepted it (a full connection right after is served).
    connect(&gw.url, "t").await.unwrap().close().await;
    // With a 600 s grace, this only returns within the hang guard if the idle socket is dropped.
    tokio::time::timeout(HANG_GUARD, gw.stop())
        .await
        .expect("an idle pre-auth socket held the shutdown")
        .unwrap();
    drop(idle);
}
