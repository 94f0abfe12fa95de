//! A real browser (headless Chromium through chromedriver) walks a disclosure request end
//! to end: a citizen applies through the public form, answering the captcha; a discloser
//! confirms receipt, asks for a correction, records it, decides 部分公开, generates the
//! letter and records delivery; the citizen then reads the answer on the tracking page.
//! Screenshots are kept in `target/screenshots/` (or `$GONGKAI_ARTIFACTS`).
//!
//! Without chromedriver the test says so and returns, unless `GONGKAI_REQUIRE_BROWSER=1`.

use gongkai_kernel::auth::Role;
use gongkai_kernel::testkit::browser::Driver;
use gongkai_kernel::testkit::{self, TestServer, checkers};
use gongkai_kernel::web::AppState;
use serde_json::Value;

/// Answer the captcha as a person reads it: "七加五等于几？…" → 12.
fn solve(question: &str) -> u32 {
    let digit = |c: char| "一二三四五六七八九".chars().position(|d| d == c).map(|p| p as u32 + 1);
    let c: Vec<char> = question.chars().collect();
    let (a, b) = (digit(c[0]).unwrap_or_else(|| panic!("{question}")), digit(c[2]).unwrap());
    match c[1] {
        '加' => a + b,
        '减' => a - b,
        op => panic!("unexpected operator {op} in {question}"),
    }
}

/// Set a form control's value by script (date inputs: typing depends on the browser's locale).
async fn set_value(d: &Driver, css: &str, value: &str) {
    let el = d.find(css).await;
    d.execute("arguments[0].value = arguments[1];", vec![el.as_arg(), Value::from(value)]).await;
}

/// The HTML the server sent for the current page (the DOM the driver returns has lost the
/// doctype), fetched again from inside the page so the session cookie goes along; with a
/// form, POSTed to the current page's address.
async fn served(d: &Driver, form: Option<&[(&str, &str)]>) -> String {
    let body: serde_json::Map<String, Value> =
        form.unwrap_or(&[]).iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect();
    let script = "var done = arguments[arguments.length - 1]; var body = arguments[0];
        var init = Object.keys(body).length ? { method: 'POST', body: new URLSearchParams(body) } : {};
        fetch(location.href, init).then(function (r) { return r.text(); }).then(done);";
    d.execute_async(script, vec![Value::Object(body)]).await.as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_citizen_applies_staff_decide_partial_disclosure_and_the_citizen_reads_the_answer() {
    let Some(d) = Driver::start().await else { return };
    let t = testkit::sqlite().await;
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    testkit::user_with_role(&t.db, "gongkai", Some(Role::Discloser)).await;
    let org = gongkai_kernel::org::service::list(&t.db)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == "青禾区住房和城乡建设局")
        .unwrap();
    let state = AppState::with_slices(t.db.clone(), t.config(), vec![gongkai_foi::slice()]);
    let s = TestServer::start_state(gongkai_foi::public::attach(state)).await;
    let base = s.base.clone();
    let today = gongkai_kernel::clock::today();
    let fmt = gongkai_kernel::clock::fmt_date;

    // The public form is usable on a phone and passes axe there and on a desktop.
    let mut sources: Vec<(String, String)> = Vec::new();
    d.set_window_size(390, 844).await;
    d.goto(&format!("{base}/yisqgk/apply?org={}", org.id)).await;
    checkers::assert_axe_clean(&d, "application form on a phone").await;
    d.set_window_size(1280, 900).await;
    sources.push(("apply.html".into(), served(&d, None).await));

    // The citizen fills in the public form.
    d.goto(&format!("{base}/yisqgk/apply")).await;
    d.click(&format!("#f-org_id option[value='{}']", org.id)).await;
    d.click("#f-applicant_kind option[value='natural']").await;
    d.send_keys("#f-applicant_name", "林秀英").await;
    d.click("#f-id_type option[value='id_card']").await;
    d.send_keys("#f-id_number", "11010519491231002X").await;
    d.send_keys("#f-phone", "13912345678").await;
    d.send_keys("#f-email", "linxy@example.cn").await;
    d.send_keys("#f-address", "青禾区西岭街道花园路 12 号").await;
    d.send_keys("#f-postcode", "310012").await;
    d.send_keys("#f-info_title", "西岭街道花园路地块拆迁补偿方案").await;
    d.send_keys("#f-info_description", "2025年发布的补偿标准及评估报告").await;
    d.click("#f-form_wanted option[value='paper']").await;
    d.click("#f-delivery option[value='post']").await;
    let question = d.text("label[for='f-answer']").await;
    let question = question.trim_end_matches('*').trim();
    d.send_keys("#f-answer", &solve(question).to_string()).await;
    d.screenshot("foi-01-citizen-form").await;
    d.click("form[action='/yisqgk/apply'] button[type=submit]").await;
    d.wait_for(&["申请已提交", "您的申请已保存"], "the receipt page").await;
    let no = d.text("dl.receipt dd:nth-of-type(1) strong").await;
    let code = d.text("dl.receipt dd:nth-of-type(2) strong").await;
    assert!(no.starts_with("YSQ"), "{no}");
    assert_eq!(code.len(), 8, "{code}");
    d.screenshot("foi-02-citizen-receipt").await;

    // Staff: the worklist, the request, receipt confirmed (the date field defaults to today).
    d.login(&base, "gongkai").await;
    d.goto(&format!("{base}/console/foi")).await;
    d.wait_for(&[&no, "林秀英", "待确认收到"], "the worklist").await;
    d.click("main table a").await;
    d.wait_for(&[&no, "尚未开始计时"], "the request").await;
    d.click("form[action$='/receipt'] button[type=submit]").await;
    d.wait_for(&["答复期限：", "期限计算说明", "补正告知"], "receipt confirmed").await;
    d.screenshot("foi-03-staff-received").await;
    // Every form of an open request is on this page.
    checkers::assert_axe_clean(&d, "an open request in the console").await;
    sources.push(("detail.html".into(), served(&d, None).await));

    // A correction notice, then the corrected application received today.
    let deadline = today.checked_add(time::Duration::days(10)).unwrap();
    d.send_keys("#f-correction-items", "请写明所需补偿方案的具体地块编号").await;
    set_value(&d, "form[action$='/correction'] [name=sent_on]", &fmt(today)).await;
    set_value(&d, "form[action$='/correction'] [name=deadline]", &fmt(deadline)).await;
    d.click("form[action$='/correction'] button[type=submit]").await;
    d.wait_for(&["待补正", "暂停计时", "政府信息公开申请补正告知书"], "correction sent").await;
    d.screenshot("foi-04-staff-correction").await;
    set_value(&d, "form[action$='/correction/received'] [name=on]", &fmt(today)).await;
    d.click("form[action$='/correction/received'] button[type=submit]").await;
    // The timeline entry, not the clock's explanation (which names the corrected application
    // while it is still awaited): the old page must not satisfy the wait.
    d.wait_for(&["收到补正后的申请（", "作出答复"], "correction received").await;

    // 部分公开 with a ground, the withheld part and the reason.
    d.click("form[action$='/decision'] select[name=answer] option[value='partial']").await;
    d.click("form[action$='/decision'] select[name=ground] option[value='process']").await;
    d.send_keys("form[action$='/decision'] [name=withheld]", "评估报告中的内部讨论意见").await;
    d.send_keys("form[action$='/decision'] [name=reason]", "补偿标准已附后。").await;
    set_value(&d, "form[action$='/decision'] [name=decided_on]", &fmt(today)).await;
    d.screenshot("foi-05-staff-decision-form").await;
    d.click("form[action$='/decision'] button[type=submit]").await;
    d.wait_for(&["已答复", "（二）部分公开", "告知书尚未送达"], "decided").await;
    d.click("form[action$='/letter'] button[type=submit]").await;
    d.wait_for(&["政府信息公开申请答复告知书", "下载 Word"], "the letter").await;
    set_value(&d, "form[action$='/delivery'] [name=delivered_on]", &fmt(today)).await;
    d.send_keys("form[action$='/delivery'] [name=reference]", "EMS1234567890").await;
    d.click("form[action$='/delivery'] button[type=submit]").await;
    d.wait_for(&["告知书已于", "EMS1234567890"], "delivered").await;
    d.screenshot("foi-06-staff-delivered").await;
    d.logout().await;

    // The citizen looks the request up.
    d.goto(&format!("{base}/yisqgk/track")).await;
    d.send_keys("#f-no", &no).await;
    d.send_keys("#f-code", &code).await;
    d.click("form[action='/yisqgk/track'] button[type=submit]").await;
    let page = d
        .wait_for(
            &["已答复", "部分公开", "评估报告中的内部讨论意见", "属于四类过程性信息", "行政复议", "EMS1234567890"],
            "the answer on the tracking page",
        )
        .await;
    assert!(page.contains("林秀英："), "the letter is addressed to the applicant");
    assert!(!page.contains("11010519491231002X") && !page.contains("13912345678"), "no ID number or phone");
    // The decision letter is the last one on the page.
    d.execute("var l = document.querySelectorAll('.letter-box'); l[l.length - 1].scrollIntoView();", vec![]).await;
    d.screenshot("foi-07-citizen-answer").await;
    checkers::assert_axe_clean(&d, "the tracking page with the answer").await;
    sources.push(("status.html".into(), served(&d, Some(&[("no", &no), ("code", &code)])).await));
    let docs: Vec<(&str, &str)> = sources.iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
    checkers::assert_valid_html(&docs);
    d.quit().await;
}
