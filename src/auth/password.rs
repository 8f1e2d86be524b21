//! Password hashing (argon2id) and the password policy.
//!
//! Hashing follows OWASP's argon2id recommendation; the policy follows NCSC
//! guidance: a minimum length and a deny-list of common passwords, and no
//! composition rules (those push people towards `Password1!`).

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use rand::TryRngCore;

/// Fewest characters a password may have (NCSC: 12 or more is reasonable
/// when there is a deny-list and no composition rules).
pub const MIN_CHARS: usize = 12;
/// Most characters a password may have: long enough for any passphrase,
/// short enough that nobody can make us hash megabytes.
pub const MAX_CHARS: usize = 256;

/// OWASP's recommended argon2id floor.
const MIN_MEMORY_KIB: u32 = 19_456;
const MIN_ITERATIONS: u32 = 2;

/// One common password per line, lowercase, `#` comments allowed.
const COMMON_PASSWORDS: &str = include_str!("../../config/common-passwords.txt");

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordParams {
    /// OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        PasswordParams {
            memory_kib: MIN_MEMORY_KIB,
            iterations: MIN_ITERATIONS,
            parallelism: 1,
        }
    }
}

impl PasswordParams {
    /// Refuses parameters weaker than the OWASP floor, so a typo in
    /// configuration cannot quietly make stolen hashes cheap to crack.
    pub fn validate(&self) -> Result<(), String> {
        if self.memory_kib < MIN_MEMORY_KIB {
            return Err(format!(
                "argon2 memory must be at least {MIN_MEMORY_KIB} KiB, got {}",
                self.memory_kib
            ));
        }
        if self.iterations < MIN_ITERATIONS {
            return Err(format!(
                "argon2 iterations must be at least {MIN_ITERATIONS}, got {}",
                self.iterations
            ));
        }
        if self.parallelism < 1 {
            return Err("argon2 parallelism must be at least 1".to_string());
        }
        Ok(())
    }

    fn hasher(&self) -> Result<Argon2<'static>, PasswordError> {
        self.validate().map_err(PasswordError::WeakParams)?;
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| PasswordError::WeakParams(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Why a password could not be hashed (never because of the password itself).
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing parameters rejected: {0}")]
    WeakParams(String),
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Hashes with argon2id and a fresh 16-byte salt; returns a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) that carries its own
/// parameters, so they can be raised later without breaking old hashes.
pub fn hash_password(password: &str, params: &PasswordParams) -> Result<String, PasswordError> {
    let hasher = params.hasher()?;
    let salt = random_salt()?;
    let hash = hasher
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// The salt comes from the OS RNG via `rand` rather than argon2's own
/// `OsRng` re-export, which needs an extra `getrandom` feature flag.
fn random_salt() -> Result<SaltString, PasswordError> {
    let mut bytes = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| PasswordError::Random(e.to_string()))?;
    SaltString::encode_b64(&bytes).map_err(|e| PasswordError::Hash(e.to_string()))
}

/// True only if `phc` is a well-formed argon2id hash of `password`.
///
/// Any malformed or non-argon2id hash gives false rather than an error: a
/// login has one answer for every failure. The final comparison is constant
/// time (argon2's `Output` comparison). Cost parameters are read from the
/// stored hash, which is trusted database content.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

/// True when `phc` was made with parameters other than `params` (or cannot be
/// read), so the caller should re-hash the password after a successful login.
pub fn needs_rehash(phc: &str, params: &PasswordParams) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(stored) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm != Algorithm::Argon2id.ident()
        || stored.m_cost() != params.memory_kib
        || stored.t_cost() != params.iterations
        || stored.p_cost() != params.parallelism
}

/// A hash of a random password with the same parameters as real hashes.
///
/// Compute it once at start-up and verify against it when a login names an
/// unknown user, so that login costs one argon2 run either way and its timing
/// does not reveal which email addresses have accounts.
///
/// # Panics
/// If hashing fails (parameters rejected by [`PasswordParams::validate`], or
/// the OS RNG failing). It runs once at start-up, where refusing to start is
/// right: falling back to other parameters would bring back the timing
/// difference this exists to remove. Use [`try_dummy_hash`] to handle it.
pub fn dummy_hash(params: &PasswordParams) -> String {
    match try_dummy_hash(params) {
        Ok(hash) => hash,
        Err(e) => panic!("cannot compute the start-up dummy password hash: {e}"),
    }
}

/// [`dummy_hash`] without the panic.
pub fn try_dummy_hash(params: &PasswordParams) -> Result<String, PasswordError> {
    let mut bytes = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| PasswordError::Random(e.to_string()))?;
    let random_password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hash_password(&random_password, params)
}

/// Why a chosen password is refused. The messages complete the sentence
/// "The password ...", so they read well in a form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("must be at least {MIN_CHARS} characters")]
    TooShort,
    #[error("must be at most {MAX_CHARS} characters")]
    TooLong,
    #[error("is too common: choose something less guessable")]
    TooCommon,
    #[error("must not be your email address or part of it")]
    IsEmail,
    #[error("must not be a single character repeated")]
    RepeatedCharacter,
}

/// Checks a new password against the NCSC-style policy.
///
/// Length is counted in Unicode scalar values (`char`s), not bytes, so a
/// passphrase in any script is treated fairly. There are deliberately no
/// composition rules. See [`candidates`] for how common passwords and the
/// email address are matched.
pub fn check_policy(password: &str, email: &str) -> Result<(), PolicyError> {
    // Bytes first: a cheap bound before counting characters of a huge input.
    if password.len() > MAX_CHARS * 4 {
        return Err(PolicyError::TooLong);
    }
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PolicyError::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PolicyError::TooLong);
    }
    if is_one_character_repeated(password) {
        return Err(PolicyError::RepeatedCharacter);
    }
    let candidates = candidates(password);
    if matches_email(&candidates, email) {
        return Err(PolicyError::IsEmail);
    }
    if candidates.iter().any(|c| common_passwords().contains(c.as_str())) {
        return Err(PolicyError::TooCommon);
    }
    Ok(())
}

fn is_one_character_repeated(password: &str) -> bool {
    let mut chars = password.chars();
    match chars.next() {
        Some(first) => chars.all(|c| c == first),
        None => false,
    }
}

/// The forms of a password that are compared with the deny-list and email:
///
/// 1. lowercased (matching is case-insensitive, so `PassWord123456` is caught);
/// 2. lowercased and trimmed (stray spaces around a common password);
/// 3. lowercased with all whitespace removed (`correct horse battery staple`);
/// 4. form 3 with trailing digits and punctuation stripped, when something is
///    left (`PasswordPassword2024!` is no better than `passwordpassword`).
///
/// Only trailing characters are stripped: leading symbols are part of keyboard
/// walks such as `!qaz2wsx`, and the list holds those forms itself.
fn candidates(password: &str) -> Vec<String> {
    let lower = password.to_lowercase();
    let trimmed = lower.trim().to_string();
    let squashed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    let stem = squashed
        .trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation())
        .to_string();
    let mut forms = vec![lower, trimmed, squashed];
    if !stem.is_empty() {
        forms.push(stem);
    }
    forms.dedup();
    forms
}

/// True if any candidate form equals the email address or its local part.
fn matches_email(candidates: &[String], email: &str) -> bool {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return false;
    }
    let local = email.rsplit_once('@').map_or(email.as_str(), |(local, _)| local);
    candidates
        .iter()
        .any(|c| *c == email || (!local.is_empty() && *c == local))
}

/// The deny-list, parsed once on first use.
fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "Jane.Smith.Nurse@somerset.nhs.uk";

    fn ok(password: &str) -> bool {
        check_policy(password, EMAIL).is_ok()
    }

    #[test]
    fn ncsc_twelve_characters_are_accepted() {
        assert!(ok("kettle piano"));
    }

    #[test]
    fn ncsc_eleven_characters_are_rejected() {
        assert_eq!(check_policy("kettlepiano", EMAIL), Err(PolicyError::TooShort));
    }

    #[test]
    fn ncsc_length_is_counted_in_characters_not_bytes() {
        // 11 two-byte characters are 22 bytes but still too short.
        assert_eq!(check_policy("éàüößçñøåæî", EMAIL), Err(PolicyError::TooShort));
        assert!(ok("éàüößçñøåæîõ"));
        assert!(ok("🐢🐇🦊🦉🐝🐞🦋🐌🐙🦀🐬🐳"));
        assert!(ok("かめとうさぎのおはなしです"));
    }

    #[test]
    fn ncsc_at_most_256_characters() {
        let long: String = "abcdefgh".repeat(32);
        assert_eq!(long.chars().count(), 256);
        assert!(ok(&long));
        assert_eq!(check_policy(&format!("{long}x"), EMAIL), Err(PolicyError::TooLong));
        assert_eq!(check_policy(&"é".repeat(1000), EMAIL), Err(PolicyError::TooLong));
    }

    #[test]
    fn ncsc_common_password_rejected_in_any_case() {
        for p in [
            "password123456",
            "PASSWORD123456",
            "Password123456",
            "pAsSwOrD123456",
            "Password1234!",
        ] {
            assert_eq!(check_policy(p, EMAIL), Err(PolicyError::TooCommon), "{p}");
        }
    }

    #[test]
    fn ncsc_common_password_rejected_after_trimming_spacing_and_trailing_digits() {
        for p in [
            "  qwertyuiop123  ",
            "correct horse battery staple",
            "PasswordPassword2024!",
            "ManchesterUnited1!!",
            "123456789012",
        ] {
            assert_eq!(check_policy(p, EMAIL), Err(PolicyError::TooCommon), "{p}");
        }
    }

    #[test]
    fn ncsc_email_and_its_local_part_rejected() {
        assert_eq!(
            check_policy("jane.smith.nurse@somerset.nhs.uk", EMAIL),
            Err(PolicyError::IsEmail)
        );
        assert_eq!(check_policy("Jane.Smith.Nurse", EMAIL), Err(PolicyError::IsEmail));
        assert_eq!(check_policy("jane.smith.nurse2024!", EMAIL), Err(PolicyError::IsEmail));
    }

    #[test]
    fn ncsc_one_character_repeated_rejected() {
        assert_eq!(
            check_policy("aaaaaaaaaaaaaaa", EMAIL),
            Err(PolicyError::RepeatedCharacter)
        );
        assert_eq!(
            check_policy("ßßßßßßßßßßßßßß", EMAIL),
            Err(PolicyError::RepeatedCharacter)
        );
    }

    #[test]
    fn ncsc_no_composition_rules_lowercase_passphrase_accepted() {
        assert!(ok("correct horse battery"));
        assert!(ok("purple kettle on the moor"));
        assert!(ok("elephantsunderthesea"));
    }

    #[test]
    fn policy_errors_have_human_messages() {
        assert_eq!(PolicyError::TooShort.to_string(), "must be at least 12 characters");
        assert_eq!(
            PolicyError::TooCommon.to_string(),
            "is too common: choose something less guessable"
        );
    }

    #[test]
    fn common_password_list_is_lowercase_and_long_enough() {
        let list = common_passwords();
        assert!(list.len() > 5_000, "list has {} entries", list.len());
        for entry in list {
            assert_eq!(*entry, entry.to_lowercase(), "{entry}");
            assert!(entry.chars().count() >= MIN_CHARS, "{entry}");
        }
        assert!(!list.iter().any(|e| e.starts_with('#')));
    }

    #[test]
    fn default_params_are_owasp_and_weaker_ones_rejected() {
        let p = PasswordParams::default();
        assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19_456, 2, 1));
        assert!(p.validate().is_ok());
        assert!(PasswordParams {
            memory_kib: 19_455,
            ..p
        }
        .validate()
        .is_err());
        assert!(PasswordParams { iterations: 1, ..p }.validate().is_err());
        assert!(PasswordParams { parallelism: 0, ..p }.validate().is_err());
        assert!(matches!(
            hash_password("x", &PasswordParams { iterations: 1, ..p }),
            Err(PasswordError::WeakParams(_))
        ));
    }

    #[test]
    fn hash_then_verify_round_trips_and_phc_names_argon2id_owasp_params() {
        let params = PasswordParams::default();
        let phc = hash_password("kettle piano lamp", &params).expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("kettle piano lamp", &phc));
        assert!(!verify_password("kettle piano lamp ", &phc));
        assert!(!verify_password("Kettle piano lamp", &phc));
        assert!(!needs_rehash(&phc, &params));
        assert!(needs_rehash(
            &phc,
            &PasswordParams {
                iterations: 3,
                ..params
            }
        ));
    }

    #[test]
    fn same_password_gets_different_salts() {
        let params = PasswordParams::default();
        let a = hash_password("kettle piano lamp", &params).expect("hash");
        let b = hash_password("kettle piano lamp", &params).expect("hash");
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_hash_verifies_false() {
        for phc in [
            "",
            "not a hash",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$",
            "$2b$12$abcdefghijklmnopqrstuuVd2Z0x9GZ3OmvUO5Sd8j9s4b7.Bq6y",
            "$argon2id$v=19$m=19456,t=2,p=1$!!!$!!!",
        ] {
            assert!(!verify_password("anything at all", phc), "{phc}");
        }
    }

    #[test]
    fn non_argon2id_hash_verifies_false() {
        let params = Params::new(19_456, 2, 1, None).expect("params");
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, params);
        let phc = argon2i
            .hash_password(b"kettle piano lamp", &salt)
            .expect("hash")
            .to_string();
        assert!(!verify_password("kettle piano lamp", &phc));
    }

    #[test]
    fn dummy_hash_is_a_real_hash_with_the_same_params() {
        let params = PasswordParams::default();
        let dummy = dummy_hash(&params);
        assert!(dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{dummy}");
        assert!(!verify_password("", &dummy));
        assert!(!needs_rehash(&dummy, &params));
        assert_ne!(dummy, dummy_hash(&params));
        assert!(matches!(
            try_dummy_hash(&PasswordParams {
                memory_kib: 1024,
                ..params
            }),
            Err(PasswordError::WeakParams(_))
        ));
    }
}
