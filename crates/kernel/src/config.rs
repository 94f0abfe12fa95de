//! Configuration: `gongkai.toml` (every key optional), then environment variables, then
//! command-line flags. Unknown keys and bad values are errors that name the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on; `[::]` serves IPv4 and IPv6.
    pub listen: String,
    pub data_dir: PathBuf,
    /// Empty: the embedded SQLite database in `data_dir`.
    pub database_url: String,
    /// "text" or "json".
    pub log_format: String,
    pub security: Security,
    pub limits: Limits,
    pub jobs: Jobs,
    pub portal: Portal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Portal {
    /// Site (by code) served to hosts no site lists when the host is an IP address or
    /// `localhost`; empty: the first open portal-kind site. Other unknown hosts get 404.
    pub default_site: String,
    /// Per-site theme folders (`<themes_dir>/<theme>/templates`, `/static`); relative
    /// paths are under `data_dir`.
    pub themes_dir: PathBuf,
    /// Re-read theme files on every request (development).
    pub theme_reload: bool,
    /// Memory for rendered public pages, in MiB; 0 turns the page cache off.
    pub cache_mb: u64,
    /// How often this node reads the outbox for changes made elsewhere (other nodes, jobs).
    pub sync_ms: u64,
}

impl Default for Portal {
    fn default() -> Self {
        Portal {
            default_site: String::new(),
            themes_dir: PathBuf::from("themes"),
            theme_reload: false,
            cache_mb: 64,
            sync_ms: 1000,
        }
    }
}

impl Portal {
    /// The theme folder root, resolved against the data directory.
    pub fn themes_root(&self, data_dir: &Path) -> PathBuf {
        if self.themes_dir.is_absolute() { self.themes_dir.clone() } else { data_dir.join(&self.themes_dir) }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Security {
    pub session_idle_minutes: u32,
    pub session_max_hours: u32,
    pub lockout_threshold: u32,
    pub lockout_minutes: u32,
    /// Origins allowed to post cross-origin (e.g. an SSO portal); normally empty.
    pub trusted_origins: Vec<String>,
    /// Always mark cookies Secure (otherwise only when the request arrived over HTTPS
    /// as told by X-Forwarded-Proto).
    pub force_secure_cookies: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub request_body_bytes: u64,
    pub request_timeout_secs: u64,
    /// Public form submissions (disclosure requests, messages, comments) per client
    /// address and hour, per node.
    pub public_submissions_per_hour: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Jobs {
    /// Run the job runner and scheduler on this node.
    pub enabled: bool,
    pub poll_ms: u64,
    pub lease_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "[::]:8080".into(),
            data_dir: PathBuf::from("./gongkai-data"),
            database_url: String::new(),
            log_format: "text".into(),
            security: Security::default(),
            limits: Limits::default(),
            jobs: Jobs::default(),
            portal: Portal::default(),
        }
    }
}

impl Default for Security {
    fn default() -> Self {
        Security {
            session_idle_minutes: 120,
            session_max_hours: 12,
            lockout_threshold: 5,
            lockout_minutes: 15,
            trusted_origins: Vec::new(),
            force_secure_cookies: false,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits { request_body_bytes: 20 * 1024 * 1024, request_timeout_secs: 30, public_submissions_per_hour: 20 }
    }
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs { enabled: true, poll_ms: 1000, lease_secs: 300 }
    }
}

/// Values given on the command line or in the environment (clap fills both).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub log_format: Option<String>,
}

impl Config {
    /// Load the file (explicit path must exist; `./gongkai.toml` is optional), apply
    /// overrides, validate.
    pub fn load(o: &Overrides) -> Result<Config, String> {
        let mut cfg = match &o.config_file {
            Some(p) => Self::from_file(p)?,
            None if Path::new("gongkai.toml").exists() => Self::from_file(Path::new("gongkai.toml"))?,
            None => Config::default(),
        };
        if let Some(v) = &o.listen {
            cfg.listen = v.clone();
        }
        if let Some(v) = &o.data_dir {
            cfg.data_dir = v.clone();
        }
        if let Some(v) = &o.database_url {
            cfg.database_url = v.clone();
        }
        if let Some(v) = &o.log_format {
            cfg.log_format = v.clone();
        }
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn from_file(p: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("无法读取配置文件 {}：{e}", p.display()))?;
        Self::from_toml(&text).map_err(|e| format!("配置文件 {} 有误：{e}", p.display()))
    }

    pub fn from_toml(text: &str) -> Result<Config, String> {
        // toml's message names the unknown key or the bad value and its line.
        toml::from_str::<Config>(text).map_err(|e| e.to_string().trim().to_string())
    }

    pub fn validate(&self) -> Result<(), String> {
        self.listen_addr()?;
        if !["text", "json"].contains(&self.log_format.as_str()) {
            return Err(format!("log_format 的值无效：{}（应为 text 或 json）", self.log_format));
        }
        let url = self.database_url.trim();
        if !url.is_empty() && !["postgres://", "postgresql://", "sqlite:"].iter().any(|p| url.starts_with(p)) {
            return Err(format!(
                "database_url 的值无效：{}（应以 postgres:// 或 sqlite:// 开头）",
                crate::db::redact_url(url)
            ));
        }
        let s = &self.security;
        if s.lockout_threshold == 0 || s.lockout_threshold > 100 {
            return Err("security.lockout_threshold 应在 1 到 100 之间".into());
        }
        if s.session_idle_minutes == 0 || s.session_max_hours == 0 {
            return Err("security.session_idle_minutes 与 security.session_max_hours 必须大于 0".into());
        }
        for o in &s.trusted_origins {
            if !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/') {
                return Err(format!("security.trusted_origins 中的来源无效：{o}（形如 https://example.gov.cn）"));
            }
        }
        if self.limits.public_submissions_per_hour == 0 {
            return Err("limits.public_submissions_per_hour 不能为 0".into());
        }
        if self.limits.request_body_bytes < 1024 {
            return Err("limits.request_body_bytes 不能小于 1024".into());
        }
        if self.limits.request_timeout_secs == 0 {
            return Err("limits.request_timeout_secs 必须大于 0".into());
        }
        if self.portal.sync_ms < 50 {
            return Err("portal.sync_ms 不能小于 50".into());
        }
        if self.jobs.poll_ms < 50 || self.jobs.lease_secs < 5 {
            return Err("jobs.poll_ms 不能小于 50，jobs.lease_secs 不能小于 5".into());
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        self.listen
            .parse::<SocketAddr>()
            .map_err(|_| format!("listen 的值无效：{}（形如 [::]:8080 或 127.0.0.1:8080）", self.listen))
    }

    pub fn database_url(&self) -> String {
        crate::db::resolve_url(Some(&self.database_url), &self.data_dir)
    }

    /// The effective configuration as TOML with secrets redacted.
    pub fn redacted_toml(&self) -> String {
        let mut c = self.clone();
        c.database_url = crate::db::redact_url(&self.database_url());
        toml::to_string_pretty(&c).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let e = Config::from_toml("listne = \"x\"").unwrap_err();
        assert!(e.contains("listne"), "{e}");
        let e = Config::from_toml("[security]\nlockout_minutes = \"ten\"").unwrap_err();
        assert!(e.contains("lockout_minutes") || e.contains("invalid type"), "{e}");
    }

    #[test]
    fn bad_values_rejected() {
        let c = Config { listen: "localhost".into(), ..Config::default() };
        assert!(c.validate().unwrap_err().contains("listen"));
        let c = Config { database_url: "mysql://x".into(), ..Config::default() };
        assert!(c.validate().unwrap_err().contains("database_url"));
        let c = Config { log_format: "xml".into(), ..Config::default() };
        assert!(c.validate().unwrap_err().contains("log_format"));
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn secrets_redacted() {
        let c = Config { database_url: "postgres://gk:s3cret@db.example:5432/gongkai".into(), ..Config::default() };
        let t = c.redacted_toml();
        assert!(!t.contains("s3cret"), "{t}");
        assert!(t.contains("gk:***@db.example"), "{t}");
    }
}
