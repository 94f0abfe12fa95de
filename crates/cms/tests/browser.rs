//! A real browser (headless Chromium through chromedriver, W3C WebDriver over HTTP) walks
//! the editorial flow: an editor creates an item with an attachment and submits it; a
//! reviewer approves it and sees it published. Screenshots are kept as CI artifacts in
//! `target/screenshots/` (or `$GONGKAI_ARTIFACTS`).
//!
//! Without chromedriver on the machine the test says so and returns, unless
//! `GONGKAI_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs Chromium) makes that a failure.

use gongkai_kernel::auth::Role;
use gongkai_kernel::testkit::browser::Driver;
use gongkai_kernel::testkit::{self, TestServer};

#[tokio::test]
async fn editor_and_reviewer_publish_an_item_with_an_attachment_in_a_browser() {
    let Some(d) = Driver::start().await else { return };
    let t = testkit::sqlite().await;
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    let admin =
        testkit::principal(&t.db, testkit::user_with_role(&t.db, "colsadmin", Some(Role::SysAdmin)).await).await;
    let mut h = t.db.read().await.unwrap();
    let site =
        gongkai_kernel::site::store::all(&mut h.conn()).await.unwrap().into_iter().find(|s| s.code == "www").unwrap();
    drop(h);
    let column = gongkai_cms::service::create_column(
        &t.db,
        &admin,
        "ip",
        &gongkai_cms::service::ColumnInput {
            site_id: site.id.to_string(),
            name: "通知公告".into(),
            slug: "tzgg".into(),
            kind: "list".into(),
            class: "notice".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    testkit::user_with_role(&t.db, "bianji", Some(Role::Editor)).await;
    testkit::user_with_role(&t.db, "shenhe", Some(Role::Reviewer)).await;
    let s = TestServer::start_slices(&t, vec![gongkai_cms::web::slice()]).await;
    let base = s.base.clone();

    // Editor: a new item typed into the rich-text editor.
    d.login(&base, "bianji").await;
    d.goto(&format!("{base}/console/content/new")).await;
    d.send_keys("#f-title", "关于开展2026年度政务公开培训的通知").await;
    d.execute(
        "document.getElementById('f-home_column_id').value = arguments[0]; document.getElementById('f-publisher_org_id').value = arguments[1]; document.getElementById('f-class_code').value = 'notice';",
        vec![column.id.to_string().into(), site.org_id.unwrap().to_string().into()],
    )
    .await;
    d.click(".rte-area").await;
    d.send_keys(".rte-area", "各部门：为提升政务公开工作水平，定于近期开展培训。").await;
    d.screenshot("01-editor-new-item").await;
    d.click("form.item-form button[type=submit]").await;
    d.wait_for(&["草稿", "提升政务公开工作水平"], "item saved as a draft from the rich editor").await;

    // The attachment: a real upload through the file input.
    let pdf = std::env::temp_dir().join(format!("培训安排-{}.pdf", gongkai_kernel::random_token::<4>()));
    std::fs::write(&pdf, b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n").unwrap();
    d.send_keys("#f-file", pdf.to_str().unwrap()).await;
    d.click("form[enctype='multipart/form-data'] button[type=submit]").await;
    d.wait_for(&["培训安排", "PDF"], "attachment listed with its sniffed type").await;
    d.click("form[action$='/submit'] button[type=submit]").await;
    d.wait_for(&["审核中"], "submitted").await;
    d.screenshot("02-editor-submitted").await;
    d.logout().await;

    // Reviewer: the queue, the item, approve.
    d.login(&base, "shenhe").await;
    d.goto(&format!("{base}/console/review")).await;
    d.click("main table a").await;
    d.send_keys("#f-comment", "同意发布").await;
    d.click("form[action$='/approve'] button[type=submit]").await;
    d.wait_for(&["已发布", "索引号", "培训安排"], "published with an index number and the attachment").await;
    d.screenshot("03-reviewer-published").await;
    let _ = std::fs::remove_file(pdf);
    d.quit().await;
}
