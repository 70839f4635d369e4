//! This machine's Ed25519 device identity and its cached device tokens (client side).
//!
//! Files (our own format, JSON, mode 0600, written with `write_atomic`):
//! - `$STATE/identity/device.json`:
//!   `{version:1, deviceId, publicKey, privateKey, publicKeyPem, privateKeyPem, createdAtMs}`
//!   where `publicKey`/`privateKey` are the raw 32-byte key and seed in base64url. A file with only
//!   the PEM fields (OpenClaw's legacy layout) loads too.
//! - `$STATE/identity/device-auth.json`: `{version:1, deviceId, tokens:{role:{token,scopes,updatedAtMs}}}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use openclaw_rs_protocol::DeviceProof;
use openclaw_rs_state::{read_optional, write_json, StateDir, StateError, SECRET_MODE};
use serde::{Deserialize, Serialize};

use crate::encoding::{b64url, decode_b64_lenient, hex, random_bytes, sha256};
use crate::payload::{payload_v3, SignedFields};

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (the raw 32-byte key follows).
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
/// DER prefix of an Ed25519 PKCS#8 private key (the 32-byte seed follows).
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Why an identity or token cache file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Reading or writing the file failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The OS random source failed.
    #[error("cannot generate a device key: OS random source failed: {0}")]
    Random(getrandom::Error),
    /// The file exists but is not a valid identity.
    #[error("device identity file {path} is invalid: {problem}; move it aside to create a new identity (this device will then need pairing again)")]
    Invalid {
        /// The identity or token cache file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

/// The device id for a raw public key: lowercase hex of its SHA-256.
pub fn device_id_for(raw_public_key: &[u8]) -> String {
    hex(&sha256(raw_public_key))
}

/// An Ed25519 device identity.
#[derive(Clone)]
pub struct DeviceIdentity {
    key: SigningKey,
    device_id: String,
    created_at_ms: u64,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("device_id", &self.device_id)
            .field("created_at_ms", &self.created_at_ms)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityFile {
    version: u32,
    #[serde(default)]
    device_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key_pem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    private_key_pem: Option<String>,
    #[serde(default)]
    created_at_ms: u64,
}

impl DeviceIdentity {
    /// A fresh identity from OS randomness.
    pub fn generate(now_ms: u64) -> Result<Self, IdentityError> {
        let seed = random_bytes::<32>().map_err(IdentityError::Random)?;
        Ok(Self::from_seed(seed, now_ms))
    }

    /// An identity from a 32-byte Ed25519 seed.
    pub fn from_seed(seed: [u8; 32], created_at_ms: u64) -> Self {
        let key = SigningKey::from_bytes(&seed);
        let device_id = device_id_for(key.verifying_key().as_bytes());
        DeviceIdentity {
            key,
            device_id,
            created_at_ms,
        }
    }

    /// The default identity path: `$STATE/identity/device.json`.
    pub fn default_path(state: &StateDir) -> PathBuf {
        state.join("identity/device.json")
    }

    /// Load the identity at `path`, or create and store a new one if the file does not exist.
    pub fn load_or_create(path: &Path, now_ms: u64) -> Result<Self, IdentityError> {
        if let Some(id) = Self::load(path)? {
            return Ok(id);
        }
        let lock = openclaw_rs_state::FileLock::acquire(&path.with_extension("lock"))?;
        // Another process may have created it while we waited for the lock.
        if let Some(id) = Self::load(path)? {
            return Ok(id);
        }
        let id = Self::generate(now_ms)?;
        id.save(path)?;
        drop(lock);
        Ok(id)
    }

    /// Load the identity at `path`; `Ok(None)` if there is no file.
    pub fn load(path: &Path) -> Result<Option<Self>, IdentityError> {
        let Some(bytes) = read_optional(path)? else {
            return Ok(None);
        };
        let invalid = |problem: String| IdentityError::Invalid {
            path: path.to_path_buf(),
            problem,
        };
        let file: IdentityFile =
            serde_json::from_slice(&bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let seed = if let Some(sk) = file.private_key.as_deref() {
            decode_b64_lenient(sk)
                .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                .ok_or_else(|| invalid("privateKey is not a 32-byte base64url seed".into()))?
        } else if let Some(pem) = file.private_key_pem.as_deref() {
            pem_body(pem)
                .and_then(|der| der.strip_prefix(&PKCS8_PREFIX[..]).map(<[u8]>::to_vec))
                .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                .ok_or_else(|| invalid("privateKeyPem is not an Ed25519 PKCS#8 key".into()))?
        } else {
            return Err(invalid("no privateKey or privateKeyPem".into()));
        };
        let id = Self::from_seed(seed, file.created_at_ms);
        if !file.device_id.is_empty() && file.device_id != id.device_id {
            tracing::warn!(
                path = %path.display(),
                stored = %file.device_id,
                derived = %id.device_id,
                "device identity file has a deviceId that does not match its key; using the key's id"
            );
        }
        Ok(Some(id))
    }

    /// Store the identity at `path` (0600, atomic).
    pub fn save(&self, path: &Path) -> Result<(), IdentityError> {
        let file = IdentityFile {
            version: 1,
            device_id: self.device_id.clone(),
            public_key: Some(self.public_key_b64()),
            private_key: Some(b64url(&self.key.to_bytes())),
            public_key_pem: Some(self.public_key_pem()),
            private_key_pem: Some(pem(
                "PRIVATE KEY",
                &[&PKCS8_PREFIX[..], &self.key.to_bytes()[..]].concat(),
            )),
            created_at_ms: self.created_at_ms,
        };
        write_secret_json(path, &file)
    }

    /// `hex(sha256(raw public key))`.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// When the identity was created (ms since the epoch).
    pub fn created_at_ms(&self) -> u64 {
        self.created_at_ms
    }

    /// The raw public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The raw 32-byte public key as base64url without padding (the wire form).
    pub fn public_key_b64(&self) -> String {
        b64url(self.key.verifying_key().as_bytes())
    }

    /// The public key as an SPKI PEM.
    pub fn public_key_pem(&self) -> String {
        pem(
            "PUBLIC KEY",
            &[&SPKI_PREFIX[..], &self.key.verifying_key().as_bytes()[..]].concat(),
        )
    }

    /// Sign `payload`; the signature as base64url without padding.
    pub fn sign(&self, payload: &str) -> String {
        b64url(&self.key.sign(payload.as_bytes()).to_bytes())
    }

    /// The `device` block of a `connect` request, signed with the v3 payload.
    pub fn prove(&self, fields: &SignedFields<'_>) -> DeviceProof {
        let payload = payload_v3(&self.device_id, fields);
        DeviceProof {
            id: self.device_id.clone(),
            public_key: self.public_key_b64(),
            signature: self.sign(&payload),
            signed_at: fields.signed_at_ms,
            nonce: fields.nonce.to_string(),
        }
    }
}

/// Write `value` as pretty JSON (newline-terminated) to `path`, atomically and 0600.
fn write_secret_json(path: &Path, value: &impl Serialize) -> Result<(), IdentityError> {
    write_json(path, value, SECRET_MODE)?;
    Ok(())
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    decode_b64_lenient(&body)
}

/// Decode a raw Ed25519 public key from base64url/base64, or from an SPKI PEM.
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let raw = if text.contains("-----BEGIN") {
        pem_body(text)?.strip_prefix(&SPKI_PREFIX[..])?.to_vec()
    } else {
        decode_b64_lenient(text)?
    };
    let arr = <[u8; 32]>::try_from(raw.as_slice()).ok()?;
    VerifyingKey::from_bytes(&arr).ok()
}

/// One cached device token (client side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedToken {
    /// The device token in plaintext (the file is written with mode 0600).
    pub token: String,
    /// The scopes the gateway granted with this token.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When the gateway issued or last rotated the token (Unix ms; the client's clock when the
    /// gateway did not say).
    #[serde(default)]
    pub updated_at_ms: u64,
}

/// The client's device-token cache: `$STATE/identity/device-auth.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceTokenCache {
    /// File format version; 1.
    pub version: u32,
    /// The device this cache belongs to; [`DeviceTokenCache::load`] ignores a cache of another id.
    pub device_id: String,
    /// Tokens keyed by role (`operator`, `node`).
    #[serde(default)]
    pub tokens: BTreeMap<String, CachedToken>,
}

impl DeviceTokenCache {
    /// The default path: `$STATE/identity/device-auth.json`.
    pub fn default_path(state: &StateDir) -> PathBuf {
        state.join("identity/device-auth.json")
    }

    /// Load the cache for `device_id`; a missing file, or one for another identity, is empty.
    ///
    /// A corrupt file is reported, never silently replaced.
    pub fn load(path: &Path, device_id: &str) -> Result<Self, IdentityError> {
        let empty = DeviceTokenCache {
            version: 1,
            device_id: device_id.to_string(),
            tokens: BTreeMap::new(),
        };
        let Some(bytes) = read_optional(path)? else {
            return Ok(empty);
        };
        let cache: DeviceTokenCache =
            serde_json::from_slice(&bytes).map_err(|e| IdentityError::Invalid {
                path: path.to_path_buf(),
                problem: format!("not a device token cache: {e}"),
            })?;
        if cache.device_id != device_id {
            return Ok(empty);
        }
        Ok(cache)
    }

    /// The cached token for `role`.
    pub fn token(&self, role: &str) -> Option<&CachedToken> {
        self.tokens.get(role)
    }

    /// Store (or replace) the token for `role` in the file at `path`, atomically.
    ///
    /// Re-reads the file under a lock first so concurrent CLI invocations do not lose each other's roles.
    pub fn store_token(
        path: &Path,
        device_id: &str,
        role: &str,
        token: CachedToken,
    ) -> Result<(), IdentityError> {
        let _lock = openclaw_rs_state::FileLock::acquire(&path.with_extension("lock"))?;
        let mut cache = Self::load(path, device_id)?;
        if cache.tokens.get(role) == Some(&token) {
            return Ok(());
        }
        cache.tokens.insert(role.to_string(), token);
        write_secret_json(path, &cache)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn create_then_load_same_identity_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("identity/device.json");
        let a = DeviceIdentity::load_or_create(&p, 5).unwrap();
        let b = DeviceIdentity::load_or_create(&p, 9).unwrap();
        assert_eq!(a.device_id(), b.device_id());
        assert_eq!(b.created_at_ms(), 5);
        assert_eq!(a.device_id().len(), 64);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["deviceId"], a.device_id());
        assert_eq!(v["publicKey"], a.public_key_b64());
    }

    #[test]
    fn pem_only_file_loads_and_matches() {
        let dir = tempfile::tempdir().unwrap();
        let id = DeviceIdentity::from_seed([7u8; 32], 1);
        let p = dir.path().join("device.json");
        let legacy = serde_json::json!({
            "version": 1,
            "deviceId": id.device_id(),
            "publicKeyPem": id.public_key_pem(),
            "privateKeyPem": pem("PRIVATE KEY", &[&PKCS8_PREFIX[..], &[7u8; 32][..]].concat()),
            "createdAtMs": 1,
        });
        std::fs::write(&p, legacy.to_string()).unwrap();
        let loaded = DeviceIdentity::load(&p).unwrap().unwrap();
        assert_eq!(loaded.device_id(), id.device_id());
        assert_eq!(
            parse_public_key(&id.public_key_pem()).unwrap(),
            id.verifying_key()
        );
    }

    #[test]
    fn corrupt_file_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("device.json");
        std::fs::write(&p, "{ nope").unwrap();
        let e = DeviceIdentity::load_or_create(&p, 1)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("device.json") && e.contains("move it aside"),
            "{e}"
        );
    }

    #[test]
    fn token_cache_replaces_and_keeps_other_roles() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("device-auth.json");
        let t = |s: &str| CachedToken {
            token: s.into(),
            scopes: vec![],
            updated_at_ms: 1,
        };
        DeviceTokenCache::store_token(&p, "d1", "operator", t("a")).unwrap();
        DeviceTokenCache::store_token(&p, "d1", "node", t("n")).unwrap();
        DeviceTokenCache::store_token(&p, "d1", "operator", t("b")).unwrap();
        let c = DeviceTokenCache::load(&p, "d1").unwrap();
        assert_eq!(c.token("operator").unwrap().token, "b");
        assert_eq!(c.token("node").unwrap().token, "n");
        // Another identity's cache reads as empty.
        assert!(DeviceTokenCache::load(&p, "d2").unwrap().tokens.is_empty());
    }
}
