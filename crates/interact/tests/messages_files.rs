//! Attachments of messages over HTTP, on SQLite and PostgreSQL: two valid files stored with
//! the message and downloaded by staff with the same bytes; a PDF name over PNG bytes, a
//! 6 MB file and a fourth file refused with what was typed kept and nothing stored; a retried
//! submission storing no file again; the public reply and status pages never linking a file;
//! the url-encoded form (scripts, the benchmark) still accepted.

use gongkai_interact::messages::service::{self, ReviewForm};
use gongkai_kernel::auth::Role;
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use reqwest::{Client, StatusCode, redirect::Policy};

const IP: &str = "127.0.0.1";

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

async fn server(t: &TestDb) -> TestServer {
    let state = AppState::with_slices(t.db.clone(), t.config(), gongkai_interact::slices());
    TestServer::start_state(gongkai_interact::attach(state)).await
}

async fn scalar(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

async fn id_of(t: &TestDb, sql: &'static str, key: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).bind(key).fetch_one(&mut **x).await).unwrap()
}

fn input_value(page: &str, name: &str) -> String {
    let key = format!("name=\"{name}\"");
    let i = page.find(&key).unwrap_or_else(|| panic!("no input {name} in {page}")) + key.len();
    let tag = &page[i..i + page[i..].find('>').unwrap()];
    let v = tag.find("value=\"").unwrap_or_else(|| panic!("input {name} has no value: {tag}")) + 7;
    tag[v..].split('"').next().unwrap().to_string()
}

fn text_after(page: &str, open: &str) -> String {
    let i = page.find(open).unwrap_or_else(|| panic!("{open} not in {page}")) + open.len();
    page[i..].split('<').next().unwrap().trim().to_string()
}

fn solve(question: &str) -> u32 {
    let digit = |c: char| "一二三四五六七八九".chars().position(|d| d == c).map(|p| p as u32 + 1);
    let c: Vec<char> = question.chars().collect();
    let (a, b) = (digit(c[0]).unwrap(), digit(c[2]).unwrap());
    if c[1] == '加' { a + b } else { a - b }
}

/// The text fields of a fresh form with its guard filled in.
async fn fields(c: &Client, s: &TestServer, org: i64) -> Vec<(&'static str, String)> {
    let page = c.get(s.url("/hudong/www/liuyan/new")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("name=\"files\""), "{page}");
    let answer = solve(&text_after(&page, "<label for=\"f-answer\">"));
    vec![
        ("kind", "help".into()),
        ("addressee", org.to_string()),
        ("title", "房屋漏水求助".into()),
        ("content", "我叫赵小兵，楼上漏水已三个月，照片和维修合同见附件，电话13612345678。".into()),
        ("name", "赵小兵".into()),
        ("phone", "13612345678".into()),
        ("agree", "1".into()),
        ("idem", input_value(&page, "idem")),
        ("token", input_value(&page, "token")),
        ("answer", answer.to_string()),
    ]
}

/// A multipart/form-data body as a browser sends it: (content type, bytes).
fn multipart(text: &[(&str, String)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----gongkai-msg-files-3f9a";
    let mut body = Vec::new();
    for (k, v) in text {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(v.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    for (name, data) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post(c: &Client, s: &TestServer, text: &[(&str, String)], files: &[(&str, &[u8])]) -> (StatusCode, String) {
    let (ct, body) = multipart(text, files);
    let r = c.post(s.url("/hudong/www/liuyan/new")).header("content-type", ct).body(body).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

fn pdf() -> Vec<u8> {
    [b"%PDF-1.7\n".as_slice(), "维修合同 第1页".as_bytes(), &[0, 1, 2, 255, 254]].concat()
}

fn png() -> Vec<u8> {
    [b"\x89PNG\r\n\x1a\n".as_slice(), &(0..=255u8).collect::<Vec<_>>()].concat()
}

/// A refused submission: 422, the message at the file field asking to choose again, what
/// was typed kept, nothing stored.
async fn refused(t: &TestDb, status: StatusCode, page: &str, expect: &str) {
    let b = t.backend_name();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {page}");
    let err = text_after(page, "<p class=\"err\" id=\"e-files\">");
    assert!(err.contains(expect) && err.contains("重新选择附件"), "{b}: {err}");
    assert!(page.contains("aria-invalid=\"true\"") && page.contains("value=\"赵小兵\""), "{b}: typed kept");
    assert!(page.contains("楼上漏水已三个月"), "{b}: the content kept");
    assert_eq!(scalar(t, "SELECT COUNT(*) FROM msg_messages").await, 0, "{b}");
    assert_eq!(scalar(t, "SELECT COUNT(*) FROM msg_files").await, 0, "{b}");
}

#[tokio::test]
async fn attachments_are_checked_stored_once_and_shown_only_to_staff() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let s = server(&t).await;
        let www = id_of(&t, "SELECT id FROM sites WHERE code = $1", "www").await;
        let jyj = id_of(&t, "SELECT id FROM orgs WHERE short_name = $1", "区教育局").await;
        let c = client();
        let (pdf, png) = (pdf(), png());

        // A PDF name over PNG bytes.
        let (st, page) = post(&c, &s, &fields(&c, &s, jyj).await, &[("合同.pdf", &png)]).await;
        refused(&t, st, &page, "内容与文件类型不符").await;
        // A 6 MB file.
        let big = [b"%PDF-1.4\n".as_slice(), &vec![b'x'; 6 * 1024 * 1024]].concat();
        let (st, page) = post(&c, &s, &fields(&c, &s, jyj).await, &[("扫描件.pdf", &big)]).await;
        refused(&t, st, &page, "超过5MB").await;
        // A fourth file.
        let four: Vec<(&str, &[u8])> = vec![("1.pdf", &pdf), ("2.pdf", &pdf), ("3.png", &png), ("4.png", &png)];
        let (st, page) = post(&c, &s, &fields(&c, &s, jyj).await, &four).await;
        refused(&t, st, &page, "最多上传3个附件").await;
        // Another field wrong with valid files: the files must be chosen again, and it says so.
        let mut typed = fields(&c, &s, jyj).await;
        typed.retain(|(k, _)| *k != "phone");
        let (st, page) = post(&c, &s, &typed, &[("合同.pdf", &pdf)]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(page.contains("请填写联系电话") && page.contains("附件尚未保存，请重新选择"), "{b}: {page}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM msg_files").await, 0, "{b}");

        // Two valid files, then the same submission again: one message, two files.
        let form = fields(&c, &s, jyj).await;
        let files: Vec<(&str, &[u8])> = vec![("维修合同.pdf", &pdf), ("漏水照片.png", &png)];
        let (st, page) = post(&c, &s, &form, &files).await;
        assert_eq!(st, StatusCode::OK, "{b}: {page}");
        assert!(page.contains("您的留言已保存"), "{b}");
        let code = text_after(&page, "<strong class=\"msg-code\">");
        let password = text_after(&page, "<strong class=\"msg-password\">");
        let (st, page) = post(&c, &s, &form, &files).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert!(page.contains("已提交过"), "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM msg_messages").await, 1, "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM msg_files").await, 2, "{b}: no file stored twice");
        let id = id_of(&t, "SELECT id FROM msg_messages WHERE code = $1", &code).await;

        // The url-encoded form (no files) is still taken.
        let plain = fields(&c, &s, jyj).await;
        let r = c.post(s.url("/hudong/www/liuyan/new")).form(&plain).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM msg_messages").await, 2, "{b}");

        // Staff see and download them; someone who may not see the message gets nothing.
        let actor = gongkai_kernel::audit::Actor::system("test");
        let desk_id = testkit::user_with_role(&t.db, "desk", None).await;
        gongkai_kernel::auth::service::grant(&t.db, None, &actor, desk_id, Role::Reviewer, None, Some(www))
            .await
            .unwrap();
        let hand_id = testkit::user_with_role(&t.db, "jyjhandler", None).await;
        gongkai_kernel::auth::service::grant(&t.db, None, &actor, hand_id, Role::Handler, Some(jyj), None)
            .await
            .unwrap();
        let other = testkit::user_with_role(&t.db, "other", None).await;
        let wjw = id_of(&t, "SELECT id FROM orgs WHERE short_name = $1", "区卫健局").await;
        gongkai_kernel::auth::service::grant(&t.db, None, &actor, other, Role::Handler, Some(wjw), None).await.unwrap();
        let desk = client();
        let r = desk.post(s.url("/login")).form(&[("username", "desk"), ("password", TEST_PASSWORD)]).send().await;
        assert_eq!(r.unwrap().status(), StatusCode::SEE_OTHER);
        let page = desk.get(s.url(&format!("/console/messages/{id}"))).send().await.unwrap().text().await.unwrap();
        let links: Vec<String> = page
            .split(&format!("href=\"/console/messages/{id}/files/"))
            .skip(1)
            .map(|p| format!("/console/messages/{id}/files/{}", p.split('"').next().unwrap()))
            .collect();
        assert_eq!(links.len(), 2, "{b}: {page}");
        assert!(page.contains("维修合同.pdf") && page.contains("漏水照片.png"), "{b}");
        for (link, (name, bytes, ct)) in
            links.iter().zip([("维修合同.pdf", &pdf, "application/pdf"), ("漏水照片.png", &png, "image/png")])
        {
            let r = desk.get(s.url(link)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{b}: {link}");
            assert_eq!(r.headers()["content-type"], ct, "{b}");
            let cd = r.headers()["content-disposition"].to_str().unwrap().to_string();
            assert!(cd.starts_with("attachment;"), "{b}: {cd}");
            assert!(cd.contains(&gongkai_kernel::web::middleware::urlencode(name)), "{b}: {cd}");
            assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{b}");
            assert_eq!(r.bytes().await.unwrap().to_vec(), *bytes, "{b}: the same bytes");
        }
        let nosy = client();
        let r = nosy.post(s.url("/login")).form(&[("username", "other"), ("password", TEST_PASSWORD)]).send().await;
        assert_eq!(r.unwrap().status(), StatusCode::SEE_OTHER);
        assert_eq!(nosy.get(s.url(&links[0])).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{b}");
        let anon = client().get(s.url(&links[0])).send().await.unwrap();
        assert_eq!(anon.status(), StatusCode::SEE_OTHER, "{b}");
        // Another message's file id under this message: not found.
        let fid: i64 = links[0].rsplit('/').next().unwrap().parse().unwrap();
        let other_id = id_of(&t, "SELECT id FROM msg_messages WHERE code <> $1", &code).await;
        let r = desk.get(s.url(&format!("/console/messages/{other_id}/files/{fid}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{b}");

        // Answered and published: the public pages never link a file.
        let p = |uid| testkit::principal(&t.db, uid);
        let (dp, hp) = (p(desk_id).await, p(hand_id).await);
        service::accept(&t.db, &dp, IP, id).await.unwrap();
        service::assign(&t.db, &dp, IP, id, &jyj.to_string(), "").await.unwrap();
        service::draft(&t.db, &hp, IP, id, "赵小兵您好：已联系物业上门维修。").await.unwrap();
        let ok = ReviewForm { decision: "approve".into(), note: String::new(), publish: "1".into() };
        service::review(&t.db, &dp, IP, id, &ok).await.unwrap();
        service::send(&t.db, &dp, IP, id).await.unwrap();
        service::publish(&t.db, &dp, IP, id).await.unwrap();
        let show = c.get(s.url(&format!("/hudong/www/liuyan/{id}"))).send().await.unwrap();
        assert_eq!(show.status(), StatusCode::OK, "{b}");
        let page = show.text().await.unwrap();
        assert!(page.contains("已联系物业上门维修"), "{b}");
        assert!(!page.contains("/files/") && !page.contains("维修合同.pdf") && !page.contains("漏水照片"), "{b}");
        let r = c.post(s.url("/hudong/liuyan/track")).form(&[("code", &code), ("password", &password)]).send().await;
        let page = r.unwrap().text().await.unwrap();
        assert!(page.contains("已联系物业上门维修"), "{b}: {page}");
        assert!(!page.contains("/files/") && !page.contains("维修合同.pdf"), "{b}");
    }
}
