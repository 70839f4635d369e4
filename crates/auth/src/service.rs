//! The gateway-facing auth service: gathers the facts of one `connect`, calls
//! [`policy::decide`](crate::policy::decide), then applies the side effects (silent pairing,
//! pending requests, device-token issue) and renders the wire result.
//!
//! Also the operations behind `device.pair.*` and `device.token.*`.

use std::net::IpAddr;
use std::sync::RwLock;

use openclaw_rs_config::{AuthMode, GatewayAuthConfig, RateLimitConfig};
use openclaw_rs_protocol::{close, ConnectParams, ErrorCode, ErrorShape};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::locality::{resolve_locality, ForwardHeaders, Locality, TrustedProxies};
use crate::policy::{
    decide, pairing_required_error, AuthMethod, ConnectFacts, Decision, DeviceFact, PairingFact,
    RejectContext, Role, SecretKind, SharedAuth, TokenAction, TokenFact,
};
use crate::proof::{verify_device_proof, SignedFields, VerifiedDevice};
use crate::ratelimit::{RateLimitSettings, RateLimiter};
use crate::store::{
    DeviceRequest, PairedDevice, PairingError, PairingStore, PendingRequest, StoreError,
    TokenRecord,
};
use crate::tokenkey::{new_salt, TokenKey};
use crate::wire::{AuthEvent, PairResolvedEvent};

/// The shared secrets the gateway is configured with.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedSecrets {
    /// Which secret `connect` must prove (`gateway.auth.mode`, resolved).
    pub mode: AuthMode,
    /// The gateway token (`gateway.auth.token`); an empty string counts as unset.
    pub token: Option<String>,
    /// The gateway password (`gateway.auth.password`); an empty string counts as unset.
    pub password: Option<String>,
}

impl std::fmt::Debug for SharedSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSecrets")
            .field("mode", &self.mode)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl SharedSecrets {
    /// From `gateway.auth` (mode as [`GatewayAuthConfig::effective_mode`] resolves it).
    pub fn from_config(c: &GatewayAuthConfig) -> Self {
        SharedSecrets {
            mode: c.effective_mode(),
            token: c.token.clone().filter(|t| !t.is_empty()),
            password: c.password.clone().filter(|t| !t.is_empty()),
        }
    }

    /// The fingerprint of the secret the mode selects ([`TokenKey::secret_generation`]);
    /// `None` in mode `none` or without a configured secret.
    pub fn generation(&self, key: &TokenKey) -> Option<String> {
        match self.mode {
            AuthMode::None => None,
            AuthMode::Token => self
                .token
                .as_deref()
                .map(|t| key.secret_generation("token", t)),
            AuthMode::Password => self
                .password
                .as_deref()
                .map(|p| key.secret_generation("password", p)),
        }
    }

    /// Compare what the client presented with the secret the mode selects.
    pub fn check(&self, auth: Option<&openclaw_rs_protocol::ConnectAuth>) -> SharedAuth {
        let (kind, configured, presented) = match self.mode {
            AuthMode::None => return SharedAuth::Missing,
            AuthMode::Token => (
                SecretKind::Token,
                self.token.as_deref(),
                auth.and_then(|a| a.token.as_deref().or(a.password.as_deref())),
            ),
            AuthMode::Password => (
                SecretKind::Password,
                self.password.as_deref(),
                auth.and_then(|a| a.password.as_deref().or(a.token.as_deref())),
            ),
        };
        let Some(configured) = configured else {
            return SharedAuth::NotConfigured(kind);
        };
        match presented.filter(|p| !p.is_empty()) {
            None => SharedAuth::Missing,
            Some(p) if secrets_equal(p, configured) => SharedAuth::Verified(kind),
            Some(_) => SharedAuth::Mismatch(kind),
        }
    }
}

/// Constant-time equality that does not leak lengths (compares digests).
pub fn secrets_equal(a: &str, b: &str) -> bool {
    let da = Sha256::digest(a.as_bytes());
    let db = Sha256::digest(b.as_bytes());
    da.ct_eq(&db).into()
}

/// One `connect` as the gateway saw it.
#[derive(Debug, Clone, Copy)]
pub struct ConnectRequest<'a> {
    /// The socket peer address.
    pub peer: IpAddr,
    /// The upgrade request's forwarding headers; believed only from a trusted proxy.
    pub headers: &'a ForwardHeaders,
    /// The `connect` request's params.
    pub params: &'a ConnectParams,
    /// The nonce this connection's `connect.challenge` carried.
    pub challenge_nonce: &'a str,
    /// The shared secrets in force for this connect (the live config's).
    pub secrets: &'a SharedSecrets,
    /// Server time, Unix ms: checks the proof's `signedAt`, drives the rate limiter and stamps
    /// store records.
    pub now_ms: u64,
}

/// An admitted connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The granted role (`operator` or `node`).
    pub role: String,
    /// The granted scopes (see [`Grant::scopes`](crate::policy::Grant::scopes)).
    pub scopes: Vec<String>,
    /// Which credential admitted the connection (`hello-ok.auth.method`).
    pub method: AuthMethod,
    /// The proven device, if any.
    pub device_id: Option<String>,
    /// The device token to put in `hello-ok.auth.deviceToken`.
    pub device_token: Option<String>,
    /// When `device_token` was issued or last rotated, Unix ms (`hello-ok.auth.issuedAtMs`).
    pub issued_at_ms: Option<u64>,
    /// Whether the connection is local (see [`crate::locality`]).
    pub local: bool,
    /// The client address used for rate limiting and pairing records.
    pub client_ip: IpAddr,
}

/// A refused connection: send `error`, then close with `close_code`/`close_reason`.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The `res` error to send for the `connect` request.
    pub error: ErrorShape,
    /// The WebSocket close code to send after it (1008 for auth refusals, 1011 when the pairing
    /// store is unavailable).
    pub close_code: u16,
    /// The close reason: the error message, or for `PAIRING_REQUIRED` the message with the request id.
    pub close_reason: String,
}

impl Refusal {
    fn new(error: ErrorShape, close_code: u16) -> Self {
        let close_reason = error.message.clone();
        Refusal {
            error,
            close_code,
            close_reason,
        }
    }

    fn store(e: &dyn std::fmt::Display) -> Self {
        Refusal::new(
            ErrorShape::new(
                ErrorCode::Unavailable,
                format!("pairing store unavailable: {e}"),
            )
            .retry_after(Some(1000)),
            close::INTERNAL_ERROR,
        )
    }
}

/// Internal marker: this connect needs a pairing-store write.
#[derive(Debug, Clone, Copy)]
struct NeedsWrite;

/// The result of [`AuthService::authenticate`] plus the events to broadcast.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectOutcome {
    /// The admission or the refusal.
    pub result: Result<Admission, Refusal>,
    /// Pairing events this connect caused, to broadcast to `operator.pairing` holders whether or
    /// not it was admitted: a new pending request (not a refreshed one), or the requests that
    /// silent pairing resolved.
    pub events: Vec<AuthEvent>,
}

/// A refused `device.*` RPC.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The pairing store refused the operation (unknown request or device, scope outside the
    /// baseline); the caller's mistake, so `INVALID_REQUEST`.
    #[error(transparent)]
    Pairing(#[from] PairingError),
    /// The pairing store could not be read or written; `UNAVAILABLE`, retryable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The OS random source failed while minting a token; `UNAVAILABLE`, retryable.
    #[error("cannot mint a device token: OS random source failed: {0}")]
    Random(getrandom::Error),
}

impl ServiceError {
    /// The RPC error.
    pub fn to_error_shape(&self) -> ErrorShape {
        match self {
            ServiceError::Pairing(_) => {
                ErrorShape::new(ErrorCode::InvalidRequest, self.to_string())
            }
            _ => ErrorShape::new(ErrorCode::Unavailable, self.to_string()).retry_after(Some(1000)),
        }
    }
}

/// Result of a token rotation. `token` is the plaintext; deliver it only to the same device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    /// The device whose token was rotated.
    pub device_id: String,
    /// The role the token is for.
    pub role: String,
    /// The new token in plaintext; the old one stops working at once.
    pub token: String,
    /// The stored record of the new token (hash, salt, scopes, times).
    pub record: TokenRecord,
}

/// Pairing store, rate limiter and trusted proxies behind one handle (held in `GatewayState`).
#[derive(Debug)]
pub struct AuthService {
    store: PairingStore,
    key: TokenKey,
    limiter: RateLimiter,
    trusted: RwLock<(Vec<String>, TrustedProxies)>,
    rate_source: RwLock<RateLimitConfig>,
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn dedupe(v: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for s in v {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

impl AuthService {
    /// A service over `store`, configured from `gateway.trustedProxies` and `gateway.auth.rateLimit`.
    /// Returns config problems as warnings (bad proxy entries are ignored, named).
    pub fn new(
        store: PairingStore,
        trusted_proxies: &[String],
        rate: &RateLimitConfig,
    ) -> (Self, Vec<String>) {
        let (trusted, mut warnings) = TrustedProxies::parse(trusted_proxies);
        let key_path = store.path().with_file_name("token-key");
        let key = match TokenKey::load_or_create(&key_path) {
            Ok(k) => k,
            Err(e) => {
                warnings.push(format!(
                    "device-token key unavailable ({e}); using an in-memory key, so devices get new tokens after a restart"
                ));
                // Without even OS randomness nothing can be minted; a fixed key keeps the
                // process up and every device then heals through the gateway token.
                TokenKey::ephemeral().unwrap_or_else(|_| TokenKey::from_bytes([0; 32]))
            }
        };
        (
            AuthService {
                store,
                key,
                limiter: RateLimiter::new(RateLimitSettings::from(rate)),
                trusted: RwLock::new((trusted_proxies.to_vec(), trusted)),
                rate_source: RwLock::new(rate.clone()),
            },
            warnings,
        )
    }

    /// Apply a reloaded config (hot): trusted proxies and rate-limit settings.
    /// Cheap when nothing changed (compares the source values), so it can run on every connect.
    pub fn reconfigure(&self, trusted_proxies: &[String], rate: &RateLimitConfig) -> Vec<String> {
        let mut warnings = Vec::new();
        let same_proxies = read(&self.trusted).0 == trusted_proxies;
        if !same_proxies {
            let (trusted, w) = TrustedProxies::parse(trusted_proxies);
            warnings = w;
            *write(&self.trusted) = (trusted_proxies.to_vec(), trusted);
        }
        if *read(&self.rate_source) != *rate {
            self.limiter.set_settings(RateLimitSettings::from(rate));
            *write(&self.rate_source) = rate.clone();
        }
        warnings
    }

    /// A test of `(device_id, role)`: was that device's token earned with a shared secret other
    /// than the one `secrets` selects now (so a connection that presented it should go, see
    /// [`TokenRecord::issuer_stale`])? The fingerprint and the store snapshot are taken once.
    pub fn stale_device_tokens(&self, secrets: &SharedSecrets) -> impl Fn(&str, &str) -> bool {
        let generation = secrets.generation(&self.key);
        let doc = self.store.snapshot();
        move |device_id, role| {
            doc.paired
                .get(device_id)
                .and_then(|d| d.tokens.get(role))
                .is_some_and(|t| t.issuer_stale(generation.as_deref()))
        }
    }

    /// The pairing store.
    pub fn store(&self) -> &PairingStore {
        &self.store
    }

    /// Locality of a socket.
    pub fn locality(&self, peer: IpAddr, headers: &ForwardHeaders) -> Locality {
        resolve_locality(peer, headers, &read(&self.trusted).1)
    }

    /// Decide one `connect`. May write the pairing store (silent pairing, pending request, token issue).
    pub fn authenticate(&self, req: &ConnectRequest<'_>) -> ConnectOutcome {
        match self.decide_connect(req, true) {
            Ok(o) => o,
            // Not produced when writes are allowed; kept total rather than panicking.
            Err(NeedsWrite) => ConnectOutcome {
                result: Err(Refusal::store(&"internal: write refused")),
                events: Vec::new(),
            },
        }
    }

    /// Like [`AuthService::authenticate`] but never touches the disk: `None` when this connect
    /// needs a pairing-store write (silent pairing, a pending request, a new token). The caller
    /// then runs [`AuthService::authenticate`] where blocking is acceptable. Side effects (rate
    /// limit counters) happen only when `Some` is returned.
    pub fn authenticate_without_write(&self, req: &ConnectRequest<'_>) -> Option<ConnectOutcome> {
        self.decide_connect(req, false).ok()
    }

    fn decide_connect(
        &self,
        req: &ConnectRequest<'_>,
        allow_write: bool,
    ) -> Result<ConnectOutcome, NeedsWrite> {
        let p = req.params;
        let now = req.now_ms;
        let loc = self.locality(req.peer, req.headers);
        let role = Role::parse(p.role.as_deref());
        let requested = if role == Role::Node {
            Vec::new()
        } else {
            dedupe(p.scopes.as_deref().unwrap_or(&[]))
        };
        let shared = req.secrets.check(p.auth.as_ref());
        // The secret's fingerprint matters only to device tokens: no HMAC for device-less connects.
        let generation = p
            .device
            .as_ref()
            .and_then(|_| req.secrets.generation(&self.key));
        let generation = generation.as_deref();
        // Only a device needs the pairing store (device-less connects skip even the `stat`).
        let snapshot = if p.device.is_some() {
            self.store.snapshot()
        } else {
            std::sync::Arc::new(crate::store::PairingDoc::default())
        };

        // Device proof.
        let mut verified: Option<VerifiedDevice> = None;
        let device = match &p.device {
            None => DeviceFact::Absent,
            Some(proof) => {
                let fields = SignedFields::from_connect(p, proof, role.as_str());
                match verify_device_proof(proof, &fields, req.challenge_nonce, now) {
                    Err(e) => DeviceFact::Invalid(e),
                    Ok(v) => {
                        let pairing = match snapshot.paired.get(&v.device_id) {
                            None => PairingFact::NotPaired,
                            Some(d) => PairingFact::Paired {
                                role_approved: d.roles.iter().any(|r| r == role.as_str()),
                                scopes_approved: requested
                                    .iter()
                                    .all(|s| openclaw_rs_protocol::scopes::satisfies(&d.scopes, s)),
                            },
                        };
                        verified = Some(v);
                        DeviceFact::Proven(pairing)
                    }
                }
            }
        };

        // Device token: auth.deviceToken, or auth.token when it did not match the shared secret.
        let explicit = p
            .auth
            .as_ref()
            .and_then(|a| a.device_token.as_deref())
            .filter(|t| !t.is_empty());
        let fallback = match shared {
            SharedAuth::Mismatch(_) | SharedAuth::NotConfigured(_) => p
                .auth
                .as_ref()
                .and_then(|a| a.token.as_deref())
                .filter(|t| !t.is_empty()),
            _ => None,
        };
        let mut presented_token: Option<&str> = None;
        let verify = |v: &VerifiedDevice, t: &str| {
            snapshot.verify_token_at(&v.device_id, role.as_str(), t, &requested, generation)
        };
        let device_token = match (&verified, explicit, fallback) {
            (_, None, None) | (None, None, Some(_)) => TokenFact::NotPresented,
            (None, Some(_), _) => TokenFact::NoIdentity,
            (Some(v), Some(t), _) => match verify(v, t) {
                Ok(_) => {
                    presented_token = Some(t);
                    TokenFact::Valid
                }
                Err(r) => TokenFact::Rejected(r),
            },
            (Some(v), None, Some(t)) => match verify(v, t) {
                Ok(_) => {
                    presented_token = Some(t);
                    TokenFact::Valid
                }
                // A wrong shared token stays a shared-token failure.
                Err(_) => TokenFact::NotPresented,
            },
        };

        let facts = ConnectFacts {
            local: loc.local,
            mode: req.secrets.mode,
            shared,
            device,
            device_token,
            role: role.clone(),
            scopes: requested.clone(),
            probe: p.client.mode == "probe",
            rate_limited_ms: self.limiter.check(loc.client_ip, now),
        };
        let device_id = verified.as_ref().map(|v| v.device_id.clone());
        let mut events = Vec::new();
        let result = match decide(&facts) {
            Decision::Reject(r) => {
                if r.counts_as_failure() {
                    self.limiter.record_failure(loc.client_ip, now);
                }
                let error = r.to_error_shape(RejectContext {
                    device_id: device_id.as_deref(),
                    local: loc.local,
                });
                Err(Refusal::new(error, r.close_code()))
            }
            Decision::PairingRequired(_) if !allow_write => return Err(NeedsWrite),
            Decision::PairingRequired(reason) => {
                // Decide only yields this for a proven device.
                let v = verified
                    .as_ref()
                    .map(|v| self.device_request(p, v, &role, &requested, loc));
                match v {
                    None => Err(Refusal::store(&"pairing requested without a proven device")),
                    Some(dreq) => match self.store.update(|doc| {
                        doc.request_pairing(&dreq, || uuid::Uuid::new_v4().to_string(), now)
                    }) {
                        Err(e) => Err(Refusal::store(&e)),
                        Ok((pending, created)) => {
                            if created {
                                events.push(AuthEvent::PairRequested((&pending).into()));
                            }
                            let (error, close_reason) = pairing_required_error(
                                reason,
                                &pending.request_id,
                                &dreq.device_id,
                                role.as_str(),
                                &requested,
                            );
                            Err(Refusal {
                                error,
                                close_code: close::POLICY_VIOLATION,
                                close_reason,
                            })
                        }
                    },
                }
            }
            Decision::Allow(grant) => {
                // A token to mint or a device to pair means a write.
                let current = match (grant.token, &verified) {
                    (TokenAction::Issue, Some(v)) if grant.silent_pair.is_none() => {
                        self.current_token(&snapshot, &v.device_id, role.as_str(), generation)
                    }
                    _ => None,
                };
                if !allow_write
                    && grant.token == TokenAction::Issue
                    && verified.is_some()
                    && current.is_none()
                {
                    return Err(NeedsWrite);
                }
                self.limiter.record_success(loc.client_ip);
                let mut admission = Admission {
                    role: grant.role.as_str().to_string(),
                    scopes: grant.scopes.clone(),
                    method: grant.method,
                    device_id: device_id.clone(),
                    device_token: None,
                    issued_at_ms: None,
                    local: loc.local,
                    client_ip: loc.client_ip,
                };
                match (grant.token, &verified) {
                    (TokenAction::Echo, Some(v)) => {
                        admission.device_token = presented_token.map(str::to_string);
                        admission.issued_at_ms = snapshot
                            .paired
                            .get(&v.device_id)
                            .and_then(|d| d.tokens.get(role.as_str()))
                            .map(|t| t.rotated_at_ms.unwrap_or(t.created_at_ms));
                        Ok(admission)
                    }
                    (TokenAction::Issue, Some(_)) if current.is_some() => {
                        if let Some((token, at)) = current {
                            admission.device_token = Some(token);
                            admission.issued_at_ms = Some(at);
                        }
                        Ok(admission)
                    }
                    (TokenAction::Issue, Some(v)) => {
                        let dreq = self.device_request(p, v, &role, &requested, loc);
                        match self.issue(&dreq, grant.silent_pair.is_some(), generation, now) {
                            Ok((token, issued_at, resolved)) => {
                                for request_id in resolved {
                                    events.push(AuthEvent::PairResolved(PairResolvedEvent {
                                        request_id,
                                        device_id: dreq.device_id.clone(),
                                        decision: "approved".into(),
                                        ts: now,
                                    }));
                                }
                                admission.device_token = Some(token);
                                admission.issued_at_ms = Some(issued_at);
                                Ok(admission)
                            }
                            Err(e) => Err(Refusal::store(&e)),
                        }
                    }
                    _ => Ok(admission),
                }
            }
        };
        Ok(ConnectOutcome { result, events })
    }

    /// The device's current token for `role` if it still covers the approved baseline.
    fn current_token(
        &self,
        doc: &crate::store::PairingDoc,
        device_id: &str,
        role: &str,
        generation: Option<&str>,
    ) -> Option<(String, u64)> {
        let baseline = if role == openclaw_rs_protocol::scopes::ROLE_NODE {
            Vec::new()
        } else {
            doc.paired.get(device_id)?.scopes.clone()
        };
        doc.current_token(&self.key, device_id, role, &baseline, generation)
    }

    fn device_request(
        &self,
        p: &ConnectParams,
        v: &VerifiedDevice,
        role: &Role,
        requested: &[String],
        loc: Locality,
    ) -> DeviceRequest {
        DeviceRequest {
            device_id: v.device_id.clone(),
            public_key: v.public_key.clone(),
            display_name: p.client.display_name.clone(),
            platform: p.client.platform.clone(),
            device_family: p.client.device_family.clone(),
            client_id: p.client.id.clone(),
            client_mode: p.client.mode.clone(),
            role: role.as_str().to_string(),
            scopes: requested.to_vec(),
            remote_ip: Some(loc.client_ip.to_string()),
        }
    }

    /// Pair silently if asked, then hand out the device's current token for the role, or mint
    /// (and store the hash of) a new one carrying the device's approved scopes.
    /// Returns the token, when it was issued, and the pending requests this resolved.
    fn issue(
        &self,
        dreq: &DeviceRequest,
        pair: bool,
        generation: Option<&str>,
        now: u64,
    ) -> Result<(String, u64, Vec<String>), ServiceError> {
        let baseline_of = |doc: &crate::store::PairingDoc| {
            if dreq.role == openclaw_rs_protocol::scopes::ROLE_NODE {
                Vec::new()
            } else {
                doc.paired
                    .get(&dreq.device_id)
                    .map(|d| d.scopes.clone())
                    .unwrap_or_default()
            }
        };
        let current = |doc: &crate::store::PairingDoc| {
            doc.current_token(
                &self.key,
                &dreq.device_id,
                &dreq.role,
                &baseline_of(doc),
                generation,
            )
        };
        // Fast path (no lock, no write): an already paired device whose current token is good.
        if !pair {
            if let Some((t, at)) = current(&self.store.snapshot()) {
                return Ok((t, at, Vec::new()));
            }
        }
        let salt = new_salt().map_err(ServiceError::Random)?;
        let fresh = self.key.derive(&dreq.device_id, &dreq.role, &salt);
        let r = self.store.update(|doc| {
            let resolved = if pair {
                doc.pair_silently(dreq, now).1
            } else {
                Vec::new()
            };
            if let Some((t, at)) = current(doc) {
                return Ok((t, at, resolved));
            }
            let baseline = baseline_of(doc);
            doc.set_token_issued(
                &dreq.device_id,
                &dreq.role,
                &baseline,
                &fresh,
                Some(&salt),
                generation,
                now,
            )
            .map(|_| (fresh.clone(), now, resolved))
        })??;
        Ok(r)
    }

    /// `device.pair.list`: the live pending requests (expired ones omitted) and the paired
    /// devices.
    pub fn list(&self, now_ms: u64) -> (Vec<PendingRequest>, Vec<PairedDevice>) {
        let doc = self.store.snapshot();
        let pending = doc.live_pending(now_ms).cloned().collect();
        let paired = doc.paired.values().cloned().collect();
        (pending, paired)
    }

    /// Live pending requests (for `gateway status` and doctor).
    pub fn pending_count(&self, now_ms: u64) -> usize {
        self.store.snapshot().live_pending(now_ms).count()
    }

    /// `device.pair.approve`.
    pub fn approve(
        &self,
        request_id: &str,
        now_ms: u64,
    ) -> Result<(PendingRequest, PairedDevice, AuthEvent), ServiceError> {
        let (p, d) = self.store.update(|doc| doc.approve(request_id, now_ms))??;
        let ev = AuthEvent::PairResolved(PairResolvedEvent {
            request_id: p.request_id.clone(),
            device_id: p.device_id.clone(),
            decision: "approved".into(),
            ts: now_ms,
        });
        Ok((p, d, ev))
    }

    /// `device.pair.reject`.
    pub fn reject(
        &self,
        request_id: &str,
        now_ms: u64,
    ) -> Result<(PendingRequest, AuthEvent), ServiceError> {
        let p = self.store.update(|doc| doc.reject(request_id, now_ms))??;
        let ev = AuthEvent::PairResolved(PairResolvedEvent {
            request_id: p.request_id.clone(),
            device_id: p.device_id.clone(),
            decision: "rejected".into(),
            ts: now_ms,
        });
        Ok((p, ev))
    }

    /// `device.pair.remove`.
    pub fn remove(&self, device_id: &str) -> Result<PairedDevice, ServiceError> {
        Ok(self.store.update(|doc| doc.remove(device_id))??)
    }

    /// `device.token.rotate`: a new token replaces the old one at once.
    /// `scopes` (default: the approved baseline) must stay within the baseline.
    pub fn rotate(
        &self,
        device_id: &str,
        role: &str,
        scopes: Option<&[String]>,
        now_ms: u64,
    ) -> Result<Rotated, ServiceError> {
        let salt = new_salt().map_err(ServiceError::Random)?;
        let token = self.key.derive(device_id, role, &salt);
        let record = self.store.update(|doc| {
            let baseline = match doc.paired.get(device_id) {
                None => return Err(PairingError::UnknownDevice(device_id.to_string())),
                Some(_) if role == openclaw_rs_protocol::scopes::ROLE_NODE => Vec::new(),
                Some(d) => scopes.map(dedupe).unwrap_or_else(|| d.scopes.clone()),
            };
            doc.set_token(device_id, role, &baseline, &token, Some(&salt), now_ms)
        })??;
        Ok(Rotated {
            device_id: device_id.to_string(),
            role: role.to_string(),
            token,
            record,
        })
    }

    /// `device.token.revoke`.
    pub fn revoke(
        &self,
        device_id: &str,
        role: &str,
        now_ms: u64,
    ) -> Result<TokenRecord, ServiceError> {
        Ok(self
            .store
            .update(|doc| doc.revoke(device_id, role, now_ms))??)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::DeviceIdentity;
    use openclaw_rs_protocol::{ClientInfo, ConnectAuth};

    const NOW: u64 = 1_800_000_000_000;
    const NONCE: &str = "nonce-1";

    fn secrets() -> SharedSecrets {
        SharedSecrets {
            mode: AuthMode::Token,
            token: Some("shared".into()),
            password: None,
        }
    }

    fn params(id: Option<&DeviceIdentity>, auth: ConnectAuth, scopes: &[&str]) -> ConnectParams {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let mut p = ConnectParams {
            min_protocol: 4,
            max_protocol: 4,
            client: ClientInfo {
                id: "cli".into(),
                version: "t".into(),
                platform: "linux".into(),
                mode: "cli".into(),
                ..Default::default()
            },
            caps: None,
            role: Some("operator".into()),
            scopes: Some(scopes.clone()),
            device: None,
            auth: Some(auth),
            locale: None,
            user_agent: None,
        };
        if let Some(id) = id {
            let token = crate::proof::signature_token(p.auth.as_ref()).to_string();
            let f = SignedFields {
                client_id: "cli",
                client_mode: "cli",
                role: "operator",
                scopes: &scopes,
                signed_at_ms: NOW,
                token: &token,
                nonce: NONCE,
                platform: "linux",
                device_family: "",
            };
            p.device = Some(id.prove(&f));
        }
        p
    }

    fn shared() -> ConnectAuth {
        ConnectAuth {
            token: Some("shared".into()),
            ..Default::default()
        }
    }

    fn dev_token(t: &str) -> ConnectAuth {
        ConnectAuth {
            device_token: Some(t.into()),
            ..Default::default()
        }
    }

    fn connect(
        svc: &AuthService,
        peer: &str,
        headers: &ForwardHeaders,
        p: &ConnectParams,
    ) -> ConnectOutcome {
        svc.authenticate(&ConnectRequest {
            peer: peer.parse().unwrap(),
            headers,
            params: p,
            challenge_nonce: NONCE,
            secrets: &secrets(),
            now_ms: NOW,
        })
    }

    fn service(dir: &std::path::Path) -> AuthService {
        let store = PairingStore::open(&openclaw_rs_state::StateDir::new(dir)).unwrap();
        AuthService::new(
            store,
            &["127.0.0.1".into()],
            &RateLimitConfig {
                max_attempts: Some(2),
                ..Default::default()
            },
        )
        .0
    }

    #[test]
    fn local_silent_pair_echo_rotate_and_heal() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path());
        let id = DeviceIdentity::from_seed([1; 32], 0);
        let h = ForwardHeaders::default();
        let all = ["operator.read", "operator.write"];

        // First connect: shared token + new identity on loopback → paired silently + token.
        let a = connect(&svc, "127.0.0.1", &h, &params(Some(&id), shared(), &all))
            .result
            .unwrap();
        let t1 = a.device_token.clone().unwrap();
        assert_eq!(t1.len(), 43);
        assert_eq!(a.scopes, all.map(String::from).to_vec());
        assert_eq!(
            svc.store().snapshot().paired[id.device_id()].approved_via,
            "silent"
        );

        // Reconnect with only the device token, asking for less: echoed back.
        let b = connect(
            &svc,
            "127.0.0.1",
            &h,
            &params(Some(&id), dev_token(&t1), &["operator.read"]),
        )
        .result
        .unwrap();
        assert_eq!(b.method, AuthMethod::DeviceToken);
        assert_eq!(b.device_token.as_deref(), Some(t1.as_str()));

        // Rotate: the old token stops at once.
        let r = svc.rotate(id.device_id(), "operator", None, NOW).unwrap();
        let e = connect(
            &svc,
            "127.0.0.1",
            &h,
            &params(Some(&id), dev_token(&t1), &all),
        )
        .result
        .unwrap_err();
        assert_eq!(e.error.detail_code(), Some("AUTH_DEVICE_TOKEN_MISMATCH"));
        assert_eq!(
            e.error.details.as_ref().unwrap()["fixCommand"],
            "openclaw doctor --token <gateway-token>"
        );
        assert!(connect(
            &svc,
            "127.0.0.1",
            &h,
            &params(Some(&id), dev_token(&r.token), &all)
        )
        .result
        .is_ok());

        // Seed 001: the stale token plus the shared token heals with a fresh token.
        let both = ConnectAuth {
            token: Some("shared".into()),
            device_token: Some(t1.clone()),
            ..Default::default()
        };
        let healed = connect(&svc, "127.0.0.1", &h, &params(Some(&id), both, &all))
            .result
            .unwrap();
        let t3 = healed.device_token.unwrap();
        assert_ne!(t3, t1);
        // The heal hands out the device's current token (here: the rotated one).
        assert_eq!(t3, r.token);

        // A second shared-token connect returns the same token: parallel clients of one device
        // never invalidate each other's copy (OpenClaw behaves the same).
        let again = connect(&svc, "127.0.0.1", &h, &params(Some(&id), shared(), &all))
            .result
            .unwrap();
        assert_eq!(again.device_token.as_deref(), Some(t3.as_str()));

        assert!(connect(
            &svc,
            "127.0.0.1",
            &h,
            &params(Some(&id), dev_token(&t3), &all)
        )
        .result
        .is_ok());
        // Revoked: the next shared-token connect mints a new one.
        svc.revoke(id.device_id(), "operator", NOW).unwrap();
        let minted = connect(&svc, "127.0.0.1", &h, &params(Some(&id), shared(), &all))
            .result
            .unwrap()
            .device_token
            .unwrap();
        assert_ne!(minted, t3);
    }

    #[test]
    fn without_write_answers_everything_that_needs_no_disk() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path());
        let id = DeviceIdentity::from_seed([5; 32], 0);
        let h = ForwardHeaders::default();
        let all = ["operator.read"];
        let sec = secrets();
        fn req<'a>(
            p: &'a ConnectParams,
            h: &'a ForwardHeaders,
            sec: &'a SharedSecrets,
        ) -> ConnectRequest<'a> {
            ConnectRequest {
                peer: "127.0.0.1".parse().unwrap(),
                headers: h,
                params: p,
                challenge_nonce: NONCE,
                secrets: sec,
                now_ms: NOW,
            }
        }
        // A new device must be paired: needs a write.
        let first = params(Some(&id), shared(), &all);
        assert!(svc
            .authenticate_without_write(&req(&first, &h, &sec))
            .is_none());
        assert!(svc.store().snapshot().paired.is_empty(), "no side effect");
        let t = svc
            .authenticate(&req(&first, &h, &sec))
            .result
            .unwrap()
            .device_token
            .unwrap();
        // Now: device token, shared token again (current token re-derived), and no device at all.
        for p in [
            params(Some(&id), dev_token(&t), &all),
            params(Some(&id), shared(), &all),
            params(None, shared(), &all),
        ] {
            let o = svc
                .authenticate_without_write(&req(&p, &h, &sec))
                .expect("no write needed");
            let a = o.result.unwrap();
            if p.device.is_some() {
                assert_eq!(a.device_token.as_deref(), Some(t.as_str()));
            }
        }
        // A refusal needs no write either.
        let bad = params(Some(&id), dev_token("wrong"), &all);
        let o = svc
            .authenticate_without_write(&req(&bad, &h, &sec))
            .expect("refusal");
        assert!(o.result.is_err());
    }

    #[test]
    fn remote_pairing_flow_through_trusted_proxy() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path());
        let id = DeviceIdentity::from_seed([2; 32], 0);
        let h = ForwardHeaders::from_pairs([("X-Forwarded-For", "192.0.2.9")]);
        let p = params(Some(&id), shared(), &["operator.read"]);

        let first = connect(&svc, "127.0.0.1", &h, &p);
        let e = first.result.unwrap_err();
        assert_eq!(e.error.detail_code(), Some("PAIRING_REQUIRED"));
        let rid = e.error.details.as_ref().unwrap()["requestId"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            e.close_reason,
            format!("pairing required: device is not approved yet (requestId: {rid})")
        );
        assert!(
            matches!(first.events.as_slice(), [AuthEvent::PairRequested(ev)] if ev.remote_ip.as_deref() == Some("192.0.2.9"))
        );

        // Reconnect: same request id, no new event.
        let again = connect(&svc, "127.0.0.1", &h, &p);
        assert!(again.events.is_empty());
        assert_eq!(
            again.result.unwrap_err().error.details.unwrap()["requestId"],
            rid.as_str()
        );

        let (_, device, ev) = svc.approve(&rid, NOW).unwrap();
        assert_eq!(device.approved_via, "owner");
        let AuthEvent::PairResolved(resolved) = ev else {
            panic!("approve resolves the request")
        };
        assert_eq!(resolved.decision, "approved");
        let ok = connect(&svc, "127.0.0.1", &h, &p).result.unwrap();
        assert!(!ok.local);
        assert!(ok.device_token.is_some());

        // Remote, stale token, no shared secret: mismatch with the remote fix command.
        let stale = connect(
            &svc,
            "127.0.0.1",
            &h,
            &params(Some(&id), dev_token("stale"), &["operator.read"]),
        );
        let e = stale.result.unwrap_err();
        assert_eq!(
            e.error.details.as_ref().unwrap()["fixCommand"],
            "openclaw doctor --url <gateway-url> --token <gateway-token>"
        );
    }

    #[test]
    fn remote_no_device_gets_no_scopes_and_wrong_tokens_rate_limit() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path());
        let h = ForwardHeaders::from_pairs([("X-Forwarded-For", "192.0.2.50")]);
        let ok = connect(
            &svc,
            "127.0.0.1",
            &h,
            &params(None, shared(), &["operator.admin"]),
        )
        .result
        .unwrap();
        assert!(ok.scopes.is_empty());
        let wrong = ConnectAuth {
            token: Some("nope".into()),
            ..Default::default()
        };
        for _ in 0..2 {
            let e = connect(&svc, "127.0.0.1", &h, &params(None, wrong.clone(), &[]))
                .result
                .unwrap_err();
            assert_eq!(e.error.detail_code(), Some("AUTH_TOKEN_MISMATCH"));
        }
        let e = connect(&svc, "127.0.0.1", &h, &params(None, shared(), &[]))
            .result
            .unwrap_err();
        assert_eq!(e.error.detail_code(), Some("AUTH_RATE_LIMITED"));
        assert!(e.error.retry_after_ms.is_some());
        // Loopback itself is exempt.
        let lo = ForwardHeaders::default();
        for _ in 0..3 {
            connect(&svc, "127.0.0.1", &lo, &params(None, wrong.clone(), &[]));
        }
        assert!(
            connect(&svc, "127.0.0.1", &lo, &params(None, shared(), &[]))
                .result
                .is_ok()
        );
    }

    #[test]
    fn backend_label_gains_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path());
        let h = ForwardHeaders::default();
        let mut p = params(None, ConnectAuth::default(), &["operator.admin"]);
        p.client.id = "gateway-client".into();
        p.client.mode = "backend".into();
        let e = connect(&svc, "127.0.0.1", &h, &p).result.unwrap_err();
        assert_eq!(e.error.detail_code(), Some("DEVICE_IDENTITY_REQUIRED"));
    }
}
