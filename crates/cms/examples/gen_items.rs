//! Generate JSON Lines for `gongkai import items` from the demo corpus, for the import
//! benchmark (`bench/publish.sh`): `gen_items 100000 > items.jsonl`.
//!
//! The lines target the columns and organisations that `gongkai demo` creates. About 85 %
//! are published (a quarter of those carry an old system's 索引号), the rest drafts; policy
//! documents carry a 文号. Output is deterministic for a given count.

use std::io::Write;

const CORPUS: &str = include_str!("../../../data/corpus/reports-2014-2025.jsonl");

/// (site, column, class, publisher)
const TARGETS: [(&str, &str, &str, &str); 6] = [
    ("www", "tzgg", "notice", "青禾区人民政府办公室"),
    ("www", "bmdt", "news", "青禾区发展和改革局"),
    ("www", "zcwj", "policy", "青禾区人民政府"),
    ("www", "fdzdgk", "budget", "青禾区财政局"),
    ("jyj", "jydt", "news", "青禾区教育局"),
    ("yshj", "ysdt", "news", "青禾区发展和改革局"),
];

fn main() {
    let n: usize = match std::env::args().nth(1).map(|s| s.parse()) {
        None => 100_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: gen_items [COUNT] > items.jsonl");
            std::process::exit(2);
        }
    };
    // Sentences of the reports, cut at 。 so titles and bodies vary.
    let mut sentences: Vec<String> = Vec::new();
    for line in CORPUS.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let content = v["content"].as_str().unwrap_or_default();
        for s in content.split('。').map(str::trim) {
            let len = s.chars().count();
            if (12..=400).contains(&len) && !s.contains('\n') {
                sentences.push(format!("{s}。"));
            }
        }
    }
    if sentences.is_empty() {
        eprintln!("gen_items: the corpus is empty");
        std::process::exit(1);
    }
    let out = std::io::stdout();
    let mut w = std::io::BufWriter::new(out.lock());
    let mut seed: u64 = 0x1234_5678;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..n {
        let (site, column, class, publisher) = TARGETS[i % TARGETS.len()];
        let r = next();
        let year = 2015 + (r % 11) as i32;
        let month = 1 + (r >> 8) % 12;
        let day = 1 + (r >> 16) % 28;
        let written = format!("{year}-{month:02}-{day:02}");
        let first = &sentences[(r >> 20) as usize % sentences.len()];
        let title: String = first.trim_end_matches('。').chars().take(60).collect();
        let body: String = (0..3)
            .map(|k| {
                format!("<p>{}</p>", sentences[((r >> (24 + k * 8)) as usize + i * 3 + k as usize) % sentences.len()])
            })
            .collect();
        let published = r % 100 < 85;
        let mut item = serde_json::json!({
            "external_id": format!("gen-{i:07}"),
            "site": site,
            "column": column,
            "class": class,
            "title": title,
            "body": body,
            "publisher": publisher,
            "written_on": written,
            "published_on": written,
            "keywords": ["政府工作报告", format!("{year}年")],
            "status": if published { "published" } else { "draft" },
        });
        if class == "policy" {
            item["doc_no"] = format!("青政发〔{year}〕{}号", 1000 + i).into();
            item["genre"] = "通知".into();
        }
        if published && r % 4 == 0 {
            // An old system's 索引号 (its own code and numbering), kept by the import.
            item["index_no"] = format!("QHLEGACY{:02}/{year}-{:05}", i / 99_999, 1 + i % 99_999).into();
        }
        if writeln!(w, "{item}").is_err() {
            std::process::exit(1);
        }
    }
    let _ = w.flush();
}
