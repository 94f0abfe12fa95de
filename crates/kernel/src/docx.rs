//! A minimal DOCX (Office Open XML WordprocessingML) writer for letters and forms laid
//! out after GB/T 9704-2012 (党政机关公文格式): A4, 公文 margins, 仿宋_GB2312 三号 body on a
//! fixed 28 pt line, 黑体 headings, a 小标宋 title and a page number footer.
//!
//! Written by hand instead of with docx-rs, which pulls in the `image` crate. Every run
//! names its fonts explicitly: Word picks the font for CJK text from `w:eastAsia`, so a
//! run that only sets `w:ascii` would show Chinese in whatever the reader's default is.
//! The font table gives each 公文 font a commonly installed fallback (`w:altName`).
//!
//! Charts are real Word charts (a DrawingML chart part per chart, `word/charts/chartN.xml`,
//! with the values cached in the part), so Word and WPS draw them without a picture and a
//! reader can see the numbers. No workbook is embedded: "编辑数据" is not offered.
//!
//! ```
//! let mut d = gongkai_kernel::docx::Document::new();
//! d.title("政府信息公开申请答复书").plain("张三：").paragraph("本机关于……收到您的申请。");
//! d.right("某某市人民政府办公室").right("2025年3月1日");
//! let bytes = d.to_bytes().unwrap();
//! assert!(bytes.starts_with(b"PK"));
//! ```

use std::io::{Cursor, Write};

use time::OffsetDateTime;
use time::macros::format_description;
use zip::write::SimpleFileOptions;

const W_NS: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const R_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const WP_NS: &str = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing";
const A_NS: &str = "http://schemas.openxmlformats.org/drawingml/2006/main";
const C_NS: &str = "http://schemas.openxmlformats.org/drawingml/2006/chart";
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

const TITLE_FONT: &str = "方正小标宋简体";
const HEADING_FONT: &str = "黑体";
const BODY_FONT: &str = "仿宋_GB2312";
const PAGE_NUMBER_FONT: &str = "宋体";

/// Font sizes in half-points: 二号 22 pt, 三号 16 pt, 四号 14 pt.
const SIZE_TITLE: u32 = 44;
const SIZE_BODY: u32 = 32;
const SIZE_SMALL: u32 = 28;

/// Lengths in twips (1/20 pt; 1 mm = 56.69 twips).
const PAGE_W: u32 = 11906; // A4 210 mm
const PAGE_H: u32 = 16838; // A4 297 mm
const MARGIN_TOP: u32 = 2098; // 37 mm
const MARGIN_BOTTOM: u32 = 1984; // 35 mm
const MARGIN_LEFT: u32 = 1587; // 28 mm
const MARGIN_RIGHT: u32 = 1474; // 26 mm
/// GB/T 9704 puts the page number 7 mm below the type area: about 23 mm above the page edge.
const FOOTER_DISTANCE: u32 = 1304;
const TEXT_W: u32 = PAGE_W - MARGIN_LEFT - MARGIN_RIGHT;
/// Fixed line pitch of the body: 28 pt gives the standard's 22 lines per page.
const LINE_BODY: u32 = 560;
const LINE_TITLE: u32 = 700;
/// Two 三号 characters.
const INDENT_2_CHARS: u32 = 640;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Title,
    Heading,
    Body,
    Plain,
    Right,
}

#[derive(Debug, Clone)]
enum Block {
    Para(Kind, String),
    Table { header: Vec<String>, rows: Vec<Vec<String>> },
    PageBreak,
    Chart(usize), // index into `Document::charts`
}

/// A clustered column chart: one label per category and one or more named series of
/// values (a series shorter than the categories leaves the rest blank).
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    pub title: String,
    pub categories: Vec<String>,
    pub series: Vec<(String, Vec<f64>)>,
}

/// A document built block by block; `to_bytes` renders the .docx file.
#[derive(Debug, Clone, Default)]
pub struct Document {
    blocks: Vec<Block>,
    charts: Vec<BarChart>,
    meta_title: Option<String>,
    author: String,
    created_ms: Option<i64>,
}

impl Document {
    pub fn new() -> Self {
        Self::default()
    }

    /// The document title: centred, 二号 bold 方正小标宋简体 (宋体 where it is not installed).
    /// The first title also becomes the file's title property.
    pub fn title(&mut self, text: &str) -> &mut Self {
        if self.meta_title.is_none() {
            self.meta_title = Some(text.replace(['\r', '\n'], ""));
        }
        self.push(Kind::Title, text)
    }

    /// A section heading: 黑体 三号, indented two characters like the body (公文 一级标题),
    /// kept on the same page as the next paragraph. Uses the "heading 1" style so screen
    /// readers and Word's navigation pane see it as a heading.
    pub fn heading(&mut self, text: &str) -> &mut Self {
        self.push(Kind::Heading, text)
    }

    /// Body text: 仿宋_GB2312 三号, justified, first line indented two characters, 28 pt lines.
    pub fn paragraph(&mut self, text: &str) -> &mut Self {
        self.push(Kind::Body, text)
    }

    /// Body font without indent, e.g. the addressee line "张三：". Empty text is a blank line.
    pub fn plain(&mut self, text: &str) -> &mut Self {
        self.push(Kind::Plain, text)
    }

    /// Right-aligned body text: the signing organisation, the date.
    pub fn right(&mut self, text: &str) -> &mut Self {
        self.push(Kind::Right, text)
    }

    /// A bordered table across the type area. The header row (if any) repeats on every
    /// page; rows shorter than the widest row are padded with empty cells.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) -> &mut Self {
        if !header.is_empty() || !rows.is_empty() {
            self.blocks
                .push(Block::Table { header: header.iter().map(|s| s.to_string()).collect(), rows: rows.to_vec() });
        }
        self
    }

    /// A clustered column chart across the type area, as a Word chart part. Its title and
    /// values also become the drawing's description (alt text).
    pub fn bar_chart(&mut self, chart: BarChart) -> &mut Self {
        if !chart.categories.is_empty() && !chart.series.is_empty() {
            self.charts.push(chart);
            self.blocks.push(Block::Chart(self.charts.len() - 1));
        }
        self
    }

    pub fn page_break(&mut self) -> &mut Self {
        self.blocks.push(Block::PageBreak);
        self
    }

    /// The author property (dc:creator), e.g. the issuing organisation.
    pub fn author(&mut self, name: &str) -> &mut Self {
        self.author = name.to_string();
        self
    }

    /// Creation time (epoch ms) for the properties and zip entries; defaults to now.
    pub fn created_at(&mut self, ms: i64) -> &mut Self {
        self.created_ms = Some(ms);
        self
    }

    fn push(&mut self, kind: Kind, text: &str) -> &mut Self {
        self.blocks.push(Block::Para(kind, text.to_string()));
        self
    }

    /// The .docx file.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let ms = self.created_ms.unwrap_or_else(crate::clock::now_ms);
        let n = self.charts.len();
        let mut parts: Vec<(String, String)> = vec![
            ("[Content_Types].xml".into(), content_types(n)),
            ("_rels/.rels".into(), root_rels()),
            ("docProps/core.xml".into(), self.core_xml(ms)),
            ("docProps/app.xml".into(), app_xml()),
            ("word/_rels/document.xml.rels".into(), document_rels(n)),
            ("word/document.xml".into(), self.document_xml()),
            ("word/styles.xml".into(), styles_xml()),
            ("word/settings.xml".into(), settings_xml()),
            ("word/fontTable.xml".into(), font_table_xml()),
            ("word/footer1.xml".into(), footer_xml()),
        ];
        for (i, c) in self.charts.iter().enumerate() {
            parts.push((format!("word/charts/chart{}.xml", i + 1), chart_xml(c)));
        }
        let local = crate::clock::ms_to_local(ms);
        // Zip timestamps are local time and cannot go before 1980; fall back to the zip epoch.
        let stamp = zip::DateTime::from_date_and_time(
            u16::try_from(local.year()).unwrap_or(1980),
            local.month() as u8,
            local.day(),
            local.hour(),
            local.minute(),
            local.second(),
        )
        .unwrap_or_default();
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).last_modified_time(stamp);
        let fail = |e: &dyn std::fmt::Display| format!("生成 Word 文档失败：{e}");
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, xml) in parts {
            zip.start_file(name.as_str(), options).map_err(|e| fail(&e))?;
            zip.write_all(xml.as_bytes()).map_err(|e| fail(&e))?;
        }
        Ok(zip.finish().map_err(|e| fail(&e))?.into_inner())
    }

    fn document_xml(&self) -> String {
        let mut b = String::with_capacity(4096);
        b.push_str(XML_DECL);
        b.push_str(&format!("<w:document xmlns:w=\"{W_NS}\" xmlns:r=\"{R_NS}\" xmlns:wp=\"{WP_NS}\"><w:body>"));
        for block in &self.blocks {
            match block {
                Block::Para(kind, text) => para(&mut b, *kind, text),
                Block::Table { header, rows } => table(&mut b, header, rows),
                Block::PageBreak => {
                    let props = rpr(BODY_FONT, SIZE_BODY, false);
                    b.push_str(&format!(
                        "<w:p><w:pPr>{}{props}</w:pPr><w:r>{props}<w:br w:type=\"page\"/></w:r></w:p>",
                        spacing(0, LINE_BODY)
                    ));
                }
                Block::Chart(i) => {
                    if let Some(c) = self.charts.get(*i) {
                        drawing(&mut b, *i, c);
                    }
                }
            }
        }
        // Word expects the body to end with a paragraph, not a table.
        if matches!(self.blocks.last(), Some(Block::Table { .. })) {
            b.push_str("<w:p/>");
        }
        b.push_str(&format!(
            "<w:sectPr><w:footerReference w:type=\"default\" r:id=\"rId4\"/>\
             <w:pgSz w:w=\"{PAGE_W}\" w:h=\"{PAGE_H}\"/>\
             <w:pgMar w:top=\"{MARGIN_TOP}\" w:right=\"{MARGIN_RIGHT}\" w:bottom=\"{MARGIN_BOTTOM}\" \
             w:left=\"{MARGIN_LEFT}\" w:header=\"851\" w:footer=\"{FOOTER_DISTANCE}\" w:gutter=\"0\"/>\
             <w:cols w:space=\"425\"/></w:sectPr></w:body></w:document>"
        ));
        b
    }

    fn core_xml(&self, ms: i64) -> String {
        let when = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
            .unwrap_or_default();
        format!(
            "{XML_DECL}<cp:coreProperties \
             xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
             xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" \
             xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
             <dc:title>{}</dc:title><dc:creator>{}</dc:creator><dc:language>zh-CN</dc:language>\
             <dcterms:created xsi:type=\"dcterms:W3CDTF\">{when}</dcterms:created>\
             <dcterms:modified xsi:type=\"dcterms:W3CDTF\">{when}</dcterms:modified></cp:coreProperties>",
            escape(self.meta_title.as_deref().unwrap_or("")),
            escape(&self.author),
        )
    }
}

/// Run properties with every font slot named, so CJK and Latin text both get the 公文 font.
fn rpr(font: &str, size: u32, bold: bool) -> String {
    let f = escape(font);
    format!(
        "<w:rPr><w:rFonts w:hint=\"eastAsia\" w:ascii=\"{f}\" w:hAnsi=\"{f}\" w:eastAsia=\"{f}\" w:cs=\"{f}\"/>{}\
         <w:sz w:val=\"{size}\"/><w:szCs w:val=\"{size}\"/><w:lang w:val=\"en-US\" w:eastAsia=\"zh-CN\"/></w:rPr>",
        if bold { "<w:b/><w:bCs/>" } else { "" },
    )
}

/// One run holding `text`; newlines become `<w:br/>`, tabs `<w:tab/>`. Empty text adds nothing.
fn run(b: &mut String, rpr: &str, text: &str) {
    let text = clean(text);
    if text.is_empty() {
        return;
    }
    b.push_str("<w:r>");
    b.push_str(rpr);
    let mut chunk = String::new();
    let flush = |b: &mut String, chunk: &mut String| {
        if !chunk.is_empty() {
            b.push_str("<w:t xml:space=\"preserve\">");
            b.push_str(&escape(chunk));
            b.push_str("</w:t>");
            chunk.clear();
        }
    };
    for c in text.chars() {
        match c {
            '\n' => {
                flush(b, &mut chunk);
                b.push_str("<w:br/>");
            }
            '\t' => {
                flush(b, &mut chunk);
                b.push_str("<w:tab/>");
            }
            c => chunk.push(c),
        }
    }
    flush(b, &mut chunk);
    b.push_str("</w:r>");
}

fn spacing(after: u32, line: u32) -> String {
    format!("<w:spacing w:before=\"0\" w:after=\"{after}\" w:line=\"{line}\" w:lineRule=\"exact\"/>")
}

fn para(b: &mut String, kind: Kind, text: &str) {
    let indent = format!("<w:ind w:firstLineChars=\"200\" w:firstLine=\"{INDENT_2_CHARS}\"/>");
    let (ppr, props) = match kind {
        Kind::Title => (
            format!("<w:pStyle w:val=\"Title\"/>{}<w:jc w:val=\"center\"/>", spacing(LINE_BODY, LINE_TITLE)),
            rpr(TITLE_FONT, SIZE_TITLE, true),
        ),
        Kind::Heading => (
            format!(
                "<w:pStyle w:val=\"Heading1\"/><w:keepNext/>{}{indent}<w:jc w:val=\"both\"/>",
                spacing(0, LINE_BODY)
            ),
            rpr(HEADING_FONT, SIZE_BODY, false),
        ),
        Kind::Body => {
            (format!("{}{indent}<w:jc w:val=\"both\"/>", spacing(0, LINE_BODY)), rpr(BODY_FONT, SIZE_BODY, false))
        }
        Kind::Plain => (format!("{}<w:jc w:val=\"left\"/>", spacing(0, LINE_BODY)), rpr(BODY_FONT, SIZE_BODY, false)),
        Kind::Right => (format!("{}<w:jc w:val=\"right\"/>", spacing(0, LINE_BODY)), rpr(BODY_FONT, SIZE_BODY, false)),
    };
    b.push_str("<w:p><w:pPr>");
    b.push_str(&ppr);
    // The paragraph mark takes the run's font too, so an empty line keeps the 28 pt grid.
    b.push_str(&props);
    b.push_str("</w:pPr>");
    run(b, &props, text);
    b.push_str("</w:p>");
}

fn table(b: &mut String, header: &[String], rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).chain(std::iter::once(header.len())).max().unwrap_or(0).max(1);
    let col_w = TEXT_W / cols as u32;
    b.push_str(&format!(
        "<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/><w:tblW w:w=\"{}\" w:type=\"dxa\"/>\
         <w:jc w:val=\"center\"/>{}<w:tblLayout w:type=\"fixed\"/>\
         <w:tblLook w:val=\"04A0\" w:firstRow=\"1\" w:lastRow=\"0\" w:firstColumn=\"0\" w:lastColumn=\"0\" \
         w:noHBand=\"0\" w:noVBand=\"1\"/></w:tblPr><w:tblGrid>",
        col_w * cols as u32,
        borders(),
    ));
    for _ in 0..cols {
        b.push_str(&format!("<w:gridCol w:w=\"{col_w}\"/>"));
    }
    b.push_str("</w:tblGrid>");
    if !header.is_empty() {
        row(b, header, cols, col_w, true);
    }
    for r in rows {
        row(b, r, cols, col_w, false);
    }
    b.push_str("</w:tbl>");
}

fn row(b: &mut String, cells: &[String], cols: usize, col_w: u32, header: bool) {
    b.push_str("<w:tr><w:trPr><w:cantSplit/>");
    if header {
        b.push_str("<w:tblHeader/>");
    }
    b.push_str("</w:trPr>");
    let (props, jc, shade) = if header {
        (rpr(HEADING_FONT, SIZE_SMALL, false), "center", "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"E7E6E6\"/>")
    } else {
        (rpr(BODY_FONT, SIZE_SMALL, false), "left", "")
    };
    for i in 0..cols {
        let text = cells.get(i).map(String::as_str).unwrap_or("");
        b.push_str(&format!(
            "<w:tc><w:tcPr><w:tcW w:w=\"{col_w}\" w:type=\"dxa\"/>{shade}<w:vAlign w:val=\"center\"/></w:tcPr>\
             <w:p><w:pPr><w:spacing w:before=\"0\" w:after=\"0\" w:line=\"240\" w:lineRule=\"auto\"/>\
             <w:jc w:val=\"{jc}\"/>{props}</w:pPr>"
        ));
        run(b, &props, text);
        b.push_str("</w:p></w:tc>");
    }
    b.push_str("</w:tr>");
}

/// Half-point (sz 4 = 0.5 pt) black lines around and between all cells.
fn borders() -> String {
    let mut s = String::from("<w:tblBorders>");
    for side in ["top", "left", "bottom", "right", "insideH", "insideV"] {
        s.push_str(&format!("<w:{side} w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"));
    }
    s.push_str("</w:tblBorders>");
    s
}

/// Text safe for XML 1.0: control characters other than tab and newline are dropped
/// (CR and CRLF become newline), as are U+FFFE/U+FFFF and the C1 controls.
fn clean(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.chars()
        .filter(|&c| c == '\t' || c == '\n' || !(c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}'))
        .collect()
}

/// XML escaping for text and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn content_types(charts: usize) -> String {
    const WML: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml";
    let chart_parts: String = (1..=charts)
        .map(|i| {
            format!(
                "<Override PartName=\"/word/charts/chart{i}.xml\" \
                 ContentType=\"application/vnd.openxmlformats-officedocument.drawingml.chart+xml\"/>"
            )
        })
        .collect();
    format!(
        "{XML_DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/word/document.xml\" ContentType=\"{WML}.document.main+xml\"/>\
         <Override PartName=\"/word/styles.xml\" ContentType=\"{WML}.styles+xml\"/>\
         <Override PartName=\"/word/settings.xml\" ContentType=\"{WML}.settings+xml\"/>\
         <Override PartName=\"/word/fontTable.xml\" ContentType=\"{WML}.fontTable+xml\"/>\
         <Override PartName=\"/word/footer1.xml\" ContentType=\"{WML}.footer+xml\"/>\
         <Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
         <Override PartName=\"/docProps/app.xml\" \
         ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/>{chart_parts}</Types>"
    )
}

fn root_rels() -> String {
    format!(
        "{XML_DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" \
         Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" \
         Target=\"word/document.xml\"/>\
         <Relationship Id=\"rId2\" \
         Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" \
         Target=\"docProps/core.xml\"/>\
         <Relationship Id=\"rId3\" \
         Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties\" \
         Target=\"docProps/app.xml\"/></Relationships>"
    )
}

/// Chart `i` (0-based) is relationship `rId{5 + i}`, after the four fixed parts.
fn chart_rel_id(i: usize) -> String {
    format!("rId{}", 5 + i)
}

fn document_rels(charts: usize) -> String {
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let chart_rels: String = (0..charts)
        .map(|i| {
            format!(
                "<Relationship Id=\"{}\" Type=\"{REL}/chart\" Target=\"charts/chart{}.xml\"/>",
                chart_rel_id(i),
                i + 1
            )
        })
        .collect();
    format!(
        "{XML_DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" Type=\"{REL}/styles\" Target=\"styles.xml\"/>\
         <Relationship Id=\"rId2\" Type=\"{REL}/settings\" Target=\"settings.xml\"/>\
         <Relationship Id=\"rId3\" Type=\"{REL}/fontTable\" Target=\"fontTable.xml\"/>\
         <Relationship Id=\"rId4\" Type=\"{REL}/footer\" Target=\"footer1.xml\"/>{chart_rels}</Relationships>"
    )
}

/// Chart size: the type area's width (1 twip = 635 EMU), 9 cm high.
const CHART_CX: u64 = TEXT_W as u64 * 635;
const CHART_CY: u64 = 3_240_000;
const CHART_COLOURS: [&str; 4] = ["1F5FA8", "E07B39", "4C9A5F", "A23B72"];

/// A value as DrawingML caches it: integers without a fraction.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

/// The chart's title and values in words, for the drawing's description.
fn chart_description(c: &BarChart) -> String {
    let mut parts = Vec::new();
    for (name, values) in &c.series {
        let items: Vec<String> = c
            .categories
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite())
            .map(|(cat, v)| format!("{cat} {}", num(*v)))
            .collect();
        parts.push(format!("{name}：{}", items.join("，")));
    }
    format!("{}。{}", c.title, parts.join("；"))
}

/// The paragraph holding chart `i` inline, centred (a line pitch that fits the drawing).
fn drawing(b: &mut String, i: usize, c: &BarChart) {
    let props = rpr(BODY_FONT, SIZE_BODY, false);
    b.push_str(&format!(
        "<w:p><w:pPr><w:keepNext/><w:spacing w:before=\"0\" w:after=\"120\" w:line=\"240\" w:lineRule=\"auto\"/>\
         <w:jc w:val=\"center\"/>{props}</w:pPr><w:r>{props}<w:drawing>\
         <wp:inline distT=\"0\" distB=\"0\" distL=\"0\" distR=\"0\"><wp:extent cx=\"{CHART_CX}\" cy=\"{CHART_CY}\"/>\
         <wp:effectExtent l=\"0\" t=\"0\" r=\"0\" b=\"0\"/><wp:docPr id=\"{}\" name=\"图表 {}\" descr=\"{}\"/>\
         <wp:cNvGraphicFramePr/><a:graphic xmlns:a=\"{A_NS}\"><a:graphicData uri=\"{C_NS}\">\
         <c:chart xmlns:c=\"{C_NS}\" r:id=\"{}\"/></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>",
        i + 1,
        i + 1,
        escape(&chart_description(c)),
        chart_rel_id(i),
    ));
}

/// DrawingML run properties naming the Latin and East Asian typeface.
fn chart_font(font: &str, size: u32, tag: &str) -> String {
    let f = escape(font);
    format!(
        "<a:{tag} sz=\"{size}\" b=\"0\"><a:latin typeface=\"{f}\"/><a:ea typeface=\"{f}\"/><a:cs typeface=\"{f}\"/></a:{tag}>"
    )
}

/// `word/charts/chartN.xml`: a clustered column chart with its categories and values
/// cached, a category and a value axis, the legend below.
fn chart_xml(c: &BarChart) -> String {
    let n = c.categories.len();
    let mut sers = String::new();
    for (si, (name, values)) in c.series.iter().enumerate() {
        let col = column_letter(si + 1);
        let mut cats = String::new();
        for (i, label) in c.categories.iter().enumerate() {
            cats.push_str(&format!("<c:pt idx=\"{i}\"><c:v>{}</c:v></c:pt>", escape(label)));
        }
        let mut vals = String::new();
        for (i, v) in values.iter().take(n).enumerate().filter(|(_, v)| v.is_finite()) {
            vals.push_str(&format!("<c:pt idx=\"{i}\"><c:v>{}</c:v></c:pt>", num(*v)));
        }
        sers.push_str(&format!(
            "<c:ser><c:idx val=\"{si}\"/><c:order val=\"{si}\"/>\
             <c:tx><c:strRef><c:f>Sheet1!${col}$1</c:f><c:strCache><c:ptCount val=\"1\"/>\
             <c:pt idx=\"0\"><c:v>{}</c:v></c:pt></c:strCache></c:strRef></c:tx>\
             <c:spPr><a:solidFill><a:srgbClr val=\"{}\"/></a:solidFill></c:spPr><c:invertIfNegative val=\"0\"/>\
             <c:dLbls><c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr><c:showLegendKey val=\"0\"/><c:showVal val=\"1\"/>\
             <c:showCatName val=\"0\"/><c:showSerName val=\"0\"/><c:showPercent val=\"0\"/><c:showBubbleSize val=\"0\"/></c:dLbls>\
             <c:cat><c:strRef><c:f>Sheet1!$A$2:$A${}</c:f><c:strCache><c:ptCount val=\"{n}\"/>{cats}</c:strCache></c:strRef></c:cat>\
             <c:val><c:numRef><c:f>Sheet1!${col}$2:${col}${}</c:f><c:numCache><c:formatCode>General</c:formatCode>\
             <c:ptCount val=\"{n}\"/>{vals}</c:numCache></c:numRef></c:val></c:ser>",
            escape(name),
            CHART_COLOURS[si % CHART_COLOURS.len()],
            n + 1,
            n + 1,
        ));
    }
    let text = chart_font(HEADING_FONT, 1400, "defRPr");
    let body = chart_font(PAGE_NUMBER_FONT, 1000, "defRPr");
    let title_run =
        chart_font(HEADING_FONT, 1400, "rPr").replacen("<a:rPr ", "<a:rPr lang=\"zh-CN\" altLang=\"en-US\" ", 1);
    format!(
        "{XML_DECL}<c:chartSpace xmlns:c=\"{C_NS}\" xmlns:a=\"{A_NS}\" xmlns:r=\"{R_NS}\">\
         <c:date1904 val=\"0\"/><c:lang val=\"zh-CN\"/><c:roundedCorners val=\"0\"/><c:chart>\
         <c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr>{text}</a:pPr><a:r>{title_run}<a:t>{}</a:t></a:r></a:p>\
         </c:rich></c:tx><c:overlay val=\"0\"/></c:title><c:autoTitleDeleted val=\"0\"/>\
         <c:plotArea><c:layout/><c:barChart><c:barDir val=\"col\"/><c:grouping val=\"clustered\"/>\
         <c:varyColors val=\"0\"/>{sers}<c:gapWidth val=\"150\"/><c:axId val=\"50010001\"/><c:axId val=\"50010002\"/>\
         </c:barChart><c:catAx><c:axId val=\"50010001\"/><c:scaling><c:orientation val=\"minMax\"/></c:scaling>\
         <c:delete val=\"0\"/><c:axPos val=\"b\"/><c:numFmt formatCode=\"General\" sourceLinked=\"0\"/>\
         <c:majorTickMark val=\"out\"/><c:minorTickMark val=\"none\"/><c:tickLblPos val=\"nextTo\"/>\
         <c:crossAx val=\"50010002\"/><c:crosses val=\"autoZero\"/><c:auto val=\"1\"/><c:lblAlgn val=\"ctr\"/>\
         <c:lblOffset val=\"100\"/><c:noMultiLvlLbl val=\"0\"/></c:catAx><c:valAx><c:axId val=\"50010002\"/>\
         <c:scaling><c:orientation val=\"minMax\"/></c:scaling><c:delete val=\"0\"/><c:axPos val=\"l\"/><c:majorGridlines/>\
         <c:numFmt formatCode=\"General\" sourceLinked=\"0\"/><c:majorTickMark val=\"out\"/><c:minorTickMark val=\"none\"/>\
         <c:tickLblPos val=\"nextTo\"/><c:crossAx val=\"50010001\"/><c:crosses val=\"autoZero\"/>\
         <c:crossBetween val=\"between\"/></c:valAx></c:plotArea><c:legend><c:legendPos val=\"b\"/>\
         <c:overlay val=\"0\"/></c:legend><c:plotVisOnly val=\"1\"/><c:dispBlanksAs val=\"gap\"/></c:chart>\
         <c:txPr><a:bodyPr/><a:lstStyle/><a:p><a:pPr>{body}</a:pPr><a:endParaRPr lang=\"zh-CN\"/></a:p></c:txPr>\
         </c:chartSpace>",
        escape(&c.title),
    )
}

/// Spreadsheet column letters of the (notional) data sheet: 0 → A, 1 → B, … 26 → AA.
fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn app_xml() -> String {
    format!(
        "{XML_DECL}<Properties \
         xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\" \
         xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">\
         <Application>gongkai</Application><DocSecurity>0</DocSecurity></Properties>"
    )
}

fn styles_xml() -> String {
    let body = rpr(BODY_FONT, SIZE_BODY, false);
    let title = rpr(TITLE_FONT, SIZE_TITLE, true);
    let heading = rpr(HEADING_FONT, SIZE_BODY, false);
    format!(
        "{XML_DECL}<w:styles xmlns:w=\"{W_NS}\"><w:docDefaults><w:rPrDefault>{body}</w:rPrDefault>\
         <w:pPrDefault><w:pPr>{}<w:jc w:val=\"both\"/></w:pPr></w:pPrDefault></w:docDefaults>\
         <w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:qFormat/></w:style>\
         <w:style w:type=\"paragraph\" w:styleId=\"Title\"><w:name w:val=\"Title\"/><w:basedOn w:val=\"Normal\"/>\
         <w:next w:val=\"Normal\"/><w:qFormat/><w:pPr><w:jc w:val=\"center\"/></w:pPr>{title}</w:style>\
         <w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name w:val=\"heading 1\"/><w:basedOn w:val=\"Normal\"/>\
         <w:next w:val=\"Normal\"/><w:qFormat/><w:pPr><w:keepNext/><w:outlineLvl w:val=\"0\"/></w:pPr>{heading}</w:style>\
         <w:style w:type=\"character\" w:default=\"1\" w:styleId=\"DefaultParagraphFont\">\
         <w:name w:val=\"Default Paragraph Font\"/><w:uiPriority w:val=\"1\"/><w:semiHidden/></w:style>\
         <w:style w:type=\"table\" w:default=\"1\" w:styleId=\"TableNormal\"><w:name w:val=\"Normal Table\"/>\
         <w:uiPriority w:val=\"99\"/><w:semiHidden/><w:tblPr><w:tblInd w:w=\"0\" w:type=\"dxa\"/><w:tblCellMar>\
         <w:top w:w=\"0\" w:type=\"dxa\"/><w:left w:w=\"108\" w:type=\"dxa\"/><w:bottom w:w=\"0\" w:type=\"dxa\"/>\
         <w:right w:w=\"108\" w:type=\"dxa\"/></w:tblCellMar></w:tblPr></w:style>\
         <w:style w:type=\"table\" w:styleId=\"TableGrid\"><w:name w:val=\"Table Grid\"/>\
         <w:basedOn w:val=\"TableNormal\"/><w:uiPriority w:val=\"39\"/><w:tblPr>{}</w:tblPr></w:style></w:styles>",
        spacing(0, LINE_BODY),
        borders(),
    )
}

fn settings_xml() -> String {
    // doNotExpandShiftReturn: a justified line ending in a manual break (`\n` in the text)
    // is not stretched across the width.
    format!(
        "{XML_DECL}<w:settings xmlns:w=\"{W_NS}\"><w:zoom w:percent=\"100\"/><w:defaultTabStop w:val=\"420\"/>\
         <w:characterSpacingControl w:val=\"compressPunctuation\"/><w:compat><w:doNotExpandShiftReturn/>\
         <w:compatSetting w:name=\"compatibilityMode\" w:uri=\"http://schemas.microsoft.com/office/word\" w:val=\"15\"/>\
         </w:compat><w:themeFontLang w:val=\"en-US\" w:eastAsia=\"zh-CN\"/></w:settings>"
    )
}

fn font_table_xml() -> String {
    // charset 86 is GB2312: a reader without the named font substitutes a Chinese one.
    let font = |name: &str, alt: &str, family: &str, pitch: &str| {
        format!(
            "<w:font w:name=\"{name}\"><w:altName w:val=\"{alt}\"/><w:charset w:val=\"86\"/>\
             <w:family w:val=\"{family}\"/><w:pitch w:val=\"{pitch}\"/></w:font>"
        )
    };
    format!(
        "{XML_DECL}<w:fonts xmlns:w=\"{W_NS}\">{}{}{}{}{}</w:fonts>",
        font(BODY_FONT, "仿宋", "modern", "fixed"),
        font(TITLE_FONT, "宋体", "auto", "variable"),
        font(HEADING_FONT, "SimHei", "modern", "fixed"),
        font("仿宋", "FangSong", "modern", "fixed"),
        font(PAGE_NUMBER_FONT, "SimSun", "auto", "variable"),
    )
}

/// Centred page number "— 1 —" in 四号 宋体 (GB/T 9704 7.5).
fn footer_xml() -> String {
    let p = rpr(PAGE_NUMBER_FONT, SIZE_SMALL, false);
    format!(
        "{XML_DECL}<w:ftr xmlns:w=\"{W_NS}\" xmlns:r=\"{R_NS}\"><w:p><w:pPr><w:jc w:val=\"center\"/>{p}</w:pPr>\
         <w:r>{p}<w:t xml:space=\"preserve\">— </w:t></w:r><w:r>{p}<w:fldChar w:fldCharType=\"begin\"/></w:r>\
         <w:r>{p}<w:instrText xml:space=\"preserve\"> PAGE </w:instrText></w:r>\
         <w:r>{p}<w:fldChar w:fldCharType=\"separate\"/></w:r><w:r>{p}<w:t>1</w:t></w:r>\
         <w:r>{p}<w:fldChar w:fldCharType=\"end\"/></w:r><w:r>{p}<w:t xml:space=\"preserve\"> —</w:t></w:r></w:p></w:ftr>"
    )
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn parts(bytes: &[u8]) -> Vec<(String, String)> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip opens");
        let mut out = Vec::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).expect("entry");
            let mut s = String::new();
            f.read_to_string(&mut s).expect("utf-8 entry");
            out.push((f.name().expect("entry name").to_string(), s));
        }
        out
    }

    fn part<'a>(parts: &'a [(String, String)], name: &str) -> &'a str {
        parts.iter().find(|(n, _)| n == name).map(|(_, s)| s.as_str()).unwrap_or_else(|| panic!("{name} missing"))
    }

    /// Tags balance and every `&` starts an entity: a small well-formedness check.
    fn assert_well_formed(xml: &str) {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = xml.strip_prefix(XML_DECL).expect("declaration");
        while let Some(start) = rest.find('<') {
            let text = &rest[..start];
            assert!(!text.contains('>'), "stray > in {text}");
            for (i, _) in text.match_indices('&') {
                let ent = &text[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| ent.starts_with(e)),
                    "bad & in {text}"
                );
            }
            let end = rest[start..].find('>').expect("tag closes") + start;
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "< inside tag {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "closing {name}");
            } else if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().expect("tag name"));
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed {stack:?}");
    }

    fn sample() -> Document {
        let mut d = Document::new();
        d.created_at(1_740_000_000_000)
            .author("某某市人民政府办公室")
            .title("政府信息公开申请答复书")
            .plain("张三：")
            .heading("一、申请内容")
            .paragraph("您申请公开 A & B <c> \"d\" 'e'\u{1}\u{b}的信息。\n第二行\tTab")
            .table(
                &["序号", "信息名称", "答复"],
                &[vec!["1".into(), "预算 <2025>".into(), "公开".into()], vec!["2".into()]],
            )
            .page_break()
            .right("某某市人民政府办公室")
            .right("2025年3月1日");
        d
    }

    #[test]
    fn zip_has_all_parts_and_well_formed_xml() {
        let bytes = sample().to_bytes().expect("docx");
        let parts = parts(&bytes);
        assert_eq!(parts[0].0, "[Content_Types].xml");
        for name in [
            "_rels/.rels",
            "word/document.xml",
            "word/styles.xml",
            "word/settings.xml",
            "word/fontTable.xml",
            "word/footer1.xml",
            "word/_rels/document.xml.rels",
            "docProps/core.xml",
            "docProps/app.xml",
        ] {
            part(&parts, name);
        }
        for (name, xml) in &parts {
            assert_well_formed(xml);
            if let Some(p) = name.strip_prefix("word/").filter(|n| !n.starts_with('_')) {
                assert!(part(&parts, "[Content_Types].xml").contains(&format!("/word/{p}")), "{p} has a content type");
            }
        }
        let core = part(&parts, "docProps/core.xml");
        assert!(core.contains("<dc:title>政府信息公开申请答复书</dc:title>"));
        assert!(core.contains("2025-02-19T21:20:00Z"), "{core}");
        let styles = part(&parts, "word/styles.xml");
        assert!(styles.contains("<w:rPrDefault><w:rPr><w:rFonts w:hint=\"eastAsia\" w:ascii=\"仿宋_GB2312\""));
    }

    #[test]
    fn text_is_escaped_and_cleaned() {
        let bytes = sample().to_bytes().expect("docx");
        let doc = part(&parts(&bytes), "word/document.xml").to_string();
        assert!(
            doc.contains("您申请公开 A &amp; B &lt;c&gt; &quot;d&quot; &apos;e&apos;的信息。</w:t><w:br/>"),
            "{doc}"
        );
        assert!(doc.contains("第二行</w:t><w:tab/><w:t xml:space=\"preserve\">Tab</w:t>"));
        assert!(!doc.contains('\u{1}') && !doc.contains('\u{b}'));
        assert!(doc.contains("预算 &lt;2025&gt;"));
        assert!(doc.contains("<w:br w:type=\"page\"/>"));
        assert!(doc.contains("<w:pgSz w:w=\"11906\" w:h=\"16838\"/>"));
        assert!(doc.contains("w:top=\"2098\" w:right=\"1474\" w:bottom=\"1984\" w:left=\"1587\""));
        assert_eq!(clean("a\r\nb\rc\u{7f}\u{85}\u{fffe}d"), "a\nb\ncd");
    }

    #[test]
    fn every_run_names_east_asian_font() {
        let bytes = sample().to_bytes().expect("docx");
        let parts = parts(&bytes);
        for name in ["word/document.xml", "word/footer1.xml"] {
            let xml = part(&parts, name);
            let runs: Vec<&str> = xml.split("<w:r>").skip(1).collect();
            assert!(runs.len() >= 5, "{name}");
            for r in runs {
                let props = &r[..r.find("</w:rPr>").expect("run has rPr")];
                assert!(props.starts_with("<w:rPr><w:rFonts "), "{props}");
                assert!(
                    props.contains("w:eastAsia=\"") && props.contains("w:ascii=\"") && props.contains("w:hAnsi=\"")
                );
                assert!(props.contains("<w:lang w:val=\"en-US\" w:eastAsia=\"zh-CN\"/>"));
            }
        }
        let doc = part(&parts, "word/document.xml");
        assert!(doc.contains("w:eastAsia=\"方正小标宋简体\""));
        assert!(doc.contains("w:eastAsia=\"黑体\""));
        assert!(doc.contains("w:eastAsia=\"仿宋_GB2312\""));
        assert!(doc.contains("<w:ind w:firstLineChars=\"200\" w:firstLine=\"640\"/>"));
        assert!(doc.contains("w:line=\"560\" w:lineRule=\"exact\""));
        assert!(doc.contains("<w:sz w:val=\"44\"/>") && doc.contains("<w:b/>"));
    }

    #[test]
    fn table_has_rows_and_padded_cells() {
        let bytes = sample().to_bytes().expect("docx");
        let doc = part(&parts(&bytes), "word/document.xml").to_string();
        assert_eq!(doc.matches("<w:tbl>").count(), 1);
        assert_eq!(doc.matches("<w:tr>").count(), 3);
        assert_eq!(doc.matches("<w:tc>").count(), 9);
        assert_eq!(doc.matches("<w:gridCol ").count(), 3);
        assert_eq!(doc.matches("<w:tblHeader/>").count(), 1);
        // Every cell holds a paragraph, even the padded empty ones.
        assert_eq!(doc.matches("</w:p></w:tc>").count(), 9);
        assert!(doc.contains("<w:tblBorders><w:top w:val=\"single\""));

        // A document ending in a table still ends its body with a paragraph.
        let mut d = Document::new();
        d.table(&[], &[vec!["a".into(), "b".into()]]);
        let doc = part(&parts(&d.to_bytes().expect("docx")), "word/document.xml").to_string();
        assert_eq!(doc.matches("<w:tc>").count(), 2);
        assert!(!doc.contains("<w:tblHeader/>"));
        assert!(doc.contains("</w:tbl><w:p/><w:sectPr>"));
        assert_well_formed(&doc);
    }

    #[test]
    fn empty_document_is_valid() {
        let bytes = Document::new().to_bytes().expect("docx");
        let parts = parts(&bytes);
        let doc = part(&parts, "word/document.xml");
        assert_well_formed(doc);
        assert!(doc.contains("<w:body><w:sectPr>"));
        let mut d = Document::new();
        d.table(&[], &[]).plain("");
        let doc = part(&parts_of(&d), "word/document.xml").to_string();
        assert!(!doc.contains("<w:tbl>") && !doc.contains("<w:r>"));
    }

    fn parts_of(d: &Document) -> Vec<(String, String)> {
        parts(&d.to_bytes().expect("docx"))
    }

    #[test]
    fn charts_are_chart_parts_with_cached_values() {
        let mut d = sample();
        d.bar_chart(BarChart {
            title: "各渠道受理量 <本月>".into(),
            categories: vec!["电话".into(), "网站".into(), "微信".into()],
            series: vec![("本月".into(), vec![12.0, 3.0, 0.5]), ("上月".into(), vec![10.0, 4.0])],
        })
        .bar_chart(BarChart { title: "空".into(), categories: vec![], series: vec![] })
        .bar_chart(BarChart {
            title: "第二张".into(),
            categories: vec!["甲".into()],
            series: vec![("数".into(), vec![1.0])],
        });
        let parts = parts_of(&d);
        for (_, xml) in &parts {
            assert_well_formed(xml);
        }
        let types = part(&parts, "[Content_Types].xml");
        let rels = part(&parts, "word/_rels/document.xml.rels");
        for i in [1, 2] {
            assert!(types.contains(&format!(
                "<Override PartName=\"/word/charts/chart{i}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.drawingml.chart+xml\"/>"
            )));
            assert!(rels.contains(&format!("Target=\"charts/chart{i}.xml\"/>")));
        }
        assert!(!parts.iter().any(|(n, _)| n == "word/charts/chart3.xml"), "an empty chart adds nothing");
        assert!(rels.contains("<Relationship Id=\"rId5\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart\""));
        let doc = part(&parts, "word/document.xml");
        assert_eq!(doc.matches("<c:chart ").count(), 2);
        assert!(doc.contains("r:id=\"rId5\"") && doc.contains("r:id=\"rId6\""));
        assert!(
            doc.contains("descr=\"各渠道受理量 &lt;本月&gt;。本月：电话 12，网站 3，微信 0.5；上月：电话 10，网站 4\"")
        );
        let chart = part(&parts, "word/charts/chart1.xml");
        assert!(chart.contains("<c:barChart><c:barDir val=\"col\"/>"));
        assert_eq!(chart.matches("<c:ser>").count(), 2);
        assert!(chart.contains("<c:pt idx=\"2\"><c:v>0.5</c:v></c:pt>"));
        assert!(chart.contains("<c:v>微信</c:v>"));
        assert!(chart.contains("<a:ea typeface=\"黑体\"/>"));
        assert!(chart.contains("<c:f>Sheet1!$C$1</c:f>"));
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(26), "AA");
    }
}
