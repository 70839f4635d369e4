//! The connect seam: the handshake gathers [`ConnectFacts`] and calls [`decide`] once.
//!
//! gateway-core ships the shared-secret decision (`gateway.auth.mode` none|token|password,
//! constant-time compare). The auth area replaces the body of [`decide`] with the
//! `openclaw-rs-auth` policy (devices, pairing, device tokens); the handshake code does not change.
//! Error shapes and close codes follow the real OpenClaw gateway (reference §4.3).

use crate::http::RequestFacts;
use crate::state::GatewayState;
use openclaw_rs_config::AuthMode;
use openclaw_rs_protocol::{close, detail, scopes, version, ConnectParams, ErrorCode, ErrorShape};
use serde_json::{json, Value};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

/// Everything known about a connect attempt when the decision is taken.
#[derive(Debug)]
pub struct ConnectFacts<'a> {
    /// The TCP peer.
    pub peer: SocketAddr,
    /// The peer is on loopback and no forwarding header claims otherwise.
    pub is_loopback: bool,
    /// Headers of the upgrade request (Origin, X-Forwarded-For, …).
    pub request: &'a RequestFacts,
    /// The `connect` params as sent.
    pub params: &'a ConnectParams,
    /// The nonce and ts of the `connect.challenge` this socket received.
    pub nonce: &'a str,
    /// The `ts` of that challenge (ms since the epoch).
    pub challenge_ts: u64,
    /// The negotiated protocol version.
    pub protocol: u32,
}

/// A successful decision: what the connection is allowed to do.
#[derive(Debug, Clone)]
pub struct ConnectGrant {
    /// The granted role (`operator` or `node`).
    pub role: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// `hello-ok.auth.method`.
    pub method: String,
    /// The proven device id, when the client connected with a device identity.
    pub device_id: Option<String>,
    /// `hello-ok.auth.deviceToken`: the device's current token, returned to it.
    pub device_token: Option<String>,
    /// `hello-ok.auth.issuedAtMs`.
    pub issued_at_ms: Option<u64>,
}

/// A refused connect: the `res` error, then a close with `close_code`/`close_reason`.
#[derive(Debug, Clone)]
pub struct ConnectRejection {
    /// The error answered to `connect`.
    pub error: ErrorShape,
    /// The WebSocket close code that follows.
    pub close_code: u16,
    /// The close reason that follows.
    pub close_reason: String,
}

impl ConnectRejection {
    /// Refusal closing with 1008 and the error message as reason (OpenClaw's usual pairing).
    pub fn policy(error: ErrorShape) -> Self {
        ConnectRejection {
            close_reason: error.message.clone(),
            error,
            close_code: close::POLICY_VIOLATION,
        }
    }
}

/// Parse and schema-check `connect` params. Like OpenClaw, schema violations are refused
/// before any protocol or auth check: `INVALID_REQUEST "invalid connect params: …"`, close 1008
/// with the message as reason.
pub fn parse_connect_params(params: Option<&Value>) -> Result<ConnectParams, ConnectRejection> {
    let invalid = |problem: String| {
        ConnectRejection::policy(ErrorShape::new(
            ErrorCode::InvalidRequest,
            format!("invalid connect params: {problem}"),
        ))
    };
    let params: ConnectParams = serde_json::from_value(params.cloned().unwrap_or(Value::Null))
        .map_err(|e| invalid(e.to_string()))?;
    // Constraints of OpenClaw's ConnectParamsSchema that serde does not express.
    if let Some(d) = &params.device {
        if d.nonce.is_empty() {
            return Err(invalid(
                "at /device/nonce: must not have fewer than 1 characters".into(),
            ));
        }
    }
    for (path, v) in [
        ("/minProtocol", params.min_protocol),
        ("/maxProtocol", params.max_protocol),
    ] {
        if v < 1 {
            return Err(invalid(format!("at {path}: must be >= 1")));
        }
    }
    Ok(params)
}

/// Pick the protocol version: 4, or 3..4 for probe clients and the node role.
pub fn negotiate_protocol(params: &ConnectParams) -> Result<u32, ConnectRejection> {
    let (min, max) = (params.min_protocol, params.max_protocol);
    if min <= version::CURRENT && max >= version::CURRENT {
        return Ok(version::CURRENT);
    }
    let lenient =
        params.client.mode == "probe" || params.role.as_deref() == Some(scopes::ROLE_NODE);
    if lenient && min <= version::CURRENT && max >= version::MINIMUM_PROBE {
        return Ok(max.min(version::CURRENT));
    }
    let error =
        ErrorShape::new(ErrorCode::InvalidRequest, "protocol mismatch").with_details(json!({
            "code": detail::PROTOCOL_MISMATCH,
            "clientMinProtocol": min,
            "clientMaxProtocol": max,
            "expectedProtocol": version::CURRENT,
            "minimumProbeProtocol": version::MINIMUM_PROBE,
        }));
    Err(ConnectRejection {
        error,
        close_code: close::PROTOCOL_ERROR,
        close_reason: "protocol mismatch".into(),
    })
}

/// The connect decision: `openclaw-rs-auth` (device proof, pairing, device tokens, shared secret,
/// locality from the socket and `gateway.trustedProxies`, failed-auth rate limit).
///
/// Pairing events it produces are broadcast to connections holding `operator.pairing`.
/// The pairing store is written only when a device is paired or a token minted (one small
/// atomic write); the steady-state paths (device token, no device) only read memory.
pub async fn decide(
    state: &GatewayState,
    facts: &ConnectFacts<'_>,
) -> Result<ConnectGrant, ConnectRejection> {
    let cfg = state.config().load();
    for w in state
        .auth_service()
        .reconfigure(&cfg.gateway.trusted_proxies, &cfg.gateway.auth.rate_limit)
    {
        tracing::warn!("{w}");
    }
    let secrets = state.shared_auth().secrets();
    let r = facts.request;
    let headers = openclaw_rs_auth::locality::ForwardHeaders {
        x_forwarded_for: r.forwarded_for.clone(),
        x_real_ip: r.real_ip.clone(),
        forwarded: r.forwarded.clone(),
        other_forwarding: r.other_forwarding,
    };
    let peer = facts.peer.ip();
    let now = crate::base::now_ms();
    let request = openclaw_rs_auth::ConnectRequest {
        peer,
        headers: &headers,
        params: facts.params,
        challenge_nonce: facts.nonce,
        secrets: &secrets,
        now_ms: now,
    };
    // Everything that needs no disk (device-less, device token, a paired device's current
    // token, every refusal) is answered inline; pairing a device or minting a token takes a
    // flock + fsync, so that runs on the blocking pool and never stalls other connections.
    let outcome = match state.auth_service().authenticate_without_write(&request) {
        Some(o) => o,
        None => {
            let devices = state.auth_service().clone();
            let params = facts.params.clone();
            let nonce = facts.nonce.to_owned();
            let joined = tokio::task::spawn_blocking(move || {
                devices.authenticate(&openclaw_rs_auth::ConnectRequest {
                    peer,
                    headers: &headers,
                    params: &params,
                    challenge_nonce: &nonce,
                    secrets: &secrets,
                    now_ms: now,
                })
            })
            .await;
            match joined {
                Ok(o) => o,
                Err(e) => {
                    tracing::error!(error = %e, "connect decision task failed");
                    return Err(ConnectRejection {
                        error: ErrorShape::new(
                            ErrorCode::Unavailable,
                            "connect decision failed; retry",
                        )
                        .retry_after(Some(1000)),
                        close_code: close::INTERNAL_ERROR,
                        close_reason: "connect decision failed".into(),
                    });
                }
            }
        }
    };
    for ev in &outcome.events {
        broadcast_auth_event(state, ev);
    }
    match outcome.result {
        Ok(a) => Ok(ConnectGrant {
            role: a.role,
            scopes: a.scopes,
            method: a.method.as_str().to_owned(),
            device_id: a.device_id,
            device_token: a.device_token,
            issued_at_ms: a.issued_at_ms,
        }),
        Err(r) => Err(ConnectRejection {
            error: r.error,
            close_code: r.close_code,
            close_reason: r.close_reason,
        }),
    }
}

/// Send a pairing event to every operator connection that may act on it (`operator.pairing`).
pub fn broadcast_auth_event(state: &GatewayState, ev: &openclaw_rs_auth::AuthEvent) -> usize {
    let may_act = |c: &crate::state::Connection| {
        c.info().role == scopes::ROLE_OPERATOR
            && scopes::satisfies(&c.info().scopes, scopes::PAIRING)
    };
    match crate::wire::auth_event(ev) {
        crate::wire::AuthWireEvent::Requested(e) => state.broadcast_where(&e, may_act),
        crate::wire::AuthWireEvent::Resolved(e) => state.broadcast_where(&e, may_act),
    }
}

/// The shared-secret decision: gateway.auth.mode none|token|password.
pub fn shared_secret_decision(
    auth: &crate::options::SharedAuth,
    facts: &ConnectFacts<'_>,
) -> Result<ConnectGrant, ConnectRejection> {
    let params = facts.params;
    let role = params
        .role
        .clone()
        .unwrap_or_else(|| scopes::ROLE_OPERATOR.to_owned());
    if role != scopes::ROLE_OPERATOR && role != scopes::ROLE_NODE {
        return Err(ConnectRejection {
            error: ErrorShape::new(ErrorCode::InvalidRequest, format!("invalid role: {role}")),
            close_code: close::POLICY_VIOLATION,
            close_reason: "invalid role".into(),
        });
    }
    let creds = params.auth.clone().unwrap_or_default();
    let has_device = params.device.is_some();
    let method = match auth.mode {
        AuthMode::None => "none",
        AuthMode::Token => {
            let Some(expected) = auth.token.as_deref().filter(|t| !t.is_empty()) else {
                return Err(rejection::token_not_configured());
            };
            match creds.token.as_deref().filter(|t| !t.is_empty()) {
                None if !has_device => return Err(rejection::device_identity_required()),
                None => return Err(rejection::token_missing()),
                Some(given) if !secret_eq(given, expected) => {
                    return Err(rejection::token_mismatch())
                }
                Some(_) => "token",
            }
        }
        AuthMode::Password => {
            let Some(expected) = auth.password.as_deref().filter(|p| !p.is_empty()) else {
                return Err(rejection::password_not_configured());
            };
            match creds.password.as_deref().filter(|p| !p.is_empty()) {
                None => return Err(rejection::password_missing()),
                Some(given) if !secret_eq(given, expected) => {
                    return Err(rejection::password_mismatch())
                }
                Some(_) => "password",
            }
        }
    };
    // A node must prove a device identity; only the auth area can verify one.
    if role == scopes::ROLE_NODE && !has_device {
        return Err(rejection::device_identity_required());
    }
    let scopes = if role == scopes::ROLE_OPERATOR {
        params.scopes.clone().unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(ConnectGrant {
        role,
        scopes,
        method: method.to_owned(),
        device_id: None,
        device_token: None,
        issued_at_ms: None,
    })
}

/// Constant-time equality of two secrets (length leaks, content does not).
pub fn secret_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The exact refusals of reference §4.3 (and the message variants seen in OpenClaw's code).
pub mod rejection {
    use super::*;

    fn auth_details(code: &str, reason: &str) -> Value {
        json!({
            "code": code,
            "authReason": reason,
            "canRetryWithDeviceToken": false,
            "recommendedNextStep": "update_auth_credentials",
        })
    }

    /// Wrong shared token.
    pub fn token_mismatch() -> ConnectRejection {
        ConnectRejection::policy(
            ErrorShape::new(
                ErrorCode::InvalidRequest,
                "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)",
            )
            .with_details(auth_details(detail::AUTH_TOKEN_MISMATCH, "token_mismatch")),
        )
    }

    /// Token mode, no token but a device proof (the device path is the auth area's).
    pub fn token_missing() -> ConnectRejection {
        ConnectRejection::policy(
            ErrorShape::new(
                ErrorCode::InvalidRequest,
                "unauthorized: gateway token missing (provide gateway.auth.token or pair the device)",
            )
            .with_details(auth_details(detail::AUTH_TOKEN_MISSING, "token_missing")),
        )
    }

    /// Token mode, but the gateway has no token.
    pub fn token_not_configured() -> ConnectRejection {
        ConnectRejection::policy(
            ErrorShape::new(
                ErrorCode::InvalidRequest,
                "unauthorized: gateway token not configured on gateway (set gateway.auth.token)",
            )
            .with_details(auth_details(
                detail::AUTH_TOKEN_NOT_CONFIGURED,
                "token_missing_config",
            )),
        )
    }

    /// Password mode, no password given.
    pub fn password_missing() -> ConnectRejection {
        ConnectRejection::policy(
            ErrorShape::new(
                ErrorCode::InvalidRequest,
                "unauthorized: gateway password missing (provide gateway.auth.password)",
            )
            .with_details(auth_details(
                detail::AUTH_PASSWORD_MISSING,
                "password_missing",
            )),
        )
    }

    /// Password mode, wrong password.
    pub fn password_mismatch() -> ConnectRejection {
        ConnectRejection::policy(
            ErrorShape::new(
                ErrorCode::InvalidRequest,
                "unauthorized: gateway password mismatch (use this gateway's gateway.auth.password)",
            )
            .with_details(auth_details(detail::AUTH_PASSWORD_MISMATCH, "password_mismatch")),
        )
    }

    /// Password mode, but the gateway has no password.
    pub fn password_not_configured() -> ConnectRejection {
        ConnectRejection::policy(
            ErrorShape::new(
                ErrorCode::InvalidRequest,
                "unauthorized: gateway password not configured on gateway (set gateway.auth.password)",
            )
            .with_details(auth_details(detail::AUTH_PASSWORD_MISSING, "password_missing_config")),
        )
    }

    /// No credential and no device (cli), or node role without a device.
    pub fn device_identity_required() -> ConnectRejection {
        ConnectRejection::policy(
            ErrorShape::new(ErrorCode::NotPaired, "device identity required")
                .with_details(json!({ "code": detail::DEVICE_IDENTITY_REQUIRED })),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::SharedAuth;
    use openclaw_rs_protocol::{ClientInfo, ConnectAuth};

    fn params(min: u32, max: u32, mode: &str, token: Option<&str>) -> ConnectParams {
        ConnectParams {
            min_protocol: min,
            max_protocol: max,
            client: ClientInfo {
                id: "cli".into(),
                mode: mode.into(),
                ..ClientInfo::default()
            },
            caps: None,
            role: Some("operator".into()),
            scopes: Some(vec![scopes::READ.into()]),
            device: None,
            auth: token.map(|t| ConnectAuth {
                token: Some(t.into()),
                ..ConnectAuth::default()
            }),
            locale: None,
            user_agent: None,
        }
    }

    fn facts<'a>(p: &'a ConnectParams, req: &'a RequestFacts) -> ConnectFacts<'a> {
        ConnectFacts {
            peer: "127.0.0.1:1".parse().unwrap(),
            is_loopback: true,
            request: req,
            params: p,
            nonce: "n",
            challenge_ts: 0,
            protocol: 4,
        }
    }

    #[test]
    fn schema_checks_come_first() {
        let e = parse_connect_params(Some(&json!({"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","mode":"cli"},"device":{"id":"d","publicKey":"k","signature":"s","signedAt":1,"nonce":""}}))).unwrap_err();
        assert_eq!(
            e.error.message,
            "invalid connect params: at /device/nonce: must not have fewer than 1 characters"
        );
        assert_eq!(e.close_code, 1008);
        assert_eq!(e.close_reason, e.error.message);
        let e = parse_connect_params(None).unwrap_err();
        assert!(e.error.message.starts_with("invalid connect params: "));
        assert!(parse_connect_params(Some(
            &json!({"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","mode":"cli"}})
        ))
        .is_ok());
    }

    #[test]
    fn protocol_rules() {
        assert_eq!(negotiate_protocol(&params(4, 4, "cli", None)).unwrap(), 4);
        assert_eq!(negotiate_protocol(&params(3, 5, "cli", None)).unwrap(), 4);
        assert_eq!(negotiate_protocol(&params(3, 4, "probe", None)).unwrap(), 4);
        assert_eq!(negotiate_protocol(&params(3, 3, "probe", None)).unwrap(), 3);
        let e = negotiate_protocol(&params(3, 3, "cli", None)).unwrap_err();
        assert_eq!(e.close_code, 1002);
        let e = negotiate_protocol(&params(1, 2, "cli", None)).unwrap_err();
        assert_eq!(
            e.error.details.unwrap(),
            json!({"code":"PROTOCOL_MISMATCH","clientMinProtocol":1,"clientMaxProtocol":2,"expectedProtocol":4,"minimumProbeProtocol":3})
        );
    }

    #[test]
    fn token_rows() {
        let req = RequestFacts::default();
        let auth = SharedAuth::token("secret");
        let ok = params(4, 4, "cli", Some("secret"));
        let g = shared_secret_decision(&auth, &facts(&ok, &req)).unwrap();
        assert_eq!(g.method, "token");
        assert_eq!(g.scopes, vec![scopes::READ.to_string()]);
        let bad = params(4, 4, "cli", Some("nope"));
        let e = shared_secret_decision(&auth, &facts(&bad, &req)).unwrap_err();
        assert_eq!(e.error.detail_code(), Some("AUTH_TOKEN_MISMATCH"));
        assert_eq!(e.close_reason, e.error.message);
        let none = params(4, 4, "cli", None);
        let e = shared_secret_decision(&auth, &facts(&none, &req)).unwrap_err();
        assert_eq!(e.error.code, ErrorCode::NotPaired);
        assert_eq!(e.error.detail_code(), Some("DEVICE_IDENTITY_REQUIRED"));
    }

    #[test]
    fn constant_time_compare() {
        assert!(secret_eq("abc", "abc"));
        assert!(!secret_eq("abc", "abd"));
        assert!(!secret_eq("abc", "abcd"));
    }
}
