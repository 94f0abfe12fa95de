//! Attachments: content-addressed files under the data directory, type sniffed from content.
//!
//! The pure part (`sniff`, `admit`, `clean_name`, `extract_text`) decides what a file is from
//! its bytes, never from its name: a name only adds refusals (an `.exe` is refused even if its
//! bytes look like text) and gets its extension corrected to the real type, so a download opens
//! with the right program. Files live at `<data_dir>/files/<aa>/<sha256>`; identical content is
//! stored once (`attachments`, unique on sha256) and linked to items by `item_attachments`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use gongkai_kernel::auth::{Perm, Principal};
use gongkai_kernel::clock::now_ms;
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::{audit, with_conn};

use crate::model::ItemStatus;
use crate::rules::{self, Action, Workflow};
use crate::store::{self, Item};

/// Upload limit unless configured otherwise. The HTTP layer's body limit answers 413 for
/// bodies beyond it before they reach the service.
pub const DEFAULT_MAX_BYTES: u64 = 50 * 1024 * 1024;

/// Longest stored file name, in characters.
pub const MAX_NAME_CHARS: usize = 120;

// ---------------------------------------------------------------- kinds

/// A file type recognised from its bytes. Some kinds are recognised only to be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Pdf,
    Ofd,
    Doc,
    Xls,
    Ppt,
    Docx,
    Xlsx,
    Pptx,
    Text,
    Csv,
    Png,
    Jpeg,
    Gif,
    Webp,
    Bmp,
    Zip,
    Rar,
    SevenZip,
    Mp3,
    Wav,
    Mp4,
    // Refused: they run code when opened, or a browser runs their scripts.
    WindowsExe,
    Elf,
    MachO,
    Script,
    Html,
    Svg,
    JavaArchive,
    MacroOffice,
}

pub const ALL_KINDS: [Kind; 29] = [
    Kind::Pdf,
    Kind::Ofd,
    Kind::Doc,
    Kind::Xls,
    Kind::Ppt,
    Kind::Docx,
    Kind::Xlsx,
    Kind::Pptx,
    Kind::Text,
    Kind::Csv,
    Kind::Png,
    Kind::Jpeg,
    Kind::Gif,
    Kind::Webp,
    Kind::Bmp,
    Kind::Zip,
    Kind::Rar,
    Kind::SevenZip,
    Kind::Mp3,
    Kind::Wav,
    Kind::Mp4,
    Kind::WindowsExe,
    Kind::Elf,
    Kind::MachO,
    Kind::Script,
    Kind::Html,
    Kind::Svg,
    Kind::JavaArchive,
    Kind::MacroOffice,
];

impl Kind {
    /// The Content-Type served for the kind (unique per kind, so the stored mime maps back).
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Ofd => "application/ofd",
            Kind::Doc => "application/msword",
            Kind::Xls => "application/vnd.ms-excel",
            Kind::Ppt => "application/vnd.ms-powerpoint",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            Kind::Text => "text/plain; charset=utf-8",
            Kind::Csv => "text/csv; charset=utf-8",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Bmp => "image/bmp",
            Kind::Zip => "application/zip",
            Kind::Rar => "application/vnd.rar",
            Kind::SevenZip => "application/x-7z-compressed",
            Kind::Mp3 => "audio/mpeg",
            Kind::Wav => "audio/wav",
            Kind::Mp4 => "video/mp4",
            Kind::WindowsExe => "application/vnd.microsoft.portable-executable",
            Kind::Elf => "application/x-elf",
            Kind::MachO => "application/x-mach-binary",
            Kind::Script => "text/x-shellscript",
            Kind::Html => "text/html",
            Kind::Svg => "image/svg+xml",
            Kind::JavaArchive => "application/java-archive",
            Kind::MacroOffice => "application/vnd.ms-office.macroenabled",
        }
    }

    /// The canonical file extension (no dot).
    pub fn ext(self) -> &'static str {
        self.exts()[0]
    }

    /// Extensions a name may carry for this kind; the first is canonical.
    pub fn exts(self) -> &'static [&'static str] {
        match self {
            Kind::Pdf => &["pdf"],
            Kind::Ofd => &["ofd"],
            Kind::Doc => &["doc", "wps"],
            Kind::Xls => &["xls", "et"],
            Kind::Ppt => &["ppt", "dps"],
            Kind::Docx => &["docx"],
            Kind::Xlsx => &["xlsx"],
            Kind::Pptx => &["pptx"],
            Kind::Text => &["txt", "text", "md", "log", "xml", "json", "csv"],
            Kind::Csv => &["csv", "txt"],
            Kind::Png => &["png"],
            Kind::Jpeg => &["jpg", "jpeg", "jpe"],
            Kind::Gif => &["gif"],
            Kind::Webp => &["webp"],
            Kind::Bmp => &["bmp"],
            Kind::Zip => &["zip"],
            Kind::Rar => &["rar"],
            Kind::SevenZip => &["7z"],
            Kind::Mp3 => &["mp3"],
            Kind::Wav => &["wav"],
            Kind::Mp4 => &["mp4", "m4v", "m4a", "mov"],
            Kind::WindowsExe => &["exe", "dll", "com", "scr", "sys"],
            Kind::Elf => &["elf", "so", "bin"],
            Kind::MachO => &["dylib", "class"],
            Kind::Script => &["sh"],
            Kind::Html => &["html", "htm", "xhtml"],
            Kind::Svg => &["svg"],
            Kind::JavaArchive => &["jar", "apk"],
            Kind::MacroOffice => &["docm", "xlsm", "pptm"],
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF 文档",
            Kind::Ofd => "OFD 版式文档",
            Kind::Doc => "Word 97-2003 文档",
            Kind::Xls => "Excel 97-2003 表格",
            Kind::Ppt => "PowerPoint 97-2003 演示文稿",
            Kind::Docx => "Word 文档",
            Kind::Xlsx => "Excel 表格",
            Kind::Pptx => "PowerPoint 演示文稿",
            Kind::Text => "纯文本",
            Kind::Csv => "CSV 表格",
            Kind::Png => "PNG 图片",
            Kind::Jpeg => "JPEG 图片",
            Kind::Gif => "GIF 图片",
            Kind::Webp => "WebP 图片",
            Kind::Bmp => "BMP 图片",
            Kind::Zip => "ZIP 压缩包",
            Kind::Rar => "RAR 压缩包",
            Kind::SevenZip => "7z 压缩包",
            Kind::Mp3 => "MP3 音频",
            Kind::Wav => "WAV 音频",
            Kind::Mp4 => "MP4 视频",
            Kind::WindowsExe => "Windows 可执行程序",
            Kind::Elf => "Linux 可执行程序",
            Kind::MachO => "macOS 可执行程序或 Java 类文件",
            Kind::Script => "脚本程序",
            Kind::Html => "网页（HTML）",
            Kind::Svg => "SVG 矢量图（可含脚本）",
            Kind::JavaArchive => "Java 或安卓程序包",
            Kind::MacroOffice => "含宏的 Office 文档",
        }
    }

    /// May be attached to an item: documents, images, archives, audio and video.
    pub fn allowed(self) -> bool {
        !matches!(
            self,
            Kind::WindowsExe
                | Kind::Elf
                | Kind::MachO
                | Kind::Script
                | Kind::Html
                | Kind::Svg
                | Kind::JavaArchive
                | Kind::MacroOffice
        )
    }

    /// The kind whose `mime()` this is (the stored `attachments.mime` maps back).
    pub fn from_mime(mime: &str) -> Option<Kind> {
        ALL_KINDS.into_iter().find(|k| k.mime() == mime)
    }

    pub fn is_image(self) -> bool {
        matches!(self, Kind::Png | Kind::Jpeg | Kind::Gif | Kind::Webp | Kind::Bmp)
    }
}

// ---------------------------------------------------------------- sniffing (pure)

fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.len() >= needle.len() && hay.windows(needle.len()).any(|w| w == needle)
}

fn u16_le(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
}

fn u32_le(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// What a file is, from its bytes alone. None: not a type this platform knows.
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    let b = bytes;
    // Executables first, so a file that is both (a polyglot) is judged by its worst reading.
    if b.starts_with(b"MZ") {
        return Some(Kind::WindowsExe);
    }
    if b.starts_with(b"\x7fELF") {
        return Some(Kind::Elf);
    }
    if [[0xFE, 0xED, 0xFA, 0xCE], [0xFE, 0xED, 0xFA, 0xCF], [0xCE, 0xFA, 0xED, 0xFE], [0xCF, 0xFA, 0xED, 0xFE]]
        .iter()
        .any(|m| b.starts_with(m))
        || b.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE])
    {
        return Some(Kind::MachO);
    }
    if b.starts_with(b"#!") || b.starts_with(b"\xEF\xBB\xBF#!") {
        return Some(Kind::Script);
    }
    if b.starts_with(b"%PDF-") || (b.len() > 5 && find(&b[..b.len().min(1024)], b"%PDF-") && !looks_like_text(b)) {
        return Some(Kind::Pdf);
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Kind::Png);
    }
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Kind::Jpeg);
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some(Kind::Gif);
    }
    if b.starts_with(b"RIFF") && b.len() >= 12 {
        match &b[8..12] {
            b"WEBP" => return Some(Kind::Webp),
            b"WAVE" => return Some(Kind::Wav),
            _ => {}
        }
    }
    if is_bmp(b) {
        return Some(Kind::Bmp);
    }
    if b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06") {
        return Some(zip_kind(b));
    }
    if b.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return ole_kind(b);
    }
    if b.starts_with(b"Rar!\x1a\x07") {
        return Some(Kind::Rar);
    }
    if b.starts_with(&[0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) {
        return Some(Kind::SevenZip);
    }
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        // HEIF/AVIF still images share the ISO container; they are not video.
        let brand = &b[8..12];
        if [b"heic", b"heix", b"heif", b"mif1", b"msf1", b"avif", b"avis"].iter().any(|x| brand == *x) {
            return None;
        }
        return Some(Kind::Mp4);
    }
    if b.starts_with(b"ID3") || is_mp3_frame(b) {
        return Some(Kind::Mp3);
    }
    text_kind(b)
}

fn is_bmp(b: &[u8]) -> bool {
    // "BM" alone is too weak (text can start with it): the reserved words are zero and the
    // DIB header has one of the sizes the format defines.
    b.starts_with(b"BM")
        && b.len() >= 18
        && b[6..10] == [0, 0, 0, 0]
        && matches!(u32_le(b, 14), Some(12 | 40 | 52 | 56 | 64 | 108 | 124))
}

fn is_mp3_frame(b: &[u8]) -> bool {
    // MPEG audio frame header: 11 sync bits, a version other than "reserved", layer III,
    // a bitrate index other than "free"/"bad" and a defined sample rate.
    if b.len() < 4 || b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
        return false;
    }
    let version = (b[1] >> 3) & 0b11;
    let layer = (b[1] >> 1) & 0b11;
    let bitrate = b[2] >> 4;
    let rate = (b[2] >> 2) & 0b11;
    version != 0b01 && layer == 0b01 && bitrate != 0 && bitrate != 0b1111 && rate != 0b11
}

/// Entry names of a ZIP: from the central directory when it can be read (it lists every
/// entry), else by walking the local file headers of the first 64 KB.
pub fn zip_names(b: &[u8]) -> Vec<String> {
    let central = central_directory_names(b);
    if !central.is_empty() {
        return central;
    }
    let mut names = Vec::new();
    let mut at = 0usize;
    let window = b.len().min(64 * 1024);
    while at + 30 <= window && b[at..].starts_with(b"PK\x03\x04") {
        let (Some(csize), Some(nlen), Some(xlen)) = (u32_le(b, at + 18), u16_le(b, at + 26), u16_le(b, at + 28)) else {
            break;
        };
        let Some(name) = b.get(at + 30..at + 30 + nlen) else { break };
        names.push(String::from_utf8_lossy(name).into_owned());
        let flags = u16_le(b, at + 6).unwrap_or(0);
        if flags & 0x08 != 0 && csize == 0 {
            // Sizes follow the data in a descriptor: the next header cannot be located.
            break;
        }
        at += 30 + nlen + xlen + csize;
    }
    names
}

fn central_directory_names(b: &[u8]) -> Vec<String> {
    // End of central directory: 22 bytes plus a comment of up to 64 KB, at the end.
    let tail_start = b.len().saturating_sub(22 + 65_535);
    let Some(eocd) = (tail_start..b.len().saturating_sub(21)).rev().find(|&i| b[i..].starts_with(b"PK\x05\x06")) else {
        return Vec::new();
    };
    let (Some(count), Some(offset)) = (u16_le(b, eocd + 10), u32_le(b, eocd + 16)) else { return Vec::new() };
    let mut names = Vec::with_capacity(count.min(4096));
    let mut at = offset;
    for _ in 0..count.min(65_535) {
        if !b.get(at..).is_some_and(|s| s.starts_with(b"PK\x01\x02")) {
            break;
        }
        let (Some(nlen), Some(xlen), Some(clen)) = (u16_le(b, at + 28), u16_le(b, at + 30), u16_le(b, at + 32)) else {
            break;
        };
        let Some(name) = b.get(at + 46..at + 46 + nlen) else { break };
        names.push(String::from_utf8_lossy(name).into_owned());
        at += 46 + nlen + xlen + clen;
    }
    names
}

fn zip_kind(b: &[u8]) -> Kind {
    let names = zip_names(b);
    let has = |p: &str| names.iter().any(|n| n.starts_with(p));
    let is = |p: &str| names.iter().any(|n| n == p);
    if names.iter().any(|n| n.ends_with("vbaProject.bin")) {
        return Kind::MacroOffice;
    }
    if is("classes.dex")
        || is("AndroidManifest.xml")
        || (is("META-INF/MANIFEST.MF") && names.iter().any(|n| n.ends_with(".class")))
    {
        return Kind::JavaArchive;
    }
    if is("OFD.xml") {
        return Kind::Ofd;
    }
    if has("word/") {
        return Kind::Docx;
    }
    if has("xl/") {
        return Kind::Xlsx;
    }
    if has("ppt/") {
        return Kind::Pptx;
    }
    Kind::Zip
}

fn ole_kind(b: &[u8]) -> Option<Kind> {
    // The main stream's name says which application wrote a compound file. Other compound
    // files (MSI installers, Outlook messages, …) are not on the allow-list.
    if ole_has_entry(b, "_VBA_PROJECT") {
        return Some(Kind::MacroOffice);
    }
    if ole_has_entry(b, "WordDocument") {
        return Some(Kind::Doc);
    }
    if ole_has_entry(b, "Workbook") || ole_has_entry(b, "Book") {
        return Some(Kind::Xls);
    }
    if ole_has_entry(b, "PowerPoint Document") {
        return Some(Kind::Ppt);
    }
    None
}

/// Does a compound file hold a directory entry of exactly this name? Entries are 128-byte
/// records in sectors after the 512-byte header (sectors are 512 or 4096 bytes, both
/// multiples of 128): a UTF-16LE name, zero padded, and at offset 64 its length in bytes
/// including the terminator. Matching the record shape, not just the text, keeps a
/// document that merely mentions the word from being misread.
fn ole_has_entry(b: &[u8], name: &str) -> bool {
    let want = utf16le(name);
    let len_field = (want.len() + 2) as u16;
    (512..b.len().saturating_sub(127)).step_by(128).any(|p| {
        b[p..].starts_with(&want)
            && b[p + want.len()..p + want.len() + 2] == [0, 0]
            && u16_le(b, p + 64) == Some(len_field as usize)
    })
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

/// Valid UTF-8, no NUL, and at most 1 % control characters besides tab, newlines and form feed.
fn looks_like_text(b: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(strip_bom(b)) else { return false };
    if s.is_empty() || s.contains('\0') {
        return false;
    }
    let (mut total, mut control) = (0usize, 0usize);
    for ch in s.chars() {
        total += 1;
        if ch.is_control() && !matches!(ch, '\t' | '\n' | '\r' | '\x0c') {
            control += 1;
        }
    }
    control * 100 <= total
}

fn text_kind(b: &[u8]) -> Option<Kind> {
    if !looks_like_text(b) {
        return None;
    }
    let s = std::str::from_utf8(strip_bom(b)).ok()?;
    let head: String = s.chars().take(4096).collect::<String>().to_lowercase();
    // Markup a browser would render (and run scripts in) is refused. Browsers sniff the
    // first kilobyte for HTML, so look there; SVG anywhere in the head.
    let first_kb: String = head.chars().take(1024).collect();
    if head.trim_start().starts_with('<') && head.contains("<svg") {
        return Some(Kind::Svg);
    }
    const HTML_MARKERS: [&str; 9] = [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<script",
        "<iframe",
        "<object",
        "<embed",
        "xmlns=\"http://www.w3.org/1999/xhtml\"",
    ];
    if HTML_MARKERS.iter().any(|m| first_kb.contains(m)) {
        return Some(Kind::Html);
    }
    if is_csv(s) { Some(Kind::Csv) } else { Some(Kind::Text) }
}

/// At least two lines with the same number (≥ 1) of commas outside double quotes.
fn is_csv(s: &str) -> bool {
    let counts: Vec<usize> = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(50)
        .map(|l| {
            let mut quoted = false;
            l.chars()
                .filter(|&c| {
                    if c == '"' {
                        quoted = !quoted;
                    }
                    c == ',' && !quoted
                })
                .count()
        })
        .collect();
    counts.len() >= 2 && counts[0] >= 1 && counts.iter().all(|&n| n == counts[0])
}

// ---------------------------------------------------------------- names (pure)

/// Characters removed from names: path separators and characters Windows forbids, and
/// invisible format characters (a right-to-left override makes "exe.pdf" read as a PDF).
fn unwanted(c: char) -> bool {
    c.is_control()
        || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*')
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// (stem, extension) when the name ends in a plausible extension (1–5 ASCII letters/digits).
fn split_ext(name: &str) -> Option<(&str, &str)> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some((stem, ext))
}

/// Keep a name within `MAX_NAME_CHARS`, shortening the stem and keeping the extension.
fn limit_name(name: &str) -> String {
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_string();
    }
    match split_ext(name) {
        Some((stem, ext)) => {
            let keep = MAX_NAME_CHARS - ext.len() - 1;
            format!("{}.{ext}", stem.chars().take(keep).collect::<String>().trim_end())
        }
        None => name.chars().take(MAX_NAME_CHARS).collect::<String>().trim_end().to_string(),
    }
}

/// A file name safe to store and to offer on download: the last path component only, no
/// control or invisible characters, no leading dots, at most 120 characters; Chinese kept.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let kept: String = last.chars().filter(|&c| !unwanted(c)).collect();
    // Windows drops trailing dots and spaces ("a.exe." opens as "a.exe"), so they go too.
    let t = kept.trim().trim_start_matches(['.', ' ']).trim_end_matches(['.', ' ']).trim();
    if t.is_empty() { "附件".to_string() } else { limit_name(t) }
}

/// Extensions refused whatever the bytes say: they run code when opened on a desktop, or a
/// browser renders them with scripts.
const DANGEROUS_EXTS: [&str; 30] = [
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "dll", "cpl", "vbs", "vbe", "js", "jse", "wsf", "wsh",
    "ps1", "hta", "lnk", "reg", "jar", "apk", "sh", "html", "htm", "xhtml", "svg", "svgz", "mht", "mhtml",
];

/// An upload that passed the checks: its real kind and the name to store (cleaned, with
/// the extension of the real kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub kind: Kind,
    pub name: String,
}

/// Decide whether an upload may be attached. The content decides the kind; the name can
/// only add a refusal. Messages are for the uploader.
pub fn admit(name: &str, bytes: &[u8]) -> std::result::Result<Admitted, String> {
    if bytes.is_empty() {
        return Err("文件为空，请重新选择".into());
    }
    let cleaned = clean_name(name);
    let named_ext = split_ext(&cleaned).map(|(_, e)| e.to_ascii_lowercase());
    let Some(kind) = sniff(bytes) else {
        return Err("无法识别文件类型。可上传 PDF、OFD、Word、Excel、PowerPoint、纯文本（UTF-8 编码）、CSV、常见图片、压缩包和音视频文件；GBK 编码的文本请另存为 UTF-8 后上传".into());
    };
    if !kind.allowed() {
        return Err(match &named_ext {
            Some(e) if !kind.exts().contains(&e.as_str()) => {
                format!("文件名为“.{e}”，但内容实际是{}，出于安全考虑不能上传", kind.label_zh())
            }
            _ => format!("不能上传{}：出于安全考虑，只接受文档、图片、压缩包和音视频", kind.label_zh()),
        });
    }
    if let Some(e) = &named_ext
        && DANGEROUS_EXTS.contains(&e.as_str())
    {
        return Err(format!(
            "文件名以“.{e}”结尾，属于程序或网页类文件，不能上传；如确为{}，请改正文件名",
            kind.label_zh()
        ));
    }
    let name = match split_ext(&cleaned) {
        Some((_, e)) if kind.exts().contains(&e.to_ascii_lowercase().as_str()) => cleaned,
        Some((stem, _)) => format!("{stem}.{}", kind.ext()),
        None => format!("{cleaned}.{}", kind.ext()),
    };
    Ok(Admitted { kind, name: limit_name(&name) })
}

/// Text for search. Plain text and CSV are decoded here; PDF, OFD and Office text
/// extraction is not implemented yet — it comes with the search issue, which will call this
/// with the stored bytes — so every other kind returns None rather than a guess.
pub fn extract_text(kind: Kind, bytes: &[u8]) -> Option<String> {
    match kind {
        Kind::Text | Kind::Csv => std::str::from_utf8(strip_bom(bytes)).ok().map(|s| s.replace('\0', "")),
        _ => None,
    }
}

/// "63.2 MB": sizes in messages.
pub fn human_size(n: u64) -> String {
    let mb = n as f64 / (1024.0 * 1024.0);
    if mb >= 1.0 {
        let s = format!("{mb:.1}");
        format!("{} MB", s.strip_suffix(".0").unwrap_or(&s))
    } else {
        format!("{:.0} KB", (n as f64 / 1024.0).ceil())
    }
}

// ---------------------------------------------------------------- storage

/// Content-addressed files at `<data_dir>/files/<first 2 hex>/<sha256>`.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
    max_bytes: u64,
}

/// True for exactly 64 lowercase hex characters (so a path built from it cannot escape).
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl FileStore {
    pub fn new(data_dir: impl AsRef<Path>) -> FileStore {
        FileStore { root: data_dir.as_ref().join("files"), max_bytes: DEFAULT_MAX_BYTES }
    }

    /// A different upload limit (from configuration).
    pub fn with_max_bytes(mut self, max_bytes: u64) -> FileStore {
        self.max_bytes = max_bytes;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Where the file of `sha256` lives; None unless it is a well-formed digest.
    pub fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        is_sha256(sha256).then(|| self.root.join(&sha256[..2]).join(sha256))
    }

    /// Store the bytes (once per content) and return (sha256, size). The file is written
    /// under a temporary name in the same folder, synced and renamed, so a crash never
    /// leaves a partial file under the final name.
    pub async fn put(&self, bytes: Vec<u8>) -> Result<(String, u64)> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || put_blocking(&root, &bytes))
            .await
            .map_err(|e| Error::internal(format!("写入附件失败：{e}")))?
    }

    pub async fn read(&self, sha256: &str) -> Result<Vec<u8>> {
        let path = self.path_of(sha256).ok_or(Error::NotFound)?;
        tokio::task::spawn_blocking(move || match std::fs::read(&path) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound),
            Err(e) => Err(Error::internal(format!("读取附件失败：{e}"))),
        })
        .await
        .map_err(|e| Error::internal(format!("读取附件失败：{e}")))?
    }
}

fn put_blocking(root: &Path, bytes: &[u8]) -> Result<(String, u64)> {
    use std::io::Write;
    let sha = audit::hex(&Sha256::digest(bytes));
    let dir = root.join(&sha[..2]);
    let target = dir.join(&sha);
    let size = bytes.len() as u64;
    let io = |what: &str, e: std::io::Error| Error::internal(format!("{what}：{e}"));
    if std::fs::metadata(&target).is_ok_and(|m| m.is_file() && m.len() == size) {
        return Ok((sha, size));
    }
    std::fs::create_dir_all(&dir).map_err(|e| io("创建附件目录失败", e))?;
    let tmp = dir.join(format!(".tmp-{}-{}", &sha[..16], gongkai_kernel::random_token::<8>()));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &target)?;
        // The rename itself is durable only once the directory is synced.
        #[cfg(unix)]
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("写入附件失败", e));
    }
    Ok((sha, size))
}

// ---------------------------------------------------------------- rows

/// One attachment of an item, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentRow {
    /// `item_attachments.id`: what download links and detach name.
    pub id: i64,
    pub item_id: i64,
    pub attachment_id: i64,
    pub name: String,
    pub size: i64,
    pub mime: String,
    pub kind_label: String,
    pub downloads: i64,
    pub sha256: String,
}

#[derive(sqlx::FromRow)]
struct RawRow {
    id: i64,
    item_id: i64,
    attachment_id: i64,
    name: String,
    size: i64,
    mime: String,
    downloads: i64,
    sha256: String,
}

impl From<RawRow> for AttachmentRow {
    fn from(r: RawRow) -> Self {
        let kind_label = Kind::from_mime(&r.mime).map(|k| k.label_zh()).unwrap_or("文件").to_string();
        AttachmentRow {
            id: r.id,
            item_id: r.item_id,
            attachment_id: r.attachment_id,
            name: r.name,
            size: r.size,
            mime: r.mime,
            kind_label,
            downloads: r.downloads,
            sha256: r.sha256,
        }
    }
}

const ROW_SQL: &str = "SELECT ia.id, ia.item_id, ia.attachment_id, ia.name, a.size, a.mime, ia.downloads, a.sha256
     FROM item_attachments ia JOIN attachments a ON a.id = ia.attachment_id";

async fn row(c: &mut Conn<'_>, item_attachment_id: i64) -> Result<Option<AttachmentRow>> {
    let sql = format!("{ROW_SQL} WHERE ia.id = $1");
    let r: Option<RawRow> = with_conn!(c, x => {
        sqlx::query_as::<_, RawRow>(sqlx::AssertSqlSafe(sql.clone())).bind(item_attachment_id).fetch_optional(&mut **x).await
    })?;
    Ok(r.map(AttachmentRow::from))
}

// ---------------------------------------------------------------- permission

/// May `who` change (`Perm::ContentEdit`) or look at as staff (`Perm::ContentReview`) this
/// item: the same rule as the item service — a role grant covering the publisher's
/// organisation on the home column's site, or a per-column grant on the home column.
pub(crate) async fn may_on_item(c: &mut Conn<'_>, who: &Principal, perm: Perm, item: &Item) -> Result<bool> {
    crate::service::may_on_item(c, who, perm, item).await
}

/// Attachments are edits: refused while the item is in review or scheduled (the reviewer
/// approves what they saw), like any other edit.
fn editable(item: &Item) -> Result<()> {
    let wf = Workflow {
        status: ItemStatus::parse(&item.status).unwrap_or(ItemStatus::Draft),
        level: item.review_level.clamp(0, 3) as u8,
        levels_required: item.levels_required.clamp(1, 3) as u8,
        publish_at: item.publish_at,
        live: item.live,
    };
    rules::transition(&wf, &Action::Edit, now_ms()).map(|_| ()).map_err(|r| Error::Conflict(r.message_zh()))
}

async fn editable_item(c: &mut Conn<'_>, who: &Principal, item_id: i64) -> Result<Item> {
    let item = store::item(c, item_id).await?.ok_or(Error::NotFound)?;
    if !may_on_item(c, who, Perm::ContentEdit, &item).await? {
        return Err(Error::Forbidden("您没有编辑该信息附件的权限".into()));
    }
    editable(&item)?;
    Ok(item)
}

// ---------------------------------------------------------------- use cases

/// Attach an uploaded file to an item. The bytes are checked (size, kind, name), the
/// permission is checked before anything is written, the file is stored (outside the
/// transaction: a row never points at a missing file; a file whose transaction failed is
/// an unreferenced blob, harmless), then the rows, audit entry and outbox event commit
/// together.
pub async fn attach(
    db: &Db,
    files: &FileStore,
    who: &Principal,
    ip: &str,
    item_id: i64,
    name: &str,
    bytes: Vec<u8>,
) -> Result<AttachmentRow> {
    let size = bytes.len() as u64;
    if size > files.max_bytes {
        return Err(Error::field(
            "file",
            format!("附件超过 {} 上限（本文件 {}）", human_size(files.max_bytes), human_size(size)),
        ));
    }
    let admitted = admit(name, &bytes).map_err(|m| Error::field("file", m))?;
    {
        let mut h = db.read().await?;
        editable_item(&mut h.conn(), who, item_id).await?;
    }
    let (sha, size) = files.put(bytes).await?;
    let mime = admitted.kind.mime();
    let now = now_ms();
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    editable_item(&mut c, who, item_id).await?;
    let attachment_id: i64 = with_conn!(&mut c, x => {
        sqlx::query("INSERT INTO attachments (sha256, size, mime, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
            .bind(&sha).bind(size as i64).bind(mime).bind(now).execute(&mut **x).await?;
        sqlx::query_scalar("SELECT id FROM attachments WHERE sha256 = $1").bind(&sha).fetch_one(&mut **x).await
    })?;
    let id: i64 = with_conn!(&mut c, x => {
        sqlx::query_scalar(
            "INSERT INTO item_attachments (item_id, attachment_id, name, sort_order, downloads)
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM item_attachments WHERE item_id = $1), 0)
             RETURNING id",
        )
        .bind(item_id).bind(attachment_id).bind(&admitted.name).fetch_one(&mut **x).await
    })?;
    let out = row(&mut c, id).await?.ok_or(Error::NotFound)?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "item.attach",
        "item",
        item_id,
        json!({ "attachment": id, "name": out.name, "sha256": out.sha256, "size": out.size, "mime": out.mime,
                "uploaded_name": name }),
    )
    .await?;
    crate::public::changed(&mut c, "item.changed", item_id, json!({ "attachment": id, "op": "attach" })).await?;
    tx.commit().await?;
    Ok(out)
}

/// Remove an attachment from an item. The stored file stays: other items may share the
/// same content, and old audit entries name it. (Unreferenced files are left for a later
/// clean-up job.)
pub async fn detach(db: &Db, who: &Principal, ip: &str, item_attachment_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let r = row(&mut c, item_attachment_id).await?.ok_or(Error::NotFound)?;
    editable_item(&mut c, who, r.item_id).await?;
    with_conn!(&mut c, x => {
        sqlx::query("DELETE FROM item_attachments WHERE id = $1").bind(item_attachment_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    audit::append(
        &mut c,
        &who.actor(ip),
        "item.detach",
        "item",
        r.item_id,
        json!({ "attachment": r.id, "name": r.name, "sha256": r.sha256 }),
    )
    .await?;
    crate::public::changed(&mut c, "item.changed", r.item_id, json!({ "attachment": r.id, "op": "detach" })).await?;
    tx.commit().await
}

/// An item's attachments in display order.
pub async fn list(db: &Db, item_id: i64) -> Result<Vec<AttachmentRow>> {
    let mut h = db.read().await?;
    let mut c = h.conn();
    let sql = format!("{ROW_SQL} WHERE ia.item_id = $1 ORDER BY ia.sort_order, ia.id");
    let rows: Vec<RawRow> = with_conn!(&mut c, x => {
        sqlx::query_as::<_, RawRow>(sqlx::AssertSqlSafe(sql.clone())).bind(item_id).fetch_all(&mut **x).await
    })?;
    Ok(rows.into_iter().map(AttachmentRow::from).collect())
}

/// Count one public download. Only attachments of live items count; not audited, since a
/// reader's download is not a change made by a user of the console. Returns whether it
/// counted.
pub async fn count_download(db: &Db, item_attachment_id: i64) -> Result<bool> {
    let mut tx = db.begin().await?;
    let n = with_conn!(&mut tx.conn(), x => {
        sqlx::query(
            "UPDATE item_attachments SET downloads = downloads + 1
             WHERE id = $1 AND item_id IN (SELECT id FROM items WHERE live = TRUE)",
        )
        .bind(item_attachment_id).execute(&mut **x).await.map(|r| r.rows_affected())
    })?;
    tx.commit().await?;
    Ok(n > 0)
}

async fn existing_path(files: &FileStore, r: &AttachmentRow) -> Result<PathBuf> {
    let path = files.path_of(&r.sha256).ok_or_else(|| Error::internal("附件摘要损坏"))?;
    match tokio::fs::metadata(&path).await {
        Ok(m) if m.is_file() => Ok(path),
        _ => {
            tracing::error!(attachment = r.attachment_id, sha256 = %r.sha256, "attachment file missing");
            Err(Error::internal("附件文件缺失，请联系管理员"))
        }
    }
}

/// A public download: only while the item is live; anything else is "not found", so the
/// public cannot probe drafts or withdrawn items.
pub async fn open_for_download(
    db: &Db,
    files: &FileStore,
    item_attachment_id: i64,
) -> Result<(AttachmentRow, PathBuf)> {
    let r = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        let r = row(&mut c, item_attachment_id).await?.ok_or(Error::NotFound)?;
        let item = store::item(&mut c, r.item_id).await?.ok_or(Error::NotFound)?;
        if !item.live {
            return Err(Error::NotFound);
        }
        r
    };
    let path = existing_path(files, &r).await?;
    Ok((r, path))
}

/// A console preview for editors and reviewers of the item, whatever its status.
pub async fn open_for_staff(
    db: &Db,
    files: &FileStore,
    who: &Principal,
    item_attachment_id: i64,
) -> Result<(AttachmentRow, PathBuf)> {
    let r = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        let r = row(&mut c, item_attachment_id).await?.ok_or(Error::NotFound)?;
        let item = store::item(&mut c, r.item_id).await?.ok_or(Error::NotFound)?;
        if !may_on_item(&mut c, who, Perm::ContentEdit, &item).await?
            && !may_on_item(&mut c, who, Perm::ContentReview, &item).await?
            && !may_on_item(&mut c, who, Perm::ContentView, &item).await?
        {
            return Err(Error::Forbidden("您没有查看该信息附件的权限".into()));
        }
        r
    };
    let path = existing_path(files, &r).await?;
    Ok((r, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\a\\通知.pdf"), "通知.pdf");
        assert_eq!(clean_name("..\\..\\"), "附件");
        assert_eq!(clean_name(".htaccess"), "htaccess");
        assert_eq!(clean_name("  "), "附件");
        assert_eq!(clean_name("报告\u{202E}fdp.exe"), "报告fdp.exe");
        assert_eq!(clean_name("a\0b\r\nc.txt"), "abc.txt");
        let long = format!("{}.pdf", "长".repeat(200));
        let c = clean_name(&long);
        assert_eq!(c.chars().count(), MAX_NAME_CHARS);
        assert!(c.ends_with("长.pdf"));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(50 * 1024 * 1024), "50 MB");
        assert_eq!(human_size(66_270_000), "63.2 MB");
        assert_eq!(human_size(1000), "1 KB");
    }

    #[test]
    fn mimes_map_back() {
        for k in ALL_KINDS {
            assert_eq!(Kind::from_mime(k.mime()), Some(k));
        }
    }
}
