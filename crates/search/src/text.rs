//! Chinese text for the index: one normalisation (full-width → half-width, lower case),
//! jieba segmentation in search mode with the government dictionary, and the 文号 key that
//! makes 〔〕, [], () and （） the same.

use std::sync::{Arc, OnceLock};

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Government terms jieba does not know; administrators add more in the console.
pub const BUILTIN_WORDS: &[&str] = &[
    "政务公开",
    "政府信息公开",
    "依申请公开",
    "主动公开",
    "一网通办",
    "一网统管",
    "接诉即办",
    "未诉先办",
    "市民热线",
    "政务服务",
    "营商环境",
    "放管服",
    "最多跑一次",
    "跨省通办",
    "好差评",
    "双随机一公开",
    "12345",
    "12345热线",
    "政府网站",
    "政务新媒体",
    "年度报告",
    "规范性文件",
    "行政规范性文件",
    "政策解读",
    "公开指南",
    "公开目录",
    "索引号",
    "成文日期",
    "发文字号",
    "乡村振兴",
    "高质量发展",
    "民生实事",
    "一件事一次办",
    "不动产登记",
    "社会保障卡",
    "医保",
    "老旧小区",
    "垃圾分类",
    "河长制",
    "适老化",
];

/// Replace full-width forms with their ASCII twins and upper-case Latin with lower case,
/// keeping one char for one char so offsets found on the result hold for the input.
pub fn fold(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c).to_ascii_lowercase(),
        _ => c.to_ascii_lowercase(),
    }
}

pub fn normalize(s: &str) -> String {
    s.chars().map(fold).collect()
}

/// Letters, digits and CJK count; punctuation and spaces do not make a token.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

fn is_open_bracket(c: char) -> bool {
    matches!(c, '〔' | '[' | '(' | '（' | '【' | '﹝' | '［' | '{' | '〖')
}
fn is_close_bracket(c: char) -> bool {
    matches!(c, '〕' | ']' | ')' | '）' | '】' | '﹞' | '］' | '}' | '〗')
}

/// The canonical key of a 文号 such as 杨管办发〔2018〕9号, whatever brackets or spaces were
/// typed: `杨管办发〔2018〕9号`. None when the text is not shaped like a 文号.
pub fn doc_no_key(s: &str) -> Option<String> {
    let s: String = normalize(s).chars().filter(|c| !c.is_whitespace()).collect();
    let chars: Vec<char> = s.chars().collect();
    let open = chars.iter().position(|c| is_open_bracket(*c))?;
    let close = open + chars[open..].iter().position(|c| is_close_bracket(*c))?;
    let prefix: String = chars[..open].iter().collect();
    let year: String = chars[open + 1..close].iter().collect();
    let rest: String = chars[close + 1..].iter().collect();
    let number = rest.strip_suffix('号')?;
    let ok = !prefix.is_empty()
        && prefix.chars().all(is_word_char)
        && year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit());
    ok.then(|| format!("{prefix}〔{year}〕{number}号"))
}

/// The key a whole title is matched on (exact-title ranking, suggestions): normalised,
/// without spaces.
pub fn title_key(s: &str) -> String {
    normalize(s).chars().filter(|c| !c.is_whitespace()).collect()
}

/// The segmenter: jieba's dictionary plus the built-in and administrators' words. Replaced
/// as a whole when the dictionary changes; readers keep the one they started with.
#[derive(Clone)]
pub struct Segmenter {
    jieba: Arc<Jieba>,
    extra: Arc<Vec<String>>,
}

fn base() -> &'static Jieba {
    static BASE: OnceLock<Jieba> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut j = Jieba::new();
        for w in BUILTIN_WORDS {
            j.add_word(w, Some(50_000), None);
        }
        j
    })
}

impl Segmenter {
    pub fn new(extra_words: &[String]) -> Segmenter {
        let extra: Vec<String> = extra_words.iter().map(|w| normalize(w.trim())).filter(|w| !w.is_empty()).collect();
        let mut j = base().clone();
        for w in &extra {
            j.add_word(w, Some(50_000), None);
        }
        Segmenter { jieba: Arc::new(j), extra: Arc::new(extra) }
    }

    /// The administrators' words this segmenter was built with.
    pub fn extra_words(&self) -> &[String] {
        &self.extra
    }

    /// Search-mode tokens of `text`: (normalised word, char start, byte start, byte end in
    /// `text`), ordered by start so positions never go backwards.
    pub fn tokens(&self, text: &str) -> Vec<(String, usize, usize, usize)> {
        self.segment(text, true)
    }

    /// Precise-mode tokens (what a query word means).
    pub fn words(&self, text: &str) -> Vec<(String, usize)> {
        self.segment(text, false).into_iter().map(|(w, start, _, _)| (w, start)).collect()
    }

    fn segment(&self, text: &str, search: bool) -> Vec<(String, usize, usize, usize)> {
        let norm = normalize(text);
        // char index → byte offset in the original text (one more entry for the end).
        let mut bytes: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        bytes.push(text.len());
        let toks = if search { self.jieba.cut_for_search(&norm, true) } else { self.jieba.cut(&norm, true) };
        let mut out: Vec<(String, usize, usize, usize)> = toks
            .into_iter()
            .filter(|t| t.word.chars().any(is_word_char) && t.end - t.start <= 40)
            .filter_map(|t| {
                let word: String = t.word.chars().filter(|c| !c.is_whitespace()).collect();
                Some((word, t.start, *bytes.get(t.start)?, *bytes.get(t.end)?))
            })
            .collect();
        if search {
            // Every two-character window of a longer word too: a two-character query word
            // then finds 青禾 inside an unknown 青禾区, whatever jieba made of it.
            let mut grams = Vec::new();
            for (w, start, _, _) in &out {
                let chars: Vec<char> = w.chars().collect();
                if chars.len() >= 3 && !chars.iter().any(char::is_ascii_alphanumeric) {
                    for i in 0..chars.len() - 1 {
                        if let (Some(from), Some(to)) = (bytes.get(start + i), bytes.get(start + i + 2)) {
                            grams.push((chars[i..i + 2].iter().collect::<String>(), start + i, *from, *to));
                        }
                    }
                }
            }
            out.extend(grams);
        }
        out.sort_by(|a, b| a.1.cmp(&b.1).then(a.3.cmp(&b.3)));
        out.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        // Dedup only removes neighbours: drop any remaining repeat of (word, start).
        let mut seen = std::collections::HashSet::new();
        out.retain(|t| seen.insert((t.0.clone(), t.1)));
        out
    }

    pub fn has_word(&self, w: &str) -> bool {
        self.jieba.has_word(w)
    }
}

/// The tantivy tokenizer ("gk"): positions are char offsets, so a phrase query built from
/// the query's own offsets matches the same characters whatever the segmentation.
#[derive(Clone)]
pub struct GkTokenizer {
    seg: Segmenter,
    token: Token,
}

impl GkTokenizer {
    pub fn new(seg: Segmenter) -> GkTokenizer {
        GkTokenizer { seg, token: Token::default() }
    }
}

pub struct GkStream<'a> {
    tokens: std::vec::IntoIter<(String, usize, usize, usize)>,
    token: &'a mut Token,
}

impl Tokenizer for GkTokenizer {
    type TokenStream<'a> = GkStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> GkStream<'a> {
        self.token.reset();
        GkStream { tokens: self.seg.tokens(text).into_iter(), token: &mut self.token }
    }
}

impl TokenStream for GkStream<'_> {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some((word, start, from, to)) => {
                self.token.text = word;
                self.token.position = start;
                self.token.offset_from = from;
                self.token.offset_to = to;
                self.token.position_length = 1;
                true
            }
            None => false,
        }
    }
    fn token(&self) -> &Token {
        self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// Levenshtein distance over chars, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_no_keys_ignore_bracket_style() {
        let k = Some("杨管办发〔2018〕9号".to_string());
        assert_eq!(doc_no_key("杨管办发〔2018〕9号"), k);
        assert_eq!(doc_no_key("杨管办发[2018]9号"), k);
        assert_eq!(doc_no_key("杨管办发(2018)9号"), k);
        assert_eq!(doc_no_key("杨管办发（2018）9号"), k);
        assert_eq!(doc_no_key("杨管办发 【2018】 9 号"), k);
        assert_eq!(doc_no_key("杨管办发［２０１８］９号"), k);
        assert_eq!(doc_no_key("政府信息公开"), None);
        assert_eq!(doc_no_key("(2018)"), None);
        assert_eq!(doc_no_key("杨管办发〔18〕9号"), None);
    }

    #[test]
    fn search_mode_tokens_are_ordered_with_original_offsets() {
        let s = Segmenter::new(&[]);
        let text = "关于政府信息公开工作年度报告";
        let toks = s.tokens(text);
        let words: Vec<&str> = toks.iter().map(|t| t.0.as_str()).collect();
        assert!(words.contains(&"年度报告") && words.contains(&"报告") && words.contains(&"政府信息公开"), "{words:?}");
        assert!(toks.windows(2).all(|w| w[0].1 <= w[1].1));
        for (w, _, from, to) in &toks {
            assert_eq!(&text[*from..*to], w);
        }
        // Full-width letters fold, offsets still point into the original.
        let toks = s.tokens("ＡＢＣ热线１２３４５");
        assert_eq!(toks[0].0, "abc");
        assert!(toks.iter().any(|t| t.0 == "12345"), "{toks:?}");
    }

    #[test]
    fn administrators_words_join_the_dictionary() {
        let plain = Segmenter::new(&[]);
        let with = Segmenter::new(&["青禾通办".to_string()]);
        assert!(!plain.words("青禾通办").iter().any(|w| w.0 == "青禾通办"));
        assert!(with.words("青禾通办").iter().any(|w| w.0 == "青禾通办"));
        assert!(plain.words("接诉即办").iter().any(|w| w.0 == "接诉即办"));
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("政务公开", "政务公开"), 0);
        assert_eq!(edit_distance("政物公开", "政务公开"), 1);
        assert_eq!(edit_distance("依申请", "依申请公开"), 2);
    }
}
