//! Pre-publish privacy checks: finds personal numbers (身份证号码, 手机号码,
//! 银行卡号) in the plain text of an item before it goes public.
//!
//! Checks are a pluggable list of [`Check`] objects so later rules (typos,
//! sensitive wording) can join without touching callers. Findings are shown
//! to editors, so an excerpt never contains a full personal number: the hit
//! itself is masked and every other long digit group in the context is starred.

use gongkai_kernel::cn;
use time::Date;

/// What kind of personal number was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    IdCard,
    Mobile,
    BankCard,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::IdCard => "id_card",
            FindingKind::Mobile => "mobile",
            FindingKind::BankCard => "bank_card",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            FindingKind::IdCard => "身份证号码",
            FindingKind::Mobile => "手机号码",
            FindingKind::BankCard => "银行卡号",
        }
    }
}

/// One suspected personal number in one field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// [`Check::id`] of the check that found it.
    pub check: &'static str,
    pub kind: FindingKind,
    /// Field name as passed to [`scan_all`].
    pub field: String,
    /// Char offsets (not bytes) of the number in the field text, end exclusive;
    /// separators and a "+86" prefix inside the number are included.
    pub start: usize,
    pub end: usize,
    /// Context around the number, with the number masked.
    pub excerpt: String,
}

/// A pre-publish check over one field's plain text.
pub trait Check: Send + Sync {
    /// Stable code, stored with findings and used to switch checks on and off.
    fn id(&self) -> &'static str;
    fn name_zh(&self) -> &'static str;
    /// Findings in `text`, in order of position. `today` bounds plausible birth dates.
    fn scan(&self, field: &str, text: &str, today: Date) -> Vec<Finding>;
}

/// The checks that run when nothing else is configured.
pub fn default_checks() -> Vec<Box<dyn Check>> {
    vec![Box::new(IdCardCheck), Box::new(MobileCheck), Box::new(BankCardCheck)]
}

/// Runs every check over every `(field name, plain text)` pair. Findings come
/// back in field order, then by position, then in check order.
pub fn scan_all(checks: &[Box<dyn Check>], fields: &[(&str, &str)], today: Date) -> Vec<Finding> {
    let mut out = Vec::new();
    for &(field, text) in fields {
        let mut found: Vec<Finding> = checks.iter().flat_map(|c| c.scan(field, text, today)).collect();
        // Stable sort keeps check order for findings at the same position.
        found.sort_by_key(|f| (f.start, f.end));
        out.extend(found);
    }
    out
}

/// 居民身份证号码: 18 characters passing the GB 11643 checksum with a real
/// birth date (1900..=today) and province, as `cn::validate_id_card` decides.
pub struct IdCardCheck;

/// Mainland mobile numbers: 11 digits starting 13–19, bare or grouped 3-4-4,
/// optionally with "+86"/"0086".
pub struct MobileCheck;

/// Bank-card numbers: 16–19 digits (bare or in groups of four) passing Luhn
/// that are not valid ID numbers.
pub struct BankCardCheck;

impl Check for IdCardCheck {
    fn id(&self) -> &'static str {
        "id_card"
    }
    fn name_zh(&self) -> &'static str {
        "身份证号码检查"
    }
    fn scan(&self, field: &str, text: &str, today: Date) -> Vec<Finding> {
        let t = Text::new(text);
        let mut hits = Vec::new();
        for (i, r) in t.runs.iter().enumerate() {
            if t.decimal_before(r) || t.decimal_after(r) {
                continue;
            }
            // Whole run: 18 digits, or 17 digits and a final X.
            let id = match (r.digits.len(), r.x_suffix) {
                (18, false) => Some((r.digits.clone(), r.end)),
                (17, true) => Some((format!("{}X", r.digits), r.end + 1)),
                _ => None,
            };
            if let Some((id, end)) = id
                && t.is_id(&id, today)
            {
                hits.push((r.start, end, cn::mask_id_card(&id)));
            }
            // Printed in groups "110101 19900307 2176" (any one separator).
            if let Some(g) = t.group(i, 3)
                && !g.continues_before
                && !g.continues_after
                && let [a, b, c] = g.runs
                && a.digits.len() == 6
                && b.digits.len() == 8
                && (c.digits.len() == 4 && !c.x_suffix || c.digits.len() == 3 && c.x_suffix)
            {
                let id = format!("{}{}{}{}", a.digits, b.digits, c.digits, if c.x_suffix { "X" } else { "" });
                if t.is_id(&id, today) {
                    hits.push((a.start, c.end + usize::from(c.x_suffix), cn::mask_id_card(&id)));
                }
            }
        }
        t.findings(self.id(), FindingKind::IdCard, field, hits)
    }
}

impl Check for MobileCheck {
    fn id(&self) -> &'static str {
        "mobile"
    }
    fn name_zh(&self) -> &'static str {
        "手机号码检查"
    }
    fn scan(&self, field: &str, text: &str, _today: Date) -> Vec<Finding> {
        let t = Text::new(text);
        let mut hits = Vec::new();
        for (i, r) in t.runs.iter().enumerate() {
            if r.x_suffix || t.decimal_before(r) || t.decimal_after(r) {
                continue;
            }
            let d = r.digits.as_str();
            // "+8613812345678" and "008613812345678" are single runs.
            let plus = r.start > 0 && t.chars[r.start - 1] == '+';
            let (start, number) = match d.len() {
                11 => (t.prefix_start(i).unwrap_or(r.start), d),
                13 if plus && d.starts_with("86") => (r.start - 1, &d[2..]),
                15 if d.starts_with("0086") => (r.start, &d[4..]),
                _ => (r.start, ""),
            };
            if is_mobile_digits(number) {
                hits.push((start, r.end, cn::mask_phone(number)));
                continue;
            }
            // "138 1234 5678" / "138-1234-5678": exactly 3-4-4 with one kind
            // of separator, not continuing into a longer grouped number.
            let Some(g) = t.group(i, 3) else { continue };
            let [a, b, c] = g.runs else { continue };
            let number = format!("{}{}{}", a.digits, b.digits, c.digits);
            let shape = a.digits.len() == 3 && b.digits.len() == 4 && c.digits.len() == 4 && !c.x_suffix;
            if !shape || !is_mobile_digits(&number) || g.continues_after || t.decimal_after(c) {
                continue;
            }
            // A linked group before is fine when it is a country code or too long
            // to be part of a 4-digit grouping (a landline such as "88001234").
            let prefix = t.prefix_start(i);
            if g.continues_before && prefix.is_none() && t.runs[i - 1].digits.len() <= 4 {
                continue;
            }
            if t.decimal_before(a) {
                continue;
            }
            hits.push((prefix.unwrap_or(a.start), c.end, cn::mask_phone(&number)));
        }
        t.findings(self.id(), FindingKind::Mobile, field, hits)
    }
}

impl Check for BankCardCheck {
    fn id(&self) -> &'static str {
        "bank_card"
    }
    fn name_zh(&self) -> &'static str {
        "银行卡号检查"
    }
    fn scan(&self, field: &str, text: &str, today: Date) -> Vec<Finding> {
        let t = Text::new(text);
        let mut hits = Vec::new();
        let is_card =
            |digits: &str| cn::luhn_valid(digits) && (16..=19).contains(&digits.len()) && !t.is_id(digits, today);
        for (i, r) in t.runs.iter().enumerate() {
            if r.x_suffix {
                continue;
            }
            if !t.decimal_before(r) && !t.decimal_after(r) && is_card(&r.digits) {
                hits.push((r.start, r.end, mask_card(&r.digits)));
                continue;
            }
            // "6222 0212 3456 7890 128": four groups of 4 and an optional short
            // tail, forming the whole chain of runs joined by that separator.
            for n in [4, 5] {
                let Some(g) = t.group(i, n) else { continue };
                if g.continues_before || g.continues_after {
                    continue;
                }
                let (head, tail) = g.runs.split_at(4);
                let shape = head.iter().all(|r| r.digits.len() == 4)
                    && tail.iter().all(|r| (1..=3).contains(&r.digits.len()) && !r.x_suffix)
                    && !g.runs[n - 1].x_suffix;
                let digits: String = g.runs.iter().map(|r| r.digits.as_str()).collect();
                let last = &g.runs[n - 1];
                if shape && !t.decimal_before(r) && !t.decimal_after(last) && is_card(&digits) {
                    hits.push((r.start, last.end, mask_card(&digits)));
                }
            }
        }
        t.findings(self.id(), FindingKind::BankCard, field, hits)
    }
}

/// 11 ASCII digits starting 13–19.
fn is_mobile_digits(d: &str) -> bool {
    d.len() == 11 && cn::is_mobile_phone(d)
}

/// "6222***********7128": first and last four kept, as printed on receipts.
fn mask_card(digits: &str) -> String {
    let n = digits.len();
    if n <= 8 || !digits.is_ascii() {
        return "*".repeat(digits.chars().count());
    }
    format!("{}{}{}", &digits[..4], "*".repeat(n - 8), &digits[n - 4..])
}

/// Characters of context shown on each side of a finding.
const CONTEXT: usize = 15;

/// Digit groups with at least this many digits are starred in excerpts: enough
/// for any mobile, ID or card number, while dates and 文号 stay readable.
const MASK_CONTEXT_DIGITS: usize = 11;

fn digit_value(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
        _ => None,
    }
}

fn is_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// Separators people put inside a number: spaces and hyphens, ASCII or wide.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{3000}' | '-' | '－')
}

/// A maximal run of digits (ASCII and full-width may mix).
struct Run {
    /// Char offsets of the digits, end exclusive.
    start: usize,
    end: usize,
    /// The digits as ASCII.
    digits: String,
    /// Directly followed by X/x that is itself not followed by a letter or
    /// digit: the check character of an ID number.
    x_suffix: bool,
}

/// Consecutive runs joined by one repeated separator character.
struct Group<'a> {
    runs: &'a [Run],
    /// The run before is joined by the same separator.
    continues_before: bool,
    /// The run after is joined by the same separator.
    continues_after: bool,
}

/// A field's text split into chars and digit runs, shared by one check's scan.
struct Text {
    chars: Vec<char>,
    runs: Vec<Run>,
}

impl Text {
    fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let mut runs = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if digit_value(chars[i]).is_none() {
                i += 1;
                continue;
            }
            let start = i;
            let mut digits = String::new();
            while let Some(d) = chars.get(i).copied().and_then(digit_value) {
                digits.push(d);
                i += 1;
            }
            let x_suffix = chars.get(i).is_some_and(|&c| is_x(c))
                && !chars.get(i + 1).is_some_and(|&c| c.is_ascii_alphanumeric() || digit_value(c).is_some());
            runs.push(Run { start, end: i, digits, x_suffix });
        }
        Text { chars, runs }
    }

    /// The separator joining run `i` to run `i + 1`, if exactly one lies between.
    fn link(&self, i: usize) -> Option<char> {
        let (a, b) = (self.runs.get(i)?, self.runs.get(i + 1)?);
        let sep = self.chars[a.end];
        (!a.x_suffix && b.start == a.end + 1 && is_separator(sep)).then_some(sep)
    }

    /// Runs `i..i + n` joined by one repeated separator.
    fn group(&self, i: usize, n: usize) -> Option<Group<'_>> {
        let runs = self.runs.get(i..i + n)?;
        let sep = self.link(i)?;
        if (i..i + n - 1).any(|k| self.link(k) != Some(sep)) {
            return None;
        }
        let continues_before = i > 0 && self.link(i - 1) == Some(sep);
        let continues_after = self.link(i + n - 1) == Some(sep);
        Some(Group { runs, continues_before, continues_after })
    }

    /// Start of a country code ("+86" or "0086") joined to run `i` by a
    /// separator, so the finding covers it too.
    fn prefix_start(&self, i: usize) -> Option<usize> {
        let p = self.runs.get(i.checked_sub(1)?)?;
        self.link(i - 1)?;
        let plus = p.start > 0 && self.chars[p.start - 1] == '+';
        match p.digits.as_str() {
            "86" if plus => Some(p.start - 1),
            "0086" => Some(p.start),
            _ => None,
        }
    }

    /// The run is the fractional part of a decimal ("3.14159…").
    fn decimal_before(&self, r: &Run) -> bool {
        r.start >= 2 && self.chars[r.start - 1] == '.' && digit_value(self.chars[r.start - 2]).is_some()
    }

    /// The run is the integer part of a decimal ("13812345678.00 元").
    fn decimal_after(&self, r: &Run) -> bool {
        self.chars.get(r.end) == Some(&'.') && self.chars.get(r.end + 1).is_some_and(|&c| digit_value(c).is_some())
    }

    fn is_id(&self, id: &str, today: Date) -> bool {
        id.len() == 18 && cn::validate_id_card(id, today).is_ok()
    }

    /// The text with every long digit group starred, for excerpt context: a
    /// number next to a finding must not leak through the excerpt either.
    fn masked(&self) -> Vec<char> {
        let mut out = self.chars.clone();
        let mut i = 0;
        while i < self.runs.len() {
            // Any separator joins here: masking errs on the side of hiding.
            let mut j = i;
            while self.link(j).is_some() {
                j += 1;
            }
            let chain = &self.runs[i..=j];
            if chain.iter().map(|r| r.digits.len()).sum::<usize>() >= MASK_CONTEXT_DIGITS {
                for r in chain {
                    let end = r.end + usize::from(r.x_suffix);
                    for c in &mut out[r.start..end] {
                        if !is_separator(*c) {
                            *c = '*';
                        }
                    }
                }
            }
            i = j + 1;
        }
        out
    }

    /// Turns `(start, end, masked number)` hits into findings with excerpts.
    fn findings(
        &self,
        check: &'static str,
        kind: FindingKind,
        field: &str,
        mut hits: Vec<(usize, usize, String)>,
    ) -> Vec<Finding> {
        if hits.is_empty() {
            return Vec::new();
        }
        hits.sort_by_key(|h| (h.0, h.1));
        hits.dedup_by_key(|h| (h.0, h.1));
        let masked = self.masked();
        let shown = |cs: &[char]| -> String {
            cs.iter().map(|&c| if c.is_whitespace() || c.is_control() { ' ' } else { c }).collect()
        };
        hits.into_iter()
            .map(|(start, end, number)| {
                let from = start.saturating_sub(CONTEXT);
                let to = end.saturating_add(CONTEXT).min(masked.len());
                let mut excerpt = String::new();
                if from > 0 {
                    excerpt.push('…');
                }
                excerpt.push_str(&shown(masked.get(from..start).unwrap_or(&[])));
                excerpt.push_str(&number);
                excerpt.push_str(&shown(masked.get(end..to).unwrap_or(&[])));
                if to < masked.len() {
                    excerpt.push('…');
                }
                Finding { check, kind, field: field.to_string(), start, end, excerpt }
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // test tables are tuples of slices by design
mod tests {
    use super::*;
    use FindingKind::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 06 - 30);

    /// Synthetic numbers, not real people or accounts. ID check characters
    /// and Luhn digits were computed with a separate Python script.
    const ID: &str = "110101199003072172";
    const ID_X: &str = "11010519491231002X";
    /// A valid ID that also happens to pass Luhn: must count as an ID only.
    const ID_LUHN: &str = "440304197806150020";
    const CARD19: &str = "6222021234567890128";
    const CARD16: &str = "6225880137986544";
    const CARD18: &str = "621483012345678902";

    fn scan(text: &str) -> Vec<Finding> {
        scan_all(&default_checks(), &[("body", text)], TODAY)
    }

    /// (kind, start, end) of every finding.
    fn spans(findings: &[Finding]) -> Vec<(FindingKind, usize, usize)> {
        findings.iter().map(|f| (f.kind, f.start, f.end)).collect()
    }

    /// Every digit group of 11+ digits in `text` (any separators ignored),
    /// as ASCII: none may appear in an excerpt.
    fn long_numbers(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        for c in text.chars().chain([' ', '。']) {
            match digit_value(c) {
                Some(d) => cur.push(d),
                None if is_separator(c) && !cur.is_empty() => {}
                None => {
                    if cur.len() >= 11 {
                        out.push(cur.clone());
                    }
                    cur.clear();
                }
            }
        }
        out
    }

    /// Invariants for any text: offsets are in range and point at digits, and
    /// no excerpt reveals a long number from the text, even spread over separators.
    fn assert_safe(text: &str, findings: &[Finding]) {
        let chars: Vec<char> = text.chars().collect();
        for f in findings {
            assert!(f.start < f.end && f.end <= chars.len(), "{f:?}");
            let span: String = chars[f.start..f.end].iter().collect();
            assert!(digit_value(chars[f.end - 1]).is_some() || is_x(chars[f.end - 1]), "{span}");
            assert!(!f.excerpt.contains(&span), "{f:?} echoes {span}");
            let excerpt_digits: String = f.excerpt.chars().filter_map(digit_value).collect();
            for n in long_numbers(text) {
                assert!(!excerpt_digits.contains(&n), "{f:?} reveals {n}");
                // Nor its last 11 digits (a mobile inside a prefixed form).
                assert!(!excerpt_digits.contains(&n[n.len() - 11..]), "{f:?} reveals {n}");
            }
        }
    }

    #[test]
    fn positives_with_offsets() {
        let cases: &[(&str, &[(FindingKind, usize, usize)])] = &[
            ("联系人张三，身份证号110101199003072172，电话13812345678。", &[(IdCard, 10, 28), (Mobile, 31, 42)]),
            ("身份证号：１１０１０１１９９００３０７２１７２", &[(IdCard, 5, 23)]),
            ("证件号11010519491231002x。", &[(IdCard, 3, 21)]),
            ("身份证号110101 19900307 2172，另一张11010519491231002X", &[(IdCard, 4, 24), (IdCard, 28, 46)]),
            ("440304197806150020", &[(IdCard, 0, 18)]),
            ("ID:110101199003072172", &[(IdCard, 3, 21)]),
            ("手机 138 1234 5678 或 +86 139-0000-1111，座机0571-88001234", &[(Mobile, 3, 16), (Mobile, 19, 36)]),
            (
                "请拨打+8613812345678或008613900001111或+86 13700002222",
                &[(Mobile, 3, 17), (Mobile, 18, 33), (Mobile, 34, 49)],
            ),
            ("座机88001234 138 1234 5678", &[(Mobile, 11, 24)]),
            ("电话：０１０-１３８１２３４５６７８", &[(Mobile, 7, 18)]), // 11 digits after a hyphen
            ("联系电话13812345678", &[(Mobile, 4, 15)]),
            ("19912345678", &[(Mobile, 0, 11)]),
            (
                "收款账户：6222 0212 3456 7890 128，开户行：某某银行；备用卡6225880137986544及6217-0012-3456-7893。",
                &[(BankCard, 5, 28), (BankCard, 41, 57), (BankCard, 58, 77)],
            ),
            ("卡号621483012345678902", &[(BankCard, 2, 20)]),
            ("卡号6222 0212 3456 7893", &[]), // grouped 16 digits failing Luhn
            ("卡号6217 0012 3456 7893", &[(BankCard, 2, 21)]),
        ];
        for &(text, want) in cases {
            let found = scan(text);
            assert_eq!(spans(&found), want, "{text}");
            assert_safe(text, &found);
            for f in &found {
                assert_eq!(f.field, "body");
                assert_eq!(f.check, f.kind.as_str());
            }
        }
    }

    #[test]
    fn excerpts_are_masked() {
        let cases: &[(&str, &[&str])] = &[
            (
                "联系人张三，身份证号110101199003072172，电话13812345678。",
                &["联系人张三，身份证号110101********2172，电话***********。", "…************，电话138****5678。"],
            ),
            ("证件号11010519491231002x。", &["证件号110105********002X。"]),
            (
                "手机 138 1234 5678 或 +86 139-0000-1111，座机0571-88001234",
                &["手机 138****5678 或 +** ***-****…", "…** **** **** 或 139****1111，座机****-*******…"],
            ),
            (
                "请拨打+8613812345678或008613900001111",
                &["请拨打138****5678或**************…", "…+*************或139****1111"],
            ),
            ("卡号6222 0212 3456 7890 128", &["卡号6222***********0128"]),
            ("卡号6225880137986544\n下一行", &["卡号6225********6544 下一行"]),
            ("xxxxxxxxxxxxxxxxxxxx", &[]),
        ];
        for &(text, want) in cases {
            let found = scan(text);
            let got: Vec<&str> = found.iter().map(|f| f.excerpt.as_str()).collect();
            assert_eq!(got, want, "{text}");
            assert_safe(text, &found);
        }
        // Context is cut to 15 characters each side, marked with "…".
        let text = format!("{}13812345678{}", "前".repeat(20), "后".repeat(20));
        let found = scan(&text);
        assert_eq!(found[0].excerpt, format!("…{}138****5678{}…", "前".repeat(15), "后".repeat(15)));
    }

    #[test]
    fn negatives() {
        let cases: &[&str] = &[
            "2024年9月27日发布，日期20240927，时间2024-09-27 10:00",
            "杨管办发〔2018〕9号、国办发[2024]12号、国务院令第711号",
            "电话：0571-88001234、0571 8800 1234、010-12345678、400-123-4567、(0571)88001234",
            "索引号：11330199MB1A00039X/2026-00001，11341702486344515H/202110-00013",
            "统一社会信用代码91350100M000100Y43",
            "订单号2024092712345678（16位）202409271234567890（18位）2024092712345678901234",
            "110101199013071237",       // checksum ok, month 13
            "110101199002301236",       // checksum ok, 30 February
            "330106203001011239",       // checksum ok, born in 2030
            "110101199003072173",       // wrong check digit
            "系数0.110101199003072172", // fraction digits
            "12812345678 10812345678 1381234567 138123456789",
            "金额13812345678.50元，比例0.6225880137986544",
            "138 1234 5678 9999",         // continues as a longer grouped number
            "1234 138 1234 5678",         // preceded by a 4-digit group
            "138-1234 5678",              // mixed separators
            "138  1234  5678",            // doubled separators
            "13812345678X",               // ends like a code
            "6222 0212 3456 7890 1280 1", // 21 digits in groups
            "622 2021 2345 6789 0128",    // wrong grouping
            "1234 6217 0012 3456 7893",   // a Luhn-valid card inside a longer grouping
            "6217 0012 3456 7893 1234",
            "身份证号11010119900307217", // 17 digits
            "1101011990030721720",       // 19 digits failing Luhn
        ];
        for text in cases {
            assert_eq!(spans(&scan(text)), vec![], "{text}");
        }
    }

    #[test]
    fn each_check_finds_only_its_kind() {
        let text = format!("甲{ID}乙{ID_LUHN}丙13812345678丁{CARD19}戊{CARD16}己{CARD18}庚{ID_X}");
        let cases: &[(&dyn Check, &str, &str, &[(FindingKind, usize, usize)])] = &[
            (&IdCardCheck, "id_card", "身份证号码检查", &[(IdCard, 1, 19), (IdCard, 20, 38), (IdCard, 107, 125)]),
            (&MobileCheck, "mobile", "手机号码检查", &[(Mobile, 39, 50)]),
            (
                &BankCardCheck,
                "bank_card",
                "银行卡号检查",
                &[(BankCard, 51, 70), (BankCard, 71, 87), (BankCard, 88, 106)],
            ),
        ];
        for &(check, id, name, want) in cases {
            assert_eq!(check.id(), id);
            assert_eq!(check.name_zh(), name);
            let found = check.scan("正文", &text, TODAY);
            assert_eq!(spans(&found), want, "{id}");
            assert!(found.iter().all(|f| f.check == id && f.field == "正文"));
            assert_safe(&text, &found);
        }
        let ids: Vec<&str> = default_checks().iter().map(|c| c.id()).collect();
        assert_eq!(ids, ["id_card", "mobile", "bank_card"]);
        let labels: Vec<&str> = [IdCard, Mobile, BankCard].iter().map(|k| k.label_zh()).collect();
        assert_eq!(labels, ["身份证号码", "手机号码", "银行卡号"]);
        assert_eq!(serde_json::to_string(&BankCard).unwrap(), "\"bank_card\"");
    }

    #[test]
    fn today_bounds_birth_dates() {
        // Born 2026-07-01: not yet born on TODAY, a valid ID a day later.
        let id = "110101202607011236";
        assert_eq!(cn::id_card_check_char(&id[..17]), Some('6'));
        assert!(IdCardCheck.scan("f", id, TODAY).is_empty());
        assert_eq!(spans(&IdCardCheck.scan("f", id, date!(2026 - 07 - 01))), [(IdCard, 0, 18)]);
    }

    #[test]
    fn fields_in_order_then_position() {
        let fields: &[(&str, &str)] = &[
            ("title", "关于张三（13812345678）的公示"),
            ("summary", ""),
            ("body", "卡号6225880137986544，身份证110101199003072172，手机13900001111"),
            ("attachment_text", "身份证11010519491231002X"),
        ];
        let found = scan_all(&default_checks(), fields, TODAY);
        let got: Vec<(&str, FindingKind, usize)> = found.iter().map(|f| (f.field.as_str(), f.kind, f.start)).collect();
        assert_eq!(
            got,
            [
                ("title", Mobile, 5),
                ("body", BankCard, 2),
                ("body", IdCard, 22),
                ("body", Mobile, 43),
                ("attachment_text", IdCard, 3)
            ]
        );
        assert!(scan_all(&[], fields, TODAY).is_empty());
        assert!(scan_all(&default_checks(), &[], TODAY).is_empty());
    }

    #[test]
    fn many_findings_in_one_text() {
        let mut text = String::from("名单：");
        let mut want = Vec::new();
        for n in 0..200u32 {
            let number = format!("139{:08}", n * 7);
            let start = text.chars().count() + 3;
            text.push_str(&format!("第{n}人，{number}；"));
            let start = start + n.to_string().len();
            want.push((Mobile, start, start + 11));
        }
        let found = scan(&text);
        assert_eq!(spans(&found), want);
        assert_safe(&text, &found);
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let long_digits = "1".repeat(5_000);
        let long_groups = "1234 ".repeat(2_000);
        let inputs = [
            "",
            "X",
            "x1",
            "+",
            "+8",
            "+86",
            "+86 ",
            "0086",
            "-",
            " - ",
            "1-",
            "-1",
            "1.",
            ".1",
            "1.1",
            "1X",
            "1XX",
            "１",
            "Ｘ",
            "\u{0}123",
            "𝟏𝟐𝟑",
            "12345678901234567X",
            "12345678901234567ｘ",
            "86 138",
            "+86-",
            &long_digits,
            &long_groups,
        ];
        for text in inputs {
            for today in [TODAY, Date::MIN, Date::MAX] {
                let found = scan_all(&default_checks(), &[("f", text)], today);
                assert_safe(text, &found);
            }
        }
    }
}
