//! The annual report's tables 三 and 四 for one organisation and year, as pure
//! aggregations of request and review records (国办公开办函〔2021〕30号). Nothing here is
//! typed in: every cell is a count of records, and `check` enforces the table's own sums.

use serde::Serialize;

use crate::model::{ApplicantKind, Outcome, ReviewKind, ReviewResult};
use crate::store::{ReviewStatRow, StatRow};

/// Six applicant columns and 总计.
pub type Row = [i64; 7];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Table3 {
    pub year: i32,
    /// 一、本年新收
    pub new: Row,
    /// 二、上年结转
    pub carried_over: Row,
    /// 三、本年度办理结果, the 21 leaves in table order
    pub outcomes: Vec<(Outcome, Row)>,
    /// 三（七）总计
    pub total: Row,
    /// 四、结转下年度继续办理
    pub carried_next: Row,
}

fn column(kind: &str) -> usize {
    ApplicantKind::parse(kind).and_then(|k| ApplicantKind::ALL.iter().position(|x| *x == k)).unwrap_or(5)
}

fn add(row: &mut Row, col: usize) {
    row[col] += 1;
    row[6] += 1;
}

/// Table 三 from the organisation's requests received by the end of `year`.
pub fn table3(rows: &[StatRow], year: i32) -> Table3 {
    let first = format!("{year}-01-01");
    let last = format!("{year}-12-31");
    let mut t = Table3 {
        year,
        new: [0; 7],
        carried_over: [0; 7],
        outcomes: Outcome::ALL.iter().map(|o| (*o, [0; 7])).collect(),
        total: [0; 7],
        carried_next: [0; 7],
    };
    for r in rows {
        if r.received_on > last {
            continue;
        }
        let col = column(&r.applicant_kind);
        let decided = r.decided_on.as_deref().filter(|d| *d <= last.as_str());
        if decided.is_some_and(|d| d < first.as_str()) {
            continue; // finished before the year
        }
        if r.received_on >= first {
            add(&mut t.new, col);
        } else {
            add(&mut t.carried_over, col);
        }
        match (decided, r.outcome.as_deref().and_then(Outcome::parse)) {
            (Some(_), Some(o)) => {
                if let Some((_, row)) = t.outcomes.iter_mut().find(|(x, _)| *x == o) {
                    add(row, col);
                }
                add(&mut t.total, col);
            }
            _ => add(&mut t.carried_next, col),
        }
    }
    t
}

impl Table3 {
    /// The report's 勾稽关系; empty when every check holds.
    pub fn check(&self) -> Vec<String> {
        let names = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"];
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if self.new[i] + self.carried_over[i] != self.total[i] + self.carried_next[i] {
                out.push(format!("{name}列：新收与上年结转之和不等于办理结果总计与结转下年度之和"));
            }
            let leaves: i64 = self.outcomes.iter().map(|(_, r)| r[i]).sum();
            if leaves != self.total[i] {
                out.push(format!("{name}列：办理结果总计不等于各项之和"));
            }
        }
        for (label, row) in [
            ("新收", &self.new),
            ("上年结转", &self.carried_over),
            ("办理结果总计", &self.total),
            ("结转下年度", &self.carried_next),
        ]
        .into_iter()
        .chain(self.outcomes.iter().map(|(o, r)| (o.label_zh(), r)))
        {
            if row[..6].iter().sum::<i64>() != row[6] {
                out.push(format!("{label}行：总计不等于各类申请人之和"));
            }
        }
        out
    }
}

/// Table 四: for each kind, 维持 / 纠正 / 其他 / 尚未审结 / 总计, of the cases filed in the year,
/// with the result as it stood at the end of the year.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Table4 {
    pub year: i32,
    pub groups: Vec<(ReviewKind, [i64; 5])>,
}

pub fn table4(rows: &[ReviewStatRow], year: i32) -> Table4 {
    let last = format!("{year}-12-31");
    let prefix = format!("{year}-");
    let mut groups: Vec<(ReviewKind, [i64; 5])> = ReviewKind::ALL.iter().map(|k| (*k, [0; 5])).collect();
    for r in rows.iter().filter(|r| r.filed_on.starts_with(&prefix)) {
        let Some(kind) = ReviewKind::parse(&r.kind) else { continue };
        let concluded = r.concluded_on.as_deref().is_some_and(|d| d <= last.as_str());
        let result = match ReviewResult::parse(&r.result) {
            Some(res) if concluded && res != ReviewResult::Pending => res,
            _ => ReviewResult::Pending,
        };
        let col = match result {
            ReviewResult::Upheld => 0,
            ReviewResult::Corrected => 1,
            ReviewResult::Other => 2,
            ReviewResult::Pending => 3,
        };
        if let Some((_, g)) = groups.iter_mut().find(|(k, _)| *k == kind) {
            g[col] += 1;
            g[4] += 1;
        }
    }
    Table4 { year, groups }
}

impl Table4 {
    pub fn check(&self) -> Vec<String> {
        self.groups
            .iter()
            .filter(|(_, g)| g[..4].iter().sum::<i64>() != g[4])
            .map(|(k, _)| format!("{}：总计不等于各项之和", k.label_zh()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(kind: &str, received: &str, decided: Option<&str>, outcome: Option<&str>) -> StatRow {
        StatRow {
            applicant_kind: kind.into(),
            received_on: received.into(),
            decided_on: decided.map(Into::into),
            outcome: outcome.map(Into::into),
        }
    }

    #[test]
    fn table3_counts_new_carried_and_outcomes_by_applicant() {
        let rows = vec![
            r("natural", "2024-12-20", Some("2025-01-10"), Some("1")), // carried over, decided
            r("natural", "2024-12-28", None, None),                    // carried over, still open
            r("business", "2024-05-01", Some("2024-05-20"), Some("2")), // finished last year: not counted
            r("natural", "2025-03-01", Some("2025-03-20"), Some("3.4")),
            r("legal_service", "2025-06-01", Some("2025-06-02"), Some("5.2")),
            r("research", "2025-12-25", Some("2026-01-15"), Some("1")), // decided next year: carried next
            r("other_org", "2025-12-30", None, None),
            r("public_interest", "2025-07-01", Some("2025-07-30"), Some("6.1")),
        ];
        let t = table3(&rows, 2025);
        assert_eq!(t.new, [1, 0, 1, 1, 1, 1, 5]);
        assert_eq!(t.carried_over, [2, 0, 0, 0, 0, 0, 2]);
        assert_eq!(t.total, [2, 0, 0, 1, 1, 0, 4]);
        assert_eq!(t.carried_next, [1, 0, 1, 0, 0, 1, 3]);
        let cell = |code: &str| t.outcomes.iter().find(|(o, _)| o.as_str() == code).map(|(_, r)| *r).unwrap();
        assert_eq!(cell("1"), [1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(cell("3.4"), [1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(cell("5.2"), [0, 0, 0, 0, 1, 0, 1]);
        assert_eq!(cell("6.1"), [0, 0, 0, 1, 0, 0, 1]);
        assert!(t.check().is_empty(), "{:?}", t.check());
    }

    #[test]
    fn check_names_a_broken_sum() {
        let mut t = table3(&[r("natural", "2025-01-02", None, None)], 2025);
        assert!(t.check().is_empty());
        t.new[0] += 1;
        let errs = t.check();
        assert!(errs.iter().any(|e| e.contains("自然人列")), "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("新收行")), "{errs:?}");
    }

    #[test]
    fn table4_takes_the_result_at_year_end() {
        let v = |kind: &str, filed: &str, result: &str, concluded: Option<&str>| ReviewStatRow {
            kind: kind.into(),
            filed_on: filed.into(),
            result: result.into(),
            concluded_on: concluded.map(Into::into),
        };
        let rows = vec![
            v("review", "2025-02-01", "upheld", Some("2025-04-01")),
            v("review", "2025-11-01", "corrected", Some("2026-01-20")), // concluded next year: pending
            v("litigation_direct", "2025-03-01", "other", Some("2025-09-01")),
            v("litigation_after_review", "2025-05-01", "pending", None),
            v("review", "2024-05-01", "upheld", Some("2024-06-01")), // another year
        ];
        let t = table4(&rows, 2025);
        assert_eq!(t.groups[0].1, [1, 0, 0, 1, 2]);
        assert_eq!(t.groups[1].1, [0, 0, 1, 0, 1]);
        assert_eq!(t.groups[2].1, [0, 0, 0, 1, 1]);
        assert!(t.check().is_empty());
    }
}
