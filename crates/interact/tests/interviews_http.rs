//! Interviews over HTTP, on SQLite and PostgreSQL: the public list and page, the question
//! box (captcha, idempotent retries, nothing stored without the captcha, questions private
//! until answered, HTML escaped), the live page's server-sent events (an answer published
//! through the service arrives as an event), and the console's guard and refusals.

use gongkai_interact::interviews::rules::InterviewForm;
use gongkai_interact::interviews::service::{self, AnswerForm};
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::clock;
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use reqwest::{Client, StatusCode, redirect::Policy};
use std::time::Duration;

const IP: &str = "127.0.0.1";

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

async fn server(t: &TestDb) -> TestServer {
    let state = AppState::with_slices(t.db.clone(), t.config(), gongkai_interact::slices());
    TestServer::start_state(gongkai_interact::attach(state)).await
}

async fn scalar(t: &TestDb, sql: &'static str, bind: i64) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).bind(bind).fetch_one(&mut **x).await).unwrap()
}

async fn www(t: &TestDb) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>("SELECT id FROM sites WHERE code = 'www'").fetch_one(&mut **x).await)
        .unwrap()
}

async fn editor(t: &TestDb) -> Principal {
    let id = testkit::user_with_role(&t.db, "itv", Some(Role::Editor)).await;
    testkit::principal(&t.db, id).await
}

/// An announced interview starting in five days.
async fn announced(t: &TestDb, who: &Principal, site: i64) -> i64 {
    let now = clock::now_ms();
    let start = clock::ms_to_local(now + 5 * 86_400_000);
    let f = InterviewForm {
        site_id: site.to_string(),
        kind: "interview".into(),
        topic: "优化营商环境政策解读".into(),
        intro: "第一段简介。\n第二段简介。".into(),
        guests: "赵明 区发展和改革局局长".into(),
        starts_at: clock::fmt_local(start),
        ends_at: clock::fmt_local(start + time::Duration::hours(1)),
        answer_days: "5".into(),
    };
    let id = service::create(&t.db, who, IP, &f, now).await.unwrap();
    service::announce(&t.db, who, IP, id, now).await.unwrap();
    id
}

/// The value of the first `<input … name="{name}" … value="…">` on the page.
fn input_value(page: &str, name: &str) -> String {
    let key = format!("name=\"{name}\"");
    let i = page.find(&key).unwrap_or_else(|| panic!("no input {name} in {page}")) + key.len();
    let tag = &page[i..i + page[i..].find('>').unwrap()];
    let v = tag.find("value=\"").unwrap_or_else(|| panic!("input {name} has no value: {tag}")) + 7;
    tag[v..].split('"').next().unwrap().to_string()
}

/// Answer the captcha the way a person reads it: "七加五等于几？…" → 12.
fn solve(page: &str) -> u32 {
    let open = "<label for=\"f-answer\">";
    let i = page.find(open).unwrap() + open.len();
    let question: Vec<char> = page[i..].chars().take(3).collect();
    let digit = |c: char| "一二三四五六七八九".chars().position(|d| d == c).map(|p| p as u32 + 1).unwrap();
    match question[1] {
        '加' => digit(question[0]) + digit(question[2]),
        '减' => digit(question[0]) - digit(question[2]),
        op => panic!("unexpected operator {op}"),
    }
}

#[tokio::test]
async fn the_public_asks_and_reads_the_answers() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let site = www(&t).await;
        let who = editor(&t).await;
        let id = announced(&t, &who, site).await;
        let s = server(&t).await;
        let c = client();
        let page_url = s.url(&format!("/hudong/www/fangtan/{id}"));

        // The list shows it as upcoming; a draft is not public.
        let list = c.get(s.url("/hudong/www/fangtan")).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("优化营商环境政策解读") && list.contains("访谈预告"), "{b}");
        let draft =
            service::create(&t.db, &who, IP, &InterviewForm { topic: "草稿".into(), ..Default::default() }, 0).await;
        assert!(draft.is_err());
        assert_eq!(c.get(s.url("/hudong/jyj/fangtan/1")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(
            c.get(s.url(&format!("/hudong/jyj/fangtan/{id}"))).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );

        let page = c.get(&page_url).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("赵明") && page.contains("<p>第二段简介。</p>") && page.contains("我要提问"), "{b}");
        assert!(!page.contains("http-equiv=\"refresh\""), "no refresh before the session");
        let (idem, token, n) = (input_value(&page, "idem"), input_value(&page, "token"), solve(&page));

        // A wrong captcha: the form again with what was typed, nothing stored.
        let body = "<b>营业执照</b>办理要多久？";
        let form = |answer: String| {
            vec![
                ("asker", "市民".to_string()),
                ("body", body.to_string()),
                ("idem", idem.clone()),
                ("token", token.clone()),
                ("answer", answer),
            ]
        };
        let r = c.post(&page_url).form(&form((n + 1).to_string())).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let again = r.text().await.unwrap();
        assert!(again.contains("&lt;b&gt;营业执照&lt;&#x2f;b&gt;办理要多久？</textarea>"), "typed text kept, escaped");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM itv_questions WHERE interview_id = $1", id).await, 0);

        // Submitted, then submitted again with the same key: one question.
        for _ in 0..2 {
            let r = c.post(&page_url).form(&form(n.to_string())).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{b}");
            assert!(r.text().await.unwrap().contains("您的问题已提交"));
        }
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM itv_questions WHERE interview_id = $1", id).await, 1, "{b}");
        // Too long: refused with the field's message.
        let page = c.get(&page_url).send().await.unwrap().text().await.unwrap();
        let long = vec![
            ("body", "问".repeat(501)),
            ("idem", input_value(&page, "idem")),
            ("token", input_value(&page, "token")),
            ("answer", solve(&page).to_string()),
        ];
        let r = c.post(&page_url).form(&long).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("问题不能超过500个字"));

        // Not public until answered; then shown, escaped.
        let page = c.get(&page_url).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("营业执照"), "{b}: an unanswered question is private");
        let qid = scalar(&t, "SELECT id FROM itv_questions WHERE interview_id = $1", id).await;
        service::go_live(&t.db, &who, IP, id, clock::now_ms()).await.unwrap();
        let f = AnswerForm {
            question_id: qid.to_string(),
            guest: "赵明".into(),
            answer: "<i>一个</i>工作日。".into(),
            ..Default::default()
        };
        service::publish_answer(&t.db, &who, IP, id, &f, clock::now_ms()).await.unwrap();
        let page = c.get(&page_url).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("&lt;b&gt;营业执照&lt;&#x2f;b&gt;办理要多久？"), "{b}: {page}");
        assert!(page.contains("&lt;i&gt;一个"), "{b}");
        assert!(!page.contains("<b>营业执照") && !page.contains("<i>一个"));
        // Live: the page refreshes itself without JavaScript and loads the script.
        assert!(page.contains("<noscript><meta http-equiv=\"refresh\" content=\"30\"></noscript>"), "{b}");
        assert!(page.contains("<script src=\"/static/interview.js\" defer></script>"));
        let events = format!("data-events=\"&#x2f;hudong&#x2f;www&#x2f;fangtan&#x2f;{id}/events\" data-last=\"1\"");
        assert!(page.contains(&events), "{b}: {page}");
        let js = c.get(s.url("/static/interview.js")).send().await.unwrap();
        assert_eq!(js.status(), StatusCode::OK);

        // Ended: the archive, no question box, no refresh, no events.
        service::end(&t.db, &who, IP, id, clock::now_ms()).await.unwrap();
        let page = c.get(&page_url).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("文字实录") && page.contains("访谈已结束，不再接受提问"), "{b}");
        assert!(!page.contains("http-equiv") && !page.contains("name=\"token\""));
        let r = c.get(format!("{page_url}/events")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "an ended session has no stream");
        let list = c.get(s.url("/hudong/www/fangtan")).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("往期回顾"));
    }
}

/// Read a server-sent events response until `want` shows up (or fail after `secs`).
async fn read_until(r: &mut reqwest::Response, want: &[&str], secs: u64) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !want.iter().all(|w| seen.contains(w)) {
        let chunk = tokio::time::timeout_at(deadline, r.chunk()).await;
        match chunk {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(Ok(None)) => panic!("stream ended before {want:?}: {seen}"),
            Ok(Err(e)) => panic!("stream failed: {e}"),
            Err(_) => panic!("no {want:?} within {secs}s: {seen}"),
        }
    }
    seen
}

#[tokio::test]
async fn the_live_page_receives_answers_as_server_sent_events() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let site = www(&t).await;
        let who = editor(&t).await;
        let id = announced(&t, &who, site).await;
        service::go_live(&t.db, &who, IP, id, clock::now_ms()).await.unwrap();
        service::publish_update(&t.db, &who, IP, id, "访谈开始。", clock::now_ms()).await.unwrap();
        let s = server(&t).await;
        let url = s.url(&format!("/hudong/www/fangtan/{id}/events"));

        // Connected after entry #1: only what comes next arrives.
        let mut r = client().get(&url).header("last-event-id", "1").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        read_until(&mut r, &[": connected"], 5).await;
        let f = AnswerForm {
            question: "企业开办需要几天？".into(),
            guest: "赵明".into(),
            answer: "<script>x</script>一天内办结。".into(),
            ..Default::default()
        };
        service::publish_answer(&t.db, &who, IP, id, &f, clock::now_ms()).await.unwrap();
        let got = read_until(&mut r, &["id: 2", "event: entry", "一天内办结。"], 5).await;
        assert!(got.contains("&lt;script&gt;x&lt;&#x2f;script&gt;"), "{b}: {got}");
        assert!(!got.contains("访谈开始。"), "{b}: entry 1 was not sent again");
        assert!(!got.contains("<script>"));

        // `?after=0` replays everything; the end of the session closes the stream.
        let mut r2 = client().get(format!("{url}?after=0")).send().await.unwrap();
        read_until(&mut r2, &["id: 1", "访谈开始。", "id: 2"], 5).await;
        service::end(&t.db, &who, IP, id, clock::now_ms()).await.unwrap();
        read_until(&mut r2, &["event: state", "data: ended"], 5).await;
        let rest = tokio::time::timeout(Duration::from_secs(5), r2.chunk()).await.unwrap().unwrap();
        assert!(rest.is_none(), "{b}: the stream ends with the session");
    }
}

async fn login(s: &TestServer, username: &str) -> (Client, String) {
    let c = client();
    let r = c.post(s.url("/login")).form(&[("username", username), ("password", TEST_PASSWORD)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {username}");
    let page = c.get(s.url("/console/password")).send().await.unwrap().text().await.unwrap();
    let i = page.find("name=\"_csrf\" value=\"").unwrap() + 20;
    (c, page[i..i + 32].to_string())
}

#[tokio::test]
async fn the_console_guards_and_explains_refusals() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let site = www(&t).await;
        editor(&t).await;
        testkit::user_with_role(&t.db, "rev", Some(Role::Reviewer)).await;
        let s = server(&t).await;

        let r = client().get(s.url("/console/interviews")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b}: anonymous → login");
        let (rc, _) = login(&s, "rev").await;
        assert_eq!(rc.get(s.url("/console/interviews")).send().await.unwrap().status(), StatusCode::FORBIDDEN);

        let (c, csrf) = login(&s, "itv").await;
        let page = c.get(s.url("/console/interviews/new")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("新建访谈") && page.contains("新闻发布会"), "{b}");
        let tomorrow = clock::ms_to_local(clock::now_ms() + 86_400_000);
        let start = clock::fmt_local(tomorrow).replace(' ', "T");
        let end = clock::fmt_local(tomorrow + time::Duration::hours(2)).replace(' ', "T");
        let form = [
            ("_csrf", csrf.as_str()),
            ("site_id", &site.to_string()),
            ("kind", "press"),
            ("topic", "一季度经济运行情况新闻发布会"),
            ("intro", ""),
            ("guests", "钱进 区统计局局长"),
            ("starts_at", &start),
            ("ends_at", &end),
            ("answer_days", ""),
        ];
        let r = c.post(s.url("/console/interviews/new")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b}");
        let to = r.headers()["location"].to_str().unwrap().to_string();
        let id: i64 = to.trim_start_matches("/console/interviews/").split('?').next().unwrap().parse().unwrap();
        let page = c.get(s.url(&to)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("一季度经济运行情况新闻发布会") && page.contains("发布预告"), "{b}");

        // Announcing a session that starts tomorrow is refused with the reason.
        let r = c
            .post(s.url(&format!("/console/interviews/{id}/announce")))
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("访谈须至少提前3天预告"), "{b}");
        // A missing topic: the field's message and what was typed.
        let mut bad = form;
        bad[3] = ("topic", "");
        let r = c.post(s.url("/console/interviews/new")).form(&bad).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.unwrap();
        assert!(page.contains("请填写主题") && page.contains("钱进 区统计局局长"), "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM itv_interviews WHERE site_id = $1", site).await, 1);
    }
}

/// A multipart/form-data body as a browser sends it: (content type, bytes). The file goes
/// in the field `photo` with the name and the type the browser claims.
fn multipart(text: &[(&str, &str)], photo: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----gongkai-itv-photo-7c1e";
    let mut body = Vec::new();
    for (k, v) in text {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    let (name, data, ty) = match photo {
        Some((name, data)) => (name, data, "image/jpeg"),
        // What a browser sends for a file input left empty.
        None => ("", &[][..], "application/octet-stream"),
    };
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{name}\"\r\nContent-Type: {ty}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A PNG header declaring `w`×`h` pixels, then some bytes of image data.
fn png(w: u32, h: u32) -> Vec<u8> {
    let mut d = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
    d.extend_from_slice(b"IHDR");
    d.extend_from_slice(&w.to_be_bytes());
    d.extend_from_slice(&h.to_be_bytes());
    d.extend_from_slice(&[8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde]);
    d.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]);
    d
}

/// A lossy WebP header declaring 800×600.
fn webp() -> Vec<u8> {
    let mut d = b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0\x30\x01\0\x9d\x01\x2a".to_vec();
    d.extend_from_slice(&[0x20, 0x03, 0x58, 0x02]);
    d.extend_from_slice(&[0; 14]);
    d
}

/// The path as the templates write it inside an attribute (autoescape turns `/` into `&#x2f;`).
fn attr(path: &str) -> String {
    path.replace('/', "&#x2f;")
}

/// The audit summaries of the updates posted on an interview, in order.
async fn audited_posts(t: &TestDb, id: i64) -> Vec<String> {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, String>(
        "SELECT summary FROM audit_log WHERE action = 'itv.post' AND target_id = $1 ORDER BY seq")
        .bind(id.to_string()).fetch_all(&mut **x).await)
    .unwrap()
}

async fn post_update(
    c: &Client,
    s: &TestServer,
    id: i64,
    text: &[(&str, &str)],
    photo: Option<(&str, &[u8])>,
) -> (StatusCode, String) {
    let (ct, body) = multipart(text, photo);
    let r = c
        .post(s.url(&format!("/console/interviews/{id}/post")))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_moderator_posts_photo_updates_to_the_live_page() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let site = www(&t).await;
        let who = editor(&t).await;
        let id = announced(&t, &who, site).await;
        let s = server(&t).await;
        let (c, csrf) = login(&s, "itv").await;
        const ENTRIES: &str = "SELECT COUNT(*) FROM itv_entries WHERE interview_id = $1";

        // Not live yet: refused, nothing stored.
        let photo = png(64, 48);
        let good = [("_csrf", csrf.as_str()), ("body", "两位嘉宾已来到直播间。"), ("alt", "两位嘉宾坐在直播间的桌前")];
        let (st, page) = post_update(&c, &s, id, &good, Some(("live.png", &photo))).await;
        assert_eq!(st, StatusCode::CONFLICT, "{b}");
        assert!(page.contains("只有直播中的访谈可以发布图文动态"), "{b}");
        assert_eq!(scalar(&t, ENTRIES, id).await, 0);

        service::go_live(&t.db, &who, IP, id, clock::now_ms()).await.unwrap();
        let desk = c.get(s.url(&format!("/console/interviews/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(desk.contains("enctype=\"multipart/form-data\"") && desk.contains("name=\"photo\""), "{b}");
        assert!(desk.contains("accept=\"image/jpeg,image/png,image/webp\"") && desk.contains("name=\"alt\""));

        // The live page is open before the photo is posted.
        let base = format!("/hudong/www/fangtan/{id}");
        let mut stream = client().get(s.url(&format!("{base}/events?after=0"))).send().await.unwrap();
        read_until(&mut stream, &[": connected"], 5).await;

        // A photo with text, alternative text and a caption.
        let with_caption = [
            ("_csrf", csrf.as_str()),
            ("body", "两位嘉宾已来到直播间。"),
            ("alt", "两位嘉宾坐在直播间的桌前"),
            ("caption", "<b>现场</b>直播间"),
        ];
        let (st, _) = post_update(&c, &s, id, &with_caption, Some(("live.png", &photo))).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}");
        let src = attr(&format!("{base}/photos/1"));
        let img = format!(
            "<img src=\"{src}\" alt=\"两位嘉宾坐在直播间的桌前\" width=\"64\" height=\"48\" loading=\"lazy\" decoding=\"async\">"
        );
        // The open page receives it as an event carrying the photo's address.
        let got = read_until(&mut stream, &["id: 1", "event: entry", "两位嘉宾已来到直播间。", &src], 5).await;
        assert!(got.contains(&img), "{b}: {got}");
        assert!(got.contains("<figcaption>&lt;b&gt;现场&lt;&#x2f;b&gt;直播间</figcaption>"), "{b}: {got}");

        // A photo alone (WebP), no text.
        let wp = webp();
        let alone = [("_csrf", csrf.as_str()), ("body", ""), ("alt", "嘉宾展示老旧小区改造前后的对比图")];
        let (st, _) = post_update(&c, &s, id, &alone, Some(("compare.webp", &wp))).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}");
        read_until(&mut stream, &["id: 2", &attr(&format!("{base}/photos/2")), "width=\"800\" height=\"600\""], 5)
            .await;
        // Text alone still goes through, as multipart with an empty file input and url-encoded.
        let (st, _) = post_update(&c, &s, id, &[("_csrf", csrf.as_str()), ("body", "提问环节开始。")], None).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}");
        let r = c
            .post(s.url(&format!("/console/interviews/{id}/post")))
            .form(&[("_csrf", csrf.as_str()), ("body", "请网友踊跃提问。")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b}");
        read_until(&mut stream, &["id: 4", "请网友踊跃提问。"], 5).await;
        assert_eq!(scalar(&t, ENTRIES, id).await, 4, "{b}");

        // The public page (no JavaScript) shows the same.
        let page = c.get(s.url(&base)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&img) && page.contains("alt=\"嘉宾展示老旧小区改造前后的对比图\""), "{b}: {page}");
        assert!(page.contains("<noscript><meta http-equiv=\"refresh\""), "{b}");

        // Served with the type read from its bytes, cached, never sniffed.
        let r = client().get(s.url(&format!("{base}/photos/1"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert!(r.headers()["cache-control"].to_str().unwrap().contains("max-age="), "{b}");
        assert_eq!(r.bytes().await.unwrap().as_ref(), photo.as_slice(), "{b}");
        let r = client().get(s.url(&format!("{base}/photos/2"))).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "image/webp", "{b}");

        // Audited with the photo's type and text.
        let posts = audited_posts(&t, id).await;
        assert_eq!(posts.len(), 4, "{b}");
        assert!(posts[0].contains("image/png") && posts[0].contains("两位嘉宾坐在直播间的桌前"), "{b}: {posts:?}");

        // Bad input: the field's message in Chinese, what was typed kept, nothing stored.
        let html = b"<html><body><script>alert(1)</script></body></html>";
        let forged = [("_csrf", csrf.as_str()), ("body", "伪装的照片"), ("alt", "说明")];
        let (st, page) = post_update(&c, &s, id, &forged, Some(("photo.jpg", html))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(page.contains("照片须为 JPG、PNG 或 WebP 图片") && page.contains(">伪装的照片</textarea>"), "{b}");
        let big = [png(4000, 3000), vec![0; 2 * 1024 * 1024]].concat();
        let (st, page) = post_update(&c, &s, id, &good, Some(("big.png", &big))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(page.contains("照片不能超过2MB"), "{b}");
        let no_alt = [("_csrf", csrf.as_str()), ("body", "没有描述的照片"), ("alt", "  ")];
        let (st, page) = post_update(&c, &s, id, &no_alt, Some(("live.png", &photo))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(page.contains("请填写照片的文字描述") && page.contains("读屏软件"), "{b}");
        assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"e-u-alt\""), "{b}");
        let (st, page) = post_update(&c, &s, id, &[("_csrf", csrf.as_str()), ("body", " ")], None).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(page.contains("请填写动态内容，或选择一张照片"), "{b}");
        for token in ["", "0123456789abcdef0123456789abcdef"] {
            let text = [("_csrf", token), ("body", "没有令牌"), ("alt", "说明")];
            let (st, page) = post_update(&c, &s, id, &text, Some(("live.png", &photo))).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{b}: token {token:?}");
            assert!(page.contains("表单已过期或来源无法验证"), "{b}");
        }
        let (st, _) = post_update(&client(), &s, id, &good, Some(("live.png", &photo))).await;
        assert!(st == StatusCode::SEE_OTHER || st == StatusCode::FORBIDDEN, "{b}: anonymous {st}");
        assert_eq!(scalar(&t, ENTRIES, id).await, 4, "{b}: nothing stored");
        assert_eq!(audited_posts(&t, id).await.len(), 4, "{b}");

        // Only a published update's photo of a public interview is served.
        let f = AnswerForm {
            question: "营业执照多久能办好？".into(),
            guest: "赵明".into(),
            answer: "一天。".into(),
            ..Default::default()
        };
        let qa = service::publish_answer(&t.db, &who, IP, id, &f, clock::now_ms()).await.unwrap();
        for path in [
            format!("{base}/photos/{qa}"),                // a question-and-answer entry
            format!("{base}/photos/3"),                   // an update without a photo
            format!("{base}/photos/99"),                  // none
            format!("/hudong/jyj/fangtan/{id}/photos/1"), // another site
        ] {
            let r = client().get(s.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{b}: {path}");
        }
        // A draft is not public, whatever its rows hold.
        let draft = {
            let now = clock::now_ms();
            let start = clock::ms_to_local(now + 5 * 86_400_000);
            let f = InterviewForm {
                site_id: site.to_string(),
                kind: "interview".into(),
                topic: "尚未预告的访谈".into(),
                guests: "钱进 局长".into(),
                starts_at: clock::fmt_local(start),
                ends_at: clock::fmt_local(start + time::Duration::hours(1)),
                ..Default::default()
            };
            service::create(&t.db, &who, IP, &f, now).await.unwrap()
        };
        {
            let mut tx = t.db.begin().await.unwrap();
            let mut c = tx.conn();
            with_conn!(&mut c, x => sqlx::query(
                "INSERT INTO itv_entries (interview_id, seq, kind, body, photo, photo_type, photo_alt, published_at)
                 VALUES ($1, 1, 'update', '', $2, 'image/png', '草稿照片', 0)")
                .bind(draft).bind(&photo).execute(&mut **x).await.map(|r| r.rows_affected()))
            .unwrap();
            tx.commit().await.unwrap();
        }
        let r = client().get(s.url(&format!("/hudong/www/fangtan/{draft}/photos/1"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{b}: a draft's photo");

        // After the session: in the transcript, still served.
        service::end(&t.db, &who, IP, id, clock::now_ms()).await.unwrap();
        let page = c.get(s.url(&base)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("文字实录") && page.contains(&img), "{b}");
        assert!(!page.contains("http-equiv"));
        let r = client().get(s.url(&format!("{base}/photos/1"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
    }
}
