//! The pairing store: pending requests, paired devices and their device-token hashes.
//!
//! One JSON document, `$STATE/devices/pairing.json` (mode 0600), holds both paired devices and
//! pending requests so that an approval (pending → paired) is one atomic rename.
//!
//! **Architecture Invariant:** device tokens are never stored; only `sha256(token)` is, and
//! comparisons are constant-time. The plaintext exists only in the `hello-ok` (or rotate
//! response) that delivers it.
//!
//! Concurrency: writers take an in-process mutex, then an exclusive `flock` on
//! `devices/pairing.lock`, re-read the file, modify it and replace it with `write_atomic`. The
//! CLI and the gateway can therefore both write. Readers use an in-memory copy that is reloaded
//! when the file's identity (inode, size, mtime) changes, so a connect costs one `stat`, not a read.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use openclaw_rs_state::{read_optional, write_json, FileLock, StateDir, StateError, SECRET_MODE};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::encoding::{b64url, hex, random_bytes, sha256};

/// Pending requests expire this long after they were created or last refreshed
/// (`DEVICE_PAIRING_PENDING_TTL_MS`).
pub const PENDING_TTL_MS: u64 = 300_000;

/// Pending requests kept at most; beyond this the least recently refreshed one is dropped, so a
/// flood of new identities cannot grow the store (and every write) without bound.
pub const MAX_PENDING: usize = 256;

/// `approvedVia` for devices paired by the loopback + shared-secret rule.
pub const APPROVED_SILENT: &str = "silent";
/// `approvedVia` for devices approved by an operator.
pub const APPROVED_OWNER: &str = "owner";

/// A device token's server-side record (no plaintext).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    /// Lowercase hex `sha256(token)`.
    pub hash: String,
    /// Salt the token was derived with (see [`crate::tokenkey`]); absent for random tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// The scopes the token carries; a subset of the device's approved baseline.
    pub scopes: Vec<String>,
    /// When a token for this role was first issued, Unix ms (kept across rotations).
    pub created_at_ms: u64,
    /// When the token was last replaced, Unix ms; absent for a token never rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at_ms: Option<u64>,
    /// When the token was revoked, Unix ms; a revoked token is refused until a new one is issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at_ms: Option<u64>,
    /// Set when the token was earned by proving the gateway's shared secret (a silently paired
    /// device): the token is good only while that secret is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<TokenIssuer>,
}

/// `issuer.kind` of tokens earned with the shared secret.
pub const ISSUER_SHARED_AUTH: &str = "shared-gateway-auth";

/// What a device token's authority rests on (OpenClaw's `issuer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenIssuer {
    /// [`ISSUER_SHARED_AUTH`].
    pub kind: String,
    /// Fingerprint of the shared secret the token was earned with
    /// ([`crate::tokenkey::TokenKey::secret_generation`]); never the secret.
    pub generation: String,
}

impl TokenRecord {
    /// Whether the shared secret this token was earned with has changed since (`generation`:
    /// the current secret's fingerprint, `None` without one).
    pub fn issuer_stale(&self, generation: Option<&str>) -> bool {
        matches!(&self.issuer, Some(i) if i.kind == ISSUER_SHARED_AUTH && Some(i.generation.as_str()) != generation)
    }
}

/// A paired device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairedDevice {
    /// Lowercase hex `sha256` of the raw public key; the key of [`PairingDoc::paired`].
    pub device_id: String,
    /// Raw public key, base64url without padding.
    pub public_key: String,
    /// A human name the device sent (`client.displayName`), kept from earlier requests if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `client.platform` of the latest approval.
    #[serde(default)]
    pub platform: String,
    /// `client.deviceFamily` of the latest approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// `client.id` of the latest approval.
    #[serde(default)]
    pub client_id: String,
    /// `client.mode` of the latest approval.
    #[serde(default)]
    pub client_mode: String,
    /// The role of the latest approval.
    pub role: String,
    /// Every approved role.
    pub roles: Vec<String>,
    /// Approved operator scopes (the baseline a token may carry).
    pub scopes: Vec<String>,
    /// The client address of the latest approval, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    /// How the latest approval happened: [`APPROVED_SILENT`] or [`APPROVED_OWNER`].
    pub approved_via: String,
    /// When the device was first paired, Unix ms.
    pub created_at_ms: u64,
    /// When the latest approval (first pairing or upgrade) happened, Unix ms.
    pub approved_at_ms: u64,
    /// Token hashes per role.
    #[serde(default)]
    pub tokens: BTreeMap<String, TokenRecord>,
}

/// A pending pairing request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRequest {
    /// The request id, also its key in [`PairingDoc::pending`]; `openclaw devices approve` takes it.
    pub request_id: String,
    /// Lowercase hex device id.
    pub device_id: String,
    /// Raw public key, base64url without padding.
    pub public_key: String,
    /// `client.displayName`, if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `client.platform`.
    #[serde(default)]
    pub platform: String,
    /// `client.deviceFamily`, if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// `client.id`.
    #[serde(default)]
    pub client_id: String,
    /// `client.mode`.
    #[serde(default)]
    pub client_mode: String,
    /// The role of the latest request.
    pub role: String,
    /// Every role asked for while pending; approval grants all of them.
    pub roles: Vec<String>,
    /// Every scope asked for while pending; approval adds them to the baseline.
    pub scopes: Vec<String>,
    /// The client address of the latest request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<String>,
    /// Marked for silent approval: written `false` by this crate (silent pairing skips the
    /// pending stage); kept for OpenClaw's file format.
    pub silent: bool,
    /// The device is already paired and asks for more (role/scope upgrade).
    pub is_repair: bool,
    /// Created at.
    pub ts: u64,
    /// When the device last asked again; the request expires [`PENDING_TTL_MS`] after this.
    pub refreshed_at_ms: u64,
}

impl PendingRequest {
    /// Whether the request has expired at `now_ms`.
    pub fn expired(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.refreshed_at_ms) > PENDING_TTL_MS
    }
}

/// What a device asks for when it connects (from its proven identity and `connect` params).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRequest {
    /// Lowercase hex device id (proven by the signature).
    pub device_id: String,
    /// Raw public key, base64url without padding.
    pub public_key: String,
    /// `client.displayName`, if sent.
    pub display_name: Option<String>,
    /// `client.platform`.
    pub platform: String,
    /// `client.deviceFamily`, if sent.
    pub device_family: Option<String>,
    /// `client.id`.
    pub client_id: String,
    /// `client.mode`.
    pub client_mode: String,
    /// The requested role (`operator` or `node`).
    pub role: String,
    /// The requested scopes, de-duplicated (empty for the `node` role).
    pub scopes: Vec<String>,
    /// The client address (see [`crate::locality`]).
    pub remote_ip: Option<String>,
}

/// A refused pairing-store operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PairingError {
    /// No pending request with this id (never existed, resolved, or expired).
    #[error("unknown requestId: {0} (run `openclaw devices list` to see pending requests; they expire after 5 minutes)")]
    UnknownRequest(String),
    /// No paired device with this id.
    #[error("unknown deviceId: {0} (run `openclaw devices list` to see paired devices)")]
    UnknownDevice(String),
    /// The device is paired but not for this role.
    #[error("device {device_id} is not approved for role {role}")]
    UnknownDeviceOrRole {
        /// The paired device.
        device_id: String,
        /// The role it has no approval or token for.
        role: String,
    },
    /// Requested token scopes exceed what the device was approved for.
    #[error("scopes outside the approved baseline of device {device_id}: {}", extra.join(","))]
    ScopeOutsideBaseline {
        /// The paired device.
        device_id: String,
        /// The requested scopes that its approval does not cover.
        extra: Vec<String>,
    },
}

/// Why a presented device token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenReject {
    /// The device is not paired.
    NotPaired,
    /// The device is paired, but not for this role.
    RoleMissing,
    /// No token was issued for this role.
    TokenMissing,
    /// The token was revoked.
    Revoked,
    /// The token does not match the current one (wrong, or rotated away).
    Mismatch,
    /// The token was earned with a shared secret that has since been rotated.
    IssuerGenerationStale,
    /// The token is valid but the request asks for scopes beyond it.
    ScopeMismatch,
}

impl TokenReject {
    /// The reference's reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenReject::NotPaired => "device-not-paired",
            TokenReject::RoleMissing => "role-missing",
            TokenReject::TokenMissing => "token-missing",
            TokenReject::Revoked => "token-revoked",
            TokenReject::Mismatch => "token-mismatch",
            TokenReject::IssuerGenerationStale => "issuer-generation-stale",
            TokenReject::ScopeMismatch => "scope-mismatch",
        }
    }
}

/// The document stored in `devices/pairing.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingDoc {
    /// File format version; 1.
    pub version: u32,
    /// Paired devices keyed by device id.
    #[serde(default)]
    pub paired: BTreeMap<String, PairedDevice>,
    /// Keyed by request id.
    #[serde(default)]
    pub pending: BTreeMap<String, PendingRequest>,
}

impl Default for PairingDoc {
    fn default() -> Self {
        PairingDoc {
            version: 1,
            paired: BTreeMap::new(),
            pending: BTreeMap::new(),
        }
    }
}

/// Hash of a device token (lowercase hex sha256).
pub fn token_hash(token: &str) -> String {
    hex(&sha256(token.as_bytes()))
}

/// A fresh device token: 32 random bytes, base64url without padding (43 characters).
pub fn new_token() -> Result<String, getrandom::Error> {
    Ok(b64url(&random_bytes::<32>()?))
}

fn union(into: &mut Vec<String>, more: &[String]) {
    for s in more {
        if !into.contains(s) {
            into.push(s.clone());
        }
    }
}

impl PairingDoc {
    /// Pending requests that have not expired.
    pub fn live_pending(&self, now_ms: u64) -> impl Iterator<Item = &PendingRequest> {
        self.pending.values().filter(move |p| !p.expired(now_ms))
    }

    /// The live pending request of a device, if any.
    pub fn pending_for_device(&self, device_id: &str, now_ms: u64) -> Option<&PendingRequest> {
        self.live_pending(now_ms).find(|p| p.device_id == device_id)
    }

    /// Drop expired pending requests; returns how many.
    pub fn prune(&mut self, now_ms: u64) -> usize {
        let before = self.pending.len();
        self.pending.retain(|_, p| !p.expired(now_ms));
        before - self.pending.len()
    }

    /// Create a pending request, or refresh the device's live one (same `requestId`).
    /// Returns the request and whether it is new.
    pub fn request_pairing(
        &mut self,
        req: &DeviceRequest,
        new_request_id: impl FnOnce() -> String,
        now_ms: u64,
    ) -> (PendingRequest, bool) {
        self.prune(now_ms);
        let is_repair = self.paired.contains_key(&req.device_id);
        if let Some(p) = self
            .pending
            .values_mut()
            .find(|p| p.device_id == req.device_id)
        {
            p.refreshed_at_ms = now_ms;
            p.role = req.role.clone();
            union(&mut p.roles, std::slice::from_ref(&req.role));
            union(&mut p.scopes, &req.scopes);
            p.remote_ip = req.remote_ip.clone().or(p.remote_ip.take());
            p.is_repair = is_repair;
            return (p.clone(), false);
        }
        while self.pending.len() >= MAX_PENDING {
            let oldest = self
                .pending
                .values()
                .min_by_key(|p| p.refreshed_at_ms)
                .map(|p| p.request_id.clone());
            match oldest {
                Some(id) => {
                    self.pending.remove(&id);
                }
                None => break,
            }
        }
        let p = PendingRequest {
            request_id: new_request_id(),
            device_id: req.device_id.clone(),
            public_key: req.public_key.clone(),
            display_name: req.display_name.clone(),
            platform: req.platform.clone(),
            device_family: req.device_family.clone(),
            client_id: req.client_id.clone(),
            client_mode: req.client_mode.clone(),
            role: req.role.clone(),
            roles: vec![req.role.clone()],
            scopes: req.scopes.clone(),
            remote_ip: req.remote_ip.clone(),
            silent: false,
            is_repair,
            ts: now_ms,
            refreshed_at_ms: now_ms,
        };
        self.pending.insert(p.request_id.clone(), p.clone());
        (p, true)
    }

    fn upsert_paired(
        &mut self,
        req: &DeviceRequest,
        roles: &[String],
        scopes: &[String],
        via: &str,
        now_ms: u64,
    ) -> &mut PairedDevice {
        let d = self
            .paired
            .entry(req.device_id.clone())
            .or_insert_with(|| PairedDevice {
                device_id: req.device_id.clone(),
                public_key: req.public_key.clone(),
                display_name: None,
                platform: String::new(),
                device_family: None,
                client_id: String::new(),
                client_mode: String::new(),
                role: req.role.clone(),
                roles: Vec::new(),
                scopes: Vec::new(),
                remote_ip: None,
                approved_via: via.to_string(),
                created_at_ms: now_ms,
                approved_at_ms: now_ms,
                tokens: BTreeMap::new(),
            });
        d.public_key = req.public_key.clone();
        d.display_name = req.display_name.clone().or(d.display_name.take());
        d.platform = req.platform.clone();
        d.device_family = req.device_family.clone();
        d.client_id = req.client_id.clone();
        d.client_mode = req.client_mode.clone();
        d.role = req.role.clone();
        union(&mut d.roles, roles);
        union(&mut d.scopes, scopes);
        d.remote_ip = req.remote_ip.clone().or(d.remote_ip.take());
        d.approved_via = via.to_string();
        d.approved_at_ms = now_ms;
        d
    }

    /// Pair (or upgrade) a device without an operator: the loopback + shared-secret rule.
    /// Any pending request of the device is resolved by this.
    pub fn pair_silently(
        &mut self,
        req: &DeviceRequest,
        now_ms: u64,
    ) -> (PairedDevice, Vec<String>) {
        let resolved: Vec<String> = self
            .pending
            .values()
            .filter(|p| p.device_id == req.device_id)
            .map(|p| p.request_id.clone())
            .collect();
        for id in &resolved {
            self.pending.remove(id);
        }
        let d = self
            .upsert_paired(
                req,
                std::slice::from_ref(&req.role),
                &req.scopes,
                APPROVED_SILENT,
                now_ms,
            )
            .clone();
        (d, resolved)
    }

    /// Approve a pending request.
    pub fn approve(
        &mut self,
        request_id: &str,
        now_ms: u64,
    ) -> Result<(PendingRequest, PairedDevice), PairingError> {
        self.prune(now_ms);
        let p = self
            .pending
            .remove(request_id)
            .ok_or_else(|| PairingError::UnknownRequest(request_id.to_string()))?;
        let req = DeviceRequest {
            device_id: p.device_id.clone(),
            public_key: p.public_key.clone(),
            display_name: p.display_name.clone(),
            platform: p.platform.clone(),
            device_family: p.device_family.clone(),
            client_id: p.client_id.clone(),
            client_mode: p.client_mode.clone(),
            role: p.role.clone(),
            scopes: p.scopes.clone(),
            remote_ip: p.remote_ip.clone(),
        };
        let d = self
            .upsert_paired(&req, &p.roles, &p.scopes, APPROVED_OWNER, now_ms)
            .clone();
        Ok((p, d))
    }

    /// Reject a pending request.
    pub fn reject(
        &mut self,
        request_id: &str,
        now_ms: u64,
    ) -> Result<PendingRequest, PairingError> {
        self.prune(now_ms);
        self.pending
            .remove(request_id)
            .ok_or_else(|| PairingError::UnknownRequest(request_id.to_string()))
    }

    /// Remove a paired device and its pending requests.
    pub fn remove(&mut self, device_id: &str) -> Result<PairedDevice, PairingError> {
        self.pending.retain(|_, p| p.device_id != device_id);
        self.paired
            .remove(device_id)
            .ok_or_else(|| PairingError::UnknownDevice(device_id.to_string()))
    }

    /// Store the hash of `token` as the device's current token for `role` (issue or replace),
    /// with no issuer (an operator's approval or rotation stands behind it).
    pub fn set_token(
        &mut self,
        device_id: &str,
        role: &str,
        scopes: &[String],
        token: &str,
        salt: Option<&str>,
        now_ms: u64,
    ) -> Result<TokenRecord, PairingError> {
        self.set_token_issued(device_id, role, scopes, token, salt, None, now_ms)
    }

    /// [`PairingDoc::set_token`] for a token minted on a connect. `generation` is the current
    /// shared secret's fingerprint: a silently paired device's token records it as its issuer
    /// and stops working when the secret changes.
    #[allow(clippy::too_many_arguments)]
    pub fn set_token_issued(
        &mut self,
        device_id: &str,
        role: &str,
        scopes: &[String],
        token: &str,
        salt: Option<&str>,
        generation: Option<&str>,
        now_ms: u64,
    ) -> Result<TokenRecord, PairingError> {
        let d = self
            .paired
            .get_mut(device_id)
            .ok_or_else(|| PairingError::UnknownDevice(device_id.to_string()))?;
        if !d.roles.iter().any(|r| r == role) {
            return Err(PairingError::UnknownDeviceOrRole {
                device_id: device_id.to_string(),
                role: role.to_string(),
            });
        }
        let extra: Vec<String> = scopes
            .iter()
            .filter(|s| !openclaw_rs_protocol::scopes::satisfies(&d.scopes, s))
            .cloned()
            .collect();
        if !extra.is_empty() {
            return Err(PairingError::ScopeOutsideBaseline {
                device_id: device_id.to_string(),
                extra,
            });
        }
        let prev = d.tokens.get(role);
        let issuer = match generation {
            Some(g) if d.approved_via == APPROVED_SILENT => Some(TokenIssuer {
                kind: ISSUER_SHARED_AUTH.to_owned(),
                generation: g.to_owned(),
            }),
            _ => None,
        };
        let rec = TokenRecord {
            hash: token_hash(token),
            salt: salt.map(str::to_owned),
            scopes: scopes.to_vec(),
            created_at_ms: prev.map_or(now_ms, |p| p.created_at_ms),
            rotated_at_ms: prev.map(|_| now_ms),
            revoked_at_ms: None,
            issuer,
        };
        d.tokens.insert(role.to_string(), rec.clone());
        Ok(rec)
    }

    /// Revoke the device's token for `role`.
    pub fn revoke(
        &mut self,
        device_id: &str,
        role: &str,
        now_ms: u64,
    ) -> Result<TokenRecord, PairingError> {
        let d = self
            .paired
            .get_mut(device_id)
            .ok_or_else(|| PairingError::UnknownDevice(device_id.to_string()))?;
        let t = d
            .tokens
            .get_mut(role)
            .ok_or_else(|| PairingError::UnknownDeviceOrRole {
                device_id: device_id.to_string(),
                role: role.to_string(),
            })?;
        t.revoked_at_ms = Some(now_ms);
        Ok(t.clone())
    }

    /// The device's current token for `role`, re-derived with `key`, if it is still good for
    /// `baseline` (not revoked, not issued under another shared secret than `generation`,
    /// carries every baseline scope). Returns it and when it was issued.
    pub fn current_token(
        &self,
        key: &crate::tokenkey::TokenKey,
        device_id: &str,
        role: &str,
        baseline: &[String],
        generation: Option<&str>,
    ) -> Option<(String, u64)> {
        let t = self.paired.get(device_id)?.tokens.get(role)?;
        if t.revoked_at_ms.is_some()
            || t.issuer_stale(generation)
            || !baseline
                .iter()
                .all(|s| openclaw_rs_protocol::scopes::satisfies(&t.scopes, s))
        {
            return None;
        }
        let token = key.derive(device_id, role, t.salt.as_deref()?);
        let same: bool = token_hash(&token)
            .as_bytes()
            .ct_eq(t.hash.as_bytes())
            .into();
        same.then(|| (token, t.rotated_at_ms.unwrap_or(t.created_at_ms)))
    }

    /// [`PairingDoc::verify_token`], and also refuse a token earned with a shared secret other
    /// than the current one (`generation`, see [`TokenRecord::issuer_stale`]).
    pub fn verify_token_at(
        &self,
        device_id: &str,
        role: &str,
        presented: &str,
        requested_scopes: &[String],
        generation: Option<&str>,
    ) -> Result<Vec<String>, TokenReject> {
        let t = self.checked_token(device_id, role, presented, requested_scopes)?;
        if t.issuer_stale(generation) {
            return Err(TokenReject::IssuerGenerationStale);
        }
        Ok(t.scopes.clone())
    }

    /// Check a presented device token for `device_id`/`role` against the requested scopes.
    /// On success returns the token's scopes. Does not look at the token's issuer; the gateway
    /// uses [`PairingDoc::verify_token_at`].
    pub fn verify_token(
        &self,
        device_id: &str,
        role: &str,
        presented: &str,
        requested_scopes: &[String],
    ) -> Result<Vec<String>, TokenReject> {
        self.checked_token(device_id, role, presented, requested_scopes)
            .map(|t| t.scopes.clone())
    }

    /// The record of a presented token that matches, is not revoked and covers the scopes.
    fn checked_token(
        &self,
        device_id: &str,
        role: &str,
        presented: &str,
        requested_scopes: &[String],
    ) -> Result<&TokenRecord, TokenReject> {
        let d = self.paired.get(device_id).ok_or(TokenReject::NotPaired)?;
        if !d.roles.iter().any(|r| r == role) {
            return Err(TokenReject::RoleMissing);
        }
        let t = d.tokens.get(role).ok_or(TokenReject::TokenMissing)?;
        let presented_hash = token_hash(presented);
        let same: bool = presented_hash.as_bytes().ct_eq(t.hash.as_bytes()).into();
        if !same {
            return Err(TokenReject::Mismatch);
        }
        if t.revoked_at_ms.is_some() {
            return Err(TokenReject::Revoked);
        }
        if requested_scopes
            .iter()
            .any(|s| !openclaw_rs_protocol::scopes::satisfies(&t.scopes, s))
        {
            return Err(TokenReject::ScopeMismatch);
        }
        Ok(t)
    }
}

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// File I/O failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The file exists but is not a pairing document.
    #[error("pairing store {path} is not valid: {problem}; restore it from a backup or move it aside (paired devices then need pairing again)")]
    Corrupt {
        /// The pairing file.
        path: PathBuf,
        /// What is wrong with it (the JSON error).
        problem: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        len: m.len(),
        mtime: m.mtime(),
        mtime_nsec: m.mtime_nsec(),
    })
}

#[derive(Debug)]
struct Cached {
    doc: Arc<PairingDoc>,
    stamp: Option<Stamp>,
}

/// The durable pairing store shared by the gateway and the CLI.
#[derive(Debug)]
pub struct PairingStore {
    path: PathBuf,
    lock_path: PathBuf,
    writer: Mutex<()>,
    cache: RwLock<Cached>,
}

impl PairingStore {
    /// The store in `$STATE/devices/`.
    pub fn open(state: &StateDir) -> Result<Self, StoreError> {
        Self::open_at(state.join("devices/pairing.json"))
    }

    /// The store at an explicit path (its lock file sits next to it).
    pub fn open_at(path: PathBuf) -> Result<Self, StoreError> {
        let lock_path = path.with_extension("lock");
        let (doc, st) = read_doc(&path)?;
        Ok(PairingStore {
            path,
            lock_path,
            writer: Mutex::new(()),
            cache: RwLock::new(Cached {
                doc: Arc::new(doc),
                stamp: st,
            }),
        })
    }

    /// Like [`PairingStore::open`], but a corrupt file does not stop the caller: the store starts
    /// empty in memory, every write keeps failing with the error (naming the file and the fix)
    /// until the file is repaired, and the error is returned for the caller to log.
    pub fn open_lenient(state: &StateDir) -> (Self, Option<StoreError>) {
        let path = state.join("devices/pairing.json");
        match Self::open_at(path.clone()) {
            Ok(s) => (s, None),
            Err(e) => (
                PairingStore {
                    lock_path: path.with_extension("lock"),
                    path,
                    writer: Mutex::new(()),
                    cache: RwLock::new(Cached {
                        doc: Arc::new(PairingDoc::default()),
                        stamp: None,
                    }),
                },
                Some(e),
            ),
        }
    }

    /// The document path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current document: the in-memory copy, reloaded first if the file changed on disk.
    ///
    /// If the file changed but cannot be parsed, the last good copy is returned and a warning logged.
    pub fn snapshot(&self) -> Arc<PairingDoc> {
        let now = stamp(&self.path);
        {
            let c = read_lock(&self.cache);
            if c.stamp == now {
                return c.doc.clone();
            }
        }
        match read_doc(&self.path) {
            Ok((doc, st)) => {
                let doc = Arc::new(doc);
                let mut c = write_lock(&self.cache);
                c.doc = doc.clone();
                c.stamp = st;
                doc
            }
            Err(e) => {
                tracing::warn!(error = %e, "keeping the last good pairing store");
                read_lock(&self.cache).doc.clone()
            }
        }
    }

    /// Read-modify-write under the in-process and file locks. The closure sees the latest
    /// document on disk; the result is written atomically (0600) and becomes the cached copy.
    pub fn update<R>(&self, f: impl FnOnce(&mut PairingDoc) -> R) -> Result<R, StoreError> {
        let _w = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _fl = FileLock::acquire(&self.lock_path)?;
        let (mut doc, before) = read_doc(&self.path)?;
        let original = doc.clone();
        let r = f(&mut doc);
        let st = if doc != original || before.is_none() {
            write_json(&self.path, &doc, SECRET_MODE)?;
            stamp(&self.path)
        } else {
            before
        };
        let mut c = write_lock(&self.cache);
        c.doc = Arc::new(doc);
        c.stamp = st;
        Ok(r)
    }
}

fn read_doc(path: &Path) -> Result<(PairingDoc, Option<Stamp>), StoreError> {
    // Stamp first: if the file is replaced between stat and read we reload again next time.
    let st = stamp(path);
    let Some(bytes) = read_optional(path)? else {
        return Ok((PairingDoc::default(), None));
    };
    let doc: PairingDoc = serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })?;
    Ok((doc, st))
}

fn read_lock<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_lock<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn req(id: &str, role: &str, scopes: &[&str]) -> DeviceRequest {
        DeviceRequest {
            device_id: id.into(),
            public_key: format!("pk-{id}"),
            display_name: None,
            platform: "linux".into(),
            device_family: None,
            client_id: "cli".into(),
            client_mode: "cli".into(),
            role: role.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            remote_ip: Some("192.0.2.9".into()),
        }
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn pending_refresh_keeps_request_id_and_expires() {
        let mut d = PairingDoc::default();
        let (a, new_a) = d.request_pairing(
            &req("d1", "operator", &["operator.read"]),
            || "r1".into(),
            0,
        );
        assert!(new_a);
        let (b, new_b) = d.request_pairing(
            &req("d1", "operator", &["operator.write"]),
            || "r2".into(),
            200_000,
        );
        assert!(!new_b);
        assert_eq!(a.request_id, b.request_id);
        assert_eq!(b.scopes, s(&["operator.read", "operator.write"]));
        // Refreshed at 200 s, so still alive at 400 s, gone after 500 s.
        assert!(d.pending_for_device("d1", 400_000).is_some());
        assert!(d.pending_for_device("d1", 500_001).is_none());
        assert_eq!(
            d.approve("r1", 500_001),
            Err(PairingError::UnknownRequest("r1".into()))
        );
    }

    #[test]
    fn pending_requests_are_capped() {
        let mut d = PairingDoc::default();
        for i in 0..(MAX_PENDING + 10) {
            let id = format!("d{i}");
            d.request_pairing(&req(&id, "operator", &[]), || format!("r{i}"), i as u64);
        }
        assert_eq!(d.pending.len(), MAX_PENDING);
        // The oldest went first; the newest is kept.
        assert!(!d.pending.contains_key("r0"));
        assert!(d.pending.contains_key(&format!("r{}", MAX_PENDING + 9)));
    }

    /// Tokens of silently paired devices carry the shared secret's generation and stop working
    /// when it changes; an owner-approved device's token has no issuer and survives.
    #[test]
    fn shared_auth_tokens_follow_the_secret_generation() {
        let mut d = PairingDoc::default();
        let ro = s(&["operator.read"]);
        d.pair_silently(&req("silent", "operator", &["operator.read"]), 1);
        d.request_pairing(
            &req("owned", "operator", &["operator.read"]),
            || "r1".into(),
            1,
        );
        d.approve("r1", 2).unwrap();
        for dev in ["silent", "owned"] {
            d.set_token_issued(dev, "operator", &ro, "tok", None, Some("g1"), 3)
                .unwrap();
        }
        let silent = &d.paired["silent"].tokens["operator"];
        assert_eq!(
            silent.issuer.as_ref().map(|i| i.generation.as_str()),
            Some("g1")
        );
        assert!(d.paired["owned"].tokens["operator"].issuer.is_none());
        assert_eq!(
            d.verify_token_at("silent", "operator", "tok", &ro, Some("g1")),
            Ok(ro.clone())
        );
        for now in [Some("g2"), None] {
            assert_eq!(
                d.verify_token_at("silent", "operator", "tok", &ro, now),
                Err(TokenReject::IssuerGenerationStale)
            );
            assert!(d
                .verify_token_at("owned", "operator", "tok", &ro, now)
                .is_ok());
        }
        // A wrong token is still a mismatch first.
        assert_eq!(
            d.verify_token_at("silent", "operator", "nope", &ro, Some("g2")),
            Err(TokenReject::Mismatch)
        );
        // An operator's rotation (set_token) carries no issuer.
        d.set_token("silent", "operator", &ro, "tok2", None, 4)
            .unwrap();
        assert!(d
            .verify_token_at("silent", "operator", "tok2", &ro, Some("g9"))
            .is_ok());
    }

    #[test]
    fn approve_token_rotate_revoke_and_reasons() {
        let mut d = PairingDoc::default();
        d.request_pairing(
            &req("d1", "operator", &["operator.read", "operator.write"]),
            || "r1".into(),
            0,
        );
        let (_, paired) = d.approve("r1", 1).unwrap();
        assert_eq!(paired.approved_via, APPROVED_OWNER);
        assert!(d.pending.is_empty());
        let rw = s(&["operator.read", "operator.write"]);
        d.set_token("d1", "operator", &rw, "tok-a", None, 2)
            .unwrap();
        assert_eq!(
            d.verify_token("d1", "operator", "tok-a", &s(&["operator.read"])),
            Ok(rw.clone())
        );
        assert_eq!(
            d.verify_token("d1", "operator", "tok-b", &[]),
            Err(TokenReject::Mismatch)
        );
        assert_eq!(
            d.verify_token("d1", "operator", "tok-a", &s(&["operator.admin"])),
            Err(TokenReject::ScopeMismatch)
        );
        assert_eq!(
            d.verify_token("d1", "node", "tok-a", &[]),
            Err(TokenReject::RoleMissing)
        );
        assert_eq!(
            d.verify_token("d2", "operator", "tok-a", &[]),
            Err(TokenReject::NotPaired)
        );
        // Rotation: the old token stops at once.
        let rec = d
            .set_token("d1", "operator", &rw, "tok-b", None, 3)
            .unwrap();
        assert_eq!(rec.rotated_at_ms, Some(3));
        assert_eq!(rec.created_at_ms, 2);
        assert_eq!(
            d.verify_token("d1", "operator", "tok-a", &[]),
            Err(TokenReject::Mismatch)
        );
        assert!(d.verify_token("d1", "operator", "tok-b", &[]).is_ok());
        d.revoke("d1", "operator", 4).unwrap();
        assert_eq!(
            d.verify_token("d1", "operator", "tok-b", &[]),
            Err(TokenReject::Revoked)
        );
        // Scopes outside the approved baseline are refused.
        assert!(matches!(
            d.set_token("d1", "operator", &s(&["operator.admin"]), "x", None, 5),
            Err(PairingError::ScopeOutsideBaseline { .. })
        ));
        assert!(matches!(
            d.set_token("d1", "node", &[], "x", None, 5),
            Err(PairingError::UnknownDeviceOrRole { .. })
        ));
        d.remove("d1").unwrap();
        assert_eq!(
            d.verify_token("d1", "operator", "tok-b", &[]),
            Err(TokenReject::NotPaired)
        );
    }

    #[test]
    fn silent_pairing_resolves_pending_and_unions_scopes() {
        let mut d = PairingDoc::default();
        d.request_pairing(&req("d1", "node", &[]), || "r1".into(), 0);
        let (p, resolved) = d.pair_silently(&req("d1", "operator", &["operator.read"]), 1);
        assert_eq!(resolved, vec!["r1".to_string()]);
        assert_eq!(p.approved_via, APPROVED_SILENT);
        assert_eq!(p.roles, s(&["operator"]));
        let (p, _) = d.pair_silently(&req("d1", "operator", &["operator.admin"]), 2);
        assert_eq!(p.scopes, s(&["operator.read", "operator.admin"]));
        assert_eq!(p.created_at_ms, 1);
    }

    #[test]
    fn store_persists_private_and_sees_other_writers() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let a = PairingStore::open(&state).unwrap();
        let b = PairingStore::open(&state).unwrap();
        a.update(|d| d.pair_silently(&req("d1", "operator", &[]), 1))
            .unwrap();
        // b has not read since open; its snapshot notices the new file.
        assert!(b.snapshot().paired.contains_key("d1"));
        b.update(|d| d.set_token("d1", "operator", &[], "t", None, 2))
            .unwrap()
            .unwrap();
        assert!(a
            .snapshot()
            .verify_token("d1", "operator", "t", &[])
            .is_ok());
        let mode = std::fs::metadata(a.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(a.path()).unwrap();
        assert!(!text.contains("\"t\""), "plaintext token on disk: {text}");
        assert!(text.contains(&token_hash("t")));
    }

    #[test]
    fn corrupt_file_is_reported_and_last_good_kept() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let a = PairingStore::open(&state).unwrap();
        a.update(|d| d.pair_silently(&req("d1", "operator", &[]), 1))
            .unwrap();
        std::fs::write(a.path(), "{ torn").unwrap();
        assert!(a.snapshot().paired.contains_key("d1"));
        let e = a.update(|_| ()).unwrap_err().to_string();
        assert!(
            e.contains("pairing.json") && e.contains("move it aside"),
            "{e}"
        );
        assert!(PairingStore::open(&state).is_err());
    }

    #[test]
    fn concurrent_writers_in_threads_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let stores: Vec<_> = (0..4)
            .map(|_| Arc::new(PairingStore::open(&state).unwrap()))
            .collect();
        let handles: Vec<_> = (0..40)
            .map(|i| {
                let st = stores[i % 4].clone();
                std::thread::spawn(move || {
                    st.update(|d| {
                        d.pair_silently(&req(&format!("d{i}"), "operator", &[]), i as u64)
                    })
                    .unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let fresh = PairingStore::open(&state).unwrap();
        assert_eq!(fresh.snapshot().paired.len(), 40);
    }

    #[test]
    fn a_writer_killed_mid_write_leaves_the_last_complete_document() {
        // write_atomic writes a temp file and renames it; a writer killed before the rename
        // leaves only a stray temp file. The store must keep serving the last complete document.
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let a = PairingStore::open(&state).unwrap();
        a.update(|d| d.pair_silently(&req("d1", "operator", &[]), 1))
            .unwrap();
        let devices = dir.path().join("devices");
        std::fs::write(
            devices.join(".pairing.json.tmp.99999.1"),
            "{\"version\":1,\"paired\":{\"d2\":",
        )
        .unwrap();
        let fresh = PairingStore::open(&state).unwrap();
        assert_eq!(fresh.snapshot().paired.len(), 1);
        fresh
            .update(|d| d.pair_silently(&req("d3", "operator", &[]), 2))
            .unwrap();
        let again = PairingStore::open(&state).unwrap();
        let keys: Vec<_> = again.snapshot().paired.keys().cloned().collect();
        assert_eq!(keys, vec!["d1".to_string(), "d3".to_string()]);
    }

    #[test]
    fn new_tokens_are_43_chars() {
        let t = new_token().unwrap();
        assert_eq!(t.len(), 43);
        assert_ne!(t, new_token().unwrap());
    }
}
