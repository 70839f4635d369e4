//! Helpers shared by the e2e modules: a client for a test gateway, RPC calls that fail loudly,
//! waiting for a run's end or a polled state, the real `gateway` and `openclaw` binaries as
//! child processes, and gateways whose agents run on one configured runtime.

use openclaw_rs_client::{Client, ClientOptions};
use openclaw_rs_config::{Config, RuntimeConfig};
use openclaw_rs_test_support::gateway::{bin_path, TestGateway, TestGatewayOptions};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Hang guard for anything that waits on a run (and the request timeout of [`client`]).
pub const RUN_GUARD: Duration = Duration::from_secs(90);

/// Hang guard for a gateway to accept connections after a (re)start.
const CONNECT_GUARD: Duration = Duration::from_secs(30);

/// Connect to `gw` with its token; requests may take up to [`RUN_GUARD`].
pub async fn client(gw: &TestGateway) -> Client {
    let mut o = ClientOptions::new(gw.url.clone());
    o.token = gw.token.clone();
    o.request_timeout = RUN_GUARD;
    Client::connect(o)
        .await
        .expect("connect to the test gateway")
}

/// The client's socket is open and authenticated (no reconnect: once closed, never again).
pub fn connected(c: &Client) -> bool {
    matches!(&*c.status().borrow(), openclaw_rs_client::Status::Connected)
}

/// `method` with `params`; panics naming the method when it fails.
pub async fn call(c: &Client, method: &str, params: Value) -> Value {
    c.request(method, params)
        .await
        .unwrap_or_else(|e| panic!("{method} failed: {e}"))
}

/// `chat.send` of `message` to the main session with run id (idempotency key) `run_id`, on
/// `model` when given.
pub async fn send_main(c: &Client, run_id: &str, message: &str, model: Option<&str>) -> Value {
    let mut params =
        json!({"sessionKey": "agent:main:main", "message": message, "idempotencyKey": run_id});
    if let Some(model) = model {
        params["model"] = json!(model);
    }
    call(c, "chat.send", params).await
}

/// `agent.wait` for `run_id`; panics when the run did not end within the guard.
pub async fn wait_run(c: &Client, run_id: &str) -> Value {
    let r = call(
        c,
        "agent.wait",
        json!({"runId": run_id, "timeoutMs": (RUN_GUARD.as_millis() as u64) - 5_000}),
    )
    .await;
    assert!(r["waitTimedOut"].is_null(), "run {run_id} did not end: {r}");
    r
}

/// Calls `method` every 20 ms until `done` holds for its result, which it returns. Panics with
/// `what` and the last result when [`RUN_GUARD`] passes first.
pub async fn wait_for(
    c: &Client,
    method: &str,
    params: Value,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + RUN_GUARD;
    loop {
        let v = call(c, method, params.clone()).await;
        if done(&v) {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}; last {method}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the session `key` has a running run.
pub async fn wait_session_running(c: &Client, key: &str, what: &str) -> Value {
    wait_for(c, "sessions.get", json!({ "sessionKey": key }), what, |s| {
        s["session"]["status"] == "running"
    })
    .await
}

/// Sessions in `list` (a `sessions.list` result) with a running run.
pub fn running_sessions(list: &Value) -> usize {
    list["sessions"].as_array().map_or(0, |rows| {
        rows.iter().filter(|s| s["status"] == "running").count()
    })
}

/// Spawns `n` children of the main session running `sleep 2; echo child-<i>`, labelled
/// `<label><i>`; returns (run ids, child session keys).
pub async fn spawn_children(c: &Client, n: usize, label: &str) -> (Vec<String>, Vec<String>) {
    let mut runs = Vec::new();
    let mut children = Vec::new();
    for i in 0..n {
        let a = call(
            c,
            "sessions.spawn",
            json!({"task": format!("sleep 2; echo child-{i}"), "label": format!("{label}{i}")}),
        )
        .await;
        runs.push(a["runId"].as_str().unwrap().to_owned());
        children.push(a["childSessionKey"].as_str().unwrap().to_owned());
    }
    (runs, children)
}

/// Sends `n` messages `message(i)` round-robin to `children` (idempotency key `q-<i>`); returns
/// their run ids.
pub async fn queue_messages(
    c: &Client,
    children: &[String],
    n: usize,
    message: impl Fn(usize) -> String,
) -> Vec<String> {
    let mut runs = Vec::new();
    for i in 0..n {
        let r = call(
            c,
            "chat.send",
            json!({"sessionKey": children[i % children.len()], "message": message(i), "idempotencyKey": format!("q-{i}")}),
        )
        .await;
        runs.push(r["runId"].as_str().unwrap().to_owned());
    }
    runs
}

/// The fault-injecting fake app-server as a runtime, started with `args`.
pub fn fake_runtime(args: &[&str]) -> RuntimeConfig {
    let fake = openclaw_rs_test_support::fake_app_server::binary_path();
    let mut command = vec![fake.to_string_lossy().into_owned()];
    command.extend(args.iter().map(|a| a.to_string()));
    RuntimeConfig {
        kind: "app-server".into(),
        command,
        ..Default::default()
    }
}

/// The seed scenario's fake app-server: turns on model `bad-key` fail with HTTP 401, turns on
/// model `gated` wait until the file `gate` exists.
pub fn seed_runtime(gate: &Path) -> RuntimeConfig {
    fake_runtime(&[
        "--auth-fail-turn-model",
        "bad-key",
        "--gate-model",
        "gated",
        "--gate-file",
        gate.to_str().unwrap(),
    ])
}

/// `config` with `runtime` registered as `name` and made the agents' default.
pub fn with_runtime(mut config: Config, name: &str, runtime: RuntimeConfig) -> Config {
    config.runtimes.insert(name.into(), runtime);
    config.agents.defaults.runtime = Some(name.into());
    config
}

/// An in-process test gateway with `config` (random token auth).
pub async fn start_with_config(config: Config) -> TestGateway {
    TestGateway::start(TestGatewayOptions {
        config: Some(config),
        ..TestGatewayOptions::default()
    })
    .await
}

/// Where [`gateway_command`] sends the gateway's output.
pub fn gateway_log(state: &Path) -> PathBuf {
    state.join("gateway-test.log")
}

/// The real `gateway` binary on `state`: no inherited token, stdin closed, stdout and stderr
/// appended to [`gateway_log`], killed on drop. Callers add arguments and spawn it.
pub fn gateway_command(state: &Path) -> tokio::process::Command {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(gateway_log(state))
        .unwrap();
    let mut cmd = tokio::process::Command::new(bin_path("gateway"));
    cmd.arg("--state-dir")
        .arg(state)
        .env_remove("OPENCLAW_GATEWAY_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    cmd
}

/// Kill `child` and reap it.
pub async fn kill_and_wait(child: &mut tokio::process::Child) {
    let _ = child.start_kill();
    let _ = child.wait().await;
}

/// How [`connect_retry`] authenticates.
#[derive(Clone, Copy, Debug)]
pub enum Secret<'a> {
    Token(&'a str),
    Password(&'a str),
}

/// Connect with `secret`, retrying while the gateway on `state` (re)starts; panics with the
/// gateway's log when it does not accept a connection in time.
pub async fn connect_retry(url: &str, secret: Secret<'_>, state: &Path) -> Client {
    let deadline = tokio::time::Instant::now() + CONNECT_GUARD;
    loop {
        let mut o = ClientOptions::new(url);
        match secret {
            Secret::Token(t) => o.token = Some(t.to_owned()),
            Secret::Password(p) => o.password = Some(p.to_owned()),
        }
        o.request_timeout = RUN_GUARD;
        match Client::connect(o).await {
            Ok(c) => return c,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!(
                "gateway at {url} did not accept a connection in time: {e}\nlog:\n{}",
                std::fs::read_to_string(gateway_log(state)).unwrap_or_default()
            ),
        }
    }
}

/// Run the real `openclaw` binary isolated from the caller's environment, with `state` as its
/// state dir when given.
pub async fn openclaw_rs_cli(args: &[&str], state: Option<&Path>) -> std::process::Output {
    let mut cmd = tokio::process::Command::new(bin_path("openclaw"));
    cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for k in [
        "OPENCLAW_STATE_DIR",
        "OPENCLAW_CONFIG_PATH",
        "OPENCLAW_GATEWAY_PORT",
        "OPENCLAW_GATEWAY_TOKEN",
        "OPENCLAW_GATEWAY_URL",
        "OPENCLAW_LISTEN_FDS",
    ] {
        cmd.env_remove(k);
    }
    if let Some(state) = state {
        cmd.env("OPENCLAW_STATE_DIR", state);
    }
    tokio::time::timeout(RUN_GUARD, cmd.output())
        .await
        .expect("openclaw did not finish in time")
        .expect("run openclaw")
}

/// `kill -9 pid`.
pub fn kill_9(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -9 {pid}: {status}");
}

/// `sessions.spawn` with `params`, then [`wait_run`] for the child's run.
pub async fn spawn_and_wait(c: &Client, params: Value) -> Value {
    let a = call(c, "sessions.spawn", params).await;
    wait_run(c, a["runId"].as_str().unwrap()).await
}

/// A raw WebSocket to a gateway, for the modules that send exact frames.
pub type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How a raw socket ended.
#[derive(Debug, PartialEq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

/// Next JSON text frame on `ws` (None once the socket closed); panics when nothing arrives
/// within `guard` or the server sent text that is not JSON.
pub async fn next_json(ws: &mut WsStream, guard: Duration) -> Option<Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    tokio::time::timeout(guard, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    return Some(serde_json::from_str(t.as_str()).expect("server sent JSON"))
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("hang guard: no frame within {guard:?}"))
}

/// Reads `ws` until its close frame and returns it (code 0, "no close frame" when the socket
/// ended without one); panics when nothing closes within `guard`.
pub async fn read_close(ws: &mut WsStream, guard: Duration) -> Closed {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    tokio::time::timeout(guard, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(f)))) => {
                    return Closed {
                        code: u16::from(f.code),
                        reason: f.reason.to_string(),
                    }
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                    return Closed {
                        code: 0,
                        reason: "no close frame".into(),
                    }
                }
                Some(Ok(_)) => continue,
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("hang guard: no close within {guard:?}"))
}

/// A raw protocol client: exact frames in, frames and the close frame out. Every read is bounded
/// by its hang guard.
pub struct RawClient {
    pub ws: WsStream,
    /// The `connect.challenge` event the gateway sent first.
    pub challenge: Value,
    /// Frames other than responses that arrived while waiting for a response.
    pub seen: Vec<Value>,
    guard: Duration,
}

impl RawClient {
    /// Opens a socket to `url` with extra upgrade `headers` and reads the challenge event.
    pub async fn open(url: &str, headers: &[(&'static str, &str)], guard: Duration) -> Self {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.into_client_request().expect("request");
        for (k, v) in headers {
            req.headers_mut()
                .insert(*k, v.parse().expect("header value"));
        }
        let (mut ws, _) = tokio::time::timeout(guard, tokio_tungstenite::connect_async(req))
            .await
            .expect("hang guard: ws connect")
            .expect("ws connect");
        let challenge = next_json(&mut ws, guard).await.expect("challenge frame");
        assert_eq!(challenge["type"], "event", "{challenge}");
        assert_eq!(challenge["event"], "connect.challenge", "{challenge}");
        RawClient {
            ws,
            challenge,
            seen: Vec::new(),
            guard,
        }
    }

    pub async fn send(&mut self, v: Value) {
        self.send_text(v.to_string()).await;
    }

    pub async fn send_text(&mut self, s: String) {
        use futures_util::SinkExt;
        self.ws
            .send(tokio_tungstenite::tungstenite::Message::text(s))
            .await
            .expect("send");
    }

    /// Next JSON frame (None when the socket closed).
    pub async fn next(&mut self) -> Option<Value> {
        next_json(&mut self.ws, self.guard).await
    }

    /// Next response frame; other frames are kept in `seen`.
    pub async fn response(&mut self) -> Value {
        loop {
            let f = self
                .next()
                .await
                .expect("socket closed while waiting for a response");
            if f["type"] == "res" {
                return f;
            }
            self.seen.push(f);
        }
    }

    /// Next event named `name` (skipping others), including one kept in `seen`.
    pub async fn event(&mut self, name: &str) -> Value {
        if let Some(i) = self.seen.iter().position(|f| f["event"] == name) {
            return self.seen.remove(i);
        }
        loop {
            let f = self
                .next()
                .await
                .expect("socket closed while waiting for an event");
            if f["type"] == "event" && f["event"] == name {
                return f;
            }
        }
    }

    /// Send `connect` with `params` and return its response.
    pub async fn connect(&mut self, params: Value) -> Value {
        self.send(json!({"type":"req","id":"c1","method":"connect","params":params}))
            .await;
        self.response().await
    }

    /// Send request `id` for `method` and return its response.
    pub async fn call(&mut self, id: &str, method: &str, params: Value) -> Value {
        self.send(json!({"type":"req","id":id,"method":method,"params":params}))
            .await;
        self.response().await
    }

    /// Read until the close frame arrives.
    pub async fn closed(&mut self) -> Closed {
        read_close(&mut self.ws, self.guard).await
    }

    /// Asserts that the socket closes next with `code` and `reason`.
    pub async fn assert_closed(&mut self, code: u16, reason: &str) {
        assert_eq!(
            self.closed().await,
            Closed {
                code,
                reason: reason.into()
            }
        );
    }
}

/// The real `openclaw` CLI (the npm package's) with `args`, in a private HOME whose
/// `~/.openclaw/openclaw.json` is `config`, as a user's would be. `None` when node or openclaw
/// is not installed. Returns the exit code, stdout and stderr.
pub async fn real_cli_with_config(
    config: &Value,
    args: &[&str],
    guard: Duration,
) -> Option<(i32, String, String)> {
    let home = tempfile::tempdir().expect("cli home");
    let cmd = openclaw_rs_test_support::node::openclaw_js_cli(home.path())?;
    std::fs::write(
        home.path().join(".openclaw/openclaw.json"),
        config.to_string(),
    )
    .expect("write the CLI's config");
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.args(args).kill_on_drop(true);
    let out = tokio::time::timeout(guard, cmd.output())
        .await
        .expect("the real openclaw CLI hung")
        .expect("spawn the real openclaw CLI");
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// `openclaw` with `XDG_CONFIG_HOME` pointed at a temp dir (where the user unit goes).
pub fn openclaw_xdg(xdg: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(bin_path("openclaw"));
    cmd.args(args)
        .stdin(Stdio::null())
        .env("XDG_CONFIG_HOME", xdg);
    for k in [
        "OPENCLAW_STATE_DIR",
        "OPENCLAW_CONFIG_PATH",
        "OPENCLAW_GATEWAY_PORT",
        "OPENCLAW_GATEWAY_TOKEN",
        "OPENCLAW_GATEWAY_URL",
        "NOTIFY_SOCKET",
    ] {
        cmd.env_remove(k);
    }
    cmd.output().expect("run openclaw")
}
