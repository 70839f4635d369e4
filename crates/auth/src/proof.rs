//! Server-side verification of a device proof (the signed payload itself is built in
//! `payload.rs`, re-exported here).
//!
//! Checks run in OpenClaw's order (`verifyGatewayConnectDeviceProof`): derived id equals
//! `device.id`, `|now − signedAt| ≤ 120 s`, nonce present, nonce equals this connection's
//! challenge, signature valid for v3 else v2. Each failure maps to the exact wire error.

use ed25519_dalek::{Signature, VerifyingKey};
use openclaw_rs_protocol::{detail, DeviceProof, ErrorCode, ErrorShape};
use serde_json::json;

use crate::encoding::{b64url, decode_b64_lenient};
use crate::identity::device_id_for;
pub use crate::payload::{payload_v2, payload_v3, signature_token, SignedFields};

/// Allowed clock skew between `signedAt` and the server clock (`DEVICE_SIGNATURE_SKEW_MS`).
pub const SIGNATURE_SKEW_MS: u64 = 120_000;

/// A device proof that failed; each maps to the reference's exact error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceAuthError {
    /// `device.id` is not `hex(sha256(publicKey))`, or the public key is not decodable.
    #[error("device identity mismatch")]
    IdMismatch,
    /// `signedAt` is more than 120 s away from the server clock.
    #[error("device signature expired")]
    Expired,
    /// The nonce is blank.
    #[error("device nonce required")]
    NonceRequired,
    /// The nonce is not this connection's challenge nonce.
    #[error("device nonce mismatch")]
    NonceMismatch,
    /// Neither the v3 nor the v2 payload verifies.
    #[error("device signature invalid")]
    SignatureInvalid,
}

impl DeviceAuthError {
    /// `(details.code, details.reason)`.
    pub fn detail(self) -> (&'static str, &'static str) {
        match self {
            DeviceAuthError::IdMismatch => {
                (detail::DEVICE_AUTH_DEVICE_ID_MISMATCH, "device-id-mismatch")
            }
            DeviceAuthError::Expired => (
                detail::DEVICE_AUTH_SIGNATURE_EXPIRED,
                "device-signature-stale",
            ),
            DeviceAuthError::NonceRequired => {
                (detail::DEVICE_AUTH_NONCE_REQUIRED, "device-nonce-missing")
            }
            DeviceAuthError::NonceMismatch => {
                (detail::DEVICE_AUTH_NONCE_MISMATCH, "device-nonce-mismatch")
            }
            DeviceAuthError::SignatureInvalid => {
                (detail::DEVICE_AUTH_SIGNATURE_INVALID, "device-signature")
            }
        }
    }

    /// The `res` error: `INVALID_REQUEST`, the message, `{code, reason}` (close 1008).
    pub fn to_error_shape(self) -> ErrorShape {
        let (code, reason) = self.detail();
        ErrorShape::new(ErrorCode::InvalidRequest, self.to_string())
            .with_details(json!({ "code": code, "reason": reason }))
    }
}

/// Which signed string verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadVersion {
    /// The current payload: v2 plus platform and device family ([`payload_v3`]).
    V3,
    /// The older payload without platform and device family ([`payload_v2`]), still accepted.
    V2,
}

/// A device proof that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDevice {
    /// Lowercase hex device id.
    pub device_id: String,
    /// The public key normalized to base64url without padding.
    pub public_key: String,
    /// Which payload the signature verified against (v3 is tried first).
    pub version: PayloadVersion,
}

/// Verify `proof` against this connection's challenge nonce at server time `now_ms`.
pub fn verify_device_proof(
    proof: &DeviceProof,
    fields: &SignedFields<'_>,
    challenge_nonce: &str,
    now_ms: u64,
) -> Result<VerifiedDevice, DeviceAuthError> {
    // 1. The id must be the hash of the key.
    let raw = decode_b64_lenient(&proof.public_key)
        .or_else(|| {
            crate::identity::parse_public_key(&proof.public_key).map(|k| k.as_bytes().to_vec())
        })
        .filter(|r| r.len() == 32)
        .ok_or(DeviceAuthError::IdMismatch)?;
    let derived = device_id_for(&raw);
    if !derived.eq_ignore_ascii_case(proof.id.trim()) {
        return Err(DeviceAuthError::IdMismatch);
    }
    // 2. Fresh signature.
    if now_ms.abs_diff(proof.signed_at) > SIGNATURE_SKEW_MS {
        return Err(DeviceAuthError::Expired);
    }
    // 3–4. The nonce of this connection.
    if proof.nonce.trim().is_empty() {
        return Err(DeviceAuthError::NonceRequired);
    }
    if proof.nonce != challenge_nonce {
        return Err(DeviceAuthError::NonceMismatch);
    }
    // 5. v3, else v2.
    let key = <[u8; 32]>::try_from(raw.as_slice())
        .ok()
        .and_then(|a| VerifyingKey::from_bytes(&a).ok())
        .ok_or(DeviceAuthError::SignatureInvalid)?;
    let sig = decode_b64_lenient(&proof.signature)
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or(DeviceAuthError::SignatureInvalid)?;
    let version = if key
        .verify_strict(payload_v3(&derived, fields).as_bytes(), &sig)
        .is_ok()
    {
        PayloadVersion::V3
    } else if key
        .verify_strict(payload_v2(&derived, fields).as_bytes(), &sig)
        .is_ok()
    {
        PayloadVersion::V2
    } else {
        return Err(DeviceAuthError::SignatureInvalid);
    };
    Ok(VerifiedDevice {
        device_id: derived,
        public_key: b64url(&raw),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::DeviceIdentity;

    const NOW: u64 = 1_795_256_618_236;

    fn scopes() -> Vec<String> {
        ["operator.read", "operator.write", "operator.admin"]
            .map(String::from)
            .to_vec()
    }

    fn fields<'a>(scopes: &'a [String], nonce: &'a str, at: u64) -> SignedFields<'a> {
        SignedFields {
            client_id: "cli",
            client_mode: "cli",
            role: "operator",
            scopes,
            signed_at_ms: at,
            token: "testtoken123",
            nonce,
            platform: " Linux ",
            device_family: "",
        }
    }

    #[test]
    fn payload_matches_the_real_example() {
        // The exact string a real OpenClaw 2026.9.6 client signed (reference §5).
        let s = scopes();
        let f = fields(&s, "10365f9e-d945-440d-9942-bbe251b119d4", NOW);
        assert_eq!(
            payload_v3("ddeb3387c19c9cecaf93aefb296e1434531d21f400a8d1289f86ff43c3169131", &f),
            "v3|ddeb3387c19c9cecaf93aefb296e1434531d21f400a8d1289f86ff43c3169131|cli|cli|operator|operator.read,operator.write,operator.admin|1795256618236|testtoken123|10365f9e-d945-440d-9942-bbe251b119d4|linux|"
        );
        assert_eq!(
            payload_v2("d", &f),
            "v2|d|cli|cli|operator|operator.read,operator.write,operator.admin|1795256618236|testtoken123|10365f9e-d945-440d-9942-bbe251b119d4"
        );
    }

    #[test]
    fn signature_token_precedence() {
        use openclaw_rs_protocol::ConnectAuth;
        let mut a = ConnectAuth {
            bootstrap_token: Some("b".into()),
            ..Default::default()
        };
        assert_eq!(signature_token(Some(&a)), "b");
        a.device_token = Some("d".into());
        assert_eq!(signature_token(Some(&a)), "d");
        a.token = Some(String::new());
        assert_eq!(signature_token(Some(&a)), "");
        assert_eq!(signature_token(None), "");
    }

    fn proof_for(id: &DeviceIdentity, f: &SignedFields<'_>) -> DeviceProof {
        id.prove(f)
    }

    #[test]
    fn every_check_in_order() {
        let id = DeviceIdentity::from_seed([3u8; 32], 0);
        let s = scopes();
        let n = "nonce-1";
        let good = proof_for(&id, &fields(&s, n, NOW));
        let f = fields(&s, n, NOW);
        let ok = verify_device_proof(&good, &f, n, NOW + 1000).unwrap();
        assert_eq!(ok.version, PayloadVersion::V3);
        assert_eq!(ok.device_id, id.device_id());

        // Padded standard base64 for key and signature is accepted.
        let mut padded = good.clone();
        padded.public_key = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(id.verifying_key().as_bytes())
        };
        assert!(verify_device_proof(&padded, &f, n, NOW).is_ok());

        let mut bad_id = good.clone();
        bad_id.id = "00".repeat(32);
        assert_eq!(
            verify_device_proof(&bad_id, &f, n, NOW),
            Err(DeviceAuthError::IdMismatch)
        );
        let mut garbage = good.clone();
        garbage.public_key = "not a key".into();
        assert_eq!(
            verify_device_proof(&garbage, &f, n, NOW),
            Err(DeviceAuthError::IdMismatch)
        );

        // 10 minutes old (the id check still comes first).
        let stale_f = fields(&s, n, NOW - 600_000);
        let stale = proof_for(&id, &stale_f);
        assert_eq!(
            verify_device_proof(&stale, &stale_f, n, NOW),
            Err(DeviceAuthError::Expired)
        );
        // Exactly at the edge is still fine.
        let edge_f = fields(&s, n, NOW - SIGNATURE_SKEW_MS);
        assert!(verify_device_proof(&proof_for(&id, &edge_f), &edge_f, n, NOW).is_ok());

        let blank_f = fields(&s, "  ", NOW);
        let blank = proof_for(&id, &blank_f);
        assert_eq!(
            verify_device_proof(&blank, &blank_f, n, NOW),
            Err(DeviceAuthError::NonceRequired)
        );

        let other_f = fields(&s, "other", NOW);
        let other = proof_for(&id, &other_f);
        assert_eq!(
            verify_device_proof(&other, &other_f, n, NOW),
            Err(DeviceAuthError::NonceMismatch)
        );

        // Signed over different scopes than the request carries.
        let fewer = vec!["operator.read".to_string()];
        let forged = proof_for(&id, &fields(&fewer, n, NOW));
        assert_eq!(
            verify_device_proof(&forged, &f, n, NOW),
            Err(DeviceAuthError::SignatureInvalid)
        );
        let mut junk_sig = good.clone();
        junk_sig.signature = "AAAA".into();
        assert_eq!(
            verify_device_proof(&junk_sig, &f, n, NOW),
            Err(DeviceAuthError::SignatureInvalid)
        );
    }

    #[test]
    fn v2_signatures_are_accepted() {
        let id = DeviceIdentity::from_seed([4u8; 32], 0);
        let s = scopes();
        let f = fields(&s, "n", NOW);
        let mut p = proof_for(&id, &f);
        p.signature = id.sign(&payload_v2(id.device_id(), &f));
        assert_eq!(
            verify_device_proof(&p, &f, "n", NOW).unwrap().version,
            PayloadVersion::V2
        );
    }

    #[test]
    fn error_shapes_match_the_reference_table() {
        let e = DeviceAuthError::NonceMismatch.to_error_shape();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert_eq!(e.message, "device nonce mismatch");
        assert_eq!(
            e.details.unwrap(),
            json!({"code":"DEVICE_AUTH_NONCE_MISMATCH","reason":"device-nonce-mismatch"})
        );
        let e = DeviceAuthError::IdMismatch.to_error_shape();
        assert_eq!(e.message, "device identity mismatch");
        assert_eq!(e.detail_code(), Some("DEVICE_AUTH_DEVICE_ID_MISMATCH"));
    }
}
