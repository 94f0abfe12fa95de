//! Serving, backup and restore.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use gongkai_kernel::config::Config;
use gongkai_kernel::db::{Backend, redact_url};
use gongkai_kernel::{demo, jobs, web};

const PID_FILE: &str = "serve.pid";

/// Open the database with every slice's start-up work done (migrations, seeds, schedules).
pub async fn open(cfg: &Config) -> gongkai_kernel::Result<gongkai_kernel::db::Db> {
    let db = gongkai_kernel::open(cfg).await?;
    gongkai_cms::init(&db).await?;
    gongkai_foi::init(&db).await?;
    gongkai_interact::init(&db).await?;
    gongkai_hotline::init(&db).await?;
    Ok(db)
}

pub async fn serve(cfg: Config, with_demo: bool) -> Result<ExitCode, String> {
    let addr = cfg.listen_addr()?;
    let db = open(&cfg).await.map_err(|e| e.to_string())?;
    if with_demo {
        let info = demo::seed(&db).await.map_err(|e| e.to_string())?;
        if info.created {
            tracing::info!("demo district created");
        }
        if gongkai_cms::demo::seed(&db).await.map_err(|e| e.to_string())? {
            tracing::info!("demo content created");
        }
        if gongkai_foi::demo::seed(&db, gongkai_kernel::clock::today()).await.map_err(|e| e.to_string())? {
            tracing::info!("demo disclosure requests created");
        }
        if gongkai_interact::demo(&db, gongkai_kernel::clock::today()).await.map_err(|e| e.to_string())? {
            tracing::info!("demo messages, surveys and interviews created");
        }
        if gongkai_hotline::demo(&db, gongkai_kernel::clock::today()).await.map_err(|e| e.to_string())? {
            tracing::info!("demo hotline orders created");
        }
        let files = gongkai_cms::attachments::FileStore::new(&cfg.data_dir);
        gongkai_cms::demo::attach_files(&db, &files).await.map_err(|e| e.to_string())?;
    }
    let listener = match web::bind(addr) {
        Ok(l) => l,
        Err(e) if addr.is_ipv6() && addr.ip().is_unspecified() => {
            // A host without IPv6: fall back to IPv4 on the same port rather than not start.
            tracing::warn!(error = %e, "IPv6 unavailable; listening on IPv4 only");
            web::bind(std::net::SocketAddr::from(([0, 0, 0, 0], addr.port())))
                .map_err(|e| format!("无法监听 {addr}：{e}"))?
        }
        Err(e) => return Err(format!("无法监听 {addr}：{e}")),
    };
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    if db.backend() == Backend::Sqlite {
        let _ = std::fs::write(cfg.data_dir.join(PID_FILE), std::process::id().to_string());
    }
    let shutdown = shutdown_signal();
    let port = local.port();
    println!("gongkai 已启动：http://localhost:{port}/ （监听 {local}，数据库 {}）", redact_url(&cfg.database_url()));
    if with_demo {
        println!("管理后台：http://localhost:{port}/console");
        println!("演示账号（密码均为 {}）：", demo::DEMO_PASSWORD);
        for (u, name, role, _) in demo::DEMO_USERS {
            println!("  {u:<11} {name}（{}）", role.label_zh());
        }
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let runner = if cfg.jobs.enabled {
        Some(tokio::spawn(jobs::runner::run(db.clone(), Arc::new(registry()), cfg.jobs.clone(), stop_rx)))
    } else {
        None
    };
    let state = app_state(db.clone(), cfg.clone());
    web::serve(listener, state, shutdown).await.map_err(|e| e.to_string())?;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    if let Some(r) = runner {
        let _ = r.await;
    }
    db.close().await;
    let _ = std::fs::remove_file(cfg.data_dir.join(PID_FILE));
    Ok(ExitCode::SUCCESS)
}

/// Every slice's background jobs.
pub fn registry() -> jobs::runner::Registry {
    let mut reg = jobs::runner::Registry::default();
    jobs::runner::builtin(&mut reg);
    gongkai_cms::register_jobs(&mut reg);
    gongkai_foi::register_jobs(&mut reg);
    gongkai_interact::register_jobs(&mut reg);
    gongkai_hotline::register_jobs(&mut reg);
    reg
}

/// Every slice wired into one application state (also used by the tests).
pub fn app_state(db: gongkai_kernel::db::Db, cfg: gongkai_kernel::config::Config) -> web::AppState {
    let mut slices = vec![
        gongkai_cms::web::slice(),
        gongkai_cms::web_library::slice(),
        gongkai_search::slice(),
        gongkai_foi::slice(),
    ];
    slices.extend(gongkai_interact::slices());
    slices.extend(gongkai_hotline::slices());
    slices.push(gongkai_portal::slice());
    let state = web::AppState::with_slices(db, cfg, slices);
    let state = gongkai_hotline::attach(gongkai_interact::attach(gongkai_foi::public::attach(state)));
    gongkai_portal::attach(gongkai_search::attach(state))
}

/// Signal handlers are installed here, before the start-up lines are printed, so a
/// SIGTERM that follows them always shuts down cleanly rather than killing the process.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async move {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    }
}

/// `gongkai reindex`: a new index generation from the database, progress on standard error.
pub async fn reindex(cfg: &Config) -> Result<ExitCode, String> {
    use std::io::IsTerminal;
    let db = open(cfg).await.map_err(|e| e.to_string())?;
    let tty = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let last = std::sync::Mutex::new(std::time::Instant::now());
    let n = gongkai_search::reindex(&db, &cfg.data_dir, &|done, total| {
        let every = if tty { 200 } else { 5000 };
        let mut l = last.lock().unwrap_or_else(|p| p.into_inner());
        if l.elapsed().as_millis() >= every || (done == total && done > 0) {
            *l = std::time::Instant::now();
            let pct = if total > 0 { done as f64 * 100.0 / total as f64 } else { 100.0 };
            let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
            if tty {
                eprint!("\r重建索引：{done}/{total}（{pct:.0}%），{rate:.0} 条/秒    ");
            } else {
                eprintln!("重建索引：{done}/{total}（{pct:.0}%），{rate:.0} 条/秒");
            }
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    if tty {
        eprintln!();
    }
    db.close().await;
    println!("索引已重建：{n} 条信息，用时 {:.1} 秒。", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// `gongkai export-static`: the site as static files, progress on standard error.
pub async fn export_static(cfg: &Config, site: &str, dir: &Path, base_url: Option<&str>) -> Result<ExitCode, String> {
    use std::io::IsTerminal;
    let db = open(cfg).await.map_err(|e| e.to_string())?;
    let base_url = match base_url {
        Some(u) => u.to_string(),
        None => {
            let sites = gongkai_portal::site::Directory::default().all(&db).await.map_err(|e| e.to_string())?;
            let found = gongkai_portal::site::by_code(&sites, site);
            match found.and_then(gongkai_portal::export::default_base_url) {
                Some(u) => u,
                None if found.is_none() => return Err(format!("网站“{site}”不存在（请填写网站代码，如 www）")),
                None => return Err(format!("网站“{site}”没有登记域名，请用 --base-url 指定对外地址")),
            }
        }
    };
    let tty = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let mut last = std::time::Instant::now();
    let out = gongkai_portal::export::export_site(&db, cfg, site, dir, &base_url, |done, total| {
        // A terminal gets a line rewritten in place; logs a line every few seconds.
        let every = if tty { 200 } else { 5000 };
        let due = last.elapsed().as_millis() >= every && started.elapsed().as_millis() >= every;
        if due || (done == total && done > 0) {
            last = std::time::Instant::now();
            let pct = if total > 0 { done as f64 * 100.0 / total as f64 } else { 100.0 };
            if tty {
                eprint!("\r导出中：{done}/{total}（{pct:.0}%）    ");
            } else {
                eprintln!("导出中：{done}/{total}（{pct:.0}%）");
            }
        }
    })
    .await;
    if tty {
        eprintln!();
    }
    db.close().await;
    let report = out.map_err(|e| e.to_string())?;
    print!("{}", report.to_zh());
    Ok(ExitCode::SUCCESS)
}

fn server_running(cfg: &Config) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(cfg.data_dir.join(PID_FILE)).ok()?.trim().parse().ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

pub async fn backup(cfg: &Config, file: &Path) -> Result<ExitCode, String> {
    if file.exists() {
        return Err(format!("{} 已存在，请换一个文件名", file.display()));
    }
    let url = cfg.database_url();
    if url.starts_with("postgres") {
        return pg_tool("pg_dump", &["--format=custom", "--no-owner", "--file", &file.to_string_lossy()], &url, None);
    }
    let db = open(cfg).await.map_err(|e| e.to_string())?;
    // VACUUM INTO writes a consistent snapshot while the server keeps running.
    gongkai_kernel::db::sqlite_snapshot(&db, file).await.map_err(|e| e.to_string())?;
    db.close().await;
    println!("已备份到 {}", file.display());
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(cfg: &Config, file: &Path) -> Result<ExitCode, String> {
    if !file.exists() {
        return Err(format!("备份文件 {} 不存在", file.display()));
    }
    let url = cfg.database_url();
    if url.starts_with("postgres") {
        return pg_tool("pg_restore", &["--clean", "--if-exists", "--no-owner"], &url, Some(&file.to_string_lossy()));
    }
    if let Some(pid) = server_running(cfg) {
        return Err(format!(
            "gongkai 正在运行（进程 {pid}），请先停止服务再恢复。如确认服务已停止，请删除 {} 后重试",
            cfg.data_dir.join(PID_FILE).display()
        ));
    }
    let target =
        gongkai_kernel::db::sqlite_path(&url).ok_or_else(|| format!("无法识别数据库地址：{}", redact_url(&url)))?;
    gongkai_kernel::db::sqlite_restore(file, &target).await.map_err(|e| e.to_string())?;
    println!("已从 {} 恢复。", file.display());
    Ok(ExitCode::SUCCESS)
}

/// Run pg_dump / pg_restore. The password travels in PGPASSWORD, not on the command line
/// where `ps` would show it.
fn pg_tool(tool: &str, args: &[&str], url: &str, last: Option<&str>) -> Result<ExitCode, String> {
    let (url, password) = split_password(url);
    let mut cmd = std::process::Command::new(tool);
    cmd.args(args).arg("--dbname").arg(&url);
    if let Some(l) = last {
        cmd.arg(l);
    }
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    match cmd.status() {
        Ok(s) if s.success() => {
            println!("{tool} 完成。");
            Ok(ExitCode::SUCCESS)
        }
        Ok(s) => Err(format!("{tool} 失败（{s}）")),
        Err(e) => Err(format!(
            "找不到 {tool}（{e}）。请安装 PostgreSQL 客户端（Debian：apt-get install postgresql-client），或手动执行：pg_dump --format=custom 数据库地址 > 备份文件；恢复用 pg_restore --clean --if-exists --dbname 数据库地址 备份文件"
        )),
    }
}

/// `postgres://user:pass@host/db` → (`postgres://user@host/db`, Some("pass")), the password
/// percent-decoded as libpq would.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_string(), None) };
    let Some((creds, host)) = rest.rsplit_once('@') else { return (url.to_string(), None) };
    let Some((user, pass)) = creds.split_once(':') else { return (url.to_string(), None) };
    let mut bytes = Vec::new();
    let b = pass.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            bytes.push(v);
            i += 3;
        } else {
            bytes.push(b[i]);
            i += 1;
        }
    }
    (format!("{scheme}://{user}@{host}"), Some(String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn password_leaves_the_url() {
        let (u, p) = super::split_password("postgres://gk:s%40cret@db:5432/gongkai");
        assert_eq!(u, "postgres://gk@db:5432/gongkai");
        assert_eq!(p.as_deref(), Some("s@cret"));
        assert_eq!(super::split_password("postgres://gk@db/x"), ("postgres://gk@db/x".to_string(), None));
    }
}
