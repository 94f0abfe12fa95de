//! Demo content for the site group, built from the government work report corpus.
//!
//! [`seed`] fills the kernel demo's sites (www, jyj, yshj) with columns of every class and
//! about three hundred items cut from the State Council's government work reports 2014–2025
//! (`data/corpus`, public documents), recast as the fictional 青禾区's news, notices, policy
//! documents, interpretations and disclosure items, plus topics and standard-catalogue
//! entries. Everything goes through the services as the demo editor and reviewer would do
//! it, so 索引号, versions, review signatures, audit entries and outbox events are the real
//! ones. The content is a pure function of the day ([`plan`]): no randomness at run time.

use std::collections::HashMap;

use serde::Deserialize;
use time::{Date, Duration, Month};

use gongkai_kernel::audit::Actor;
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::clock::{fmt_date, local_to_ms, today};
use gongkai_kernel::db::Db;
use gongkai_kernel::error::{Error, Result};

use crate::service::{self, ColumnInput, ItemInput};
use crate::store;

/// Eleven government work reports (2014–2025), one JSON object a line; see
/// `data/corpus/SOURCE.md`.
const CORPUS: &str = include_str!("../../../data/corpus/reports-2014-2025.jsonl");

/// What the audit log records as the address of the demo's actions.
const IP: &str = "demo";

// ---------------------------------------------------------------- fixed data

/// (key, name as in the kernel demo, short name, 发文字号 prefix)
const ORGS: [(&str, &str, &str, &str); 11] = [
    ("gov", "青禾区人民政府", "区政府", "青政发"),
    ("office", "青禾区人民政府办公室", "区政府办公室", "青政办发"),
    ("xxzx", "青禾区政务公开和大数据中心", "区大数据中心", "青数据"),
    ("fgw", "青禾区发展和改革局", "区发改局", "青发改"),
    ("jyj", "青禾区教育局", "区教育局", "青教"),
    ("czj", "青禾区财政局", "区财政局", "青财"),
    ("wjw", "青禾区卫生健康局", "区卫健局", "青卫健"),
    ("zjj", "青禾区住房和城乡建设局", "区住建局", "青住建"),
    ("jd1", "青禾区东湖街道办事处", "东湖街道", "东街"),
    ("jd2", "青禾区西岭街道办事处", "西岭街道", "西街"),
    ("town", "青禾区石桥镇人民政府", "石桥镇", "石政"),
];

fn org(key: &str) -> (&'static str, &'static str, &'static str) {
    let o = ORGS.iter().find(|o| o.0 == key).unwrap_or(&ORGS[0]);
    (o.1, o.2, o.3)
}

/// A subject area: the words that find corpus paragraphs about it, who is in charge, and
/// its 主题分类, 第二十条 category and standard-catalogue domain.
struct Theme {
    name: &'static str,
    words: &'static [&'static str],
    org: &'static str,
    subject: &'static str,
    art20: &'static str,
    domain: &'static str,
}

const fn theme(
    name: &'static str,
    words: &'static [&'static str],
    org: &'static str,
    subject: &'static str,
    art20: &'static str,
    domain: &'static str,
) -> Theme {
    Theme { name, words, org, subject, art20, domain }
}

const WWW_THEMES: &[Theme] = &[
    theme("稳就业促就业", &["就业", "创业"], "office", "s14", "a20_11", "d20"),
    theme("城市更新和保障性住房", &["住房", "城市更新", "棚户区", "城镇化"], "zjj", "s09", "a20_10", "d23"),
    theme("养老服务体系建设", &["养老", "老年"], "office", "s16", "a20_11", "d14"),
    theme("基层医疗卫生服务", &["医疗", "医保", "卫生", "健康"], "wjw", "s12", "a20_11", "d18"),
    theme("生态环境保护", &["生态", "污染", "环境", "碳"], "office", "s09", "a20_13", "d09"),
    theme("安全生产和应急管理", &["安全生产", "应急", "灾害", "防汛"], "office", "s08", "a20_12", "d05"),
    theme("乡村全面振兴", &["乡村", "农业", "粮食", "农民"], "town", "s05", "a20_11", "d16"),
    theme("重大项目建设", &["投资", "项目", "基础设施"], "fgw", "s02", "a20_10", "d02"),
    theme("促进消费扩大内需", &["消费", "内需"], "fgw", "s07", "a20_03", "d02"),
    theme("财政预算管理", &["财政", "预算", "税"], "czj", "s03", "a20_07", "d04"),
    theme("数字政府建设", &["数字", "互联网", "数据"], "xxzx", "s01", "a20_15", "d19"),
    theme("社会救助兜底保障", &["救助", "低保", "困难群众"], "office", "s16", "a20_11", "d13"),
    theme("公共文化服务", &["文化", "体育"], "office", "s11", "a20_15", "d10"),
    theme("基层社会治理", &["社区", "基层", "治理"], "jd1", "s01", "a20_15", "d25"),
    theme("科技创新", &["科技", "创新", "研发"], "fgw", "s10", "a20_03", "d02"),
];

const JYJ_THEMES: &[Theme] = &[
    theme("义务教育优质均衡发展", &["义务教育", "教育"], "jyj", "s10", "a20_11", "d17"),
    theme("学前教育普及普惠", &["学前", "幼儿", "托育"], "jyj", "s10", "a20_11", "d17"),
    theme("“双减”工作", &["双减", "课外", "学生"], "jyj", "s10", "a20_11", "d17"),
    theme("教师队伍建设", &["教师"], "jyj", "s10", "a20_14", "d17"),
    theme("学生资助", &["资助", "助学", "奖学金", "困难学生"], "jyj", "s10", "a20_11", "d17"),
    theme("职业教育产教融合", &["职业教育", "技能"], "jyj", "s10", "a20_11", "d17"),
];

const YSHJ_THEMES: &[Theme] = &[
    theme("优化营商环境", &["营商环境", "市场化", "法治化"], "fgw", "s02", "a20_05", "d02"),
    theme("“高效办成一件事”", &["一件事", "政务服务", "放管服", "审批"], "xxzx", "s01", "a20_05", "d19"),
    theme("民营经济发展", &["民营", "中小企业", "个体工商户"], "fgw", "s02", "a20_03", "d02"),
    theme("惠企政策直达", &["减税", "降费", "企业"], "czj", "s03", "a20_03", "d04"),
    theme("公平竞争审查", &["公平竞争", "统一大市场", "垄断"], "fgw", "s08", "a20_01", "d03"),
    theme("招商引资和外资利用", &["外资", "招商", "开放"], "fgw", "s07", "a20_03", "d02"),
];

/// (site, parent slug or "", name, slug, kind, class, review levels, link)
type ColumnSpec =
    (&'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str);

const COLUMNS: &[ColumnSpec] = &[
    ("www", "", "政务动态", "zwdt", "list", "news", "1", ""),
    ("www", "zwdt", "青禾要闻", "yw", "list", "news", "2", ""),
    ("www", "zwdt", "部门动态", "bmdt", "list", "news", "1", ""),
    ("www", "zwdt", "街镇动态", "jzdt", "list", "news", "1", ""),
    ("www", "", "通知公告", "tzgg", "list", "notice", "1", ""),
    ("www", "", "政府信息公开", "zfxxgk", "disclosure", "other", "1", ""),
    ("www", "zfxxgk", "政府信息公开指南", "gkzn", "disclosure", "overview", "1", ""),
    ("www", "zfxxgk", "政府信息公开制度", "gkzd", "disclosure", "other", "1", ""),
    ("www", "zfxxgk", "政府信息公开年报", "gknb", "disclosure", "other", "2", ""),
    ("www", "zfxxgk", "法定主动公开内容", "fdzdgk", "disclosure", "notice", "1", ""),
    ("www", "zfxxgk", "政策文件", "zcwj", "disclosure", "policy", "2", ""),
    ("www", "zfxxgk", "政策解读", "zcjd", "disclosure", "policy", "2", ""),
    ("www", "", "区情概况", "qqgk", "page", "overview", "1", ""),
    ("www", "", "互动交流", "hdjl", "list", "interaction", "1", ""),
    ("www", "", "政务服务", "zwfw", "link", "other", "1", "https://zwfw.qinghe.gov.cn/"),
    ("jyj", "", "教育动态", "jydt", "list", "news", "1", ""),
    ("jyj", "", "通知公告", "tzgg", "list", "notice", "1", ""),
    ("jyj", "", "政策文件", "zcwj", "disclosure", "policy", "2", ""),
    ("jyj", "", "政策解读", "zcjd", "disclosure", "policy", "1", ""),
    ("jyj", "", "政府信息公开指南", "gkzn", "disclosure", "overview", "1", ""),
    ("jyj", "", "政府信息公开年报", "gknb", "disclosure", "other", "1", ""),
    ("jyj", "", "机构概况", "jggk", "page", "overview", "1", ""),
    ("jyj", "", "在线访谈", "zxft", "list", "interaction", "1", ""),
    ("yshj", "", "营商动态", "ysdt", "list", "news", "1", ""),
    ("yshj", "", "惠企政策", "zcwj", "disclosure", "policy", "2", ""),
    ("yshj", "", "政策解读", "zcjd", "disclosure", "policy", "1", ""),
    ("yshj", "", "通知公告", "tzgg", "list", "notice", "1", ""),
    ("yshj", "", "专题概况", "ztgk", "page", "overview", "1", ""),
    ("yshj", "", "政企互动", "zqhd", "list", "interaction", "1", ""),
];

// ---------------------------------------------------------------- corpus

#[derive(Deserialize)]
struct Report {
    content: String,
}

/// National wording turned into a district's, longest first.
const LOCALISE: [(&str, &str); 12] = [
    ("全国人民代表大会", "区人民代表大会"),
    ("全国人大常委会", "区人大常委会"),
    ("全国人大", "区人大"),
    ("全国政协", "区政协"),
    ("国务院", "区政府"),
    ("国内生产总值", "地区生产总值"),
    ("各地区各部门", "各街道各部门"),
    ("各地区", "各街道"),
    ("全国各族人民", "全区人民"),
    ("全国", "全区"),
    ("我国", "我区"),
    ("各位代表", "同志们"),
];

/// Paragraphs of the reports, localised, without personal numbers (there are none, but the
/// demo must never publish one, so the same checks as publishing run here).
fn paragraphs() -> Vec<String> {
    let checks = crate::privacy::default_checks();
    let mut out = Vec::new();
    for line in CORPUS.lines() {
        let Ok(r) = serde_json::from_str::<Report>(line) else { continue };
        for p in r.content.split('\n').map(str::trim) {
            let n = p.chars().count();
            if !(60..=900).contains(&n) {
                continue;
            }
            let mut s = p.to_string();
            for (from, to) in LOCALISE {
                s = s.replace(from, to);
            }
            if crate::privacy::scan_all(&checks, &[("p", &s)], today()).is_empty() {
                out.push(s);
            }
        }
    }
    out
}

/// SplitMix64: a tiny deterministic generator, so the demo is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

// ---------------------------------------------------------------- the plan

/// Where an item ends up in the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Draft,
    /// Submitted, waiting for the first review level.
    InReview,
    /// Approved at level 1 of 2, waiting for the second.
    InReviewSecond,
    Scheduled,
    Published,
    /// Published, then taken down.
    Withdrawn,
}

/// One demo item, before it exists.
#[derive(Debug, Clone)]
pub struct Plan {
    pub site: &'static str,
    pub column: &'static str,
    pub class: &'static str,
    pub title: String,
    pub body: String,
    pub publisher: &'static str,
    pub source: String,
    pub author: String,
    pub subject: &'static str,
    pub genre: &'static str,
    pub doc_prefix: Option<&'static str>,
    pub doc_no: String,
    pub written: Date,
    /// None for items not published (yet).
    pub published: Option<Date>,
    pub keywords: String,
    pub five_open: &'static str,
    pub art20: &'static str,
    pub normative: bool,
    pub needs_interpretation: bool,
    pub interpretation_form: &'static str,
    pub state: State,
    /// Index of the policy document this interpretation explains.
    pub interprets: Option<usize>,
    /// Index of the document that repeals and replaces this one.
    pub repealed_by: Option<usize>,
    pub theme: &'static str,
    pub domain: &'static str,
}

fn esc(s: &str) -> String {
    crate::html::escape(s)
}

fn date_zh(d: Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month() as u8, d.day())
}

fn ymd(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, Month::try_from(m).unwrap_or(Month::January), d)
        .unwrap_or(Date::from_ordinal_date(y, 1).unwrap_or(Date::MIN))
}

struct Gen {
    rng: Rng,
    paras: Vec<String>,
    /// Per theme name: indexes of paragraphs mentioning it, and a cursor.
    by_theme: HashMap<&'static str, (Vec<usize>, usize)>,
    any_cursor: usize,
    start: Date,
    end: Date,
    plans: Vec<Plan>,
}

impl Gen {
    fn new(today: Date) -> Gen {
        let paras = paragraphs();
        let mut by_theme = HashMap::new();
        for t in WWW_THEMES.iter().chain(JYJ_THEMES).chain(YSHJ_THEMES) {
            let idx: Vec<usize> = paras
                .iter()
                .enumerate()
                .filter(|(_, p)| t.words.iter().any(|w| p.contains(w)))
                .map(|(i, _)| i)
                .collect();
            by_theme.insert(t.name, (idx, 0));
        }
        let start = ymd(2023, 1, 3);
        // Published dates run up to yesterday: nothing is dated in the future.
        let end = today.previous_day().filter(|d| *d > start).unwrap_or(start);
        Gen { rng: Rng(0x5eed_2026), paras, by_theme, any_cursor: 0, start, end, plans: Vec::new() }
    }

    /// The next paragraph about `t` (cycling), or any paragraph when none mentions it.
    fn para(&mut self, t: &Theme) -> String {
        if let Some((idx, cur)) = self.by_theme.get_mut(t.name)
            && !idx.is_empty()
        {
            let p = idx[*cur % idx.len()];
            *cur += 1 + self.rng.below(3);
            return self.paras[p].clone();
        }
        self.any_cursor += 7;
        self.paras.get(self.any_cursor % self.paras.len().max(1)).cloned().unwrap_or_default()
    }

    fn paras_html(&mut self, t: &Theme, n: usize) -> String {
        (0..n).map(|_| format!("<p class=\"indent\">{}</p>", esc(&self.para(t)))).collect()
    }

    fn day(&mut self) -> Date {
        let span = (self.end - self.start).whole_days().max(0) as usize;
        self.start + Duration::days(self.rng.below(span + 1) as i64)
    }

    /// A day in the last two weeks, for work in progress.
    fn recent(&mut self) -> Date {
        let back = self.rng.below(14) as i64;
        (self.end - Duration::days(back)).max(self.start)
    }

    fn later(&self, d: Date, days: i64) -> Date {
        (d + Duration::days(days)).min(self.end)
    }

    fn push(&mut self, p: Plan) -> usize {
        self.plans.push(p);
        self.plans.len() - 1
    }

    fn base(
        &self,
        site: &'static str,
        column: &'static str,
        class: &'static str,
        t: &Theme,
        publisher: &'static str,
    ) -> Plan {
        Plan {
            site,
            column,
            class,
            title: String::new(),
            body: String::new(),
            publisher,
            source: org(publisher).0.to_string(),
            author: String::new(),
            subject: t.subject,
            genre: "",
            doc_prefix: None,
            doc_no: String::new(),
            written: self.start,
            published: Some(self.start),
            keywords: t.words.iter().take(2).copied().collect::<Vec<_>>().join(","),
            five_open: "",
            art20: "",
            normative: false,
            needs_interpretation: false,
            interpretation_form: "",
            state: State::Published,
            interprets: None,
            repealed_by: None,
            theme: t.name,
            domain: t.domain,
        }
    }

    fn dated(&mut self, p: &mut Plan, state: State) {
        p.state = state;
        match state {
            State::Published | State::Withdrawn => {
                let d = self.day();
                p.published = Some(d);
                p.written = (d - Duration::days(self.rng.below(6) as i64)).max(self.start);
            }
            _ => {
                p.written = self.recent();
                p.published = None;
            }
        }
    }

    fn news(
        &mut self,
        site: &'static str,
        column: &'static str,
        t: &Theme,
        publisher: &'static str,
        state: State,
    ) -> usize {
        let (name, short, _) = org(publisher);
        let mut p = self.base(site, column, "news", t, publisher);
        self.dated(&mut p, state);
        let d = p.published.unwrap_or(p.written);
        let y = d.year();
        let (title, lead) = match self.rng.below(7) {
            0 => (
                format!("{short}召开{}工作推进会", t.name),
                format!("{}，{name}召开{}工作推进会，总结前一阶段工作，部署下一步重点任务。", date_zh(d), t.name),
            ),
            1 => (
                format!("{short}部署{y}年{}重点任务", t.name),
                format!("近日，{name}印发工作要点，对{y}年{}工作作出部署。", t.name),
            ),
            2 => (
                format!("区政府常务会议研究{}工作", t.name),
                format!("{}，区政府召开常务会议，听取{}工作情况汇报，研究部署下一步工作。", date_zh(d), t.name),
            ),
            3 => (
                format!("我区{}工作取得新进展", t.name),
                format!("今年以来，我区扎实推进{}，各项工作取得新进展。", t.name),
            ),
            4 => (
                format!("区领导调研{}工作", t.name),
                format!("{}，区领导带队赴街道、企业和项目现场调研{}工作。", date_zh(d), t.name),
            ),
            5 => (
                format!("{short}扎实推进{}", t.name),
                format!("{name}坚持问题导向，聚焦群众关切，扎实推进{}。", t.name),
            ),
            _ => (
                format!("{short}开展{}专项行动", t.name),
                format!("为进一步做好{}工作，{name}自{}起开展专项行动。", t.name, date_zh(d)),
            ),
        };
        p.title = title;
        let n = 1 + self.rng.below(2);
        p.body = format!("<p class=\"indent\">{}</p>{}", esc(&lead), self.paras_html(t, n));
        p.author = "区融媒体中心".into();
        p.five_open = "execution";
        self.push(p)
    }

    fn notice(
        &mut self,
        site: &'static str,
        column: &'static str,
        t: &Theme,
        publisher: &'static str,
        state: State,
    ) -> usize {
        let (name, _, _) = org(publisher);
        let mut p = self.base(site, column, "notice", t, publisher);
        self.dated(&mut p, state);
        let d = p.published.unwrap_or(p.written);
        let y = d.year();
        let (title, genre, five) = match self.rng.below(5) {
            0 => (format!("关于开展{y}年度{}专项检查的通知", t.name), "notice", "management"),
            1 => (format!("关于做好{y}年{}工作的通知", t.name), "notice", "execution"),
            2 => (format!("{name}关于{}有关事项的公告", t.name), "announcement", "service"),
            3 => (format!("关于公开征集{}意见建议的公告", t.name), "announcement", "decision"),
            _ => (format!("关于{y}年{}项目拟安排情况的公示", t.name), "other", "result"),
        };
        p.title = title;
        p.genre = genre;
        p.five_open = five;
        p.art20 = t.art20;
        p.body = format!(
            "<p>各街道办事处、镇人民政府，区政府各部门、各直属单位：</p><p class=\"indent\">为进一步做好{}工作，现将有关事项通知如下。</p>\
             <h3>一、工作目标</h3>{}<h3>二、工作要求</h3>{}\
             <p class=\"indent\">联系电话：0571-88001000。</p><p class=\"text-right\">{name}</p><p class=\"text-right\">{}</p>",
            esc(t.name),
            self.paras_html(t, 1),
            self.paras_html(t, 1),
            date_zh(p.written)
        );
        self.push(p)
    }

    /// A policy document; `kind` 0–3 picks the form (区政府印发 / 办公室通知 / 部门印发 / 实施意见).
    #[allow(clippy::too_many_arguments)]
    fn policy(
        &mut self,
        site: &'static str,
        column: &'static str,
        t: &Theme,
        publisher: &'static str,
        kind: usize,
        state: State,
        title: Option<String>,
    ) -> usize {
        let (name, _, prefix) = org(publisher);
        let mut p = self.base(site, column, "policy", t, publisher);
        self.dated(&mut p, state);
        let y = p.written.year();
        let named = title.as_deref().and_then(|t| t.split_once('《')).and_then(|(_, r)| r.split_once('》'));
        let inner = match (named, kind) {
            (Some((n, _)), _) => n.to_string(),
            (None, 0) => format!("青禾区{}实施方案（{y}—{}年）", t.name, y + 2),
            (None, 1) => format!("关于进一步做好{}工作的若干措施", t.name),
            (None, 2) => format!("青禾区{}工作指引", t.name),
            _ => String::new(),
        };
        p.title = title.unwrap_or_else(|| match kind {
            0 | 2 => format!("{name}关于印发《{inner}》的通知"),
            1 => format!("{name}关于进一步做好{}工作的通知", t.name),
            _ => format!("{name}关于加快推进{}的实施意见", t.name),
        });
        p.genre = if kind == 3 { "opinion" } else { "notice" };
        p.doc_prefix = Some(prefix);
        p.five_open = "decision";
        p.art20 = if matches!(publisher, "gov" | "office") { "a20_01" } else { t.art20 };
        let heading = if inner.is_empty() { p.title.clone() } else { inner.clone() };
        p.body = format!(
            "<p>各街道办事处、镇人民政府，区政府各部门、各直属单位：</p>\
             <p class=\"indent\">{}</p><p class=\"text-right\">{name}</p><p class=\"text-right\">{}</p>\
             <h2>{}</h2><h3>一、总体要求</h3>{}<h3>二、主要任务</h3>{}<h3>三、保障措施</h3>{}\
             <p class=\"indent\">本文件自印发之日起施行。</p>",
            if inner.is_empty() {
                format!("为加快推进{}，经区政府同意，提出如下意见，请结合实际认真贯彻落实。", esc(t.name))
            } else {
                format!("现将《{}》印发给你们，请结合实际认真贯彻执行。", esc(&inner))
            },
            date_zh(p.written),
            esc(&heading),
            self.paras_html(t, 1),
            self.paras_html(t, 2),
            self.paras_html(t, 1)
        );
        self.push(p)
    }

    fn interpretation(&mut self, site: &'static str, column: &'static str, policy: usize) -> usize {
        let pol = self.plans[policy].clone();
        let t = find_theme(pol.theme);
        let mut p = self.base(site, column, "interpretation", t, pol.publisher);
        let after = 1 + self.rng.below(3) as i64;
        let d = self.later(pol.published.unwrap_or(pol.written), after);
        p.written = d;
        p.published = Some(d);
        let named = pol.title.split_once('《').and_then(|(_, r)| r.split_once('》')).map(|(n, _)| n.to_string());
        let named = named.unwrap_or_else(|| pol.title.trim_start_matches(org(pol.publisher).0).to_string());
        let graphic = self.rng.chance(30);
        p.title = if graphic { format!("一图读懂《{named}》") } else { format!("《{named}》政策解读") };
        p.interpretation_form = if graphic { "graphic" } else { "text" };
        p.interprets = Some(policy);
        p.five_open = "decision";
        p.art20 = t.art20;
        p.body = format!(
            "<h3>一、出台背景</h3>{}<h3>二、主要内容</h3>{}<h3>三、政策亮点</h3>{}\
             <p class=\"indent\">解读机关：{}；联系电话：0571-88001000。</p>",
            self.paras_html(t, 1),
            self.paras_html(t, 1),
            self.paras_html(t, 1),
            esc(org(pol.publisher).0)
        );
        self.push(p)
    }

    fn page(
        &mut self,
        site: &'static str,
        column: &'static str,
        class: &'static str,
        title: &str,
        publisher: &'static str,
    ) {
        let t = &WWW_THEMES[13];
        let mut p = self.base(site, column, class, t, publisher);
        p.written = ymd(2023, 1, 16);
        p.published = Some(p.written);
        p.title = title.to_string();
        p.five_open = "management";
        p.art20 = "a20_02";
        p.body = match class {
            "guide" => format!(
                "<p class=\"indent\">为保障公民、法人和其他组织依法获取政府信息，根据《中华人民共和国政府信息公开条例》，编制本指南。</p>\
                 <h3>一、主动公开</h3><p class=\"indent\">{0}主动公开的政府信息，通过政府网站、政府公报、政务新媒体和政府信息公开查阅点等渠道公开，\
                 一般自信息形成或者变更之日起20个工作日内公开。</p>\
                 <h3>二、依申请公开</h3><p class=\"indent\">申请人可以通过网上申请、信函和当面提交等方式提出申请。能够当场答复的当场答复；\
                 不能当场答复的，自收到申请之日起20个工作日内答复；需要延长答复期限的，经负责人同意并告知申请人，延长期限不超过20个工作日。</p>\
                 <h3>三、收费</h3><p class=\"indent\">提供政府信息不收取费用；申请数量、频次明显超过合理范围的，可以依照有关规定收取信息处理费。</p>\
                 <h3>四、监督和救济</h3><p class=\"indent\">申请人认为行政机关在政府信息公开工作中侵犯其合法权益的，可以向上一级行政机关或者政府信息公开工作主管部门投诉、举报，\
                 也可以依法申请行政复议或者提起行政诉讼。</p><p class=\"indent\">工作机构：{0}政务公开办公室；办公地址：青禾区人民大道 1 号；\
                 办公时间：工作日上午 8:30—12:00，下午 14:00—17:30；联系电话：0571-88001000。</p>",
                esc(org(publisher).0)
            ),
            _ => format!(
                "<p class=\"indent\">{}位于东部沿海，辖东湖、西岭 2 个街道和石桥镇，总面积 186 平方公里，常住人口 52.3 万人。</p>{}",
                esc(org(publisher).0),
                self.paras_html(t, 1)
            ),
        };
        self.push(p);
    }

    fn annual_report(&mut self, site: &'static str, column: &'static str, publisher: &'static str, year: i32) {
        let published = ymd(year + 1, 1, 20 + self.rng.below(8) as u8);
        if published > self.end {
            return;
        }
        let t = &WWW_THEMES[10];
        let mut p = self.base(site, column, "annual_report", t, publisher);
        p.written = published - Duration::days(3);
        p.published = Some(published);
        p.title = format!("{}{year}年政府信息公开工作年度报告", org(publisher).0);
        p.genre = "report";
        p.five_open = "result";
        p.art20 = "a20_15";
        let (made, new, req) = (40 + self.rng.below(60), 300 + self.rng.below(500), 20 + self.rng.below(80));
        p.body = format!(
            "<p class=\"indent\">本报告根据《中华人民共和国政府信息公开条例》和《国务院办公厅政府信息与政务公开办公室关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知》编制。</p>\
             <h3>一、总体情况</h3>{}\
             <h3>二、主动公开政府信息情况</h3><table><thead><tr><th scope=\"col\">信息内容</th><th scope=\"col\">本年制发件数</th><th scope=\"col\">本年废止件数</th><th scope=\"col\">现行有效件数</th></tr></thead>\
             <tbody><tr><td>规章</td><td>0</td><td>0</td><td>0</td></tr><tr><td>行政规范性文件</td><td>{}</td><td>{}</td><td>{}</td></tr></tbody></table>\
             <p class=\"indent\">全年主动公开政府信息 {new} 条。</p>\
             <h3>三、收到和处理政府信息公开申请情况</h3><p class=\"indent\">全年收到政府信息公开申请 {req} 件，均已按期答复。</p>\
             <h3>四、政府信息公开行政复议、行政诉讼情况</h3><p class=\"indent\">全年未发生因政府信息公开引起的行政复议和行政诉讼被纠错情况。</p>\
             <h3>五、存在的主要问题及改进情况</h3>{}<h3>六、其他需要报告的事项</h3><p class=\"indent\">本年度未收取信息处理费。</p>",
            self.paras_html(t, 1),
            made / 10,
            made / 30,
            made,
            self.paras_html(t, 1)
        );
        self.push(p);
    }

    fn system_doc(&mut self, title: &str) {
        let t = &WWW_THEMES[10];
        let mut p = self.base("www", "gkzd", "system", t, "office");
        self.dated(&mut p, State::Published);
        p.title = title.to_string();
        p.five_open = "management";
        p.art20 = "a20_15";
        p.body = format!(
            "<h3>第一条</h3><p class=\"indent\">为规范{}，根据《中华人民共和国政府信息公开条例》，结合本区实际，制定本制度。</p>\
             <h3>第二条</h3>{}<h3>第三条</h3><p class=\"indent\">本制度由区政务公开办公室负责解释，自印发之日起施行。</p>",
            esc(title.trim_start_matches("青禾区")),
            self.paras_html(t, 1)
        );
        self.push(p);
    }

    fn statutory(&mut self, t: &Theme, class: &'static str) {
        let (publisher, art20) = match class {
            "budget" => ("czj", "a20_07"),
            "procurement" => ("czj", "a20_09"),
            "personnel" => ("office", "a20_14"),
            _ => (t.org, "a20_10"),
        };
        let mut p = self.base("www", "fdzdgk", class, t, publisher);
        self.dated(&mut p, State::Published);
        let y = p.published.unwrap_or(p.written).year();
        p.title = match class {
            "budget" => format!("青禾区{y}年区级部门预算及“三公”经费预算公开"),
            "procurement" => format!("青禾区{}项目政府采购意向公开（{y}年第{}批）", t.name, 1 + self.rng.below(4)),
            "personnel" => format!("青禾区{y}年公开招聘事业单位工作人员拟聘用人员公示"),
            _ => format!("青禾区{}重点项目建设进展情况（{y}年）", t.name),
        };
        p.five_open = "result";
        p.art20 = art20;
        p.domain = match class {
            "budget" => "d04",
            "procurement" => "d03",
            "project" => "d02",
            _ => t.domain,
        };
        p.body = format!(
            "<p class=\"indent\">根据《中华人民共和国政府信息公开条例》有关规定，现将有关情况公开如下。</p>{}",
            self.paras_html(t, 2)
        );
        self.push(p);
    }

    fn interaction(&mut self, site: &'static str, column: &'static str, t: &Theme, publisher: &'static str) {
        let (_, short, _) = org(publisher);
        let mut p = self.base(site, column, "other", t, publisher);
        self.dated(&mut p, State::Published);
        let y = p.published.unwrap_or(p.written).year();
        p.title = match self.rng.below(3) {
            0 => format!("关于{}意见征集情况的反馈", t.name),
            1 => format!("{y}年第{}期在线访谈：{short}负责人谈{}", 1 + self.rng.below(12), t.name),
            _ => format!("“{}”网上调查结果", t.name),
        };
        p.five_open = "service";
        p.body = format!(
            "<p class=\"indent\">感谢社会各界对{}工作的关注和支持。现将有关情况反馈如下。</p>{}",
            esc(t.name),
            self.paras_html(t, 1)
        );
        self.push(p);
    }
}

fn find_theme(name: &str) -> &'static Theme {
    WWW_THEMES.iter().chain(JYJ_THEMES).chain(YSHJ_THEMES).find(|t| t.name == name).unwrap_or(&WWW_THEMES[0])
}

/// The demo's items for a given day: a pure function, so tests can check it without a
/// database and two runs on the same day produce the same content.
pub fn plan(today: Date) -> Vec<Plan> {
    use State::*;
    let mut g = Gen::new(today);
    let streets = ["jd1", "jd2", "town"];
    let depts = ["fgw", "czj", "wjw", "zjj", "xxzx", "jyj"];

    // www: news in three columns, notices, policies with interpretations.
    for i in 0..32 {
        let t = g.rng.pick(WWW_THEMES);
        let publisher = if i % 3 == 0 { "gov" } else { "office" };
        g.news("www", "yw", t, publisher, Published);
    }
    for _ in 0..34 {
        let publisher = *g.rng.pick(&depts);
        let t = match WWW_THEMES.iter().find(|t| t.org == publisher) {
            Some(t) => t,
            None if publisher == "jyj" => g.rng.pick(JYJ_THEMES),
            None => g.rng.pick(WWW_THEMES),
        };
        g.news("www", "bmdt", t, publisher, Published);
    }
    for _ in 0..24 {
        let t = g.rng.pick(WWW_THEMES);
        let publisher = *g.rng.pick(&streets);
        g.news("www", "jzdt", t, publisher, Published);
    }
    for _ in 0..28 {
        let t = g.rng.pick(WWW_THEMES);
        g.notice("www", "tzgg", t, t.org, Published);
    }
    let mut needing = 0;
    for i in 0..28 {
        let t = &WWW_THEMES[i % WWW_THEMES.len()];
        let (publisher, kind) = match i % 4 {
            0 => ("gov", 0),
            1 => ("office", 1),
            2 => (t.org, 2),
            _ => ("gov", 3),
        };
        let idx = g.policy("www", "zcwj", t, publisher, kind, Published, None);
        if matches!(publisher, "gov" | "office") && i % 3 == 0 {
            g.plans[idx].normative = true;
        }
        if i % 8 == 0 || i % 8 == 3 {
            g.plans[idx].needs_interpretation = true;
            needing += 1;
            // The first one is left without: the "missing interpretation" report has content.
            if needing > 1 {
                g.interpretation("www", "zcjd", idx);
            }
        }
    }
    // Three normative documents repealed and replaced by a revised one.
    let repealed = [
        ("青禾区保障性住房管理办法", &WWW_THEMES[1]),
        ("青禾区安全生产责任制实施办法", &WWW_THEMES[5]),
        ("青禾区最低生活保障审核确认办法", &WWW_THEMES[11]),
    ];
    for (n, (old_title, t)) in repealed.into_iter().enumerate() {
        let old = g.policy(
            "www",
            "zcwj",
            t,
            "gov",
            0,
            Published,
            Some(format!("青禾区人民政府关于印发《{old_title}》的通知")),
        );
        let new_title = format!("青禾区人民政府关于印发《{old_title}（修订）》的通知");
        let new = g.policy("www", "zcwj", t, "gov", 0, Published, Some(new_title));
        let (a, b) = (ymd(2023, 2 + n as u8, 10), g.later(ymd(2025, 3 + n as u8, 12), 0));
        for (i, d) in [(old, a), (new, b)] {
            // The signature date in the body follows the document's date.
            let was = date_zh(g.plans[i].written);
            g.plans[i].body = g.plans[i].body.replace(&was, &date_zh(d));
            g.plans[i].written = d;
            g.plans[i].published = Some(g.later(d, 3));
        }
        for i in [old, new] {
            g.plans[i].normative = true;
            g.plans[i].art20 = "a20_01";
        }
        g.plans[old].repealed_by = Some(new);
    }
    g.page("www", "gkzn", "guide", "青禾区人民政府政府信息公开指南", "gov");
    for title in
        ["青禾区政府信息公开保密审查制度", "青禾区政府信息公开发布协调制度", "青禾区政府信息依申请公开办理规范"]
    {
        g.system_doc(title);
    }
    for y in 2022..=2025 {
        g.annual_report("www", "gknb", "gov", y);
    }
    for (i, class) in ["budget", "procurement", "personnel", "project"].iter().cycle().take(16).enumerate() {
        let t = &WWW_THEMES[(i * 5) % WWW_THEMES.len()];
        g.statutory(t, class);
    }
    g.page("www", "qqgk", "other", "青禾区概况", "gov");
    for _ in 0..8 {
        let t = g.rng.pick(WWW_THEMES);
        g.interaction("www", "hdjl", t, t.org);
    }

    // jyj: the education bureau's site.
    for _ in 0..26 {
        let t = g.rng.pick(JYJ_THEMES);
        g.news("jyj", "jydt", t, "jyj", Published);
    }
    for _ in 0..12 {
        let t = g.rng.pick(JYJ_THEMES);
        g.notice("jyj", "tzgg", t, "jyj", Published);
    }
    for i in 0..9 {
        let t = &JYJ_THEMES[i % JYJ_THEMES.len()];
        let idx = g.policy("jyj", "zcwj", t, "jyj", [2, 0, 3][i % 3], Published, None);
        if i % 3 == 1 {
            g.plans[idx].needs_interpretation = true;
            g.interpretation("jyj", "zcjd", idx);
        }
    }
    g.page("jyj", "gkzn", "guide", "青禾区教育局政府信息公开指南", "jyj");
    for y in 2022..=2025 {
        g.annual_report("jyj", "gknb", "jyj", y);
    }
    g.page("jyj", "jggk", "other", "青禾区教育局机构职能", "jyj");
    for _ in 0..4 {
        let t = g.rng.pick(JYJ_THEMES);
        g.interaction("jyj", "zxft", t, "jyj");
    }

    // yshj: the business-environment site.
    for _ in 0..20 {
        let t = g.rng.pick(YSHJ_THEMES);
        g.news("yshj", "ysdt", t, t.org, Published);
    }
    for i in 0..11 {
        let t = &YSHJ_THEMES[i % YSHJ_THEMES.len()];
        let idx = g.policy("yshj", "zcwj", t, t.org, [1, 0, 2, 3][i % 4], Published, None);
        if i % 4 == 1 {
            g.plans[idx].needs_interpretation = true;
            g.interpretation("yshj", "zcjd", idx);
        }
    }
    for _ in 0..8 {
        let t = g.rng.pick(YSHJ_THEMES);
        g.notice("yshj", "tzgg", t, t.org, Published);
    }
    g.page("yshj", "ztgk", "other", "青禾区优化营商环境专题简介", "fgw");
    for _ in 0..5 {
        let t = g.rng.pick(YSHJ_THEMES);
        g.interaction("yshj", "zqhd", t, t.org);
    }

    // Work in progress, so every state appears.
    g.news("www", "yw", &WWW_THEMES[0], "gov", Draft);
    g.news("www", "bmdt", &WWW_THEMES[3], "wjw", Draft);
    g.notice("www", "tzgg", &WWW_THEMES[5], "office", Draft);
    g.news("jyj", "jydt", &JYJ_THEMES[0], "jyj", Draft);
    g.news("yshj", "ysdt", &YSHJ_THEMES[0], "fgw", Draft);
    g.news("www", "yw", &WWW_THEMES[7], "gov", InReview);
    g.notice("www", "tzgg", &WWW_THEMES[9], "czj", InReview);
    g.news("jyj", "jydt", &JYJ_THEMES[2], "jyj", InReview);
    g.policy("www", "zcwj", &WWW_THEMES[2], "office", 1, InReview, None);
    g.policy("www", "zcwj", &WWW_THEMES[6], "gov", 3, InReviewSecond, None);
    g.notice("www", "tzgg", &WWW_THEMES[12], "office", Scheduled);
    g.news("www", "bmdt", &WWW_THEMES[10], "xxzx", Withdrawn);

    // 文号 in date order per issuer and year, with the gaps real registers have.
    let mut order: Vec<usize> = (0..g.plans.len()).filter(|i| g.plans[*i].doc_prefix.is_some()).collect();
    order.sort_by_key(|i| (g.plans[*i].written, *i));
    let mut serial: HashMap<(&'static str, i32), u32> = HashMap::new();
    for i in order {
        let prefix = g.plans[i].doc_prefix.unwrap_or("青政发");
        let y = g.plans[i].written.year();
        let step = 1 + g.rng.below(3) as u32;
        let n = serial.entry((prefix, y)).or_insert(0);
        *n += step;
        g.plans[i].doc_no = format!("{prefix}〔{y}〕{}号", *n);
    }
    g.plans
}

// ---------------------------------------------------------------- running it

/// A demo account's principal, by username.
async fn principal(db: &Db, username: &str) -> Result<Principal> {
    let id = {
        let mut h = db.read().await?;
        gongkai_kernel::auth::store::user_by_username(&mut h.conn(), username)
            .await?
            .ok_or_else(|| {
                Error::Conflict(format!("演示账号 {username} 不存在：请先创建内核演示数据（gongkai demo）"))
            })?
            .id
    };
    gongkai_kernel::auth::service::principal_of(db, id).await
}

async fn item_count(db: &Db) -> Result<i64> {
    let mut h = db.read().await?;
    Ok(gongkai_kernel::with_conn!(&mut h.conn(), x => {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM items").fetch_one(&mut **x).await
    })?)
}

fn input_of(p: &Plan, column_id: i64, org_id: i64) -> ItemInput {
    ItemInput {
        home_column_id: column_id.to_string(),
        class_code: p.class.into(),
        title: p.title.clone(),
        body: p.body.clone(),
        source: p.source.clone(),
        author: p.author.clone(),
        publisher_org_id: org_id.to_string(),
        subject_code: p.subject.into(),
        genre: p.genre.into(),
        doc_no: p.doc_no.clone(),
        written_on: fmt_date(p.written),
        published_on: p.published.map(fmt_date).unwrap_or_default(),
        keywords: p.keywords.clone(),
        five_open: p.five_open.into(),
        art20: p.art20.into(),
        is_normative: p.normative.to_string(),
        needs_interpretation: p.needs_interpretation.to_string(),
        interpretation_form: p.interpretation_form.into(),
        ..Default::default()
    }
}

/// Approve at every level until the item leaves review (publishing or scheduling it).
async fn approve_all(db: &Db, reviewer: &Principal, id: i64, publish_at: Option<i64>) -> Result<()> {
    for _ in 0..3 {
        let out = service::approve(db, reviewer, IP, id, publish_at, "同意", "").await?;
        if out.status != "in_review" {
            return Ok(());
        }
    }
    Ok(())
}

/// Fill the demo sites. Does nothing (false) when any item exists; needs the kernel demo
/// (`gongkai_kernel::demo::seed`) to have run, for its sites, organisations and users.
pub async fn seed(db: &Db) -> Result<bool> {
    if item_count(db).await? > 0 {
        return Ok(false);
    }
    let actor = Actor::system("demo");
    let (sites, orgs) = {
        let mut h = db.read().await?;
        let sites = gongkai_kernel::site::store::all(&mut h.conn()).await?;
        let orgs = gongkai_kernel::org::store::all(&mut h.conn()).await?;
        (sites, orgs)
    };
    let site_id = |code: &str| {
        sites
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.id)
            .ok_or_else(|| Error::Conflict(format!("演示网站 {code} 不存在：请先创建内核演示数据（gongkai demo）")))
    };
    let demo_sites = [site_id("www")?, site_id("jyj")?, site_id("yshj")?];
    let org_id = |key: &str| {
        let name = org(key).0;
        orgs.iter().find(|o| o.name == name).map(|o| o.id)
    };

    // The demo's editor and reviewer (信息中心 staff) run the three sites.
    let admin = principal(db, "sysadmin").await?;
    for (username, role) in [("editor", Role::Editor), ("reviewer", Role::Reviewer)] {
        let p = principal(db, username).await?;
        for s in demo_sites {
            let held = p.grants.iter().any(|g| g.role == role && g.org_id.is_none() && g.site_id == Some(s));
            if !held {
                gongkai_kernel::auth::service::grant(db, None, &actor, p.user_id, role, None, Some(s)).await?;
            }
        }
    }
    let editor = principal(db, "editor").await?;
    let reviewer = principal(db, "reviewer").await?;

    // Columns (reused when a previous run created them).
    let mut columns: HashMap<(&str, &str), i64> = HashMap::new();
    for (i, (site, parent, name, slug, kind, class, levels, link)) in COLUMNS.iter().enumerate() {
        let sid = site_id(site)?;
        let existing = {
            let mut h = db.read().await?;
            store::columns_of_site(&mut h.conn(), sid).await?.into_iter().find(|c| c.slug == *slug)
        };
        let id = match existing {
            Some(c) => c.id,
            None => {
                let parent_id = columns.get(&(*site, *parent)).map(|id| id.to_string()).unwrap_or_default();
                let input = ColumnInput {
                    site_id: sid.to_string(),
                    parent_id,
                    name: name.to_string(),
                    slug: slug.to_string(),
                    kind: kind.to_string(),
                    class: class.to_string(),
                    sort_order: (i * 10).to_string(),
                    link_url: link.to_string(),
                    review_levels: levels.to_string(),
                    ..Default::default()
                };
                service::create_column(db, &admin, IP, &input).await?.id
            }
        };
        columns.insert((*site, *slug), id);
    }

    // Items, oldest first so 索引号 serials follow publication order.
    let plans = plan(today());
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by_key(|i| {
        let p = &plans[*i];
        (p.published.is_none(), p.published.unwrap_or(p.written), *i)
    });
    let mut ids: Vec<i64> = vec![0; plans.len()];
    let mut inputs: Vec<ItemInput> = vec![ItemInput::default(); plans.len()];
    let soon = today() + Duration::days(2);
    let publish_at =
        local_to_ms(time::PrimitiveDateTime::new(soon, time::Time::from_hms(9, 0, 0).unwrap_or(time::Time::MIDNIGHT)));
    for i in order {
        let p = &plans[i];
        let column =
            *columns.get(&(p.site, p.column)).ok_or_else(|| Error::internal(format!("演示栏目 {} 缺失", p.column)))?;
        let publisher = org_id(p.publisher).or_else(|| org_id("gov")).ok_or_else(|| Error::internal("演示机构缺失"))?;
        let input = input_of(p, column, publisher);
        let item = service::create_item(db, &editor, IP, &input).await?;
        ids[i] = item.id;
        inputs[i] = input;
        if let Some(policy) = p.interprets {
            service::link_interpretation(db, &editor, IP, item.id, ids[policy]).await?;
        }
        if p.state == State::Draft {
            continue;
        }
        service::submit(db, &editor, IP, item.id, false).await?;
        match p.state {
            State::InReview | State::Draft => {}
            State::InReviewSecond => {
                service::approve(db, &reviewer, IP, item.id, None, "初审同意", "").await?;
            }
            State::Scheduled => approve_all(db, &reviewer, item.id, Some(publish_at)).await?,
            State::Published => approve_all(db, &reviewer, item.id, None).await?,
            State::Withdrawn => {
                approve_all(db, &reviewer, item.id, None).await?;
                service::withdraw(db, &reviewer, IP, item.id, "内容已过时，撤稿").await?;
            }
        }
    }

    // Repeals: a revision of the old document, reviewed like any other edit.
    for (i, p) in plans.iter().enumerate() {
        let Some(by) = p.repealed_by else { continue };
        let current = {
            let mut h = db.read().await?;
            store::item(&mut h.conn(), ids[i]).await?.ok_or(Error::NotFound)?
        };
        let mut input = inputs[i].clone();
        input.validity = "repealed".into();
        input.validity_on = fmt_date(plans[by].written);
        input.replaced_by_item_id = ids[by].to_string();
        input.normative_repealed_on = fmt_date(plans[by].written);
        input.version = current.version.to_string();
        service::save_item(db, &editor, IP, ids[i], &input).await?;
        service::submit(db, &editor, IP, ids[i], false).await?;
        approve_all(db, &reviewer, ids[i], None).await?;
    }

    topics(db, &editor, &plans, &ids, &columns, &sites).await?;
    catalogue(db, &reviewer, &plans, &ids).await?;
    Ok(true)
}

/// (site, name, slug, opened, closed, themes, columns)
type TopicSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const TOPICS: [TopicSpec; 3] = [
    ("www", "城市更新行动", "csgx", "2024-03-01", "", &["城市更新和保障性住房"], &["zcjd"]),
    (
        "yshj",
        "优化营商环境攻坚年",
        "yshj-2025",
        "2025-01-15",
        "",
        &["优化营商环境", "“高效办成一件事”", "民营经济发展"],
        &["zcwj"],
    ),
    ("jyj", "“双减”工作进行时", "shuangjian", "2023-09-01", "2025-06-30", &["“双减”工作", "学生资助"], &[]),
];

async fn topics(
    db: &Db,
    editor: &Principal,
    plans: &[Plan],
    ids: &[i64],
    columns: &HashMap<(&str, &str), i64>,
    sites: &[gongkai_kernel::site::Site],
) -> Result<()> {
    use crate::topics::{TopicInput, add_column, add_item, create_topic};
    for (site, name, slug, opened, closed, themes, cols) in TOPICS {
        let Some(site_id) = sites.iter().find(|s| s.code == site).map(|s| s.id) else { continue };
        let input = TopicInput {
            site_id: site_id.to_string(),
            name: name.into(),
            slug: slug.into(),
            intro: format!("<p>聚焦{}，集中发布相关政策文件、解读和工作动态。</p>", themes.join("、")),
            opened_on: opened.into(),
            closed_on: closed.into(),
            ..Default::default()
        };
        let t = match create_topic(db, editor, IP, &input).await {
            Ok(t) => t,
            // A topic with this code exists already (a partial earlier run): leave it.
            Err(Error::Invalid(_)) => continue,
            Err(e) => return Err(e),
        };
        for (i, p) in plans.iter().enumerate() {
            if p.site == site && themes.contains(&p.theme) && matches!(p.state, State::Published) {
                add_item(db, editor, IP, t.id, ids[i]).await?;
            }
        }
        for c in cols {
            if let Some(id) = columns.get(&(site, *c)) {
                add_column(db, editor, IP, t.id, *id).await?;
            }
        }
    }
    Ok(())
}

/// (domain, 一级事项, 二级事项, 公开内容, 公开依据, 公开主体 key, linked by: theme name or item class)
type EntrySpec = (&'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str);

const ENTRIES: [EntrySpec; 20] = [
    (
        "d04",
        "财政预决算",
        "部门预算",
        "部门预算及“三公”经费预算情况说明",
        "《中华人民共和国预算法》第十四条",
        "czj",
        "budget",
    ),
    (
        "d04",
        "财政预决算",
        "政府预算",
        "一般公共预算、政府性基金预算",
        "《中华人民共和国预算法》第十四条",
        "czj",
        "财政预算管理",
    ),
    (
        "d03",
        "公共资源交易",
        "政府采购",
        "采购意向、采购公告、中标（成交）结果",
        "《中华人民共和国政府采购法》",
        "czj",
        "procurement",
    ),
    (
        "d02",
        "重大建设项目",
        "批准服务信息",
        "项目审批、核准、备案结果",
        "《国务院办公厅关于推进重大建设项目批准和实施领域政府信息公开的意见》",
        "fgw",
        "重大项目建设",
    ),
    (
        "d02",
        "重大建设项目",
        "实施信息",
        "项目建设进展、竣工验收",
        "《国务院办公厅关于推进重大建设项目批准和实施领域政府信息公开的意见》",
        "fgw",
        "project",
    ),
    (
        "d05",
        "安全生产",
        "安全生产行政执法",
        "执法依据、程序、结果",
        "《中华人民共和国安全生产法》",
        "office",
        "安全生产和应急管理",
    ),
    (
        "d09",
        "环境保护",
        "环境监管",
        "环境质量状况、执法检查结果",
        "《中华人民共和国环境保护法》",
        "office",
        "生态环境保护",
    ),
    (
        "d10",
        "公共文化服务",
        "公共文化活动",
        "活动时间、地点、内容",
        "《中华人民共和国公共文化服务保障法》",
        "office",
        "公共文化服务",
    ),
    (
        "d13",
        "社会救助",
        "最低生活保障",
        "低保标准、申请条件、审核审批程序",
        "《社会救助暂行办法》",
        "office",
        "社会救助兜底保障",
    ),
    (
        "d14",
        "养老服务",
        "养老服务政策",
        "养老服务补贴政策、服务机构名录",
        "《中华人民共和国老年人权益保障法》",
        "office",
        "养老服务体系建设",
    ),
    ("d16", "涉农补贴", "补贴政策", "补贴项目、标准、发放结果", "《中华人民共和国农业法》", "town", "乡村全面振兴"),
    (
        "d17",
        "义务教育",
        "招生入学",
        "招生政策、范围、程序和结果",
        "《中华人民共和国义务教育法》",
        "jyj",
        "义务教育优质均衡发展",
    ),
    ("d17", "义务教育", "学生资助", "资助政策、申请程序、资助结果", "《学生资助资金管理办法》", "jyj", "学生资助"),
    (
        "d17",
        "义务教育",
        "校外培训治理",
        "“双减”政策、监管措施",
        "《关于进一步减轻义务教育阶段学生作业负担和校外培训负担的意见》",
        "jyj",
        "“双减”工作",
    ),
    (
        "d18",
        "医疗卫生",
        "基本公共卫生服务",
        "服务项目、服务机构、服务内容",
        "《中华人民共和国基本医疗卫生与健康促进法》",
        "wjw",
        "基层医疗卫生服务",
    ),
    (
        "d20",
        "就业",
        "就业创业政策",
        "就业创业扶持政策、申请条件和程序",
        "《中华人民共和国就业促进法》",
        "office",
        "稳就业促就业",
    ),
    (
        "d23",
        "保障性住房",
        "保障性住房分配",
        "分配政策、房源信息、分配结果",
        "《国务院关于加快发展保障性租赁住房的意见》",
        "zjj",
        "城市更新和保障性住房",
    ),
    (
        "d19",
        "市政服务",
        "政务服务事项",
        "办事指南、办理流程",
        "《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》",
        "xxzx",
        "数字政府建设",
    ),
    (
        "d25",
        "城市综合执法",
        "执法监督",
        "执法依据、投诉举报渠道",
        "《中华人民共和国行政处罚法》",
        "jd1",
        "基层社会治理",
    ),
    ("d02", "重大建设项目", "营商环境政策", "惠企政策、办事指南", "《优化营商环境条例》", "fgw", "优化营商环境"),
];

async fn catalogue(db: &Db, reviewer: &Principal, plans: &[Plan], ids: &[i64]) -> Result<()> {
    use crate::catalogue::{EntryInput, create_entry, link_item};
    for (n, (domain, level1, level2, content, basis, org_key, by)) in ENTRIES.into_iter().enumerate() {
        let input = EntryInput {
            seq: format!("{}-{:02}", &domain[1..], n + 1),
            domain: domain.into(),
            level1: level1.into(),
            level2: level2.into(),
            content: content.into(),
            basis: basis.into(),
            time_limit: "信息形成或者变更之日起20个工作日内".into(),
            org: org(org_key).0.into(),
            channels: "政府网站、政务新媒体、政务服务中心".into(),
            audience: "全社会".into(),
            mode: "主动".into(),
            tier: "县级".into(),
            sort_order: (n * 10).to_string(),
        };
        let e = match create_entry(db, reviewer, IP, &input).await {
            Ok(e) => e,
            // The same entry exists already (a partial earlier run): leave it.
            Err(Error::Invalid(_)) => continue,
            Err(e) => return Err(e),
        };
        let linked = plans
            .iter()
            .enumerate()
            .filter(|(_, p)| p.state == State::Published && (p.class == by || p.theme == by))
            .take(3);
        for (i, _) in linked {
            link_item(db, reviewer, IP, ids[i], e.id).await?;
        }
    }
    Ok(())
}

/// A one-page PDF with an ASCII line of text (valid: correct xref offsets), so demo
/// attachments open in any reader.
pub fn sample_pdf(line: &str) -> Vec<u8> {
    let text: String =
        line.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').filter(|c| !"()\\".contains(*c)).collect();
    let stream = format!("BT /F1 14 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// Attachments for the demo's published policies and annual reports (the public pages
/// show them with their sizes). Idempotent: items that have attachments are skipped.
pub async fn attach_files(db: &Db, files: &crate::attachments::FileStore) -> Result<usize> {
    let ids: Vec<(i64, String, String)> = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        gongkai_kernel::with_conn!(&mut c, x => {
            sqlx::query_as::<_, (i64, String, String)>(
                "SELECT i.id, i.title, i.class_code FROM items i WHERE i.live = TRUE AND i.class_code IN ('policy', 'annual_report', 'budget')
                   AND NOT EXISTS (SELECT 1 FROM item_attachments a WHERE a.item_id = i.id) ORDER BY i.id LIMIT 40",
            )
            .fetch_all(&mut **x).await
        })?
    };
    if ids.is_empty() {
        return Ok(0);
    }
    // The demo's editor runs the three sites' content (the system administrator may not).
    let editor = principal(db, "editor").await?;
    let mut n = 0;
    for (id, title, class) in ids {
        let (name, line) = if class == "annual_report" {
            (format!("{title}（PDF版）.pdf"), format!("Annual report on government information disclosure, item {id}"))
        } else {
            (format!("{title}（正式文本）.pdf"), format!("Official text of policy document, item {id}"))
        };
        crate::attachments::attach(db, files, &editor, "demo", id, &name, sample_pdf(&line)).await?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_valid_and_covers_every_state() {
        let today = ymd(2026, 11, 28);
        let plans = plan(today);
        assert!((280..=340).contains(&plans.len()), "{}", plans.len());
        for p in &plans {
            crate::rules::validate_title(&p.title).unwrap_or_else(|e| panic!("{}: {e}", p.title));
            if !p.doc_no.is_empty() {
                crate::rules::validate_doc_no(&p.doc_no).unwrap_or_else(|e| panic!("{}: {e}", p.doc_no));
            }
            assert!(p.written < today, "{}: written {}", p.title, p.written);
            if let Some(d) = p.published {
                assert!(d < today && d >= p.written, "{}: {d} / {}", p.title, p.written);
            }
            assert!(!p.body.is_empty() && p.body.len() < 2 * 1024 * 1024);
            crate::rules::validate_keywords(&p.keywords).unwrap();
        }
        for s in
            [State::Draft, State::InReview, State::InReviewSecond, State::Scheduled, State::Published, State::Withdrawn]
        {
            assert!(plans.iter().any(|p| p.state == s), "{s:?}");
        }
        let needing: Vec<usize> = (0..plans.len()).filter(|i| plans[*i].needs_interpretation).collect();
        let explained: Vec<usize> = plans.iter().filter_map(|p| p.interprets).collect();
        assert!(needing.iter().filter(|i| !explained.contains(i)).count() == 1, "exactly one left without");
        assert_eq!(plans.iter().filter(|p| p.repealed_by.is_some()).count(), 3);
        let sites: std::collections::HashSet<_> = plans.iter().map(|p| (p.site, p.column)).collect();
        for (site, _, _, slug, kind, ..) in COLUMNS {
            if !matches!(*kind, "link") && !matches!(*slug, "zwdt" | "zfxxgk") {
                assert!(sites.contains(&(*site, *slug)), "{site}/{slug} has items");
            }
        }
        // Same day, same content.
        assert_eq!(
            plan(today).iter().map(|p| p.title.clone()).collect::<Vec<_>>(),
            plans.iter().map(|p| p.title.clone()).collect::<Vec<_>>()
        );
        // 文号 are unique.
        let mut nos: Vec<&str> = plans.iter().map(|p| p.doc_no.as_str()).filter(|d| !d.is_empty()).collect();
        let n = nos.len();
        nos.sort_unstable();
        nos.dedup();
        assert_eq!(nos.len(), n);
    }
}
