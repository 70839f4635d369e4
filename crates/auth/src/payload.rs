//! The signed connect payload (`v3|…`, `v2|…`): the fields a device signs and the exact string
//! built from them. Shared by signing (`identity.rs`) and verification (`proof.rs`), so it sits
//! below both.

use openclaw_rs_protocol::{ConnectParams, DeviceProof};

/// The fields that go into the signed string, besides the device id.
#[derive(Debug, Clone, Copy)]
pub struct SignedFields<'a> {
    /// `connect.params.client.id`.
    pub client_id: &'a str,
    /// `connect.params.client.mode`.
    pub client_mode: &'a str,
    /// The role; the server uses the parsed `connect.params.role` (`operator` when absent).
    pub role: &'a str,
    /// The request's scopes, in the order sent.
    pub scopes: &'a [String],
    /// When the device signed, Unix ms (`device.signedAt`); verification needs it within
    /// [`SIGNATURE_SKEW_MS`](crate::proof::SIGNATURE_SKEW_MS) of the server's clock.
    pub signed_at_ms: u64,
    /// `auth.token ?? auth.deviceToken ?? auth.bootstrapToken ?? ""`.
    pub token: &'a str,
    /// The nonce the device signed (`device.nonce`); verification needs it to equal this
    /// connection's `connect.challenge` nonce.
    pub nonce: &'a str,
    /// `connect.params.client.platform` (v3 only; normalized to lowercase).
    pub platform: &'a str,
    /// `connect.params.client.deviceFamily`, or `""` (v3 only; normalized to lowercase).
    pub device_family: &'a str,
}

impl<'a> SignedFields<'a> {
    /// The fields as the server rebuilds them from `connect` params (`role` is the parsed role).
    pub fn from_connect(params: &'a ConnectParams, proof: &'a DeviceProof, role: &'a str) -> Self {
        SignedFields {
            client_id: &params.client.id,
            client_mode: &params.client.mode,
            role,
            scopes: params.scopes.as_deref().unwrap_or(&[]),
            signed_at_ms: proof.signed_at,
            token: signature_token(params.auth.as_ref()),
            nonce: &proof.nonce,
            platform: &params.client.platform,
            device_family: params.client.device_family.as_deref().unwrap_or(""),
        }
    }
}

/// `auth.token ?? auth.deviceToken ?? auth.bootstrapToken ?? ""` (JavaScript `??`: an empty
/// string that is present still wins).
pub fn signature_token(auth: Option<&openclaw_rs_protocol::ConnectAuth>) -> &str {
    auth.and_then(|a| {
        a.token
            .as_deref()
            .or(a.device_token.as_deref())
            .or(a.bootstrap_token.as_deref())
    })
    .unwrap_or("")
}

fn normalize_label(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// `v3|deviceId|clientId|clientMode|role|scopes|signedAtMs|token|nonce|platform|deviceFamily`.
pub fn payload_v3(device_id: &str, f: &SignedFields<'_>) -> String {
    format!(
        "{}|{}|{}",
        payload_v2_body("v3", device_id, f),
        normalize_label(f.platform),
        normalize_label(f.device_family)
    )
}

/// `v2|deviceId|clientId|clientMode|role|scopes|signedAtMs|token|nonce`.
pub fn payload_v2(device_id: &str, f: &SignedFields<'_>) -> String {
    payload_v2_body("v2", device_id, f)
}

fn payload_v2_body(version: &str, device_id: &str, f: &SignedFields<'_>) -> String {
    [
        version,
        device_id,
        f.client_id,
        f.client_mode,
        f.role,
        &f.scopes.join(","),
        &f.signed_at_ms.to_string(),
        f.token,
        f.nonce,
    ]
    .join("|")
}
