//! Masking personal data in published text: the writer's name (张三 → 张*), and inside free
//! text mainland mobile numbers, landlines, 18-character ID numbers, e-mail addresses and the
//! writer's own name. Ordinary numbers (years, amounts, 文号, dates) are left alone: a
//! pattern only matches a whole run of digits, never part of a longer one.

/// "张*", "欧***": the first character and one star per remaining one (kernel rule).
pub fn mask_name(name: &str) -> String {
    gongkai_kernel::cn::mask_name(name)
}

/// The published form of `text`: contacts and identifiers replaced by masks that keep a
/// few characters (138****5678), and every occurrence of `names` (of two characters or
/// more: a single character would blank common words) replaced by its mask.
pub fn mask_text(text: &str, names: &[&str]) -> String {
    let mut out = mask_emails(text);
    for name in names {
        let name = name.trim();
        if name.chars().count() >= 2 {
            out = out.replace(name, &mask_name(name));
        }
    }
    mask_numbers(&out)
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-".contains(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-'
}

/// "zhangxm@example.cn" → "z***@example.cn".
fn mask_emails(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    // `done` is the first char not yet copied to `out`.
    let mut done = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let mut start = i;
            while start > done && is_local_char(chars[start - 1]) {
                start -= 1;
            }
            let mut end = i + 1;
            while end < chars.len() && is_domain_char(chars[end]) {
                end += 1;
            }
            // A domain ends with a letter and has a dot inside ("example.cn", not "x." or "1").
            while end > i + 1 && !chars[end - 1].is_ascii_alphanumeric() {
                end -= 1;
            }
            let domain: String = chars[i + 1..end].iter().collect();
            let dotted = domain.contains('.') && !domain.starts_with('.');
            if start < i && dotted {
                out.extend(&chars[done..start]);
                out.push(chars[start]);
                out.push_str("***@");
                out.push_str(&domain);
                done = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out.extend(&chars[done..]);
    out
}

fn digit(chars: &[char], i: usize) -> bool {
    chars.get(i).is_some_and(|c| c.is_ascii_digit())
}

/// The digits of a number written with optional single separators (space, '-') between
/// groups, starting at `i`: (digits, index after the last digit). Stops at a second
/// separator in a row or at anything else.
fn grouped_digits(chars: &[char], i: usize, max: usize) -> (String, usize) {
    let mut digits = String::new();
    let mut j = i;
    let mut end = i;
    while j < chars.len() && digits.len() < max {
        let c = chars[j];
        if c.is_ascii_digit() {
            digits.push(c);
            j += 1;
            end = j;
        } else if (c == '-' || c == ' ') && digit(chars, j + 1) && !digits.is_empty() {
            j += 1;
        } else {
            break;
        }
    }
    (digits, end)
}

/// What a run starting at a digit boundary is, with its end and mask.
fn match_number(chars: &[char], i: usize) -> Option<(usize, String)> {
    // A plain run of digits (with an ID's final X).
    let mut run = i;
    while digit(chars, run) {
        run += 1;
    }
    let len = run - i;
    let plain: String = chars[i..run].iter().collect();
    if len == 17 && matches!(chars.get(run), Some('X' | 'x')) && !digit(chars, run + 1) {
        let id = format!("{plain}X");
        return Some((run + 1, gongkai_kernel::cn::mask_id_card(&id)));
    }
    if (15..=19).contains(&len) {
        // ID numbers (18), legacy IDs (15) and bank cards (16–19): keep 6 + 4.
        return Some((run, gongkai_kernel::cn::mask_id_card(&plain)));
    }
    // Mobile: 1[3-9] and 9 more digits, as 13812345678 or 138-1234-5678 / 138 1234 5678.
    if chars[i] == '1' && chars.get(i + 1).is_some_and(|c| ('3'..='9').contains(c)) {
        let (digits, end) = grouped_digits(chars, i, 11);
        if digits.len() == 11 && !digit(chars, end) {
            return Some((end, format!("{}****{}", &digits[..3], &digits[7..])));
        }
    }
    // Landline with its area code: 0571-88001000, 057188001000, 010-12345678.
    if chars[i] == '0' {
        let area_len = if matches!(chars.get(i + 1), Some('1' | '2')) { 3 } else { 4 };
        let area: String = chars.iter().skip(i).take(area_len).collect();
        if area.len() == area_len && area.chars().all(|c| c.is_ascii_digit()) {
            let mut j = i + area_len;
            let sep = matches!(chars.get(j), Some('-' | ' '));
            if sep {
                j += 1;
            }
            let mut k = j;
            while digit(chars, k) {
                k += 1;
            }
            let local: String = chars[j..k].iter().collect();
            if (7..=8).contains(&local.len()) && (sep || j == run || k == run) {
                let shown = &local[local.len() - 4..];
                let stars = "*".repeat(local.len() - 4);
                let sep = if sep { "-" } else { "" };
                return Some((k, format!("{area}{sep}{stars}{shown}")));
            }
        }
    }
    None
}

/// Phones, landlines, IDs and card numbers in `text`.
fn mask_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let boundary = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        if c.is_ascii_digit() && boundary {
            if let Some((end, masked)) = match_number(&chars, i) {
                out.push_str(&masked);
                i = end;
                continue;
            }
            // Not a number to hide: copy the whole run so its tail is not tried again.
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                out.push(chars[i]);
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for (name, want) in [("张三", "张*"), ("欧阳娜娜", "欧***"), ("李", "李*"), ("", "")] {
            assert_eq!(mask_name(name), want, "{name}");
        }
    }

    #[test]
    fn numbers_and_contacts_in_text() {
        let cases: &[(&str, &str)] = &[
            ("我的电话13812345678，请回电", "我的电话138****5678，请回电"),
            ("手机：138-1234-5678。", "手机：138****5678。"),
            ("手机 138 1234 5678 白天可接", "手机 138****5678 白天可接"),
            ("座机0571-88001000", "座机0571-****1000"),
            ("座机057188001000", "座机0571****1000"),
            ("北京010-12345678转", "北京010-****5678转"),
            ("身份证号110101199003072176", "身份证号110101********2176"),
            ("身份证11010519491231002X。", "身份证110105********002X。"),
            ("身份证11010519491231002x", "身份证110105********002X"),
            ("邮箱 zhangxm@example.cn 联系", "邮箱 z***@example.cn 联系"),
            ("13812345678@qq.com", "1***@qq.com"),
            ("a@b 不是邮箱", "a@b 不是邮箱"),
        ];
        for &(input, want) in cases {
            assert_eq!(mask_text(input, &[]), want, "{input}");
        }
    }

    #[test]
    fn ordinary_numbers_stay() {
        let keep = [
            "2025年3月1日",
            "2025-03-01",
            "2025年补贴金额为1200000元",
            "青政发〔2025〕12号",
            "第12345678号通知",
            "共计 10000 户，12.5%",
            "12345热线",
            "400-800-1234",
            "订单号ABC13812345678",
            "13812345678901234567890",
            "1381234567",
            "0571-1234",
        ];
        for s in keep {
            assert_eq!(mask_text(s, &[]), s, "{s}");
        }
    }

    #[test]
    fn the_writers_name_inside_the_text() {
        assert_eq!(
            mask_text("我叫张晓明，张晓明的电话是13812345678", &["张晓明"]),
            "我叫张**，张**的电话是138****5678"
        );
        // A one-character name would blank ordinary words: left alone.
        assert_eq!(mask_text("张家港", &["张"]), "张家港");
        assert_eq!(mask_text("无名氏", &["", " "]), "无名氏");
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let long = "1".repeat(5000);
        for s in ["", "@", "@@", ".@.", "0", "01", "0-", "1-", "13-", "x@y.", "🙂@🙂.cn", long.as_str()] {
            let _ = mask_text(s, &["🙂🙂", s]);
        }
    }
}
