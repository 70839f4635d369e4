//! Wire payloads owned by auth: pairing events and the `device.pair.*` / `device.token.*` views.

use serde::Serialize;
use serde_json::{json, Value};

use crate::store::{PairedDevice, PendingRequest};

/// Event name: a device asked to be paired.
pub const EVENT_PAIR_REQUESTED: &str = "device.pair.requested";
/// Event name: a pairing request was approved or rejected.
pub const EVENT_PAIR_RESOLVED: &str = "device.pair.resolved";

/// `device.pair.requested` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairRequestedEvent {
    pub request_id: String,
    pub device_id: String,
    pub public_key: String,
    pub platform: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    pub client_id: String,
    pub client_mode: String,
    pub role: String,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    pub silent: bool,
    pub is_repair: bool,
    pub ts: u64,
}

impl From<&PendingRequest> for PairRequestedEvent {
    fn from(p: &PendingRequest) -> Self {
        PairRequestedEvent {
            request_id: p.request_id.clone(),
            device_id: p.device_id.clone(),
            public_key: p.public_key.clone(),
            platform: p.platform.clone(),
            device_family: p.device_family.clone(),
            client_id: p.client_id.clone(),
            client_mode: p.client_mode.clone(),
            role: p.role.clone(),
            roles: p.roles.clone(),
            scopes: p.scopes.clone(),
            remote_ip: p.remote_ip.clone(),
            silent: p.silent,
            is_repair: p.is_repair,
            ts: p.ts,
        }
    }
}

/// `device.pair.resolved` payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairResolvedEvent {
    pub request_id: String,
    pub device_id: String,
    /// `approved` or `rejected`.
    pub decision: String,
    pub ts: u64,
}

/// An event for the gateway to broadcast (to `operator.pairing` holders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthEvent {
    PairRequested(PairRequestedEvent),
    PairResolved(PairResolvedEvent),
}

impl AuthEvent {
    /// The event name.
    pub fn name(&self) -> &'static str {
        match self {
            AuthEvent::PairRequested(_) => EVENT_PAIR_REQUESTED,
            AuthEvent::PairResolved(_) => EVENT_PAIR_RESOLVED,
        }
    }

    /// The event payload.
    pub fn payload(&self) -> Value {
        match self {
            AuthEvent::PairRequested(e) => serde_json::to_value(e),
            AuthEvent::PairResolved(e) => serde_json::to_value(e),
        }
        .unwrap_or(Value::Null)
    }
}

/// A paired device as `device.pair.list` / `approve` show it: tokens as a list, never hashes.
pub fn paired_view(d: &PairedDevice) -> Value {
    let tokens: Vec<Value> = d
        .tokens
        .iter()
        .map(|(role, t)| {
            let mut v = json!({ "role": role, "scopes": t.scopes, "createdAtMs": t.created_at_ms });
            if let Some(r) = t.rotated_at_ms {
                v["rotatedAtMs"] = json!(r);
            }
            if let Some(r) = t.revoked_at_ms {
                v["revokedAtMs"] = json!(r);
            }
            v
        })
        .collect();
    let mut v = json!({
        "deviceId": d.device_id,
        "publicKey": d.public_key,
        "platform": d.platform,
        "clientId": d.client_id,
        "clientMode": d.client_mode,
        "role": d.role,
        "roles": d.roles,
        "scopes": d.scopes,
        "approvedVia": d.approved_via,
        "createdAtMs": d.created_at_ms,
        "approvedAtMs": d.approved_at_ms,
        "tokens": tokens,
    });
    if let Some(x) = &d.remote_ip {
        v["remoteIp"] = json!(x);
    }
    if let Some(x) = &d.device_family {
        v["deviceFamily"] = json!(x);
    }
    if let Some(x) = &d.display_name {
        v["displayName"] = json!(x);
    }
    v
}

/// A pending request as `device.pair.list` shows it.
pub fn pending_view(p: &PendingRequest) -> Value {
    serde_json::to_value(p).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DeviceRequest, PairingDoc};

    #[test]
    fn shapes() {
        let mut doc = PairingDoc::default();
        let req = DeviceRequest {
            device_id: "d".into(),
            public_key: "pk".into(),
            display_name: None,
            platform: "linux".into(),
            device_family: None,
            client_id: "cli".into(),
            client_mode: "cli".into(),
            role: "operator".into(),
            scopes: vec!["operator.read".into()],
            remote_ip: Some("192.0.2.9".into()),
        };
        let (p, _) = doc.request_pairing(&req, || "r".into(), 7);
        let ev = AuthEvent::PairRequested((&p).into());
        assert_eq!(ev.name(), "device.pair.requested");
        let v = ev.payload();
        for k in [
            "requestId",
            "deviceId",
            "publicKey",
            "platform",
            "clientId",
            "clientMode",
            "role",
            "roles",
            "scopes",
            "remoteIp",
            "silent",
            "isRepair",
            "ts",
        ] {
            assert!(v.get(k).is_some(), "missing {k} in {v}");
        }
        let (_, d) = doc.approve("r", 8).unwrap();
        doc.set_token(
            "d",
            "operator",
            &["operator.read".into()],
            "secret",
            None,
            9,
        )
        .unwrap();
        let view = paired_view(&doc.paired["d"]);
        assert_eq!(view["approvedVia"], "owner");
        assert_eq!(view["tokens"][0]["role"], "operator");
        assert!(!view
            .to_string()
            .contains(&crate::store::token_hash("secret")));
        assert_eq!(d.device_id, "d");
    }
}
