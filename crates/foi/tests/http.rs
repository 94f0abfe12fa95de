//! 依申请公开 over HTTP, on SQLite and PostgreSQL: the role × route matrix of the console
//! pages, the public form (captcha, idempotent retries, field errors that keep what was
//! typed, nothing stored without a captcha), tracking with the 查询码, and a staff member
//! taking a request from receipt to the decision letter as DOCX, with the access rule by
//! organisation.

use gongkai_kernel::audit::Actor;
use gongkai_kernel::auth::{ALL_ROLES, Role};
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer, checkers};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use reqwest::{Client, StatusCode, redirect::Policy};

const NAME: &str = "张晓明";
const ID_CARD: &str = "11010519491231002X";
const PHONE: &str = "13812345678";

fn client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

async fn login(s: &TestServer, username: &str) -> (Client, String) {
    let c = client();
    let r = c.post(s.url("/login")).form(&[("username", username), ("password", TEST_PASSWORD)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login {username}");
    let page = c.get(s.url("/console/password")).send().await.unwrap().text().await.unwrap();
    let i = page.find("name=\"_csrf\" value=\"").unwrap() + 20;
    (c, page[i..i + 32].to_string())
}

fn state(t: &TestDb) -> AppState {
    let state = AppState::with_slices(t.db.clone(), t.config(), vec![gongkai_foi::slice()]);
    gongkai_foi::public::attach(state)
}

/// Roles allowed per route of this slice, written out independently of the role table.
fn expected(method: &str, path: &str) -> &'static [&'static str] {
    const VIEW: &[&str] = &["discloser", "supervisor"];
    const HANDLE: &[&str] = &["discloser"];
    match (method, path) {
        (_, "/console/foi/templates") => &["sysadmin"],
        ("get", "/console/foi/new") => HANDLE,
        ("get", _) => VIEW,
        ("post", _) => HANDLE,
        (m, p) => panic!("foi route {m} {p} has no expectation: add one"),
    }
}

async fn scalar(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

async fn org_named(t: &TestDb, name: &str) -> i64 {
    gongkai_kernel::org::service::list(&t.db).await.unwrap().into_iter().find(|o| o.name == name).unwrap().id
}

fn today() -> String {
    gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today())
}

/// The value of the first `<input … name="{name}" … value="…">` on the page.
fn input_value(page: &str, name: &str) -> String {
    let key = format!("name=\"{name}\"");
    let i = page.find(&key).unwrap_or_else(|| panic!("no input {name} in {page}")) + key.len();
    let tag = &page[i..i + page[i..].find('>').unwrap()];
    let v = tag.find("value=\"").unwrap_or_else(|| panic!("input {name} has no value: {tag}")) + 7;
    tag[v..].split('"').next().unwrap().to_string()
}

/// The text of the element after `open` up to the next `<`.
fn text_after(page: &str, open: &str) -> String {
    let i = page.find(open).unwrap_or_else(|| panic!("{open} not in {page}")) + open.len();
    page[i..].split('<').next().unwrap().trim().to_string()
}

/// Answer the captcha the way a person reads it: "七加五等于几？…" → 12.
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

/// A fresh application form: (idem, token, the captcha's answer).
async fn open_form(c: &Client, s: &TestServer, org: i64) -> (String, String, u32) {
    let r = c.get(s.url(&format!("/yisqgk/apply?org={org}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!("<option value=\"{org}\" selected>")), "the organisation is preselected");
    let question = text_after(&page, "<label for=\"f-answer\">");
    assert!(question.ends_with("等于几？（请填写阿拉伯数字）"), "{question}");
    (input_value(&page, "idem"), input_value(&page, "token"), solve(&question))
}

fn application(org: i64, id_number: &str) -> Vec<(&'static str, String)> {
    vec![
        ("org_id", org.to_string()),
        ("applicant_kind", "natural".into()),
        ("applicant_name", NAME.into()),
        ("id_type", "id_card".into()),
        ("id_number", id_number.into()),
        ("phone", PHONE.into()),
        ("email", "zhangxm@example.cn".into()),
        ("address", "青禾区人民大道 8 号".into()),
        ("postcode", "310000".into()),
        ("info_title", "2025年度青禾区老旧小区改造项目清单".into()),
        ("info_description", "含项目名称、实施单位和资金来源".into()),
        ("form_wanted", "paper".into()),
        ("delivery", "post".into()),
    ]
}

fn with_guard(
    mut form: Vec<(&'static str, String)>,
    idem: &str,
    token: &str,
    answer: &str,
) -> Vec<(&'static str, String)> {
    form.push(("idem", idem.into()));
    form.push(("token", token.into()));
    form.push(("answer", answer.into()));
    form
}

/// Apply through the public form: (tracking number, 查询码, request id).
async fn apply(c: &Client, s: &TestServer, t: &TestDb, org: i64) -> (String, String, i64) {
    let (idem, token, n) = open_form(c, s, org).await;
    let r = c.post(s.url("/yisqgk/apply")).form(&with_guard(application(org, ID_CARD), &idem, &token, &n.to_string()));
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", t.backend_name());
    let page = r.text().await.unwrap();
    assert!(page.contains("申请已提交") && page.contains("您的申请已保存"), "{page}");
    let no = text_after(&page, "<dt>申请编号</dt><dd><strong>");
    let code = text_after(&page, "<dt>查询码</dt><dd><strong>");
    let mut h = t.db.read().await.unwrap();
    let mut cn = h.conn();
    let id = with_conn!(&mut cn, x => {
        sqlx::query_scalar::<_, i64>("SELECT id FROM foi_requests WHERE tracking_no = $1").bind(&no).fetch_one(&mut **x).await
    })
    .unwrap();
    (no, code, id)
}

/// A client of the public pages from its own address, so the per-address limits of one
/// test do not count another's requests.
fn public_client(addr: &str) -> Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-real-ip", addr.parse().unwrap());
    Client::builder().redirect(Policy::none()).default_headers(h).build().unwrap()
}

#[tokio::test]
async fn foi_role_route_matrix() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let s = TestServer::start_state(state(&t)).await;
        let org = org_named(&t, "青禾区人民政府办公室").await;
        let (_, _, id) = apply(&public_client("198.51.100.1"), &s, &t, org).await;
        for r in ALL_ROLES {
            testkit::user_with_role(&t.db, &format!("u_{}", r.as_str()), Some(r)).await;
        }
        for role in ALL_ROLES {
            let (c, csrf) = login(&s, &format!("u_{}", role.as_str())).await;
            for route in gongkai_foi::web::FOI_ROUTES {
                let path = route.path.replace("{id}", &id.to_string()).replace("{fid}", "1").replace("{lid}", "1");
                let path = path.replace("{rid}", "1");
                let resp = if route.method == "get" {
                    c.get(s.url(&path)).send().await.unwrap()
                } else if path.ends_with("/files") {
                    let boundary = "----foi-matrix";
                    let body = format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{boundary}--\r\n"
                    );
                    c.post(s.url(&path))
                        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                        .body(body)
                        .send()
                        .await
                        .unwrap()
                } else {
                    c.post(s.url(&path)).form(&[("_csrf", csrf.as_str())]).send().await.unwrap()
                };
                let allowed = expected(route.method, route.path).contains(&role.as_str());
                let status = resp.status();
                if allowed {
                    assert_ne!(status, StatusCode::FORBIDDEN, "{b}: {} {path} for {role:?}", route.method);
                    assert!(status.as_u16() < 500, "{b}: {} {path} for {role:?}: {status}", route.method);
                } else {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{b}: {} {path} for {role:?}", route.method);
                }
            }
        }
        // The posts above carried no data: the request is still as it was submitted.
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM foi_requests WHERE state = 'pending'").await, 1, "{b}");
    }
}

#[tokio::test]
async fn public_form_captcha_retries_field_errors_and_tracking() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let s = TestServer::start_state(state(&t)).await;
        let org = org_named(&t, "青禾区人民政府办公室").await;
        let c = public_client(&format!("198.51.100.{}", if b == "sqlite" { 10 } else { 11 }));

        // A valid application: the receipt shows the tracking number and an 8-character code.
        let (idem, token, n) = open_form(&c, &s, org).await;
        let body = with_guard(application(org, ID_CARD), &idem, &token, &n.to_string());
        let r = c.post(s.url("/yisqgk/apply")).form(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let page = r.text().await.unwrap();
        let no = text_after(&page, "<dt>申请编号</dt><dd><strong>");
        let code = text_after(&page, "<dt>查询码</dt><dd><strong>");
        assert!(no.starts_with("YSQ") && no.len() == "YSQ20260301-0001".len(), "{b}: {no}");
        assert!(code.len() == 8 && code.chars().all(|c| c.is_ascii_alphanumeric()), "{b}: {code}");
        assert!(!page.contains(ID_CARD) && !page.contains(PHONE), "{b}: the receipt shows no personal data");

        // The same submission again (a double click, a retry): the same receipt, no second row.
        let r = c.post(s.url("/yisqgk/apply")).form(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let again = r.text().await.unwrap();
        assert!(again.contains("已经提交成功") && again.contains("申请已提交过"), "{b}: {again}");
        assert_eq!(text_after(&again, "<dt>申请编号</dt><dd><strong>"), no, "{b}");
        assert_eq!(text_after(&again, "<dt>查询码</dt><dd><strong>"), code, "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM foi_requests").await, 1, "{b}");

        // A wrong answer: 422, the message at the question, the typed name kept, nothing stored.
        let (idem, token, n) = open_form(&c, &s, org).await;
        let wrong = with_guard(application(org, ID_CARD), &idem, &token, &(n + 1).to_string());
        let r = c.post(s.url("/yisqgk/apply")).form(&wrong).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("<p class=\"err\" id=\"e-answer\">验证答案不正确"), "{b}: {page}");
        assert_eq!(input_value(&page, "applicant_name"), NAME, "{b}: the name stays in the form");
        assert_eq!(input_value(&page, "idem"), idem, "{b}: the same submission key, for the retry");
        assert_ne!(input_value(&page, "token"), token, "{b}: a new question");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM foi_requests").await, 1, "{b}");

        // An invalid ID number with the right answer: the message next to 证件号码.
        let (idem, token, n) = open_form(&c, &s, org).await;
        let bad_id = with_guard(application(org, "110105194912310021"), &idem, &token, &n.to_string());
        let r = c.post(s.url("/yisqgk/apply")).form(&bad_id).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let page = r.text().await.unwrap();
        let at = page.find("<label for=\"f-id_number\">证件号码").unwrap_or_else(|| panic!("{b}: {page}"));
        let field = &page[at..at + page[at..].find("</div>").unwrap()];
        assert!(field.contains("id=\"e-id_number\">身份证号码校验位不符"), "{b}: {field}");
        assert!(field.contains("value=\"110105194912310021\""), "{b}: the typed number stays: {field}");
        assert!(page.contains("请按提示修改后重新提交"), "{b}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM foi_requests").await, 1, "{b}");

        // No captcha, an empty answer, a made-up token: nothing is stored.
        for (token, answer) in [("", ""), ("", "12"), ("00ff", "12")] {
            let (idem, real, _) = open_form(&c, &s, org).await;
            let token = if token.is_empty() && answer.is_empty() { real.as_str() } else { token };
            let form = with_guard(application(org, ID_CARD), &idem, token, answer);
            let r = c.post(s.url("/yisqgk/apply")).form(&form).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}: token {token:?} answer {answer:?}");
            let page = r.text().await.unwrap();
            assert!(page.contains("id=\"e-answer\""), "{b}: {page}");
        }
        let mut form = application(org, ID_CARD);
        form.push(("idem", gongkai_kernel::random_token::<16>()));
        let r = c.post(s.url("/yisqgk/apply")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}: without the captcha fields");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM foi_requests").await, 1, "{b}");

        // Tracking: number and code open the status page; the code is read case-insensitively.
        let r =
            c.post(s.url("/yisqgk/track")).form(&[("no", no.as_str()), ("code", code.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let page = r.text().await.unwrap();
        assert!(page.contains("申请办理进度") && page.contains(&no), "{b}");
        assert!(page.contains("<strong class=\"state\">待确认收到</strong>"), "{b}: {page}");
        assert!(page.contains("青禾区人民政府办公室") && page.contains("老旧小区改造项目清单"), "{b}");
        assert!(!page.contains(ID_CARD) && !page.contains(PHONE) && !page.contains(NAME), "{b}: no personal data");
        let lower = code.to_lowercase();
        let r =
            c.post(s.url("/yisqgk/track")).form(&[("no", no.to_lowercase()), ("code", lower)]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}: lower case");
        // A wrong code: 422, the same message whether the number exists or not.
        for (n, code) in [(no.as_str(), "ABCDEFGH"), ("YSQ19990101-0001", code.as_str())] {
            let r = c.post(s.url("/yisqgk/track")).form(&[("no", n), ("code", code)]).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}: {n}");
            let page = r.text().await.unwrap();
            assert!(page.contains("申请编号或查询码不正确"), "{b}: {page}");
            assert!(!page.contains("待确认收到"), "{b}");
        }
    }
}

/// The bytes of one member of a ZIP archive (stored or deflated), found through the
/// central directory. This test crate has no zip dependency, hence the small inflater.
fn zip_member(zip: &[u8], name: &str) -> Option<Vec<u8>> {
    let u16at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
    let u32at = |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]) as usize;
    let eocd = (0..=zip.len().checked_sub(22)?).rev().find(|&i| zip[i..i + 4] == [0x50, 0x4b, 5, 6])?;
    let (count, mut p) = (u16at(eocd + 10), u32at(eocd + 16));
    for _ in 0..count {
        assert_eq!(zip[p..p + 4], [0x50, 0x4b, 1, 2], "central directory entry");
        let (method, size, local) = (u16at(p + 10), u32at(p + 20), u32at(p + 42));
        let (n, extra, comment) = (u16at(p + 28), u16at(p + 30), u16at(p + 32));
        let entry = &zip[p + 46..p + 46 + n];
        p += 46 + n + extra + comment;
        if entry != name.as_bytes() {
            continue;
        }
        let start = local + 30 + u16at(local + 26) + u16at(local + 28);
        let data = &zip[start..start + size];
        return Some(match method {
            0 => data.to_vec(),
            8 => inflate(data),
            m => panic!("{name}: compression method {m}"),
        });
    }
    None
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u32,
    n: u32,
}

impl Bits<'_> {
    fn get(&mut self, need: u32) -> u32 {
        while self.n < need {
            self.buf |= u32::from(self.data[self.pos]) << self.n;
            self.pos += 1;
            self.n += 8;
        }
        let v = self.buf & ((1u32 << need) - 1);
        self.buf >>= need;
        self.n -= need;
        v
    }
}

/// A canonical Huffman code (RFC 1951 §3.2.2) as counts per length and symbols in order.
struct Huffman {
    count: [u16; 16],
    symbol: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Huffman {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[l as usize] += 1;
        }
        let mut offs = [0u16; 16];
        for len in 1..15 {
            offs[len + 1] = offs[len] + count[len];
        }
        let mut symbol = vec![0; lengths.len()];
        for (s, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[offs[l as usize] as usize] = s as u16;
                offs[l as usize] += 1;
            }
        }
        Huffman { count, symbol }
    }

    fn decode(&self, b: &mut Bits) -> usize {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= b.get(1) as i32;
            let count = i32::from(self.count[len]);
            if code - first < count {
                return self.symbol[(index + code - first) as usize] as usize;
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        panic!("invalid Huffman code in the deflate stream");
    }
}

/// Raw DEFLATE (RFC 1951): stored, fixed and dynamic blocks.
fn inflate(data: &[u8]) -> Vec<u8> {
    const LBASE: [u16; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
        258,
    ];
    const LEXT: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    const DBASE: [u16; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ];
    const DEXT: [u8; 30] =
        [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
    const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
    let mut b = Bits { data, pos: 0, buf: 0, n: 0 };
    let mut out = Vec::new();
    loop {
        let last = b.get(1) == 1;
        match b.get(2) {
            0 => {
                // Stored: skip to the byte boundary, then LEN, NLEN and the bytes.
                (b.buf, b.n) = (0, 0);
                let len = u16::from_le_bytes([data[b.pos], data[b.pos + 1]]) as usize;
                b.pos += 4;
                out.extend_from_slice(&data[b.pos..b.pos + len]);
                b.pos += len;
            }
            kind => {
                let (lit, dist) = if kind == 1 {
                    let mut l = [8u8; 288];
                    l[144..256].fill(9);
                    l[256..280].fill(7);
                    (Huffman::new(&l), Huffman::new(&[5; 30]))
                } else {
                    let nlen = b.get(5) as usize + 257;
                    let ndist = b.get(5) as usize + 1;
                    let ncode = b.get(4) as usize + 4;
                    let mut cl = [0u8; 19];
                    for &i in &ORDER[..ncode] {
                        cl[i] = b.get(3) as u8;
                    }
                    let ch = Huffman::new(&cl);
                    let mut lengths: Vec<u8> = Vec::with_capacity(nlen + ndist);
                    while lengths.len() < nlen + ndist {
                        let (value, times) = match ch.decode(&mut b) {
                            s @ 0..=15 => (s as u8, 1),
                            16 => (*lengths.last().expect("a repeat needs a length before it"), 3 + b.get(2)),
                            17 => (0, 3 + b.get(3)),
                            _ => (0, 11 + b.get(7)),
                        };
                        lengths.extend(std::iter::repeat_n(value, times as usize));
                    }
                    (Huffman::new(&lengths[..nlen]), Huffman::new(&lengths[nlen..]))
                };
                loop {
                    let sym = lit.decode(&mut b);
                    if sym < 256 {
                        out.push(sym as u8);
                    } else if sym == 256 {
                        break;
                    } else {
                        let i = sym - 257;
                        let len = LBASE[i] as usize + b.get(u32::from(LEXT[i])) as usize;
                        let j = dist.decode(&mut b);
                        let back = DBASE[j] as usize + b.get(u32::from(DEXT[j])) as usize;
                        for _ in 0..len {
                            let v = out[out.len() - back];
                            out.push(v);
                        }
                    }
                }
            }
        }
        if last {
            break;
        }
    }
    out
}

/// The paragraphs of a DOCX as python-docx reads them; None when that checker is not
/// installed and not required.
fn python_docx_paragraphs(docx: &[u8]) -> Option<Vec<String>> {
    use std::process::{Command, Stdio};
    let py = checkers::python()?;
    let has_docx =
        Command::new(&py).args(["-c", "import docx"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !has_docx {
        assert!(
            !checkers::required(),
            "python-docx is missing from {} but GONGKAI_REQUIRE_CHECKERS is set",
            py.display()
        );
        eprintln!(
            "python-docx check not run: `import docx` fails in {} (pip install -r tools/requirements.txt)",
            py.display()
        );
        return None;
    }
    let path = std::env::temp_dir().join(format!("foi-letter-{}.docx", gongkai_kernel::random_token::<6>()));
    std::fs::write(&path, docx).unwrap();
    let script = "import docx, json, sys\nd = docx.Document(sys.argv[1])\nprint(json.dumps([p.text for p in d.paragraphs], ensure_ascii=False))";
    let out = Command::new(&py).args(["-c", script]).arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "python-docx could not open the letter: {}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// The `id` attributes that occur more than once on a page.
fn duplicate_ids(page: &str) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for part in page.split(" id=\"").skip(1) {
        *seen.entry(part.split('"').next().unwrap()).or_default() += 1;
    }
    seen.into_iter().filter(|(_, n)| *n > 1).map(|(id, _)| id.to_string()).collect()
}

/// A detail-page form tried with bad input: (action, fields, the input that must carry the message).
type FormCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

async fn post(c: &Client, s: &TestServer, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
    let r = c.post(s.url(path)).form(form).send().await.unwrap();
    let status = r.status();
    let loc = r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, loc, r.text().await.unwrap())
}

async fn request_state(t: &TestDb, id: i64) -> String {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, String>("SELECT state FROM foi_requests WHERE id = $1").bind(id).fetch_one(&mut **x).await)
        .unwrap()
}

async fn get(c: &Client, s: &TestServer, path: &str) -> (StatusCode, String) {
    let r = c.get(s.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn staff_take_a_request_from_receipt_to_the_letter_and_other_organisations_cannot_see_it() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let s = TestServer::start_state(state(&t)).await;
        let org = org_named(&t, "青禾区人民政府办公室").await;
        let other = org_named(&t, "青禾区教育局").await;
        let public = public_client(&format!("198.51.100.{}", if b == "sqlite" { 20 } else { 21 }));
        let (no, code, id) = apply(&public, &s, &t, org).await;
        testkit::user_with_role(&t.db, "gkstaff", Some(Role::Discloser)).await;
        let (c, csrf) = login(&s, "gkstaff").await;
        let detail = format!("/console/foi/{id}");
        let today = today();

        // The worklist shows the new request, still waiting for receipt.
        let (st, list) = get(&c, &s, "/console/foi").await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert!(list.contains(&no) && list.contains(NAME) && list.contains("待确认收到"), "{b}");

        // Form errors on the detail page must show next to the field that was typed in;
        // every form is tried and the ones whose message is lost are listed at the end,
        // with any other defect of the page found on the way.
        let tomorrow = gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today().next_day().unwrap());
        let mut problems: Vec<String> = Vec::new();
        for on in ["", tomorrow.as_str()] {
            let (st, _, page) = post(&c, &s, &format!("{detail}/receipt"), &[("_csrf", &csrf), ("on", on)]).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: receipt on {on:?}");
            if !page.contains("<p class=\"err\" id=\"e-receipt-on\">") {
                problems.push(format!("receipt on={on:?}: no message at the date field"));
            }
        }

        // Receipt confirmed today: the clock runs and explains itself.
        let (st, loc, _) = post(&c, &s, &format!("{detail}/receipt"), &[("_csrf", &csrf), ("on", &today)]).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}");
        assert!(loc.starts_with(&format!("{detail}?saved=receipt")), "{b}: {loc}");
        let (st, page) = get(&c, &s, &detail).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert!(page.contains("办理中"), "{b}");
        assert!(page.contains("答复期限：<strong>"), "{b}: {page}");
        assert!(page.contains("期限计算说明") && page.contains(&format!("收到申请之日为{today}")), "{b}: {page}");
        assert!(page.contains(ID_CARD), "{b}: staff see the applicant's document");
        // Every form of an open request is on this page: a label must name one control.
        let dup = duplicate_ids(&page);
        if !dup.is_empty() {
            problems.push(format!("the open request's page repeats the ids {dup:?}"));
        }

        // An extension beyond 20 working days: 422, the message, and what was typed kept.
        let (st, _, page) = post(
            &c,
            &s,
            &format!("{detail}/extension"),
            &[
                ("_csrf", &csrf),
                ("days", "25"),
                ("approver", "办公室主任李卫东"),
                ("approved_on", &today),
                ("notified_on", &today),
                ("reason", "需要调取多个部门的档案"),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        if !page.contains("最长不超过20个工作日") {
            problems.push("extension days=25: 延长期限最长不超过20个工作日 not on the page".into());
        } else if !page.contains("id=\"e-extension-days\">延长期限最长不超过20个工作日") {
            problems.push("extension days=25: the message is not at the days field".into());
        }
        assert!(page.contains("value=\"办公室主任李卫东\""), "{b}: the approver stays typed");
        assert!(page.contains("value=\"需要调取多个部门的档案\""), "{b}: the reason stays typed");
        assert!(page.contains("value=\"25\""), "{b}: the days stay typed");
        // The other forms of an open request: (action, fields, the input that must carry a message).
        let cases: [FormCase; 4] = [
            (
                "correction",
                vec![("items", "请写明地块编号"), ("sent_on", &tomorrow), ("deadline", &tomorrow)],
                "sent_on",
            ),
            ("consultation", vec![("party", "青禾置业有限公司"), ("on", "")], "on"),
            ("longer", vec![("due", &today), ("reason", "申请数量明显超过合理范围")], "due"),
            (
                "extension",
                vec![
                    ("days", "0"),
                    ("approver", "李卫东"),
                    ("approved_on", &today),
                    ("notified_on", &today),
                    ("reason", "档案"),
                ],
                "days",
            ),
        ];
        for (action, fields, input) in cases {
            let mut form = vec![("_csrf", csrf.as_str())];
            form.extend(fields.iter().copied());
            let (st, _, page) = post(&c, &s, &format!("{detail}/{action}"), &form).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {action}");
            if !page.contains(&format!("<p class=\"err\" id=\"e-{action}-{input}\">")) {
                problems.push(format!("{action}: no message at the {input} field"));
            }
            // What was typed in the other fields stays.
            for (name, value) in fields.iter().filter(|(n, v)| *n != input && !v.is_empty()) {
                assert!(
                    page.contains(&format!(">{value}<")) || page.contains(&format!("value=\"{value}\"")),
                    "{b}: {action}.{name}"
                );
            }
        }
        assert_eq!(request_state(&t, id).await, "open", "{b}: the refused forms changed nothing");

        // A correction notice and the corrected application, over the same forms.
        let in_ten = gongkai_kernel::clock::fmt_date(gongkai_kernel::clock::today() + time::Duration::days(10));
        let (st, _, page) = post(
            &c,
            &s,
            &format!("{detail}/correction"),
            &[("_csrf", &csrf), ("items", "请写明所需清单的年度范围"), ("sent_on", &today), ("deadline", &in_ten)],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}: {page}");
        assert_eq!(request_state(&t, id).await, "correction", "{b}");
        let (_, page) = get(&c, &s, &detail).await;
        assert!(page.contains("暂停计时") && page.contains("等待申请人补正"), "{b}");
        let (st, _, page) =
            post(&c, &s, &format!("{detail}/correction/received"), &[("_csrf", &csrf), ("on", &tomorrow)]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        if !page.contains("<p class=\"err\" id=\"e-correction_received-on\">") {
            problems.push("correction/received on=tomorrow: no message at the date field".into());
        }
        let (st, _, page) =
            post(&c, &s, &format!("{detail}/correction/received"), &[("_csrf", &csrf), ("on", &today)]).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}: {page}");
        assert_eq!(request_state(&t, id).await, "open", "{b}");

        // The decision, then the letter.
        let (st, _, page) = post(
            &c,
            &s,
            &format!("{detail}/decision"),
            &[("_csrf", &csrf), ("answer", "disclose"), ("decided_on", &today)],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}: {page}");
        let (st, _, page) = post(&c, &s, &format!("{detail}/letter"), &[("_csrf", &csrf)]).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}: {page}");
        let (_, page) = get(&c, &s, &detail).await;
        assert!(page.contains("已答复") && page.contains("统计类别：（一）予以公开"), "{b}");
        // The decision letter (the correction notice is listed before it).
        let key = format!("政府信息公开申请答复告知书 <a href=\"{detail}/letters/");
        let at = page.find(&key).unwrap_or_else(|| panic!("{b}: no letter link: {page}")) + key.len();
        let lid: i64 = page[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();

        // The printable page and the DOCX.
        let (st, print) = get(&c, &s, &format!("{detail}/letters/{lid}")).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert!(
            print.contains("政府信息公开申请答复告知书") && print.contains(NAME) && print.contains("行政复议"),
            "{b}"
        );
        let r = c.get(s.url(&format!("{detail}/letters/{lid}/docx"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert_eq!(ct, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "{b}");
        let cd = r.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(cd.starts_with("attachment;") && cd.contains(".docx"), "{b}: {cd}");
        let docx = r.bytes().await.unwrap().to_vec();
        assert!(docx.starts_with(b"PK"), "{b}: a ZIP");
        let xml = String::from_utf8(zip_member(&docx, "word/document.xml").expect("word/document.xml")).unwrap();
        assert!(xml.contains(NAME) && xml.contains(&no), "{b}: {xml}");
        if let Some(paras) = python_docx_paragraphs(&docx) {
            assert!(paras.iter().any(|p| p.contains("政府信息公开")), "{b}: {paras:?}");
            assert!(paras.iter().any(|p| p.contains("行政复议") && p.contains("行政诉讼")), "{b}: {paras:?}");
            assert!(paras.iter().any(|p| p.starts_with(NAME)), "{b}: the addressee: {paras:?}");
        }
        // An unknown letter of a known request, and a letter under the wrong request: 404.
        assert_eq!(get(&c, &s, &format!("{detail}/letters/{}/docx", lid + 1000)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get(&c, &s, &format!("/console/foi/{}/letters/{lid}", id + 1000)).await.0, StatusCode::NOT_FOUND);

        // The applicant's tracking page now shows the answer and the letter.
        let (st, _, page) = post(&public, &s, "/yisqgk/track", &[("no", &no), ("code", &code)]).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert!(page.contains("<strong class=\"state\">已答复</strong>"), "{b}: {page}");
        assert!(page.contains("予以公开") && page.contains("政府信息公开申请答复告知书"), "{b}: {page}");
        assert!(!page.contains(ID_CARD) && !page.contains(PHONE), "{b}: no ID number or phone");
        let (st, _, _) = post(&public, &s, "/yisqgk/track", &[("no", &no), ("code", "")]).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: no code");

        // A discloser of another organisation: the request does not exist for them.
        let uid = testkit::user_with_role(&t.db, "gk_jyj", None).await;
        gongkai_kernel::auth::service::grant(
            &t.db,
            None,
            &Actor::system("test"),
            uid,
            Role::Discloser,
            Some(other),
            None,
        )
        .await
        .unwrap();
        let (o, ocsrf) = login(&s, "gk_jyj").await;
        assert_eq!(get(&o, &s, &detail).await.0, StatusCode::NOT_FOUND, "{b}");
        assert_eq!(get(&o, &s, &format!("{detail}/letters/{lid}/docx")).await.0, StatusCode::NOT_FOUND, "{b}");
        let (st, list) = get(&o, &s, "/console/foi").await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert!(!list.contains(&no) && !list.contains(NAME), "{b}: not in their worklist");
        assert!(list.contains("没有符合条件的申请"), "{b}");
        let (st, _, _) = post(
            &o,
            &s,
            &format!("{detail}/delivery"),
            &[("_csrf", &ocsrf), ("delivered_on", &today), ("method", "邮寄")],
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b}: cannot act on it either");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM foi_requests WHERE delivered_on IS NOT NULL").await, 0, "{b}");
        assert!(problems.is_empty(), "{b}: defects of the detail page:\n{}", problems.join("\n"));
    }
}

#[tokio::test]
async fn staff_registration_shows_the_code_once_and_a_double_submit_creates_one_request() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        gongkai_kernel::demo::seed(&t.db).await.unwrap();
        let org = org_named(&t, "青禾区人民政府办公室").await;
        testkit::user_with_role(&t.db, "gkstaff", Some(Role::Discloser)).await;
        let s = TestServer::start_state(state(&t)).await;
        let (c, csrf) = login(&s, "gkstaff").await;
        let (st, page) = get(&c, &s, "/console/foi/new").await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let idem = input_value(&page, "idem");
        assert!(idem.len() >= 16, "{b}: {idem:?}");
        let org = org.to_string();
        let today = today();
        let form = [
            ("_csrf", csrf.as_str()),
            ("idem", idem.as_str()),
            ("channel", "in_person"),
            ("submitted_on", today.as_str()),
            ("org_id", org.as_str()),
            ("applicant_kind", "natural"),
            ("applicant_name", NAME),
            ("id_type", "id_card"),
            ("id_number", ID_CARD),
            ("phone", PHONE),
            ("info_title", "区政府常务会议纪要"),
            ("form_wanted", "paper"),
            ("delivery", "pickup"),
        ];
        let (st, _, page) = post(&c, &s, "/console/foi/new", &form).await;
        assert_eq!(st, StatusCode::OK, "{b}: {page}");
        assert!(page.contains("查询码 <code>"), "{b}: the code is shown on the response");
        let (st, loc, _) = post(&c, &s, "/console/foi/new", &form).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{b}: the second submit goes to the request");
        assert!(loc.starts_with("/console/foi/") && !loc.contains("code"), "{b}: {loc}");
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM foi_requests").await, 1, "{b}");
        let (_, page) = get(&c, &s, &loc).await;
        assert!(!page.contains("查询码 <code>"), "{b}: shown once only");
    }
}
