//! Passwords (Argon2id), random tokens, and signing in and out.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How many failed sign-ins of one account from one address are allowed before a wait.
pub const MAX_FAILED_SIGN_INS: i64 = 5;
/// How long that wait lasts, in minutes.
pub const LOCKOUT_MINUTES: i64 = 15;

/// Hashes a password with Argon2id and a fresh salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks a password against a PHC string; a malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// How long a sign-in waits for one of the node's password-check slots before it is told the
/// server is busy.
const PASSWORD_CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Checks a password off the async workers, at most [`crate::http::security::Limits`]'
/// `password_checks_at_once` at a time: each check holds ~19 MiB for tens of milliseconds, so a
/// flood of sign-ins queues here instead of growing the process.
pub async fn check_password(
    state: &crate::AppState,
    password: String,
    phc: String,
) -> Result<bool, crate::AppError> {
    let permit = tokio::time::timeout(PASSWORD_CHECK_WAIT, state.guards.password_checks.acquire())
        .await
        .map_err(|_| crate::AppError::busy())?
        .map_err(crate::AppError::internal)?;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(crate::AppError::internal)?;
    drop(permit);
    Ok(ok)
}

/// A fresh random token: 32 bytes from the OS, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the store keeps of a token: its SHA-256, so a stolen database opens no sessions.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves_and_use_argon2id() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(hash_password("correct horse").expect("hash"), h, "salted");
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
