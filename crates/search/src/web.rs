//! Console pages: the staff search (published items from the index, plus drafts the user
//! may see from the database) and the dictionary (words, synonym groups, index status and
//! rebuild). The public search page and the JSON API are served by the portal.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use serde::Deserialize;
use serde_json::{Value, json};

use gongkai_kernel::auth::{OrgScope, Perm};
use gongkai_kernel::error::Error;
use gongkai_kernel::web::ctx::{form_error, render_with, see_other};
use gongkai_kernel::web::{AppState, Auth, ClientIp, CsrfForm, NavItem, Slice, WebResult};

use crate::Search;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

fn template_source(name: &str) -> Option<String> {
    Templates::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

gongkai_kernel::console_routes! { SEARCH_ROUTES, search_router;
    get  "/console/search" ContentView => console_search;
    get  "/console/search/dictionary" SettingsManage => dictionary;
    post "/console/search/dictionary" SettingsManage => dictionary_add;
    post "/console/search/dictionary/remove" SettingsManage => dictionary_remove;
    post "/console/search/rebuild" SettingsManage => rebuild;
}

const NAV: &[NavItem] = &[
    NavItem { href: "/console/search", label: "检索", perm: Perm::ContentView },
    NavItem { href: "/console/search/dictionary", label: "检索词典", perm: Perm::SettingsManage },
];

pub fn slice() -> Slice {
    Slice { name: "search", routes: SEARCH_ROUTES, router: search_router, templates: template_source, nav: NAV }
}

fn search_of(state: &AppState) -> Result<Search, Error> {
    state.ext::<Search>().cloned().ok_or_else(|| Error::Conflict("检索服务未启动".into()))
}

#[derive(Deserialize, Default)]
pub struct ConsoleQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: Option<usize>,
}

pub async fn console_search(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(q): Query<ConsoleQuery>,
) -> WebResult<Response> {
    let s = search_of(&state)?;
    let page = q.page.unwrap_or(1).clamp(1, 500);
    let sites: Vec<i64> = {
        let mut h = state.db.read().await?;
        gongkai_kernel::site::store::all(&mut h.conn()).await?.into_iter().map(|s| s.id).collect()
    };
    let mut ctx = json!({ "q": &q.q, "page": page });
    if !q.q.trim().is_empty() {
        let r = s.search(&crate::Request {
            q: q.q.clone(),
            sites,
            offset: (page - 1) * 20,
            limit: 20,
            ..Default::default()
        })?;
        // Drafts and revisions not yet published, within the user's organisations.
        let paths = match who.org_scope(Perm::ContentView) {
            OrgScope::All => None,
            OrgScope::Paths(p) => Some(p),
            OrgScope::None => Some(Vec::new()),
        };
        let f = gongkai_cms::store::ItemFilter { q: q.q.trim().chars().take(50).collect(), ..Default::default() };
        let drafts: Vec<Value> = {
            let mut h = state.db.read().await?;
            gongkai_cms::store::list_items(&mut h.conn(), &f, paths.as_deref(), 50)
                .await?
                .into_iter()
                .filter(|i| !i.live || i.status != "published")
                .take(20)
                .map(|i| json!(i))
                .collect()
        };
        ctx["results"] = json!(r);
        ctx["drafts"] = json!(drafts);
        ctx["pages"] = json!(r.total.div_ceil(20).min(500));
    }
    Ok(render_with(&state, Some(&who), "console/search/index.html", ctx, "/console/search")?.into_response())
}

async fn dictionary_ctx(state: &AppState) -> WebResult<Value> {
    let s = search_of(state)?;
    let rows = crate::store::list(&state.db).await?;
    let since = gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today() - time::Duration::days(30));
    let hot = crate::store::hot(&state.db, None, &since, 20).await?;
    Ok(json!({
        "words": rows.iter().filter(|r| r.kind == "word").collect::<Vec<_>>(),
        "synonyms": rows.iter().filter(|r| r.kind == "synonym").collect::<Vec<_>>(),
        "builtin": crate::text::BUILTIN_WORDS,
        "status": s.status(),
        "hot": hot,
        "errors": {},
    }))
}

#[derive(Deserialize, Default)]
pub struct Saved {
    #[serde(default)]
    pub saved: Option<String>,
}

pub async fn dictionary(State(state): State<AppState>, Auth(who): Auth, Query(q): Query<Saved>) -> WebResult<Response> {
    let mut ctx = dictionary_ctx(&state).await?;
    ctx["saved"] = json!(q.saved);
    Ok(render_with(&state, Some(&who), "console/search/dictionary.html", ctx, "/console/search/dictionary")?
        .into_response())
}

#[derive(Deserialize, Default)]
pub struct WordForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub id: i64,
}

pub async fn dictionary_add(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<WordForm>,
) -> WebResult<Response> {
    match crate::store::add(&state.db, &who, &ip, &f.kind, &f.text).await {
        Ok(_) => Ok(see_other("/console/search/dictionary?saved=added")),
        Err(e) => {
            let mut ctx = dictionary_ctx(&state).await?;
            ctx["typed"] = json!({ "kind": f.kind, "text": f.text });
            Ok(form_error(&state, &who, "console/search/dictionary.html", ctx, e))
        }
    }
}

pub async fn dictionary_remove(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(f): CsrfForm<WordForm>,
) -> WebResult<Response> {
    match crate::store::remove(&state.db, &who, &ip, f.id).await {
        Ok(()) | Err(Error::NotFound) => Ok(see_other("/console/search/dictionary?saved=removed")),
        Err(e) => Err(e.into()),
    }
}

pub async fn rebuild(
    State(state): State<AppState>,
    Auth(who): Auth,
    ClientIp(ip): ClientIp,
    CsrfForm(_): CsrfForm<WordForm>,
) -> WebResult<Response> {
    let s = search_of(&state)?;
    {
        let mut tx = state.db.begin().await?;
        gongkai_kernel::audit::append(&mut tx.conn(), &who.actor(&ip), "search.rebuild", "search_index", 0, json!({}))
            .await?;
        tx.commit().await?;
    }
    s.spawn_rebuild();
    Ok(see_other("/console/search/dictionary?saved=rebuilding"))
}
