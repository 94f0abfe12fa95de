//! Themes: the default theme embedded in the binary, and per-site override folders
//! (`<themes_dir>/<theme>/templates/…`, `<themes_dir>/<theme>/static/…`) looked up first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use minijinja::Environment;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "themes/default/"]
struct Default;

/// A relative name inside a theme: no `..`, no absolute path, no backslash, no NUL.
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('/')
        && !name.contains('\\')
        && !name.contains('\0')
        && name.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// A theme folder name as stored on a site: letters, digits, '-' and '_'.
fn safe_theme(theme: &str) -> bool {
    !theme.is_empty() && theme.len() <= 64 && theme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub struct Themes {
    root: PathBuf,
    reload: bool,
    envs: RwLock<HashMap<String, Arc<Environment<'static>>>>,
}

impl Themes {
    pub fn new(root: PathBuf, reload: bool) -> Themes {
        Themes { root, reload, envs: RwLock::new(HashMap::new()) }
    }

    fn folder(&self, theme: &str, kind: &str, name: &str) -> Option<PathBuf> {
        (theme != "default" && safe_theme(theme) && safe_name(name))
            .then(|| self.root.join(theme).join(kind).join(name))
    }

    /// The template environment of a theme (cached unless reloading).
    pub fn env(&self, theme: &str) -> Arc<Environment<'static>> {
        if !self.reload
            && let Some(e) = self.envs.read().ok().and_then(|m| m.get(theme).cloned())
        {
            return e;
        }
        let env = Arc::new(self.build(theme));
        if !self.reload
            && let Ok(mut m) = self.envs.write()
        {
            m.insert(theme.to_string(), env.clone());
        }
        env
    }

    fn build(&self, theme: &str) -> Environment<'static> {
        let mut env = Environment::new();
        let dir =
            if theme != "default" && safe_theme(theme) { Some(self.root.join(theme).join("templates")) } else { None };
        env.set_loader(move |name| {
            if !safe_name(name) {
                return Ok(None);
            }
            if let Some(d) = &dir
                && let Ok(text) = std::fs::read_to_string(d.join(name))
            {
                return Ok(Some(text));
            }
            Ok(Default::get(&format!("templates/{name}")).map(|f| String::from_utf8_lossy(&f.data).into_owned()))
        });
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".xml") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        // Escape the five HTML-significant characters only: minijinja's default also
        // turns every '/' into "&#x2f;", which bloats every URL on a page.
        env.set_formatter(|out, state, value| {
            if state.auto_escape() == minijinja::AutoEscape::Html
                && !value.is_safe()
                && let Some(s) = value.as_str()
            {
                return out
                    .write_str(&gongkai_cms::html::escape(s))
                    .map_err(|_| minijinja::Error::from(minijinja::ErrorKind::WriteFailure));
            }
            minijinja::escape_formatter(out, state, value)
        });
        env
    }

    /// A static asset: the site theme's file, else the default theme's.
    pub fn asset(&self, theme: &str, name: &str) -> Option<(Vec<u8>, &'static str)> {
        if !safe_name(name) {
            return None;
        }
        let mime = mime_of(name);
        if let Some(p) = self.folder(theme, "static", name)
            && let Ok(bytes) = std::fs::read(&p)
        {
            return Some((bytes, mime));
        }
        Default::get(&format!("static/{name}")).map(|f| (f.data.into_owned(), mime))
    }

    /// Whether theme files are re-read on every request (development).
    pub fn reloading(&self) -> bool {
        self.reload
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

pub fn mime_of(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl Themes {
    /// Every static asset a site of `theme` is served (the default theme's files and the
    /// theme folder's own, which win on a clash), sorted; for the static export.
    pub fn asset_names(&self, theme: &str) -> Vec<String> {
        let mut names: std::collections::BTreeSet<String> =
            Default::iter().filter_map(|p| p.strip_prefix("static/").map(str::to_string)).collect();
        if theme != "default" && safe_theme(theme) {
            collect_files(&self.root.join(theme).join("static"), "", 0, &mut names);
        }
        names.into_iter().filter(|n| safe_name(n)).collect()
    }
}

/// Files below `dir` as '/'-separated names; bounded depth, so a link loop cannot recurse forever.
fn collect_files(dir: &Path, prefix: &str, depth: usize, out: &mut std::collections::BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let Some(name) = e.file_name().to_str().map(str::to_string) else { continue };
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let path = e.path();
        if path.is_dir() {
            if depth < 8 {
                collect_files(&path, &rel, depth + 1, out);
            }
        } else if path.is_file() {
            out.insert(rel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_is_refused() {
        for bad in ["../etc/passwd", "a/../../b", "/etc/passwd", "a\\..\\b", "", "a//b", "./a", "a\0b"] {
            assert!(!safe_name(bad), "{bad:?}");
        }
        for good in ["portal.css", "img/logo.png", "zfxxgk/index.html"] {
            assert!(safe_name(good), "{good:?}");
        }
        assert!(!safe_theme("../x"));
        assert!(safe_theme("qinghe-2026"));
    }

    #[test]
    fn override_folder_wins_and_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("red/static")).unwrap();
        std::fs::write(dir.path().join("red/static/portal.css"), "body{color:red}").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
        let t = Themes::new(dir.path().to_path_buf(), false);
        assert_eq!(t.asset("red", "portal.css").unwrap().0, b"body{color:red}");
        assert!(t.asset("red", "../secret.txt").is_none());
        assert!(t.asset("..", "secret.txt").is_none());
        // Not overridden: the embedded default.
        let css = t.asset("default", "portal.css").map(|a| a.0.len()).unwrap_or(0);
        assert!(css > 0);
        assert_eq!(
            t.asset("red", "emblem.svg").map(|a| a.0.len()),
            t.asset("default", "emblem.svg").map(|a| a.0.len())
        );
    }
}
