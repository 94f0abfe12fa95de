//! Serving, backup and restore.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use gongkai_kernel::config::Config;
use gongkai_kernel::db::{Backend, redact_url};
use gongkai_kernel::{demo, jobs, web};

const PID_FILE: &str = "serve.pid";

pub async fn serve(cfg: Config, with_demo: bool) -> Result<ExitCode, String> {
    let addr = cfg.listen_addr()?;
    let db = gongkai_kernel::open(&cfg).await.map_err(|e| e.to_string())?;
    if with_demo {
        let info = demo::seed(&db).await.map_err(|e| e.to_string())?;
        if info.created {
            tracing::info!("demo district created");
        }
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
        let mut reg = jobs::runner::Registry::default();
        jobs::runner::builtin(&mut reg);
        Some(tokio::spawn(jobs::runner::run(db.clone(), Arc::new(reg), cfg.jobs.clone(), stop_rx)))
    } else {
        None
    };
    let state = web::AppState::new(db.clone(), cfg.clone());
    web::serve(listener, state, shutdown_signal()).await.map_err(|e| e.to_string())?;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    if let Some(r) = runner {
        let _ = r.await;
    }
    db.close().await;
    let _ = std::fs::remove_file(cfg.data_dir.join(PID_FILE));
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
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
        return pg_tool("pg_dump", &["--format=custom", "--no-owner", "--file", &file.to_string_lossy(), &url]);
    }
    let db = gongkai_kernel::open(cfg).await.map_err(|e| e.to_string())?;
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
        return pg_tool(
            "pg_restore",
            &["--clean", "--if-exists", "--no-owner", "--dbname", &url, &file.to_string_lossy()],
        );
    }
    if let Some(pid) = server_running(cfg) {
        return Err(format!("gongkai 正在运行（进程 {pid}），请先停止服务再恢复"));
    }
    gongkai_kernel::db::sqlite_restore(file, &cfg.data_dir.join("gongkai.db")).await.map_err(|e| e.to_string())?;
    println!("已从 {} 恢复。", file.display());
    Ok(ExitCode::SUCCESS)
}

fn pg_tool(tool: &str, args: &[&str]) -> Result<ExitCode, String> {
    match std::process::Command::new(tool).args(args).status() {
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
