//! The generated data set: items made of sentences resampled from the government work
//! reports, deterministic for a seed, and each item computable on its own from its id (so
//! every engine is fed the same items without holding them all in memory).

use std::io::BufRead;

/// SplitMix64: small, fast, and good enough to pick sentences.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1).max(1) as u64) as i64
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

pub struct Corpus {
    /// Whole sentences with their closing mark.
    pub sentences: Vec<String>,
    /// Comma-free clauses of 4–16 letters, for "关于…的通知" titles.
    pub clauses: Vec<String>,
    /// All sentences joined, to check that a query word occurs in the corpus.
    pub text: String,
}

fn is_end(c: char) -> bool {
    matches!(c, '。' | '！' | '？')
}

pub fn load(path: &str) -> Result<Corpus, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut sentences = Vec::new();
    for line in std::io::BufReader::new(f).lines() {
        let line = line.map_err(|e| format!("{path}: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| format!("{path}: {e}"))?;
        let Some(content) = v.get("content").and_then(|c| c.as_str()) else { continue };
        let mut cur = String::new();
        for c in content.chars() {
            if c == '\n' || c == '\r' {
                push_sentence(&mut sentences, &mut cur);
            } else {
                cur.push(c);
                if is_end(c) {
                    push_sentence(&mut sentences, &mut cur);
                }
            }
        }
        push_sentence(&mut sentences, &mut cur);
    }
    if sentences.len() < 100 {
        return Err(format!("{path}: only {} usable sentences", sentences.len()));
    }
    let mut clauses = Vec::new();
    for s in &sentences {
        for c in s.split(['，', '、', '；', '：', '。', '！', '？', ' ']) {
            let n = c.chars().count();
            if (4..=16).contains(&n) && c.chars().all(char::is_alphanumeric) {
                clauses.push(c.to_string());
            }
        }
    }
    let text = sentences.concat();
    Ok(Corpus { sentences, clauses, text })
}

fn push_sentence(out: &mut Vec<String>, cur: &mut String) {
    let s = cur.trim();
    let n = s.chars().count();
    // Headings and fragments are too short to be body text; tables run on too long.
    if (8..=300).contains(&n) {
        out.push(s.to_string());
    }
    cur.clear();
}

const SUFFIXES: [&str; 5] = ["的通知", "的实施意见", "工作方案", "的公告", "情况报告"];
const AGENCIES: [&str; 12] = [
    "青政办发",
    "青政发",
    "青发改",
    "青财预",
    "青教发",
    "青卫健发",
    "青人社发",
    "青住建发",
    "青农发",
    "青市监发",
    "青环发",
    "青交发",
];

pub struct Item {
    pub id: i64,
    pub title: String,
    pub doc_no: String,
    pub summary: String,
    pub body: String,
    pub year: i64,
    /// YYYY-MM-DD
    pub day: String,
    /// Publication instant (ms since the epoch).
    pub ts: i64,
    pub column: i64,
    pub org: i64,
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn trim_punct(s: &str) -> &str {
    s.trim_end_matches(|c: char| !c.is_alphanumeric())
}

pub struct Generator<'a> {
    pub corpus: &'a Corpus,
    pub seed: u64,
    first_day: i64,
    last_day: i64,
}

impl<'a> Generator<'a> {
    pub fn new(corpus: &'a Corpus, seed: u64) -> Generator<'a> {
        Generator { corpus, seed, first_day: days_from_civil(2015, 1, 1), last_day: days_from_civil(2026, 12, 31) }
    }

    /// Item `id` (1..=N): the same for the same seed, whatever else was generated.
    pub fn item(&self, id: i64) -> Item {
        let c = self.corpus;
        let mut rng = Rng::new(self.seed ^ (id as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        let title = if rng.below(2) == 0 && !c.clauses.is_empty() {
            let clause = &c.clauses[rng.below(c.clauses.len())];
            format!("关于{clause}{}", SUFFIXES[rng.below(SUFFIXES.len())])
        } else {
            // The sentence's opening clauses, 12–30 characters, cut at a clause boundary
            // when there is one.
            let s = &c.sentences[rng.below(c.sentences.len())];
            let want = rng.range(12, 30) as usize;
            let mut t = String::new();
            for clause in s.split_inclusive(['，', '；', '：', '。', '！', '？']) {
                if t.chars().count() >= want {
                    break;
                }
                t.push_str(clause);
            }
            let cut: String = t.chars().take(30).collect();
            trim_punct(&cut).to_string()
        };
        let day = rng.range(self.first_day, self.last_day);
        let (y, m, d) = civil_from_days(day);
        let ts = (day * 86_400 + rng.range(8 * 3600, 18 * 3600)) * 1000;
        let doc_no = if rng.below(10) < 4 {
            format!("{}〔{y}〕{}号", AGENCIES[rng.below(AGENCIES.len())], rng.range(1, 300))
        } else {
            String::new()
        };
        // 300–1200 characters of whole sentences (at least three).
        let target = rng.range(300, 1200) as usize;
        let mut body = String::new();
        let mut summary = String::new();
        let mut chars = 0;
        let mut count = 0;
        while (chars < target || count < 3) && count < 60 {
            let s = &c.sentences[rng.below(c.sentences.len())];
            if count == 0 {
                summary = s.clone();
            }
            body.push_str(s);
            chars += s.chars().count();
            count += 1;
        }
        Item {
            id,
            title,
            doc_no,
            summary,
            body,
            year: y,
            day: format!("{y:04}-{m:02}-{d:02}"),
            ts,
            column: rng.range(1, 40),
            org: rng.range(1, 30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for z in [days_from_civil(2015, 1, 1), days_from_civil(2020, 2, 29), days_from_civil(2026, 12, 31)] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(days_from_civil(2024, 3, 1)), (2024, 3, 1));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
