//! Devices: `device.pair.list|approve|reject|remove`, `device.token.rotate|revoke`, and the
//! `device.pair.requested|resolved` events.

use super::{event, request, NonEmpty};
use serde::{Deserialize, Serialize};

/// `device.pair.list {}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicePairListParams {}

/// `device.pair.list` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePairList {
    /// Pairing requests waiting for an operator's decision.
    pub pending: Vec<PendingPairing>,
    /// Devices already paired.
    pub paired: Vec<PairedDevice>,
}

/// A pairing request waiting for an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingPairing {
    /// Id of the request; pass it to `device.pair.approve` or `device.pair.reject`.
    pub request_id: String,
    /// The device id (derived from its public key).
    pub device_id: String,
    /// The device's Ed25519 public key, base64url.
    pub public_key: String,
    /// Name the client gave itself, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The client's platform, as sent on connect.
    pub platform: String,
    /// The client's device family, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// The client id sent on connect (`cli`, `openclaw-control-ui`, …).
    pub client_id: String,
    /// The client mode sent on connect.
    pub client_mode: String,
    /// The role requested.
    pub role: String,
    /// Every role the device would hold once approved.
    pub roles: Vec<String>,
    /// The operator scopes requested.
    pub scopes: Vec<String>,
    /// Address the request came from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    /// `true` when the gateway may approve it without an operator (a loopback client with the
    /// shared secret).
    pub silent: bool,
    /// The device is already paired and asks for more (a role or scope upgrade).
    pub is_repair: bool,
    /// When the request was created, in Unix milliseconds.
    pub ts: u64,
    /// When the device last repeated the request, in Unix milliseconds.
    pub refreshed_at_ms: u64,
}

/// A paired device: its tokens are listed by role, never with their secrets or hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairedDevice {
    /// The device id (derived from its public key).
    pub device_id: String,
    /// The device's Ed25519 public key, base64url.
    pub public_key: String,
    /// Name the client gave itself, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The client's platform at pairing time.
    pub platform: String,
    /// The client's device family, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// The client id at pairing time.
    pub client_id: String,
    /// The client mode at pairing time.
    pub client_mode: String,
    /// The role it was first paired with.
    pub role: String,
    /// Every role it holds.
    pub roles: Vec<String>,
    /// The operator scopes approved.
    pub scopes: Vec<String>,
    /// Address it paired from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    /// `silent` (loopback with the shared secret), `operator`, …
    pub approved_via: String,
    /// When it was first paired, in Unix milliseconds.
    pub created_at_ms: u64,
    /// When the latest approval happened, in Unix milliseconds.
    pub approved_at_ms: u64,
    /// Its tokens, one per role.
    pub tokens: Vec<DeviceTokenInfo>,
}

/// One role's device token, without the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceTokenInfo {
    /// The role the token is for.
    pub role: String,
    /// The scopes the token grants.
    pub scopes: Vec<String>,
    /// When the token was issued, in Unix milliseconds.
    pub created_at_ms: u64,
    /// When it was last rotated, in Unix milliseconds; absent if never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at_ms: Option<u64>,
    /// When it was revoked, in Unix milliseconds; absent while valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at_ms: Option<u64>,
}

/// `device.pair.approve {requestId}` and `device.pair.reject {requestId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevicePairApproveParams {
    /// The pending request to approve (from `device.pair.list` or `device.pair.requested`).
    pub request_id: NonEmpty,
}

/// `device.pair.approve` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePairApproved {
    /// The request approved.
    pub request_id: String,
    /// The device as now paired.
    pub device: PairedDevice,
}

/// `device.pair.reject {requestId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevicePairRejectParams {
    /// The pending request to reject.
    pub request_id: NonEmpty,
}

/// `device.pair.reject` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePairRejected {
    /// The request rejected.
    pub request_id: String,
    /// The device that asked.
    pub device_id: String,
    /// `rejected`.
    pub decision: String,
}

/// `device.pair.remove {deviceId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevicePairRemoveParams {
    /// The paired device to remove; its tokens stop working.
    pub device_id: NonEmpty,
}

/// `device.pair.remove` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePairRemoved {
    /// The device removed.
    pub device_id: String,
    /// When it was removed, in Unix milliseconds.
    pub removed_at_ms: u64,
}

/// `device.token.rotate {deviceId, role, scopes?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceTokenRotateParams {
    /// The paired device whose token to replace.
    pub device_id: NonEmpty,
    /// `operator` or `node`.
    pub role: NonEmpty,
    /// Default: the approved baseline; never beyond it, nor beyond the caller's own scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<NonEmpty>>,
}

/// `device.token.rotate` result. The token is returned only to the device it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceTokenRotated {
    /// The device.
    pub device_id: String,
    /// The role of the new token.
    pub role: String,
    /// The scopes the new token grants.
    pub scopes: Vec<String>,
    /// When the new token was issued, in Unix milliseconds.
    pub rotated_at_ms: u64,
    /// `in-band` (the token is here) or `withheld-cross-device`.
    pub token_delivery: String,
    /// The new token; only when `tokenDelivery` is `in-band`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `device.token.revoke {deviceId, role}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceTokenRevokeParams {
    /// The paired device whose token to revoke.
    pub device_id: NonEmpty,
    /// The role whose token to revoke (`operator` or `node`).
    pub role: NonEmpty,
}

/// `device.token.revoke` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceTokenRevoked {
    /// The device.
    pub device_id: String,
    /// The role whose token was revoked.
    pub role: String,
    /// When it was revoked, in Unix milliseconds (always set by this gateway).
    pub revoked_at_ms: Option<u64>,
}

/// `device.pair.requested`: a device asked to be paired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairRequested {
    /// Id of the request; pass it to `device.pair.approve` or `device.pair.reject`.
    pub request_id: String,
    /// The device id (derived from its public key).
    pub device_id: String,
    /// The device's Ed25519 public key, base64url.
    pub public_key: String,
    /// The client's platform, as sent on connect.
    pub platform: String,
    /// The client's device family, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// The client id sent on connect.
    pub client_id: String,
    /// The client mode sent on connect.
    pub client_mode: String,
    /// The role requested.
    pub role: String,
    /// Every role the device would hold once approved.
    pub roles: Vec<String>,
    /// The operator scopes requested.
    pub scopes: Vec<String>,
    /// Address the request came from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    /// `true` when the gateway approves it without an operator.
    pub silent: bool,
    /// `true` when the device is already paired and asks for more.
    pub is_repair: bool,
    /// When the request was created, in Unix milliseconds.
    pub ts: u64,
}

/// `device.pair.resolved`: a pairing request was approved or rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairResolved {
    /// The request decided.
    pub request_id: String,
    /// The device that asked.
    pub device_id: String,
    /// `approved` or `rejected`.
    pub decision: String,
    /// When it was decided, in Unix milliseconds.
    pub ts: u64,
}

request! {
    DevicePairListParams => DevicePairList, "device.pair.list";
    DevicePairApproveParams => DevicePairApproved, "device.pair.approve";
    DevicePairRejectParams => DevicePairRejected, "device.pair.reject";
    DevicePairRemoveParams => DevicePairRemoved, "device.pair.remove";
    DeviceTokenRotateParams => DeviceTokenRotated, "device.token.rotate";
    DeviceTokenRevokeParams => DeviceTokenRevoked, "device.token.revoke";
}

event! {
    PairRequested, "device.pair.requested";
    PairResolved, "device.pair.resolved";
}
