//! Error codes, connect detail codes and WebSocket close codes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Top-level `error.code` values of a `res` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request (or the connect attempt) was malformed or refused.
    #[serde(rename = "INVALID_REQUEST")]
    InvalidRequest,
    /// The device is not paired (or has no identity where one is required).
    #[serde(rename = "NOT_PAIRED")]
    NotPaired,
    /// The caller lacks a scope, role or limit for this request.
    #[serde(rename = "FORBIDDEN")]
    Forbidden,
    /// An approval referred to does not exist.
    #[serde(rename = "APPROVAL_NOT_FOUND")]
    ApprovalNotFound,
    /// The gateway cannot serve this right now (starting, draining, overloaded).
    #[serde(rename = "UNAVAILABLE")]
    Unavailable,
    /// Deprecated by OpenClaw; kept so that decoding never fails on it.
    #[serde(rename = "NOT_LINKED")]
    NotLinked,
    /// Deprecated by OpenClaw; kept so that decoding never fails on it.
    #[serde(rename = "AGENT_TIMEOUT")]
    AgentTimeout,
}

impl ErrorCode {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::NotPaired => "NOT_PAIRED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::ApprovalNotFound => "APPROVAL_NOT_FOUND",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::NotLinked => "NOT_LINKED",
            ErrorCode::AgentTimeout => "AGENT_TIMEOUT",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `error.details.code` values used on connect failures and scope checks.
pub mod detail {
    /// Connect without a token while the gateway requires one.
    pub const AUTH_TOKEN_MISSING: &str = "AUTH_TOKEN_MISSING";
    /// The connect token differs from the gateway's shared token.
    pub const AUTH_TOKEN_MISMATCH: &str = "AUTH_TOKEN_MISMATCH";
    /// The gateway's auth mode needs a shared secret (token or password) but none is configured.
    pub const AUTH_TOKEN_NOT_CONFIGURED: &str = "AUTH_TOKEN_NOT_CONFIGURED";
    /// Connect without a password while the gateway requires one.
    pub const AUTH_PASSWORD_MISSING: &str = "AUTH_PASSWORD_MISSING";
    /// The connect password differs from the gateway's password.
    pub const AUTH_PASSWORD_MISMATCH: &str = "AUTH_PASSWORD_MISMATCH";
    /// Too many failed auth attempts from this client; the error's `retryAfterMs` says when to
    /// retry.
    pub const AUTH_RATE_LIMITED: &str = "AUTH_RATE_LIMITED";
    /// The device token does not match the one issued to this device.
    pub const AUTH_DEVICE_TOKEN_MISMATCH: &str = "AUTH_DEVICE_TOKEN_MISMATCH";
    /// The device token does not grant the scopes requested on connect.
    pub const AUTH_DEVICE_TOKEN_SCOPE_MISMATCH: &str = "AUTH_DEVICE_TOKEN_SCOPE_MISMATCH";
    /// The device token was revoked or is otherwise not accepted.
    pub const AUTH_DEVICE_TOKEN_REJECTED: &str = "AUTH_DEVICE_TOKEN_REJECTED";
    /// The connection must present a signed device identity (`device` in the connect params).
    pub const DEVICE_IDENTITY_REQUIRED: &str = "DEVICE_IDENTITY_REQUIRED";
    /// The device signature over the connect challenge does not verify.
    pub const DEVICE_AUTH_SIGNATURE_INVALID: &str = "DEVICE_AUTH_SIGNATURE_INVALID";
    /// The signed nonce is not the one this connection was challenged with.
    pub const DEVICE_AUTH_NONCE_MISMATCH: &str = "DEVICE_AUTH_NONCE_MISMATCH";
    /// The device proof carries no nonce.
    pub const DEVICE_AUTH_NONCE_REQUIRED: &str = "DEVICE_AUTH_NONCE_REQUIRED";
    /// The device id is not the one derived from the device's public key.
    pub const DEVICE_AUTH_DEVICE_ID_MISMATCH: &str = "DEVICE_AUTH_DEVICE_ID_MISMATCH";
    /// The device signature's timestamp is too old (or too far in the future).
    pub const DEVICE_AUTH_SIGNATURE_EXPIRED: &str = "DEVICE_AUTH_SIGNATURE_EXPIRED";
    /// The device is not paired, or asks for more than it was approved for; a pairing request
    /// (`details.requestId`) now waits for an operator.
    pub const PAIRING_REQUIRED: &str = "PAIRING_REQUIRED";
    /// The client's protocol version range does not include the gateway's version.
    pub const PROTOCOL_MISMATCH: &str = "PROTOCOL_MISMATCH";
    /// OpenClaw's code for a client version it refuses; this gateway never sends it.
    pub const CLIENT_VERSION_MISMATCH: &str = "CLIENT_VERSION_MISMATCH";
    /// A Control UI connected from an origin the gateway does not allow.
    pub const CONTROL_UI_ORIGIN_NOT_ALLOWED: &str = "CONTROL_UI_ORIGIN_NOT_ALLOWED";
    /// The connection lacks a scope the method requires (the details name it).
    pub const MISSING_SCOPE: &str = "MISSING_SCOPE";
}

/// WebSocket close codes and the reasons the gateway sends with them.
pub mod close {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// Protocol error: used for `protocol mismatch`.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// Invalid frame payload data: a text frame (or close reason) that is not UTF-8 (RFC 6455 §8.1).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// Policy violation: auth failures, bad handshake, invalid frames.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// Message too big: pre-auth frame over 64 KiB, or post-auth over `maxPayload`.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// Internal error.
    pub const INTERNAL_ERROR: u16 = 1011;
    /// Service restart: gateway restarting or shutting down.
    pub const SERVICE_RESTART: u16 = 1012;
    /// Client-side tick timeout (sent by clients, never by the gateway).
    pub const TICK_TIMEOUT: u16 = 4000;
    /// The shared secret changed; the connection authenticated with the old one.
    pub const AUTH_CHANGED: u16 = 4001;
    /// A device's authority was revoked.
    pub const AUTHORITY_REVOKED: u16 = 4006;

    /// Close reason with [`MESSAGE_TOO_BIG`] when a frame before `connect` is over 64 KiB.
    pub const REASON_PREAUTH_TOO_LARGE: &str = "preauth payload too large";
    /// Close reason with [`MESSAGE_TOO_BIG`] when a frame is over the connection's `maxPayload`.
    pub const REASON_PAYLOAD_TOO_LARGE: &str = "payload too large";
    /// Close reason with [`SERVICE_RESTART`] when the gateway restarts.
    pub const REASON_SERVICE_RESTART: &str = "service restart";
    /// Close reason with [`SERVICE_RESTART`] when the gateway stops.
    pub const REASON_SHUTTING_DOWN: &str = "gateway shutting down";
    /// Close reason with [`AUTH_CHANGED`].
    pub const REASON_AUTH_CHANGED: &str = "gateway auth changed";
    /// Close reason with [`POLICY_VIOLATION`] when no `connect` request arrived in time after the
    /// challenge.
    pub const REASON_CHALLENGE_TIMEOUT: &str = "connect challenge timeout";
    /// Close reason with [`AUTHORITY_REVOKED`].
    pub const REASON_AUTHORITY_REVOKED: &str = "authority_revoked";
}
