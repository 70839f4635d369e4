//! The connect decision: a pure function of proven facts.
//!
//! Inputs are only what the gateway *verified*: the socket's locality, which shared secret (if
//! any) matched, the device proof result, the device-token check, the requested role and scopes.
//! `client.id` / `client.mode` never appear here except `probe`, which can only take scopes away
//! (OpenClaw #72418: a loopback client claiming `gateway-client/backend` must gain nothing).
//!
//! Rows (observed OpenClaw behaviour, minus its bugs):
//! - loopback + shared secret, no device → requested scopes (probe → `[]`);
//! - remote + shared secret, no device → admitted with `[]`;
//! - shared secret + device on loopback → paired silently (or upgraded) and a device token issued;
//! - shared secret + device, remote, not paired / asking more → `PAIRING_REQUIRED`;
//! - paired device + stale device token + proven shared secret → a fresh token (seed 001 heals);
//! - stale device token without the shared secret → `AUTH_DEVICE_TOKEN_MISMATCH` with the fix command.

use openclaw_rs_config::AuthMode;
use openclaw_rs_protocol::{close, detail, ErrorCode, ErrorShape};
use serde_json::json;

use crate::proof::DeviceAuthError;
use crate::store::TokenReject;

/// Which shared-secret field a client used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// The gateway token (auth mode `token`).
    Token,
    /// The gateway password (auth mode `password`).
    Password,
}

/// The result of comparing the presented shared secret with the configured one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedAuth {
    /// No shared secret was presented.
    Missing,
    /// The presented secret matched.
    Verified(SecretKind),
    /// A secret was presented and did not match.
    Mismatch(SecretKind),
    /// The gateway's mode needs a secret that is not configured.
    NotConfigured(SecretKind),
}

/// The requested role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// `operator`: a control client (UI, TUI, CLI); the only role that gets scopes.
    Operator,
    /// `node`: a device node; needs a proven device identity and never gets scopes.
    Node,
    /// Anything else, as sent.
    Invalid(String),
}

impl Role {
    /// Parse `connect.params.role` (absent = operator).
    pub fn parse(role: Option<&str>) -> Role {
        match role.map(str::trim) {
            None | Some("") | Some("operator") => Role::Operator,
            Some("node") => Role::Node,
            Some(other) => Role::Invalid(other.to_string()),
        }
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Role::Operator => openclaw_rs_protocol::scopes::ROLE_OPERATOR,
            Role::Node => openclaw_rs_protocol::scopes::ROLE_NODE,
            Role::Invalid(s) => s,
        }
    }
}

/// What the pairing store says about a proven device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairingFact {
    /// The device id is not in the pairing store.
    NotPaired,
    /// The device is paired; the flags say whether this request stays within its approval.
    Paired {
        /// The requested role is approved.
        role_approved: bool,
        /// Every requested scope is within the approved baseline.
        scopes_approved: bool,
    },
}

/// The device proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceFact {
    /// No `device` block.
    Absent,
    /// The proof failed.
    Invalid(DeviceAuthError),
    /// The proof verified; the store's view of the device.
    Proven(PairingFact),
}

/// The device-token check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFact {
    /// No device token was sent.
    NotPresented,
    /// The device token matches the proven device's current token for the role.
    Valid,
    /// The device token was checked and refused, for this reason.
    Rejected(TokenReject),
    /// A token was presented without a device identity to check it against.
    NoIdentity,
}

/// Everything the decision may look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectFacts {
    /// The connection is local ([`Locality::local`](crate::locality::Locality::local)): loopback
    /// and not forwarded by an untrusted hop. Only local clients are paired silently and get the
    /// scopes they ask for without a device.
    pub local: bool,
    /// The configured `gateway.auth` mode.
    pub mode: AuthMode,
    /// How the presented shared secret compared with the configured one.
    pub shared: SharedAuth,
    /// The device proof and, when it verified, what the pairing store says about the device.
    pub device: DeviceFact,
    /// The device-token check.
    pub device_token: TokenFact,
    /// The parsed `connect.params.role`.
    pub role: Role,
    /// Requested scopes, de-duplicated, in request order.
    pub scopes: Vec<String>,
    /// `client.mode == "probe"`: may only lower privileges.
    pub probe: bool,
    /// The client address is locked out for this long.
    pub rate_limited_ms: Option<u64>,
}

/// `hello-ok.auth.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// Mode `none`: nothing was checked.
    None,
    /// The shared gateway token matched.
    Token,
    /// The shared gateway password matched.
    Password,
    /// The device token matched (it takes precedence over a shared secret).
    DeviceToken,
}

impl AuthMethod {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::Token => "token",
            AuthMethod::Password => "password",
            AuthMethod::DeviceToken => "device-token",
        }
    }
}

/// What to do about the device token on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAction {
    /// No device, nothing to deliver.
    None,
    /// The client proved its current token; hand it back unchanged.
    Echo,
    /// Mint a new token (first pairing, or heal a stale/missing one) and deliver it.
    Issue,
}

/// Why a device needs (silent or operator) approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairingReason {
    /// The device is not paired at all.
    NotPaired,
    /// The device is paired but not for the requested role.
    RoleUpgrade,
    /// The device is paired for the role but asks for scopes beyond its approved baseline.
    ScopeUpgrade,
}

impl PairingReason {
    /// The reference's reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            PairingReason::NotPaired => "not-paired",
            PairingReason::RoleUpgrade => "role-upgrade",
            PairingReason::ScopeUpgrade => "scope-upgrade",
        }
    }

    /// `pairing required: …` message.
    pub fn message(self) -> &'static str {
        match self {
            PairingReason::NotPaired => "pairing required: device is not approved yet",
            PairingReason::RoleUpgrade => {
                "pairing required: device is asking for a higher role than currently approved"
            }
            PairingReason::ScopeUpgrade => {
                "pairing required: device is asking for more scopes than currently approved"
            }
        }
    }
}

/// An admitted connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The granted role.
    pub role: Role,
    /// The granted scopes: the requested ones on a local or device-proven connection, empty for a
    /// remote connection without a device, for `probe` clients and for the `node` role.
    pub scopes: Vec<String>,
    /// Which credential admitted the connection (`hello-ok.auth.method`).
    pub method: AuthMethod,
    /// What to do with the device token.
    pub token: TokenAction,
    /// Pair (or upgrade) the device silently before admitting it.
    pub silent_pair: Option<PairingReason>,
}

/// A refused connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The client address is locked out after too many failures (see [`crate::ratelimit`]).
    RateLimited {
        /// How long the lockout still lasts, in milliseconds (`retryAfterMs`).
        retry_after_ms: u64,
    },
    /// `connect.params.role` is neither `operator` nor `node`.
    InvalidRole,
    /// The device proof failed.
    Device(DeviceAuthError),
    /// A gateway token was presented and does not match.
    TokenMismatch,
    /// Mode `token`, a proven device, and neither the gateway token nor a device token presented.
    TokenMissing,
    /// A gateway password was presented and does not match.
    PasswordMismatch,
    /// Mode `password` and no password was presented.
    PasswordMissing,
    /// The mode needs a secret that `gateway.auth` does not configure.
    SecretNotConfigured(SecretKind),
    /// A device token was presented and refused (wrong, revoked, rotated away, stale issuer).
    DeviceTokenMismatch(TokenReject),
    /// A device token is valid but the request asks for scopes beyond it.
    DeviceTokenScopeMismatch,
    /// Mode `token` with no credential and no device, a device token sent without a device
    /// identity, or the `node` role without a proven device.
    DeviceIdentityRequired,
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Admit the connection.
    Allow(Grant),
    /// The proven device must be approved first (a remote client, or one asking for more than it
    /// has); the gateway records a pending request and answers `PAIRING_REQUIRED`.
    PairingRequired(PairingReason),
    /// Refuse the connection.
    Reject(Rejection),
}

/// Decide a connect from proven facts. Pure: no I/O, no clock.
pub fn decide(f: &ConnectFacts) -> Decision {
    use Decision::Reject as R;
    if let Some(ms) = f.rate_limited_ms {
        return R(Rejection::RateLimited { retry_after_ms: ms });
    }
    if matches!(f.role, Role::Invalid(_)) {
        return R(Rejection::InvalidRole);
    }
    if let DeviceFact::Invalid(e) = f.device {
        return R(Rejection::Device(e));
    }

    // Which credential is proven.
    let method = if f.device_token == TokenFact::Valid && matches!(f.device, DeviceFact::Proven(_))
    {
        AuthMethod::DeviceToken
    } else if let SharedAuth::Verified(k) = f.shared {
        match k {
            SecretKind::Token => AuthMethod::Token,
            SecretKind::Password => AuthMethod::Password,
        }
    } else if f.mode == AuthMode::None {
        AuthMethod::None
    } else {
        return R(credential_failure(f));
    };

    let scopes = |s: Vec<String>| {
        if f.probe || f.role == Role::Node {
            Vec::new()
        } else {
            s
        }
    };
    match f.device {
        DeviceFact::Absent | DeviceFact::Invalid(_) => {
            if f.role == Role::Node {
                return R(Rejection::DeviceIdentityRequired);
            }
            let granted = if f.local {
                f.scopes.clone()
            } else {
                Vec::new()
            };
            Decision::Allow(Grant {
                role: f.role.clone(),
                scopes: scopes(granted),
                method,
                token: TokenAction::None,
                silent_pair: None,
            })
        }
        DeviceFact::Proven(pairing) => {
            if method == AuthMethod::DeviceToken {
                return Decision::Allow(Grant {
                    role: f.role.clone(),
                    scopes: scopes(f.scopes.clone()),
                    method,
                    token: TokenAction::Echo,
                    silent_pair: None,
                });
            }
            let reason = match pairing {
                PairingFact::NotPaired => Some(PairingReason::NotPaired),
                PairingFact::Paired {
                    role_approved: false,
                    ..
                } => Some(PairingReason::RoleUpgrade),
                PairingFact::Paired {
                    scopes_approved: false,
                    ..
                } => Some(PairingReason::ScopeUpgrade),
                PairingFact::Paired { .. } => None,
            };
            match reason {
                Some(r) if !f.local => Decision::PairingRequired(r),
                silent => Decision::Allow(Grant {
                    role: f.role.clone(),
                    scopes: scopes(f.scopes.clone()),
                    method,
                    // Paired device proving the shared secret without a valid device token
                    // (none, stale, revoked): mint a fresh one. This is the seed 001 heal.
                    token: TokenAction::Issue,
                    silent_pair: silent,
                }),
            }
        }
    }
}

fn credential_failure(f: &ConnectFacts) -> Rejection {
    match (f.shared, f.device_token) {
        (_, TokenFact::Rejected(TokenReject::ScopeMismatch)) => Rejection::DeviceTokenScopeMismatch,
        (_, TokenFact::Rejected(r)) => Rejection::DeviceTokenMismatch(r),
        (SharedAuth::Mismatch(SecretKind::Token), _) => Rejection::TokenMismatch,
        (SharedAuth::Mismatch(SecretKind::Password), _) => Rejection::PasswordMismatch,
        (SharedAuth::NotConfigured(k), _) => Rejection::SecretNotConfigured(k),
        (_, TokenFact::NoIdentity) => Rejection::DeviceIdentityRequired,
        (SharedAuth::Missing, _) | (SharedAuth::Verified(_), _) => match f.device {
            // OpenClaw answers a bare connect (no secret, no device) in token mode with
            // "device identity required"; in password mode we name the missing password.
            DeviceFact::Absent | DeviceFact::Invalid(_) if f.mode == AuthMode::Password => {
                Rejection::PasswordMissing
            }
            DeviceFact::Absent | DeviceFact::Invalid(_) => Rejection::DeviceIdentityRequired,
            DeviceFact::Proven(_) => match f.mode {
                AuthMode::Password => Rejection::PasswordMissing,
                _ => Rejection::TokenMissing,
            },
        },
    }
}

/// Context for rendering a rejection (what the wire error may mention).
#[derive(Debug, Clone, Copy, Default)]
pub struct RejectContext<'a> {
    /// The proven device id, named in device-token errors.
    pub device_id: Option<&'a str>,
    /// Whether the client is local; picks the `fixCommand` (with or without `--url`).
    pub local: bool,
}

/// The command that repairs a stale device token: one connect that proves the gateway secret.
pub fn device_token_fix_command(local: bool) -> &'static str {
    if local {
        "openclaw doctor --token <gateway-token>"
    } else {
        "openclaw doctor --url <gateway-url> --token <gateway-token>"
    }
}

impl Rejection {
    /// Whether this failure counts towards the per-address rate limit (a wrong guess).
    pub fn counts_as_failure(self) -> bool {
        matches!(
            self,
            Rejection::TokenMismatch
                | Rejection::PasswordMismatch
                | Rejection::DeviceTokenMismatch(_)
                | Rejection::DeviceTokenScopeMismatch
                | Rejection::Device(DeviceAuthError::SignatureInvalid)
        )
    }

    /// WebSocket close code after the error response.
    pub fn close_code(self) -> u16 {
        close::POLICY_VIOLATION
    }

    /// The `res` error.
    pub fn to_error_shape(self, ctx: RejectContext<'_>) -> ErrorShape {
        let unauthorized = |message: &str, code: &str, reason: &str, next: &str| {
            ErrorShape::new(ErrorCode::InvalidRequest, message).with_details(json!({
                "code": code,
                "authReason": reason,
                "canRetryWithDeviceToken": false,
                "recommendedNextStep": next,
            }))
        };
        match self {
            Rejection::RateLimited { retry_after_ms } => ErrorShape::new(
                ErrorCode::InvalidRequest,
                "unauthorized: too many failed authentication attempts (retry later)",
            )
            .with_details(json!({
                "code": detail::AUTH_RATE_LIMITED,
                "authReason": "rate_limited",
                "canRetryWithDeviceToken": false,
                "recommendedNextStep": "wait_then_retry",
            }))
            .retry_after(Some(retry_after_ms)),
            Rejection::InvalidRole => ErrorShape::new(ErrorCode::InvalidRequest, "invalid role"),
            Rejection::Device(e) => e.to_error_shape(),
            Rejection::TokenMismatch => unauthorized(
                "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)",
                detail::AUTH_TOKEN_MISMATCH,
                "token_mismatch",
                "update_auth_credentials",
            ),
            Rejection::TokenMissing => unauthorized(
                "unauthorized: gateway token missing (pass --token or set OPENCLAW_GATEWAY_TOKEN)",
                detail::AUTH_TOKEN_MISSING,
                "token_missing",
                "update_auth_credentials",
            ),
            Rejection::PasswordMismatch => unauthorized(
                "unauthorized: gateway password mismatch (use this gateway's gateway.auth.password)",
                detail::AUTH_PASSWORD_MISMATCH,
                "password_mismatch",
                "update_auth_credentials",
            ),
            Rejection::PasswordMissing => unauthorized(
                "unauthorized: gateway password missing (pass --password or set OPENCLAW_GATEWAY_PASSWORD)",
                detail::AUTH_PASSWORD_MISSING,
                "password_missing",
                "update_auth_credentials",
            ),
            Rejection::SecretNotConfigured(SecretKind::Token) => unauthorized(
                "unauthorized: gateway token not configured on gateway (set gateway.auth.token)",
                detail::AUTH_TOKEN_NOT_CONFIGURED,
                "token_not_configured",
                "update_auth_configuration",
            ),
            Rejection::SecretNotConfigured(SecretKind::Password) => unauthorized(
                "unauthorized: gateway password not configured on gateway (set gateway.auth.password)",
                detail::AUTH_TOKEN_NOT_CONFIGURED,
                "password_not_configured",
                "update_auth_configuration",
            ),
            Rejection::DeviceTokenMismatch(reason) => {
                let fix = device_token_fix_command(ctx.local);
                ErrorShape::new(
                    ErrorCode::InvalidRequest,
                    "unauthorized: device token mismatch (rotate/reissue device token)",
                )
                .with_details(json!({
                    "code": detail::AUTH_DEVICE_TOKEN_MISMATCH,
                    "authReason": "device_token_mismatch",
                    "tokenReason": reason.as_str(),
                    "canRetryWithDeviceToken": false,
                    "recommendedNextStep": "update_auth_credentials",
                    "deviceId": ctx.device_id,
                    "fixCommand": fix,
                    "remediationHint": format!(
                        "Reconnect once with the gateway token and this device gets a fresh device token: {fix}"
                    ),
                }))
            }
            Rejection::DeviceTokenScopeMismatch => ErrorShape::new(
                ErrorCode::InvalidRequest,
                "unauthorized: device token scope mismatch (re-pair or approve scope upgrade)",
            )
            .with_details(json!({
                "code": detail::AUTH_DEVICE_TOKEN_SCOPE_MISMATCH,
                "authReason": "device_token_scope_mismatch",
                "canRetryWithDeviceToken": false,
                "recommendedNextStep": "review_auth_configuration",
                "deviceId": ctx.device_id,
                "fixCommand": device_token_fix_command(ctx.local),
            })),
            Rejection::DeviceIdentityRequired => ErrorShape::new(ErrorCode::NotPaired, "device identity required")
                .with_details(json!({ "code": detail::DEVICE_IDENTITY_REQUIRED })),
        }
    }
}

/// The `PAIRING_REQUIRED` error and its close reason (`… (requestId: <id>)`).
pub fn pairing_required_error(
    reason: PairingReason,
    request_id: &str,
    device_id: &str,
    role: &str,
    scopes: &[String],
) -> (ErrorShape, String) {
    let e = ErrorShape::new(ErrorCode::NotPaired, reason.message()).with_details(json!({
        "code": detail::PAIRING_REQUIRED,
        "reason": reason.as_str(),
        "requestId": request_id,
        "remediationHint": "Approve this device from the pending pairing requests.",
        "fixCommand": format!("openclaw devices approve {request_id}"),
        "deviceId": device_id,
        "requestedRole": role,
        "requestedScopes": scopes,
    }));
    let close_reason = format!("{} (requestId: {request_id})", reason.message());
    (e, close_reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    const ALL: &[&str] = &["operator.read", "operator.write", "operator.admin"];
    const TOK: SharedAuth = SharedAuth::Verified(SecretKind::Token);
    const PAIRED: DeviceFact = DeviceFact::Proven(PairingFact::Paired {
        role_approved: true,
        scopes_approved: true,
    });
    const NEW: DeviceFact = DeviceFact::Proven(PairingFact::NotPaired);

    fn facts(
        local: bool,
        shared: SharedAuth,
        device: DeviceFact,
        token: TokenFact,
    ) -> ConnectFacts {
        ConnectFacts {
            local,
            mode: AuthMode::Token,
            shared,
            device,
            device_token: token,
            role: Role::Operator,
            scopes: s(ALL),
            probe: false,
            rate_limited_ms: None,
        }
    }

    fn allow(
        scopes: &[&str],
        method: AuthMethod,
        token: TokenAction,
        silent: Option<PairingReason>,
    ) -> Decision {
        Decision::Allow(Grant {
            role: Role::Operator,
            scopes: s(scopes),
            method,
            token,
            silent_pair: silent,
        })
    }

    #[test]
    fn decision_table() {
        use AuthMethod as M;
        use TokenAction as T;
        let none = TokenFact::NotPresented;
        let stale = TokenFact::Rejected(TokenReject::Mismatch);
        let probe = ConnectFacts {
            probe: true,
            ..facts(true, TOK, DeviceFact::Absent, none)
        };
        let node_no_device = ConnectFacts {
            role: Role::Node,
            ..facts(true, TOK, DeviceFact::Absent, none)
        };
        let node_local_device = ConnectFacts {
            role: Role::Node,
            ..facts(true, TOK, NEW, none)
        };
        let node_remote_device = ConnectFacts {
            role: Role::Node,
            ..facts(false, TOK, NEW, none)
        };
        let upgrade = DeviceFact::Proven(PairingFact::Paired {
            role_approved: true,
            scopes_approved: false,
        });
        let role_upgrade = DeviceFact::Proven(PairingFact::Paired {
            role_approved: false,
            scopes_approved: true,
        });
        let mode_none = ConnectFacts {
            mode: AuthMode::None,
            ..facts(true, SharedAuth::Missing, DeviceFact::Absent, none)
        };
        let password_ok = facts(
            true,
            SharedAuth::Verified(SecretKind::Password),
            DeviceFact::Absent,
            none,
        );
        let limited = ConnectFacts {
            rate_limited_ms: Some(500),
            ..facts(false, TOK, DeviceFact::Absent, none)
        };
        let bad_role = ConnectFacts {
            role: Role::Invalid("root".into()),
            ..facts(true, TOK, DeviceFact::Absent, none)
        };

        let rows: Vec<(&str, ConnectFacts, Decision)> = vec![
            (
                "loopback cli + token, no device: keeps scopes",
                facts(true, TOK, DeviceFact::Absent, none),
                allow(ALL, M::Token, T::None, None),
            ),
            (
                "loopback probe + token: no scopes",
                probe,
                allow(&[], M::Token, T::None, None),
            ),
            (
                "remote + token, no device: admitted with []",
                facts(false, TOK, DeviceFact::Absent, none),
                allow(&[], M::Token, T::None, None),
            ),
            (
                "loopback + token + new device: silent pairing + token",
                facts(true, TOK, NEW, none),
                allow(ALL, M::Token, T::Issue, Some(PairingReason::NotPaired)),
            ),
            (
                "remote + token + new device: pairing required",
                facts(false, TOK, NEW, none),
                Decision::PairingRequired(PairingReason::NotPaired),
            ),
            (
                "remote + token + scope upgrade: pairing required",
                facts(false, TOK, upgrade, none),
                Decision::PairingRequired(PairingReason::ScopeUpgrade),
            ),
            (
                "remote + token + role upgrade: pairing required",
                facts(false, TOK, role_upgrade, none),
                Decision::PairingRequired(PairingReason::RoleUpgrade),
            ),
            (
                "loopback + token + scope upgrade: silent upgrade",
                facts(true, TOK, upgrade, none),
                allow(ALL, M::Token, T::Issue, Some(PairingReason::ScopeUpgrade)),
            ),
            (
                "paired device, valid device token, no secret",
                facts(false, SharedAuth::Missing, PAIRED, TokenFact::Valid),
                allow(ALL, M::DeviceToken, T::Echo, None),
            ),
            (
                "seed 001: loopback stale token + shared token heals",
                facts(true, TOK, PAIRED, stale),
                allow(ALL, M::Token, T::Issue, None),
            ),
            (
                "remote paired, stale token + shared token heals",
                facts(false, TOK, PAIRED, stale),
                allow(ALL, M::Token, T::Issue, None),
            ),
            (
                "remote stale token, no secret: mismatch",
                facts(false, SharedAuth::Missing, PAIRED, stale),
                Decision::Reject(Rejection::DeviceTokenMismatch(TokenReject::Mismatch)),
            ),
            (
                "loopback stale token, no secret: mismatch (labels never heal)",
                facts(true, SharedAuth::Missing, PAIRED, stale),
                Decision::Reject(Rejection::DeviceTokenMismatch(TokenReject::Mismatch)),
            ),
            (
                "revoked token, no secret",
                facts(
                    false,
                    SharedAuth::Missing,
                    PAIRED,
                    TokenFact::Rejected(TokenReject::Revoked),
                ),
                Decision::Reject(Rejection::DeviceTokenMismatch(TokenReject::Revoked)),
            ),
            (
                "scope-mismatched token, no secret",
                facts(
                    false,
                    SharedAuth::Missing,
                    PAIRED,
                    TokenFact::Rejected(TokenReject::ScopeMismatch),
                ),
                Decision::Reject(Rejection::DeviceTokenScopeMismatch),
            ),
            (
                "wrong shared token",
                facts(
                    true,
                    SharedAuth::Mismatch(SecretKind::Token),
                    DeviceFact::Absent,
                    none,
                ),
                Decision::Reject(Rejection::TokenMismatch),
            ),
            (
                "wrong shared token but valid device token",
                facts(
                    false,
                    SharedAuth::Mismatch(SecretKind::Token),
                    PAIRED,
                    TokenFact::Valid,
                ),
                allow(ALL, M::DeviceToken, T::Echo, None),
            ),
            (
                "no auth, no device",
                facts(true, SharedAuth::Missing, DeviceFact::Absent, none),
                Decision::Reject(Rejection::DeviceIdentityRequired),
            ),
            (
                "no auth, proven device",
                facts(true, SharedAuth::Missing, NEW, none),
                Decision::Reject(Rejection::TokenMissing),
            ),
            (
                "device token without identity",
                facts(
                    true,
                    SharedAuth::Missing,
                    DeviceFact::Absent,
                    TokenFact::NoIdentity,
                ),
                Decision::Reject(Rejection::DeviceIdentityRequired),
            ),
            (
                "node role + token, no device",
                node_no_device,
                Decision::Reject(Rejection::DeviceIdentityRequired),
            ),
            (
                "node role local device: silent, no scopes",
                node_local_device,
                Decision::Allow(Grant {
                    role: Role::Node,
                    scopes: vec![],
                    method: M::Token,
                    token: T::Issue,
                    silent_pair: Some(PairingReason::NotPaired),
                }),
            ),
            (
                "node role remote device: pairing required",
                node_remote_device,
                Decision::PairingRequired(PairingReason::NotPaired),
            ),
            (
                "bad device proof wins over a good token",
                facts(
                    true,
                    TOK,
                    DeviceFact::Invalid(DeviceAuthError::NonceMismatch),
                    none,
                ),
                Decision::Reject(Rejection::Device(DeviceAuthError::NonceMismatch)),
            ),
            (
                "auth mode none, loopback",
                mode_none,
                allow(ALL, M::None, T::None, None),
            ),
            (
                "password verified, loopback",
                password_ok,
                allow(ALL, M::Password, T::None, None),
            ),
            (
                "rate limited first",
                limited,
                Decision::Reject(Rejection::RateLimited {
                    retry_after_ms: 500,
                }),
            ),
            (
                "invalid role",
                bad_role,
                Decision::Reject(Rejection::InvalidRole),
            ),
        ];
        for (name, f, want) in rows {
            assert_eq!(decide(&f), want, "row: {name}");
        }
    }

    #[test]
    fn labels_are_not_inputs() {
        // ConnectFacts has no client.id: the backend label cannot change anything. The only label
        // input, probe, only ever removes scopes.
        for local in [true, false] {
            for device in [DeviceFact::Absent, NEW, PAIRED] {
                let base = facts(local, TOK, device, TokenFact::NotPresented);
                let probed = ConnectFacts {
                    probe: true,
                    ..base.clone()
                };
                if let (Decision::Allow(a), Decision::Allow(b)) = (decide(&base), decide(&probed)) {
                    assert!(b.scopes.iter().all(|s| a.scopes.contains(s)));
                    assert!(b.scopes.is_empty());
                }
            }
        }
    }

    #[test]
    fn wire_shapes() {
        let e = Rejection::TokenMismatch.to_error_shape(RejectContext::default());
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert_eq!(
            e.message,
            "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)"
        );
        assert_eq!(
            e.details.unwrap(),
            json!({"code":"AUTH_TOKEN_MISMATCH","authReason":"token_mismatch","canRetryWithDeviceToken":false,"recommendedNextStep":"update_auth_credentials"})
        );
        let e =
            Rejection::DeviceTokenMismatch(TokenReject::Mismatch).to_error_shape(RejectContext {
                device_id: Some("abc"),
                local: false,
            });
        assert_eq!(
            e.message,
            "unauthorized: device token mismatch (rotate/reissue device token)"
        );
        let d = e.details.unwrap();
        assert_eq!(d["code"], "AUTH_DEVICE_TOKEN_MISMATCH");
        assert_eq!(d["recommendedNextStep"], "update_auth_credentials");
        assert_eq!(
            d["fixCommand"],
            "openclaw doctor --url <gateway-url> --token <gateway-token>"
        );
        let e =
            Rejection::RateLimited { retry_after_ms: 42 }.to_error_shape(RejectContext::default());
        assert_eq!(
            e.message,
            "unauthorized: too many failed authentication attempts (retry later)"
        );
        assert_eq!((e.retryable, e.retry_after_ms), (Some(true), Some(42)));
        let e = Rejection::DeviceIdentityRequired.to_error_shape(RejectContext::default());
        assert_eq!(
            (e.code, e.message.as_str()),
            (ErrorCode::NotPaired, "device identity required")
        );
        let (e, reason) =
            pairing_required_error(PairingReason::NotPaired, "r1", "d1", "operator", &s(ALL));
        assert_eq!(e.message, "pairing required: device is not approved yet");
        assert_eq!(
            reason,
            "pairing required: device is not approved yet (requestId: r1)"
        );
        assert_eq!(e.details.as_ref().unwrap()["requestId"], "r1");
        assert_eq!(e.detail_code(), Some("PAIRING_REQUIRED"));
    }
}

#[cfg(test)]
mod invariants {
    //! Properties that hold for every combination of facts.
    use super::*;
    use proptest::prelude::*;

    fn shared() -> impl Strategy<Value = SharedAuth> {
        let kind = prop_oneof![Just(SecretKind::Token), Just(SecretKind::Password)];
        prop_oneof![
            Just(SharedAuth::Missing),
            kind.clone().prop_map(SharedAuth::Verified),
            kind.clone().prop_map(SharedAuth::Mismatch),
            kind.prop_map(SharedAuth::NotConfigured),
        ]
    }

    fn device() -> impl Strategy<Value = DeviceFact> {
        prop_oneof![
            Just(DeviceFact::Absent),
            Just(DeviceFact::Invalid(DeviceAuthError::SignatureInvalid)),
            Just(DeviceFact::Proven(PairingFact::NotPaired)),
            (any::<bool>(), any::<bool>()).prop_map(|(r, s)| DeviceFact::Proven(
                PairingFact::Paired {
                    role_approved: r,
                    scopes_approved: s
                }
            )),
        ]
    }

    fn token() -> impl Strategy<Value = TokenFact> {
        prop_oneof![
            Just(TokenFact::NotPresented),
            Just(TokenFact::Valid),
            Just(TokenFact::NoIdentity),
            Just(TokenFact::Rejected(TokenReject::Mismatch)),
            Just(TokenFact::Rejected(TokenReject::ScopeMismatch)),
        ]
    }

    fn facts() -> impl Strategy<Value = ConnectFacts> {
        (
            any::<bool>(),
            prop_oneof![
                Just(AuthMode::Token),
                Just(AuthMode::Password),
                Just(AuthMode::None)
            ],
            shared(),
            device(),
            token(),
            prop_oneof![Just(Role::Operator), Just(Role::Node)],
            any::<bool>(),
        )
            .prop_map(|(local, mode, shared, device, device_token, role, probe)| {
                ConnectFacts {
                    local,
                    mode,
                    shared,
                    device,
                    device_token,
                    role,
                    scopes: vec!["operator.read".into(), "operator.admin".into()],
                    probe,
                    rate_limited_ms: None,
                }
            })
    }

    proptest! {
        #[test]
        fn remote_never_pairs_silently(f in facts()) {
            if let Decision::Allow(g) = decide(&f) {
                if !f.local {
                    prop_assert!(g.silent_pair.is_none());
                }
            }
        }

        #[test]
        fn nothing_is_admitted_without_a_proven_credential(f in facts()) {
            if let Decision::Allow(g) = decide(&f) {
                let proven = matches!(f.shared, SharedAuth::Verified(_))
                    || (f.device_token == TokenFact::Valid && matches!(f.device, DeviceFact::Proven(_)))
                    || f.mode == AuthMode::None;
                prop_assert!(proven, "{f:?} → {g:?}");
            }
        }

        #[test]
        fn remote_device_less_clients_get_no_scopes(f in facts()) {
            if let Decision::Allow(g) = decide(&f) {
                if !f.local && !matches!(f.device, DeviceFact::Proven(_)) {
                    prop_assert!(g.scopes.is_empty());
                }
            }
        }

        #[test]
        fn probe_and_node_never_get_scopes(f in facts()) {
            if let Decision::Allow(g) = decide(&f) {
                if f.probe || f.role == Role::Node {
                    prop_assert!(g.scopes.is_empty());
                }
            }
        }

        #[test]
        fn an_invalid_device_proof_is_always_refused(f in facts()) {
            if matches!(f.device, DeviceFact::Invalid(_)) {
                prop_assert!(matches!(decide(&f), Decision::Reject(_)));
            }
        }
    }
}
