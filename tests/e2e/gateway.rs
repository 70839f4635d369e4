//! Gateway core: handshake rows, dispatch, probes, limits and shutdown against real in-process gateways.
//!
//! The raw WebSocket client here sends exact frames so that each refusal row of the reference
//! (§4.3) is checked byte for byte: error code, message, details, close code and close reason.

use crate::util::RawClient;
use futures_util::{SinkExt, StreamExt};
use openclaw_rs_gateway::{MethodSpec, SharedAuth, ShutdownPlan};
use openclaw_rs_protocol::scopes;
use openclaw_rs_test_support::gateway::{TestGateway, TestGatewayOptions};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

const HANG_GUARD: Duration = Duration::from_secs(20);

/// A raw protocol client (a [`RawClient`] whose reads wait up to [`HANG_GUARD`]).
struct Raw(RawClient);

impl Raw {
    async fn open(url: &str) -> Raw {
        Raw(RawClient::open(url, &[], HANG_GUARD).await)
    }
}

impl std::ops::Deref for Raw {
    type Target = RawClient;
    fn deref(&self) -> &RawClient {
        &self.0
    }
}

impl std::ops::DerefMut for Raw {
    fn deref_mut(&mut self) -> &mut RawClient {
        &mut self.0
    }
}

fn cli_params(token: Option<&str>, scopes: &[&str]) -> Value {
    let mut p = json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id":"cli","version":"test","platform":"linux","mode":"cli"},
        "role": "operator", "scopes": scopes, "caps": [],
    });
    if let Some(t) = token {
        p["auth"] = json!({ "token": t });
    }
    p
}

async fn connected(gw: &TestGateway, scopes: &[&str]) -> Raw {
    let mut raw = Raw::open(&gw.url).await;
    let res = raw.connect(cli_params(gw.token.as_deref(), scopes)).await;
    assert_eq!(res["ok"], true, "connect failed: {res}");
    raw
}

const ALL: &[&str] = &[scopes::READ, scopes::WRITE, scopes::ADMIN];

#[tokio::test]
async fn handshake_returns_challenge_and_hello_ok() {
    let gw = TestGateway::start_default().await;
    let mut raw = Raw::open(&gw.url).await;
    let nonce = raw.challenge["payload"]["nonce"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(nonce.len(), 36, "nonce is a uuid: {nonce}");
    assert!(raw.challenge["payload"]["ts"].as_u64().unwrap() > 1_600_000_000_000);
    assert!(raw.challenge.get("seq").is_none());
    let res = raw.connect(cli_params(gw.token.as_deref(), ALL)).await;
    assert_eq!(res["id"], "c1");
    assert_eq!(res["ok"], true, "{res}");
    let p = &res["payload"];
    assert_eq!(p["type"], "hello-ok");
    assert_eq!(p["protocol"], 4);
    assert!(p["server"]["version"].is_string());
    assert!(p["server"]["connId"].is_string());
    let methods: Vec<&str> = p["features"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    for m in ["health", "status", "gateway.identity.get"] {
        assert!(methods.contains(&m), "{m} missing from {methods:?}");
    }
    let events = p["features"]["events"].as_array().unwrap();
    assert!(events.contains(&json!("tick")) && events.contains(&json!("shutdown")));
    // Only events this gateway really emits are advertised.
    assert!(!events.contains(&json!("presence")));
    assert!(p["snapshot"]["presence"].is_array());
    assert_eq!(p["snapshot"]["health"]["ok"], true);
    assert!(p["snapshot"]["stateVersion"]["presence"].is_u64());
    assert!(p["snapshot"]["uptimeMs"].is_u64());
    assert_eq!(p["auth"]["method"], "token");
    assert_eq!(p["auth"]["role"], "operator");
    assert_eq!(p["auth"]["scopes"], json!(ALL));
    assert_eq!(p["policy"]["maxPayload"], 26_214_400);
    assert_eq!(p["policy"]["maxBufferedBytes"], 52_428_800);
    assert_eq!(p["policy"]["tickIntervalMs"], 30_000);
    // The connection works after hello-ok.
    let h = raw.call("h1", "health", json!({})).await;
    assert_eq!(h["ok"], true);
    assert_eq!(h["payload"]["ok"], true);
    assert!(h["payload"]["ts"].is_u64() && h["payload"]["durationMs"].is_u64());
    for k in [
        "intervalMs",
        "delayP99Ms",
        "delayMaxMs",
        "utilization",
        "cpuCoreRatio",
    ] {
        assert!(
            h["payload"]["eventLoop"][k].is_number(),
            "eventLoop.{k}: {h}"
        );
    }
    assert_eq!(gw.state.connection_count(), 1);
}

/// Asserts one refusal row: `res` error (code, message, details) then the close frame.
async fn assert_refused(
    raw: &mut Raw,
    params: Value,
    code: &str,
    message: &str,
    details: Option<Value>,
    close_code: u16,
    close_reason: &str,
) {
    let res = raw.connect(params).await;
    assert_eq!(res["ok"], false, "{res}");
    assert_eq!(res["error"]["code"], code, "{res}");
    assert_eq!(res["error"]["message"], message, "{res}");
    match details {
        Some(d) => assert_eq!(res["error"]["details"], d, "{res}"),
        None => assert!(res["error"].get("details").is_none(), "{res}"),
    }
    raw.assert_closed(close_code, close_reason).await;
}

/// The shared-secret row: a wrong token or password, refused with `msg` (message and close
/// reason) and details `code`/`auth_reason` that tell the client to fix its credentials.
async fn assert_secret_mismatch(
    raw: &mut Raw,
    params: Value,
    msg: &str,
    code: &str,
    auth_reason: &str,
) {
    assert_refused(
        raw,
        params,
        "INVALID_REQUEST",
        msg,
        Some(json!({"code":code,"authReason":auth_reason,"canRetryWithDeviceToken":false,"recommendedNextStep":"update_auth_credentials"})),
        1008,
        msg,
    )
    .await;
}

/// The row for a connect that needs a device identity and has none.
async fn assert_identity_required(raw: &mut Raw, params: Value) {
    assert_refused(
        raw,
        params,
        "NOT_PAIRED",
        "device identity required",
        Some(json!({"code":"DEVICE_IDENTITY_REQUIRED"})),
        1008,
        "device identity required",
    )
    .await;
}

#[tokio::test]
async fn wrong_token_is_refused_like_openclaw() {
    let gw = TestGateway::start_default().await;
    let mut raw = Raw::open(&gw.url).await;
    let msg = "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)";
    assert_secret_mismatch(
        &mut raw,
        cli_params(Some("wrong-token"), ALL),
        msg,
        "AUTH_TOKEN_MISMATCH",
        "token_mismatch",
    )
    .await;
    assert_eq!(gw.state.connection_count(), 0);
}

#[tokio::test]
async fn no_credential_and_no_device_needs_identity() {
    let gw = TestGateway::start_default().await;
    let mut raw = Raw::open(&gw.url).await;
    assert_identity_required(&mut raw, cli_params(None, ALL)).await;
}

#[tokio::test]
async fn node_role_with_token_but_no_device_needs_identity() {
    let gw = TestGateway::start_default().await;
    let mut raw = Raw::open(&gw.url).await;
    let mut p = cli_params(gw.token.as_deref(), &[]);
    p["role"] = json!("node");
    p["client"]["mode"] = json!("node");
    assert_identity_required(&mut raw, p).await;
}

#[tokio::test]
async fn password_mode_rows() {
    let gw = TestGateway::start(TestGatewayOptions {
        auth: Some(SharedAuth {
            mode: openclaw_rs_gateway::AuthMode::Password,
            token: None,
            password: Some("hunter2".into()),
        }),
        ..TestGatewayOptions::default()
    })
    .await;
    let mut raw = Raw::open(&gw.url).await;
    let mut p = cli_params(None, ALL);
    p["auth"] = json!({"password": "wrong"});
    let msg = "unauthorized: gateway password mismatch (use this gateway's gateway.auth.password)";
    assert_secret_mismatch(
        &mut raw,
        p,
        msg,
        "AUTH_PASSWORD_MISMATCH",
        "password_mismatch",
    )
    .await;
    let mut raw = Raw::open(&gw.url).await;
    let res = raw.connect(cli_params(None, ALL)).await;
    assert_eq!(res["error"]["details"]["code"], "AUTH_PASSWORD_MISSING");
    assert_eq!(raw.closed().await.code, 1008);
    let mut raw = Raw::open(&gw.url).await;
    let mut p = cli_params(None, ALL);
    p["auth"] = json!({"password": "hunter2"});
    let res = raw.connect(p).await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["auth"]["method"], "password");
}

#[tokio::test]
async fn first_request_must_be_connect() {
    let gw = TestGateway::start_default().await;
    let mut raw = Raw::open(&gw.url).await;
    raw.send(json!({"type":"req","id":"x1","method":"health","params":{}}))
        .await;
    let res = raw.response().await;
    assert_eq!(res["id"], "x1");
    assert_eq!(res["ok"], false);
    assert_eq!(res["error"]["code"], "INVALID_REQUEST");
    assert_eq!(
        res["error"]["message"],
        "invalid handshake: first request must be connect"
    );
    raw.assert_closed(1008, "invalid handshake: first request must be connect")
        .await;
}

#[tokio::test]
async fn old_protocol_is_refused_with_1002() {
    let gw = TestGateway::start_default().await;
    let mut raw = Raw::open(&gw.url).await;
    let mut p = cli_params(gw.token.as_deref(), ALL);
    p["minProtocol"] = json!(1);
    p["maxProtocol"] = json!(2);
    assert_refused(
        &mut raw,
        p,
        "INVALID_REQUEST",
        "protocol mismatch",
        Some(json!({"code":"PROTOCOL_MISMATCH","clientMinProtocol":1,"clientMaxProtocol":2,"expectedProtocol":4,"minimumProbeProtocol":3})),
        1002,
        "protocol mismatch",
    )
    .await;
    // Protocol 3 only from probes (and nodes): a cli offering 3..3 is refused, a probe is not.
    let mut raw = Raw::open(&gw.url).await;
    let mut p = cli_params(gw.token.as_deref(), ALL);
    p["minProtocol"] = json!(3);
    p["maxProtocol"] = json!(3);
    let res = raw.connect(p.clone()).await;
    assert_eq!(res["error"]["details"]["code"], "PROTOCOL_MISMATCH");
    assert_eq!(raw.closed().await.code, 1002);
    let mut raw = Raw::open(&gw.url).await;
    p["client"]["mode"] = json!("probe");
    let res = raw.connect(p).await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["protocol"], 3);
}

#[tokio::test]
async fn preauth_frame_over_64k_closes_1009() {
    let gw = TestGateway::start_default().await;
    let mut raw = Raw::open(&gw.url).await;
    let pad = "a".repeat(70 * 1024);
    raw.send_text(format!(
        r#"{{"type":"req","id":"1","method":"connect","params":{{"pad":"{pad}"}}}}"#
    ))
    .await;
    raw.assert_closed(1009, "preauth payload too large").await;
}

#[tokio::test]
async fn silent_socket_hits_handshake_timeout() {
    let gw = TestGateway::start(TestGatewayOptions {
        handshake_timeout: Some(Duration::from_millis(300)),
        ..TestGatewayOptions::default()
    })
    .await;
    let mut raw = Raw::open(&gw.url).await;
    raw.assert_closed(1008, "connect challenge timeout").await;
}

#[tokio::test]
async fn unknown_method_keeps_the_connection() {
    let gw = TestGateway::start_default().await;
    let mut raw = connected(&gw, ALL).await;
    let res = raw.call("u1", "nonexistent.method", json!({})).await;
    assert_eq!(res["ok"], false);
    assert_eq!(
        res["error"],
        json!({"code":"INVALID_REQUEST","message":"unknown method: nonexistent.method"})
    );
    let res = raw.call("u2", "status", json!({})).await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["pid"], std::process::id());
    assert_eq!(res["payload"]["authMode"], "token");
    assert_eq!(res["payload"]["connections"], 1);
    assert!(
        res["payload"]["processMemory"]["rssBytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    let res = raw.call("u3", "gateway.identity.get", json!({})).await;
    assert_eq!(res["payload"]["bootId"], gw.state.boot_id());
}

#[tokio::test]
async fn missing_scope_is_forbidden() {
    let gw = TestGateway::start_default().await;
    let mut raw = connected(&gw, &[]).await;
    let res = raw.call("s1", "status", json!({})).await;
    assert_eq!(res["ok"], false);
    assert_eq!(
        res["error"],
        json!({"code":"FORBIDDEN","message":"missing scope: operator.read","details":{"code":"MISSING_SCOPE","missingScope":"operator.read","requiredScopes":["operator.read"]}})
    );
    // As on the Node gateway, an operator granted no scopes (a probe) may still ask `health`.
    assert_eq!(raw.call("s0", "health", json!({})).await["ok"], true);
    // write implies read.
    let mut raw = connected(&gw, &[scopes::WRITE]).await;
    assert_eq!(raw.call("s2", "status", json!({})).await["ok"], true);
}

/// `test.wait` blocks until `test.release` is called: ordering without relying on timing.
fn gate_methods() -> Vec<MethodSpec> {
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let g = gate.clone();
    vec![
        MethodSpec::new("test.wait", scopes::READ, move |_s, _c, _p| {
            let g = g.clone();
            async move {
                let permit = g.acquire().await;
                permit.map(|p| p.forget()).ok();
                Ok(json!({ "released": true }))
            }
        }),
        MethodSpec::new("test.release", scopes::READ, move |_s, _c, _p| {
            let g = gate.clone();
            async move {
                g.add_permits(1);
                Ok(json!({}))
            }
        }),
    ]
}

#[tokio::test]
async fn concurrent_requests_reply_out_of_order() {
    let gw = TestGateway::start(TestGatewayOptions {
        extra_methods: gate_methods(),
        ..TestGatewayOptions::default()
    })
    .await;
    let mut raw = connected(&gw, ALL).await;
    raw.send(json!({"type":"req","id":"blocked","method":"test.wait","params":{}}))
        .await;
    raw.send(json!({"type":"req","id":"fast","method":"health","params":{}}))
        .await;
    // The blocked request cannot answer before it is released, so `fast` must come first.
    let first = raw.response().await;
    assert_eq!(first["id"], "fast");
    raw.send(json!({"type":"req","id":"release","method":"test.release","params":{}}))
        .await;
    let mut ids = vec![
        raw.response().await["id"].as_str().unwrap().to_owned(),
        raw.response().await["id"].as_str().unwrap().to_owned(),
    ];
    ids.sort();
    assert_eq!(ids, vec!["blocked", "release"]);
}

/// An arbitrary `presence` payload for broadcast tests.
#[derive(serde::Serialize)]
struct TestEvent(Value);

impl openclaw_rs_protocol::Event for TestEvent {
    const NAME: &'static str = "presence";
}

#[tokio::test]
async fn broadcast_seq_is_contiguous_per_connection() {
    let gw = TestGateway::start_default().await;
    let mut a = connected(&gw, ALL).await;
    gw.state.broadcast(&TestEvent(json!({"n": 1})));
    let mut b = connected(&gw, ALL).await;
    gw.state.broadcast(&TestEvent(json!({"n": 2})));
    gw.state.broadcast(&TestEvent(json!({"n": 3})));
    for (raw, expected) in [(&mut a, vec![1, 2, 3]), (&mut b, vec![1, 2])] {
        let mut seqs = Vec::new();
        for _ in 0..expected.len() {
            let f = raw.next().await.unwrap();
            assert_eq!(f["type"], "event");
            assert_eq!(f["event"], "presence");
            seqs.push(f["seq"].as_u64().unwrap());
        }
        assert_eq!(seqs, expected);
    }
}

#[tokio::test]
async fn tick_events_arrive() {
    let gw = TestGateway::start(TestGatewayOptions {
        tick_interval: Some(Duration::from_millis(100)),
        ..TestGatewayOptions::default()
    })
    .await;
    let mut raw = connected(&gw, ALL).await;
    let f = raw.next().await.unwrap();
    assert_eq!(f["event"], "tick", "{f}");
    assert!(f["payload"]["ts"].is_u64());
    let f = raw.next().await.unwrap();
    assert_eq!(f["event"], "health", "{f}");
    assert!(f["stateVersion"]["health"].as_u64().unwrap() >= 2, "{f}");
    assert!(f["stateVersion"]["presence"].is_u64(), "{f}");
    assert_eq!(f["payload"]["ok"], true);
    assert_eq!(f["seq"], 2);
}

#[tokio::test]
async fn post_auth_frame_over_max_payload_closes_1009() {
    let gw = TestGateway::start(TestGatewayOptions {
        max_payload: Some(256 * 1024),
        ..TestGatewayOptions::default()
    })
    .await;
    let mut raw = connected(&gw, ALL).await;
    // 100 KiB is fine after auth (it was not before).
    let pad = "a".repeat(100 * 1024);
    let res = raw.call("big", "health", json!({ "pad": pad })).await;
    assert_eq!(res["ok"], true);
    let pad = "a".repeat(300 * 1024);
    raw.send(json!({"type":"req","id":"huge","method":"health","params":{"pad":pad}}))
        .await;
    assert_eq!(raw.closed().await.code, 1009);
}

#[tokio::test]
async fn slow_consumer_is_closed_not_buffered() {
    let gw = TestGateway::start(TestGatewayOptions {
        max_buffered_bytes: Some(64 * 1024),
        ..TestGatewayOptions::default()
    })
    .await;
    let raw = connected(&gw, ALL).await;
    assert_eq!(gw.state.connection_count(), 1);
    // Never read: the socket buffers fill, then the outbound queue hits its cap.
    let payload = json!({ "blob": "x".repeat(16 * 1024) });
    let gone = tokio::time::timeout(HANG_GUARD, async {
        loop {
            gw.state.broadcast(&TestEvent(payload.clone()));
            if gw.state.connection_count() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    assert!(gone.is_ok(), "slow consumer was never dropped");
    drop(raw);
}

#[tokio::test]
async fn shutdown_sends_event_then_1012() {
    let gw = TestGateway::start_default().await;
    let mut raw = connected(&gw, ALL).await;
    let stopping = tokio::spawn(gw.stop());
    let f = raw.next().await.expect("shutdown event");
    assert_eq!(f["event"], "shutdown", "{f}");
    assert_eq!(f["payload"]["reason"], "gateway stopping");
    assert!(f["payload"].get("restartExpectedMs").is_none());
    raw.assert_closed(1012, "gateway shutting down").await;
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn requested_restart_says_service_restart() {
    let gw = TestGateway::start_default().await;
    let mut raw = connected(&gw, ALL).await;
    gw.state.request_shutdown(ShutdownPlan {
        reason: "config change".into(),
        restart_expected_ms: Some(1500),
    });
    let f = raw.next().await.expect("shutdown event");
    assert_eq!(f["event"], "shutdown");
    assert_eq!(
        f["payload"],
        json!({"reason":"config change","restartExpectedMs":1500})
    );
    raw.assert_closed(1012, "service restart").await;
}

async fn http_get(port: u16, path: &str) -> (u16, Value) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(HANG_GUARD, s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(buf).unwrap();
    let status: u16 = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn http_probes_on_the_same_port() {
    let gw = TestGateway::start_default().await;
    for path in ["/health", "/healthz"] {
        assert_eq!(
            http_get(gw.port, path).await,
            (200, json!({"ok":true,"status":"live"}))
        );
    }
    for path in ["/ready", "/readyz"] {
        let (code, body) = http_get(gw.port, path).await;
        assert_eq!(code, 200);
        assert_eq!(body["ready"], true);
        assert_eq!(body["failing"], json!([]));
    }
    let (code, body) = http_get(gw.port, "/startupz").await;
    assert_eq!(code, 200);
    assert_eq!(body["status"], "started");
    assert!(body["version"].is_string());
    assert_eq!(http_get(gw.port, "/nope.js").await.0, 404);
}

// ---- the client library against the real gateway ----

use openclaw_rs_client::{Client, ClientError, ClientOptions, Reconnect, Status};

fn client_opts(gw: &TestGateway) -> ClientOptions {
    let mut o = ClientOptions::new(gw.url.clone());
    o.token = gw.token.clone();
    o
}

#[tokio::test]
async fn client_correlates_concurrent_requests() {
    let gw = TestGateway::start(TestGatewayOptions {
        extra_methods: gate_methods(),
        ..TestGatewayOptions::default()
    })
    .await;
    let client = Client::connect(client_opts(&gw)).await.unwrap();
    assert_eq!(client.hello().kind, "hello-ok");
    let blocked = tokio::spawn({
        let c = client.clone();
        async move { c.request("test.wait", json!({})).await }
    });
    // Answered while `test.wait` is still pending on the same connection.
    let h = client.request("health", json!({})).await.unwrap();
    assert_eq!(h["ok"], true);
    assert!(!blocked.is_finished());
    client.request("test.release", json!({})).await.unwrap();
    let r = tokio::time::timeout(HANG_GUARD, blocked)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(r["released"], true);
    let err = client.request("nope", json!({})).await.unwrap_err();
    assert_eq!(err.error_shape().unwrap().message, "unknown method: nope");
    client.close().await;
}

#[tokio::test]
async fn client_exposes_handshake_refusal() {
    let gw = TestGateway::start_default().await;
    let mut o = client_opts(&gw);
    o.token = Some("wrong".into());
    let err = Client::connect(o).await.unwrap_err();
    assert!(matches!(err, ClientError::Handshake { .. }), "{err}");
    assert_eq!(err.detail_code(), Some("AUTH_TOKEN_MISMATCH"));
    assert_eq!(err.close_info().unwrap().code, 1008);
}

#[tokio::test]
async fn client_receives_events_and_close() {
    let gw = TestGateway::start_default().await;
    let client = Client::connect(client_opts(&gw)).await.unwrap();
    let mut events = client.events();
    gw.state.broadcast(&TestEvent(json!({"hello": 1})));
    let ev = tokio::time::timeout(HANG_GUARD, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev.event, "presence");
    assert_eq!(ev.seq, Some(1));
    gw.stop().await.unwrap();
    let ev = tokio::time::timeout(HANG_GUARD, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev.event, "shutdown");
    let mut status = client.status();
    let s = tokio::time::timeout(
        HANG_GUARD,
        status.wait_for(|s| matches!(s, Status::Closed(_))),
    )
    .await
    .unwrap()
    .unwrap()
    .clone();
    assert_eq!(
        s,
        Status::Closed(Some(openclaw_rs_client::CloseInfo {
            code: 1012,
            reason: "gateway shutting down".into()
        }))
    );
    let err = client.request("health", json!({})).await.unwrap_err();
    assert!(matches!(err, ClientError::Closed(_)), "{err}");
}

#[tokio::test]
async fn client_reconnects_after_gateway_restart() {
    let auth = SharedAuth::token("fixed-token-for-reconnect");
    let gw = TestGateway::start(TestGatewayOptions {
        auth: Some(auth.clone()),
        ..TestGatewayOptions::default()
    })
    .await;
    let port = gw.port;
    let mut o = client_opts(&gw);
    o.reconnect = Some(Reconnect {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(200),
    });
    let client = Client::connect(o).await.unwrap();
    let first_boot = client.hello().server.boot_id.clone();
    let mut status = client.status();
    gw.stop().await.unwrap();
    tokio::time::timeout(
        HANG_GUARD,
        status.wait_for(|s| matches!(s, Status::Reconnecting(_))),
    )
    .await
    .unwrap()
    .unwrap();
    let gw2 = TestGateway::start(TestGatewayOptions {
        auth: Some(auth),
        port: Some(port),
        ..TestGatewayOptions::default()
    })
    .await;
    tokio::time::timeout(HANG_GUARD, status.wait_for(|s| *s == Status::Connected))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(client.hello().server.boot_id, first_boot);
    assert_eq!(
        client.request("health", json!({})).await.unwrap()["ok"],
        true
    );
    assert_eq!(gw2.state.connection_count(), 1);
}

// ---- the binaries: `openclaw gateway start/status/call/stop`, `gateway` + SIGTERM ----

use openclaw_rs_test_support::gateway::{bin_path, free_port};
use std::process::{Command, Output};

/// A CLI invocation isolated from the caller's environment.
fn openclaw(args: &[&str]) -> Output {
    let mut cmd = Command::new(bin_path("openclaw"));
    cmd.args(args);
    for k in [
        "OPENCLAW_STATE_DIR",
        "OPENCLAW_CONFIG_PATH",
        "OPENCLAW_GATEWAY_PORT",
        "OPENCLAW_GATEWAY_TOKEN",
        "OPENCLAW_GATEWAY_PASSWORD",
        "OPENCLAW_GATEWAY_URL",
    ] {
        cmd.env_remove(k);
    }
    cmd.output().expect("run openclaw")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Stops the background gateway of a state dir even when an assertion fails.
struct StopOnDrop(String);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = openclaw(&["gateway", "stop", "--state-dir", &self.0]);
    }
}

#[test]
fn cli_gateway_start_status_call_stop() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap().to_owned();
    let port = free_port().to_string();
    let sd = ["--state-dir", state.as_str()];

    let out = openclaw(&[&["gateway", "status"][..], &sd].concat());
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(3), "status when down: {stdout}");
    assert!(stdout.contains("openclaw gateway start"), "{stdout}");

    let out = openclaw(&[&["gateway", "start", "--port", &port][..], &sd].concat());
    let _guard = StopOnDrop(state.clone());
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "start: {stdout}{stderr}");
    assert!(stdout.contains("gateway started"), "{stdout}");
    assert!(
        stdout.contains(&format!("ws://127.0.0.1:{port}")),
        "{stdout}"
    );

    // A second start reports the running one.
    let out = openclaw(&[&["gateway", "start", "--port", &port][..], &sd].concat());
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(stdout.contains("already running"), "{stdout}");

    let out = openclaw(&[&["gateway", "status", "--json"][..], &sd].concat());
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let status: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["running"], true);
    assert_eq!(status["url"], format!("ws://127.0.0.1:{port}"));
    assert_eq!(status["authMode"], "token");
    assert_eq!(status["rpc"]["ok"], true, "{status}");
    assert!(status["pid"].as_u64().unwrap() > 0);
    assert!(status["connections"].as_u64().unwrap() >= 1);
    assert!(status["version"].is_string());

    let out = openclaw(&[&["gateway", "status"][..], &sd].concat());
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(
        stdout.contains("gateway running") && stdout.contains("auth mode:   token"),
        "{stdout}"
    );

    // The generated token is private and lets the CLI in without flags.
    let token_path = dir.path().join("gateway.token");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&token_path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let token = std::fs::read_to_string(&token_path)
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(token.len(), 64, "32 random bytes as hex: {token}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");

    let out = openclaw(&[&["gateway", "call", "health", "--json"][..], &sd].concat());
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let health: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(health["ok"], true);

    let url = format!("ws://127.0.0.1:{port}");
    let out = openclaw(&[
        "gateway", "call", "status", "--url", &url, "--token", &token,
    ]);
    assert!(out.status.success(), "{:?}", text(&out));

    let out = openclaw(&[&["health"][..], &sd].concat());
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(stdout.contains("gateway healthy"), "{stdout}");

    // Wrong token: the error says where the right one lives.
    let out = openclaw(&[
        "gateway",
        "call",
        "health",
        "--url",
        &url,
        "--token",
        "wrong",
        "--state-dir",
        &state,
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("AUTH_TOKEN_MISMATCH"), "{stderr}");
    assert!(
        stderr.contains("gateway.token") && stderr.contains("OPENCLAW_GATEWAY_TOKEN"),
        "{stderr}"
    );

    // Server-side errors and usage errors.
    let out = openclaw(&[&["gateway", "call", "no.such.method"][..], &sd].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("unknown method: no.such.method"));
    let out = openclaw(&[&["gateway", "call", "health", "--params", "{nope"][..], &sd].concat());
    assert_eq!(out.status.code(), Some(64), "{:?}", text(&out));

    let out = openclaw(&[&["gateway", "stop"][..], &sd].concat());
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("gateway stopped"), "{stdout}");
    let out = openclaw(&[&["gateway", "status"][..], &sd].concat());
    assert_eq!(out.status.code(), Some(3));
    let out = openclaw(&[&["health"][..], &sd].concat());
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out).1.contains("openclaw gateway start"));

    let log = std::fs::read_to_string(dir.path().join("logs/gateway.log")).unwrap();
    assert!(log.contains("listening"), "{log}");
    assert!(!log.contains(&token), "the token leaked into the log");
}

#[test]
fn cli_refuses_lan_without_auth() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin_path("gateway"))
        .args([
            "--bind",
            "lan",
            "--auth",
            "none",
            "--port",
            "0",
            "--state-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to bind"));
}

#[tokio::test]
async fn gateway_binary_sigterm_sends_shutdown_and_1012() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = tokio::process::Command::new(bin_path("gateway"))
        .args([
            "--port",
            &port.to_string(),
            "--token",
            "sigterm-token",
            "--state-dir",
        ])
        .arg(dir.path())
        .env_remove("OPENCLAW_GATEWAY_TOKEN")
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("ws://127.0.0.1:{port}");
    let mut opts = ClientOptions::new(url);
    opts.token = Some("sigterm-token".into());
    let client = tokio::time::timeout(HANG_GUARD, async {
        loop {
            match Client::connect(opts.clone()).await {
                Ok(c) => return c,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await
    .expect("gateway binary never accepted a connection");
    let mut events = client.events();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().unwrap().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let ev = tokio::time::timeout(HANG_GUARD, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev.event, "shutdown");
    let mut st = client.status();
    let closed = tokio::time::timeout(HANG_GUARD, st.wait_for(|s| matches!(s, Status::Closed(_))))
        .await
        .unwrap()
        .unwrap()
        .clone();
    assert_eq!(
        closed,
        Status::Closed(Some(openclaw_rs_client::CloseInfo {
            code: 1012,
            reason: "gateway shutting down".into()
        }))
    );
    let exit = tokio::time::timeout(HANG_GUARD, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit}");
}

#[tokio::test]
async fn preauth_flood_beyond_the_read_budget_is_cut_off() {
    let gw = TestGateway::start_default().await;
    let mut raw = Raw::open(&gw.url).await;
    // One frame far beyond the pre-auth budget: the gateway stops reading and closes.
    let pad = "a".repeat(400 * 1024);
    let _ = raw
        .ws
        .send(Message::text(format!(
            r#"{{"type":"req","id":"1","method":"connect","params":{{"pad":"{pad}"}}}}"#
        )))
        .await;
    raw.assert_closed(1009, "preauth payload too large").await;
    assert_eq!(gw.state.connection_count(), 0);
}

#[tokio::test]
async fn oversized_http_head_gets_431() {
    let gw = TestGateway::start_default().await;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", gw.port))
        .await
        .unwrap();
    let big = "x".repeat(20 * 1024);
    let _ = s
        .write_all(format!("GET /healthz HTTP/1.1\r\nX-Big: {big}\r\n\r\n").as_bytes())
        .await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(HANG_GUARD, s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
}

#[tokio::test]
async fn idle_preauth_sockets_are_capped_and_the_oldest_idle_one_makes_room() {
    let gw = TestGateway::start(TestGatewayOptions {
        max_preauth_connections: Some(3),
        ..TestGatewayOptions::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(Raw::open(&gw.url).await);
    }
    assert_eq!(gw.state.preauth_count(), 3);
    // A fourth socket takes the place of the oldest one that has not sent `connect`: that one
    // is closed with 1013 (try again later), the newcomer authenticates.
    let mut fourth = Raw::open(&gw.url).await;
    idle[0]
        .assert_closed(
            1013,
            "gateway busy: too many connections have not authenticated; retry",
        )
        .await;
    assert_eq!(gw.state.admission_stats().evicted, 1);
    let res = fourth.connect(cli_params(gw.token.as_deref(), ALL)).await;
    assert_eq!(res["ok"], true);
    // Completing a handshake frees a slot: the pool holds the two remaining idle sockets.
    assert_eq!(gw.state.preauth_count(), 2);
    let res = idle[1].connect(cli_params(gw.token.as_deref(), ALL)).await;
    assert_eq!(res["ok"], true);
    assert_eq!(gw.state.preauth_count(), 1);
    assert_eq!(gw.state.admission_stats().refused, 0);
}

#[test]
fn second_gateway_on_the_same_state_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap().to_owned();
    let out = openclaw(&["gateway", "start", "--port", "0", "--state-dir", &state]);
    let _guard = StopOnDrop(state.clone());
    assert!(out.status.success(), "{:?}", text(&out));
    let out = Command::new(bin_path("gateway"))
        .args(["--port", "0", "--state-dir", &state])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("already running"), "{stderr}");
    assert!(stderr.contains("openclaw gateway stop"), "{stderr}");
    // Status against a URL where nothing listens: not running, exit 3.
    let url = format!("ws://127.0.0.1:{}", free_port());
    let out = openclaw(&["gateway", "status", "--url", &url, "--state-dir", &state]);
    assert_eq!(out.status.code(), Some(3), "{:?}", text(&out));
}

#[tokio::test]
async fn client_request_timeout_leaves_the_connection_usable() {
    let gw = TestGateway::start(TestGatewayOptions {
        extra_methods: gate_methods(),
        ..TestGatewayOptions::default()
    })
    .await;
    let client = Client::connect(client_opts(&gw)).await.unwrap();
    let err = client
        .request_with_timeout("test.wait", json!({}), Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Timeout(..)), "{err}");
    // The abandoned call's late reply is dropped; the connection keeps working.
    let h = client.request("health", json!({})).await.unwrap();
    assert_eq!(h["ok"], true);
    client.request("test.release", json!({})).await.unwrap();
    assert_eq!(
        client.request("health", json!({})).await.unwrap()["ok"],
        true
    );
}

#[tokio::test]
async fn pings_flow_and_a_silent_peer_is_dropped() {
    let gw = TestGateway::start(TestGatewayOptions {
        ping_interval: Some(Duration::from_millis(100)),
        ..TestGatewayOptions::default()
    })
    .await;
    // A reading client sees pings (and its automatic pongs keep it alive).
    let mut live = connected(&gw, ALL).await;
    let saw_ping = tokio::time::timeout(HANG_GUARD, async {
        loop {
            if let Some(Ok(Message::Ping(_))) = live.ws.next().await {
                return;
            }
        }
    })
    .await;
    assert!(saw_ping.is_ok());
    // A client that never reads never answers pings: it is dropped, the reading one stays.
    let silent = connected(&gw, ALL).await;
    assert_eq!(gw.state.connection_count(), 2);
    let dropped = tokio::time::timeout(HANG_GUARD, async {
        loop {
            // Keep the live client reading (and so ponging).
            let _ = tokio::time::timeout(Duration::from_millis(50), live.ws.next()).await;
            if gw.state.connection_count() == 1 {
                return;
            }
        }
    })
    .await;
    assert!(dropped.is_ok(), "the silent peer was never dropped");
    let res = live.call("p1", "health", json!({})).await;
    assert_eq!(res["ok"], true);
    drop(silent);
}

/// OpenClaw's `agent` method: one request, two responses with its id, `accepted` first and the
/// run's result after it; a retry of a running turn is `in_flight`; `deliver:true` is refused
/// with the reason; `Client::request_final` returns the final reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_answers_accepted_then_final_with_the_same_id() {
    openclaw_rs_test_support::gateway::bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let mut raw = connected(&gw, ALL).await;
    raw.send(json!({"type": "req", "id": "turn-1", "method": "agent",
        "params": {"message": "echo hi-agent", "idempotencyKey": "agent-1"}}))
        .await;
    let first = raw.response().await;
    assert_eq!(first["id"], "turn-1", "{first}");
    assert_eq!(first["payload"]["status"], "accepted", "{first}");
    assert_eq!(first["payload"]["runId"], "agent-1", "{first}");
    assert_eq!(first["payload"]["sessionKey"], "agent:main:main", "{first}");
    let last = raw.response().await;
    assert_eq!(last["id"], "turn-1", "{last}");
    assert_eq!(last["ok"], true, "{last}");
    assert_eq!(last["payload"]["status"], "ok", "{last}");
    assert_eq!(last["payload"]["summary"], "completed", "{last}");
    assert_eq!(
        last["payload"]["result"]["payloads"][0]["text"], "hi-agent\n",
        "{last}"
    );

    // A retry while the first attempt still runs starts nothing.
    raw.send(json!({"type": "req", "id": "slow", "method": "agent",
        "params": {"message": "sleep 1; echo slow", "idempotencyKey": "agent-slow"}}))
        .await;
    assert_eq!(raw.response().await["payload"]["status"], "accepted");
    raw.send(json!({"type": "req", "id": "again", "method": "agent",
        "params": {"message": "sleep 1; echo slow", "idempotencyKey": "agent-slow"}}))
        .await;
    let again = raw.response().await;
    assert_eq!(again["id"], "again", "{again}");
    assert_eq!(again["payload"]["status"], "in_flight", "{again}");
    let slow = raw.response().await;
    assert_eq!(slow["id"], "slow", "{slow}");
    assert_eq!(slow["payload"]["status"], "ok", "{slow}");

    raw.send(json!({"type": "req", "id": "deliver", "method": "agent",
        "params": {"message": "x", "idempotencyKey": "agent-d", "deliver": true}}))
        .await;
    let refused = raw.response().await;
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("deliver"),
        "{refused}"
    );

    let mut o = openclaw_rs_client::ClientOptions::new(gw.url.clone());
    o.token = gw.token.clone();
    o.scopes = vec![scopes::WRITE.into()];
    let c = openclaw_rs_client::Client::connect(o)
        .await
        .expect("client");
    let fin = c
        .request_final(
            "agent",
            json!({"message": "exit 2", "idempotencyKey": "agent-fail"}),
            Duration::from_secs(60),
        )
        .await
        .expect("agent");
    assert_eq!(fin["status"], "error", "{fin}");
    assert_eq!(fin["summary"], "failed", "{fin}");
    assert_eq!(fin["runStatus"], "failed", "{fin}");
    c.close().await;
    gw.stop().await.unwrap();
}
