//! The device-token key: device tokens are derived, not stored.
//!
//! `token = base64url(HMAC-SHA256(key, "openclaw-device-token/v1|" + deviceId + "|" + role + "|" + salt))`
//! with a fresh random `salt` per issue or rotation. The pairing store keeps only the salt and
//! `sha256(token)`; the 32-byte key lives in `$STATE/devices/token-key` (0600). The gateway can
//! therefore hand a device its *current* token again (as OpenClaw does: a second shared-token
//! connect returns the same token, so parallel clients of one device never invalidate each
//! other), while a copy of `pairing.json` alone reveals no usable token.

use std::path::{Path, PathBuf};

use openclaw_rs_state::{read_optional, write_atomic, FileLock, StateError, SECRET_MODE};
use sha2::{Digest, Sha256};

use crate::encoding::{b64url, decode_b64_lenient, random_bytes};

/// The HMAC key for device tokens.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(<secret>)")
    }
}

/// Why the key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenKeyError {
    /// Reading, locking or writing the key file failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The OS random source failed while creating a key.
    #[error("OS random source failed: {0}")]
    Random(getrandom::Error),
    /// The key file exists but does not hold 32 base64url bytes.
    #[error("device-token key {0} is not 32 bytes of base64url; move it aside (issued device tokens are then re-issued on the next connect with the gateway token)")]
    Invalid(PathBuf),
}

impl TokenKey {
    /// A key from raw bytes (tests).
    pub fn from_bytes(b: [u8; 32]) -> Self {
        TokenKey(b)
    }

    /// A fresh random key that is not stored anywhere.
    pub fn ephemeral() -> Result<Self, TokenKeyError> {
        random_bytes::<32>()
            .map(TokenKey)
            .map_err(TokenKeyError::Random)
    }

    /// Load `path`, or create it (0600) if missing; safe against a concurrent creator.
    pub fn load_or_create(path: &Path) -> Result<Self, TokenKeyError> {
        if let Some(k) = Self::load(path)? {
            return Ok(k);
        }
        let _lock = FileLock::acquire(&path.with_extension("lock"))?;
        if let Some(k) = Self::load(path)? {
            return Ok(k);
        }
        let key = Self::ephemeral()?;
        write_atomic(
            path,
            format!("{}\n", b64url(&key.0)).as_bytes(),
            SECRET_MODE,
        )?;
        Ok(key)
    }

    fn load(path: &Path) -> Result<Option<Self>, TokenKeyError> {
        let Some(bytes) = read_optional(path)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes);
        decode_b64_lenient(text.trim())
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .map(|b| Some(TokenKey(b)))
            .ok_or_else(|| TokenKeyError::Invalid(path.to_path_buf()))
    }

    /// The token for `device_id`/`role`/`salt` (43 characters).
    pub fn derive(&self, device_id: &str, role: &str, salt: &str) -> String {
        let msg = format!("openclaw-device-token/v1|{device_id}|{role}|{salt}");
        b64url(&hmac_sha256(&self.0, msg.as_bytes()))
    }

    /// A fingerprint of the shared secret `secret` (of kind `kind`, `token` or `password`):
    /// 16 bytes of HMAC under this key, hex. Recorded on device tokens earned with the secret;
    /// it changes when the secret does and reveals nothing about it without the key.
    pub fn secret_generation(&self, kind: &str, secret: &str) -> String {
        let msg = format!("openclaw-shared-secret-generation/v1|{kind}|{secret}");
        crate::encoding::hex(&hmac_sha256(&self.0, msg.as_bytes())[..16])
    }
}

/// A fresh salt (16 random bytes, base64url).
pub fn new_salt() -> Result<String, getrandom::Error> {
    Ok(b64url(&random_bytes::<16>()?))
}

/// HMAC-SHA256 (RFC 2104) with a key of at most one block.
fn hmac_sha256(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_1_shape() {
        // RFC 4231 test case 1 uses a 20-byte key of 0x0b; pad to 32 with zeros is the same key
        // for HMAC (keys shorter than a block are zero-padded).
        let mut key = [0u8; 32];
        key[..20].copy_from_slice(&[0x0b; 20]);
        let mac = hmac_sha256(&key, b"Hi There");
        assert_eq!(
            crate::encoding::hex(&mac),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn derive_is_stable_and_salted() {
        let k = TokenKey::from_bytes([9; 32]);
        let a = k.derive("d", "operator", "s1");
        assert_eq!(a.len(), 43);
        assert_eq!(a, k.derive("d", "operator", "s1"));
        assert_ne!(a, k.derive("d", "operator", "s2"));
        assert_ne!(a, k.derive("d", "node", "s1"));
        assert_ne!(
            a,
            TokenKey::from_bytes([8; 32]).derive("d", "operator", "s1")
        );
    }

    #[test]
    fn key_file_is_created_once_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("devices/token-key");
        let a = TokenKey::load_or_create(&p).unwrap();
        let b = TokenKey::load_or_create(&p).unwrap();
        assert_eq!(a.derive("d", "r", "s"), b.derive("d", "r", "s"));
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::write(&p, "short").unwrap();
        assert!(matches!(
            TokenKey::load_or_create(&p),
            Err(TokenKeyError::Invalid(_))
        ));
    }
}
