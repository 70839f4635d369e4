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
    pub pending: Vec<PendingPairing>,
    pub paired: Vec<PairedDevice>,
}

/// A pairing request waiting for an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingPairing {
    pub request_id: String,
    pub device_id: String,
    pub public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub platform: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    pub client_id: String,
    pub client_mode: String,
    pub role: String,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    pub silent: bool,
    /// The device is already paired and asks for more (a role or scope upgrade).
    pub is_repair: bool,
    pub ts: u64,
    pub refreshed_at_ms: u64,
}

/// A paired device: its tokens are listed by role, never with their secrets or hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairedDevice {
    pub device_id: String,
    pub public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub platform: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    pub client_id: String,
    pub client_mode: String,
    pub role: String,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    /// `silent` (loopback with the shared secret), `operator`, …
    pub approved_via: String,
    pub created_at_ms: u64,
    pub approved_at_ms: u64,
    pub tokens: Vec<DeviceTokenInfo>,
}

/// One role's device token, without the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceTokenInfo {
    pub role: String,
    pub scopes: Vec<String>,
    pub created_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at_ms: Option<u64>,
}

/// `device.pair.approve {requestId}` and `device.pair.reject {requestId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevicePairApproveParams {
    pub request_id: NonEmpty,
}

/// `device.pair.approve` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePairApproved {
    pub request_id: String,
    pub device: PairedDevice,
}

/// `device.pair.reject {requestId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevicePairRejectParams {
    pub request_id: NonEmpty,
}

/// `device.pair.reject` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePairRejected {
    pub request_id: String,
    pub device_id: String,
    /// `rejected`.
    pub decision: String,
}

/// `device.pair.remove {deviceId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DevicePairRemoveParams {
    pub device_id: NonEmpty,
}

/// `device.pair.remove` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePairRemoved {
    pub device_id: String,
    pub removed_at_ms: u64,
}

/// `device.token.rotate {deviceId, role, scopes?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceTokenRotateParams {
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
    pub device_id: String,
    pub role: String,
    pub scopes: Vec<String>,
    pub rotated_at_ms: u64,
    /// `in-band` (the token is here) or `withheld-cross-device`.
    pub token_delivery: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `device.token.revoke {deviceId, role}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceTokenRevokeParams {
    pub device_id: NonEmpty,
    pub role: NonEmpty,
}

/// `device.token.revoke` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceTokenRevoked {
    pub device_id: String,
    pub role: String,
    pub revoked_at_ms: Option<u64>,
}

/// `device.pair.requested`: a device asked to be paired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairRequested {
    pub request_id: String,
    pub device_id: String,
    pub public_key: String,
    pub platform: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    pub client_id: String,
    pub client_mode: String,
    pub role: String,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    pub silent: bool,
    pub is_repair: bool,
    pub ts: u64,
}

/// `device.pair.resolved`: a pairing request was approved or rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairResolved {
    pub request_id: String,
    pub device_id: String,
    /// `approved` or `rejected`.
    pub decision: String,
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
