//! API tokens, browser session ids and CSRF tokens.
//!
//! Each is 32 bytes (256 bits) from the operating system's RNG, written as
//! unpadded URL-safe base64 (43 characters). The base64url encoder is the
//! small one below rather than a dependency: it is a dozen lines and tested
//! against RFC 4648's vectors.
//!
//! Only a SHA-256 hash of a token or session id is stored. A fast hash is
//! right here (unlike passwords): the input has 256 bits of entropy, so there
//! is nothing to brute-force, and a fast hash lets the database find the row
//! by an indexed equality lookup on the hash.

use rand::rngs::OsRng;
use rand::TryRngCore;
use sha2::{Digest, Sha256};

/// Every API token starts with this, so it is recognisable in logs and by
/// secret scanners, and cheap to reject before any database work.
pub const TOKEN_PREFIX: &str = "cla_";

/// Random bytes in every token, session id and CSRF token.
const SECRET_BYTES: usize = 32;
/// Unpadded base64 length of [`SECRET_BYTES`]: ceil(32 * 8 / 6).
pub const ENCODED_LEN: usize = 43;

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A new API token: `(token, storage_hash)`. Show the token once; store only
/// the hash.
pub fn new_token() -> (String, String) {
    let token = format!("{TOKEN_PREFIX}{}", random_secret());
    let hash = hash_token(&token);
    (token, hash)
}

/// Lowercase hex SHA-256 of the whole token string (prefix included).
pub fn hash_token(token: &str) -> String {
    to_hex(&Sha256::digest(token.as_bytes()))
}

/// A cheap shape check (prefix, length, alphabet) so that junk in an
/// `Authorization` header is turned away before it reaches the database.
pub fn looks_like_token(s: &str) -> bool {
    s.strip_prefix(TOKEN_PREFIX).is_some_and(is_encoded_secret)
}

/// A new browser session id: `(cookie_value, storage_hash)`, in the same
/// format as an API token, so [`looks_like_token`] and [`hash_token`] serve
/// for both. The two live in different tables, so one cannot stand in for
/// the other.
pub fn new_session_id() -> (String, String) {
    new_token()
}

/// A new CSRF token (32 random bytes, URL-safe base64).
pub fn new_csrf_token() -> String {
    random_secret()
}

/// Compares two secrets without stopping at the first difference, so the time
/// taken does not tell an attacker how many leading characters were right.
/// The length is not hidden; every secret here has a fixed, public length.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box stops the optimiser turning the fold back into an early exit.
    std::hint::black_box(diff) == 0
}

fn is_encoded_secret(s: &str) -> bool {
    s.len() == ENCODED_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// 32 bytes from the OS RNG, base64url encoded.
///
/// Panics if the OS RNG fails: that cannot happen on a working Linux system,
/// and issuing a guessable credential would be far worse than a failed request.
fn random_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    if let Err(e) = OsRng.try_fill_bytes(&mut bytes) {
        panic!("the operating system's random number generator failed: {e}");
    }
    base64url(&bytes)
}

/// Unpadded URL-safe base64 (RFC 4648 section 5).
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        // A chunk of k bytes carries 8k bits: k + 1 sextets.
        for i in 0..=chunk.len() {
            let sextet = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(BASE64URL[sextet as usize]));
        }
    }
    out
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn base64url_matches_rfc4648_vectors_without_padding() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64url(input), expected);
        }
    }

    #[test]
    fn base64url_uses_the_url_safe_alphabet() {
        assert_eq!(base64url(&[0xfb, 0xff, 0xbf]), "-_-_");
        assert_eq!(base64url(&[0xff; 32]).len(), ENCODED_LEN);
    }

    #[test]
    fn tokens_have_the_documented_shape() {
        let (token, hash) = new_token();
        assert!(token.starts_with("cla_"));
        assert_eq!(token.len(), 4 + 43);
        assert_eq!(hash, hash_token(&token));
    }

    #[test]
    fn tokens_session_ids_and_csrf_tokens_are_unique_over_many_draws() {
        let mut seen = HashSet::new();
        for _ in 0..2_000 {
            assert!(seen.insert(new_token().0));
            assert!(seen.insert(new_session_id().0));
            assert!(seen.insert(new_csrf_token()));
        }
    }

    #[test]
    fn hash_is_stable_lowercase_hex_sha256() {
        // SHA-256("abc") from FIPS 180-2.
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let (token, hash) = new_token();
        assert_eq!(hash, hash_token(&token));
        assert_eq!(hash.len(), 64);
        assert!(hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }

    #[test]
    fn session_ids_have_the_token_shape_and_hash() {
        let (id, hash) = new_session_id();
        assert_eq!(hash, hash_token(&id));
        assert!(looks_like_token(&id));
    }

    #[test]
    fn looks_like_token_accepts_new_tokens() {
        for _ in 0..100 {
            assert!(looks_like_token(&new_token().0));
        }
    }

    #[test]
    fn looks_like_token_rejects_others() {
        let (token, _) = new_token();
        let body = &token[4..];
        for bad in [
            String::new(),
            "cla_".to_string(),
            body.to_string(),
            format!("CLA_{body}"),
            format!("clb_{body}"),
            token[..token.len() - 1].to_string(),
            format!("{token}A"),
            format!("cla_{}+", &body[..42]),
            format!("cla_{}=", &body[..42]),
            format!("cla_{}é", &body[..41]),
            format!(" {token}"),
        ] {
            assert!(!looks_like_token(&bad), "{bad:?}");
        }
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq("", ""));
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "xbc"));
        assert!(!constant_time_eq("abc", "ab"));
        assert!(!constant_time_eq("ab", "abc"));
        assert!(!constant_time_eq("", "a"));
        let csrf = new_csrf_token();
        assert!(constant_time_eq(&csrf, &csrf.clone()));
        assert!(!constant_time_eq(&csrf, &new_csrf_token()));
    }
}
