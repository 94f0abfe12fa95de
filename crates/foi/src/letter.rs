//! Letters to the applicant (告知书): one editable template per kind, rendered to plain
//! paragraphs once and stored, then shown as printable HTML or written as DOCX. The legal
//! basis and the remedies come from the decision; templates only arrange the words.

use serde_json::Value;

use crate::model::Answer;

/// (kind, title, default template). Placeholders are minijinja expressions; every line of
/// the result is a paragraph. The first line is the addressee; the last two are the
/// organisation and the date (right-aligned in print).
pub const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "decision.disclose",
        "政府信息公开申请答复告知书",
        "{{ applicant }}：
本机关于{{ received_on }}收到您（单位）提出的政府信息公开申请（申请编号：{{ tracking_no }}），申请获取“{{ info_title }}”。
经审查，{% if answer == 'already_public' %}您申请获取的信息已经主动公开，{{ reason }}{% else %}您申请获取的信息属于公开范围，现予以提供{% if reason %}：{{ reason }}{% endif %}{% endif %}。
根据{{ basis }}的规定，特此告知。
{{ remedies }}
{{ org_name }}
{{ date }}",
    ),
    (
        "decision.partial",
        "政府信息公开申请答复告知书",
        "{{ applicant }}：
本机关于{{ received_on }}收到您（单位）提出的政府信息公开申请（申请编号：{{ tracking_no }}），申请获取“{{ info_title }}”。
经审查，您申请获取的信息中，{{ withheld }}{{ ground }}，不予公开；其余部分予以提供。{{ reason }}
根据{{ basis }}的规定，特此告知。
{{ remedies }}
{{ org_name }}
{{ date }}",
    ),
    (
        "decision.withhold",
        "政府信息公开申请答复告知书",
        "{{ applicant }}：
本机关于{{ received_on }}收到您（单位）提出的政府信息公开申请（申请编号：{{ tracking_no }}），申请获取“{{ info_title }}”。
经审查，您申请获取的信息{{ ground }}，{{ reason }}本机关决定不予公开。
根据{{ basis }}的规定，特此告知。
{{ remedies }}
{{ org_name }}
{{ date }}",
    ),
    (
        "decision.cannot",
        "政府信息公开申请答复告知书",
        "{{ applicant }}：
本机关于{{ received_on }}收到您（单位）提出的政府信息公开申请（申请编号：{{ tracking_no }}），申请获取“{{ info_title }}”。
经审查，{{ answer_label }}。{{ reason }}
根据{{ basis }}的规定，特此告知。
{{ remedies }}
{{ org_name }}
{{ date }}",
    ),
    (
        "decision.not_processed",
        "政府信息公开申请处理决定告知书",
        "{{ applicant }}：
本机关于{{ received_on }}收到您（单位）提出的政府信息公开申请（申请编号：{{ tracking_no }}），申请获取“{{ info_title }}”。
经审查，您的申请{{ answer_label }}。{{ reason }}本机关不作为政府信息公开申请处理。
根据{{ basis }}的规定，特此告知。
{{ remedies }}
{{ org_name }}
{{ date }}",
    ),
    (
        "decision.other",
        "政府信息公开申请处理决定告知书",
        "{{ applicant }}：
本机关于{{ received_on }}收到您（单位）提出的政府信息公开申请（申请编号：{{ tracking_no }}），申请获取“{{ info_title }}”。
{{ answer_label }}。{{ reason }}
根据{{ basis }}的规定，特此告知。
{{ remedies }}
{{ org_name }}
{{ date }}",
    ),
    (
        "correction",
        "政府信息公开申请补正告知书",
        "{{ applicant }}：
本机关于{{ received_on }}收到您（单位）提出的政府信息公开申请（申请编号：{{ tracking_no }}）。经审查，您的申请内容不明确，请一并补正以下内容：
{{ items }}
请于{{ deadline }}前提交补正后的申请。答复期限自本机关收到补正申请之日起重新计算；无正当理由逾期不补正的，视为放弃申请，本机关不再处理该政府信息公开申请。
根据《中华人民共和国政府信息公开条例》第三十条的规定，特此告知。
{{ org_name }}
{{ date }}",
    ),
    (
        "fee",
        "政府信息公开信息处理费缴费通知书",
        "{{ applicant }}：
您（单位）提出的政府信息公开申请（申请编号：{{ tracking_no }}）申请数量或者频次明显超过合理范围。根据《中华人民共和国政府信息公开条例》第四十二条和《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）的规定，本机关依法收取信息处理费。
收费依据和标准：{{ fee_basis }}。应缴金额：人民币{{ fee_amount }}元。
请于{{ deadline }}前缴纳，缴费期间不计入答复期限。逾期未缴纳的，视为放弃申请，本机关不再处理该政府信息公开申请。
{{ org_name }}
{{ date }}",
    ),
    (
        "extension",
        "延长政府信息公开申请答复期限告知书",
        "{{ applicant }}：
本机关于{{ received_on }}收到您（单位）提出的政府信息公开申请（申请编号：{{ tracking_no }}）。因{{ reason }}，本机关不能在规定期限内作出答复。经政府信息公开工作机构负责人同意，答复期限延长{{ extension_days }}个工作日，延长后的答复期限为{{ due_on }}。
根据《中华人民共和国政府信息公开条例》第三十三条第二款的规定，特此告知。
{{ org_name }}
{{ date }}",
    ),
];

pub const REMEDIES: &str =
    "如对本答复不服，可以自收到本告知书之日起60日内依法申请行政复议，或者自收到本告知书之日起6个月内依法提起行政诉讼。";

/// The template kind for a decision.
pub fn decision_kind(a: Answer) -> &'static str {
    match a {
        Answer::AlreadyPublic | Answer::Disclose => "decision.disclose",
        Answer::Partial => "decision.partial",
        Answer::Withhold => "decision.withhold",
        Answer::NotHeld | Answer::NotThisAgency | Answer::NeedsCreation | Answer::StillUnclear => "decision.cannot",
        Answer::Petition | Answer::Repeat | Answer::Publication | Answer::Excessive | Answer::Reissue => {
            "decision.not_processed"
        }
        Answer::NoCorrection | Answer::NoPayment | Answer::OtherHandling => "decision.other",
    }
}

pub fn title_of(kind: &str) -> &'static str {
    TEMPLATES.iter().find(|(k, _, _)| *k == kind).map(|(_, t, _)| *t).unwrap_or("告知书")
}

pub fn default_template(kind: &str) -> Option<&'static str> {
    TEMPLATES.iter().find(|(k, _, _)| *k == kind).map(|(_, _, b)| *b)
}

/// Render a template to paragraphs (one per non-empty line). A template that does not
/// parse or render is reported with its line, so the editor can fix it.
pub fn render(template: &str, ctx: &Value) -> Result<Vec<String>, String> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let text = env.render_str(template, ctx).map_err(|e| format!("模板有误：{e}"))?;
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect())
}

/// Check an edited template against a sample context before saving it.
pub fn validate(kind: &str, template: &str) -> Result<(), String> {
    if default_template(kind).is_none() {
        return Err("没有这种告知书".into());
    }
    let sample = serde_json::json!({
        "applicant": "张三", "received_on": "2025年3月3日", "tracking_no": "YSQ20250303-0001",
        "info_title": "示例信息", "answer": "disclose", "answer_label": "予以公开", "reason": "理由。",
        "withheld": "第三页", "ground": "属于国家秘密", "basis": "《中华人民共和国政府信息公开条例》第三十六条",
        "remedies": REMEDIES, "org_name": "青禾区人民政府办公室", "date": "2025年3月20日", "items": "1.信息名称",
        "deadline": "2025年4月1日", "fee_basis": "按件计收", "fee_amount": 100, "extension_days": 20,
        "due_on": "2025年4月30日",
    });
    let paras = render(template, &sample)?;
    if paras.len() < 3 {
        return Err("告知书至少应有称谓、正文和落款".into());
    }
    Ok(())
}

/// A date as letters write it: 2025年3月20日.
pub fn date_zh(d: time::Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month() as u8, d.day())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The stored body (paragraphs joined by newlines) as a printable HTML fragment.
pub fn to_html(title: &str, body: &str) -> String {
    let paras: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
    let n = paras.len();
    let mut out = format!("<article class=\"letter\"><h1 class=\"letter__title\">{}</h1>", escape(title));
    for (i, p) in paras.iter().enumerate() {
        let class = if i == 0 {
            "letter__to"
        } else if i + 2 >= n {
            "letter__sign"
        } else {
            "letter__p"
        };
        out.push_str(&format!("<p class=\"{class}\">{}</p>", escape(p)));
    }
    out.push_str("</article>");
    out
}

/// The stored body as a DOCX document with 公文 fonts.
pub fn to_docx(title: &str, body: &str) -> Result<Vec<u8>, String> {
    let paras: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
    let n = paras.len();
    let mut d = gongkai_kernel::docx::Document::new();
    d.title(title);
    for (i, p) in paras.iter().enumerate() {
        if i == 0 {
            d.plain(p);
        } else if i + 2 >= n {
            d.right(p);
        } else {
            d.paragraph(p);
        }
    }
    d.to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_template_renders_with_the_sample() {
        for (kind, _, body) in TEMPLATES {
            validate(kind, body).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
        for a in Answer::ALL {
            assert!(default_template(decision_kind(*a)).is_some());
        }
    }

    #[test]
    fn a_broken_template_is_refused_with_a_message() {
        let e = validate("decision.disclose", "{{ applicant }：").unwrap_err();
        assert!(e.starts_with("模板有误"), "{e}");
        let e = validate("decision.disclose", "{{ nosuchname }}\n正文\n落款").unwrap_err();
        assert!(e.starts_with("模板有误"), "{e}");
        assert!(validate("nosuch", "x").is_err());
    }

    #[test]
    fn html_escapes_and_marks_the_signature() {
        let h = to_html("告知书", "张三：\n正文<b>\n某局\n2025年1月1日");
        assert!(h.contains("正文&lt;b&gt;"));
        assert!(h.contains("<p class=\"letter__sign\">某局</p>"));
        assert!(h.contains("<p class=\"letter__to\">张三：</p>"));
    }
}
