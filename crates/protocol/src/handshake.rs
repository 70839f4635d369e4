//! Handshake payloads: `connect.challenge`, `connect` params, `hello-ok`.

use serde::{Deserialize, Serialize};

/// `connect.challenge` payload, the first frame the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengePayload {
    /// Random per-connection nonce; a device proof must sign it.
    pub nonce: String,
    /// Server time when the challenge was sent, in Unix milliseconds.
    pub ts: u64,
    /// Optional server capabilities announced before `connect`; this gateway sends none (omitted
    /// when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
}

/// `client` inside `connect` params. Labels only: they never grant privileges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    /// Client id as OpenClaw names its clients (`cli`, `openclaw-control-ui`, `openclaw-tui`, …).
    pub id: String,
    /// Name shown for this client in presence lists; absent when the client sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Client version string (OpenClaw's clients send their package version); empty when absent.
    #[serde(default)]
    pub version: String,
    /// Operating system of the client (`linux`, `darwin`, `web`, …); empty when absent.
    #[serde(default)]
    pub platform: String,
    /// Device family for display (`Linux`, `Mac`, …); absent when not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// How the client runs: `webchat`, `cli`, `ui`, `backend`, `node`, `worker`, `probe` or
    /// `test`; `probe` clients may use protocol version 3.
    pub mode: String,
    /// A client-chosen id of this client instance; shown in presence, not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

/// `device` inside `connect` params: the proof of an Ed25519 identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceProof {
    /// Device id: derived from the public key (the gateway checks that it matches).
    pub id: String,
    /// Ed25519 public key, base64url.
    pub public_key: String,
    /// Signature over the connect payload (which includes the challenge nonce), base64url.
    pub signature: String,
    /// When the client signed, in Unix milliseconds; too old a signature is refused.
    pub signed_at: u64,
    /// The challenge nonce that was signed; empty when the client sent none (then refused with
    /// `DEVICE_AUTH_NONCE_REQUIRED`).
    #[serde(default)]
    pub nonce: String,
}

/// `auth` inside `connect` params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConnectAuth {
    /// The gateway's shared token, when it runs in token mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A setup-code bootstrap token (OpenClaw's clients send it only when no shared or device
    /// token applies); this gateway only uses it in the signed device payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_token: Option<String>,
    /// The device token issued by an earlier `hello-ok` to this paired device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    /// The gateway password, when it runs in password mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// `connect` request params.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectParams {
    /// Lowest protocol version the client speaks.
    pub min_protocol: u32,
    /// Highest protocol version the client speaks; the range must include
    /// [`crate::version::CURRENT`].
    pub max_protocol: u32,
    /// Who is connecting (labels only).
    pub client: ClientInfo,
    /// Client capabilities (`tool-events`, `approvals`, …); accepted and not used by this gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caps: Option<Vec<String>>,
    /// `operator` or `node` ([`crate::scopes::ROLE_OPERATOR`], [`crate::scopes::ROLE_NODE`]);
    /// absent means operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Requested operator scopes; the granted ones come back in `hello-ok.auth.scopes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// A device identity proof, for paired devices and for pairing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceProof>,
    /// Shared secret or tokens; absent for a device-only or local connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<ConnectAuth>,
    /// The client's locale (e.g. `en-US`); accepted and not used by this gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The client's user agent string; accepted and not used by this gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// `hello-ok.server`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// The server's version string.
    pub version: String,
    /// This connection's id, as the gateway names it in logs and presence.
    pub conn_id: String,
    /// Random id of this gateway process, new on each start: a change tells a client the gateway
    /// restarted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// `bundled` or `configured`: where the Control UI build this server serves comes from.
    /// The Control UI compares its own build with the server's only for `bundled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_ui_build_source: Option<String>,
}

/// `hello-ok.features`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Every method this gateway answers.
    pub methods: Vec<String>,
    /// Every event this gateway may send.
    pub events: Vec<String>,
    /// Contracts this gateway honours ([`CAPABILITIES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
}

/// `hello-ok.features.capabilities`: only contracts this gateway really keeps.
/// `published-model-catalog`: `models.list` answers from the runtimes' published model lists,
/// with `available` on each row (OpenClaw's CLI requires it for `openclaw models list`).
pub const CAPABILITIES: &[&str] = &["published-model-catalog"];

/// `hello-ok.snapshot` (OpenClaw's closed `snapshot` object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Connected clients at connect time.
    pub presence: Vec<crate::methods::gateway::PresenceEntry>,
    /// The `health` result at connect time.
    pub health: crate::methods::gateway::HealthResult,
    /// Versions of the presence and health state, advanced by later events.
    pub state_version: crate::methods::events::StateVersion,
    /// How long the gateway has been running, in milliseconds.
    pub uptime_ms: u64,
    /// Path of the gateway's config file, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_path: Option<String>,
    /// The gateway's state directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<String>,
    /// The shared-secret auth mode: `token`, `password` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<String>,
}

/// `hello-ok.auth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthInfo {
    /// How this connection authenticated (`token`, `password`, `device-token` or `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The role granted.
    pub role: String,
    /// The operator scopes granted.
    pub scopes: Vec<String>,
    /// A device token issued to this device on this connect; the client stores it and presents it
    /// next time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    /// When the device token was issued, in Unix milliseconds; present with `deviceToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at_ms: Option<u64>,
}

/// `hello-ok.policy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// Largest frame the client may send after `connect`, in bytes (larger ones close the
    /// connection with 1009).
    pub max_payload: usize,
    /// Outbound bytes the gateway queues for this connection; beyond it the connection is closed
    /// (1008) as a slow consumer.
    pub max_buffered_bytes: usize,
    /// Interval of the `tick` events, in milliseconds; clients close with 4000 when ticks stop.
    pub tick_interval_ms: u64,
}

/// The `hello-ok` payload of a successful `connect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelloOk {
    /// Always `"hello-ok"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The protocol version chosen: [`crate::version::CURRENT`].
    pub protocol: u32,
    /// Who is serving.
    pub server: ServerInfo,
    /// What this gateway offers.
    pub features: Features,
    /// The state at connect time.
    pub snapshot: Snapshot,
    /// What this connection was granted.
    pub auth: AuthInfo,
    /// Limits that apply to this connection.
    pub policy: Policy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_real_cli_connect_params() {
        let v: ConnectParams = serde_json::from_str(r#"{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"2026.9.6","platform":"linux","mode":"cli"},"role":"operator","scopes":["operator.read","operator.write","operator.admin"],"caps":[],"auth":{"token":"testtoken123"},"locale":"en-US","userAgent":"probe-client/0.1"}"#).unwrap();
        assert_eq!(v.client.id, "cli");
        assert_eq!(v.auth.unwrap().token.as_deref(), Some("testtoken123"));
        assert_eq!(v.scopes.unwrap().len(), 3);
    }

    #[test]
    fn decodes_device_proof() {
        let v: ConnectParams = serde_json::from_str(r#"{"minProtocol":4,"maxProtocol":4,"client":{"id":"cli","version":"2026.9.6","platform":"linux","deviceFamily":"Linux","mode":"cli","instanceId":"c9"},"caps":[],"auth":{"deviceToken":"tgpg"},"role":"operator","scopes":["operator.read"],"device":{"id":"77f4","publicKey":"EARG","signature":"EeC5","signedAt":1795256981718,"nonce":"9a8d"}}"#).unwrap();
        let d = v.device.unwrap();
        assert_eq!(d.signed_at, 1795256981718);
        assert_eq!(v.client.device_family.as_deref(), Some("Linux"));
    }
}
