//! XLSX of the statistics tables: one sheet per table, Chinese headers, counts and rates
//! as numbers (rates formatted as percentages), the period in the first row.

use gongkai_kernel::error::{Error, Result};

use super::tables::Table;

/// Display width in Excel's character units: CJK characters take two.
fn width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) >= 0x1100 && !('\u{ff61}'..='\u{ffdc}').contains(&c) { 2 } else { 1 }).sum()
}

/// A sheet name Excel accepts: at most 31 characters, none of []:*?/\ .
fn sheet_name(s: &str) -> String {
    let n: String = s.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    if n.trim().is_empty() { "统计".into() } else { n.trim().to_string() }
}

pub fn to_xlsx(tables: &[Table], period: &str) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| Error::internal(format!("生成 Excel 文件失败：{e}"));
    let col = |i: usize| u16::try_from(i).map_err(|_| Error::internal("列数过多"));
    let row = |i: usize| u32::try_from(i).map_err(|_| Error::internal("行数过多"));
    let mut wb = Workbook::new();
    let head = Format::new().set_bold().set_text_wrap();
    let percent = Format::new().set_num_format("0.0%");
    let mut used: Vec<String> = Vec::new();
    for t in tables {
        let ws = wb.add_worksheet();
        let mut name = sheet_name(&t.title);
        // Sheet names must differ.
        if used.contains(&name) {
            name = format!("{}{}", name.chars().take(28).collect::<String>(), used.len() + 1);
        }
        used.push(name.clone());
        ws.set_name(&name).map_err(err)?;
        ws.write_string(0, 0, format!("{}（{period}）", t.title)).map_err(err)?;
        for (i, h) in t.header.iter().enumerate() {
            ws.write_string_with_format(1, col(i)?, h, &head).map_err(err)?;
        }
        for (r, cells) in t.rows.iter().enumerate() {
            let r = row(r + 2)?;
            for (i, cell) in cells.iter().enumerate() {
                let c = col(i)?;
                match cell.num {
                    Some(n) if cell.text.ends_with('%') => ws.write_number_with_format(r, c, n, &percent),
                    Some(n) => ws.write_number(r, c, n),
                    None => ws.write_string(r, c, &cell.text),
                }
                .map_err(err)?;
            }
        }
        for i in 0..t.header.len() {
            let widest = std::iter::once(width(&t.header[i]))
                .chain(t.rows.iter().filter_map(|r| r.get(i)).map(|c| width(&c.text)))
                .max()
                .unwrap_or(0);
            ws.set_column_width(col(i)?, (widest + 2).clamp(6, 40) as f64).map_err(err)?;
        }
        ws.set_freeze_panes(2, 1).map_err(err)?;
    }
    wb.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::tables::Cell;

    #[test]
    fn workbook_is_a_zip_with_a_sheet_per_table() {
        let t = Table {
            name: "channel",
            title: "按受理渠道".into(),
            header: vec!["受理渠道".into(), "受理".into(), "满意率".into()],
            rows: vec![vec![Cell::text("电话"), Cell::count(3), Cell::rate(Some(667))]],
        };
        let bytes = to_xlsx(&[t.clone(), t], "2026-03-01 至 2026-03-31").unwrap();
        assert!(bytes.starts_with(b"PK"));
        assert_eq!(sheet_name("a/b:c"), "abc");
        assert_eq!(width("ab中文"), 6);
    }
}
