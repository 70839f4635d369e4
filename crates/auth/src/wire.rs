//! Pairing events that auth reports to the gateway, which turns them into the protocol's
//! `device.pair.requested` / `device.pair.resolved` payloads.

use crate::store::PendingRequest;

/// Event name: a device asked to be paired.
pub const EVENT_PAIR_REQUESTED: &str = "device.pair.requested";
/// Event name: a pairing request was approved or rejected.
pub const EVENT_PAIR_RESOLVED: &str = "device.pair.resolved";

/// `device.pair.requested` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairRequestedEvent {
    /// The pending request's id; `openclaw devices approve <requestId>` resolves it.
    pub request_id: String,
    /// Lowercase hex device id.
    pub device_id: String,
    /// The device's raw public key, base64url without padding.
    pub public_key: String,
    /// The device's `client.platform`.
    pub platform: String,
    /// The device's `client.deviceFamily`, if it sent one.
    pub device_family: Option<String>,
    /// The device's `client.id`.
    pub client_id: String,
    /// The device's `client.mode`.
    pub client_mode: String,
    /// The role of the latest request.
    pub role: String,
    /// Every role asked for while this request was pending.
    pub roles: Vec<String>,
    /// Every scope asked for while this request was pending.
    pub scopes: Vec<String>,
    /// The client address the request came from.
    pub remote_ip: Option<String>,
    /// Whether the request is marked for silent approval (always false for requests this
    /// gateway creates: silent pairing never goes through a pending request).
    pub silent: bool,
    /// The device is already paired and asks for more (a role or scope upgrade).
    pub is_repair: bool,
    /// When the request was created, Unix ms.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairResolvedEvent {
    /// The resolved request's id.
    pub request_id: String,
    /// Lowercase hex device id.
    pub device_id: String,
    /// `approved` or `rejected`.
    pub decision: String,
    /// When it was resolved, Unix ms.
    pub ts: u64,
}

/// An event for the gateway to broadcast (to `operator.pairing` holders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthEvent {
    /// A device asked to be paired (`device.pair.requested`).
    PairRequested(PairRequestedEvent),
    /// A pending request was approved or rejected (`device.pair.resolved`).
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
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DeviceRequest, PairingDoc};

    #[test]
    fn a_pairing_request_becomes_a_requested_event() {
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
        let AuthEvent::PairRequested(e) = ev else {
            panic!("requested")
        };
        assert_eq!((e.request_id.as_str(), e.device_id.as_str()), ("r", "d"));
        assert_eq!(e.remote_ip.as_deref(), Some("192.0.2.9"));
    }
}
