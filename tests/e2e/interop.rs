//! Interop with the real OpenClaw (npm `openclaw@2026.9.6` on node 24, installed by
//! `cargo xtask install-deps`): the real CLI drives our gateway, our refusals match the Node
//! gateway's, and the Node gateway accepts what our code sends.
//!
//! One real Node gateway is shared by every test of this binary (it takes 5–12 s to start); it is
//! stopped when the test process exits (see `openclaw_rs_test_support::node::NodeGateway`). When node
//! or openclaw are not installed, each test prints a loud SKIP line and returns.

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use openclaw_rs_auth::{DeviceIdentity, SignedFields};
use openclaw_rs_test_support::gateway::{bin_path, TestGateway};
use openclaw_rs_test_support::node::{self, NodeGateway};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

/// Hang guard for one real CLI invocation (node boot alone is ~1–3 s).
const CLI_GUARD: Duration = Duration::from_secs(60);
/// Hang guard for one WebSocket read.
const WS_GUARD: Duration = Duration::from_secs(20);
/// Longest wait for the shared Node gateway to become ready.
const NODE_START: Duration = Duration::from_secs(60);
const NODE_TOKEN: &str = "interop-node-token-7f3a";

fn skip(test: &str, why: &str) {
    eprintln!("\n!!! SKIPPED {test}: {why}\n!!! run `cargo xtask install-deps` (or `cargo xtask test`) to enable it\n");
}

/// True (after printing the skip for `test`) when node/openclaw are not installed.
fn node_missing(test: &str) -> bool {
    let missing = node::node_bin().is_none() || node::openclaw_mjs().is_none();
    if missing {
        skip(test, "node/openclaw missing");
    }
    missing
}

/// The shared Node gateway, or None after printing the skip for `test`.
async fn node_or_skip(test: &str) -> Option<&'static NodeGateway> {
    match node_gateway().await {
        Ok(gw) => Some(gw),
        Err(why) => {
            skip(test, &why);
            None
        }
    }
}

/// The shared Node gateway. `Err` means node/openclaw are not installed (skip); a gateway that is
/// installed but does not start fails the calling test.
async fn node_gateway() -> Result<&'static NodeGateway, String> {
    static NODE: OnceLock<Result<NodeGateway, String>> = OnceLock::new();
    if node::node_bin().is_none() || node::openclaw_mjs().is_none() {
        return Err("node 24 / openclaw are not installed".into());
    }
    // Starting blocks for seconds: keep it off the async worker.
    let gw = tokio::task::spawn_blocking(|| {
        NODE.get_or_init(|| NodeGateway::start(NODE_TOKEN, NODE_START))
    })
    .await
    .expect("node gateway start task");
    match gw {
        Ok(gw) => Ok(gw),
        Err(e) => panic!("the real Node gateway is installed but did not start: {e}"),
    }
}

/// Runs the real `openclaw` CLI with a private HOME; returns (exit code, stdout, stderr).
async fn real_cli(args: &[&str]) -> Option<(i32, String, String)> {
    real_cli_env(args, &[]).await
}

/// Like [`real_cli`] with extra environment variables.
async fn real_cli_env(args: &[&str], env: &[(&str, &str)]) -> Option<(i32, String, String)> {
    let home = tempfile::tempdir().expect("cli home");
    let mut cmd = node::openclaw_js_cli(home.path())?;
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    let out = tokio::time::timeout(CLI_GUARD, cmd.output())
        .await
        .expect("the real openclaw CLI hung")
        .expect("spawn the real openclaw CLI");
    let code = out.status.code().unwrap_or(-1);
    Some((
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// The real CLI with `args` (node/openclaw must be installed), which must exit 0; returns the
/// JSON it printed. `what` names the call when it fails.
async fn real_cli_json(args: &[&str], what: &str) -> Value {
    let (code, out, err) = real_cli(args).await.expect("node/openclaw present");
    assert_eq!(code, 0, "{what} failed\nstdout:\n{out}\nstderr:\n{err}");
    parse_json_out(&out, &err)
}

fn parse_json_out(stdout: &str, stderr: &str) -> Value {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("the real CLI did not print JSON ({e})\nstdout:\n{stdout}\nstderr:\n{stderr}")
    })
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(WS_GUARD, ws.next())
            .await
            .expect("no frame within the hang guard")?;
        match msg.ok()? {
            Message::Text(t) => return serde_json::from_str(t.as_str()).ok(),
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// What a refused handshake looked like on the wire.
#[derive(Debug)]
struct Refusal {
    error: Value,
    close_code: u16,
    close_reason: String,
}

/// Connects like `openclaw gateway call health` does, with `token`, and returns the refusal.
async fn refused_connect(url: &str, token: &str) -> Refusal {
    match raw_connect(url, json!({ "token": token }), None).await {
        Ok(hello) => panic!("a wrong token must be refused, got hello-ok: {hello}"),
        Err(r) => r,
    }
}

/// One handshake with exact frames: `auth` as given, optionally a v3 device signature over this
/// connection's challenge. Ok(hello-ok payload) or the refusal (error + close frame).
async fn raw_connect(
    url: &str,
    auth: Value,
    device: Option<&DeviceIdentity>,
) -> Result<Value, Refusal> {
    raw_connect_from(url, auth, device, None).await
}

/// Like [`raw_connect`]; `forwarded_for` adds an `X-Forwarded-For` header, which makes the
/// socket remote for a gateway without trusted proxies.
async fn raw_connect_from(
    url: &str,
    auth: Value,
    device: Option<&DeviceIdentity>,
    forwarded_for: Option<&str>,
) -> Result<Value, Refusal> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().expect("ws request");
    if let Some(ip) = forwarded_for {
        request
            .headers_mut()
            .insert("x-forwarded-for", ip.parse().expect("header value"));
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("ws connect");
    let challenge = next_json(&mut ws).await.expect("challenge");
    assert_eq!(challenge["event"], "connect.challenge", "{challenge}");
    let mut params = cli_params(None);
    params["auth"] = auth;
    if let Some(identity) = device {
        let signing_token = ["token", "deviceToken", "bootstrapToken"]
            .iter()
            .find_map(|k| params["auth"][k].as_str())
            .unwrap_or("")
            .to_string();
        let nonce = challenge["payload"]["nonce"].as_str().expect("nonce");
        let ts = challenge["payload"]["ts"].as_u64().expect("ts");
        params["device"] = cli_device_proof(identity, &signing_token, nonce, ts);
    }
    let connect = json!({"type": "req", "id": "1", "method": "connect", "params": params});
    first_frame_outcome(&mut ws, &connect, Some("1")).await
}

/// The real CLI's `gateway call <method> --json` against a fresh gateway of ours, which must
/// exit 0; returns the gateway, its token and the printed JSON, or None after printing the skip
/// for `test` when node/openclaw are not installed.
async fn real_cli_call_ours(test: &str, method: &str) -> Option<(TestGateway, String, Value)> {
    if node_missing(test) {
        return None;
    }
    let gw = TestGateway::start_default().await;
    let token = gw.token.clone().expect("token auth");
    let Some((code, out, err)) = real_cli(&[
        "gateway", "call", method, "--url", &gw.url, "--token", &token, "--json",
    ])
    .await
    else {
        skip(test, "node/openclaw missing");
        return None;
    };
    assert_eq!(
        code, 0,
        "real CLI failed against ours\nstdout:\n{out}\nstderr:\n{err}"
    );
    let printed = parse_json_out(&out, &err);
    Some((gw, token, printed))
}

/// Sends `frame` on a fresh socket and reads until it closes: Ok(payload) when the response
/// (the one with id `id`, if given) is ok, after which we close the socket; otherwise the
/// refusal, i.e. the last error response and the close frame.
async fn first_frame_outcome(
    ws: &mut Ws,
    frame: &Value,
    id: Option<&str>,
) -> Result<Value, Refusal> {
    ws.send(Message::text(frame.to_string()))
        .await
        .expect("send first frame");
    let mut error = Value::Null;
    loop {
        let msg = tokio::time::timeout(WS_GUARD, ws.next())
            .await
            .expect("no reply or close within the hang guard");
        match msg {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(t.as_str()).expect("json frame");
                if v["type"] == "res" && id.is_none_or(|id| v["id"] == id) {
                    if v["ok"] == true {
                        let _ = ws.close(None).await;
                        return Ok(v["payload"].clone());
                    }
                    error = v["error"].clone();
                }
            }
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((u16::from(CloseCode::Status), String::new()));
                return Err(Refusal {
                    error,
                    close_code: code,
                    close_reason: reason,
                });
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("socket error before the close frame: {e}"),
            None => panic!("socket ended without a close frame"),
        }
    }
}

#[tokio::test]
async fn real_cli_gateway_call_health_against_ours() {
    let Some((gw, token, printed)) =
        real_cli_call_ours("real_cli_gateway_call_health_against_ours", "health").await
    else {
        return;
    };
    assert_eq!(printed["ok"], true, "health payload: {printed}");
    // The payload is ours: the same keys our own `health` returns.
    let ours = openclaw_client_health(&gw.url, &token).await;
    let keys = |v: &Value| {
        let mut k: Vec<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(
        keys(&printed),
        keys(&ours),
        "printed: {printed}\nours: {ours}"
    );
}

#[tokio::test]
async fn real_cli_gateway_call_status_against_ours() {
    let Some((_gw, _, printed)) =
        real_cli_call_ours("real_cli_gateway_call_status_against_ours", "status").await
    else {
        return;
    };
    // The gateway runs inside this test process, so its `status.pid` is ours.
    assert_eq!(
        printed["pid"].as_u64(),
        Some(u64::from(std::process::id())),
        "status payload: {printed}"
    );
}

/// Our `health` payload through a plain WebSocket call (the reference for what the CLI printed).
async fn openclaw_client_health(url: &str, token: &str) -> Value {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("ws connect");
    next_json(&mut ws).await.expect("challenge");
    let connect = json!({
        "type": "req", "id": "c", "method": "connect",
        "params": {
            "minProtocol": 4, "maxProtocol": 4,
            "client": {"id": "cli", "version": "test", "platform": "linux", "mode": "cli"},
            "role": "operator", "scopes": ["operator.read"], "auth": {"token": token}
        }
    });
    ws.send(Message::text(connect.to_string()))
        .await
        .expect("send");
    let req = json!({"type": "req", "id": "h", "method": "health", "params": {}});
    ws.send(Message::text(req.to_string())).await.expect("send");
    loop {
        let v = next_json(&mut ws).await.expect("reply");
        if v["type"] == "res" && v["id"] == "h" {
            assert_eq!(v["ok"], true, "{v}");
            return v["payload"].clone();
        }
    }
}

#[tokio::test]
async fn wrong_token_is_refused_exactly_like_the_node_gateway() {
    let Some(node_gw) = node_or_skip("wrong_token_is_refused_exactly_like_the_node_gateway").await
    else {
        return;
    };
    let ours = TestGateway::start_default().await;

    let theirs = refused_connect(&node_gw.url, "not-the-token").await;
    let mine = refused_connect(&ours.url, "not-the-token").await;
    eprintln!("node: {theirs:?}\nours: {mine:?}");
    assert_eq!(mine.error["code"], theirs.error["code"], "error code");
    assert_eq!(
        mine.error["details"]["code"], theirs.error["details"]["code"],
        "details code"
    );
    assert_eq!(mine.close_code, theirs.close_code, "close code");
    assert_eq!(mine.error["message"], theirs.error["message"], "message");
    assert_eq!(mine.error["details"], theirs.error["details"], "details");
    assert_eq!(mine.close_reason, theirs.close_reason, "close reason");

    // And the real CLI reports the same refusal for both.
    let cli = |url: String| async move {
        let (code, out, err) = real_cli(&[
            "gateway",
            "call",
            "health",
            "--url",
            &url,
            "--token",
            "not-the-token",
            "--json",
        ])
        .await
        .expect("node/openclaw present");
        assert_ne!(
            code, 0,
            "a wrong token must fail the CLI\nstdout:\n{out}\nstderr:\n{err}"
        );
        parse_json_out(&out, &err)
    };
    let theirs_cli = cli(node_gw.url.clone()).await;
    let mine_cli = cli(ours.url.clone()).await;
    assert_eq!(
        mine_cli, theirs_cli,
        "the real CLI's --json error output differs"
    );
}

#[tokio::test]
async fn node_gateway_answers_the_real_cli() {
    // Sanity for the harness itself: the shared Node gateway is driven by its own CLI.
    let Some(node_gw) = node_or_skip("node_gateway_answers_the_real_cli").await else {
        return;
    };
    let (code, out, err) = real_cli(&[
        "gateway",
        "call",
        "health",
        "--url",
        &node_gw.url,
        "--token",
        NODE_TOKEN,
        "--json",
    ])
    .await
    .expect("node/openclaw present");
    assert_eq!(
        code,
        0,
        "stdout:\n{out}\nstderr:\n{err}\ngateway log:\n{}",
        node_gw.log_tail()
    );
    assert_eq!(parse_json_out(&out, &err)["ok"], true);
}

/// How a gateway treats a device that proves the shared token on loopback, connect after connect.
#[derive(Debug, PartialEq)]
struct DeviceTokenBehaviour {
    first_connect_issues_token: bool,
    second_connect_same_token: bool,
    first_token_still_accepted: bool,
    latest_token_accepted: bool,
}

async fn device_token_behaviour(url: &str, shared: &str) -> DeviceTokenBehaviour {
    let identity = DeviceIdentity::generate(now_ms()).expect("identity");
    let token_of = |hello: &Value| hello["auth"]["deviceToken"].as_str().map(str::to_string);
    let first = raw_connect(url, json!({ "token": shared }), Some(&identity))
        .await
        .unwrap_or_else(|r| panic!("{url}: shared token + new device refused: {r:?}"));
    let t1 = token_of(&first);
    let second = raw_connect(url, json!({ "token": shared }), Some(&identity))
        .await
        .unwrap_or_else(|r| panic!("{url}: second shared-token connect refused: {r:?}"));
    let t2 = token_of(&second);
    let accepted = |token: Option<String>| {
        let identity = &identity;
        async move {
            match token {
                Some(t) => raw_connect(url, json!({ "deviceToken": t }), Some(identity))
                    .await
                    .is_ok(),
                None => false,
            }
        }
    };
    DeviceTokenBehaviour {
        first_connect_issues_token: t1.is_some(),
        second_connect_same_token: t1.is_some() && t1 == t2,
        first_token_still_accepted: accepted(t1.clone()).await,
        latest_token_accepted: accepted(t2.or(t1)).await,
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[tokio::test]
async fn loopback_device_token_lifecycle_matches_the_node_gateway() {
    let Some(node_gw) =
        node_or_skip("loopback_device_token_lifecycle_matches_the_node_gateway").await
    else {
        return;
    };
    let ours = TestGateway::start_default().await;
    let theirs = device_token_behaviour(&node_gw.url, NODE_TOKEN).await;
    let mine = device_token_behaviour(&ours.url, ours.token.as_deref().expect("token")).await;
    eprintln!("node: {theirs:?}\nours: {mine:?}");
    assert_eq!(
        mine, theirs,
        "device-token lifecycle differs from the Node gateway"
    );
}

#[tokio::test]
async fn our_cli_gateway_call_health_against_the_node_gateway() {
    let Some(node_gw) = node_or_skip("our_cli_gateway_call_health_against_the_node_gateway").await
    else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let mut cmd = tokio::process::Command::new(bin_path("openclaw"));
    cmd.args([
        "gateway",
        "call",
        "health",
        "--url",
        &node_gw.url,
        "--token",
        NODE_TOKEN,
        "--json",
    ])
    .arg("--state-dir")
    .arg(home.path().join(".openclaw"))
    .env("HOME", home.path())
    .env_remove("OPENCLAW_GATEWAY_TOKEN")
    .env_remove("OPENCLAW_STATE_DIR")
    .kill_on_drop(true);
    let out = tokio::time::timeout(CLI_GUARD, cmd.output())
        .await
        .expect("our CLI hung")
        .expect("spawn our openclaw CLI");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "our CLI failed against the Node gateway ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let printed = parse_json_out(&stdout, &stderr);
    assert_eq!(printed["ok"], true, "{printed}");
    // It is the Node gateway's payload (ours has no plugin list).
    assert!(
        printed["plugins"]["loaded"].is_array(),
        "not Node's health payload: {printed}"
    );
}

#[tokio::test]
async fn real_cli_devices_list_and_approve_manage_our_gateway() {
    if node_missing("real_cli_devices_list_and_approve_manage_our_gateway") {
        return;
    }
    let gw = TestGateway::start_default().await;
    let token = gw.token.clone().expect("token auth");
    let remote = Some("203.0.113.7");

    // A remote device with the right shared token waits for approval.
    let identity = DeviceIdentity::generate(now_ms()).expect("identity");
    let refusal = raw_connect_from(&gw.url, json!({ "token": token }), Some(&identity), remote)
        .await
        .expect_err("a remote unpaired device must wait for approval");
    assert_eq!(refusal.error["code"], "NOT_PAIRED", "{refusal:?}");
    assert_eq!(
        refusal.error["details"]["code"], "PAIRING_REQUIRED",
        "{refusal:?}"
    );
    let request_id = refusal.error["details"]["requestId"]
        .as_str()
        .expect("requestId in details")
        .to_string();

    let cli = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        real_cli_json(&args, &format!("real CLI {args:?}")).await
    };
    let base = |cmd: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        v.extend(["--url", &gw.url, "--token", &token, "--json"].map(String::from));
        v
    };

    let listed = cli(base(&["devices", "list"])).await;
    let pending = listed["pending"].as_array().expect("pending array");
    assert!(
        pending.iter().any(|p| p["requestId"] == request_id.as_str()
            && p["deviceId"] == identity.device_id()),
        "the real CLI does not list our pending request {request_id}: {listed}"
    );

    cli(base(&["devices", "approve", &request_id])).await;

    let hello = raw_connect_from(&gw.url, json!({ "token": token }), Some(&identity), remote)
        .await
        .unwrap_or_else(|r| panic!("approved device still refused: {r:?}"));
    assert!(
        hello["auth"]["deviceToken"].is_string(),
        "an approved device gets a device token: {hello}"
    );
    let listed = cli(base(&["devices", "list"])).await;
    let paired = listed["paired"].as_array().expect("paired array");
    assert!(
        paired.iter().any(|d| d["deviceId"] == identity.device_id()),
        "the real CLI does not list the approved device: {listed}"
    );
    assert!(
        listed["pending"]
            .as_array()
            .map(|p| p.is_empty())
            .unwrap_or(false),
        "nothing pending after approval: {listed}"
    );
}

/// Sends one hand-built first frame (built from the challenge payload) and returns the refusal.
async fn refusal_for(url: &str, build: &(dyn Fn(&Value) -> Value + Sync)) -> Refusal {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("ws connect");
    let challenge = next_json(&mut ws).await.expect("challenge");
    let frame = build(&challenge["payload"]);
    match first_frame_outcome(&mut ws, &frame, None).await {
        Ok(hello) => panic!("expected a refusal, got hello-ok: {hello}"),
        Err(refusal) => refusal,
    }
}

fn connect_frame(params: Value) -> Value {
    json!({"type": "req", "id": "1", "method": "connect", "params": params})
}

fn cli_params(token: Option<&str>) -> Value {
    let mut p = json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "cli", "version": "2026.9.6", "platform": "linux", "deviceFamily": "Linux", "mode": "cli"},
        "caps": [], "role": "operator", "scopes": ["operator.read"]
    });
    if let Some(t) = token {
        p["auth"] = json!({ "token": t });
    }
    p
}

/// The `device` block of [`cli_params`]' client: `identity`'s v3 proof over `nonce` and
/// `signed_at`, bound to `token`.
fn cli_device_proof(identity: &DeviceIdentity, token: &str, nonce: &str, signed_at: u64) -> Value {
    let scopes = vec!["operator.read".to_string()];
    let proof = identity.prove(&SignedFields {
        client_id: "cli",
        client_mode: "cli",
        role: "operator",
        scopes: &scopes,
        signed_at_ms: signed_at,
        token,
        nonce,
        platform: "linux",
        device_family: "Linux",
    });
    serde_json::to_value(proof).expect("proof json")
}

/// `params` with a device block signed by `identity`; `tamper` edits the signed fields or the
/// resulting proof to produce each device-auth failure.
fn signed_params(
    identity: &DeviceIdentity,
    token: &str,
    challenge: &Value,
    tamper: &dyn Fn(&mut String, &mut u64, &mut Value),
) -> Value {
    let mut params = cli_params(Some(token));
    let mut nonce = challenge["nonce"].as_str().unwrap_or("").to_string();
    let mut signed_at = challenge["ts"].as_u64().unwrap_or(0);
    let mut proof = Value::Null;
    tamper(&mut nonce, &mut signed_at, &mut proof);
    let mut device = cli_device_proof(identity, token, &nonce, signed_at);
    // A tamper that set fields on `proof` overrides them after signing.
    if let Some(over) = proof.as_object() {
        for (k, v) in over {
            device[k] = v.clone();
        }
    }
    params["device"] = device;
    params
}

#[tokio::test]
async fn handshake_refusals_match_the_node_gateway() {
    let Some(node_gw) = node_or_skip("handshake_refusals_match_the_node_gateway").await else {
        return;
    };
    let ours = TestGateway::start_default().await;
    let our_token = ours.token.clone().expect("token");
    let identity = DeviceIdentity::generate(now_ms()).expect("identity");
    let other = DeviceIdentity::generate(now_ms()).expect("identity");
    let other_id = other.device_id().to_string();

    type Build<'a> = Box<dyn Fn(&Value, &str) -> Value + Sync + 'a>;
    let rows: Vec<(&str, Build<'_>)> = vec![
        (
            "no auth, no device",
            Box::new(|_, _| connect_frame(cli_params(None))),
        ),
        (
            "first request is not connect",
            Box::new(|_, _| json!({"type": "req", "id": "1", "method": "health", "params": {}})),
        ),
        (
            "protocol 1..2",
            Box::new(|_, t| {
                let mut p = cli_params(Some(t));
                p["minProtocol"] = json!(1);
                p["maxProtocol"] = json!(2);
                connect_frame(p)
            }),
        ),
        (
            "bad signature",
            Box::new(|c, t| {
                connect_frame(signed_params(&identity, t, c, &|_, _, proof| {
                    *proof = json!({"signature": "A".repeat(86)});
                }))
            }),
        ),
        (
            "wrong nonce",
            Box::new(|c, t| {
                connect_frame(signed_params(&identity, t, c, &|nonce, _, proof| {
                    *nonce = "00000000-0000-0000-0000-000000000000".into();
                    *proof = json!({"nonce": nonce.clone()});
                }))
            }),
        ),
        (
            "blank nonce (spaces)",
            Box::new(|c, t| {
                connect_frame(signed_params(&identity, t, c, &|nonce, _, proof| {
                    *nonce = "   ".into();
                    *proof = json!({"nonce": "   "});
                }))
            }),
        ),
        (
            "empty nonce (schema: minLength 1)",
            Box::new(|c, t| {
                connect_frame(signed_params(&identity, t, c, &|nonce, _, proof| {
                    nonce.clear();
                    *proof = json!({"nonce": ""});
                }))
            }),
        ),
        (
            "device id is not sha256(public key)",
            Box::new(|c, t| {
                let other_id = other_id.clone();
                connect_frame(signed_params(&identity, t, c, &move |_, _, proof| {
                    *proof = json!({"id": other_id.clone()});
                }))
            }),
        ),
        (
            "signedAt 10 min old",
            Box::new(|c, t| {
                connect_frame(signed_params(&identity, t, c, &|_, at, _| {
                    *at -= 600_000;
                }))
            }),
        ),
    ];
    let mut diffs = Vec::new();
    for (name, build) in &rows {
        let theirs = refusal_for(&node_gw.url, &|c| build(c, NODE_TOKEN)).await;
        let mine = refusal_for(&ours.url, &|c| build(c, &our_token)).await;
        let key = |r: &Refusal| {
            (
                r.error["code"].clone(),
                r.error["message"].clone(),
                r.error["details"].clone(),
                r.close_code,
                r.close_reason.clone(),
            )
        };
        if key(&mine) != key(&theirs) {
            diffs.push(format!("{name}:\n  node: {theirs:?}\n  ours: {mine:?}"));
        } else {
            eprintln!(
                "same refusal for {name}: {} / {}",
                mine.error["code"], mine.close_code
            );
        }
    }
    assert!(
        diffs.is_empty(),
        "refusals that differ from the Node gateway:\n{}",
        diffs.join("\n")
    );
}

#[tokio::test]
async fn real_cli_gateway_status_probe_sees_ours_like_the_node_gateway() {
    let Some(node_gw) =
        node_or_skip("real_cli_gateway_status_probe_sees_ours_like_the_node_gateway").await
    else {
        return;
    };
    let ours = TestGateway::start_default().await;
    let our_token = ours.token.clone().expect("token");
    let probe = |url: String, token: String| async move {
        let args = [
            "gateway", "status", "--url", &url, "--token", &token, "--json",
        ];
        real_cli_json(&args, &format!("gateway status for {url}")).await["rpc"].clone()
    };
    let theirs = probe(node_gw.url.clone(), NODE_TOKEN.to_string()).await;
    let mine = probe(ours.url.clone(), our_token).await;
    assert_eq!(theirs["ok"], true, "node probe: {theirs}");
    assert_eq!(mine["ok"], true, "our probe: {mine}");
    assert_eq!(mine["kind"], theirs["kind"], "ours {mine}\nnode {theirs}");
    assert_eq!(
        mine["capability"], theirs["capability"],
        "ours {mine}\nnode {theirs}"
    );
    assert_eq!(
        mine["auth"]["role"], theirs["auth"]["role"],
        "ours {mine}\nnode {theirs}"
    );
    assert_eq!(
        mine["auth"]["scopes"], theirs["auth"]["scopes"],
        "ours {mine}\nnode {theirs}"
    );
}

#[tokio::test]
async fn node_gateway_accepts_our_v3_device_signature() {
    let Some(node_gw) = node_or_skip("node_gateway_accepts_our_v3_device_signature").await else {
        return;
    };
    // Signed by openclaw-rs-auth, verified by the real Node gateway: a new device on loopback with
    // the shared token is paired silently and gets a device token, which then works on its own.
    let identity = DeviceIdentity::generate(now_ms()).expect("identity");
    let hello = raw_connect(
        &node_gw.url,
        json!({ "token": NODE_TOKEN }),
        Some(&identity),
    )
    .await
    .unwrap_or_else(|r| panic!("the Node gateway refused our signature: {r:?}"));
    assert_eq!(hello["auth"]["role"], "operator", "{hello}");
    let token = hello["auth"]["deviceToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no device token for our device: {hello}"))
        .to_string();
    let again = raw_connect(
        &node_gw.url,
        json!({ "deviceToken": token }),
        Some(&identity),
    )
    .await
    .unwrap_or_else(|r| panic!("the Node gateway refused our device token: {r:?}"));
    assert_eq!(again["auth"]["method"], "device-token", "{again}");
}

#[tokio::test]
async fn real_cli_health_summary_renders_our_payload() {
    if node_missing("real_cli_health_summary_renders_our_payload") {
        return;
    }
    // `openclaw health` (no --url) finds the local gateway through OPENCLAW_GATEWAY_PORT/TOKEN and
    // renders a text summary from the `health` payload: every field it reads must be there.
    let gw = TestGateway::start_default().await;
    let token = gw.token.clone().expect("token auth");
    let port = gw.port.to_string();
    let Some((code, out, err)) = real_cli_env(
        &["health"],
        &[
            ("OPENCLAW_GATEWAY_PORT", &port),
            ("OPENCLAW_GATEWAY_TOKEN", &token),
        ],
    )
    .await
    else {
        return skip(
            "real_cli_health_summary_renders_our_payload",
            "node/openclaw missing",
        );
    };
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("Gateway event loop: ok"), "stdout:\n{out}");
    for bad in ["NaN", "undefined", "null"] {
        assert!(
            !out.contains(bad),
            "the real CLI rendered `{bad}` from our health payload:\n{out}"
        );
    }
}

/// The real CLI with `args`, its config (`~/.openclaw/openclaw.json` in a private home)
/// pointing at `gw` with its token, as a user's would. Without a config file some commands
/// treat the machine as a cold start and never contact the gateway.
async fn real_cli_configured_for(gw: &TestGateway, args: &[&str]) -> Option<(i32, String, String)> {
    let token = gw.token.clone().expect("token auth");
    real_cli_configured(gw.port, &token, args).await
}

/// [`real_cli_configured_for`] a gateway on `port` with `token`.
async fn real_cli_configured(
    port: u16,
    token: &str,
    args: &[&str],
) -> Option<(i32, String, String)> {
    let config = json!({"gateway": {"mode": "local", "port": port,
        "auth": {"mode": "token", "token": token}}});
    crate::util::real_cli_with_config(&config, args, CLI_GUARD).await
}

/// `openclaw logs` tails our gateway's log file (`logs.tail`: cursor, whole lines, the file
/// name), `openclaw system presence` lists our gateway and the CLI's own connection, and
/// `openclaw channels status` reaches it (no channels), against a gateway started in the
/// background by our `openclaw gateway start`.
#[tokio::test]
async fn real_cli_logs_and_presence_against_our_background_gateway() {
    if node_missing("real_cli_logs_and_presence_against_our_background_gateway") {
        return;
    }
    let state = tempfile::tempdir().expect("state");
    let sd = state.path().to_str().expect("utf-8 path").to_owned();
    let port = openclaw_rs_test_support::gateway::free_port();
    let token = "logs-presence-token";
    let ours = openclaw_rs_test_support::gateway::bin_path("openclaw");
    let run = |args: &[&str]| {
        std::process::Command::new(&ours)
            .args(args)
            .args(["--state-dir", &sd])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run our openclaw")
    };
    let started = run(&[
        "gateway",
        "start",
        "--port",
        &port.to_string(),
        "--token",
        token,
    ]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let stop = scopeguard_stop(&ours, &sd);

    let (code, out, err) = real_cli_configured(port, token, &["logs", "--json", "--limit", "50"])
        .await
        .expect("node/openclaw present");
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let records: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let meta = records
        .iter()
        .find(|r| r["type"] == "meta")
        .unwrap_or_else(|| panic!("no meta record:\n{out}"));
    assert!(
        meta["file"]
            .as_str()
            .unwrap_or_default()
            .ends_with("logs/gateway.jsonl"),
        "{meta}"
    );
    assert!(meta["cursor"].as_u64().unwrap_or(0) > 0, "{meta}");
    // OpenClaw's CLI parses our JSONL lines: time, level and subsystem, not raw text.
    let ready = records
        .iter()
        .find(|r| r.to_string().contains("gateway ready"))
        .unwrap_or_else(|| panic!("the log's lines came through:\n{out}"));
    assert_eq!(ready["type"], "log", "{ready}");
    assert_eq!(ready["level"], "info", "{ready}");
    assert_eq!(ready["subsystem"], "gateway", "{ready}");
    assert!(ready["time"].is_string(), "{ready}");

    let (code, out, err) = real_cli_configured(port, token, &["system", "presence", "--json"])
        .await
        .expect("node/openclaw present");
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let entries = parse_json_out(&out, &err);
    let entries = entries.as_array().cloned().unwrap_or_default();
    assert!(
        entries
            .iter()
            .any(|e| e["reason"] == "self" && e["mode"] == "gateway"),
        "{out}"
    );
    assert!(
        entries.iter().any(|e| e["reason"] == "connect"),
        "the CLI's own connection: {out}"
    );

    let (code, out, err) = real_cli_configured(port, token, &["channels", "status", "--json"])
        .await
        .expect("node/openclaw present");
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let v = parse_json_out(&out, &err);
    // Reached: the CLI prints the gateway's answer (its offline fallback would say
    // `gatewayReachable: false` with the error).
    assert!(
        v.get("gatewayReachable").is_none() && v.get("error").is_none(),
        "{v}"
    );
    assert_eq!(v["channels"], json!({}), "{v}");
    drop(stop);
}

/// Stops the background gateway of state dir `sd` when dropped (also when the test fails).
fn scopeguard_stop(ours: &std::path::Path, sd: &str) -> impl Drop {
    struct Stop(std::path::PathBuf, String);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = std::process::Command::new(&self.0)
                .args(["gateway", "stop", "--state-dir", &self.1])
                .output();
        }
    }
    Stop(ours.to_path_buf(), sd.to_owned())
}

/// The real `openclaw agent` runs a turn through our gateway: `agent` answers `accepted`, then
/// the final result with the same id; the CLI prints the reply and exits 0, or 1 when the run
/// failed. Both turns land in the session's transcript.
#[tokio::test]
async fn real_cli_agent_runs_a_turn_on_our_gateway() {
    if node_missing("real_cli_agent_runs_a_turn_on_our_gateway") {
        return;
    }
    openclaw_rs_test_support::gateway::bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let args = [
        "agent",
        "--message",
        "echo from-real-cli",
        "--session-key",
        "agent:main:main",
    ];
    let Some((code, out, err)) = real_cli_configured_for(&gw, &args).await else {
        return skip(
            "real_cli_agent_runs_a_turn_on_our_gateway",
            "node/openclaw missing",
        );
    };
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("from-real-cli"),
        "stdout:\n{out}\nstderr:\n{err}"
    );

    let args = ["agent", "--message", "exit 3", "--agent", "main", "--json"];
    let (code, out, err) = real_cli_configured_for(&gw, &args)
        .await
        .expect("node/openclaw present");
    assert_eq!(
        code, 1,
        "a failed run exits 1\nstdout:\n{out}\nstderr:\n{err}"
    );
    let v = parse_json_out(&out, &err);
    assert_eq!(v["status"], "error", "{v}");
    assert_eq!(v["runStatus"], "failed", "{v}");
    assert!(
        v["result"]["payloads"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("exit code 3"),
        "{v}"
    );

    let mut o = openclaw_rs_client::ClientOptions::new(gw.url.clone());
    o.token = gw.token.clone();
    let c = openclaw_rs_client::Client::connect(o)
        .await
        .expect("connect");
    let h = c
        .request("chat.history", json!({"sessionKey": "agent:main:main"}))
        .await
        .expect("chat.history");
    let text = h.to_string();
    assert!(
        text.contains("echo from-real-cli") && text.contains("exit 3"),
        "{h}"
    );
    c.close().await;
}

/// `openclaw status --json` (the real CLI's status scan) calls our `status` with
/// `includeCliProjection` and reads OpenClaw's summary fields (`sessions.byAgent`, `tasks`,
/// `heartbeat`, …). It used to crash on our payload with "Cannot read properties of undefined".
#[tokio::test]
async fn real_cli_status_scans_our_gateway() {
    if node_missing("real_cli_status_scans_our_gateway") {
        return;
    }
    let gw = TestGateway::start_default().await;
    // One session, so `byAgent` has a row to count.
    {
        let mut o = openclaw_rs_client::ClientOptions::new(gw.url.clone());
        o.token = gw.token.clone();
        o.scopes = vec!["operator.read".into(), "operator.write".into()];
        let c = openclaw_rs_client::Client::connect(o)
            .await
            .expect("connect");
        c.request(
            "chat.send",
            json!({"sessionKey": "agent:main:main", "message": "true", "idempotencyKey": "status-1"}),
        )
        .await
        .expect("chat.send");
        c.request(
            "agent.wait",
            json!({"runId": "status-1", "timeoutMs": 60_000}),
        )
        .await
        .expect("agent.wait");
        c.close().await;
    }
    let Some((code, out, err)) = real_cli_configured_for(&gw, &["status", "--json"]).await else {
        return skip("real_cli_status_scans_our_gateway", "node/openclaw missing");
    };
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let v: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("status --json printed no JSON ({e}):\n{out}\n{err}"));
    assert_eq!(v["gateway"]["reachable"], true, "{v}");
    assert_eq!(
        v["pid"],
        std::process::id(),
        "the summary came from our gateway: {v}"
    );
    let agents = v["agents"]["agents"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let main = agents
        .iter()
        .find(|a| a["id"] == "main")
        .unwrap_or_else(|| panic!("no main agent in {}", v["agents"]));
    assert_eq!(main["sessionsCount"], 1, "{main}");
}

#[tokio::test]
async fn real_cli_reads_and_patches_our_config_like_the_node_gateway() {
    let Some(node_gw) =
        node_or_skip("real_cli_reads_and_patches_our_config_like_the_node_gateway").await
    else {
        return;
    };
    let ours = TestGateway::start_default().await;
    let token = ours.token.clone().expect("token");
    let call = |url: String, token: String, method: &'static str, params: Option<Value>| async move {
        let mut args = vec![
            "gateway".to_string(),
            "call".into(),
            method.into(),
            "--url".into(),
            url,
            "--token".into(),
            token,
            "--json".into(),
        ];
        if let Some(p) = params {
            args.push("--params".into());
            args.push(p.to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        real_cli_json(&args, &format!("{method} on {}", args[4])).await
    };
    eprintln!("node: {} ours: {}", node_gw.url, ours.url);
    let theirs = call(node_gw.url.clone(), NODE_TOKEN.into(), "config.get", None).await;
    let mine = call(ours.url.clone(), token.clone(), "config.get", None).await;
    for key in ["path", "exists", "raw", "hash", "valid", "config"] {
        assert!(
            theirs.get(key).is_some(),
            "Node's config.get lacks {key}: {theirs}"
        );
        assert!(
            mine.get(key).is_some(),
            "our config.get lacks `{key}` (Node has it)\nours: {mine}"
        );
    }
    let base = mine["hash"].as_str().expect("hash string").to_string();
    let patched = call(
        ours.url.clone(),
        token.clone(),
        "config.patch",
        Some(json!({"raw": "{ logging: { level: \"debug\" } }", "baseHash": base})),
    )
    .await;
    assert_eq!(patched["ok"], true, "{patched}");
    assert!(
        patched["changedPaths"]
            .as_array()
            .map(|p| p
                .iter()
                .any(|x| x.as_str().is_some_and(|s| s.starts_with("logging"))))
            .unwrap_or(false),
        "changedPaths should name logging.level: {patched}"
    );
    let after = call(ours.url.clone(), token, "config.get", None).await;
    assert_ne!(
        after["hash"], mine["hash"],
        "the hash must change after a patch"
    );
}
