//! Which site a request is for: by host name (each site lists its hosts), by the path
//! prefix `/s/<code>/` (development, several sites on one host), or, for `localhost` and
//! IP addresses only, the default site. Other hosts are unknown: 404.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use gongkai_kernel::Result;
use gongkai_kernel::db::Db;
use gongkai_kernel::with_conn;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SiteInfo {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub site_code: String,
    pub org_name: String,
    pub icp: String,
    pub psb: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub kind: String,
    pub org_id: Option<i64>,
    pub theme: String,
    #[serde(skip)]
    pub hosts: String,
    pub status: String,
    pub updated_at: i64,
}

impl SiteInfo {
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }
    fn serves_host(&self, host: &str) -> bool {
        self.hosts.lines().map(|h| h.trim()).any(|h| !h.is_empty() && h.eq_ignore_ascii_case(host))
    }
}

/// The sites of the group, loaded once and reloaded when `site.changed` or `org.changed`
/// arrives on the outbox.
#[derive(Default)]
pub struct Directory {
    sites: RwLock<Option<Arc<Vec<SiteInfo>>>>,
}

impl Directory {
    pub async fn all(&self, db: &Db) -> Result<Arc<Vec<SiteInfo>>> {
        if let Some(s) = self.loaded() {
            return Ok(s);
        }
        let mut h = db.read().await?;
        let mut c = h.conn();
        let rows: Vec<SiteInfo> = with_conn!(&mut c, x => {
            sqlx::query_as::<_, SiteInfo>(
                "SELECT s.id, s.code, s.name, s.site_code, COALESCE(o.name, '') AS org_name, s.icp, s.psb, s.phone, s.email,
                        s.address, s.kind, s.org_id, s.theme, s.hosts, s.status, s.updated_at
                   FROM sites s LEFT JOIN orgs o ON o.id = s.org_id
                  WHERE s.external = FALSE ORDER BY s.id",
            )
            .fetch_all(&mut **x).await
        })?;
        let rows = Arc::new(rows);
        if let Ok(mut g) = self.sites.write() {
            *g = Some(rows.clone());
        }
        Ok(rows)
    }

    /// The sites if loaded (the fast path never waits for the database).
    pub fn loaded(&self) -> Option<Arc<Vec<SiteInfo>>> {
        self.sites.read().ok().and_then(|g| g.clone())
    }

    pub fn forget(&self) {
        if let Ok(mut g) = self.sites.write() {
            *g = None;
        }
    }
}

/// Host header without the port, lower-cased; `[::1]` keeps its brackets off.
pub fn host_name(host: &str) -> String {
    let h = host.trim();
    let h = if let Some(rest) = h.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        h.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map(|(n, _)| n).unwrap_or(h)
    };
    h.to_ascii_lowercase()
}

fn is_local_host(h: &str) -> bool {
    h == "localhost" || h.ends_with(".localhost") || h.parse::<IpAddr>().is_ok()
}

/// The site serving `host`: a site listing it, else (for localhost and IP addresses) the
/// configured default or the first open portal-kind site.
pub fn by_host<'a>(sites: &'a [SiteInfo], host: &str, default_site: &str) -> Option<&'a SiteInfo> {
    let h = host_name(host);
    if let Some(s) = sites.iter().find(|s| s.serves_host(&h)) {
        return Some(s);
    }
    if !is_local_host(&h) {
        return None;
    }
    if !default_site.is_empty() {
        return sites.iter().find(|s| s.code == default_site);
    }
    sites.iter().find(|s| s.kind == "portal" && s.is_open()).or_else(|| sites.iter().find(|s| s.is_open()))
}

pub fn by_code<'a>(sites: &'a [SiteInfo], code: &str) -> Option<&'a SiteInfo> {
    sites.iter().find(|s| s.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(id: i64, code: &str, kind: &str, hosts: &str) -> SiteInfo {
        SiteInfo {
            id,
            code: code.into(),
            name: code.into(),
            site_code: String::new(),
            org_name: String::new(),
            icp: String::new(),
            psb: String::new(),
            phone: String::new(),
            email: String::new(),
            address: String::new(),
            kind: kind.into(),
            org_id: None,
            theme: "default".into(),
            hosts: hosts.into(),
            status: "open".into(),
            updated_at: 0,
        }
    }

    #[test]
    fn hosts_resolve() {
        let sites = vec![
            site(1, "jyj", "department", "jyj.qinghe.gov.cn"),
            site(2, "www", "portal", "www.qinghe.gov.cn\nqinghe.gov.cn"),
        ];
        assert_eq!(by_host(&sites, "www.qinghe.gov.cn", "").map(|s| s.id), Some(2));
        assert_eq!(by_host(&sites, "QINGHE.gov.cn:8080", "").map(|s| s.id), Some(2));
        assert_eq!(by_host(&sites, "jyj.qinghe.gov.cn", "").map(|s| s.id), Some(1));
        assert_eq!(by_host(&sites, "evil.example.com", "").map(|s| s.id), None);
        assert_eq!(by_host(&sites, "127.0.0.1:8080", "").map(|s| s.id), Some(2));
        assert_eq!(by_host(&sites, "[::1]:8080", "").map(|s| s.id), Some(2));
        assert_eq!(by_host(&sites, "localhost:8080", "jyj").map(|s| s.id), Some(1));
        assert_eq!(by_host(&sites, "localhost", "nope").map(|s| s.id), None);
        assert_eq!(host_name("[::1]:80"), "::1");
    }
}
