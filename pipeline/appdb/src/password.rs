//! Password hashes (argon2id, PHC strings with their own salt and parameters) and random tokens.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use sha2::{Digest, Sha256};

use crate::AppDbError;

/// Shortest password accepted.
pub(crate) const MIN_LEN: usize = 10;

pub(crate) fn check_strength(password: &str) -> Result<(), AppDbError> {
    if password.chars().count() < MIN_LEN {
        return Err(AppDbError::Invalid(format!(
            "the password is too short: at least {MIN_LEN} characters (密码至少 {MIN_LEN} 位)"
        )));
    }
    if password.trim() != password {
        return Err(AppDbError::Invalid(
            "the password begins or ends with white space (a pasted newline?)".into(),
        ));
    }
    Ok(())
}

pub(crate) fn hash(password: &str) -> Result<String, AppDbError> {
    let salt = random_bytes::<16>()?;
    PasswordHasher::<PasswordHash>::hash_password_with_salt(
        &Argon2::default(),
        password.as_bytes(),
        &salt,
    )
    .map(|h| h.to_string())
    .map_err(|e| AppDbError::Hash(e.to_string()))
}

/// Whether `password` matches the stored `phc` hash (a malformed hash matches nothing).
pub(crate) fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that a wrong name takes as long
/// as a wrong password and does not tell which names exist.
pub(crate) fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password, never a user's").unwrap_or_default())
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], AppDbError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| AppDbError::Random(e.to_string()))?;
    Ok(b)
}

/// A new secret token (32 random bytes, hex) for a cookie or link.
pub(crate) fn token() -> Result<String, AppDbError> {
    Ok(hex::encode(random_bytes::<32>()?))
}

/// What is stored of a token: its SHA-256.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("correct horse battery", "not a hash"));
        assert_ne!(h, hash("correct horse battery").expect("hash"), "salted");
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("long enough\n").is_err());
        assert!(check_strength("长一点的中文密码十个字").is_ok());
    }

    #[test]
    fn tokens_differ_and_hash_stably() {
        let (a, b) = (token().expect("a"), token().expect("b"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
    }
}
