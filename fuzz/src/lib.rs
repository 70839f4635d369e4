//! The fuzz targets' bodies, shared by the AFL binaries (`src/bin/*.rs`) and by the corpus
//! replay test (`tests/corpus.rs`). Each takes the raw input and must not panic; where a
//! target states an invariant it asserts it (an assertion failure is a crash to AFL).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Every target: (name, body). `cargo xtask fuzz --target NAME` runs the binary of that name.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("http_head", http_head),
    ("ws_frames", ws_frames),
    ("connect", connect),
    ("config", config),
    ("jsonrpc", jsonrpc),
    ("journal", journal),
];

/// The gateway's request-head scan, parse and WebSocket-upgrade checks.
pub fn http_head(data: &[u8]) {
    openclaw_rs_gateway::fuzzing::request_head(data);
}

/// WebSocket frames after the upgrade, through the gateway's pre-auth path (first-frame size
/// checks, request decoding, `connect` params, protocol negotiation, close-code mapping).
pub fn ws_frames(data: &[u8]) {
    openclaw_rs_gateway::fuzzing::preauth_frames(data);
}

/// The `connect` decision: params as sent (JSON text after one flag byte: bit 0 = LAN peer,
/// bit 1 = forwarded headers, bits 2-3 = auth mode none/token/password), through the gateway's
/// params check, protocol negotiation, shared-secret decision and the auth service's full
/// decision (device identity, signature, pairing, scopes) without disk writes.
pub fn connect(data: &[u8]) {
    let Some((&flags, json)) = data.split_first() else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) else {
        return;
    };
    let Ok(params) = openclaw_rs_gateway::connect::parse_connect_params(Some(&value)) else {
        return;
    };
    let _ = openclaw_rs_gateway::connect::negotiate_protocol(&params);
    let mode = match (flags >> 2) & 3 {
        0 => openclaw_rs_config::AuthMode::None,
        1 => openclaw_rs_config::AuthMode::Token,
        _ => openclaw_rs_config::AuthMode::Password,
    };
    let shared = openclaw_rs_gateway::SharedAuth {
        mode,
        token: Some("fuzz-token".into()),
        password: Some("fuzz-password".into()),
    };
    let peer: IpAddr = if flags & 1 == 1 {
        IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20))
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    };
    let headers = openclaw_rs_auth::locality::ForwardHeaders {
        x_forwarded_for: (flags & 2 == 2).then(|| "203.0.113.7, 10.0.0.1".to_owned()),
        x_real_ip: None,
        forwarded: None,
        other_forwarding: false,
    };
    let secrets = shared.secrets();
    let req = openclaw_rs_auth::ConnectRequest {
        peer,
        headers: &headers,
        params: &params,
        challenge_nonce: "fuzz-nonce",
        secrets: &secrets,
        now_ms: 1_780_000_000_000,
    };
    let facts = openclaw_rs_gateway::connect::ConnectFacts {
        peer: std::net::SocketAddr::new(peer, 40_000),
        is_loopback: flags & 1 == 0,
        request: &Default::default(),
        params: &params,
        nonce: "fuzz-nonce",
        challenge_ts: 1_780_000_000_000,
        protocol: 4,
    };
    let _ = openclaw_rs_gateway::connect::shared_secret_decision(&shared, &facts);
    if let Some(outcome) = auth_service().authenticate_without_write(&req) {
        // A granted connection never carries a scope it did not ask for.
        if let Ok(grant) = outcome.result {
            let asked = params.scopes.clone().unwrap_or_default();
            for s in &grant.scopes {
                assert!(
                    asked.contains(s),
                    "granted {s} that was not requested: {asked:?}"
                );
            }
        }
    }
}

fn auth_service() -> &'static openclaw_rs_auth::AuthService {
    static SERVICE: OnceLock<(tempfile::TempDir, openclaw_rs_auth::AuthService)> = OnceLock::new();
    &SERVICE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp state dir");
            let state = openclaw_rs_state::StateDir::new(dir.path());
            let (store, _) = openclaw_rs_auth::PairingStore::open_lenient(&state);
            // No lockout: a failed attempt must not change what the next input sees.
            let rate = openclaw_rs_config::RateLimitConfig {
                max_attempts: Some(u32::MAX),
                ..Default::default()
            };
            let (svc, _) =
                openclaw_rs_auth::AuthService::new(store, &["10.0.0.1".to_owned()], &rate);
            (dir, svc)
        })
        .1
}

/// The config file (JSON5) and the schema: parse, validate, and look every key path of the
/// input up in the schema. A config that loads serializes back to JSON that loads again.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/fuzz/openclaw.json");
    if let Ok(raw) = openclaw_rs_config::parse_value(text, path) {
        let mut paths = Vec::new();
        key_paths(&raw, String::new(), &mut paths, 0);
        for p in &paths {
            let _ = openclaw_rs_config::schema::lookup(p);
            let _ = openclaw_rs_config::schema::label(p);
            let _ = openclaw_rs_config::schema::is_sensitive(p);
            let _ = openclaw_rs_config::schema::lookup_schema(p);
        }
    }
    if let Ok(loaded) = openclaw_rs_config::parse(text, path) {
        let again = serde_json::to_string(&loaded.config).expect("a loaded config serializes");
        if let Err(e) = openclaw_rs_config::parse(&again, path) {
            panic!("a loaded config does not load again: {e}\n{again}");
        }
    }
}

fn key_paths(v: &serde_json::Value, prefix: String, out: &mut Vec<String>, depth: usize) {
    if depth > 8 || out.len() > 256 {
        return;
    }
    if let serde_json::Value::Object(map) = v {
        for (k, child) in map {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            key_paths(child, p.clone(), out, depth + 1);
            out.push(p);
        }
    }
}

/// An app-server's stdout through the JSON-RPC stream decoder (lines of at most 4 KiB here, so
/// the length limit is reached too).
pub fn jsonrpc(data: &[u8]) {
    openclaw_rs_app_server::fuzzing::decode_stdout(data, 4096);
}

/// A session journal's bytes through every reader (replay with torn-tail repair, tail,
/// numbered, first record); a repaired journal replays the same.
pub fn journal(data: &[u8]) {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"));
    let path: PathBuf = dir
        .path()
        .join(format!("journal-{:?}.jsonl", std::thread::current().id()));
    openclaw_rs_sessions::fuzzing::journal_replay(data, &path);
}
