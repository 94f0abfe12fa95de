//! The statistics as tables: one model rendered as HTML, written to XLSX and to the
//! monthly report's DOCX, so every output shows the same figures. Counts link to the
//! work-order list with the matching filters.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use gongkai_kernel::clock::fmt_date;
use gongkai_kernel::web::ctx::rfc5987;

use super::figures::{Counts, Dims, month_bounds, pct};
use crate::model::{Channel, Kind};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Cell {
    pub text: String,
    /// The number behind the text (written as a number to XLSX).
    pub num: Option<f64>,
    pub href: Option<String>,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell { text: t.into(), ..Default::default() }
    }
    pub fn count(n: i64) -> Cell {
        Cell { text: n.to_string(), num: Some(n as f64), href: None }
    }
    pub fn rate(r: Option<i64>) -> Cell {
        Cell { text: pct(r), num: r.map(|t| t as f64 / 1000.0), href: None }
    }
    pub fn link(mut self, href: Option<String>) -> Cell {
        self.href = href;
        self
    }
}

/// A table: the first cell of each row is its header.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// The `table=` name of the export.
    pub name: &'static str,
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The rows as text, for the DOCX.
    pub fn text_rows(&self) -> Vec<Vec<String>> {
        self.rows.iter().map(|r| r.iter().map(|c| c.text.clone()).collect()).collect()
    }
}

/// The tables a period has, by export name (in page order) with their titles.
pub const TABLES: &[(&str, &str)] = &[
    ("summary", "主要指标"),
    ("channel", "按受理渠道"),
    ("kind", "按诉求类型"),
    ("category", "按事项分类"),
    ("org", "按承办单位"),
    ("street", "按街道（镇）"),
    ("tags", "按标签"),
    ("trend", "月度趋势"),
];

pub fn table_title(name: &str) -> Option<&'static str> {
    TABLES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Links to the work-order list (`/console/hotline/orders`), whose date filters are on
/// the date an order was received.
#[derive(Debug, Clone)]
pub struct Links {
    pub from: String,
    pub to: String,
}

impl Links {
    pub fn new(from: Date, to: Date) -> Links {
        Links { from: fmt_date(from), to: fmt_date(to) }
    }
    pub fn orders(&self, params: &[(&str, String)]) -> String {
        let mut q: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", rfc5987(v))).collect();
        q.push(format!("from={}", self.from));
        q.push(format!("to={}", self.to));
        format!("/console/hotline/orders?{}", q.join("&"))
    }
}

/// One headline figure (a summary card and a row of the summary table).
#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    /// The element id on the dashboard (`m-…`).
    pub id: &'static str,
    pub label: &'static str,
    pub cell: Cell,
    pub formula: &'static str,
}

pub fn metrics(c: &Counts, links: &Links) -> Vec<Metric> {
    let r = c.rates();
    let m = |id, label, cell, formula| Metric { id, label, cell, formula };
    vec![
        m("m-received", "受理量", Cell::count(c.received).link(Some(links.orders(&[]))), "受理的工单数"),
        m("m-direct", "直接答复", Cell::count(c.direct), "坐席当场答复办结的工单数"),
        m("m-direct-rate", "直接答复率", Cell::rate(r.direct), "直接答复 ÷ 受理量"),
        m("m-dispatched", "派单", Cell::count(c.dispatched), "派往承办单位的次数（每个单位一次）"),
        m("m-accept-rate", "按时签收率", Cell::rate(r.accept_on_time), "按时签收 ÷ 签收"),
        m("m-returned", "退单", Cell::count(c.returned), "承办单位退回的次数"),
        m("m-return-rate", "退单率", Cell::rate(r.returned), "退单 ÷ 派单"),
        m("m-reply-rate", "按时答复率", Cell::rate(r.reply_on_time), "按时答复 ÷ 答复"),
        m(
            "m-closed",
            "办结",
            Cell::count(c.closed).link(Some(links.orders(&[("state", "closed".into())]))),
            "办结的工单数（含直接答复）",
        ),
        m("m-close-rate", "办结率", Cell::rate(r.closed), "办结 ÷ 受理量（同一期间）"),
        m("m-close-on-time-rate", "按时办结率", Cell::rate(r.close_on_time), "按时办结 ÷ 办结"),
        m("m-callbacks", "回访", Cell::count(c.callbacks), "回访次数（含未接通）"),
        m("m-reached", "回访接通", Cell::count(c.reached), "接通的回访次数"),
        m(
            "m-callback-rate",
            "回访率",
            Cell::rate(r.callback),
            "（满意 + 基本满意）回访后办结的工单 ÷（办结 − 直接答复）",
        ),
        m("m-satisfaction-rate", "满意率", Cell::rate(r.satisfaction), "（满意 + 基本满意）÷ 回访接通"),
        m(
            "m-late",
            "超时",
            Cell::count(c.late_accept + c.late_handle).link(Some(links.orders(&[("overdue", "1".into())]))),
            "超过签收或办理时限的次数",
        ),
    ]
}

pub fn summary_table(c: &Counts, links: &Links) -> Table {
    Table {
        name: "summary",
        title: "主要指标".into(),
        header: vec!["指标".into(), "数值".into(), "计算方法".into()],
        rows: metrics(c, links).into_iter().map(|m| vec![Cell::text(m.label), m.cell, Cell::text(m.formula)]).collect(),
    }
}

/// Sums counts by a key of the dimensions.
pub fn group<K: Ord>(rows: &[(Dims, Counts)], key: impl Fn(&Dims) -> K) -> BTreeMap<K, Counts> {
    let mut m: BTreeMap<K, Counts> = BTreeMap::new();
    for (d, c) in rows {
        *m.entry(key(d)).or_default() += c;
    }
    m
}

const STANDARD: [&str; 11] =
    ["受理", "直接答复", "直接答复率", "派单", "退单率", "办结", "办结率", "按时办结率", "回访接通", "满意率", "超时"];

/// A row of the order-level breakdowns; `filter` is the list filter of the row's key.
fn standard_row(name: String, c: &Counts, links: &Links, filter: Option<(&str, String)>) -> Vec<Cell> {
    let r = c.rates();
    let with = |extra: Option<(&str, String)>| {
        filter.clone().map(|f| {
            let mut p = vec![f];
            p.extend(extra);
            links.orders(&p)
        })
    };
    vec![
        Cell::text(name),
        Cell::count(c.received).link(with(None)),
        Cell::count(c.direct),
        Cell::rate(r.direct),
        Cell::count(c.dispatched),
        Cell::rate(r.returned),
        Cell::count(c.closed).link(with(Some(("state", "closed".into())))),
        Cell::rate(r.closed),
        Cell::rate(r.close_on_time),
        Cell::count(c.reached),
        Cell::rate(r.satisfaction),
        Cell::count(c.late_accept + c.late_handle).link(with(Some(("overdue", "1".into())))),
    ]
}

fn standard(name: &'static str, first: &str, rows: Vec<Vec<Cell>>) -> Table {
    let mut header = vec![first.to_string()];
    header.extend(STANDARD.iter().map(|s| s.to_string()));
    Table { name, title: table_title(name).unwrap_or_default().to_string(), header, rows }
}

pub fn channel_table(rows: &[(Dims, Counts)], links: &Links) -> Table {
    let g = group(rows, |d| d.channel.clone());
    let mut out = Vec::new();
    for ch in Channel::ALL {
        if let Some(c) = g.get(ch.as_str()).filter(|c| !c.is_zero()) {
            out.push(standard_row(ch.label_zh().into(), c, links, Some(("channel", ch.as_str().into()))));
        }
    }
    for (k, c) in g.iter().filter(|(k, c)| Channel::parse(k).is_none() && !c.is_zero()) {
        out.push(standard_row(k.clone(), c, links, Some(("channel", k.clone()))));
    }
    standard("channel", "受理渠道", out)
}

pub fn kind_table(rows: &[(Dims, Counts)], links: &Links) -> Table {
    let g = group(rows, |d| d.kind.clone());
    let mut out = Vec::new();
    for k in Kind::ALL {
        if let Some(c) = g.get(k.as_str()).filter(|c| !c.is_zero()) {
            out.push(standard_row(k.label_zh().into(), c, links, Some(("kind", k.as_str().into()))));
        }
    }
    for (k, c) in g.iter().filter(|(k, c)| Kind::parse(k).is_none() && !c.is_zero()) {
        out.push(standard_row(k.clone(), c, links, Some(("kind", k.clone()))));
    }
    standard("kind", "诉求类型", out)
}

/// Keys by received (then closed) descending, then by key.
fn by_volume<K: Ord + Clone>(g: &BTreeMap<K, Counts>) -> Vec<(K, Counts)> {
    let mut v: Vec<(K, Counts)> = g.iter().filter(|(_, c)| !c.is_zero()).map(|(k, c)| (k.clone(), *c)).collect();
    v.sort_by(|a, b| b.1.received.cmp(&a.1.received).then(b.1.closed.cmp(&a.1.closed)).then(a.0.cmp(&b.0)));
    v
}

/// The top-level category's name; "未分类" for 0.
pub fn category_name(names: &BTreeMap<i64, String>, id: i64) -> String {
    if id == 0 { "未分类".into() } else { names.get(&id).cloned().unwrap_or_else(|| format!("分类 {id}")) }
}

/// Categories by volume; `limit` keeps the first rows (the report's top 10).
pub fn category_table(
    rows: &[(Dims, Counts)],
    names: &BTreeMap<i64, String>,
    links: &Links,
    limit: Option<usize>,
) -> Table {
    let g = group(rows, |d| d.category_top);
    let out = by_volume(&g)
        .into_iter()
        .take(limit.unwrap_or(usize::MAX))
        .map(|(id, c)| {
            let filter = (id != 0).then(|| ("category_top", id.to_string()));
            standard_row(category_name(names, id), &c, links, filter)
        })
        .collect();
    standard("category", "事项分类", out)
}

pub fn street_table(rows: &[(Dims, Counts)], links: &Links) -> Table {
    let g = group(rows, |d| d.street.clone());
    let out = by_volume(&g)
        .into_iter()
        .map(|(s, c)| {
            if s.is_empty() {
                standard_row("未填写".into(), &c, links, None)
            } else {
                standard_row(s.clone(), &c, links, Some(("street", s)))
            }
        })
        .collect();
    standard("street", "街道（镇）", out)
}

/// The legs' figures per organisation (order-level entries have no organisation).
pub fn org_table(rows: &[(Dims, Counts)], names: &BTreeMap<i64, String>, links: &Links) -> Table {
    let g = group(rows, |d| d.org_id);
    let mut v: Vec<(i64, Counts)> = g.into_iter().filter(|(id, c)| *id != 0 && !c.is_zero()).collect();
    v.sort_by(|a, b| b.1.dispatched.cmp(&a.1.dispatched).then(a.0.cmp(&b.0)));
    let out = v
        .into_iter()
        .map(|(id, c)| {
            let r = c.rates();
            let link = |extra: Option<(&str, String)>| {
                let mut p = vec![("org_id", id.to_string())];
                p.extend(extra);
                Some(links.orders(&p))
            };
            vec![
                Cell::text(names.get(&id).cloned().unwrap_or_else(|| format!("单位 {id}"))),
                Cell::count(c.dispatched).link(link(None)),
                Cell::count(c.accepted),
                Cell::rate(r.accept_on_time),
                Cell::count(c.returned),
                Cell::rate(r.returned),
                Cell::count(c.replied),
                Cell::rate(r.reply_on_time),
                Cell::count(c.late_accept).link(link(Some(("overdue", "1".into())))),
                Cell::count(c.late_handle).link(link(Some(("overdue", "1".into())))),
            ]
        })
        .collect();
    Table {
        name: "org",
        title: table_title("org").unwrap_or_default().into(),
        header: [
            "承办单位",
            "派单",
            "签收",
            "按时签收率",
            "退单",
            "退单率",
            "答复",
            "按时答复率",
            "签收超时",
            "办理超时",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows: out,
    }
}

pub fn tags_table(tags: &BTreeMap<String, (i64, i64)>) -> Table {
    let mut v: Vec<(&String, &(i64, i64))> = tags.iter().collect();
    v.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    Table {
        name: "tags",
        title: table_title("tags").unwrap_or_default().into(),
        header: vec!["标签".into(), "受理".into(), "办结".into()],
        rows: v.into_iter().map(|(t, (r, c))| vec![Cell::text(t.clone()), Cell::count(*r), Cell::count(*c)]).collect(),
    }
}

/// The months of a year ("YYYY-MM" with their counts, all twelve).
pub fn trend_table(months: &[(String, Counts)]) -> Table {
    let rows = months
        .iter()
        .map(|(m, c)| {
            let r = c.rates();
            let href = super::figures::parse_month(m).map(|d| {
                let (a, b) = month_bounds(d);
                Links::new(a, b).orders(&[])
            });
            let label = super::figures::parse_month(m).map(super::figures::month_label).unwrap_or_else(|| m.clone());
            vec![
                Cell::text(label),
                Cell::count(c.received).link(href),
                Cell::count(c.direct),
                Cell::count(c.closed),
                Cell::rate(r.closed),
                Cell::rate(r.close_on_time),
                Cell::count(c.reached),
                Cell::rate(r.satisfaction),
            ]
        })
        .collect();
    Table {
        name: "trend",
        title: table_title("trend").unwrap_or_default().into(),
        header: ["月份", "受理", "直接答复", "办结", "办结率", "按时办结率", "回访接通", "满意率"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn d(channel: &str, cat: i64, street: &str, org: i64) -> Dims {
        Dims { channel: channel.into(), kind: "complain".into(), category_top: cat, street: street.into(), org_id: org }
    }

    #[test]
    fn breakdowns_group_and_link() {
        let links = Links::new(date!(2026 - 03 - 01), date!(2026 - 03 - 31));
        let rows = vec![
            (d("web", 7, "东湖街道", 0), Counts { received: 2, closed: 1, ..Default::default() }),
            (d("phone", 7, "", 0), Counts { received: 3, direct: 1, ..Default::default() }),
            (d("phone", 0, "", 5), Counts { dispatched: 2, accepted: 2, accepted_on_time: 1, ..Default::default() }),
        ];
        let t = channel_table(&rows, &links);
        assert_eq!(t.rows[0][0].text, "电话", "model order");
        assert_eq!(t.rows[0][1].text, "3");
        assert_eq!(
            t.rows[0][1].href.as_deref(),
            Some("/console/hotline/orders?channel=phone&from=2026-03-01&to=2026-03-31")
        );
        assert_eq!(
            t.rows[1][6].href.as_deref(),
            Some("/console/hotline/orders?channel=web&state=closed&from=2026-03-01&to=2026-03-31")
        );
        let names = BTreeMap::from([(7, "城乡建设".to_string())]);
        let t = category_table(&rows, &names, &links, None);
        assert_eq!(t.rows[0][0].text, "城乡建设");
        assert_eq!(t.rows[0][1].text, "5");
        assert_eq!(t.rows[1][0].text, "未分类");
        assert_eq!(t.rows[1][1].href, None);
        let t = street_table(&rows, &links);
        assert_eq!(t.rows.iter().map(|r| r[0].text.as_str()).collect::<Vec<_>>(), ["未填写", "东湖街道"]);
        assert!(t.rows[1][1].href.as_deref().unwrap().contains("street=%E4%B8%9C%E6%B9%96"));
        let t = org_table(&rows, &BTreeMap::from([(5, "区教育局".to_string())]), &links);
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0][0].text, "区教育局");
        assert_eq!(t.rows[0][3].text, "50.0%");
        assert_eq!(t.rows[0][3].num, Some(0.5));
        let s = summary_table(&Counts { received: 4, direct: 1, ..Default::default() }, &links);
        assert_eq!(s.rows[2][1].text, "25.0%");
    }
}
