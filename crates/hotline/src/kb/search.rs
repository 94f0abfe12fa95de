//! Ranking of knowledge-base entries: jieba search-mode words (the same segmenter as the
//! site search) and a BM25 score over the question (weighted higher) and the answer.
//! Small enough to run in Rust over every active entry per query.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use gongkai_search::text::{Segmenter, normalize};

/// BM25 parameters and the question's weight against the answer's.
const K1: f64 = 1.2;
const B: f64 = 0.75;
const QUESTION_WEIGHT: f64 = 2.0;
const ANSWER_WEIGHT: f64 = 1.0;

/// Separates the question's words from the answer's in the `tokens` column; never a word
/// itself (the segmenter drops tokens without letters or digits).
const FIELD_SEP: &str = " | ";

/// Words that say how someone asks, not what about.
const STOP: &[&str] = &[
    "怎么", "怎样", "如何", "什么", "哪里", "哪些", "多少", "是否", "可以", "能否", "需要", "请问", "一下", "的话",
    "吗", "呢", "的", "了", "和", "在", "是", "我", "要",
];

fn segmenter() -> &'static Segmenter {
    static SEG: OnceLock<Segmenter> = OnceLock::new();
    SEG.get_or_init(|| Segmenter::new(&[]))
}

/// The search-mode words of a text, in order, repeats kept (they count as frequency).
pub fn words(text: &str) -> Vec<String> {
    segmenter().tokens(text).into_iter().map(|t| t.0).collect()
}

/// The `tokens` column of an entry: the question's words, then the answer's.
pub fn tokens_column(question: &str, answer: &str) -> String {
    format!("{}{FIELD_SEP}{}", words(question).join(" "), words(answer).join(" "))
}

fn split_column(tokens: &str) -> (Vec<&str>, Vec<&str>) {
    match tokens.split_once(FIELD_SEP) {
        Some((q, a)) => (q.split_whitespace().collect(), a.split_whitespace().collect()),
        None => (tokens.split_whitespace().collect(), Vec::new()),
    }
}

/// The distinct words a query asks for: search-mode words without the asking words, and
/// single characters only when nothing longer is left.
pub fn query_terms(q: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let all: Vec<String> =
        words(q).into_iter().filter(|w| !STOP.contains(&w.as_str())).filter(|w| seen.insert(w.clone())).collect();
    let long: Vec<String> = all.iter().filter(|w| w.chars().count() > 1).cloned().collect();
    if long.is_empty() { all } else { long }
}

/// What one entry offers to the ranking.
pub struct Doc<'a> {
    pub question: &'a str,
    pub answer: &'a str,
    pub tokens: &'a str,
}

struct Prepared<'a> {
    q: HashMap<&'a str, u32>,
    a: HashMap<&'a str, u32>,
    q_len: f64,
    a_len: f64,
    q_text: String,
    a_text: String,
}

fn counts<'a>(ws: &[&'a str]) -> HashMap<&'a str, u32> {
    let mut m = HashMap::new();
    for w in ws {
        *m.entry(*w).or_insert(0) += 1;
    }
    m
}

/// A word's frequency in a field: from the stored words, or 1 when the text holds the word
/// but segmentation split it differently (a two-character query such as 社保 then still
/// finds 缴纳社保费 whatever jieba made of it).
fn tf(words: &HashMap<&str, u32>, text: &str, term: &str) -> f64 {
    match words.get(term) {
        Some(n) => f64::from(*n),
        None if text.contains(term) => 1.0,
        None => 0.0,
    }
}

fn bm25(tf: f64, len: f64, avg: f64) -> f64 {
    if tf == 0.0 {
        return 0.0;
    }
    let norm = if avg > 0.0 { len / avg } else { 1.0 };
    tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * norm))
}

/// Scores of the documents for a query: (index in `docs`, score), best first, only
/// documents matching at least one word.
pub fn rank(query: &str, docs: &[Doc<'_>]) -> Vec<(usize, f64)> {
    let terms = query_terms(query);
    if terms.is_empty() || docs.is_empty() {
        return Vec::new();
    }
    let prepared: Vec<Prepared<'_>> = docs
        .iter()
        .map(|d| {
            let (q, a) = split_column(d.tokens);
            Prepared {
                q_len: q.len().max(1) as f64,
                a_len: a.len().max(1) as f64,
                q: counts(&q),
                a: counts(&a),
                q_text: normalize(d.question),
                a_text: normalize(d.answer),
            }
        })
        .collect();
    let n = prepared.len() as f64;
    let avg_q = prepared.iter().map(|p| p.q_len).sum::<f64>() / n;
    let avg_a = prepared.iter().map(|p| p.a_len).sum::<f64>() / n;
    let mut scores = vec![0.0f64; prepared.len()];
    for t in &terms {
        let per_doc: Vec<(f64, f64)> =
            prepared.iter().map(|p| (tf(&p.q, &p.q_text, t), tf(&p.a, &p.a_text, t))).collect();
        let df = per_doc.iter().filter(|(q, a)| *q > 0.0 || *a > 0.0).count() as f64;
        if df == 0.0 {
            continue;
        }
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        for (i, (tq, ta)) in per_doc.iter().enumerate() {
            let p = &prepared[i];
            scores[i] +=
                idf * (QUESTION_WEIGHT * bm25(*tq, p.q_len, avg_q) + ANSWER_WEIGHT * bm25(*ta, p.a_len, avg_a));
        }
    }
    let mut out: Vec<(usize, f64)> = scores.into_iter().enumerate().filter(|(_, s)| *s > 0.0).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc<'a>(q: &'a str, a: &'a str, t: &'a str) -> Doc<'a> {
        Doc { question: q, answer: a, tokens: t }
    }

    #[test]
    fn the_question_outweighs_the_answer_and_two_characters_match() {
        let entries = [
            ("社保卡丢失了怎么补办？", "携带身份证到区社保中心或合作银行网点办理挂失和补卡。"),
            ("新生儿如何办理医保参保？", "出生后三个月内在线登记，费用可由父母社保账户代缴。"),
            ("小区夜间施工噪音如何投诉？", "拨打12345或向属地街道城管中队反映。"),
        ];
        let cols: Vec<String> = entries.iter().map(|(q, a)| tokens_column(q, a)).collect();
        let docs: Vec<Doc<'_>> = entries.iter().zip(&cols).map(|((q, a), t)| doc(q, a, t)).collect();
        let r = rank("社保", &docs);
        assert_eq!(r.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 1], "{r:?}");
        let r = rank("医保", &docs);
        assert_eq!(r.first().map(|x| x.0), Some(1), "{r:?}");
        let r = rank("噪音扰民怎么办", &docs);
        assert_eq!(r.first().map(|x| x.0), Some(2), "{r:?}");
        assert!(rank("公积金", &docs).is_empty());
        assert!(rank("怎么", &docs).is_empty(), "asking words alone match nothing");
    }

    #[test]
    fn a_word_split_differently_is_still_found_in_the_text() {
        // Stored words that do not contain the query word: the text decides.
        let d = [doc("缴纳社保费", "按月缴纳", "缴纳 | 按月")];
        assert_eq!(rank("社保", &d).len(), 1);
    }

    #[test]
    fn the_column_keeps_the_fields_apart() {
        let t = tokens_column("医保报销", "带上发票");
        let (q, a) = split_column(&t);
        assert!(q.contains(&"医保") && !q.contains(&"发票"), "{t}");
        assert!(a.contains(&"发票"), "{t}");
    }
}
