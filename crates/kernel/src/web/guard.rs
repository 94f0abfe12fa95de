//! Protections for public (anonymous) forms: an arithmetic question instead of an image
//! captcha, and a per-client rate limiter.
//!
//! The question is plain text ("七加五等于几？"), so screen readers read it and people with
//! poor eyesight can enlarge it; it only stops unsophisticated bots, which is why public
//! forms also use [`RateLimiter`].
//!
//! ```
//! use gongkai_kernel::web::guard;
//! let secret = [7u8; 32];
//! let c = guard::challenge(&secret, 0);
//! // The form shows c.question, posts c.token back in a hidden field with the answer.
//! assert!(guard::verify(&secret, &c.token, "不知道", 1).is_err());
//! ```

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::with_conn;

/// How long a question stays answerable.
pub const CHALLENGE_TTL_MS: i64 = 30 * 60 * 1000;

pub const MSG_WRONG: &str = "验证答案不正确，请重新计算";
pub const MSG_EXPIRED: &str = "验证题已过期，请刷新页面后重试";
pub const MSG_EMPTY: &str = "请填写验证题的答案";
pub const MSG_INVALID: &str = "验证题无效，请刷新页面后重试";

/// The settings row holding the form secret.
const SECRET_SETTING: &str = "web.form_secret";
/// Separates captcha MACs from anything else keyed with the same secret.
const DOMAIN: &[u8] = b"gongkai/form-captcha/v1\0";
const NONCE_LEN: usize = 16;
const TAG_LEN: usize = 32;
const TOKEN_LEN: usize = 8 + NONCE_LEN + TAG_LEN;
const DIGITS_ZH: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Challenge {
    /// e.g. "七加五等于几？（请填写阿拉伯数字）"
    pub question: String,
    /// Hidden form field; carries the expiry and a MAC of the answer, so no server state.
    pub token: String,
}

/// A new question, valid for [`CHALLENGE_TTL_MS`] from `now_ms`.
pub fn challenge(secret: &[u8], now_ms: i64) -> Challenge {
    let r = crate::random_bytes::<{ NONCE_LEN + 3 }>();
    let (mut a, mut b) = (1 + u32::from(r[NONCE_LEN]) % 9, 1 + u32::from(r[NONCE_LEN + 1]) % 9);
    let add = r[NONCE_LEN + 2] & 1 == 0;
    if !add && a < b {
        // Keep differences non-negative: no one should have to type a minus sign.
        std::mem::swap(&mut a, &mut b);
    }
    let answer = if add { a + b } else { a - b };
    let expiry = now_ms.saturating_add(CHALLENGE_TTL_MS);
    let nonce = &r[..NONCE_LEN];
    // HMAC takes keys of any length, so `keyed` cannot fail; an empty token would only fail verify.
    let tag = keyed(secret, expiry, nonce, answer).map(|m| m.finalize().into_bytes().to_vec()).unwrap_or_default();
    let mut raw = Vec::with_capacity(TOKEN_LEN);
    raw.extend_from_slice(&expiry.to_be_bytes());
    raw.extend_from_slice(nonce);
    raw.extend_from_slice(&tag);
    let question = format!(
        "{}{}{}等于几？（请填写阿拉伯数字）",
        DIGITS_ZH[a as usize],
        if add { "加" } else { "减" },
        DIGITS_ZH[b as usize]
    );
    Challenge { question, token: crate::audit::hex(&raw) }
}

/// Check an answer. Accepts surrounding spaces, full-width digits ("１２") and simple
/// Chinese numerals ("十二"). The error is a message to show next to the field.
///
/// A solved token stays valid until it expires: the check is stateless, so one human
/// answer could be replayed for 30 minutes. The rate limiter bounds what that buys.
pub fn verify(secret: &[u8], token: &str, answer: &str, now_ms: i64) -> std::result::Result<(), &'static str> {
    let raw = unhex(token.trim()).filter(|r| r.len() == TOKEN_LEN).ok_or(MSG_INVALID)?;
    let (expiry, rest) = raw.split_at(8);
    let (nonce, tag) = rest.split_at(NONCE_LEN);
    let mut e = [0u8; 8];
    e.copy_from_slice(expiry);
    let expiry = i64::from_be_bytes(e);
    if now_ms > expiry {
        return Err(MSG_EXPIRED);
    }
    if answer.trim().is_empty() {
        return Err(MSG_EMPTY);
    }
    let n = parse_answer(answer).ok_or(MSG_WRONG)?;
    let mac = keyed(secret, expiry, nonce, n).ok_or(MSG_INVALID)?;
    // verify_slice compares in constant time.
    mac.verify_slice(tag).map_err(|_| MSG_WRONG)
}

fn keyed(secret: &[u8], expiry: i64, nonce: &[u8], answer: u32) -> Option<Hmac<Sha256>> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).ok()?;
    m.update(DOMAIN);
    m.update(&expiry.to_be_bytes());
    m.update(nonce);
    m.update(answer.to_string().as_bytes());
    Some(m)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.is_ascii() || !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16)?;
            let lo = (p[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

/// "12", "１２", " 12 ", "十二", "二十", "零" → the number; None for anything else.
fn parse_answer(s: &str) -> Option<u32> {
    let s = s.trim();
    let digit = |c: char| match c {
        '0'..='9' => c.to_digit(10),
        '０'..='９' => Some(c as u32 - '０' as u32),
        _ => None,
    };
    if !s.is_empty() && s.chars().count() <= 3 && s.chars().all(|c| digit(c).is_some()) {
        return s.chars().try_fold(0u32, |acc, c| Some(acc * 10 + digit(c)?));
    }
    let zh = |c: char| match c {
        '〇' | '零' => Some(0),
        '两' => Some(2),
        _ => DIGITS_ZH.iter().position(|d| d.starts_with(c)).map(|p| p as u32),
    };
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        [c] if *c == '十' => Some(10),
        [c] => zh(*c),
        ['十', u] => Some(10 + zh(*u)?),
        [t, '十'] => Some(zh(*t)? * 10),
        [t, '十', u] => Some(zh(*t)? * 10 + zh(*u)?),
        _ => None,
    }
}

/// What one public form keeps per node: submissions and look-ups per client address and
/// hour, and the shared form secret (read once from `settings`). Each slice attaches its own
/// (wrapped in its own type), so one form's traffic does not use up another's limit.
#[derive(Clone)]
pub struct FormGuard {
    submissions: std::sync::Arc<RateLimiter>,
    lookups: std::sync::Arc<RateLimiter>,
    secret: std::sync::Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl FormGuard {
    pub fn new(submissions_per_hour: u32, lookups_per_hour: u32) -> FormGuard {
        let hour = Duration::from_secs(3600);
        FormGuard {
            submissions: std::sync::Arc::new(RateLimiter::new(submissions_per_hour, hour)),
            lookups: std::sync::Arc::new(RateLimiter::new(lookups_per_hour, hour)),
            secret: std::sync::Arc::new(tokio::sync::OnceCell::new()),
        }
    }
    /// The form secret, loaded on first use.
    pub async fn secret(&self, db: &Db) -> Result<Vec<u8>> {
        Ok(self.secret.get_or_try_init(|| shared_secret(db)).await?.clone())
    }
    /// Count a submission from `ip`; the wait until the next one is allowed past the limit.
    pub fn submission(&self, ip: &str) -> std::result::Result<(), Duration> {
        self.submissions.check(&client_key(ip), Instant::now())
    }
    /// Count a look-up (tracking code, order number) from `ip`.
    pub fn lookup(&self, ip: &str) -> std::result::Result<(), Duration> {
        self.lookups.check(&client_key(ip), Instant::now())
    }
}

/// The secret for form tokens, shared by every node through the settings table: created
/// at random on first use (a concurrent first use on another node keeps whichever row
/// was inserted first). Load it once at startup and keep it in the app state.
pub async fn shared_secret(db: &Db) -> Result<Vec<u8>> {
    {
        let mut h = db.read().await?;
        if let Some(v) = read_setting(&mut h.conn()).await? {
            return decode_secret(&v);
        }
    }
    let fresh = crate::random_token::<32>();
    let now = crate::clock::now_ms();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    with_conn!(&mut c, x => {
        sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING")
            .bind(SECRET_SETTING).bind(&fresh).bind(now).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    let stored = read_setting(&mut c).await?;
    tx.commit().await?;
    decode_secret(&stored.ok_or_else(|| Error::Internal("表单密钥写入后未能读出".into()))?)
}

async fn read_setting(c: &mut crate::db::Conn<'_>) -> Result<Option<String>> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(SECRET_SETTING).fetch_optional(&mut **x).await
    })?)
}

fn decode_secret(v: &str) -> Result<Vec<u8>> {
    unhex(v.trim())
        .filter(|k| k.len() >= 16)
        .ok_or_else(|| Error::Internal(format!("设置项 {SECRET_SETTING} 不是有效的十六进制密钥")))
}

/// HMAC-SHA256 under the form secret over length-prefixed parts: for values derived from
/// it (an applicant's query code from the form's idempotency key, expiring file links).
pub fn mac(secret: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(secret) else {
        // HMAC accepts keys of any length; this branch cannot be taken.
        return [0; 32];
    };
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// A code a person can read out on the phone (no 0/O, 1/I/L), derived from `seed` under
/// the secret: the same seed always gives the same code.
pub fn readable_code(secret: &[u8], domain: &str, seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    mac(secret, &[domain.as_bytes(), seed.as_bytes()])
        .iter()
        .cycle()
        .take(len)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// The key to rate-limit a client address by. An IPv6 client usually controls a whole
/// /64, so it is limited as one; IPv4-mapped addresses count as the IPv4 address.
pub fn client_key(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => ip.trim().chars().take(64).collect(),
    }
}

/// Largest number of keys a limiter remembers unless told otherwise.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// A token bucket per key (usually [`client_key`]): `max` requests at once, refilled at
/// `max` per `per`. In memory and per node: behind a load balancer without sticky
/// sessions a client gets up to `max` on each node.
///
/// Memory stays bounded by keeping two generations of buckets: a key untouched for a
/// full `per` has a full bucket again, so forgetting it changes nothing. When many new
/// keys arrive faster than that, the older generation is dropped early and those
/// clients start over with full buckets; memory never exceeds `max_keys` entries.
pub struct RateLimiter {
    max: f64,
    per: Duration,
    half: usize,
    inner: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    current: HashMap<String, Bucket>,
    previous: HashMap<String, Bucket>,
    rotated: Option<Instant>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(max: u32, per: Duration) -> Self {
        Self::with_max_keys(max, per, DEFAULT_MAX_KEYS)
    }

    pub fn with_max_keys(max: u32, per: Duration, max_keys: usize) -> Self {
        RateLimiter {
            max: f64::from(max.max(1)),
            per,
            half: (max_keys / 2).max(1),
            inner: Mutex::new(Generations::default()),
        }
    }

    /// Take one request from `key`'s bucket, or say how long until one is available.
    pub fn check(&self, key: &str, now: Instant) -> std::result::Result<(), Duration> {
        if self.per.is_zero() {
            return Ok(());
        }
        // A panic elsewhere while holding the lock leaves only counters behind: keep using them.
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let rotated = *g.rotated.get_or_insert(now);
        if now.saturating_duration_since(rotated) >= self.per {
            g.rotate(now);
        }
        if !g.current.contains_key(key) {
            let carried = g.previous.remove(key);
            if g.current.len() >= self.half {
                g.rotate(now);
            }
            g.current.insert(key.to_string(), carried.unwrap_or(Bucket { tokens: self.max, at: now }));
        }
        let Some(b) = g.current.get_mut(key) else {
            return Ok(());
        };
        let rate = self.max / self.per.as_secs_f64();
        b.tokens = (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate).min(self.max);
        b.at = b.at.max(now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::try_from_secs_f64((1.0 - b.tokens) / rate).unwrap_or(self.per))
        }
    }

    /// Keys currently remembered (for metrics and tests).
    pub fn len(&self) -> usize {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.current.len() + g.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Generations {
    fn rotate(&mut self, now: Instant) {
        self.previous = std::mem::take(&mut self.current);
        self.rotated = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    /// Solve a question the way a person would.
    fn solve(q: &str) -> u32 {
        let zh = |c: char| DIGITS_ZH.iter().position(|d| d.starts_with(c)).expect("digit") as u32;
        let c: Vec<char> = q.chars().collect();
        assert_eq!(&q[q.len() - "等于几？（请填写阿拉伯数字）".len()..], "等于几？（请填写阿拉伯数字）");
        match c[1] {
            '加' => zh(c[0]) + zh(c[2]),
            '减' => zh(c[0]) - zh(c[2]),
            op => panic!("unexpected operator {op}"),
        }
    }

    #[test]
    fn right_answers_pass_in_every_spelling() {
        for _ in 0..200 {
            let c = challenge(SECRET, 1_000);
            let n = solve(&c.question);
            assert!(n <= 18, "{}", c.question);
            assert_eq!(verify(SECRET, &c.token, &n.to_string(), 2_000), Ok(()), "{}", c.question);
            assert_eq!(verify(SECRET, &c.token, &format!("  {n}\u{3000}"), 2_000), Ok(()));
            let full: String =
                n.to_string().chars().map(|d| char::from_u32(d as u32 - 48 + 0xFF10).expect("fw")).collect();
            assert_eq!(verify(SECRET, &c.token, &full, 2_000), Ok(()));
            assert_eq!(verify(SECRET, &c.token, &(n + 1).to_string(), 2_000), Err(MSG_WRONG));
        }
    }

    #[test]
    fn wrong_expired_and_forged_tokens_fail() {
        let c = challenge(SECRET, 1_000);
        let n = solve(&c.question);
        assert_eq!(verify(SECRET, &c.token, "abc", 2_000), Err(MSG_WRONG));
        assert_eq!(verify(SECRET, &c.token, " ", 2_000), Err(MSG_EMPTY));
        assert_eq!(verify(SECRET, &c.token, &n.to_string(), 1_000 + CHALLENGE_TTL_MS), Ok(()));
        assert_eq!(verify(SECRET, &c.token, &n.to_string(), 1_001 + CHALLENGE_TTL_MS), Err(MSG_EXPIRED));
        assert_eq!(verify(b"another secret", &c.token, &n.to_string(), 2_000), Err(MSG_WRONG));
        assert_eq!(verify(SECRET, "", &n.to_string(), 2_000), Err(MSG_INVALID));
        assert_eq!(verify(SECRET, "zz", &n.to_string(), 2_000), Err(MSG_INVALID));
        assert_eq!(verify(SECRET, &c.token[..c.token.len() - 2], &n.to_string(), 2_000), Err(MSG_INVALID));
        // Pushing the expiry later breaks the MAC.
        let later = format!("{:016x}{}", 1_000 + 2 * CHALLENGE_TTL_MS, &c.token[16..]);
        assert_eq!(verify(SECRET, &later, &n.to_string(), 2_000), Err(MSG_WRONG));
        assert_eq!(verify(SECRET, &c.token.to_uppercase(), &n.to_string(), 2_000), Ok(()));
    }

    #[test]
    fn answers_parse() {
        for (s, n) in [
            ("0", 0),
            ("07", 7),
            ("１８", 18),
            (" 12 ", 12),
            ("零", 0),
            ("七", 7),
            ("两", 2),
            ("十", 10),
            ("十二", 12),
            ("二十", 20),
            ("一十八", 18),
        ] {
            assert_eq!(parse_answer(s), Some(n), "{s}");
        }
        for s in ["", "1 2", "-3", "1.0", "十十", "百", "12345", "一二"] {
            assert_eq!(parse_answer(s), None, "{s}");
        }
    }

    #[test]
    fn client_keys() {
        assert_eq!(client_key("203.0.113.9"), "203.0.113.9");
        assert_eq!(client_key("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(client_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(client_key("2001:db8:1:2:ffff::1"), client_key("2001:db8:1:2::9"));
        assert_eq!(client_key(" not-an-ip "), "not-an-ip");
    }

    #[test]
    fn limiter_allows_burst_then_refills() {
        let per = Duration::from_secs(60);
        let l = RateLimiter::new(3, per);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check("a", t0), Ok(()));
        }
        let wait = l.check("a", t0).expect_err("fourth is limited");
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20), "{wait:?}");
        assert_eq!(l.check("b", t0), Ok(()), "keys are independent");
        assert!(l.check("a", t0 + Duration::from_secs(19)).is_err());
        assert_eq!(l.check("a", t0 + Duration::from_secs(20)), Ok(()));
        assert!(l.check("a", t0 + Duration::from_secs(20)).is_err());
        // After a full period the bucket is full again, and no fuller than max.
        let later = t0 + Duration::from_secs(600);
        for _ in 0..3 {
            assert_eq!(l.check("a", later), Ok(()));
        }
        assert!(l.check("a", later).is_err());
    }

    #[test]
    fn limiter_forgets_idle_keys_and_stays_bounded() {
        let per = Duration::from_secs(10);
        let l = RateLimiter::with_max_keys(1, per, 10);
        let t0 = Instant::now();
        for i in 0..1_000 {
            let _ = l.check(&format!("k{i}"), t0);
            assert!(l.len() <= 10, "{}", l.len());
        }
        // A limited key survives one rotation (it is carried from the older generation)...
        let l = RateLimiter::new(1, per);
        assert_eq!(l.check("a", t0), Ok(()));
        assert!(l.check("a", t0 + Duration::from_secs(5)).is_err());
        let _ = l.check("b", t0 + Duration::from_secs(10));
        assert!(l.check("a", t0 + Duration::from_secs(9) + Duration::from_millis(990)).is_err());
        assert_eq!(l.len(), 2);
        // ...and idle keys are gone two periods later.
        let _ = l.check("c", t0 + Duration::from_secs(40));
        let _ = l.check("c", t0 + Duration::from_secs(51));
        assert_eq!(l.len(), 1);
    }

    #[tokio::test]
    async fn shared_secret_is_created_once() {
        for t in crate::testkit::backends().await {
            let a = shared_secret(&t.db).await.expect("create");
            assert_eq!(a.len(), 32);
            let b = shared_secret(&t.db).await.expect("read back");
            assert_eq!(a, b, "{}", t.backend_name());
        }
    }
}
