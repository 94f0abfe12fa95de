//! The engine alone, in memory: segmentation, ranking rules, query syntax, filters,
//! deletion, suggestions and "did you mean".

use std::collections::HashMap;

use gongkai_search::engine::{Doc, Engine};
use gongkai_search::query::{Request, Sort, run, suggest};
use gongkai_search::text::Segmenter;

fn doc(id: i64, title: &str, body: &str, doc_no: &str, day: &str) -> Doc {
    Doc {
        item_id: id,
        version: 1,
        title: title.into(),
        body: body.into(),
        doc_no: doc_no.into(),
        sites: vec![1],
        columns: vec![10 + id % 2],
        year: day[..4].parse().unwrap_or(0),
        published_on: day.into(),
        ts: id * 1000,
        validity: "effective".into(),
        ..Default::default()
    }
}

fn engine() -> Engine {
    let e = Engine::create(None, Segmenter::new(&[]), "", 32).expect("engine");
    e.upsert(&[
        doc(
            1,
            "青禾区人民政府关于印发政府信息公开工作年度报告的通知",
            "各街道：现将年度报告印发给你们。",
            "青政发〔2024〕3号",
            "2024-01-20",
        ),
        doc(
            2,
            "关于做好依申请公开工作的意见",
            "规范依申请公开的受理、办理和答复。",
            "杨管办发〔2018〕9号",
            "2018-05-02",
        ),
        doc(3, "青禾区12345市民热线运行情况", "接诉即办，市民热线全年受理诉求三万件。", "", "2025-03-01"),
        doc(4, "优化营商环境若干措施", "持续优化营商环境，推进一网通办。", "青政办发〔2025〕1号", "2025-06-01"),
        doc(5, "营商环境", "营商环境专题页。", "", "2023-06-01"),
        doc(6, "农业农村工作要点", "中国农业发展银行支持乡村振兴。", "", "2022-02-02"),
    ])
    .expect("upsert");
    e.commit(7).expect("commit");
    e
}

fn ids(e: &Engine, q: &str) -> Vec<i64> {
    ids_with(e, &HashMap::new(), Request { q: q.into(), sites: vec![1], limit: 10, ..Default::default() })
}

fn ids_with(e: &Engine, syn: &HashMap<String, Vec<String>>, r: Request) -> Vec<i64> {
    run(e, syn, &r).expect("search").hits.iter().map(|h| h.item_id).collect()
}

#[test]
fn words_phrases_and_exclusion() {
    let e = engine();
    assert_eq!(ids(&e, "年度报告"), vec![1]);
    assert_eq!(ids(&e, "依申请公开")[0], 2);
    assert!(ids(&e, "农业").contains(&6), "a dictionary part of a longer word is found");
    assert_eq!(ids(&e, "\"市民热线全年\""), vec![3]);
    assert!(ids(&e, "\"热线市民\"").is_empty(), "a phrase keeps its order");
    let all = ids(&e, "营商环境");
    assert!(all.contains(&4) && all.contains(&5));
    assert_eq!(ids(&e, "营商环境 -一网通办"), vec![5]);
    assert_eq!(e.payload().after, 7);
}

#[test]
fn exact_title_first_then_newer_on_ties() {
    let e = engine();
    // 5's title is exactly the query; 4 mentions it more often but is not the title.
    assert_eq!(ids(&e, "营商环境")[0], 5);
    let by_date = ids_with(
        &e,
        &HashMap::new(),
        Request { q: "营商环境".into(), sites: vec![1], limit: 10, sort: Sort::Date, ..Default::default() },
    );
    // Newest first by publication instant (ts grows with the id here).
    assert_eq!(by_date, vec![5, 4]);
}

#[test]
fn doc_numbers_in_any_bracket_style() {
    let e = engine();
    for q in
        ["杨管办发〔2018〕9号", "杨管办发[2018]9号", "杨管办发(2018)9号", "杨管办发（2018）9号", "杨管办发 [2018] 9号"]
    {
        assert_eq!(ids(&e, q).first(), Some(&2), "{q}");
    }
}

#[test]
fn filters_and_sites() {
    let e = engine();
    let r = |f: fn(&mut Request)| {
        let mut r = Request { q: "营商环境".into(), sites: vec![1], limit: 10, ..Default::default() };
        f(&mut r);
        ids_with(&e, &HashMap::new(), r)
    };
    assert_eq!(r(|r| r.year = Some(2025)), vec![4]);
    assert_eq!(r(|r| r.column = Some(11)), vec![5]);
    assert!(r(|r| r.sites = vec![2]).is_empty(), "another site's search does not see site 1");
    assert!(r(|r| r.sites = vec![]).is_empty(), "no site, nothing");
}

#[test]
fn synonyms_widen_the_query() {
    let e = engine();
    let mut syn = HashMap::new();
    syn.insert("12345".to_string(), vec!["12345".to_string(), "接诉即办".to_string()]);
    syn.insert("接诉即办".to_string(), vec!["12345".to_string(), "接诉即办".to_string()]);
    let r = Request { q: "接诉即办".into(), sites: vec![1], limit: 10, ..Default::default() };
    assert_eq!(ids_with(&e, &syn, r), vec![3]);
    assert!(ids(&e, "青禾 接诉即办").contains(&3));
}

#[test]
fn withdrawn_items_disappear_and_updates_replace() {
    let e = engine();
    e.delete(&[4]);
    e.upsert(&[doc(5, "营商环境专栏", "改版后的专栏。", "", "2023-06-01")]).expect("upsert");
    e.commit(8).expect("commit");
    assert_eq!(ids(&e, "营商环境"), vec![5]);
    assert_eq!(e.num_docs(), 5);
    assert_eq!(e.version_of(5), Some(1));
    // Suggestions skip the withdrawn title and the replaced one.
    let s = suggest(&e, "营商", 5).expect("suggest");
    assert_eq!(s, vec!["营商环境专栏".to_string()]);
}

#[test]
fn snippets_are_escaped_and_marked() {
    let e = Engine::create(None, Segmenter::new(&[]), "", 32).expect("engine");
    e.upsert(&[doc(9, "<b>公告</b>", "关于 <script>alert(1)</script> 的政务公开通知", "", "2024-01-01")])
        .expect("upsert");
    e.commit(1).expect("commit");
    let r = run(&e, &HashMap::new(), &Request { q: "政务公开".into(), sites: vec![1], limit: 5, ..Default::default() })
        .expect("search");
    let h = &r.hits[0];
    assert!(h.snippet_html.contains("<mark>政务公开</mark>"), "{}", h.snippet_html);
    assert!(h.snippet_html.contains("&lt;script&gt;") && !h.snippet_html.contains("<script>"));
    assert_eq!(h.title_html, "&lt;b&gt;公告&lt;/b&gt;");
}

#[test]
fn did_you_mean_offers_a_close_dictionary_term_with_results() {
    let e = engine();
    let r = run(&e, &HashMap::new(), &Request { q: "营商坏境".into(), sites: vec![1], limit: 5, ..Default::default() })
        .expect("search");
    assert_eq!(r.total, 0);
    assert_eq!(r.did_you_mean.as_deref(), Some("营商环境"));
}

#[test]
fn hostile_input_is_searched_or_cleaned() {
    let e = engine();
    for q in [
        "\"",
        "-",
        "--",
        "\"\"\"",
        "😀😀",
        "' OR 1=1; DROP TABLE items; --",
        "<script>alert(1)</script>",
        "\u{0}\u{1b}",
        "a\"b",
        "营商环境\"",
        &"公开".repeat(500),
    ] {
        let r = run(&e, &HashMap::new(), &Request { q: q.into(), sites: vec![1], limit: 5, ..Default::default() });
        assert!(r.is_ok(), "{q}");
    }
    let r =
        run(&e, &HashMap::new(), &Request { q: "公开".repeat(500), sites: vec![1], limit: 5, ..Default::default() })
            .expect("long");
    assert!(r.notice.is_some());
}
