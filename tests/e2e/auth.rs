//! Auth end to end: device proofs, silent pairing, remote pairing through a trusted proxy,
//! device tokens (issue, heal, rotate, revoke), rate limiting and concurrency, against real
//! in-process gateways on 127.0.0.1:0.
//!
//! Every refusal row of reference §4.3 that concerns auth or devices is checked for its exact
//! error code, message, details code and close code/reason. (The shared-secret rows without a
//! device are in `gateway.rs`.)

use crate::util::{RawClient, WsStream};
use futures_util::{SinkExt, StreamExt};
use openclaw_rs_auth::proof::SignedFields;
use openclaw_rs_auth::{DeviceIdentity, PairingStore};
use openclaw_rs_config::Config;
use openclaw_rs_state::StateDir;
use openclaw_rs_test_support::gateway::{TestGateway, TestGatewayOptions};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const HANG_GUARD: Duration = Duration::from_secs(30);
const ALL: &[&str] = &["operator.read", "operator.write", "operator.admin"];
const PAIRING: &[&str] = &["operator.pairing"];
/// Rotating or revoking another device's token needs admin on top of pairing.
const PAIRING_ADMIN: &[&str] = &["operator.pairing", "operator.admin"];

/// A raw client (a [`RawClient`] whose reads wait up to [`HANG_GUARD`]) with its challenge's
/// nonce and timestamp.
struct Raw {
    client: RawClient,
    nonce: String,
    ts: u64,
}

impl Raw {
    async fn open(url: &str) -> Raw {
        Raw::open_with(url, &[]).await
    }

    async fn open_with(url: &str, headers: &[(&'static str, &str)]) -> Raw {
        let client = RawClient::open(url, headers, HANG_GUARD).await;
        let ch = &client.challenge["payload"];
        Raw {
            nonce: ch["nonce"].as_str().expect("nonce").to_owned(),
            ts: ch["ts"].as_u64().expect("ts"),
            client,
        }
    }

    /// [`RawClient::connect`], callable as `raw.connect(c.params(&raw, ..))`.
    async fn connect(&mut self, params: Value) -> Value {
        self.client.connect(params).await
    }
}

impl std::ops::Deref for Raw {
    type Target = RawClient;
    fn deref(&self) -> &RawClient {
        &self.client
    }
}

impl std::ops::DerefMut for Raw {
    fn deref_mut(&mut self) -> &mut RawClient {
        &mut self.client
    }
}

/// How to build a signed `connect`.
#[derive(Clone)]
struct Connect<'a> {
    client_id: &'a str,
    mode: &'a str,
    role: &'a str,
    scopes: Vec<String>,
    auth: Value,
    signed_at: Option<u64>,
    nonce: Option<String>,
}

impl<'a> Connect<'a> {
    fn cli(auth: Value, scopes: &[&str]) -> Self {
        Connect {
            client_id: "cli",
            mode: "cli",
            role: "operator",
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            auth,
            signed_at: None,
            nonce: None,
        }
    }

    /// Params for `raw`'s challenge, signed by `id` if given.
    fn params(&self, raw: &Raw, id: Option<&DeviceIdentity>) -> Value {
        let mut p = json!({
            "minProtocol": 4, "maxProtocol": 4,
            "client": {"id": self.client_id, "version": "test", "platform": "Linux", "deviceFamily": "Linux", "mode": self.mode},
            "role": self.role, "scopes": self.scopes, "caps": [], "auth": self.auth,
        });
        if let Some(id) = id {
            let token = ["token", "deviceToken", "bootstrapToken"]
                .iter()
                .find_map(|k| self.auth.get(*k).and_then(Value::as_str))
                .unwrap_or("")
                .to_owned();
            let nonce = self.nonce.clone().unwrap_or_else(|| raw.nonce.clone());
            let fields = SignedFields {
                client_id: self.client_id,
                client_mode: self.mode,
                role: self.role,
                scopes: &self.scopes,
                signed_at_ms: self.signed_at.unwrap_or(raw.ts),
                token: &token,
                nonce: &nonce,
                platform: "Linux",
                device_family: "Linux",
            };
            p["device"] = serde_json::to_value(id.prove(&fields)).expect("device json");
        }
        p
    }
}

fn token_auth(gw: &TestGateway) -> Value {
    json!({ "token": gw.token.as_deref().expect("token gateway") })
}

fn identity() -> DeviceIdentity {
    DeviceIdentity::generate(0).expect("identity")
}

/// A loopback operator connection with the shared token and `scopes` (no device).
async fn operator(gw: &TestGateway, scopes: &[&str]) -> Raw {
    let mut raw = Raw::open(&gw.url).await;
    let p = Connect::cli(token_auth(gw), scopes).params(&raw, None);
    let res = raw.connect(p).await;
    assert_eq!(res["ok"], true, "{res}");
    raw
}

/// Connect `id` on loopback with `auth`; returns the response.
async fn device_connect(
    gw: &TestGateway,
    id: &DeviceIdentity,
    auth: Value,
    scopes: &[&str],
) -> (Raw, Value) {
    let mut raw = Raw::open(&gw.url).await;
    let p = Connect::cli(auth, scopes).params(&raw, Some(id));
    let res = raw.connect(p).await;
    (raw, res)
}

/// Expect a refusal with exact code, message, details code, and close.
async fn assert_refused(
    raw: &mut Raw,
    res: &Value,
    code: &str,
    message: &str,
    detail: &str,
    close_reason: &str,
) {
    assert_eq!(res["ok"], false, "{res}");
    assert_eq!(res["error"]["code"], code, "{res}");
    assert_eq!(res["error"]["message"], message, "{res}");
    assert_eq!(res["error"]["details"]["code"], detail, "{res}");
    raw.assert_closed(1008, close_reason).await;
}

/// A §4.3 device-proof row: refused with `INVALID_REQUEST`, `message` as message and close
/// reason, and details exactly `{code, reason}` (`what` names the case in failures).
async fn assert_device_row(
    raw: &mut Raw,
    res: &Value,
    message: &str,
    code: &str,
    reason: &str,
    what: &str,
) {
    assert_eq!(
        res["error"]["details"],
        json!({ "code": code, "reason": reason }),
        "{what}"
    );
    assert_refused(raw, res, "INVALID_REQUEST", message, code, message).await;
}

/// One device-proof row on a fresh gateway: a new device connects on loopback with the shared
/// token and all operator scopes, its signed `connect` made by `tweak` from the default and
/// changed by `tamper` after signing, and is refused as [`assert_device_row`] expects.
async fn device_row(
    what: &str,
    tweak: impl FnOnce(&Raw, Connect<'static>) -> Connect<'static>,
    tamper: impl FnOnce(&mut Value),
    message: &str,
    code: &str,
    reason: &str,
) {
    let gw = TestGateway::start_default().await;
    let id = identity();
    let mut raw = Raw::open(&gw.url).await;
    let c = tweak(&raw, Connect::cli(token_auth(&gw), ALL));
    let mut p = c.params(&raw, Some(&id));
    tamper(&mut p);
    let res = raw.connect(p).await;
    assert_device_row(&mut raw, &res, message, code, reason, what).await;
}

/// The device-token row: a wrong, rotated-away or revoked device token.
async fn assert_device_token_mismatch(raw: &mut Raw, res: &Value) {
    let msg = "unauthorized: device token mismatch (rotate/reissue device token)";
    assert_refused(
        raw,
        res,
        "INVALID_REQUEST",
        msg,
        "AUTH_DEVICE_TOKEN_MISMATCH",
        msg,
    )
    .await;
}

fn proxy_config() -> Config {
    let mut c = Config::default();
    c.gateway.trusted_proxies = vec!["127.0.0.1".into()];
    c
}

async fn proxied_gateway(config: Config) -> TestGateway {
    TestGateway::start(TestGatewayOptions {
        config: Some(config),
        ..TestGatewayOptions::default()
    })
    .await
}

const REMOTE: &[(&str, &str)] = &[("x-forwarded-for", "192.0.2.9")];

// ---- §4.3 device rows -------------------------------------------------------------------

#[tokio::test]
async fn row_bad_signature() {
    device_row(
        "row_bad_signature",
        |_, c| c,
        // Sign something else: the request's scopes no longer match the signed string.
        |p| p["scopes"] = json!(["operator.read"]),
        "device signature invalid",
        "DEVICE_AUTH_SIGNATURE_INVALID",
        "device-signature",
    )
    .await;
}

#[tokio::test]
async fn row_wrong_nonce() {
    device_row(
        "row_wrong_nonce",
        |_, c| Connect {
            nonce: Some("00000000-0000-4000-8000-000000000000".into()),
            ..c
        },
        |_| {},
        "device nonce mismatch",
        "DEVICE_AUTH_NONCE_MISMATCH",
        "device-nonce-mismatch",
    )
    .await;
}

#[tokio::test]
async fn row_blank_nonce() {
    device_row(
        "row_blank_nonce",
        |_, c| Connect {
            nonce: Some("   ".into()),
            ..c
        },
        |_| {},
        "device nonce required",
        "DEVICE_AUTH_NONCE_REQUIRED",
        "device-nonce-missing",
    )
    .await;
}

#[tokio::test]
async fn row_device_id_mismatch_and_garbage_key() {
    let gw = TestGateway::start_default().await;
    let id = identity();
    for tamper in ["id", "key"] {
        let mut raw = Raw::open(&gw.url).await;
        let mut p = Connect::cli(token_auth(&gw), ALL).params(&raw, Some(&id));
        match tamper {
            "id" => p["device"]["id"] = json!("0".repeat(64)),
            _ => p["device"]["publicKey"] = json!("not-a-key!"),
        }
        let res = raw.connect(p).await;
        assert_device_row(
            &mut raw,
            &res,
            "device identity mismatch",
            "DEVICE_AUTH_DEVICE_ID_MISMATCH",
            "device-id-mismatch",
            tamper,
        )
        .await;
    }
}

#[tokio::test]
async fn row_signature_ten_minutes_old() {
    device_row(
        "row_signature_ten_minutes_old",
        |raw, c| Connect {
            signed_at: Some(raw.ts - 600_000),
            ..c
        },
        |_| {},
        "device signature expired",
        "DEVICE_AUTH_SIGNATURE_EXPIRED",
        "device-signature-stale",
    )
    .await;
}

#[tokio::test]
async fn row_bad_revoked_and_rotated_device_token() {
    let gw = TestGateway::start_default().await;
    let id = identity();
    let (_, res) = device_connect(&gw, &id, token_auth(&gw), ALL).await;
    let t1 = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .expect("token")
        .to_owned();

    // A wrong token.
    let (mut raw, res) =
        device_connect(&gw, &id, json!({"deviceToken": "x".repeat(43)}), ALL).await;
    assert_device_token_mismatch(&mut raw, &res).await;
    let d = &res["error"]["details"];
    assert_eq!(d["authReason"], "device_token_mismatch");
    assert_eq!(d["canRetryWithDeviceToken"], false);
    assert_eq!(d["recommendedNextStep"], "update_auth_credentials");
    assert_eq!(d["fixCommand"], "openclaw doctor --token <gateway-token>");

    // Rotated from another connection (delivery withheld): the old token stops at once.
    let mut admin = operator(&gw, PAIRING_ADMIN).await;
    let r = admin
        .call(
            "r1",
            "device.token.rotate",
            json!({"deviceId": id.device_id(), "role": "operator"}),
        )
        .await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["payload"]["tokenDelivery"], "withheld-cross-device");
    assert!(r["payload"].get("token").is_none(), "{r}");
    let (mut raw, res) = device_connect(&gw, &id, json!({"deviceToken": t1}), ALL).await;
    assert_device_token_mismatch(&mut raw, &res).await;

    // Heal with the shared token, then revoke: the fresh token fails the same way.
    let (_, res) = device_connect(&gw, &id, token_auth(&gw), ALL).await;
    let t2 = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .expect("fresh token")
        .to_owned();
    let r = admin
        .call(
            "r2",
            "device.token.revoke",
            json!({"deviceId": id.device_id(), "role": "operator"}),
        )
        .await;
    assert!(r["payload"]["revokedAtMs"].is_u64(), "{r}");
    let (mut raw, res) = device_connect(&gw, &id, json!({"deviceToken": t2}), ALL).await;
    assert_eq!(res["error"]["details"]["tokenReason"], "token-revoked");
    assert_device_token_mismatch(&mut raw, &res).await;
}

#[tokio::test]
async fn row_remote_unpaired_device_then_approve() {
    let gw = proxied_gateway(proxy_config()).await;
    let mut admin = operator(&gw, PAIRING_ADMIN).await;
    let id = identity();
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let res = raw
        .connect(Connect::cli(token_auth(&gw), &["operator.read"]).params(&raw, Some(&id)))
        .await;
    let d = res["error"]["details"].clone();
    let rid = d["requestId"].as_str().expect("requestId").to_owned();
    let msg = "pairing required: device is not approved yet";
    assert_eq!(res["error"]["code"], "NOT_PAIRED");
    assert_eq!(res["error"]["message"], msg);
    assert_eq!(d["code"], "PAIRING_REQUIRED");
    assert_eq!(d["reason"], "not-paired");
    assert_eq!(
        d["remediationHint"],
        "Approve this device from the pending pairing requests."
    );
    assert_eq!(d["deviceId"], id.device_id());
    assert_eq!(d["requestedRole"], "operator");
    assert_eq!(d["requestedScopes"], json!(["operator.read"]));
    raw.assert_closed(1008, &format!("{msg} (requestId: {rid})"))
        .await;

    // The operator sees the request as an event and in the list.
    let ev = admin.event("device.pair.requested").await;
    assert_eq!(ev["payload"]["requestId"], rid.as_str());
    assert_eq!(ev["payload"]["remoteIp"], "192.0.2.9");
    assert_eq!(ev["payload"]["isRepair"], false);
    assert!(ev["seq"].is_u64());
    let list = admin.call("l1", "device.pair.list", json!({})).await;
    assert_eq!(
        list["payload"]["pending"][0]["requestId"],
        rid.as_str(),
        "{list}"
    );

    // Reconnecting refreshes the same request.
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let res = raw
        .connect(Connect::cli(token_auth(&gw), &["operator.read"]).params(&raw, Some(&id)))
        .await;
    assert_eq!(res["error"]["details"]["requestId"], rid.as_str());

    let ok = admin
        .call("a1", "device.pair.approve", json!({"requestId": rid}))
        .await;
    assert_eq!(ok["payload"]["device"]["approvedVia"], "owner", "{ok}");
    assert_eq!(ok["payload"]["device"]["deviceId"], id.device_id());
    let ev = admin.event("device.pair.resolved").await;
    assert_eq!(ev["payload"]["decision"], "approved");

    // The next connect gets a token, and the token alone works from remote.
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let res = raw
        .connect(Connect::cli(token_auth(&gw), &["operator.read"]).params(&raw, Some(&id)))
        .await;
    assert_eq!(res["ok"], true, "{res}");
    let token = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .expect("deviceToken")
        .to_owned();
    assert_eq!(token.len(), 43);
    assert_eq!(res["payload"]["auth"]["scopes"], json!(["operator.read"]));
    assert!(res["payload"]["auth"]["issuedAtMs"].is_u64());
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let res = raw
        .connect(
            Connect::cli(json!({"deviceToken": token}), &["operator.read"]).params(&raw, Some(&id)),
        )
        .await;
    assert_eq!(res["payload"]["auth"]["method"], "device-token", "{res}");
    assert_eq!(res["payload"]["auth"]["deviceToken"], token.as_str());

    // Remote, stale token, no shared secret: the mismatch names the remote fix.
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let res = raw
        .connect(
            Connect::cli(json!({"deviceToken": "stale"}), &["operator.read"])
                .params(&raw, Some(&id)),
        )
        .await;
    assert_eq!(
        res["error"]["details"]["code"],
        "AUTH_DEVICE_TOKEN_MISMATCH"
    );
    assert_eq!(
        res["error"]["details"]["fixCommand"],
        "openclaw doctor --url <gateway-url> --token <gateway-token>"
    );
}

#[tokio::test]
async fn reject_and_remove() {
    let gw = proxied_gateway(proxy_config()).await;
    let mut admin = operator(&gw, PAIRING_ADMIN).await;
    let id = identity();
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let res = raw
        .connect(Connect::cli(token_auth(&gw), &["operator.read"]).params(&raw, Some(&id)))
        .await;
    let rid = res["error"]["details"]["requestId"]
        .as_str()
        .expect("rid")
        .to_owned();
    let r = admin
        .call("j1", "device.pair.reject", json!({"requestId": rid}))
        .await;
    assert_eq!(r["payload"]["decision"], "rejected", "{r}");
    let again = admin
        .call("j2", "device.pair.reject", json!({"requestId": rid}))
        .await;
    assert_eq!(again["error"]["code"], "INVALID_REQUEST");
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("unknown requestId"),
        "{again}"
    );

    // A local device, paired silently, then removed: its live connection is closed.
    let local = identity();
    let (mut live, res) = device_connect(&gw, &local, token_auth(&gw), ALL).await;
    assert_eq!(res["ok"], true);
    let r = admin
        .call(
            "m1",
            "device.pair.remove",
            json!({"deviceId": local.device_id()}),
        )
        .await;
    assert_eq!(r["payload"]["deviceId"], local.device_id(), "{r}");
    assert_eq!(live.closed().await.code, 4006);
    let r = admin
        .call(
            "m2",
            "device.pair.remove",
            json!({"deviceId": local.device_id()}),
        )
        .await;
    assert_eq!(r["ok"], false);
    // Pairing alone may not rotate another device's token.
    let mut pairer = operator(&gw, PAIRING).await;
    let r = pairer
        .call(
            "p",
            "device.token.rotate",
            json!({"deviceId": id.device_id(), "role": "operator"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "FORBIDDEN", "{r}");
    assert_eq!(r["error"]["details"]["missingScope"], "operator.admin");
    // Missing scope.
    let mut reader = operator(&gw, &["operator.read"]).await;
    let r = reader.call("x", "device.pair.list", json!({})).await;
    assert_eq!(r["error"]["code"], "FORBIDDEN", "{r}");
}

// ---- Locality and labels -------------------------------------------------------------------

#[tokio::test]
async fn remote_shared_token_without_device_gets_no_scopes() {
    let gw = proxied_gateway(proxy_config()).await;
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let res = raw
        .connect(Connect::cli(token_auth(&gw), ALL).params(&raw, None))
        .await;
    assert_eq!(res["ok"], true, "{res}");
    assert_eq!(res["payload"]["auth"]["scopes"], json!([]));
    // The same from loopback keeps the scopes; a probe gets none.
    let mut raw = Raw::open(&gw.url).await;
    let res = raw
        .connect(Connect::cli(token_auth(&gw), ALL).params(&raw, None))
        .await;
    assert_eq!(res["payload"]["auth"]["scopes"], json!(ALL));
    let mut raw = Raw::open(&gw.url).await;
    let c = Connect {
        mode: "probe",
        ..Connect::cli(token_auth(&gw), ALL)
    };
    let res = raw.connect(c.params(&raw, None)).await;
    assert_eq!(res["payload"]["auth"]["scopes"], json!([]));
}

#[tokio::test]
async fn untrusted_forwarding_header_is_remote() {
    // No trusted proxies: a loopback peer that carries X-Forwarded-For is not local.
    let gw = TestGateway::start_default().await;
    let id = identity();
    let mut raw = Raw::open_with(&gw.url, &[("x-forwarded-for", "127.0.0.1")]).await;
    let res = raw
        .connect(Connect::cli(token_auth(&gw), ALL).params(&raw, Some(&id)))
        .await;
    assert_eq!(res["error"]["details"]["code"], "PAIRING_REQUIRED", "{res}");
    let mut raw = Raw::open_with(&gw.url, &[("forwarded", "for=127.0.0.1")]).await;
    let res = raw
        .connect(Connect::cli(token_auth(&gw), ALL).params(&raw, None))
        .await;
    assert_eq!(res["payload"]["auth"]["scopes"], json!([]), "{res}");
}

#[tokio::test]
async fn backend_label_gains_nothing() {
    // OpenClaw #72418: a loopback client claiming gateway-client/backend must prove something.
    let gw = proxied_gateway(proxy_config()).await;
    let mut raw = Raw::open(&gw.url).await;
    let c = Connect {
        client_id: "gateway-client",
        mode: "backend",
        ..Connect::cli(json!({}), ALL)
    };
    let res = raw.connect(c.params(&raw, None)).await;
    assert_refused(
        &mut raw,
        &res,
        "NOT_PAIRED",
        "device identity required",
        "DEVICE_IDENTITY_REQUIRED",
        "device identity required",
    )
    .await;
    // With the token but from remote, it is a remote device-less client like any other.
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let c = Connect {
        client_id: "gateway-client",
        mode: "backend",
        ..Connect::cli(token_auth(&gw), ALL)
    };
    let res = raw.connect(c.params(&raw, None)).await;
    assert_eq!(res["payload"]["auth"]["scopes"], json!([]), "{res}");
}

// ---- Seeds -----------------------------------------------------------------------------------

/// Seed 004: an external CLI on loopback with the valid shared token and a brand-new identity
/// is paired silently and succeeds on its first connect.
#[tokio::test]
async fn seed_004_new_identity_on_loopback_first_connect_succeeds() {
    let gw = TestGateway::start_default().await;
    let id = identity();
    let (mut raw, res) = device_connect(&gw, &id, token_auth(&gw), ALL).await;
    assert_eq!(res["ok"], true, "{res}");
    let auth = &res["payload"]["auth"];
    assert_eq!(auth["method"], "token");
    assert_eq!(auth["scopes"], json!(ALL));
    assert_eq!(
        auth["deviceToken"].as_str().map(str::len),
        Some(43),
        "{auth}"
    );
    assert!(auth["issuedAtMs"].is_u64());
    let h = raw.call("h1", "health", json!({})).await;
    assert_eq!(h["ok"], true, "{h}");
    // Paired silently, on disk, with only a hash of the token.
    let store = PairingStore::open(&StateDir::new(gw.state_dir.path())).expect("store");
    let doc = store.snapshot();
    assert_eq!(doc.paired[id.device_id()].approved_via, "silent");
    let text = std::fs::read_to_string(store.path()).expect("store file");
    assert!(
        !text.contains(auth["deviceToken"].as_str().unwrap_or("-")),
        "plaintext token on disk"
    );
}

/// Seed 001: a loopback client whose stored device token is stale, and that also proves the
/// shared token, gets a fresh device token in hello-ok instead of a refusal. No restart.
#[tokio::test]
async fn seed_001_stale_device_token_heals_with_shared_token() {
    let gw = TestGateway::start_default().await;
    let id = identity();
    let (_, res) = device_connect(&gw, &id, token_auth(&gw), ALL).await;
    let stale = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .expect("t1")
        .to_owned();
    // The token goes stale behind the client's back (rotated elsewhere).
    let mut admin = operator(&gw, PAIRING_ADMIN).await;
    let r = admin
        .call(
            "r",
            "device.token.rotate",
            json!({"deviceId": id.device_id(), "role": "operator"}),
        )
        .await;
    assert_eq!(r["ok"], true, "{r}");

    // What a client holding both sends: shared token + its (stale) device token.
    let both = json!({"token": gw.token.as_deref().expect("token"), "deviceToken": stale});
    let (mut raw, res) = device_connect(&gw, &id, both, ALL).await;
    assert_eq!(res["ok"], true, "{res}");
    let fresh = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .expect("fresh")
        .to_owned();
    assert_ne!(fresh, stale);
    assert_eq!(raw.call("h", "health", json!({})).await["ok"], true);
    // The fresh token works alone; the stale one still does not.
    let (_, res) = device_connect(&gw, &id, json!({"deviceToken": fresh}), ALL).await;
    assert_eq!(res["payload"]["auth"]["method"], "device-token", "{res}");
    let (_, res) = device_connect(&gw, &id, json!({"deviceToken": stale}), ALL).await;
    assert_eq!(
        res["error"]["details"]["code"],
        "AUTH_DEVICE_TOKEN_MISMATCH"
    );
}

/// Rotating the shared secret retires the device tokens it earned: a connection on such a token
/// closes with 4001, and a device paired silently with the old token cannot come back with its
/// device token alone
/// (`tokenReason: "issuer-generation-stale"`), and heals at once with the new shared token. A
/// token is reused across connects only while the secret is the same.
#[tokio::test]
async fn shared_secret_rotation_retires_the_device_tokens_it_earned() {
    let token_config = |t: &str| {
        let mut c = Config::default();
        c.gateway.auth.mode = Some(openclaw_rs_config::AuthMode::Token);
        c.gateway.auth.token = Some(t.into());
        c
    };
    let gw = TestGateway::start(TestGatewayOptions {
        auth: Some(openclaw_rs_gateway::SharedAuth::token("generation-one")),
        config: Some(token_config("generation-one")),
        ..TestGatewayOptions::default()
    })
    .await;
    let id = identity();
    let (_, res) = device_connect(&gw, &id, json!({"token": "generation-one"}), ALL).await;
    assert_eq!(res["ok"], true, "{res}");
    let earned = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .expect("deviceToken")
        .to_owned();
    let (_, res) = device_connect(&gw, &id, json!({"token": "generation-one"}), ALL).await;
    assert_eq!(
        res["payload"]["auth"]["deviceToken"], earned,
        "same secret, same token: {res}"
    );
    let (mut on_earned, res) = device_connect(&gw, &id, json!({"deviceToken": earned}), ALL).await;
    assert_eq!(res["payload"]["auth"]["method"], "device-token", "{res}");

    // Rotate the shared token (a hot edit of gateway.auth.token).
    let config = gw.state_dir.path().join("openclaw.json");
    std::fs::write(
        &config,
        "{ gateway: { auth: { mode: 'token', token: 'generation-two' } } }",
    )
    .unwrap();
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    loop {
        let mut raw = Raw::open(&gw.url).await;
        let p =
            Connect::cli(json!({"token": "generation-two"}), &["operator.read"]).params(&raw, None);
        if raw.connect(p).await["ok"] == true {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new shared token never took effect"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The connection that came in on the earned token is closed like the old-secret ones.
    on_earned.assert_closed(4001, "gateway auth changed").await;
    let (mut raw, res) = device_connect(&gw, &id, json!({"deviceToken": earned}), ALL).await;
    assert_eq!(
        res["error"]["details"]["tokenReason"], "issuer-generation-stale",
        "{res}"
    );
    assert_device_token_mismatch(&mut raw, &res).await;
    // The new shared token heals it: a fresh device token, which then works alone.
    let (_, res) = device_connect(&gw, &id, json!({"token": "generation-two"}), ALL).await;
    assert_eq!(res["ok"], true, "{res}");
    let fresh = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .expect("fresh deviceToken")
        .to_owned();
    assert_ne!(fresh, earned);
    let (_, res) = device_connect(&gw, &id, json!({"deviceToken": fresh}), ALL).await;
    assert_eq!(res["payload"]["auth"]["method"], "device-token", "{res}");
    // The store records the issuer by fingerprint only, never the secret.
    let stored = std::fs::read_to_string(gw.state_dir.path().join("devices/pairing.json"))
        .expect("pairing store");
    assert!(stored.contains("shared-gateway-auth"), "{stored}");
    assert!(
        !stored.contains("generation-two"),
        "the secret leaked into the store"
    );
    gw.stop().await.unwrap();
}

#[tokio::test]
async fn rotate_delivers_in_band_to_the_same_device_only() {
    let gw = TestGateway::start_default().await;
    let id = identity();
    let (_, res) = device_connect(
        &gw,
        &id,
        token_auth(&gw),
        &["operator.pairing", "operator.read"],
    )
    .await;
    let t1 = res["payload"]["auth"]["deviceToken"]
        .as_str()
        .expect("t1")
        .to_owned();
    let (mut me, res) =
        device_connect(&gw, &id, json!({"deviceToken": t1}), &["operator.pairing"]).await;
    assert_eq!(res["ok"], true, "{res}");
    let r = me
        .call(
            "r",
            "device.token.rotate",
            json!({"deviceId": id.device_id(), "role": "operator"}),
        )
        .await;
    assert_eq!(r["payload"]["tokenDelivery"], "in-band", "{r}");
    let t2 = r["payload"]["token"]
        .as_str()
        .expect("in-band token")
        .to_owned();
    assert_eq!(
        r["payload"]["scopes"],
        json!(["operator.pairing", "operator.read"])
    );
    let (_, res) = device_connect(&gw, &id, json!({"deviceToken": t2}), &["operator.read"]).await;
    assert_eq!(res["ok"], true, "{res}");
    let (_, res) = device_connect(&gw, &id, json!({"deviceToken": t1}), &["operator.read"]).await;
    assert_eq!(res["ok"], false);
    // Asking for more than the token carries: scope mismatch.
    let (_, res) = device_connect(&gw, &id, json!({"deviceToken": t2}), &["operator.admin"]).await;
    assert_eq!(
        res["error"]["details"]["code"], "AUTH_DEVICE_TOKEN_SCOPE_MISMATCH",
        "{res}"
    );
    assert_eq!(
        res["error"]["message"],
        "unauthorized: device token scope mismatch (re-pair or approve scope upgrade)"
    );
}

#[tokio::test]
async fn node_role_device_pairs_with_no_scopes() {
    let gw = proxied_gateway(proxy_config()).await;
    let id = identity();
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let c = Connect {
        client_id: "node-host",
        mode: "node",
        role: "node",
        ..Connect::cli(token_auth(&gw), &[])
    };
    let res = raw.connect(c.params(&raw, Some(&id))).await;
    assert_eq!(res["error"]["details"]["requestedRole"], "node", "{res}");
    let rid = res["error"]["details"]["requestId"]
        .as_str()
        .expect("rid")
        .to_owned();
    let mut admin = operator(&gw, PAIRING_ADMIN).await;
    assert_eq!(
        admin
            .call("a", "device.pair.approve", json!({"requestId": rid}))
            .await["ok"],
        true
    );
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let res = raw.connect(c.params(&raw, Some(&id))).await;
    assert_eq!(res["payload"]["auth"]["role"], "node", "{res}");
    assert_eq!(res["payload"]["auth"]["scopes"], json!([]));
    assert!(res["payload"]["auth"]["deviceToken"].is_string());
}

#[tokio::test]
async fn failed_auth_is_rate_limited_per_client_address() {
    let mut c = proxy_config();
    c.gateway.auth.rate_limit.max_attempts = Some(3);
    c.gateway.auth.rate_limit.lockout_ms = Some(60_000);
    let gw = proxied_gateway(c).await;
    for _ in 0..3 {
        let mut raw = Raw::open_with(&gw.url, REMOTE).await;
        let res = raw
            .connect(Connect::cli(json!({"token": "wrong"}), ALL).params(&raw, None))
            .await;
        assert_eq!(
            res["error"]["details"]["code"], "AUTH_TOKEN_MISMATCH",
            "{res}"
        );
    }
    // Locked out, even with the right token.
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let res = raw
        .connect(Connect::cli(token_auth(&gw), ALL).params(&raw, None))
        .await;
    let msg = "unauthorized: too many failed authentication attempts (retry later)";
    assert_eq!(res["error"]["retryable"], true, "{res}");
    assert!(
        res["error"]["retryAfterMs"]
            .as_u64()
            .is_some_and(|ms| ms > 0 && ms <= 60_000),
        "{res}"
    );
    assert_refused(
        &mut raw,
        &res,
        "INVALID_REQUEST",
        msg,
        "AUTH_RATE_LIMITED",
        msg,
    )
    .await;
    // Another client address is unaffected.
    let mut raw = Raw::open_with(&gw.url, &[("x-forwarded-for", "192.0.2.10")]).await;
    let res = raw
        .connect(Connect::cli(token_auth(&gw), ALL).params(&raw, None))
        .await;
    assert_eq!(res["ok"], true, "{res}");
}

// ---- Concurrency -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_pair_at_once_and_nothing_is_lost() {
    let gw = Arc::new(TestGateway::start_default().await);
    let ids: Vec<Arc<DeviceIdentity>> = (0..50).map(|_| Arc::new(identity())).collect();
    let tasks: Vec<_> = ids
        .iter()
        .cloned()
        .map(|id| {
            let gw = gw.clone();
            tokio::spawn(async move {
                let (_, res) = device_connect(&gw, &id, token_auth(&gw), ALL).await;
                assert_eq!(res["ok"], true, "{res}");
                res["payload"]["auth"]["deviceToken"]
                    .as_str()
                    .expect("token")
                    .to_owned()
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.expect("task"));
    }
    // Reload from disk with a fresh store: every device paired, every token verifies.
    let store = PairingStore::open(&StateDir::new(gw.state_dir.path())).expect("store");
    let doc = store.snapshot();
    assert_eq!(doc.paired.len(), 50);
    for (id, t) in ids.iter().zip(&tokens) {
        let scopes: Vec<String> = ALL.iter().map(|s| s.to_string()).collect();
        assert!(
            doc.verify_token(id.device_id(), "operator", t, &scopes)
                .is_ok(),
            "{}",
            id.device_id()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_token_connects_while_one_device_rotates() {
    let gw = Arc::new(TestGateway::start_default().await);
    let scopes = ["operator.read", "operator.pairing"];
    let mut devices = Vec::new();
    for _ in 0..10 {
        let id = Arc::new(identity());
        let (_, res) = device_connect(&gw, &id, token_auth(&gw), &scopes).await;
        let t = res["payload"]["auth"]["deviceToken"]
            .as_str()
            .expect("token")
            .to_owned();
        devices.push((id, t));
    }
    // Device 0 rotates its own token repeatedly while the others connect with theirs.
    let (rot_id, rot_t) = devices[0].clone();
    let rotator = {
        let gw = gw.clone();
        tokio::spawn(async move {
            let (mut me, res) =
                device_connect(&gw, &rot_id, json!({"deviceToken": rot_t}), &scopes).await;
            assert_eq!(res["ok"], true, "{res}");
            let mut last = String::new();
            for i in 0..20 {
                let r = me
                    .call(
                        &format!("r{i}"),
                        "device.token.rotate",
                        json!({"deviceId": rot_id.device_id(), "role": "operator"}),
                    )
                    .await;
                last = r["payload"]["token"]
                    .as_str()
                    .expect("in-band token")
                    .to_owned();
            }
            last
        })
    };
    let sem = Arc::new(tokio::sync::Semaphore::new(40));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (id, t) = devices[1 + i % 9].clone();
        let gw = gw.clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.expect("semaphore");
            let (_, res) =
                device_connect(&gw, &id, json!({"deviceToken": t}), &["operator.read"]).await;
            assert_eq!(res["payload"]["auth"]["method"], "device-token", "{res}");
        }));
    }
    for t in tasks {
        t.await.expect("connect task");
    }
    let last = rotator.await.expect("rotator");
    // Reload from disk: all ten devices intact, the rotated one holds exactly the last token.
    let store = PairingStore::open(&StateDir::new(gw.state_dir.path())).expect("store");
    let doc = store.snapshot();
    assert_eq!(doc.paired.len(), 10);
    for (id, t) in &devices[1..] {
        assert!(doc.verify_token(id.device_id(), "operator", t, &[]).is_ok());
    }
    assert!(doc
        .verify_token(devices[0].0.device_id(), "operator", &last, &[])
        .is_ok());
    assert!(doc
        .verify_token(devices[0].0.device_id(), "operator", &devices[0].1, &[])
        .is_err());
}

// ---- The client's device signer ---------------------------------------------------------------

#[tokio::test]
async fn client_signer_stores_heals_and_never_wipes_its_token() {
    use openclaw_rs_client::{Client, ClientOptions, DeviceSigner};
    let gw = TestGateway::start_default().await;
    let home = tempfile::tempdir().expect("client state dir");
    let state = StateDir::new(home.path());
    let signer = Arc::new(DeviceSigner::from_state_dir(&state).expect("identity"));
    let device_id = signer.identity().device_id().to_owned();
    let opts = |token: Option<&str>| {
        let mut o = ClientOptions::new(gw.url.clone());
        o.token = token.map(String::from);
        o.signer = Some(signer.clone());
        o
    };

    // First connect: shared token + brand-new identity → paired silently, token stored (0600).
    let c = Client::connect(opts(gw.token.as_deref()))
        .await
        .expect("first connect");
    let t1 = c.hello().auth.device_token.clone().expect("issued");
    c.close().await;
    assert_eq!(
        signer.stored_token("operator").map(|t| t.token),
        Some(t1.clone())
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(signer.token_path())
        .expect("token file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // Next connect without the shared token: the stored device token is enough.
    let c = Client::connect(opts(None))
        .await
        .expect("device-token connect");
    assert_eq!(c.hello().auth.method.as_deref(), Some("device-token"));
    c.close().await;

    // The token is rotated elsewhere; a connect with only the stale token is refused …
    let mut admin = operator(&gw, PAIRING_ADMIN).await;
    let r = admin
        .call(
            "r",
            "device.token.rotate",
            json!({"deviceId": device_id, "role": "operator"}),
        )
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let e = Client::connect(opts(None))
        .await
        .expect_err("stale token refused");
    assert_eq!(
        e.error_shape().and_then(|s| s.detail_code()),
        Some("AUTH_DEVICE_TOKEN_MISMATCH")
    );
    // … and the stored token is not wiped by that single mismatch.
    assert_eq!(
        signer.stored_token("operator").map(|t| t.token),
        Some(t1.clone())
    );

    // With the shared token as well, the gateway heals it and the client replaces it.
    let c = Client::connect(opts(gw.token.as_deref()))
        .await
        .expect("heal");
    let t3 = c.hello().auth.device_token.clone().expect("fresh");
    c.close().await;
    assert_ne!(t3, t1);
    assert_eq!(signer.stored_token("operator").map(|t| t.token), Some(t3));
    let c = Client::connect(opts(None))
        .await
        .expect("fresh token alone");
    assert_eq!(c.hello().auth.method.as_deref(), Some("device-token"));
    c.close().await;
}

// ---- The real `openclaw` CLI -------------------------------------------------------------------

struct Cli {
    bin: std::path::PathBuf,
    state: tempfile::TempDir,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

impl Cli {
    fn new() -> Cli {
        Cli {
            bin: openclaw_rs_test_support::gateway::bin_path("openclaw"),
            state: tempfile::tempdir().expect("cli state dir"),
        }
    }

    fn device_id(&self) -> String {
        let text = std::fs::read_to_string(self.state.path().join("identity/device.json"))
            .expect("cli identity file");
        let v: Value = serde_json::from_str(&text).expect("identity json");
        v["deviceId"].as_str().expect("deviceId").to_owned()
    }

    /// Run `openclaw <args> --state-dir <own>` with a clean environment, bounded in time.
    async fn run(&self, args: &[&str]) -> Out {
        self.run_in(None, args).await
    }

    async fn run_in(&self, netns: Option<&str>, args: &[&str]) -> Out {
        let state = self.state.path().to_str().expect("utf-8 path").to_owned();
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = tokio::process::Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&self.bin);
                c
            }
            None => tokio::process::Command::new(&self.bin),
        };
        cmd.args(args)
            .args(["--state-dir", &state])
            .env_remove("OPENCLAW_GATEWAY_TOKEN")
            .env_remove("OPENCLAW_GATEWAY_PASSWORD")
            .env_remove("OPENCLAW_GATEWAY_URL")
            .env_remove("OPENCLAW_STATE_DIR")
            .env_remove("OPENCLAW_CONFIG_PATH")
            .kill_on_drop(true);
        let out = tokio::time::timeout(HANG_GUARD, cmd.output())
            .await
            .expect("hang guard: openclaw did not finish")
            .expect("spawn openclaw");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[tokio::test]
async fn cli_devices_and_doctor_pair_approve_rotate_and_heal() {
    let gw = proxied_gateway(proxy_config()).await;
    let cli = Cli::new();
    let url = gw.url.as_str();
    let token = gw.token.clone().expect("token");

    // First use: the CLI's brand-new identity pairs silently over loopback with the token.
    let out = cli
        .run(&["devices", "list", "--url", url, "--token", &token, "--json"])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let me = cli.device_id();
    let paired = out.json()["paired"].clone();
    assert!(
        paired
            .as_array()
            .is_some_and(|a| a.iter().any(|d| d["deviceId"] == me.as_str())),
        "{paired}"
    );

    // A remote device asks; the CLI (with only its stored device token) lists and approves it.
    let remote = identity();
    let mut raw = Raw::open_with(&gw.url, REMOTE).await;
    let res = raw
        .connect(Connect::cli(token_auth(&gw), &["operator.read"]).params(&raw, Some(&remote)))
        .await;
    let rid = res["error"]["details"]["requestId"]
        .as_str()
        .expect("rid")
        .to_owned();
    // `gateway status` shows the waiting request.
    let out = cli
        .run(&[
            "gateway", "status", "--url", url, "--token", &token, "--json",
        ])
        .await;
    assert_eq!(out.json()["pendingPairingRequests"], 1, "{}", out.stdout);
    let out = cli.run(&["devices", "list", "--url", url]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains(&format!("openclaw devices approve {rid}")),
        "{}",
        out.stdout
    );
    let out = cli.run(&["devices", "approve", &rid, "--url", url]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout.trim(),
        format!("Approved {} ({rid})", remote.device_id())
    );

    // Rotating another device's token: withheld from us, delivered to that device only.
    let remote_id = remote.device_id().to_owned();
    let out = cli
        .run(&[
            "devices", "rotate", "--device", &remote_id, "--url", url, "--token", &token, "--json",
        ])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.json()["tokenDelivery"],
        "withheld-cross-device",
        "{}",
        out.stdout
    );
    assert_eq!(out.json()["storedLocally"], false);

    // Rotating its own token stores the new one at once: the next command still works.
    let out = cli
        .run(&["devices", "rotate", "--url", url, "--json"])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["storedLocally"], true, "{}", out.stdout);
    assert!(
        out.json().get("token").is_none(),
        "the CLI must not print the token"
    );
    assert_eq!(cli.run(&["devices", "list", "--url", url]).await.code, 0);

    // The token is rotated behind the CLI's back: doctor names the problem and the fix …
    let mut admin = operator(&gw, PAIRING_ADMIN).await;
    let r = admin
        .call(
            "r",
            "device.token.rotate",
            json!({"deviceId": me, "role": "operator"}),
        )
        .await;
    assert_eq!(r["ok"], true, "{r}");
    let out = cli.run(&["doctor", "--url", url, "--json"]).await;
    assert_eq!(out.code, 1, "{}", out.stdout);
    let problems = out.json()["problems"].to_string();
    assert!(
        problems.contains(&format!(
            "fix: openclaw doctor --url {url} --token <gateway-token>"
        )),
        "{problems}"
    );
    // … the failed connects did not wipe the stored token file …
    assert!(cli.state.path().join("identity/device-auth.json").is_file());
    // … and running that fix heals it, without any restart.
    let out = cli
        .run(&["doctor", "--url", url, "--token", &token, "--json"])
        .await;
    let report = out.json();
    assert_eq!(report["auth"]["device"]["tokenValid"], true, "{report}");
    assert!(report["notes"].to_string().contains("fixed"), "{report}");
    let out = cli.run(&["devices", "list", "--url", url]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// Removes the namespace and veth pair it created.
struct NetNs {
    name: String,
    host_if: String,
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["link", "del", &self.host_if])
            .status();
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A CLI in its own network namespace is a genuinely remote host: pairing required, approved
/// from loopback, then admitted. Skipped (loudly) where namespaces cannot be created.
#[tokio::test]
async fn remote_host_in_a_network_namespace_pairs_after_approval() {
    let tag = std::process::id() % 10_000;
    let ns = NetNs {
        name: format!("ocauth{tag}"),
        host_if: format!("ocah{tag}"),
    };
    let peer_if = format!("ocap{tag}");
    let (a, b) = ((tag / 250) % 250 + 1, tag % 250);
    let host_ip = format!("10.{a}.{b}.1");
    let setup = (|| {
        ip(&["netns", "add", &ns.name])?;
        ip(&[
            "link",
            "add",
            &ns.host_if,
            "type",
            "veth",
            "peer",
            "name",
            &peer_if,
        ])?;
        ip(&["link", "set", &peer_if, "netns", &ns.name])?;
        ip(&["addr", "add", &format!("{host_ip}/30"), "dev", &ns.host_if])?;
        ip(&["link", "set", &ns.host_if, "up"])?;
        ip(&[
            "netns",
            "exec",
            &ns.name,
            "ip",
            "addr",
            "add",
            &format!("10.{a}.{b}.2/30"),
            "dev",
            &peer_if,
        ])?;
        ip(&[
            "netns", "exec", &ns.name, "ip", "link", "set", &peer_if, "up",
        ])?;
        ip(&["netns", "exec", &ns.name, "ip", "link", "set", "lo", "up"])
    })();
    if let Err(e) = setup {
        eprintln!("SKIPPED remote_host_in_a_network_namespace_pairs_after_approval: cannot build a network namespace here ({e})");
        return;
    }

    // A gateway listening on loopback (for the operator) and on the veth address (for the remote host).
    let state_dir = tempfile::tempdir().expect("state");
    let mut o = openclaw_rs_gateway::GatewayOptions::new(StateDir::new(state_dir.path()));
    let token = "netns-test-token".to_owned();
    o.auth = openclaw_rs_gateway::SharedAuth::token(token.clone());
    let lo = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let remote_l = std::net::TcpListener::bind(format!("{host_ip}:0")).expect("bind veth address");
    let lo_url = format!("ws://{}", lo.local_addr().expect("addr"));
    let remote_url = format!("ws://{}", remote_l.local_addr().expect("addr"));
    let gateway = openclaw_rs_gateway::Gateway::new(o).expect("gateway");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(gateway.serve(vec![lo, remote_l], async move {
        let _ = stop_rx.await;
    }));

    let cli = Cli::new();
    let out = cli
        .run_in(
            Some(&ns.name),
            &["devices", "list", "--url", &remote_url, "--token", &token],
        )
        .await;
    assert_eq!(
        out.code, 1,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr
            .contains("pairing required: device is not approved yet"),
        "{}",
        out.stderr
    );
    let rid = out
        .stderr
        .split("openclaw devices approve ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("the fix command names the request")
        .to_owned();

    // The operator on the gateway host approves over loopback with the real CLI.
    let admin = Cli::new();
    let out = admin
        .run(&[
            "devices", "approve", &rid, "--url", &lo_url, "--token", &token,
        ])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with(&format!("Approved {}", cli.device_id())),
        "{}",
        out.stdout
    );

    // The remote host now connects (and gets a device token, so the next time needs no secret).
    let out = cli
        .run_in(
            Some(&ns.name),
            &[
                "devices",
                "list",
                "--url",
                &remote_url,
                "--token",
                &token,
                "--json",
            ],
        )
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let remote_ip = format!("10.{a}.{b}.2");
    let paired = out.json()["paired"].clone();
    assert!(
        paired
            .as_array()
            .is_some_and(|a| a.iter().any(|d| d["remoteIp"] == remote_ip.as_str())),
        "{paired}"
    );
    let out = cli
        .run_in(Some(&ns.name), &["devices", "list", "--url", &remote_url])
        .await;
    assert_eq!(
        out.code, 0,
        "device token alone from the remote host: {}",
        out.stderr
    );

    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(HANG_GUARD, task).await;
}

/// Seeds 004 and 001 end to end: the state dir's CLI identity has never been paired and holds a
/// device token the gateway never issued. Subagents spawned from a session run anyway — they
/// never log in over WebSocket, so no pairing request or device record appears — and nothing
/// needs a restart. The same CLI then pairs/heals itself on its first device-aware command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_subagents_run_whatever_the_cli_identity_holds() {
    openclaw_rs_test_support::gateway::bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let token = gw.token.clone().expect("token");
    let state = StateDir::new(gw.state_dir.path());
    let id =
        DeviceIdentity::load_or_create(&DeviceIdentity::default_path(&state), 0).expect("identity");
    let cache = openclaw_rs_auth::DeviceTokenCache::default_path(&state);
    openclaw_rs_auth::DeviceTokenCache::store_token(
        &cache,
        id.device_id(),
        "operator",
        openclaw_rs_auth::CachedToken {
            token: "stale-token-from-an-older-gateway-xxxxxxxxx".into(),
            scopes: vec![],
            updated_at_ms: 0,
        },
    )
    .expect("stale token");
    let bin = openclaw_rs_test_support::gateway::bin_path("openclaw");
    for round in 0..2 {
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::process::Command::new(&bin)
                .args([
                    "sessions-spawn",
                    "--task",
                    "echo seed",
                    "--url",
                    &gw.url,
                    "--token",
                    &token,
                ])
                .env("OPENCLAW_STATE_DIR", gw.state_dir.path())
                .env_remove("OPENCLAW_GATEWAY_TOKEN")
                .env_remove("OPENCLAW_GATEWAY_URL")
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("hang guard: sessions-spawn")
        .expect("spawn openclaw");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}\nstdout: {stdout}\nstderr: {stderr}"
        );
        assert_eq!(stdout, "seed\n");
    }
    let doc = PairingStore::open(&state).expect("store").snapshot();
    assert!(
        doc.paired.is_empty(),
        "a subagent paired a device: {:?}",
        doc.paired.keys()
    );
    assert!(doc.pending.is_empty(), "a subagent asked for pairing");

    // The CLI itself, on loopback with the token: paired silently on first use, stale token replaced.
    let out = tokio::process::Command::new(&bin)
        .args([
            "devices", "list", "--url", &gw.url, "--token", &token, "--json",
        ])
        .env("OPENCLAW_STATE_DIR", gw.state_dir.path())
        .env_remove("OPENCLAW_GATEWAY_TOKEN")
        .kill_on_drop(true)
        .output()
        .await
        .expect("openclaw devices list");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored = openclaw_rs_auth::DeviceTokenCache::load(&cache, id.device_id()).expect("cache");
    let t = stored.token("operator").expect("token").token.clone();
    assert_ne!(t, "stale-token-from-an-older-gateway-xxxxxxxxx");
    assert!(PairingStore::open(&state)
        .expect("store")
        .snapshot()
        .verify_token(id.device_id(), "operator", &t, &[])
        .is_ok());
}

/// kill -9 of the gateway process while 40 devices pair: the store on disk is a complete
/// document, and every device that received a token in `hello-ok` is in it with that token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_store_is_intact_after_kill_9_mid_pairing() {
    let state_dir = tempfile::tempdir().expect("state");
    let port = openclaw_rs_test_support::gateway::free_port();
    let token = "kill9-token".to_owned();
    let log = std::fs::File::create(state_dir.path().join("gateway.log")).expect("log");
    let mut child =
        tokio::process::Command::new(openclaw_rs_test_support::gateway::bin_path("gateway"))
            .args(["--port", &port.to_string(), "--token", &token])
            .args(["--state-dir", state_dir.path().to_str().expect("utf-8")])
            .env_remove("OPENCLAW_GATEWAY_TOKEN")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn gateway");
    let url = format!("ws://127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gateway never listened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let issued = Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (url, token, issued) = (url.clone(), token.clone(), issued.clone());
        tasks.push(tokio::spawn(async move {
            // Stagger a little so the kill lands in the middle of the stream of writes.
            tokio::time::sleep(Duration::from_millis((i % 10) * 5)).await;
            let id = identity();
            let Ok(Ok((mut ws, _))) =
                tokio::time::timeout(HANG_GUARD, tokio_tungstenite::connect_async(url.as_str()))
                    .await
            else {
                return;
            };
            let Some(ch) = next_json_opt(&mut ws).await else {
                return;
            };
            let raw_nonce = ch["payload"]["nonce"].as_str().unwrap_or("").to_owned();
            let ts = ch["payload"]["ts"].as_u64().unwrap_or(0);
            let scopes = vec!["operator.read".to_string()];
            let t = token.clone();
            let fields = SignedFields {
                client_id: "cli",
                client_mode: "cli",
                role: "operator",
                scopes: &scopes,
                signed_at_ms: ts,
                token: &t,
                nonce: &raw_nonce,
                platform: "linux",
                device_family: "",
            };
            let p = json!({"minProtocol":4,"maxProtocol":4,
                "client":{"id":"cli","version":"t","platform":"linux","mode":"cli"},
                "role":"operator","scopes":scopes,"auth":{"token":token},
                "device": serde_json::to_value(id.prove(&fields)).expect("json")});
            if ws
                .send(Message::text(
                    json!({"type":"req","id":"c","method":"connect","params":p}).to_string(),
                ))
                .await
                .is_err()
            {
                return;
            }
            if let Some(res) = next_json_opt(&mut ws).await {
                if let Some(t) = res["payload"]["auth"]["deviceToken"].as_str() {
                    issued
                        .lock()
                        .expect("lock")
                        .push((id.device_id().to_owned(), t.to_owned()));
                }
            }
        }));
    }
    // Kill once some pairings went through.
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    while issued.lock().expect("lock").len() < 8 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no pairing completed"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.start_kill().expect("kill -9");
    let _ = child.wait().await;
    for t in tasks {
        let _ = t.await;
    }

    let issued = issued.lock().expect("lock").clone();
    let store = PairingStore::open(&StateDir::new(state_dir.path()))
        .expect("store is a complete document after kill -9");
    let doc = store.snapshot();
    assert!(issued.len() >= 8);
    for (device, token) in &issued {
        assert!(
            doc.verify_token(device, "operator", token, &[]).is_ok(),
            "device {device} got a token in hello-ok but the store lost it"
        );
    }
    eprintln!(
        "kill -9 after {} of 40 pairings; store holds {} devices",
        issued.len(),
        doc.paired.len()
    );
}

async fn next_json_opt(ws: &mut WsStream) -> Option<Value> {
    tokio::time::timeout(HANG_GUARD, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).ok(),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await
    .ok()
    .flatten()
}
