//! Generate JSON Lines for `gongkai import items` for the portal benchmark (`bench/portal.sh`):
//! `bench_portal_data 100000 > items.jsonl`.
//!
//! Every line is a published item of the demo's www site, spread over five columns
//! (部门动态, 街镇动态, 通知公告, 政策文件, 法定主动公开内容) with the disclosure metadata a
//! district's catalogue carries: a 第二十条 category fitting the column, a 主题分类, a 体裁
//! for documents, one of ten publishing organisations and a date in 2015–2025 (2025 weighted as a
//! live site's latest full year is). Titles and bodies are sentences of the demo
//! corpus. Output is deterministic for a given count.

use std::io::Write;

const CORPUS: &str = include_str!("../../../data/corpus/reports-2014-2025.jsonl");

/// A column of the www site the items go to.
struct Target {
    column: &'static str,
    class: &'static str,
    /// Share of the items, in %.
    weight: u64,
    /// 第二十条 categories that fit the column.
    art20: &'static [&'static str],
    /// 体裁 choices (none for news).
    genres: &'static [&'static str],
}

const COLUMNS: [Target; 5] = [
    Target { column: "bmdt", class: "news", weight: 25, art20: &["a20_03", "a20_10", "a20_11", "a20_13"], genres: &[] },
    Target { column: "jzdt", class: "news", weight: 10, art20: &["a20_11", "a20_12", "a20_13"], genres: &[] },
    Target {
        column: "tzgg",
        class: "notice",
        weight: 20,
        art20: &["a20_05", "a20_06", "a20_12", "a20_14"],
        genres: &["announcement", "public_notice", "notice"],
    },
    Target {
        column: "zcwj",
        class: "policy",
        weight: 20,
        art20: &["a20_01"],
        genres: &["notice", "opinion", "decision", "reply"],
    },
    Target {
        column: "fdzdgk",
        class: "budget",
        weight: 25,
        art20: &["a20_04", "a20_07", "a20_08", "a20_09", "a20_10", "a20_15"],
        genres: &["report", "notice", "other"],
    },
];

const PUBLISHERS: [&str; 10] = [
    "青禾区人民政府",
    "青禾区人民政府办公室",
    "青禾区发展和改革局",
    "青禾区教育局",
    "青禾区财政局",
    "青禾区卫生健康局",
    "青禾区住房和城乡建设局",
    "青禾区东湖街道办事处",
    "青禾区西岭街道办事处",
    "青禾区石桥镇人民政府",
];

fn main() {
    let n: usize = match std::env::args().nth(1).map(|s| s.parse()) {
        None => 100_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: bench_portal_data [COUNT] > items.jsonl");
            std::process::exit(2);
        }
    };
    let mut sentences: Vec<String> = Vec::new();
    for line in CORPUS.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        for s in v["content"].as_str().unwrap_or_default().split('。').map(str::trim) {
            let len = s.chars().count();
            if (12..=400).contains(&len) && !s.contains('\n') {
                sentences.push(format!("{s}。"));
            }
        }
    }
    if sentences.is_empty() {
        eprintln!("bench_portal_data: the corpus is empty");
        std::process::exit(1);
    }
    let out = std::io::stdout();
    let mut w = std::io::BufWriter::new(out.lock());
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..n {
        let r = next();
        let r2 = next();
        let mut pick = r % 100;
        let t = COLUMNS
            .iter()
            .find(|c| {
                if pick < c.weight {
                    true
                } else {
                    pick -= c.weight;
                    false
                }
            })
            .unwrap_or(&COLUMNS[0]);
        let (column, class, art20s, genres) = (t.column, t.class, t.art20, t.genres);
        // 2015–2024 evenly (7 % each), 2025 30 %: never in the future, whatever the clock.
        let y = (r >> 8) % 100;
        let year = if y < 70 { 2015 + y / 7 } else { 2025 };
        let month = 1 + (r >> 16) % 12;
        let day = 1 + (r >> 24) % 28;
        let date = format!("{year}-{month:02}-{day:02}");
        let title: String =
            sentences[(r2 % sentences.len() as u64) as usize].trim_end_matches('。').chars().take(60).collect();
        let body: String = (0..4)
            .map(|k| {
                format!("<p>{}</p>", sentences[((r2 >> (8 + k * 8)) as usize + i * 5 + k as usize) % sentences.len()])
            })
            .collect();
        let art20 = art20s[((r >> 32) % art20s.len() as u64) as usize];
        let subject = format!("s{:02}", 1 + (r >> 40) % 21);
        let publisher = PUBLISHERS[((r >> 48) % PUBLISHERS.len() as u64) as usize];
        let mut item = serde_json::json!({
            "external_id": format!("bench-portal-{i:07}"),
            "site": "www",
            "column": column,
            "class": class,
            "title": title,
            "body": body,
            "publisher": publisher,
            "subject": subject,
            "art20": art20,
            "disclosure_mode": "proactive",
            "written_on": date,
            "published_on": date,
            "keywords": ["政务公开", format!("{year}年")],
            "status": "published",
        });
        if !genres.is_empty() {
            item["genre"] = genres[((r >> 56) as usize) % genres.len()].into();
        }
        if class == "policy" {
            item["doc_no"] = format!("青政发〔{year}〕{}号", 1 + i).into();
            // Older documents are sometimes no longer in force.
            if year < 2020 && r2 % 5 == 0 {
                item["validity"] = "expired".into();
                item["validity_on"] = format!("{}-12-31", year + 3).into();
            }
        }
        if writeln!(w, "{item}").is_err() {
            std::process::exit(1);
        }
    }
    let _ = w.flush();
}
