//! Measures the auth part of one `connect` (no network): `AuthService::authenticate` for a
//! device-less shared-token client, a v3 device signature, and a device token.
//!
//! `cargo run --release -p openclaw-rs-auth --example decide_cost`

use openclaw_rs_auth::locality::ForwardHeaders;
use openclaw_rs_auth::proof::{signature_token, SignedFields};
use openclaw_rs_auth::{AuthService, ConnectRequest, DeviceIdentity, PairingStore, SharedSecrets};
use openclaw_rs_config::{AuthMode, RateLimitConfig};
use openclaw_rs_protocol::{ClientInfo, ConnectAuth, ConnectParams};
use std::time::{Duration, Instant};

fn params(id: Option<&DeviceIdentity>, auth: ConnectAuth, nonce: &str, now: u64) -> ConnectParams {
    let scopes = vec!["operator.read".to_string(), "operator.write".to_string()];
    let mut p = ConnectParams {
        min_protocol: 4,
        max_protocol: 4,
        client: ClientInfo {
            id: "cli".into(),
            version: "bench".into(),
            platform: "linux".into(),
            mode: "cli".into(),
            ..Default::default()
        },
        caps: None,
        role: Some("operator".into()),
        scopes: Some(scopes.clone()),
        device: None,
        auth: Some(auth),
        locale: None,
        user_agent: None,
    };
    if let Some(id) = id {
        let token = signature_token(p.auth.as_ref()).to_owned();
        p.device = Some(id.prove(&SignedFields {
            client_id: "cli",
            client_mode: "cli",
            role: "operator",
            scopes: &scopes,
            signed_at_ms: now,
            token: &token,
            nonce,
            platform: "linux",
            device_family: "",
        }));
    }
    p
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn measure(label: &str, n: usize, mut f: impl FnMut()) {
    let mut v: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    println!(
        "{label:<40} p50 {:>8.1?}  p99 {:>8.1?}",
        v[n / 2],
        v[n * 99 / 100]
    );
}

fn main() {
    let dir = std::env::temp_dir().join(format!("openclaw-auth-bench-{}", std::process::id()));
    let state = openclaw_rs_state::StateDir::new(&dir);
    let store = PairingStore::open(&state).expect("store");
    let (svc, _) = AuthService::new(store, &[], &RateLimitConfig::default());
    let secrets = SharedSecrets {
        mode: AuthMode::Token,
        token: Some("bench-token".into()),
        password: None,
    };
    let headers = ForwardHeaders::default();
    let id = DeviceIdentity::generate(0).expect("identity");
    let nonce = "bench-nonce";
    let shared = ConnectAuth {
        token: Some("bench-token".into()),
        ..Default::default()
    };
    let run = |p: &ConnectParams| {
        svc.authenticate(&ConnectRequest {
            peer: "127.0.0.1".parse().expect("ip"),
            headers: &headers,
            params: p,
            challenge_nonce: nonce,
            secrets: &secrets,
            now_ms: now_ms(),
        })
    };
    // Pair once to get a token.
    let first = run(&params(Some(&id), shared.clone(), nonce, now_ms()));
    let token = first.result.expect("paired").device_token.expect("token");

    let no_device = params(None, shared.clone(), nonce, now_ms());
    measure("shared token, no device", 2000, || {
        run(&no_device).result.expect("ok");
    });
    let signed = params(Some(&id), shared, nonce, now_ms());
    measure("shared token + v3 signature (paired)", 2000, || {
        run(&signed).result.expect("ok");
    });
    let with_token = params(
        Some(&id),
        ConnectAuth {
            device_token: Some(token),
            ..Default::default()
        },
        nonce,
        now_ms(),
    );
    measure("device token + v3 signature", 2000, || {
        run(&with_token).result.expect("ok");
    });
    let _ = std::fs::remove_dir_all(&dir);
}
