//! Export of questionnaire responses: one row per response, one column per question, as
//! CSV (UTF-8 with a BOM, so Excel opens Chinese text correctly) and XLSX.

use gongkai_kernel::error::{Error, Result};

use super::rules::{Answer, Answers, QKind, Question};

/// The table: header and rows of cell text.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A response's cell for one question: option labels (several joined by "；"), the
/// rating, the text; empty when unanswered or skipped.
fn cell(q: &Question, a: Option<&Answer>) -> String {
    let label = |i: &usize| q.options.get(*i).cloned().unwrap_or_default();
    match a {
        None => String::new(),
        Some(Answer::Choice(i)) => label(i),
        Some(Answer::Choices(is)) => is.iter().map(label).collect::<Vec<_>>().join("；"),
        Some(Answer::Rating(r)) => r.to_string(),
        Some(Answer::Text(t)) => t.clone(),
    }
}

/// `responses`: (submission time as shown, answers).
pub fn table(qs: &[Question], responses: &[(String, Answers)]) -> Table {
    let mut header = vec!["序号".to_string(), "提交时间".to_string()];
    header.extend(qs.iter().map(|q| {
        let suffix = if q.kind == QKind::Rating { "（1–5分）" } else { "" };
        format!("{}. {}{suffix}", q.id, q.text)
    }));
    let rows = responses
        .iter()
        .enumerate()
        .map(|(i, (at, a))| {
            let mut r = vec![(i + 1).to_string(), at.clone()];
            r.extend(qs.iter().map(|q| cell(q, a.get(&q.id))));
            r
        })
        .collect();
    Table { header, rows }
}

/// A CSV field: quoted when needed; text a spreadsheet would run as a formula gets a
/// leading apostrophe (a respondent's "=HYPERLINK(…)" stays text).
fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{v}") } else { v.to_string() };
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v }
}

pub fn to_csv(t: &Table) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    for r in std::iter::once(&t.header).chain(t.rows.iter()) {
        out.push_str(&r.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// Display width of a cell in Excel's character units: CJK and full-width characters
/// take two (Excel's autofit measures them as one and cuts Chinese text short).
fn width(s: &str) -> usize {
    s.lines()
        .map(|l| {
            l.chars().map(|c| if (c as u32) >= 0x1100 && !('\u{ff61}'..='\u{ffdc}').contains(&c) { 2 } else { 1 }).sum()
        })
        .max()
        .unwrap_or(0)
}

pub fn to_xlsx(t: &Table, sheet: &str) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, FormatAlign, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| Error::internal(format!("生成 Excel 文件失败：{e}"));
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    // Sheet names: at most 31 characters, none of []:*?/\ .
    let name: String = sheet.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    ws.set_name(if name.trim().is_empty() { "答卷" } else { name.trim() }).map_err(err)?;
    let head = Format::new().set_bold().set_text_wrap().set_align(FormatAlign::Top);
    let body = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    for (col, h) in t.header.iter().enumerate() {
        let col = u16::try_from(col).map_err(|_| Error::internal("列数过多"))?;
        ws.write_string_with_format(0, col, h, &head).map_err(err)?;
    }
    for (i, r) in t.rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|_| Error::internal("行数过多"))?;
        for (col, v) in r.iter().enumerate() {
            let col = u16::try_from(col).map_err(|_| Error::internal("列数过多"))?;
            if !v.is_empty() {
                ws.write_string_with_format(row, col, v, &body).map_err(err)?;
            }
        }
    }
    for col in 0..t.header.len() {
        let widest = std::iter::once(&t.header[col])
            .chain(t.rows.iter().filter_map(|r| r.get(col)))
            .map(|s| width(s))
            .max()
            .unwrap_or(0);
        let col = u16::try_from(col).map_err(|_| Error::internal("列数过多"))?;
        // Between 6 and 50 characters; longer text wraps.
        ws.set_column_width(col, (widest + 2).clamp(6, 50) as f64).map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surveys::rules::{parse_questions, validate_answers};

    #[test]
    fn csv_has_bom_labels_and_escapes() {
        let qs = parse_questions("[单选] 甲\n- 是\n- 否\n[多选] 乙\n- 一\n- 二\n[评分] 丙\n[填空] 丁").unwrap();
        let post = |p: &[(&str, &str)]| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        let a =
            validate_answers(&qs, &post(&[("q1", "1"), ("q2", "0"), ("q2", "1"), ("q3", "4"), ("q4", "=1+1, \"好\"")]))
                .unwrap();
        let t = table(&qs, &[("2026-03-01 10:00:00".into(), a)]);
        assert_eq!(t.header[2], "1. 甲");
        assert_eq!(t.header[4], "3. 丙（1–5分）");
        assert_eq!(t.rows[0][2..], ["否", "一；二", "4", "=1+1, \"好\""]);
        let csv = String::from_utf8(to_csv(&t)).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("\"'=1+1, \"\"好\"\"\""), "{csv}");
        assert!(to_xlsx(&t, "问卷").unwrap().starts_with(b"PK"));
        assert_eq!(width("ab中文"), 6);
    }
}
