//! SQL for the site registry.

use super::Site;
use crate::db::Conn;
use crate::error::Result;
use crate::with_conn;

pub struct NewSite<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub site_code: &'a str,
    pub hosts: &'a str,
    pub kind: &'a str,
    pub org_id: Option<i64>,
    pub icp: &'a str,
    pub psb: &'a str,
    pub phone: &'a str,
    pub opened_on: Option<&'a str>,
    pub external: bool,
}

pub async fn insert(c: &mut Conn<'_>, s: &NewSite<'_>) -> Result<i64> {
    let now = crate::clock::now_ms();
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO sites (code, name, site_code, hosts, kind, org_id, icp, psb, phone, opened_on, external, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(s.code).bind(s.name).bind(s.site_code).bind(s.hosts).bind(s.kind).bind(s.org_id)
        .bind(s.icp).bind(s.psb).bind(s.phone).bind(s.opened_on).bind(s.external).bind(now)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn all(c: &mut Conn<'_>) -> Result<Vec<Site>> {
    Ok(
        with_conn!(c, x => sqlx::query_as::<_, Site>("SELECT * FROM sites ORDER BY external, id").fetch_all(&mut **x).await)?,
    )
}

pub async fn get(c: &mut Conn<'_>, id: i64) -> Result<Option<Site>> {
    Ok(
        with_conn!(c, x => sqlx::query_as::<_, Site>("SELECT * FROM sites WHERE id = $1").bind(id).fetch_optional(&mut **x).await)?,
    )
}

/// The site with this code (codes are unique).
pub async fn by_code(c: &mut Conn<'_>, code: &str) -> Result<Option<Site>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, Site>("SELECT * FROM sites WHERE code = $1").bind(code).fetch_optional(&mut **x).await
    })?)
}
