//! Import and export of items as JSON Lines (migration from an old CMS).
//!
//! One JSON object a line ([`Record`]). Import is idempotent on `external_id`: a line seen
//! before updates its item (a new version) or, when nothing changed, is skipped. Lines are
//! validated like the item form (`service::validate_item`) and written in batches, one
//! transaction per batch and a savepoint per line, so a bad line is reported with its line
//! number and never stops the run. Items with status "published" go live without review,
//! as migrated history, audited as `item.import` by the given actor (the CLI's). Export
//! writes every item in the same format, so export → import into an empty database
//! reproduces the items.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::Date;

use gongkai_kernel::audit::{self, Actor};
use gongkai_kernel::clock::{fmt_date, local_to_ms, now_ms, parse_date, today};
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, FieldErrors, Result};
use gongkai_kernel::with_conn;

use crate::attachments::FileStore;
use crate::model::*;
use crate::rules;
use crate::service::{ItemInput, validate_item};
use crate::store::{self, Column, Item, ItemFields, WorkflowRow};

/// Lines per transaction.
pub const DEFAULT_BATCH: usize = 500;

/// Prefix of the `external_id` that export gives items created in gongkai itself.
pub const LOCAL_ID_PREFIX: &str = "gongkai:";

// ---------------------------------------------------------------- the line format

/// An attachment of an item. On import the file is read from `path`, relative to the
/// attachments directory; without a path (or directory) a `sha256` already in this
/// installation's attachment store is used. Export writes `name`, `sha256` and `path` as
/// `<aa>/<sha256>`, the layout of `<data dir>/files`, so another installation imports the
/// files with `--attachments-dir <old data dir>/files`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachmentRef {
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sha256: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One line. Enumerations take their code (`"notice"`) or their Chinese label (`"通知"`);
/// `publisher` an organisation's name, short name, 统一社会信用代码 or 组织机构代码;
/// `keywords` and `interprets` an array or a string. Empty fields are left out on export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Record {
    pub external_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub site: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub column: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column_id: Option<i64>,
    pub class: String,
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subtitle: String,
    pub body: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author: String,
    pub publisher: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subject: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub genre: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub doc_no: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub written_on: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub published_on: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub validity: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub validity_on: String,
    /// `external_id` of the document that replaces this one (废止并被替代).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub replaced_by: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub disclosure_mode: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub not_disclosed_reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub disclosure_scope: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub five_open: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub art20: String,
    #[serde(skip_serializing_if = "is_false")]
    pub is_rule: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub is_normative: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub normative_issued_on: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub normative_repealed_on: String,
    #[serde(skip_serializing_if = "is_false")]
    pub needs_interpretation: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub interpretation_form: String,
    /// For an interpretation: `external_id`s of the policy documents it explains.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interprets: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub index_no: String,
    /// draft | published | withdrawn (in_review and scheduled are imported as drafts).
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub withdrawn_reason: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRef>,
}

const TEXT_FIELDS: &[&str] = &[
    "external_id",
    "site",
    "column",
    "class",
    "title",
    "subtitle",
    "body",
    "summary",
    "source",
    "author",
    "publisher",
    "subject",
    "genre",
    "doc_no",
    "written_on",
    "published_on",
    "validity",
    "validity_on",
    "replaced_by",
    "disclosure_mode",
    "not_disclosed_reason",
    "disclosure_scope",
    "five_open",
    "art20",
    "normative_issued_on",
    "normative_repealed_on",
    "interpretation_form",
    "index_no",
    "status",
    "withdrawn_reason",
];
const FLAG_FIELDS: &[&str] = &["is_rule", "is_normative", "needs_interpretation"];
const LIST_FIELDS: &[&str] = &["keywords", "interprets"];

/// Old systems write `null` for empty fields, numbers for ids and "是"/"否" for flags:
/// bring a line into the shape of [`Record`] before typed parsing.
fn normalize(obj: &mut Map<String, Value>, errs: &mut Vec<String>) {
    obj.retain(|_, v| !v.is_null());
    for (k, v) in obj.iter_mut() {
        let k = k.as_str();
        if TEXT_FIELDS.contains(&k) {
            if let Value::Number(n) = v {
                *v = Value::String(n.to_string());
            }
        } else if FLAG_FIELDS.contains(&k) {
            let b = match &*v {
                Value::Bool(b) => Some(*b),
                Value::Number(n) => Some(n.as_f64() != Some(0.0)),
                Value::String(s) => match s.trim().to_lowercase().as_str() {
                    "true" | "1" | "yes" | "y" | "on" | "是" => Some(true),
                    "" | "false" | "0" | "no" | "n" | "off" | "否" => Some(false),
                    _ => None,
                },
                _ => None,
            };
            match b {
                Some(b) => *v = Value::Bool(b),
                None => {
                    errs.push(format!("{k}：应为 true 或 false（也可写“是”“否”）"));
                    *v = Value::Bool(false);
                }
            }
        } else if LIST_FIELDS.contains(&k) {
            let one = |x: &Value| match x {
                Value::String(s) => Some(Value::String(s.clone())),
                Value::Number(n) => Some(Value::String(n.to_string())),
                _ => None,
            };
            let list: Vec<Value> = match &*v {
                Value::Array(a) => a.iter().filter_map(one).collect(),
                other => one(other).into_iter().collect(),
            };
            *v = Value::Array(list);
        } else if k == "column_id"
            && let Value::String(s) = &*v
        {
            *v = match s.trim().parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) if s.trim().is_empty() => Value::Null,
                Err(_) => {
                    errs.push("column_id：栏目编号应为整数".into());
                    Value::Null
                }
            };
        }
    }
    obj.retain(|_, v| !v.is_null());
}

/// Parse one line into a record, or the reasons it cannot be read. The `external_id`
/// is returned whenever the line is a JSON object holding one, for the report.
fn parse_line(text: &str) -> (String, std::result::Result<Record, Vec<String>>) {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return (
                String::new(),
                Err(vec![format!("不是有效的 JSON（第 {} 列附近：{}）", e.column(), json_error_zh(&e))]),
            );
        }
    };
    let Value::Object(mut obj) = v else {
        return (String::new(), Err(vec!["每行应为一个 JSON 对象（以 { 开头）".into()]));
    };
    let ext = match obj.get("external_id") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let mut errs = Vec::new();
    normalize(&mut obj, &mut errs);
    match serde_json::from_value::<Record>(Value::Object(obj)) {
        Ok(r) if errs.is_empty() => (ext, Ok(r)),
        Ok(_) => (ext, Err(errs)),
        Err(e) => {
            errs.push(format!("字段类型不正确：{e}"));
            (ext, Err(errs))
        }
    }
}

fn json_error_zh(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "内容不完整，可能被截断",
        Category::Syntax => "语法错误",
        Category::Data => "数据类型错误",
        Category::Io => "读取错误",
    }
}

// ---------------------------------------------------------------- reference data

#[derive(Debug, Clone)]
struct OrgRef {
    id: i64,
    name: String,
    index_code: Option<String>,
    export_key: String,
}

/// Everything a line refers to by name, loaded once per run.
struct Refs {
    sites: HashMap<String, (i64, bool)>,
    site_codes: HashMap<i64, String>,
    columns: HashMap<i64, Column>,
    column_by_slug: HashMap<(i64, String), i64>,
    orgs: HashMap<i64, OrgRef>,
    org_by_key: HashMap<String, i64>,
    classes: HashMap<String, String>,
    subjects: HashMap<String, String>,
}

async fn load_refs(db: &Db) -> Result<Refs> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let mut r = Refs {
        sites: HashMap::new(),
        site_codes: HashMap::new(),
        columns: HashMap::new(),
        column_by_slug: HashMap::new(),
        orgs: HashMap::new(),
        org_by_key: HashMap::new(),
        classes: HashMap::new(),
        subjects: HashMap::new(),
    };
    for s in gongkai_kernel::site::store::all(&mut c).await? {
        r.site_codes.insert(s.id, s.code.clone());
        r.sites.insert(s.code.to_lowercase(), (s.id, s.external));
        let cols: Vec<Column> = store::columns_of_site(&mut c, s.id).await?;
        for col in cols {
            r.column_by_slug.insert((s.id, col.slug.to_lowercase()), col.id);
            r.columns.insert(col.id, col);
        }
    }
    for o in gongkai_kernel::org::store::all(&mut c).await? {
        let export_key = o.uscc.clone().or_else(|| o.org_code.clone()).unwrap_or_else(|| o.name.clone());
        // Codes win over names: the name of one body may be another's short name.
        for key in [Some(o.short_name.clone()), Some(o.name.clone()), o.org_code.clone(), o.uscc.clone()]
            .into_iter()
            .flatten()
            .filter(|k| !k.trim().is_empty())
        {
            r.org_by_key.insert(key.trim().to_uppercase(), o.id);
        }
        let index_code = o.index_code().map(str::to_string);
        r.orgs.insert(o.id, OrgRef { id: o.id, name: o.name.clone(), index_code, export_key });
    }
    let pairs = |table: &str| format!("SELECT code, label FROM {table}");
    let classes: Vec<(String, String)> = with_conn!(&mut c, x => {
        sqlx::query_as(sqlx::AssertSqlSafe(pairs("item_classes"))).fetch_all(&mut **x).await
    })?;
    let subjects: Vec<(String, String)> = with_conn!(&mut c, x => {
        sqlx::query_as(sqlx::AssertSqlSafe(pairs("subjects"))).fetch_all(&mut **x).await
    })?;
    for (code, label) in classes {
        r.classes.insert(label, code.clone());
        r.classes.insert(code.clone(), code);
    }
    for (code, label) in subjects {
        r.subjects.insert(label, code.clone());
        r.subjects.insert(code.clone(), code);
    }
    Ok(r)
}

/// The code for a value given as code or Chinese label; anything else is passed on for
/// the validator to refuse with its own message.
fn code_of<T: Copy>(s: &str, all: &[T], code: fn(T) -> &'static str, label: fn(T) -> &'static str) -> String {
    let t = s.trim();
    all.iter().find(|v| label(**v) == t).map(|v| code(*v).to_string()).unwrap_or_else(|| t.to_string())
}

/// Where the messages of `validate_item` name a form field, the report names the line's.
fn line_field(form_field: &str) -> &str {
    match form_field {
        "home_column_id" => "column",
        "class_code" => "class",
        "publisher_org_id" => "publisher",
        "subject_code" => "subject",
        "replaced_by_item_id" => "replaced_by",
        f => f,
    }
}

// ---------------------------------------------------------------- import

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Who the audit log names (the CLI passes `Actor::cli()`).
    pub actor: Actor,
    /// Base directory of the attachments' `path`s.
    pub attachments_dir: Option<PathBuf>,
    /// Where attachments are stored (`<data dir>/files`); None: attachments are skipped.
    pub files: Option<FileStore>,
    /// Lines per transaction.
    pub batch_size: usize,
}

impl ImportOptions {
    pub fn new(actor: Actor) -> Self {
        ImportOptions { actor, attachments_dir: None, files: None, batch_size: DEFAULT_BATCH }
    }
}

/// How far an import has come, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Lines read so far (blank lines included).
    pub done: u64,
    pub total: Option<u64>,
    pub elapsed: Duration,
}

impl Progress {
    pub fn per_second(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.done as f64 / s } else { 0.0 }
    }
}

/// A line that was not imported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineError {
    pub line: u64,
    pub external_id: String,
    pub reasons: Vec<String>,
}

/// A remark on an accepted line (a status mapped, a reference not found, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineNote {
    pub line: u64,
    pub external_id: String,
    pub note: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    /// Non-blank lines read.
    pub lines: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<LineError>,
    pub notes: Vec<LineNote>,
    /// Attachments newly linked to items.
    pub attachments_stored: u64,
    /// Attachments the item had already (a re-import).
    pub attachments_present: u64,
    /// Attachments not imported; each one has a note saying why.
    pub attachments_skipped: u64,
    pub seconds: f64,
}

impl ImportSummary {
    /// Every line was accepted (exit code 0).
    pub fn all_accepted(&self) -> bool {
        self.rejected.is_empty()
    }

    /// The report printed at the end of an import, in Chinese.
    pub fn to_zh(&self) -> String {
        let rate = if self.seconds > 0.0 { self.lines as f64 / self.seconds } else { 0.0 };
        let mut s = format!(
            "导入完成：共 {} 行，新建 {} 条，更新 {} 条，未变化跳过 {} 条，拒绝 {} 行；用时 {:.1} 秒（{:.0} 行/秒）。\n",
            self.lines,
            self.created,
            self.updated,
            self.unchanged,
            self.rejected.len(),
            self.seconds,
            rate
        );
        if self.attachments_stored + self.attachments_present + self.attachments_skipped > 0 {
            s.push_str(&format!(
                "附件：新保存 {} 个，已有 {} 个，跳过 {} 个{}。\n",
                self.attachments_stored,
                self.attachments_present,
                self.attachments_skipped,
                if self.attachments_skipped > 0 { "（原因见下方提示）" } else { "" }
            ));
        }
        if !self.rejected.is_empty() {
            s.push_str("未导入的行（修改后重新导入即可，已导入的行会被跳过）：\n");
            for e in &self.rejected {
                s.push_str(&format!("  第 {} 行{}：{}\n", e.line, ext_label(&e.external_id), e.reasons.join("；")));
            }
        }
        if !self.notes.is_empty() {
            s.push_str("提示：\n");
            for n in &self.notes {
                s.push_str(&format!("  第 {} 行{}：{}\n", n.line, ext_label(&n.external_id), n.note));
            }
        }
        s
    }
}

fn ext_label(ext: &str) -> String {
    if ext.is_empty() { String::new() } else { format!("（external_id={ext}）") }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Draft,
    Published,
    Withdrawn,
}

/// A line that passed validation, ready to be written.
struct Prepared {
    line: u64,
    ext: String,
    fields: ItemFields,
    want: Want,
    index_no: Option<String>,
    withdrawn_reason: String,
    replaced_by: String,
    interprets: Vec<String>,
    attachments: Vec<AttachmentRef>,
    /// Attachment files already in the store, linked when the line is written.
    files: Vec<Staged>,
    files_skipped: u64,
    notes: Vec<String>,
}

/// Validate a record against the reference data and the item rules; no database writes.
fn prepare(refs: &Refs, line: u64, r: Record, today: Date) -> std::result::Result<Prepared, Vec<String>> {
    let mut errs: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    let ext = r.external_id.trim().to_string();
    if ext.is_empty() {
        errs.push("external_id：缺少原系统编号（external_id），导入需要它来识别重复导入".into());
    } else if ext.chars().count() > 100 || ext.chars().any(char::is_control) {
        errs.push("external_id：原系统编号不能超过 100 个字，且不能含不可见字符".into());
    }
    // Column: site + column slug, or column_id.
    let column = if !r.site.trim().is_empty() || !r.column.trim().is_empty() {
        match refs.sites.get(&r.site.trim().to_lowercase()) {
            None if r.site.trim().is_empty() => {
                errs.push("site：缺少网站代号（如 www）".into());
                None
            }
            None => {
                errs.push(format!("site：网站“{}”不存在", r.site.trim()));
                None
            }
            Some((_, true)) => {
                errs.push(format!("site：“{}”是外部网站，不在本平台发布信息", r.site.trim()));
                None
            }
            Some((site_id, false)) => match refs.column_by_slug.get(&(*site_id, r.column.trim().to_lowercase())) {
                Some(id) => refs.columns.get(id),
                None if r.column.trim().is_empty() => {
                    errs.push("column：缺少栏目代号".into());
                    None
                }
                None => {
                    errs.push(format!("column：网站“{}”没有代号为“{}”的栏目", r.site.trim(), r.column.trim()));
                    None
                }
            },
        }
    } else if let Some(id) = r.column_id {
        let c = refs.columns.get(&id);
        if c.is_none() {
            errs.push(format!("column_id：栏目 {id} 不存在"));
        }
        c
    } else {
        errs.push("column：缺少所属栏目（site 加 column，或 column_id）".into());
        None
    };
    let publisher = match r.publisher.trim() {
        "" => None,
        p => {
            let o = refs.org_by_key.get(&p.to_uppercase());
            if o.is_none() {
                errs.push(format!("publisher：发布机构“{p}”不存在（填写机构全称、简称或统一社会信用代码）"));
            }
            o
        }
    };
    let class_code = match r.class.trim() {
        "" => String::new(),
        c => refs.classes.get(c).cloned().unwrap_or_else(|| {
            errs.push(format!("class：信息类别“{c}”不存在"));
            c.to_string()
        }),
    };
    let subject_code = match r.subject.trim() {
        "" => String::new(),
        s => refs.subjects.get(s).cloned().unwrap_or_else(|| {
            errs.push(format!("subject：主题分类“{s}”不存在"));
            String::new()
        }),
    };
    let want = match r.status.trim() {
        "" | "draft" | "草稿" => Want::Draft,
        "published" | "已发布" => Want::Published,
        "withdrawn" | "已撤稿" => Want::Withdrawn,
        "in_review" | "scheduled" | "审核中" | "待发布" => {
            notes.push(format!("状态“{}”不随迁移带入，已作为草稿导入，请在本系统中重新送审", r.status.trim()));
            Want::Draft
        }
        s => {
            errs.push(format!("status：状态“{s}”无效，应为 published（已发布）或 draft（草稿）"));
            Want::Draft
        }
    };
    let index_no = match r.index_no.trim() {
        "" => None,
        n if rules::parse_index_no(n).is_some() => Some(n.to_string()),
        n => {
            errs.push(format!(
                "index_no：索引号“{n}”格式不正确，应为“机构代码/年份-流水号”，如 11330199002500015X/2024-00012"
            ));
            None
        }
    };
    if !r.interprets.is_empty() && class_code != "interpretation" {
        errs.push("interprets：只有政策解读（class 为 interpretation）可以关联被解读的文件".into());
    }
    let date_or_keep = |s: &str| s.trim().to_string();
    let input = ItemInput {
        home_column_id: column.map(|c| c.id.to_string()).unwrap_or_else(|| "0".into()),
        class_code: if class_code.is_empty() { r.class.trim().to_string() } else { class_code },
        title: r.title,
        subtitle: r.subtitle,
        body: r.body,
        summary: r.summary,
        source: r.source,
        author: r.author,
        publisher_org_id: publisher.map(|id| id.to_string()).unwrap_or_default(),
        subject_code,
        genre: code_of(&r.genre, &Genre::ALL, Genre::as_str, Genre::label_zh),
        doc_no: r.doc_no,
        written_on: date_or_keep(&r.written_on),
        published_on: date_or_keep(&r.published_on),
        validity: code_of(&r.validity, &Validity::ALL, Validity::as_str, Validity::label_zh),
        validity_on: date_or_keep(&r.validity_on),
        replaced_by_item_id: String::new(),
        keywords: r.keywords.join(","),
        disclosure_mode: code_of(
            &r.disclosure_mode,
            &DisclosureMode::ALL,
            DisclosureMode::as_str,
            DisclosureMode::label_zh,
        ),
        not_disclosed_reason: r.not_disclosed_reason,
        disclosure_scope: r.disclosure_scope,
        five_open: code_of(&r.five_open, &FiveOpen::ALL, FiveOpen::as_str, FiveOpen::label_zh),
        art20: code_of(&r.art20, &Art20::ALL, Art20::as_str, Art20::label_zh),
        is_rule: r.is_rule.to_string(),
        is_normative: r.is_normative.to_string(),
        normative_issued_on: date_or_keep(&r.normative_issued_on),
        normative_repealed_on: date_or_keep(&r.normative_repealed_on),
        needs_interpretation: r.needs_interpretation.to_string(),
        interpretation_form: code_of(
            &r.interpretation_form,
            &InterpretationForm::ALL,
            InterpretationForm::as_str,
            InterpretationForm::label_zh,
        ),
        external_id: ext.clone(),
        version: String::new(),
    };
    let fields = match validate_item(&input, today) {
        Ok(f) => Some(f),
        Err(fe) => {
            push_field_errors(&mut errs, &fe, column.is_some());
            None
        }
    };
    if let Some(f) = &fields
        && want != Want::Draft
        && f.published_on.as_deref().and_then(parse_date).is_some_and(|p| p > today)
    {
        errs.push("published_on：已发布信息的发布日期不能晚于今天".into());
    }
    match fields {
        Some(fields) if errs.is_empty() => Ok(Prepared {
            line,
            ext,
            fields,
            want,
            index_no,
            withdrawn_reason: match r.withdrawn_reason.trim() {
                "" => "原系统中已撤稿".to_string(),
                s => s.to_string(),
            },
            replaced_by: r.replaced_by.trim().to_string(),
            interprets: r.interprets.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            attachments: r.attachments,
            files: Vec::new(),
            files_skipped: 0,
            notes,
        }),
        _ => Err(errs),
    }
}

fn push_field_errors(errs: &mut Vec<String>, fe: &FieldErrors, have_column: bool) {
    for (field, msg) in &fe.0 {
        let f = line_field(field);
        // Already reported in the line's own terms.
        if (f == "column" && !have_column) || errs.iter().any(|e| e.starts_with(&format!("{f}："))) {
            continue;
        }
        let msg = match f {
            "publisher" => "缺少发布机构（填写机构全称、简称或统一社会信用代码）".to_string(),
            "class" => "缺少信息类别".to_string(),
            _ => msg.clone(),
        };
        errs.push(format!("{f}：{msg}"));
    }
}

/// The editable fields of a stored item, to compare with an imported line.
pub fn fields_of(i: &Item) -> ItemFields {
    ItemFields {
        home_column_id: i.home_column_id,
        class_code: i.class_code.clone(),
        title: i.title.clone(),
        subtitle: i.subtitle.clone(),
        body: i.body.clone(),
        summary: i.summary.clone(),
        source: i.source.clone(),
        author: i.author.clone(),
        publisher_org_id: i.publisher_org_id,
        subject_code: i.subject_code.clone(),
        genre: i.genre.clone(),
        doc_no: i.doc_no.clone(),
        written_on: i.written_on.clone(),
        published_on: i.published_on.clone(),
        validity: i.validity.clone(),
        validity_on: i.validity_on.clone(),
        replaced_by_item_id: i.replaced_by_item_id,
        keywords: i.keywords.split(',').filter(|k| !k.is_empty()).map(str::to_string).collect(),
        disclosure_mode: i.disclosure_mode.clone(),
        not_disclosed_reason: i.not_disclosed_reason.clone(),
        disclosure_scope: i.disclosure_scope.clone(),
        five_open: i.five_open.clone(),
        art20: i.art20.clone(),
        is_rule: i.is_rule,
        is_normative: i.is_normative,
        normative_issued_on: i.normative_issued_on.clone(),
        normative_repealed_on: i.normative_repealed_on.clone(),
        needs_interpretation: i.needs_interpretation,
        interpretation_form: i.interpretation_form.clone(),
    }
}

// ---------------------------------------------------------------- store (import only)

/// Set an imported 索引号. A number already held by another item is refused with the
/// holder named, before the unique index would abort the transaction.
pub async fn set_index_no(c: &mut Conn<'_>, item_id: i64, index_no: &str) -> Result<()> {
    // One statement in the common case; the holder is looked up only to name it.
    let n = with_conn!(c, x => {
        sqlx::query("UPDATE items SET index_no = $1 WHERE id = $2 AND NOT EXISTS (SELECT 1 FROM items o WHERE o.index_no = $1 AND o.id <> $2)")
            .bind(index_no).bind(item_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    if n > 0 {
        return Ok(());
    }
    let holder: Option<(i64, String)> = with_conn!(c, x => {
        sqlx::query_as("SELECT id, title FROM items WHERE index_no = $1 AND id <> $2")
            .bind(index_no).bind(item_id).fetch_optional(&mut **x).await
    })?;
    Err(match holder {
        Some((id, title)) => Error::field("index_no", format!("索引号“{index_no}”已被信息“{title}”（编号 {id}）使用")),
        None => Error::NotFound,
    })
}

/// Publication of an imported item in one statement: 索引号, date and time of first
/// publication (kept when already set) and the workflow columns.
async fn go_public(
    c: &mut Conn<'_>,
    id: i64,
    index_no: &str,
    published_on: &str,
    live: bool,
    live_version: Option<i64>,
    withdrawn_reason: &str,
) -> Result<()> {
    let now = now_ms();
    with_conn!(c, x => {
        sqlx::query(
            "UPDATE items SET index_no = COALESCE(index_no, $1), published_on = COALESCE(published_on, $2),
                published_at = COALESCE(published_at, $3), status = $4, review_level = 0, publish_at = NULL, live = $5,
                live_version = $6, withdrawn_reason = $7, updated_at = $8
             WHERE id = $9",
        )
        .bind(index_no).bind(published_on).bind(published_at_of(published_on))
        .bind(if live { "published" } else { "withdrawn" }).bind(live).bind(live_version).bind(withdrawn_reason)
        .bind(now).bind(id)
        .execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Raise the (organisation, year) serial to at least `serial`, so numbers assigned after
/// the migration never collide with imported ones.
pub async fn raise_index_serial(c: &mut Conn<'_>, org_id: i64, year: i64, serial: i64) -> Result<()> {
    with_conn!(c, x => {
        sqlx::query(
            "INSERT INTO index_serials (org_id, year, last_serial) VALUES ($1, $2, $3)
             ON CONFLICT (org_id, year) DO UPDATE SET last_serial =
                CASE WHEN index_serials.last_serial < excluded.last_serial THEN excluded.last_serial ELSE index_serials.last_serial END",
        )
        .bind(org_id).bind(year).bind(serial).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

async fn set_replaced_by(c: &mut Conn<'_>, item_id: i64, target: i64) -> Result<bool> {
    let n = with_conn!(c, x => {
        sqlx::query("UPDATE items SET replaced_by_item_id = $1 WHERE id = $2 AND (replaced_by_item_id IS NULL OR replaced_by_item_id <> $1)")
            .bind(target).bind(item_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

async fn insert_link(c: &mut Conn<'_>, interpretation_id: i64, policy_id: i64) -> Result<bool> {
    let n = with_conn!(c, x => {
        sqlx::query("INSERT INTO interpretation_links (interpretation_id, policy_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(interpretation_id).bind(policy_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

async fn id_by_external_id(c: &mut Conn<'_>, ext: &str) -> Result<Option<i64>> {
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("SELECT id FROM items WHERE external_id = $1").bind(ext).fetch_optional(&mut **x).await
    })?)
}

async fn savepoint(c: &mut Conn<'_>, sql: &'static str) -> Result<()> {
    with_conn!(c, x => sqlx::query(sql).execute(&mut **x).await.map(|r| r.rows_affected()))?;
    Ok(())
}

// ---------------------------------------------------------------- writing one line

enum Done {
    Created(i64),
    Updated(i64),
    Unchanged(i64),
}

/// A written line, counted once its batch has committed.
struct Accepted {
    line: u64,
    ext: String,
    done: Done,
    notes: Vec<String>,
    added: u64,
    present: u64,
    skipped: u64,
}

impl Done {
    fn id(&self) -> i64 {
        match self {
            Done::Created(id) | Done::Updated(id) | Done::Unchanged(id) => *id,
        }
    }
}

/// 09:00 Beijing time on the publication date: migrated items sort by their real date.
fn published_at_of(date: &str) -> i64 {
    parse_date(date)
        .map(|d| {
            local_to_ms(time::PrimitiveDateTime::new(d, time::Time::from_hms(9, 0, 0).unwrap_or(time::Time::MIDNIGHT)))
        })
        .unwrap_or_else(now_ms)
}

/// Publish (or withdraw) an imported item: the imported 索引号, or a new one from the
/// publisher's code and the per-(organisation, year) serial, as the service assigns them.
/// `live_version` None means withdrawn.
async fn publish_now(
    c: &mut Conn<'_>,
    refs: &Refs,
    id: i64,
    f: &ItemFields,
    have: Option<&str>,
    live_version: Option<i64>,
    withdrawn_reason: &str,
) -> Result<String> {
    let published_on = f.published_on.clone().or_else(|| f.written_on.clone()).unwrap_or_else(|| fmt_date(today()));
    let no = match have {
        Some(n) => n.to_string(),
        None => {
            let org = f.publisher_org_id.and_then(|o| refs.orgs.get(&o)).ok_or(Error::NotFound)?;
            let code = org.index_code.as_deref().ok_or_else(|| {
                Error::Conflict(format!(
                    "发布机构“{}”缺少统一社会信用代码或组织机构代码，无法生成索引号（可在该行填写原索引号 index_no）",
                    org.name
                ))
            })?;
            let year = published_on.get(..4).and_then(|y| y.parse::<i32>().ok()).unwrap_or_else(|| today().year());
            let serial = store::next_index_serial(c, org.id, year as i64).await?;
            rules::format_index_no(code, year, serial as u32).map_err(Error::Conflict)?
        }
    };
    go_public(c, id, &no, &published_on, live_version.is_some(), live_version, withdrawn_reason).await?;
    Ok(no)
}

/// Keep an imported 索引号 and make later serials of its organisation pass it.
async fn adopt_index_no(c: &mut Conn<'_>, refs: &Refs, id: i64, no: &str) -> Result<()> {
    set_index_no(c, id, no).await?;
    if let Some((code, year, serial)) = rules::parse_index_no(no)
        && let Some(org) = refs.org_by_key.get(&code)
    {
        raise_index_serial(c, *org, year as i64, serial as i64).await?;
    }
    Ok(())
}

async fn write_line(c: &mut Conn<'_>, refs: &Refs, actor: &Actor, p: &mut Prepared) -> Result<Done> {
    if !p.replaced_by.is_empty()
        && let Some(tid) = id_by_external_id(c, &p.replaced_by).await?
    {
        p.fields.replaced_by_item_id = Some(tid);
    }
    let existing = store::item_by_external_id(c, &p.ext).await?;
    let snapshot = |f: &ItemFields| serde_json::to_string(f).unwrap_or_default();
    let col_levels = refs.columns.get(&p.fields.home_column_id).map(|c| c.review_levels).unwrap_or(1);
    let Some(before) = existing else {
        let id = store::insert_item(c, &p.fields, Some(&p.ext), col_levels, None).await?;
        store::insert_version(c, id, 1, &snapshot(&p.fields), None).await?;
        store::place(c, id, p.fields.home_column_id, true).await?;
        if let Some(no) = &p.index_no {
            adopt_index_no(c, refs, id, no).await?;
        }
        let mut index_no = p.index_no.clone();
        let live = p.want == Want::Published;
        if p.want != Want::Draft {
            let reason = if live { "" } else { p.withdrawn_reason.as_str() };
            index_no =
                Some(publish_now(c, refs, id, &p.fields, p.index_no.as_deref(), live.then_some(1), reason).await?);
        }
        let status = match p.want {
            Want::Draft => "draft",
            Want::Published => "published",
            Want::Withdrawn => "withdrawn",
        };
        audit::append(
            c,
            actor,
            "item.import",
            "item",
            id,
            json!({ "op": "create", "line": p.line, "external_id": p.ext, "version": 1, "status": status, "index_no": index_no }),
        )
        .await?;
        crate::public::changed(c, if live { "item.published" } else { "item.changed" }, id, json!({ "version": 1 }))
            .await?;
        return Ok(Done::Created(id));
    };

    let id = before.id;
    if let (Some(given), Some(have)) = (&p.index_no, &before.index_no)
        && given != have
    {
        return Err(Error::field(
            "index_no",
            format!("索引号与已导入的不一致（本系统中为“{have}”）；索引号一经赋予不再更改"),
        ));
    }
    // Publication assigns the date; a line without one keeps it.
    if p.fields.published_on.is_none() {
        p.fields.published_on = before.published_on.clone();
    }
    let changed = fields_of(&before) != p.fields;
    let new_index = p.index_no.is_some() && before.index_no.is_none();
    let is_live_current = before.status == "published" && before.live && before.live_version == Some(before.version);
    let status_ok = match p.want {
        // Import never takes a public item down by saying "draft".
        Want::Draft => true,
        Want::Published => is_live_current,
        Want::Withdrawn => before.status == "withdrawn",
    };
    if !changed && !new_index && status_ok {
        return Ok(Done::Unchanged(id));
    }
    // The reviewer approves what they saw: nothing is written under a pending review.
    if matches!(before.status.as_str(), "in_review" | "scheduled") {
        return Err(Error::Conflict(format!(
            "该信息在本系统中{}，导入不会覆盖；请先处理完审核或取消定时发布再导入",
            if before.status == "in_review" { "正在审核" } else { "已定时待发布" }
        )));
    }
    let mut version = before.version;
    if changed {
        version = store::update_item_fields(c, id, before.version, &p.fields)
            .await?
            .ok_or_else(|| Error::Conflict("该信息正被他人修改，请稍后重新导入".into()))?;
        store::insert_version(c, id, version, &snapshot(&p.fields), None).await?;
        if p.fields.home_column_id != before.home_column_id {
            store::rehome(c, id, p.fields.home_column_id).await?;
        }
    }
    if new_index && let Some(no) = &p.index_no {
        adopt_index_no(c, refs, id, no).await?;
    }
    let have_index = p.index_no.clone().or_else(|| before.index_no.clone());
    let mut index_no = have_index.clone();
    let mut live = before.live;
    match p.want {
        Want::Published if !is_live_current || changed => {
            index_no = Some(publish_now(c, refs, id, &p.fields, have_index.as_deref(), Some(version), "").await?);
            live = true;
        }
        Want::Withdrawn if before.status != "withdrawn" => {
            let reason = p.withdrawn_reason.as_str();
            index_no = Some(publish_now(c, refs, id, &p.fields, have_index.as_deref(), None, reason).await?);
            live = false;
        }
        // A changed draft: the public keeps the published version until the revision is
        // reviewed, exactly as after an edit in the console.
        Want::Draft if changed => {
            let row = WorkflowRow {
                status: "draft",
                review_level: 0,
                publish_at: None,
                live: before.live,
                live_version: if before.live { before.live_version } else { None },
                withdrawn_reason: &before.withdrawn_reason,
            };
            store::set_workflow(c, id, &row).await?;
        }
        _ => {}
    }
    let status = match p.want {
        Want::Draft if before.status != "draft" && !changed => before.status.as_str(),
        Want::Draft => "draft",
        Want::Published => "published",
        Want::Withdrawn => "withdrawn",
    };
    audit::append(
        c,
        actor,
        "item.import",
        "item",
        id,
        json!({ "op": "update", "line": p.line, "external_id": p.ext, "version": version, "status": status, "index_no": index_no }),
    )
    .await?;
    let topic = if live && p.want == Want::Published { "item.published" } else { "item.changed" };
    crate::public::changed(c, topic, id, json!({ "version": version })).await?;
    Ok(Done::Updated(id))
}

// ---------------------------------------------------------------- attachments

/// An attachment file in the store, checked like an upload (`attachments::admit`).
struct Staged {
    name: String,
    sha256: String,
    size: i64,
    mime: String,
}

/// A path from a line, relative and without `..`, so a line cannot read outside the
/// attachments directory.
fn safe_relative(p: &str) -> Option<PathBuf> {
    use std::path::Component;
    let path = PathBuf::from(p.trim());
    let ok = !p.trim().is_empty() && path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    ok.then_some(path)
}

/// Read, check and store a line's attachment files before its batch's transaction opens
/// (file writes are synced; the transaction should not wait for them). A file that
/// cannot be imported is skipped with a note; the item itself is still imported.
async fn stage_attachments(p: &mut Prepared, opts: &ImportOptions) {
    for a in std::mem::take(&mut p.attachments) {
        let label = if a.name.trim().is_empty() { a.path.trim().to_string() } else { a.name.trim().to_string() };
        let skip = |p: &mut Prepared, why: String| {
            p.files_skipped += 1;
            p.notes.push(format!("附件“{label}”未导入：{why}"));
        };
        let Some(files) = &opts.files else {
            skip(p, "未配置附件存储".into());
            continue;
        };
        let source = match (a.path.trim(), &opts.attachments_dir, a.sha256.trim()) {
            (path, Some(dir), _) if !path.is_empty() => match safe_relative(path) {
                Some(rel) => dir.join(rel),
                None => {
                    skip(p, format!("路径“{path}”应为附件目录下的相对路径，不能含“..”"));
                    continue;
                }
            },
            (_, _, sha) if !sha.is_empty() => match files.path_of(&sha.to_ascii_lowercase()) {
                Some(path) if path.is_file() => path,
                _ if !a.path.trim().is_empty() => {
                    skip(p, "未指定附件目录（--attachments-dir），本系统附件库中也没有该文件".into());
                    continue;
                }
                _ => {
                    skip(p, "本系统附件库中没有该文件（sha256 不匹配）".into());
                    continue;
                }
            },
            (path, None, _) if !path.is_empty() => {
                skip(p, "未指定附件目录（--attachments-dir）".into());
                continue;
            }
            _ => {
                skip(p, "缺少文件路径 path".into());
                continue;
            }
        };
        // The size is checked before the file is read into memory.
        let read = match tokio::fs::metadata(&source).await {
            Ok(m) if m.len() > files.max_bytes() => {
                let limit = crate::attachments::human_size(files.max_bytes());
                skip(p, format!("超过 {limit} 上限"));
                continue;
            }
            Ok(_) => tokio::fs::read(&source).await,
            Err(e) => Err(e),
        };
        let bytes = match read {
            Ok(b) => b,
            Err(e) => {
                skip(p, format!("无法读取 {}（{e}）", source.display()));
                continue;
            }
        };
        let name = if a.name.trim().is_empty() {
            source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        } else {
            a.name.clone()
        };
        let admitted = match crate::attachments::admit(&name, &bytes) {
            Ok(x) => x,
            Err(m) => {
                skip(p, m);
                continue;
            }
        };
        match files.put(bytes).await {
            Ok((sha256, size)) => p.files.push(Staged {
                name: admitted.name,
                sha256,
                size: size as i64,
                mime: admitted.kind.mime().to_string(),
            }),
            Err(e) => skip(p, e.to_string()),
        }
    }
}

/// Link the staged files to the item (once per content: a re-import adds nothing).
/// Returns (newly linked, already there).
async fn link_files(c: &mut Conn<'_>, actor: &Actor, item_id: i64, files: &[Staged]) -> Result<(u64, u64)> {
    let (mut added, mut present) = (0, 0);
    for f in files {
        let now = now_ms();
        let attachment_id: i64 = with_conn!(c, x => {
            sqlx::query("INSERT INTO attachments (sha256, size, mime, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
                .bind(&f.sha256).bind(f.size).bind(&f.mime).bind(now).execute(&mut **x).await?;
            sqlx::query_scalar("SELECT id FROM attachments WHERE sha256 = $1").bind(&f.sha256).fetch_one(&mut **x).await
        })?;
        let linked: i64 = with_conn!(c, x => {
            sqlx::query_scalar("SELECT COUNT(*) FROM item_attachments WHERE item_id = $1 AND attachment_id = $2")
                .bind(item_id).bind(attachment_id).fetch_one(&mut **x).await
        })?;
        if linked > 0 {
            present += 1;
            continue;
        }
        let id: i64 = with_conn!(c, x => {
            sqlx::query_scalar(
                "INSERT INTO item_attachments (item_id, attachment_id, name, sort_order, downloads)
                 VALUES ($1, $2, $3, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM item_attachments WHERE item_id = $1), 0)
                 RETURNING id",
            )
            .bind(item_id).bind(attachment_id).bind(&f.name).fetch_one(&mut **x).await
        })?;
        audit::append(
            c,
            actor,
            "item.attach",
            "item",
            item_id,
            json!({ "attachment": id, "name": f.name, "sha256": f.sha256, "size": f.size, "mime": f.mime, "import": true }),
        )
        .await?;
        crate::public::changed(c, "item.changed", item_id, json!({ "attachment": id, "op": "attach" })).await?;
        added += 1;
    }
    Ok((added, present))
}

// ---------------------------------------------------------------- the run

/// Import JSON Lines from `input`. `total_lines` (when known) is only for the progress
/// display; `progress` is called after every line. Returns the summary; an `Err` means the
/// run itself failed (database unavailable, unreadable input): batches committed before
/// stay, and running the import again is safe.
pub async fn import_items<R: BufRead>(
    db: &Db,
    mut input: R,
    total_lines: Option<u64>,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ImportSummary> {
    let started = Instant::now();
    let refs = load_refs(db).await?;
    let today = today();
    let batch_size = opts.batch_size.max(1);
    let mut sum = ImportSummary::default();
    // (line, item id, external_id, targets): resolved once every line is in.
    let mut replaced: Vec<(u64, i64, String, String)> = Vec::new();
    let mut interprets: Vec<(u64, i64, String, Vec<String>)> = Vec::new();
    let mut line_no: u64 = 0;
    let mut buf: Vec<u8> = Vec::new();
    let mut eof = false;
    while !eof {
        // Read and validate one batch before opening its transaction.
        let mut batch: Vec<Prepared> = Vec::with_capacity(batch_size);
        while batch.len() < batch_size {
            buf.clear();
            let n = input.read_until(b'\n', &mut buf).map_err(|e| Error::Internal(format!("读取导入文件失败：{e}")))?;
            if n == 0 {
                eof = true;
                break;
            }
            line_no += 1;
            let text = match std::str::from_utf8(&buf) {
                Ok(t) => t.trim_start_matches('\u{feff}').trim(),
                Err(_) => {
                    sum.lines += 1;
                    sum.rejected.push(LineError {
                        line: line_no,
                        external_id: String::new(),
                        reasons: vec!["不是有效的 UTF-8 文本（请把文件转为 UTF-8 编码）".into()],
                    });
                    continue;
                }
            };
            if text.is_empty() {
                continue;
            }
            sum.lines += 1;
            let (ext, parsed) = parse_line(text);
            match parsed.and_then(|r| prepare(&refs, line_no, r, today)) {
                Ok(p) => batch.push(p),
                Err(reasons) => sum.rejected.push(LineError { line: line_no, external_id: ext, reasons }),
            }
        }
        if batch.is_empty() {
            progress(&Progress { done: line_no, total: total_lines, elapsed: started.elapsed() });
            continue;
        }
        for p in batch.iter_mut().filter(|p| !p.attachments.is_empty()) {
            stage_attachments(p, opts).await;
        }
        // Optimistic first: the whole batch in one transaction. A line that fails in the
        // database (a duplicate 索引号, …) sends the batch round again with a savepoint per
        // line, so the failure is reported for that line alone.
        let mut done = None;
        for careful in [false, true] {
            done = write_batch(db, &refs, &opts.actor, &mut batch, careful, &mut |line| {
                progress(&Progress { done: line, total: total_lines, elapsed: started.elapsed() })
            })
            .await?;
            if done.is_some() {
                break;
            }
        }
        let Some(BatchDone { outcomes, rejected, replaced: r, interprets: i }) = done else {
            return Err(Error::internal("导入批次未能写入"));
        };
        replaced.extend(r);
        interprets.extend(i);
        for Accepted { line, ext, done, notes, added, present, skipped } in outcomes {
            match done {
                Done::Created(_) => sum.created += 1,
                Done::Updated(_) => sum.updated += 1,
                Done::Unchanged(_) => sum.unchanged += 1,
            }
            sum.attachments_stored += added;
            sum.attachments_present += present;
            sum.attachments_skipped += skipped;
            for note in notes {
                sum.notes.push(LineNote { line, external_id: ext.clone(), note });
            }
        }
        sum.rejected.extend(rejected);
        progress(&Progress { done: line_no, total: total_lines, elapsed: started.elapsed() });
    }
    link_pass(db, &opts.actor, &mut sum, replaced, interprets).await?;
    sum.rejected.sort_by_key(|e| e.line);
    sum.notes.sort_by_key(|n| n.line);
    sum.seconds = started.elapsed().as_secs_f64();
    Ok(sum)
}

/// What a committed batch produced.
struct BatchDone {
    outcomes: Vec<Accepted>,
    rejected: Vec<LineError>,
    replaced: Vec<(u64, i64, String, String)>,
    interprets: Vec<(u64, i64, String, Vec<String>)>,
}

/// Write one batch in one transaction. `careful`: a savepoint per line, so a failing line
/// is rolled back alone and reported; otherwise the first failure abandons the batch
/// (None) for the caller to retry carefully — two statements per line fewer in the
/// common case where every line goes in.
async fn write_batch(
    db: &Db,
    refs: &Refs,
    actor: &Actor,
    batch: &mut [Prepared],
    careful: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<Option<BatchDone>> {
    let mut out =
        BatchDone { outcomes: Vec::new(), rejected: Vec::new(), replaced: Vec::new(), interprets: Vec::new() };
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    for p in batch.iter_mut() {
        if careful {
            savepoint(&mut c, "SAVEPOINT import_line").await?;
        }
        let written = async {
            let done = write_line(&mut c, refs, actor, p).await?;
            let linked = link_files(&mut c, actor, done.id(), &p.files).await?;
            Ok::<_, Error>((done, linked))
        }
        .await;
        match written {
            Ok((done, (added, present))) => {
                if careful {
                    savepoint(&mut c, "RELEASE SAVEPOINT import_line").await?;
                }
                let id = done.id();
                let done = match done {
                    Done::Unchanged(id) if added > 0 => Done::Updated(id),
                    d => d,
                };
                if !p.replaced_by.is_empty() && p.fields.replaced_by_item_id.is_none() {
                    out.replaced.push((p.line, id, p.ext.clone(), p.replaced_by.clone()));
                }
                if !p.interprets.is_empty() {
                    out.interprets.push((p.line, id, p.ext.clone(), p.interprets.clone()));
                }
                let mut notes = p.notes.clone();
                if matches!(done, Done::Created(_) | Done::Updated(_)) && p.want != Want::Draft {
                    let found = privacy_of(&p.fields);
                    if !found.is_empty() {
                        notes.push(format!("{}；已照原样发布，请核查", found.join("、")));
                    }
                }
                let (line, ext, skipped) = (p.line, p.ext.clone(), p.files_skipped);
                out.outcomes.push(Accepted { line, ext, done, notes, added, present, skipped });
            }
            // Dropping the transaction rolls the batch back.
            Err(_) if !careful => return Ok(None),
            Err(e) => {
                savepoint(&mut c, "ROLLBACK TO SAVEPOINT import_line").await?;
                savepoint(&mut c, "RELEASE SAVEPOINT import_line").await?;
                out.rejected.push(LineError { line: p.line, external_id: p.ext.clone(), reasons: error_reasons(&e) });
            }
        }
        progress(p.line);
    }
    tx.commit().await?;
    Ok(Some(out))
}

/// References between lines (替代文件, 解读关联) are resolved after every line is in, so
/// their order in the file does not matter.
async fn link_pass(
    db: &Db,
    actor: &Actor,
    sum: &mut ImportSummary,
    replaced: Vec<(u64, i64, String, String)>,
    interprets: Vec<(u64, i64, String, Vec<String>)>,
) -> Result<()> {
    if replaced.is_empty() && interprets.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    for (line, id, ext, target) in replaced {
        match id_by_external_id(&mut c, &target).await? {
            Some(tid) if tid != id => {
                if set_replaced_by(&mut c, id, tid).await? {
                    audit::append(
                        &mut c,
                        actor,
                        "item.import_link",
                        "item",
                        id,
                        json!({ "replaced_by": tid, "line": line }),
                    )
                    .await?;
                    crate::public::changed(&mut c, "item.changed", id, json!({ "replaced_by": tid })).await?;
                }
            }
            Some(_) => {
                sum.notes.push(LineNote {
                    line, external_id: ext, note: "replaced_by：不能指向自己，已忽略".into()
                })
            }
            None => sum.notes.push(LineNote {
                line,
                external_id: ext,
                note: format!("replaced_by：未找到 external_id 为“{target}”的替代文件，未关联"),
            }),
        }
    }
    for (line, id, ext, targets) in interprets {
        for target in targets {
            match id_by_external_id(&mut c, &target).await? {
                Some(pid) if pid != id => {
                    if insert_link(&mut c, id, pid).await? {
                        audit::append(
                            &mut c,
                            actor,
                            "item.link_interpretation",
                            "item",
                            id,
                            json!({ "policy": pid, "line": line }),
                        )
                        .await?;
                        crate::public::changed(&mut c, "item.changed", pid, json!({ "interpretation": id })).await?;
                    }
                }
                _ => sum.notes.push(LineNote {
                    line,
                    external_id: ext.clone(),
                    note: format!("interprets：未找到 external_id 为“{target}”的被解读文件，未关联"),
                }),
            }
        }
    }
    tx.commit().await
}

fn error_reasons(e: &Error) -> Vec<String> {
    match e {
        Error::Invalid(fe) => fe.0.iter().map(|(f, m)| format!("{}：{m}", line_field(f))).collect(),
        Error::Conflict(m) | Error::Forbidden(m) => vec![m.clone()],
        Error::NotFound => vec!["引用的栏目或机构不存在".into()],
        other => vec![format!("写入失败：{other}")],
    }
}

/// Personal numbers in the text of an item published by import (reported, not blocked:
/// it is history that was public already).
fn privacy_of(f: &ItemFields) -> Vec<String> {
    let body_text = crate::html::to_text(&f.body);
    let fields = [
        ("title", f.title.as_str()),
        ("subtitle", f.subtitle.as_str()),
        ("summary", f.summary.as_str()),
        ("body", &body_text),
    ];
    let found = crate::privacy::scan_all(&crate::privacy::default_checks(), &fields, today());
    let mut kinds: Vec<String> = Vec::new();
    for k in found.iter().map(|f| format!("疑似{}", f.kind.label_zh())) {
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    kinds
}

// ---------------------------------------------------------------- export

const EXPORT_PAGE: i64 = 500;

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn external_id_of(id: i64, ext: &Option<String>) -> String {
    ext.clone().filter(|e| !e.is_empty()).unwrap_or_else(|| format!("{LOCAL_ID_PREFIX}{id}"))
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// Write every item, oldest first, one line each; returns the number written. Items
/// created in gongkai (no external_id) get `gongkai:<id>`. Attachments carry their name,
/// sha256 and their path inside `<data dir>/files` (the files themselves stay there).
pub async fn export_items(db: &Db, out: &mut dyn Write, progress: &mut dyn FnMut(u64)) -> Result<u64> {
    let refs = load_refs(db).await?;
    let mut h = db.read().await?;
    let mut c = h.conn();
    let mut last = 0i64;
    let mut n = 0u64;
    let io = |e: std::io::Error| Error::Internal(format!("写出失败：{e}"));
    loop {
        let items: Vec<Item> = with_conn!(&mut c, x => {
            sqlx::query_as::<_, Item>("SELECT * FROM items WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(last).bind(EXPORT_PAGE).fetch_all(&mut **x).await
        })?;
        let Some(tail) = items.last() else { break };
        last = tail.id;
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        let list = id_list(&ids);
        let links: Vec<(i64, i64)> = with_conn!(&mut c, x => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT interpretation_id, policy_id FROM interpretation_links WHERE interpretation_id IN ({list}) ORDER BY policy_id"
            )))
            .fetch_all(&mut **x).await
        })?;
        let files: Vec<(i64, String, String)> = with_conn!(&mut c, x => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT ia.item_id, ia.name, a.sha256 FROM item_attachments ia JOIN attachments a ON a.id = ia.attachment_id
                 WHERE ia.item_id IN ({list}) ORDER BY ia.item_id, ia.sort_order, ia.id"
            )))
            .fetch_all(&mut **x).await
        })?;
        let mut targets: Vec<i64> =
            links.iter().map(|l| l.1).chain(items.iter().filter_map(|i| i.replaced_by_item_id)).collect();
        targets.sort_unstable();
        targets.dedup();
        let ext_of: HashMap<i64, String> = if targets.is_empty() {
            HashMap::new()
        } else {
            let rows: Vec<(i64, Option<String>)> = with_conn!(&mut c, x => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id, external_id FROM items WHERE id IN ({})", id_list(&targets))))
                    .fetch_all(&mut **x).await
            })?;
            rows.into_iter().map(|(id, e)| (id, external_id_of(id, &e))).collect()
        };
        for i in &items {
            let col = refs.columns.get(&i.home_column_id);
            let rec = Record {
                external_id: external_id_of(i.id, &i.external_id),
                site: col.and_then(|c| refs.site_codes.get(&c.site_id)).cloned().unwrap_or_default(),
                column: col.map(|c| c.slug.clone()).unwrap_or_default(),
                column_id: if col.is_none() { Some(i.home_column_id) } else { None },
                class: i.class_code.clone(),
                title: i.title.clone(),
                subtitle: i.subtitle.clone(),
                body: i.body.clone(),
                summary: i.summary.clone(),
                source: i.source.clone(),
                author: i.author.clone(),
                publisher: i
                    .publisher_org_id
                    .and_then(|o| refs.orgs.get(&o))
                    .map(|o| o.export_key.clone())
                    .unwrap_or_default(),
                subject: opt(&i.subject_code),
                genre: opt(&i.genre),
                doc_no: i.doc_no.clone(),
                written_on: opt(&i.written_on),
                published_on: opt(&i.published_on),
                validity: if i.validity == "valid" { String::new() } else { i.validity.clone() },
                validity_on: opt(&i.validity_on),
                replaced_by: i.replaced_by_item_id.and_then(|t| ext_of.get(&t).cloned()).unwrap_or_default(),
                keywords: i.keywords.split(',').filter(|k| !k.is_empty()).map(str::to_string).collect(),
                disclosure_mode: i.disclosure_mode.clone(),
                not_disclosed_reason: i.not_disclosed_reason.clone(),
                disclosure_scope: i.disclosure_scope.clone(),
                five_open: opt(&i.five_open),
                art20: opt(&i.art20),
                is_rule: i.is_rule,
                is_normative: i.is_normative,
                normative_issued_on: opt(&i.normative_issued_on),
                normative_repealed_on: opt(&i.normative_repealed_on),
                needs_interpretation: i.needs_interpretation,
                interpretation_form: opt(&i.interpretation_form),
                interprets: links.iter().filter(|l| l.0 == i.id).filter_map(|l| ext_of.get(&l.1).cloned()).collect(),
                index_no: opt(&i.index_no),
                status: i.status.clone(),
                withdrawn_reason: i.withdrawn_reason.clone(),
                attachments: files
                    .iter()
                    .filter(|f| f.0 == i.id)
                    .map(|f| AttachmentRef {
                        name: f.1.clone(),
                        path: f.2.get(..2).map(|aa| format!("{aa}/{}", f.2)).unwrap_or_default(),
                        sha256: f.2.clone(),
                    })
                    .collect(),
            };
            let line = serde_json::to_string(&rec).map_err(Error::internal)?;
            out.write_all(line.as_bytes()).map_err(io)?;
            out.write_all(b"\n").map_err(io)?;
            n += 1;
        }
        progress(n);
    }
    out.flush().map_err(io)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_normalised_before_parsing() {
        let (ext, r) = parse_line(
            r#"{"external_id": 42, "title": "t", "summary": null, "is_rule": "是", "is_normative": 0, "keywords": "甲，乙", "column_id": "7"}"#,
        );
        let r = r.unwrap();
        assert_eq!(ext, "42");
        assert_eq!((r.external_id.as_str(), r.is_rule, r.is_normative), ("42", true, false));
        assert_eq!(r.keywords, vec!["甲，乙".to_string()]);
        assert_eq!(r.column_id, Some(7));
        let (_, r) = parse_line(r#"{"external_id": "a", "is_rule": "maybe"}"#);
        assert!(r.unwrap_err()[0].starts_with("is_rule："));
        let (_, r) = parse_line(r#"{"external_id": "a", "title": "#);
        assert!(r.unwrap_err()[0].contains("不是有效的 JSON"));
        let (_, r) = parse_line("[1, 2]");
        assert!(r.unwrap_err()[0].contains("JSON 对象"));
        let (ext, r) = parse_line(r#"{"external_id": "b", "title": {"x": 1}}"#);
        assert_eq!(ext, "b");
        assert!(r.unwrap_err()[0].starts_with("字段类型不正确"));
    }

    #[test]
    fn codes_or_labels() {
        assert_eq!(code_of("通知", &Genre::ALL, Genre::as_str, Genre::label_zh), "notice");
        assert_eq!(code_of("notice", &Genre::ALL, Genre::as_str, Genre::label_zh), "notice");
        assert_eq!(code_of("随便", &Genre::ALL, Genre::as_str, Genre::label_zh), "随便");
    }

    #[test]
    fn export_skips_empty_fields() {
        let r = Record { external_id: "x".into(), title: "t".into(), status: "draft".into(), ..Default::default() };
        let s = serde_json::to_string(&r).unwrap();
        assert!(!s.contains("subtitle") && !s.contains("is_rule") && !s.contains("keywords"), "{s}");
        let back: Record = serde_json::from_str(&s).unwrap();
        assert_eq!(back, r);
    }
}
