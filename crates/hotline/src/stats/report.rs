//! 运行情况报告: the monthly operating report of the hotline — the month's figures beside
//! the previous month's, the breakdowns, the ten largest categories, lateness by
//! organisation, satisfaction, the month's opinion polls and a summary written from the
//! figures — as a page and as a Word document with real tables and a chart.

use serde::Serialize;
use time::Date;

use gongkai_kernel::clock::{fmt_date, fmt_ms, now_ms};
use gongkai_kernel::db::Db;
use gongkai_kernel::docx::{BarChart, Document};
use gongkai_kernel::error::{Error, Result};

use super::figures::{
    Counts, Filter, change, change_points, month_bounds, month_key, month_label, previous_month, rate,
};
use super::polls::{self, PollRow};
use super::tables::{self, Cell, Links, Table, category_name, group};
use crate::model::Channel;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub month: String,
    pub label: String,
    pub prev_label: String,
    pub from: String,
    pub to: String,
    pub title: String,
    pub generated: String,
    pub cur: Counts,
    pub prev: Counts,
    pub summary: Vec<String>,
    pub comparison: Table,
    pub channel: Table,
    pub kind: Table,
    pub category: Table,
    pub top_categories: Table,
    pub org: Table,
    pub overdue: Table,
    pub street: Table,
    pub satisfaction: Table,
    pub polls: Table,
    /// 各渠道受理量, this month and the previous one.
    #[serde(skip)]
    pub chart: BarChart,
    /// The month is not over yet (figures so far).
    pub partial: bool,
}

/// A table keeping only the columns `idx` (the report's narrower tables).
fn pick(t: &Table, idx: &[usize]) -> Table {
    Table {
        name: t.name,
        title: t.title.clone(),
        header: idx.iter().filter_map(|i| t.header.get(*i).cloned()).collect(),
        rows: t.rows.iter().map(|r| idx.iter().filter_map(|i| r.get(*i).cloned()).collect()).collect(),
    }
}

/// Columns of the order-level breakdowns kept in the report: name, 受理, 直接答复率,
/// 办结, 按时办结率, 满意率.
const NARROW: [usize; 6] = [0, 1, 3, 6, 8, 10];
/// Of the organisation table: name, 派单, 按时签收率, 退单, 按时答复率, 签收超时, 办理超时.
const NARROW_ORG: [usize; 7] = [0, 1, 3, 4, 7, 8, 9];

fn comparison(cur: &Counts, prev: &Counts) -> Table {
    let (r, p) = (cur.rates(), prev.rates());
    let count =
        |label: &str, a: i64, b: i64| vec![Cell::text(label), Cell::count(a), Cell::count(b), Cell::text(change(a, b))];
    let ratio = |label: &str, a: Option<i64>, b: Option<i64>| {
        vec![Cell::text(label), Cell::rate(a), Cell::rate(b), Cell::text(change_points(a, b))]
    };
    Table {
        name: "comparison",
        title: "主要指标与上月比较".into(),
        header: vec!["指标".into(), "本月".into(), "上月".into(), "环比".into()],
        rows: vec![
            count("受理量", cur.received, prev.received),
            count("直接答复", cur.direct, prev.direct),
            ratio("直接答复率", r.direct, p.direct),
            count("派单", cur.dispatched, prev.dispatched),
            ratio("按时签收率", r.accept_on_time, p.accept_on_time),
            count("退单", cur.returned, prev.returned),
            ratio("退单率", r.returned, p.returned),
            ratio("按时答复率", r.reply_on_time, p.reply_on_time),
            count("办结", cur.closed, prev.closed),
            ratio("办结率", r.closed, p.closed),
            ratio("按时办结率", r.close_on_time, p.close_on_time),
            count("回访", cur.callbacks, prev.callbacks),
            count("回访接通", cur.reached, prev.reached),
            ratio("回访率", r.callback, p.callback),
            ratio("满意率", r.satisfaction, p.satisfaction),
            count("签收超时", cur.late_accept, prev.late_accept),
            count("办理超时", cur.late_handle, prev.late_handle),
        ],
    }
}

fn satisfaction(cur: &Counts, prev: &Counts) -> Table {
    let row = |label: &str, a: i64, b: i64| vec![Cell::text(label), Cell::count(a), Cell::count(b)];
    let mut rows = vec![
        row("满意", cur.satisfied, prev.satisfied),
        row("基本满意", cur.basic, prev.basic),
        row("不满意", cur.unsatisfied, prev.unsatisfied),
        row("未接通", cur.unreached(), prev.unreached()),
        row("回访合计", cur.callbacks, prev.callbacks),
    ];
    rows.push(vec![Cell::text("满意率"), Cell::rate(cur.rates().satisfaction), Cell::rate(prev.rates().satisfaction)]);
    Table {
        name: "satisfaction",
        title: "回访与满意度".into(),
        header: vec!["回访结果".into(), "本月".into(), "上月".into()],
        rows,
    }
}

fn polls_table(polls: &[PollRow], orgs: &std::collections::BTreeMap<i64, String>) -> Table {
    Table {
        name: "polls",
        title: "民意调查".into(),
        header: ["调查名称", "组织单位", "起止日期", "计划拨打", "受访人数", "满意", "基本满意", "不满意", "满意率"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows: polls
            .iter()
            .map(|p| {
                vec![
                    Cell::text(p.title.clone()).link(Some(format!("/console/hotline/polls/{}", p.id))),
                    Cell::text(p.org_id.and_then(|o| orgs.get(&o).cloned()).unwrap_or_else(|| "热线中心".into())),
                    Cell::text(format!("{} 至 {}", p.started_on, p.ended_on)),
                    Cell::count(p.planned),
                    Cell::count(p.respondents),
                    Cell::count(p.satisfied),
                    Cell::count(p.basic),
                    Cell::count(p.unsatisfied),
                    Cell::rate(p.satisfaction()),
                ]
            })
            .collect(),
    }
}

/// The report of the month starting on `first` (figures up to today when it is not over).
pub async fn build(db: &Db, first: Date, today: Date) -> Result<Report> {
    let (from, to) = month_bounds(first);
    let (pfrom, pto) = previous_month(first);
    let f = Filter::default();
    let cur = super::load(db, from, to, &f, today, false).await?;
    let prev = super::load(db, pfrom, pto, &f, today, false).await?;
    let month_polls = {
        let mut h = db.read().await?;
        polls::in_period(&mut h.conn(), &fmt_date(from), &fmt_date(to)).await?
    };
    let links = Links::new(from, to);
    let rows = &cur.rows;
    let category = tables::category_table(rows, &cur.categories, &links, None);
    // 前十位: rank, name, received, share of the month's intake.
    let by_cat = group(rows, |d| d.category_top);
    let mut cats: Vec<(i64, i64)> =
        by_cat.iter().filter(|(_, c)| c.received > 0).map(|(k, c)| (*k, c.received)).collect();
    cats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<(String, i64)> = cats.iter().take(10).map(|(k, n)| (category_name(&cur.categories, *k), *n)).collect();
    let top_categories = Table {
        name: "top_categories",
        title: "受理量前十位的事项分类".into(),
        header: vec!["排名".into(), "事项分类".into(), "受理".into(), "占受理量".into()],
        rows: top
            .iter()
            .enumerate()
            .map(|(i, (name, n))| {
                vec![
                    Cell::count(i as i64 + 1),
                    Cell::text(name.clone()),
                    Cell::count(*n),
                    Cell::rate(rate(*n, cur.total.received)),
                ]
            })
            .collect(),
    };
    // 超时 by organisation, the most first.
    let by_org = group(rows, |d| d.org_id);
    let mut late: Vec<(i64, Counts)> =
        by_org.into_iter().filter(|(id, c)| *id != 0 && c.late_accept + c.late_handle > 0).collect();
    late.sort_by(|a, b| {
        (b.1.late_accept + b.1.late_handle).cmp(&(a.1.late_accept + a.1.late_handle)).then(a.0.cmp(&b.0))
    });
    let org_name = |id: i64| cur.orgs.get(&id).cloned().unwrap_or_else(|| format!("单位 {id}"));
    let overdue = Table {
        name: "overdue",
        title: "各承办单位超时情况".into(),
        header: vec!["承办单位".into(), "签收超时".into(), "办理超时".into(), "合计".into()],
        rows: late
            .iter()
            .map(|(id, c)| {
                vec![
                    Cell::text(org_name(*id)),
                    Cell::count(c.late_accept),
                    Cell::count(c.late_handle),
                    Cell::count(c.late_accept + c.late_handle)
                        .link(Some(links.orders(&[("org_id", id.to_string()), ("overdue", "1".into())]))),
                ]
            })
            .collect(),
    };
    let late_orgs: Vec<(String, i64)> =
        late.iter().map(|(id, c)| (org_name(*id), c.late_accept + c.late_handle)).collect();
    let poll_words: Vec<(String, i64, Option<i64>)> =
        month_polls.iter().map(|p| (p.title.clone(), p.respondents, p.satisfaction())).collect();
    let label = month_label(from);
    let prev_label = month_label(pfrom);
    let summary = super::figures::narrative(&label, &cur.total, &prev.total, &top, &late_orgs, &poll_words);
    // The chart: received per channel, both months, channels with any order.
    let cur_ch = group(rows, |d| d.channel.clone());
    let prev_ch = group(&prev.rows, |d| d.channel.clone());
    let get = |m: &std::collections::BTreeMap<String, Counts>, k: &str| m.get(k).map(|c| c.received).unwrap_or(0);
    let channels: Vec<&Channel> =
        Channel::ALL.iter().filter(|ch| get(&cur_ch, ch.as_str()) + get(&prev_ch, ch.as_str()) > 0).collect();
    let chart = BarChart {
        title: format!("各受理渠道受理量（{label}与{prev_label}）"),
        categories: channels.iter().map(|c| c.label_zh().to_string()).collect(),
        series: vec![
            (label.clone(), channels.iter().map(|c| get(&cur_ch, c.as_str()) as f64).collect()),
            (prev_label.clone(), channels.iter().map(|c| get(&prev_ch, c.as_str()) as f64).collect()),
        ],
    };
    Ok(Report {
        month: month_key(from),
        title: format!("12345政务服务便民热线{label}运行情况报告"),
        label,
        prev_label,
        from: fmt_date(from),
        to: fmt_date(to),
        generated: fmt_ms(now_ms()),
        cur: cur.total,
        prev: prev.total,
        summary,
        comparison: comparison(&cur.total, &prev.total),
        channel: pick(&tables::channel_table(rows, &links), &NARROW),
        kind: pick(&tables::kind_table(rows, &links), &NARROW),
        top_categories,
        category: pick(&category, &NARROW),
        org: pick(&tables::org_table(rows, &cur.orgs, &links), &NARROW_ORG),
        overdue,
        street: pick(&tables::street_table(rows, &links), &NARROW),
        satisfaction: satisfaction(&cur.total, &prev.total),
        polls: polls_table(&month_polls, &cur.orgs),
        chart,
        partial: to >= today,
    })
}

/// The report as a Word document (公文 fonts, real tables, a real chart).
pub fn to_docx(r: &Report) -> Result<Vec<u8>> {
    let mut d = Document::new();
    d.author("12345政务服务便民热线中心").title(&r.title);
    if r.partial {
        d.plain(&format!("（统计至{}，本月尚未结束）", r.generated.get(..10).unwrap_or("")));
    }
    for p in &r.summary {
        d.paragraph(p);
    }
    let table = |d: &mut Document, t: &Table, empty: &str| {
        if t.rows.is_empty() {
            d.paragraph(empty);
        } else {
            let header: Vec<&str> = t.header.iter().map(String::as_str).collect();
            d.table(&header, &t.text_rows());
        }
    };
    d.heading("一、总体情况");
    table(&mut d, &r.comparison, "");
    d.heading("二、受理渠道与诉求类型");
    d.bar_chart(r.chart.clone());
    table(&mut d, &r.channel, "本月没有受理工单。");
    table(&mut d, &r.kind, "本月没有受理工单。");
    d.heading("三、诉求类别");
    table(&mut d, &r.top_categories, "本月没有受理工单。");
    table(&mut d, &r.category, "本月没有受理工单。");
    d.heading("四、承办单位办理情况");
    table(&mut d, &r.org, "本月没有派单。");
    d.paragraph("各承办单位超时情况：");
    table(&mut d, &r.overdue, "本月没有签收或办理超时。");
    d.heading("五、街道（镇）分布");
    table(&mut d, &r.street, "本月没有受理工单。");
    d.heading("六、回访与满意度");
    table(&mut d, &r.satisfaction, "");
    d.heading("七、民意调查");
    table(&mut d, &r.polls, "本月未开展民意调查。");
    d.plain("");
    d.right("12345政务服务便民热线中心");
    d.right(&r.generated.get(..10).map(chinese_date).unwrap_or_default());
    d.to_bytes().map_err(Error::internal)
}

/// "2026-04-01" → "2026年4月1日".
fn chinese_date(s: &str) -> String {
    match gongkai_kernel::clock::parse_date(s) {
        Some(d) => format!("{}年{}月{}日", d.year(), d.month() as u8, d.day()),
        None => s.to_string(),
    }
}
