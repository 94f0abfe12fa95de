//! Password hashing (Argon2id, off the async threads) and the password policy.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{Error, Result};

pub const MIN_LEN: usize = 10;

/// Common passwords of policy length; shorter ones already fail on length.
const COMMON: &str = include_str!("common-passwords.txt");

/// Check a new password. Returns a Chinese message for the password field.
pub fn check_policy(password: &str, username: &str) -> std::result::Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(format!("密码至少 {MIN_LEN} 个字符（当前 {n} 个）"));
    }
    if n > 128 {
        return Err("密码不能超过 128 个字符".into());
    }
    let lower = password.to_lowercase();
    if COMMON.lines().map(str::trim).any(|c| !c.is_empty() && c == lower) {
        return Err("该密码过于常见，请换一个".into());
    }
    let mut chars = lower.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err("密码不能由同一个字符重复组成".into());
    }
    if is_sequence(&lower) {
        return Err("密码不能是连续的字符序列".into());
    }
    let user = username.trim().to_lowercase();
    if user.len() >= 3 && lower.contains(&user) {
        return Err("密码不能包含用户名".into());
    }
    Ok(())
}

/// "1234567890", "abcdefghij", "9876543210": each char one step from the previous.
fn is_sequence(s: &str) -> bool {
    let v: Vec<u32> = s.chars().map(|c| c as u32).collect();
    v.len() >= 2 && (v.windows(2).all(|w| w[1] == w[0] + 1) || v.windows(2).all(|w| w[0] == w[1] + 1))
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&crate::random_bytes::<16>())
        .map_err(|e| Error::internal(format!("盐值生成失败：{e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("密码哈希失败：{e}")))
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Argon2id costs tens of milliseconds of CPU: keep it off the async worker threads.
pub async fn hash(password: &str) -> Result<String> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || hash_blocking(&pw)).await.map_err(Error::internal)?
}

pub async fn verify(password: &str, phc: &str) -> bool {
    let (pw, phc) = (password.to_string(), phc.to_string());
    tokio::task::spawn_blocking(move || verify_blocking(&pw, &phc)).await.unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so timing does not reveal it.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("gongkai-dummy-password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check_policy("short1!", "zhang").unwrap_err().contains("至少"));
        assert!(check_policy("1234567890", "zhang").unwrap_err().contains("常见"));
        assert!(check_policy("Password123", "zhang").unwrap_err().contains("常见"));
        assert!(check_policy("aaaaaaaaaaaa", "zhang").is_err());
        assert!(check_policy("abcdefghijk", "zhang").is_err());
        assert!(check_policy("zhangsan-2024!", "zhangsan").unwrap_err().contains("用户名"));
        assert!(check_policy("Qing-He-2024-春", "zhangsan").is_ok());
    }

    #[test]
    fn hash_and_verify() {
        let h = hash_blocking("Qing-He-2024").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_blocking("Qing-He-2024", &h));
        assert!(!verify_blocking("Qing-He-2025", &h));
        assert!(!verify_blocking("x", "not a hash"));
    }
}
