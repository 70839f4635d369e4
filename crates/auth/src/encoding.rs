//! Base64 and hex helpers with the leniency OpenClaw's server applies on input.
//!
//! Output is always base64url without padding. Input accepts base64url or standard
//! base64, padded or not (OpenClaw's normalizer does the same).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Encode as base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decode base64url or standard base64, padded or unpadded, ignoring surrounding whitespace.
pub fn decode_b64_lenient(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    for engine in [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD_NO_PAD, &STANDARD] {
        if let Ok(b) = engine.decode(t) {
            return Some(b);
        }
    }
    None
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// SHA-256 digest.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `n` random bytes from the OS.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b)?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_decode_accepts_all_alphabets() {
        let raw = [0xfbu8, 0xff, 0x01, 0x02, 0x03];
        for text in [
            URL_SAFE_NO_PAD.encode(raw),
            URL_SAFE.encode(raw),
            STANDARD.encode(raw),
            STANDARD_NO_PAD.encode(raw),
        ] {
            assert_eq!(
                decode_b64_lenient(&text).as_deref(),
                Some(&raw[..]),
                "{text}"
            );
        }
        assert_eq!(decode_b64_lenient(""), None);
        assert_eq!(decode_b64_lenient("!!!"), None);
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0xab, 0x01]), "ab01");
    }
}
