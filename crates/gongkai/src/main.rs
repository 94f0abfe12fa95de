//! The `gongkai` binary: command-line parsing and wiring. Everything else lives in the
//! library crates; this file only turns arguments into calls.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use gongkai_cms::transfer::ImportOptions;
use gongkai_kernel::audit::{self, Actor};
use gongkai_kernel::auth::{Role, service as auth};
use gongkai_kernel::calendar::service as calendar;
use gongkai_kernel::clock::{fmt_date, parse_date};
use gongkai_kernel::config::{Config, Overrides};
use gongkai_kernel::db::Db;

mod ops;

#[derive(Parser)]
#[command(
    name = "gongkai",
    version,
    about = "gongkai 政务公开平台：网站群、信息公开、互动、12345 热线、依申请公开与年度报告"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone)]
struct Common {
    /// Configuration file (default: ./gongkai.toml if present)
    #[arg(long, global = true, env = "GONGKAI_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory for the embedded database and uploads (default ./gongkai-data)
    #[arg(long, global = true, env = "GONGKAI_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// postgres://user:pass@host/db to use PostgreSQL instead of the embedded SQLite
    #[arg(long, global = true, env = "GONGKAI_DATABASE_URL")]
    database_url: Option<String>,
    /// Listen address, e.g. [::]:8080 (IPv4 and IPv6) or 127.0.0.1:8080
    #[arg(long, global = true, env = "GONGKAI_LISTEN")]
    listen: Option<String>,
    /// Log format: text or json
    #[arg(long, global = true, env = "GONGKAI_LOG_FORMAT")]
    log_format: Option<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start the web server (migrates the database first)
    Serve,
    /// Fill an empty database with a demo district, print the log-ins, and serve
    Demo,
    /// Apply database migrations and exit
    Migrate,
    /// Manage users
    #[command(subcommand)]
    User(UserCmd),
    /// Write a consistent backup (SQLite: online snapshot; PostgreSQL: pg_dump)
    Backup { file: PathBuf },
    /// Restore a backup (stop the server first)
    Restore { file: PathBuf },
    /// Audit log tools
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Working-day calendar
    #[command(subcommand)]
    Calendar(CalendarCmd),
    /// Configuration tools
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Import content (migration from an old CMS)
    #[command(subcommand)]
    Import(ImportCmd),
    /// Export content
    #[command(subcommand)]
    Export(ExportCmd),
    /// 从数据库重建全文检索索引（进度显示在标准错误；重建期间正在运行的服务照常用旧索引检索，完成后自动切换）
    Reindex,
    /// Run one background job now, in this process, and report how long it took (e.g. after a
    /// bulk import: `gongkai job run hl.rollup`)
    #[command(subcommand)]
    Job(JobCmd),
    /// 将一个网站整站导出为静态文件（供区县用自有 nginx 或 CDN 发布）
    #[command(
        long_about = "将一个网站整站导出为静态文件（供区县用自有 nginx 或 CDN 发布）：首页、栏目各页、全部已发布信息及其纯文本页、\
            专题、政府信息公开专栏（指南、制度、年报、依申请公开、标准化规范化、法定主动公开内容目录各页）、RSS/Atom 订阅源、\
            sitemap.xml、robots.txt、主题文件和已发布信息的附件。页面间的链接为相对地址。\n\n\
            先写入目录旁的临时目录，完成后整体替换目标目录：中途失败不影响此前的导出，已撤下的信息不会残留。\
            目标目录须不存在、为空，或是此前导出的目录（含 .gongkai-export 文件）。\n\n\
            法定主动公开内容的分类筛选、站内搜索和关怀模式切换需要服务器，静态导出中没有。",
        after_help = "示例：gongkai export-static www /srv/www/qinghe --base-url https://www.qinghe.gov.cn"
    )]
    ExportStatic {
        /// 网站代码，如 www
        site: String,
        /// 输出目录
        dir: PathBuf,
        /// 网站的对外地址，用于订阅源、站点地图和规范链接中的绝对地址（默认：https:// 加网站登记的第一个域名）
        #[arg(long)]
        base_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum JobCmd {
    /// Run the job of this kind once (see the console's 任务 page for the kinds)
    Run { kind: String },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Import items from a JSON Lines file (one JSON object a line), e.g. from the old CMS
    #[command(
        long_about = "Import items from a JSON Lines file (one JSON object a line), e.g. exported from the district's old CMS.\n\n\
            Each line: external_id (required; importing the same external_id again updates the item as a new version, an \
            unchanged line is skipped), site + column (column code) or column_id, class, title, subtitle, body (HTML, \
            sanitised), summary, source, author, publisher (organisation name or 统一社会信用代码), subject, genre, doc_no, \
            written_on, published_on (YYYY-MM-DD), validity, validity_on, replaced_by (external_id), keywords (array or \
            string), disclosure_mode, five_open, art20, is_rule, is_normative, needs_interpretation, interpretation_form, \
            interprets (external_ids), index_no (an old 索引号 is kept), status (published: goes live without review as \
            migrated history; draft; withdrawn) and attachments ([{name, path}], path relative to --attachments-dir). \
            Codes or Chinese labels are accepted for enumerations. `gongkai export items` writes the same format.\n\n\
            Lines are written in batches (one transaction each); a bad line is reported with its line number and reasons \
            and never stops the run. Progress (lines done / total, lines per second) goes to standard error, the summary \
            to standard output.",
        after_help = "Exit status: 0 every line was imported (or skipped as unchanged); 1 some lines were rejected (listed in \
            the summary with line numbers: fix them and run the same file again, imported lines are skipped); 2 the \
            import could not run (unreadable file, database unavailable)."
    )]
    Items {
        /// The JSON Lines file
        file: PathBuf,
        /// Directory that the attachments' paths are relative to (for a gongkai export: the old data dir's files/)
        #[arg(long)]
        attachments_dir: Option<PathBuf>,
        /// Lines per transaction
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        batch_size: u64,
    },
}

#[derive(Subcommand)]
enum ExportCmd {
    /// Export every item as JSON Lines (the format `gongkai import items` reads)
    Items {
        /// Write to this file instead of standard output (must not exist yet)
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create a user (the password must be changed at first log-in unless --no-force-change)
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// Organisation id
        #[arg(long)]
        org: Option<i64>,
        /// Role to grant district-wide (repeatable): sysadmin, secadmin, auditadmin, editor, reviewer, handler, agent, supervisor, leader
        #[arg(long)]
        role: Vec<String>,
        /// Password (or set GONGKAI_PASSWORD; otherwise read from standard input)
        #[arg(long, env = "GONGKAI_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long)]
        no_force_change: bool,
    },
    /// Set a user's password
    Passwd {
        username: String,
        #[arg(long, env = "GONGKAI_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Make the user choose a new password at next log-in
        #[arg(long)]
        temporary: bool,
    },
    /// Disable a user and end their sessions
    Disable { username: String },
    /// Re-enable a user
    Enable { username: String },
    /// List users
    List,
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the hash chain; exit 0 if intact, 1 naming the first bad row
    Verify,
}

#[derive(Subcommand)]
enum CalendarCmd {
    /// One line per date: YYYY-MM-DD KIND
    Days {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// Print the due date N working days after a date (counting from the next day)
    Add {
        #[arg(long)]
        from: String,
        #[arg(long)]
        working_days: u32,
        /// Also print how the date was derived
        #[arg(long)]
        explain: bool,
    },
    /// Import a State Council holiday notice in holiday-cn JSON form
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print the effective configuration with secrets redacted
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let o = Overrides {
        config_file: cli.common.config.clone(),
        listen: cli.common.listen.clone(),
        data_dir: cli.common.data_dir.clone(),
        database_url: cli.common.database_url.clone(),
        log_format: cli.common.log_format.clone(),
    };
    let cfg = match Config::load(&o) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("配置错误：{e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&cfg);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.cmd, cfg)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误：{e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("GONGKAI_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if cfg.log_format == "json" {
        b.json().init();
    } else {
        b.init();
    }
}

fn read_password(given: Option<String>) -> Result<String, String> {
    if let Some(p) = given {
        return Ok(p);
    }
    eprint!("密码：");
    let mut s = String::new();
    std::io::stdin().read_line(&mut s).map_err(|e| format!("无法读取密码：{e}"))?;
    Ok(s.trim_end_matches(['\r', '\n']).to_string())
}

async fn run(cmd: Cmd, cfg: Config) -> Result<ExitCode, String> {
    let err = |e: gongkai_kernel::Error| e.to_string();
    match cmd {
        Cmd::Serve => ops::serve(cfg, false).await,
        Cmd::Demo => ops::serve(cfg, true).await,
        Cmd::Migrate => {
            let db = ops::open(&cfg).await.map_err(err)?;
            println!("数据库已是最新结构（{}）。", gongkai_kernel::db::redact_url(&cfg.database_url()));
            db.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Config(ConfigCmd::Check) => {
            print!("{}", cfg.redacted_toml());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Backup { file } => ops::backup(&cfg, &file).await,
        Cmd::Restore { file } => ops::restore(&cfg, &file).await,
        Cmd::Audit(AuditCmd::Verify) => {
            let db = ops::open(&cfg).await.map_err(err)?;
            let v = audit::verify(&db).await.map_err(err)?;
            db.close().await;
            match v {
                audit::Verdict::Intact { rows, head } => {
                    println!("审计日志完整：共 {rows} 条，链尾哈希 {head}");
                    Ok(ExitCode::SUCCESS)
                }
                audit::Verdict::Broken { seq, reason } => {
                    println!("审计日志校验失败：第 {seq} 条：{reason}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Cmd::Calendar(c) => {
            let db = ops::open(&cfg).await.map_err(err)?;
            let out = calendar_cmd(&db, c).await;
            db.close().await;
            out
        }
        Cmd::User(u) => {
            let db = ops::open(&cfg).await.map_err(err)?;
            let out = user_cmd(&db, u).await;
            db.close().await;
            out
        }
        Cmd::Import(ImportCmd::Items { file, attachments_dir, batch_size }) => {
            import_items(&cfg, &file, attachments_dir, batch_size as usize).await
        }
        Cmd::Reindex => ops::reindex(&cfg).await,
        Cmd::Job(JobCmd::Run { kind }) => {
            let db = ops::open(&cfg).await.map_err(err)?;
            let started = std::time::Instant::now();
            let out = ops::registry().run_now(&db, &kind).await;
            let took = started.elapsed();
            db.close().await;
            match out {
                Ok(()) => {
                    println!("任务 {kind} 已完成，用时 {:.3} 秒", took.as_secs_f64());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Err(format!("任务 {kind} 失败：{e}")),
            }
        }
        Cmd::ExportStatic { site, dir, base_url } => ops::export_static(&cfg, &site, &dir, base_url.as_deref()).await,
        Cmd::Export(ExportCmd::Items { output }) => {
            let db = ops::open(&cfg).await.map_err(err)?;
            let out = export_items(&db, output.as_deref()).await;
            db.close().await;
            out
        }
    }
}

/// Lines in a file (a last line without a newline counts), for the progress display.
fn count_lines(file: &std::path::Path) -> std::io::Result<u64> {
    use std::io::Read;
    let mut f = std::fs::File::open(file)?;
    let mut buf = vec![0u8; 1 << 16];
    let (mut n, mut last) = (0u64, b'\n');
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        n += buf[..k].iter().filter(|b| **b == b'\n').count() as u64;
        last = buf[k - 1];
    }
    Ok(if last == b'\n' { n } else { n + 1 })
}

/// A progress line on standard error: rewritten in place on a terminal, a plain line every
/// few seconds otherwise (logs, CI).
struct ProgressLine {
    tty: bool,
    last: Option<std::time::Instant>,
    shown: bool,
}

impl ProgressLine {
    fn new() -> Self {
        use std::io::IsTerminal;
        ProgressLine { tty: std::io::stderr().is_terminal(), last: None, shown: false }
    }
    fn show(&mut self, p: &gongkai_cms::transfer::Progress) {
        let every = if self.tty { 100 } else { 5000 };
        // Nothing for an import that finishes in a blink, then one update per period.
        if p.elapsed.as_millis() < every || self.last.is_some_and(|t| t.elapsed().as_millis() < every) {
            return;
        }
        self.last = Some(std::time::Instant::now());
        let of = match p.total {
            Some(t) if t > 0 => format!("{}/{t} 行（{:.0}%）", p.done, p.done as f64 * 100.0 / t as f64),
            _ => format!("{} 行", p.done),
        };
        let line = format!("导入中：{of}，{:.0} 行/秒", p.per_second());
        if self.tty {
            eprint!("\r{line}    ");
        } else {
            eprintln!("{line}");
        }
        self.shown = true;
    }
    fn finish(&self) {
        if self.tty && self.shown {
            eprintln!();
        }
    }
}

async fn import_items(
    cfg: &Config,
    file: &std::path::Path,
    attachments_dir: Option<PathBuf>,
    batch_size: usize,
) -> Result<ExitCode, String> {
    // Exit status 2 for a run that could not happen, 1 is "some lines rejected".
    let fail = |msg: String| {
        eprintln!("错误：{msg}");
        Ok(ExitCode::from(2))
    };
    let total = match count_lines(file) {
        Ok(n) => n,
        Err(e) => return fail(format!("无法读取 {}：{e}", file.display())),
    };
    if let Some(d) = &attachments_dir
        && !d.is_dir()
    {
        return fail(format!("附件目录 {} 不存在", d.display()));
    }
    let reader = match std::fs::File::open(file) {
        Ok(f) => std::io::BufReader::with_capacity(1 << 20, f),
        Err(e) => return fail(format!("无法读取 {}：{e}", file.display())),
    };
    let db = match ops::open(cfg).await {
        Ok(db) => db,
        Err(e) => return fail(e.to_string()),
    };
    // The console's upload limit holds for imported files too.
    let limit = cfg.limits.request_body_bytes.min(gongkai_cms::attachments::DEFAULT_MAX_BYTES);
    let files = gongkai_cms::attachments::FileStore::new(&cfg.data_dir).with_max_bytes(limit);
    let opts = ImportOptions { attachments_dir, batch_size, files: Some(files), ..ImportOptions::new(Actor::cli()) };
    let mut bar = ProgressLine::new();
    let out = gongkai_cms::transfer::import_items(&db, reader, Some(total), &opts, &mut |p| bar.show(p)).await;
    bar.finish();
    db.close().await;
    match out {
        Ok(sum) => {
            print!("{}", sum.to_zh());
            Ok(if sum.all_accepted() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Err(e) => fail(format!("{e}。已提交的批次保留；问题解决后重新导入同一文件即可（已导入的行会被跳过）")),
    }
}

async fn export_items(db: &Db, output: Option<&std::path::Path>) -> Result<ExitCode, String> {
    use std::io::Write;
    let e = |e: gongkai_kernel::Error| e.to_string();
    match output {
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            let n = gongkai_cms::transfer::export_items(db, &mut w, &mut |_| {}).await.map_err(e)?;
            w.flush().map_err(|e| format!("写出失败：{e}"))?;
            eprintln!("已导出 {n} 条信息。");
        }
        Some(path) => {
            if path.exists() {
                return Err(format!("{} 已存在，请换一个文件名", path.display()));
            }
            // Written aside and renamed at the end: a failed export leaves no half file.
            let part = path.with_extension("part");
            let f = std::fs::File::create(&part).map_err(|e| format!("无法创建 {}：{e}", part.display()))?;
            let mut w = std::io::BufWriter::new(f);
            let res = gongkai_cms::transfer::export_items(db, &mut w, &mut |_| {}).await;
            let res = res.map_err(e).and_then(|n| {
                w.flush().map_err(|e| format!("写出失败：{e}"))?;
                drop(w);
                std::fs::rename(&part, path).map_err(|e| format!("无法写入 {}：{e}", path.display()))?;
                Ok(n)
            });
            match res {
                Ok(n) => eprintln!("已导出 {n} 条信息到 {}。", path.display()),
                Err(msg) => {
                    let _ = std::fs::remove_file(&part);
                    return Err(msg);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn calendar_cmd(db: &Db, c: CalendarCmd) -> Result<ExitCode, String> {
    let date = |s: &str, what: &str| parse_date(s).ok_or_else(|| format!("{what} 日期无效：{s}（格式 YYYY-MM-DD）"));
    match c {
        CalendarCmd::Days { from, to } => {
            let (from, to) = (date(&from, "--from")?, date(&to, "--to")?);
            if to < from {
                return Err("--to 不能早于 --from".into());
            }
            if (to - from).whole_days() > 366 * 50 {
                return Err("日期范围过大（最多 50 年）".into());
            }
            let cal = calendar::load(db).await.map_err(|e| e.to_string())?;
            let mut out = String::new();
            let mut d = from;
            loop {
                out.push_str(&format!("{} {}\n", fmt_date(d), cal.kind(d).as_str()));
                match d.next_day() {
                    Some(n) if n <= to => d = n,
                    _ => break,
                }
            }
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        CalendarCmd::Add { from, working_days, explain } => {
            let from = date(&from, "--from")?;
            if working_days > 3660 {
                return Err("--working-days 过大".into());
            }
            let cal = calendar::load(db).await.map_err(|e| e.to_string())?;
            let ex = cal.explain_add_working_days(from, working_days);
            println!("{}", fmt_date(ex.due));
            if explain {
                println!("{}", ex.to_zh());
            }
            Ok(ExitCode::SUCCESS)
        }
        CalendarCmd::Import { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("无法读取 {}：{e}", file.display()))?;
            let (year, n) =
                calendar::import_notice(db, &Actor::cli(), &text, "cli").await.map_err(|e| e.to_string())?;
            println!("已导入 {year} 年放假通知：{n} 天。");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn user_cmd(db: &Db, u: UserCmd) -> Result<ExitCode, String> {
    let actor = Actor::cli();
    let e = |e: gongkai_kernel::Error| e.to_string();
    match u {
        UserCmd::Add { username, name, org, role, password, no_force_change } => {
            let roles: Vec<Role> = role
                .iter()
                .map(|r| Role::parse(r).ok_or_else(|| format!("未知角色：{r}")))
                .collect::<Result<_, _>>()?;
            let password = read_password(password)?;
            let input = auth::UserInput {
                username,
                display_name: name,
                org_id: org.map(|o| o.to_string()).unwrap_or_default(),
                password,
                version: String::new(),
            };
            let user = auth::create_user(db, None, &actor, &input, !no_force_change).await.map_err(e)?;
            for r in roles {
                auth::grant(db, None, &actor, user.id, r, None, None).await.map_err(e)?;
            }
            println!("已创建用户 {}（编号 {}）。", user.username, user.id);
            Ok(ExitCode::SUCCESS)
        }
        UserCmd::Passwd { username, password, temporary } => {
            let password = read_password(password)?;
            auth::set_password_as(db, &actor, &username, &password, temporary).await.map_err(e)?;
            println!("已设置 {username} 的密码。");
            Ok(ExitCode::SUCCESS)
        }
        UserCmd::Disable { username } => set_disabled(db, &actor, &username, true).await,
        UserCmd::Enable { username } => set_disabled(db, &actor, &username, false).await,
        UserCmd::List => {
            let mut h = db.read().await.map_err(e)?;
            let rows = gongkai_kernel::auth::store::list_users(&mut h.conn(), None, "", 100_000).await.map_err(e)?;
            for r in rows {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    r.id,
                    r.username,
                    r.display_name,
                    r.roles.unwrap_or_default(),
                    if r.disabled { "disabled" } else { "active" }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn set_disabled(db: &Db, actor: &Actor, username: &str, disabled: bool) -> Result<ExitCode, String> {
    let user = {
        let mut h = db.read().await.map_err(|e| e.to_string())?;
        gongkai_kernel::auth::store::user_by_username(&mut h.conn(), username).await.map_err(|e| e.to_string())?
    }
    .ok_or_else(|| format!("用户 {username} 不存在"))?;
    auth::set_disabled_as(db, actor, user.id, disabled).await.map_err(|e| e.to_string())?;
    println!("已{} {username}。", if disabled { "停用" } else { "启用" });
    Ok(ExitCode::SUCCESS)
}
