//! Attachments of a work order (photos, documents, call recordings): checked by their
//! bytes, stored in `hl_files` in the intake's transaction, served back as downloads only.

use serde::Serialize;
use sha2::{Digest, Sha256};

use gongkai_kernel::db::Conn;
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::with_conn;

pub const FILES_MAX: usize = 5;
pub const FILE_BYTES_MAX: usize = 8 * 1024 * 1024;
const NAME_MAX: usize = 100;

/// A file as uploaded.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub name: String,
    pub data: Vec<u8>,
}

/// What the bytes are: (content type, the extensions it may carry). The extension alone
/// proves nothing; a file whose bytes are none of these is refused.
pub fn sniff(b: &[u8]) -> Option<(&'static str, &'static [&'static str])> {
    let at = |i: usize, m: &[u8]| b.len() >= i + m.len() && &b[i..i + m.len()] == m;
    if at(0, b"%PDF-") {
        Some(("application/pdf", &["pdf"]))
    } else if at(0, b"\xFF\xD8\xFF") {
        Some(("image/jpeg", &["jpg", "jpeg"]))
    } else if at(0, b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", &["png"]))
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Some(("image/gif", &["gif"]))
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Some(("image/webp", &["webp"]))
    } else if at(0, b"RIFF") && at(8, b"WAVE") {
        Some(("audio/wav", &["wav"]))
    } else if at(0, b"ID3") || (b.len() > 1 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0) {
        Some(("audio/mpeg", &["mp3"]))
    } else if at(4, b"ftyp") {
        Some(("video/mp4", &["mp4", "m4a"]))
    } else if at(0, b"PK\x03\x04") {
        Some(("application/zip", &["docx", "xlsx"]))
    } else {
        None
    }
}

/// The content type for a sniffed ZIP package by its extension.
fn zip_type(ext: &str) -> &'static str {
    match ext {
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
}

/// The name to keep: the last path component, no control characters, at most 100 characters.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let base: String = base.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string();
    if base.chars().count() <= NAME_MAX {
        return base;
    }
    let ext = base.rsplit_once('.').map(|(_, e)| e).filter(|e| e.len() <= 5).unwrap_or("");
    let stem: String = base.chars().take(NAME_MAX - ext.len() - 1).collect();
    if ext.is_empty() { stem } else { format!("{stem}.{ext}") }
}

/// A file that passed: its name and content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub name: String,
    pub content_type: &'static str,
}

/// Check the attachments. The browser cannot put files back into a form shown again, so
/// every message asks to choose them again.
pub fn check(files: &[Upload]) -> std::result::Result<Vec<Checked>, String> {
    const AGAIN: &str = "请重新选择附件";
    if files.len() > FILES_MAX {
        return Err(format!("最多上传 {FILES_MAX} 个附件，{AGAIN}"));
    }
    let mut out = Vec::new();
    for f in files {
        let name = clean_name(&f.name);
        let shown = if name.is_empty() { "未命名文件".to_string() } else { name.clone() };
        if f.data.is_empty() {
            return Err(format!("附件“{shown}”是空文件，{AGAIN}"));
        }
        if f.data.len() > FILE_BYTES_MAX {
            return Err(format!("附件“{shown}”超过 {} MB，{AGAIN}", FILE_BYTES_MAX / 1024 / 1024));
        }
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        match sniff(&f.data) {
            Some((ct, exts)) if exts.contains(&ext.as_str()) => out.push(Checked {
                name: if name.is_empty() { format!("附件.{ext}") } else { name },
                content_type: if ct == "application/zip" { zip_type(&ext) } else { ct },
            }),
            _ => {
                return Err(format!(
                    "附件“{shown}”的类型不支持或与内容不符：可上传 PDF、图片（JPG、PNG、GIF、WEBP）、录音（MP3、WAV、M4A）、MP4、DOCX、XLSX，{AGAIN}"
                ));
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FileRow {
    pub id: i64,
    pub order_id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
}

pub async fn insert(c: &mut Conn<'_>, order_id: i64, f: &Checked, data: &[u8], now: i64) -> Result<i64> {
    let sha = gongkai_kernel::audit::hex(&Sha256::digest(data));
    Ok(with_conn!(c, x => {
        sqlx::query_scalar(
            "INSERT INTO hl_files (order_id, name, content_type, size, sha256, bytes, created_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id",
        )
        .bind(order_id).bind(&f.name).bind(f.content_type).bind(data.len() as i64).bind(&sha).bind(data).bind(now)
        .fetch_one(&mut **x).await
    })?)
}

pub async fn list(c: &mut Conn<'_>, order_id: i64) -> Result<Vec<FileRow>> {
    Ok(with_conn!(c, x => {
        sqlx::query_as::<_, FileRow>(
            "SELECT id, order_id, name, content_type, size, sha256, created_at FROM hl_files WHERE order_id = $1 ORDER BY id",
        )
        .bind(order_id).fetch_all(&mut **x).await
    })?)
}

pub async fn data(c: &mut Conn<'_>, order_id: i64, id: i64) -> Result<(FileRow, Vec<u8>)> {
    let meta = with_conn!(c, x => {
        sqlx::query_as::<_, FileRow>(
            "SELECT id, order_id, name, content_type, size, sha256, created_at FROM hl_files WHERE id = $1 AND order_id = $2",
        )
        .bind(id).bind(order_id).fetch_optional(&mut **x).await
    })?
    .ok_or(Error::NotFound)?;
    let bytes: Vec<u8> = with_conn!(c, x => {
        sqlx::query_scalar("SELECT bytes FROM hl_files WHERE id = $1").bind(id).fetch_one(&mut **x).await
    })?;
    Ok((meta, bytes))
}

/// A size as people read it.
pub fn size_label(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1048576.0)
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(name: &str, data: &[u8]) -> Upload {
        Upload { name: name.into(), data: data.to_vec() }
    }

    #[test]
    fn the_bytes_decide_and_must_match_the_extension() {
        let png = b"\x89PNG\r\n\x1a\nrest";
        assert_eq!(
            check(&[up("C:\\照片\\现场.PNG", png)]).unwrap()[0],
            Checked { name: "现场.PNG".into(), content_type: "image/png" }
        );
        assert_eq!(check(&[up("a.docx", b"PK\x03\x04x")]).unwrap()[0].content_type, zip_type("docx"));
        assert!(check(&[up("a.pdf", png)]).is_err(), "a PNG named .pdf");
        assert!(check(&[up("a.html", b"<html><script>")]).is_err());
        assert!(check(&[up("empty.png", b"")]).is_err());
        let many: Vec<Upload> = (0..6).map(|i| up(&format!("{i}.png"), png)).collect();
        assert!(check(&many).unwrap_err().contains("最多"));
        assert_eq!(sniff(b"ID3\x04").map(|s| s.0), Some("audio/mpeg"));
        assert_eq!(sniff(b"\0\0\0\x18ftypisom").map(|s| s.0), Some("video/mp4"));
    }
}
