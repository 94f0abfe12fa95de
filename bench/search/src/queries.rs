//! The query sets, and each query as gongkai text, as SQLite FTS5 SQL and as PostgreSQL SQL.

use crate::data::{Corpus, Rng};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    OneWord,
    TwoWord,
    Phrase,
    Filtered,
}

pub const CLASSES: [Class; 4] = [Class::OneWord, Class::TwoWord, Class::Phrase, Class::Filtered];

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::OneWord => "one_word",
            Class::TwoWord => "two_word",
            Class::Phrase => "phrase",
            Class::Filtered => "filtered",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Q {
    pub class: Class,
    /// Every term must occur (substring semantics for the references).
    pub terms: Vec<String>,
    /// gongkai: a quoted phrase rather than words.
    pub phrase: bool,
    pub year: Option<i64>,
    pub column: Option<i64>,
}

const ONE_WORD: &[&str] = &[
    "公开", "改革", "教育", "医疗", "就业", "养老", "住房", "农业", "科技", "创新", "生态", "环境", "安全", "文化",
    "旅游", "交通", "水利", "税收", "财政", "金融", "投资", "消费", "出口", "企业", "产业", "城镇", "农村", "扶贫",
    "健康", "卫生", "能源", "市场", "民生", "法治", "人才", "制造", "数字", "治理", "粮食", "社保", "物价", "工资",
];

const TWO_WORD: &[&str] = &[
    "乡村 振兴",
    "营商 环境",
    "科技 创新",
    "生态 环境",
    "社会 保障",
    "医疗 卫生",
    "城乡 居民",
    "基础 设施",
    "公共 服务",
    "对外 开放",
    "民营 企业",
    "粮食 安全",
    "污染 防治",
    "义务 教育",
    "就业 创业",
    "住房 保障",
    "产业 升级",
    "数字 经济",
    "财政 收入",
    "养老 保险",
    "减税 降费",
    "国有 企业",
    "区域 协调",
    "脱贫 攻坚",
    "简政 放权",
    "农民 增收",
    "节能 减排",
    "食品 安全",
    "职业 教育",
    "文化 事业",
    "金融 风险",
    "外商 投资",
    "居民 收入",
    "社会 治理",
    "安全 生产",
];

const PHRASES: &[&str] = &[
    "高质量发展",
    "供给侧结构性改革",
    "乡村振兴",
    "营商环境",
    "生态文明建设",
    "创新驱动发展",
    "全面深化改革",
    "脱贫攻坚",
    "新型城镇化",
    "一带一路",
    "稳中求进",
    "依法治国",
    "基本公共服务",
    "民营经济",
    "实体经济",
    "减税降费",
    "简政放权",
    "放管服",
    "就业优先",
    "碳达峰",
    "现代化经济体系",
    "数字经济",
    "社会保障体系",
    "科技创新",
    "对外开放",
    "京津冀协同发展",
    "长江经济带",
    "粤港澳大湾区",
    "人民群众",
    "全面建成小康社会",
    "国有企业改革",
    "城乡居民",
    "社会主义市场经济",
    "义务教育",
    "医疗保险",
];

/// How often `s` occurs in the corpus (non-overlapping).
fn occurrences(corpus: &Corpus, s: &str) -> usize {
    corpus.text.matches(s).count()
}

/// The query sets: only terms that occur at least `min` times in the corpus, at most `max`
/// per class. Returns the queries and, per class, the terms dropped for being absent.
pub fn build(corpus: &Corpus, max: usize, min: usize) -> (Vec<Q>, Vec<(Class, Vec<String>)>) {
    let mut out = Vec::new();
    let mut dropped = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let present = |t: &str| t.split(' ').all(|w| occurrences(corpus, w) >= min);
    let mut one: Vec<&str> = Vec::new();
    let mut d = Vec::new();
    for w in ONE_WORD {
        if !seen.insert(*w) {
            continue;
        }
        if present(w) { one.push(w) } else { d.push(w.to_string()) }
    }
    dropped.push((Class::OneWord, d));
    for w in one.iter().take(max) {
        out.push(Q { class: Class::OneWord, terms: vec![w.to_string()], phrase: false, year: None, column: None });
    }
    let mut d = Vec::new();
    let mut n = 0;
    for t in TWO_WORD {
        // Both words must occur, and together somewhere, so the AND is not empty by design.
        if n < max && present(t) && occurrences(corpus, &t.replace(' ', "")) >= 1 {
            out.push(Q {
                class: Class::TwoWord,
                terms: t.split(' ').map(str::to_string).collect(),
                phrase: false,
                year: None,
                column: None,
            });
            n += 1;
        } else if n < max {
            d.push(t.to_string());
        }
    }
    dropped.push((Class::TwoWord, d));
    let mut d = Vec::new();
    let mut n = 0;
    for t in PHRASES {
        if n < max && present(t) {
            out.push(Q { class: Class::Phrase, terms: vec![t.to_string()], phrase: true, year: None, column: None });
            n += 1;
        } else if n < max {
            d.push(t.to_string());
        }
    }
    dropped.push((Class::Phrase, d));
    for (i, w) in one.iter().take(max).enumerate() {
        // Half by year, half by column: a twelfth and a fortieth of the items.
        let (year, column) = if i % 2 == 0 { (Some(2023), None) } else { (None, Some(7)) };
        out.push(Q { class: Class::Filtered, terms: vec![w.to_string()], phrase: false, year, column });
    }
    dropped.push((Class::Filtered, Vec::new()));
    (out, dropped)
}

impl Q {
    pub fn label(&self) -> String {
        let mut s = if self.phrase { format!("\"{}\"", self.terms.join(" ")) } else { self.terms.join(" ") };
        if let Some(y) = self.year {
            s.push_str(&format!(" year={y}"));
        }
        if let Some(c) = self.column {
            s.push_str(&format!(" column={c}"));
        }
        s
    }

    /// What a visitor would type into gongkai's search box.
    pub fn gongkai_text(&self) -> String {
        if self.phrase { format!("\"{}\"", self.terms.join("")) } else { self.terms.join(" ") }
    }

    /// The WHERE clause and its parameters for the FTS5 table, with `?N` numbered from 1.
    /// Terms of three or more characters go to one MATCH (trigram: a quoted string is a
    /// substring match); shorter ones cannot be matched by trigrams (FTS5 matches no row for
    /// them, and LIKE patterns under three characters get no help from the index) and become
    /// LIKE, which FTS5 answers by scanning the table. Returns (where, params, ranked by bm25).
    pub fn fts5_where(&self) -> (String, Vec<rusqlite::types::Value>, bool) {
        use rusqlite::types::Value;
        let mut conds = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        let long: Vec<&String> = self.terms.iter().filter(|t| t.chars().count() >= 3).collect();
        if !long.is_empty() {
            let expr: Vec<String> = long.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect();
            params.push(Value::Text(expr.join(" AND ")));
            conds.push(format!("fts MATCH ?{}", params.len()));
        }
        for t in self.terms.iter().filter(|t| t.chars().count() < 3) {
            params.push(Value::Text(format!("%{t}%")));
            let k = params.len();
            // One pass over the row: `title LIKE ? OR body LIKE ?` makes SQLite (3.51) scan the
            // table once per column (MULTI-INDEX OR), up to twice as slow. The space keeps a
            // match from spanning the end of the title and the start of the body.
            conds.push(format!("(title || ' ' || body) LIKE ?{k}"));
        }
        if let Some(y) = self.year {
            params.push(Value::Integer(y));
            conds.push(format!("year = ?{}", params.len()));
        }
        if let Some(c) = self.column {
            params.push(Value::Integer(c));
            conds.push(format!("col = ?{}", params.len()));
        }
        (conds.join(" AND "), params, !long.is_empty())
    }

    /// The top 10: bm25 (title weighted 3, as gongkai weights its title) when a MATCH is
    /// present, else the newest first.
    pub fn fts5_top10(&self) -> (String, Vec<rusqlite::types::Value>) {
        let (w, p, ranked) = self.fts5_where();
        let order = if ranked { "bm25(fts, 3.0, 1.0)" } else { "ts DESC" };
        (format!("SELECT rowid FROM fts WHERE {w} ORDER BY {order} LIMIT 10"), p)
    }

    /// PostgreSQL: every term as a substring of the title or the body (the trigram GIN
    /// indexes can serve LIKE of three or more characters), newest first. Literals are
    /// inlined so each query is planned with its own pattern.
    pub fn pg_where(&self) -> String {
        let mut conds: Vec<String> = self
            .terms
            .iter()
            .map(|t| {
                let lit = format!("'%{}%'", t.replace('\'', "''"));
                format!("(title LIKE {lit} OR body LIKE {lit})")
            })
            .collect();
        if let Some(y) = self.year {
            conds.push(format!("year = {y}"));
        }
        if let Some(c) = self.column {
            conds.push(format!("col = {c}"));
        }
        conds.join(" AND ")
    }

    pub fn pg_top10(&self) -> String {
        format!("SELECT id FROM items WHERE {} ORDER BY ts DESC LIMIT 10", self.pg_where())
    }
}

/// A client's order of the query list for one pass.
pub fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut v);
    v
}
