//! The device signer: this machine's Ed25519 identity signs each `connect` challenge, and the
//! device token the gateway issues is kept in the state dir.
//!
//! Token handling follows OpenClaw's lessons (#20679, #21267): a token in `hello-ok` replaces
//! the stored one atomically; a refusal never wipes it (a single mismatch may be a transient
//! server state, and the gateway heals a stale token when the shared secret is also proven).

use crate::ConnectSigner;
use openclaw_rs_auth::proof::{signature_token, SignedFields};
use openclaw_rs_auth::{CachedToken, DeviceIdentity, DeviceTokenCache, IdentityError};
use openclaw_rs_protocol::{ChallengePayload, ConnectParams, HelloOk};
use openclaw_rs_state::StateDir;
use std::path::PathBuf;

/// Signs `connect` with a device identity and persists issued device tokens.
#[derive(Debug)]
pub struct DeviceSigner {
    identity: DeviceIdentity,
    token_path: PathBuf,
    /// Send the stored device token (`auth.deviceToken`) when the caller set none.
    use_stored_token: bool,
}

impl DeviceSigner {
    /// Load (or create) the identity at `$STATE/identity/device.json`; tokens go to
    /// `$STATE/identity/device-auth.json`.
    pub fn from_state_dir(state: &StateDir) -> Result<Self, IdentityError> {
        let identity = DeviceIdentity::load_or_create(
            &DeviceIdentity::default_path(state),
            crate::device::now_ms(),
        )?;
        Ok(DeviceSigner {
            identity,
            token_path: DeviceTokenCache::default_path(state),
            use_stored_token: true,
        })
    }

    /// A signer for an explicit identity and token file.
    pub fn new(identity: DeviceIdentity, token_path: PathBuf) -> Self {
        DeviceSigner {
            identity,
            token_path,
            use_stored_token: true,
        }
    }

    /// Do not send the stored device token (e.g. to test the shared secret alone).
    pub fn without_stored_token(mut self) -> Self {
        self.use_stored_token = false;
        self
    }

    /// The identity.
    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    /// The device token stored for `role`, if any.
    pub fn stored_token(&self, role: &str) -> Option<CachedToken> {
        DeviceTokenCache::load(&self.token_path, self.identity.device_id())
            .ok()
            .and_then(|c| c.token(role).cloned())
    }

    /// Where tokens are stored.
    pub fn token_path(&self) -> &std::path::Path {
        &self.token_path
    }
}

impl ConnectSigner for DeviceSigner {
    fn sign(&self, challenge: &ChallengePayload, params: &mut ConnectParams) -> Result<(), String> {
        let role = params.role.clone().unwrap_or_else(|| "operator".into());
        if self.use_stored_token {
            let auth = params.auth.get_or_insert_with(Default::default);
            if auth.device_token.is_none() {
                auth.device_token = self.stored_token(&role).map(|t| t.token);
            }
        }
        let scopes = params.scopes.clone().unwrap_or_default();
        let token = signature_token(params.auth.as_ref()).to_owned();
        let fields = SignedFields {
            client_id: &params.client.id,
            client_mode: &params.client.mode,
            role: &role,
            scopes: &scopes,
            // The challenge's own clock, as OpenClaw's docs advise: no skew with the gateway.
            signed_at_ms: challenge.ts,
            token: &token,
            nonce: &challenge.nonce,
            platform: &params.client.platform,
            device_family: params.client.device_family.as_deref().unwrap_or(""),
        };
        params.device = Some(self.identity.prove(&fields));
        Ok(())
    }

    fn hello_ok(&self, hello: &HelloOk) {
        let auth = &hello.auth;
        let Some(token) = auth.device_token.as_deref() else {
            return;
        };
        let role = auth.role.as_str();
        if self.stored_token(role).is_some_and(|t| t.token == token) {
            return;
        }
        let entry = CachedToken {
            token: token.to_owned(),
            scopes: auth.scopes.clone(),
            updated_at_ms: auth.issued_at_ms.unwrap_or_else(now_ms),
        };
        if let Err(e) =
            DeviceTokenCache::store_token(&self.token_path, self.identity.device_id(), role, entry)
        {
            tracing::warn!(error = %e, "could not store the device token issued by the gateway");
        }
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
