//! TOTP second factor (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the variant
//! every authenticator app understands. Secrets are 160 bits, shown as base32.

use hmac::{Hmac, Mac};
use sha1::Sha1;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub fn new_secret() -> String {
    base32_encode(&crate::random_bytes::<20>())
}

pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in data {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for ch in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = ALPHABET.iter().position(|&a| a as char == ch.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The code for one 30-second step.
pub fn code_at(secret: &[u8], step: u64) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!("{:06}", bin % 1_000_000)
}

/// Accept the current step and one on each side (clock drift).
pub fn verify(secret_b32: &str, code: &str, unix_secs: i64) -> bool {
    let Some(secret) = base32_decode(secret_b32) else {
        return false;
    };
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) || unix_secs < 30 {
        return false;
    }
    let step = (unix_secs / 30) as u64;
    [step - 1, step, step + 1].iter().any(|s| code_at(&secret, *s) == code)
}

pub fn otpauth_uri(secret_b32: &str, username: &str) -> String {
    format!("otpauth://totp/gongkai:{username}?secret={secret_b32}&issuer=gongkai&algorithm=SHA1&digits=6&period=30")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vectors() {
        // RFC 6238 appendix B, SHA1 secret "12345678901234567890" (8-digit codes; we keep the last 6).
        let secret = b"12345678901234567890";
        for (t, full) in
            [(59u64, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"), (2000000000, "69279037")]
        {
            assert_eq!(code_at(secret, t / 30), full[2..], "t={t}");
        }
    }

    #[test]
    fn base32_round_trip_and_verify() {
        let s = new_secret();
        assert_eq!(s.len(), 32);
        let raw = base32_decode(&s).unwrap();
        assert_eq!(base32_encode(&raw), s);
        let now = 1_700_000_000;
        let code = code_at(&raw, (now / 30) as u64);
        assert!(verify(&s, &code, now));
        assert!(verify(&s, &code, now + 30));
        assert!(!verify(&s, &code, now + 120));
        assert!(!verify(&s, "12345", now));
        assert!(!verify("!!", &code, now));
    }
}
