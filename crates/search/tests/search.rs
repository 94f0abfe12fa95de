//! Search against real databases: publish → searchable and withdraw → gone on SQLite and
//! PostgreSQL, two nodes on one PostgreSQL, a rebuild that keeps serving, the relevance
//! set over the demo corpus, and the public page and API with hostile input.

use std::time::{Duration, Instant};

use gongkai_cms::service::{self as cms, ItemInput};
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::testkit::{self, TestDb, TestServer};
use gongkai_kernel::web::AppState;
use gongkai_kernel::with_conn;
use gongkai_search::{Request, Search, feed::Follower};

async fn demo(t: &TestDb) {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_cms::init(&t.db).await.unwrap();
    gongkai_cms::demo::seed(&t.db).await.unwrap();
}

async fn scalar(t: &TestDb, sql: &'static str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut **x).await).unwrap()
}

async fn user(t: &TestDb, name: &str, role: Role) -> Principal {
    let id = testkit::user_with_role(&t.db, name, Some(role)).await;
    testkit::principal(&t.db, id).await
}

async fn publish(t: &TestDb, editor: &Principal, reviewer: &Principal, title: &str, body: &str) -> i64 {
    let col = scalar(
        t,
        "SELECT c.id FROM columns c JOIN sites s ON s.id = c.site_id WHERE s.code = 'www' AND c.slug = 'tzgg'",
    )
    .await;
    let org = scalar(t, "SELECT org_id FROM sites WHERE code = 'www'").await;
    let input = ItemInput {
        home_column_id: col.to_string(),
        class_code: "notice".into(),
        title: title.into(),
        body: body.into(),
        publisher_org_id: org.to_string(),
        written_on: "2026-01-05".into(),
        art20: "a20_01".into(),
        ..Default::default()
    };
    let item = cms::create_item(&t.db, editor, "ip", &input).await.unwrap();
    cms::submit(&t.db, editor, "ip", item.id, true).await.unwrap();
    cms::approve(&t.db, reviewer, "ip", item.id, None, "", "").await.unwrap();
    item.id
}

async fn all_sites(t: &TestDb) -> Vec<i64> {
    let mut h = t.db.read().await.unwrap();
    let mut c = h.conn();
    with_conn!(&mut c, x => sqlx::query_scalar::<_, i64>("SELECT id FROM sites").fetch_all(&mut **x).await).unwrap()
}

fn titles(s: &Search, sites: &[i64], q: &str) -> Vec<String> {
    let r = s.search(&Request { q: q.into(), sites: sites.to_vec(), limit: 10, ..Default::default() }).unwrap();
    r.hits.into_iter().map(|h| h.title).collect()
}

async fn eventually(what: &str, secs: u64, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "not within {secs} s: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn publish_edit_withdraw_reach_the_index_on_both_backends() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        demo(&t).await;
        let s = Search::open(t.db.clone(), &t.dir).unwrap();
        assert_eq!(s.engine().num_docs(), 0, "{b}: a new node starts empty");
        // An empty index is stale: reconcile rebuilds it from the database.
        assert!(s.reconcile().await.unwrap(), "{b}");
        let public = scalar(&t, "SELECT COUNT(*) FROM pub_items").await as u64;
        assert_eq!(s.engine().num_docs(), public, "{b}");
        assert!(!s.reconcile().await.unwrap(), "{b}: now current");
        let mut f = Follower::new(s.engine().payload().after);
        let sites = all_sites(&t).await;
        let editor = user(&t, "editor7", Role::Editor).await;
        let reviewer = user(&t, "reviewer7", Role::Reviewer).await;
        let id =
            publish(&t, &editor, &reviewer, "关于开展候鸟栖息地保护宣传周活动的通知", "<p>湿地候鸟保护。</p>").await;
        assert!(titles(&s, &sites, "候鸟栖息地").is_empty(), "{b}: not before the follower ran");
        assert!(s.step(&mut f).await.unwrap() >= 1, "{b}");
        assert_eq!(titles(&s, &sites, "候鸟栖息地"), vec!["关于开展候鸟栖息地保护宣传周活动的通知"], "{b}");
        // Applying the same events again (the trailing window) changes nothing.
        let mut again = Follower::new(0);
        s.step(&mut again).await.unwrap();
        assert_eq!(titles(&s, &sites, "候鸟栖息地").len(), 1, "{b}: idempotent");
        assert_eq!(s.engine().num_docs(), public + 1, "{b}");
        // An unapproved revision stays out of the index until it is approved.
        let item = gongkai_cms::store::item(&mut t.db.read().await.unwrap().conn(), id).await.unwrap().unwrap();
        let mut input = ItemInput::from_item(&item);
        input.title = "关于开展候鸟迁徙通道保护宣传周活动的通知".into();
        cms::save_item(&t.db, &editor, "ip", id, &input).await.unwrap();
        s.step(&mut f).await.unwrap();
        assert!(titles(&s, &sites, "迁徙通道").is_empty(), "{b}: draft revision not searchable");
        cms::submit(&t.db, &editor, "ip", id, true).await.unwrap();
        cms::approve(&t.db, &reviewer, "ip", id, None, "", "").await.unwrap();
        s.step(&mut f).await.unwrap();
        assert_eq!(titles(&s, &sites, "迁徙通道").len(), 1, "{b}: approved revision searchable");
        assert!(titles(&s, &sites, "栖息地").is_empty(), "{b}: old title gone");
        cms::withdraw(&t.db, &reviewer, "ip", id, "测试").await.unwrap();
        s.step(&mut f).await.unwrap();
        assert!(titles(&s, &sites, "迁徙通道").is_empty(), "{b}: withdrawn → gone");
        assert!(s.suggest("关于开展候鸟", 5).unwrap().is_empty(), "{b}: no suggestion of a withdrawn title");
        assert_eq!(s.engine().num_docs(), public, "{b}");
        // A restart opens the same generation and continues from its outbox position.
        let after = s.engine().payload().after;
        drop(s);
        let s = Search::open(t.db.clone(), &t.dir).unwrap();
        assert_eq!(s.engine().payload().after, after, "{b}");
        assert_eq!(s.engine().num_docs(), public, "{b}");
    }
}

#[tokio::test]
async fn rebuild_keeps_serving_and_dictionary_words_apply() {
    let t = testkit::sqlite().await;
    demo(&t).await;
    let s = Search::open(t.db.clone(), &t.dir).unwrap();
    s.rebuild(&|_, _| {}).await.unwrap();
    let sites = all_sites(&t).await;
    let before = s.engine().dir.clone();
    let secadmin = user(&t, "sys7", Role::SysAdmin).await;
    // Without the word, 办成一件 is not a unit; with it, the rebuild segments it whole.
    assert!(!s.engine().seg.has_word("高效办成一件事"));
    gongkai_search::store::add(&t.db, &secadmin, "ip", "word", "高效办成一件事").await.unwrap();
    gongkai_search::store::add(&t.db, &secadmin, "ip", "synonym", "一件事，高效办成一件事").await.unwrap();
    let serving = s.clone();
    let progress = std::sync::Mutex::new(Vec::new());
    let n = s
        .rebuild(&|done, total| {
            // The old generation answers while the new one is built.
            assert!(!titles(&serving, &sites, "数字政府").is_empty());
            progress.lock().unwrap().push((done, total));
        })
        .await
        .unwrap();
    assert_eq!(n, scalar(&t, "SELECT COUNT(*) FROM pub_items").await as u64);
    assert_ne!(s.engine().dir, before, "a new generation");
    assert!(s.engine().seg.has_word("高效办成一件事"));
    assert!(progress.lock().unwrap().last().is_some_and(|(d, t)| d == t));
    s.reload_synonyms().await.unwrap();
    let hits = titles(&s, &sites, "一件事");
    assert!(hits.iter().any(|h| h.contains("高效办成一件事")), "{hits:?}");
    // The replaced generation's folder is gone.
    assert!(before.is_some_and(|d| !d.exists()));
    // Refused when already running.
    let s2 = s.clone();
    let (a, b) = tokio::join!(s.rebuild(&|_, _| {}), s2.rebuild(&|_, _| {}));
    assert!(a.is_ok() != b.is_ok(), "one rebuild at a time");
}

#[tokio::test]
async fn two_nodes_on_one_postgres_both_find_a_new_item() {
    let Some(t) = testkit::postgres().await else {
        eprintln!("GONGKAI_TEST_DATABASE_URL not set: two-node test skipped");
        return;
    };
    demo(&t).await;
    let dir_b = tempfile::tempdir().unwrap();
    let a = Search::open(t.db.clone(), &t.dir).unwrap();
    let b = Search::open(t.db.clone(), dir_b.path()).unwrap();
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    gongkai_search::spawn(a.clone(), 200, wake.clone());
    gongkai_search::spawn(b.clone(), 500, wake.clone());
    let public = scalar(&t, "SELECT COUNT(*) FROM pub_items").await as u64;
    eventually("both nodes built their index", 60, async || {
        a.engine().num_docs() == public && b.engine().num_docs() == public
    })
    .await;
    let sites = all_sites(&t).await;
    let editor = user(&t, "editor8", Role::Editor).await;
    let reviewer = user(&t, "reviewer8", Role::Reviewer).await;
    let id = publish(&t, &editor, &reviewer, "两节点检索同步测试公告", "<p>检索同步。</p>").await;
    let started = Instant::now();
    eventually("node B finds it", 10, async || titles(&b, &sites, "检索同步测试").len() == 1).await;
    eventually("node A finds it", 10, async || titles(&a, &sites, "检索同步测试").len() == 1).await;
    eprintln!("both nodes searchable after {:?}", started.elapsed());
    cms::withdraw(&t.db, &reviewer, "ip", id, "测试").await.unwrap();
    eventually("node B drops it", 10, async || titles(&b, &sites, "检索同步测试").is_empty()).await;
    eventually("node A drops it", 10, async || titles(&a, &sites, "检索同步测试").is_empty()).await;
}

/// (query, a title that must be among the first three results).
const RELEVANCE: &[(&str, &str)] = &[
    ("青政发〔2023〕2号", "青禾区人民政府关于印发《青禾区保障性住房管理办法》的通知"),
    ("青政发[2023]5号", "青禾区人民政府关于印发《青禾区安全生产责任制实施办法》的通知"),
    ("青政办发(2023)2号", "青禾区人民政府办公室关于进一步做好数字政府建设工作的通知"),
    ("青教（2023）2号", "青禾区教育局关于加快推进“双减”工作的实施意见"),
    ("青发改〔2026〕5号", "青禾区发展和改革局关于印发《青禾区招商引资和外资利用实施方案（2026—2028年）》的通知"),
    ("青数据〔2025〕2号", "青禾区政务公开和大数据中心关于加快推进“高效办成一件事”的实施意见"),
    ("青卫健〔2025〕1号", "青禾区卫生健康局关于印发《青禾区基层医疗卫生服务工作指引》的通知"),
    ("石政 [2024] 1号", "青禾区石桥镇人民政府关于印发《青禾区乡村全面振兴工作指引》的通知"),
    ("青财〔2026〕3号", "青禾区财政局关于加快推进惠企政策直达的实施意见"),
    ("政府信息公开指南", "青禾区人民政府政府信息公开指南"),
    ("教育局 政府信息公开指南", "青禾区教育局政府信息公开指南"),
    ("2024年政府信息公开工作年度报告", "青禾区人民政府2024年政府信息公开工作年度报告"),
    ("教育局 2023年 年度报告", "青禾区教育局2023年政府信息公开工作年度报告"),
    ("保密审查制度", "青禾区政府信息公开保密审查制度"),
    ("发布协调制度", "青禾区政府信息公开发布协调制度"),
    ("依申请公开 办理规范", "青禾区政府信息依申请公开办理规范"),
    ("最低生活保障审核确认办法 修订", "青禾区人民政府关于印发《青禾区最低生活保障审核确认办法（修订）》的通知"),
    ("保障性住房管理办法（修订）", "青禾区人民政府关于印发《青禾区保障性住房管理办法（修订）》的通知"),
    ("青禾区概况", "青禾区概况"),
    ("教育局机构职能", "青禾区教育局机构职能"),
    ("优化营商环境专题简介", "青禾区优化营商环境专题简介"),
    ("2025年 三公经费", "青禾区2025年区级部门预算及“三公”经费预算公开"),
    (
        "高效办成一件事 实施方案",
        "青禾区政务公开和大数据中心关于印发《青禾区“高效办成一件事”实施方案（2023—2025年）》的通知",
    ),
    ("一图读懂 高效办成一件事", "一图读懂《青禾区“高效办成一件事”实施方案（2023—2025年）》"),
    ("财政预算管理实施方案 政策解读", "《青禾区财政预算管理实施方案（2023—2025年）》政策解读"),
    ("学生资助实施方案", "青禾区教育局关于印发《青禾区学生资助实施方案（2025—2027年）》的通知"),
    ("在线访谈 民营经济发展", "2024年第2期在线访谈：区发改局负责人谈民营经济发展"),
    ("职业教育产教融合 网上调查结果", "“职业教育产教融合”网上调查结果"),
    ("养老服务体系建设 调查结果", "“养老服务体系建设”网上调查结果"),
    ("公平竞争审查 意见征集情况的反馈", "关于公平竞争审查意见征集情况的反馈"),
    ("科技创新工作指引", "青禾区发展和改革局关于印发《青禾区科技创新工作指引》的通知"),
    ("重大项目建设工作指引", "青禾区发展和改革局关于印发《青禾区重大项目建设工作指引》的通知"),
    ("生态环境保护实施方案", "青禾区人民政府关于印发《青禾区生态环境保护实施方案（2023—2025年）》的通知"),
    ("2024年 公开招聘 拟聘用人员公示", "青禾区2024年公开招聘事业单位工作人员拟聘用人员公示"),
    ("数字政府建设 政府采购意向", "青禾区数字政府建设项目政府采购意向公开（2023年第3批）"),
    ("促进消费扩大内需实施方案", "青禾区人民政府关于印发《青禾区促进消费扩大内需实施方案（2026—2028年）》的通知"),
    (
        "城市更新和保障性住房实施方案",
        "青禾区人民政府关于印发《青禾区城市更新和保障性住房实施方案（2026—2028年）》的通知",
    ),
    ("稳就业促就业实施方案", "青禾区人民政府关于印发《青禾区稳就业促就业实施方案（2026—2028年）》的通知"),
    ("安全生产和应急管理实施方案", "青禾区人民政府关于印发《青禾区安全生产和应急管理实施方案（2024—2026年）》的通知"),
    ("公共文化服务实施方案", "青禾区人民政府关于印发《青禾区公共文化服务实施方案（2025—2027年）》的通知"),
    ("惠企政策直达 政策解读", "《青禾区惠企政策直达实施方案（2024—2026年）》政策解读"),
    ("乡村全面振兴 意见征集情况的反馈", "关于乡村全面振兴意见征集情况的反馈"),
    ("\"双减\" 实施意见", "青禾区教育局关于加快推进“双减”工作的实施意见"),
];

#[tokio::test]
async fn relevance_set_over_the_demo_corpus() {
    let t = testkit::sqlite().await;
    demo(&t).await;
    let s = Search::open(t.db.clone(), &t.dir).unwrap();
    s.rebuild(&|_, _| {}).await.unwrap();
    let sites = all_sites(&t).await;
    assert!(RELEVANCE.len() >= 40);
    let mut misses = Vec::new();
    for (q, want) in RELEVANCE {
        let got = titles(&s, &sites, q);
        if !got.iter().take(3).any(|t| t == want) {
            misses.push(format!("{q} → {:?}", got.iter().take(3).collect::<Vec<_>>()));
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {} queries miss their document in the top 3:\n{}",
        misses.len(),
        RELEVANCE.len(),
        misses.join("\n")
    );
}

fn state(t: &TestDb) -> AppState {
    let mut cfg = t.config();
    cfg.portal.sync_ms = 100;
    let state = AppState::with_slices(
        t.db.clone(),
        cfg,
        vec![gongkai_cms::web::slice(), gongkai_search::slice(), gongkai_portal::slice()],
    );
    gongkai_portal::attach(gongkai_search::attach(state))
}

#[tokio::test]
async fn public_page_and_api_with_hostile_input() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        demo(&t).await;
        let srv = TestServer::start_state(state(&t)).await;
        let client = reqwest::Client::new();
        let get = async |path: &str| {
            let r = client.get(srv.url(path)).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        };
        eventually("the index is built", 60, async || {
            get("/api/v1/search?q=%E6%94%BF%E5%BA%9C%E4%BF%A1%E6%81%AF%E5%85%AC%E5%BC%80%E6%8C%87%E5%8D%97")
                .await
                .1
                .contains("\"total\":")
                && !get("/api/v1/search?q=%E6%94%BF%E5%BA%9C%E4%BF%A1%E6%81%AF%E5%85%AC%E5%BC%80%E6%8C%87%E5%8D%97")
                    .await
                    .1
                    .contains("\"total\":0")
        })
        .await;
        let enc = |q: &str| serde_urlencoded::to_string([("q", q)]).unwrap();
        // The page works without script, shows the 索引号 and marks the words.
        let (st, page) = get(&format!("/search?{}", enc("政府信息公开指南"))).await;
        assert_eq!(st, 200, "{b}");
        assert!(page.contains("青禾区人民政府<mark>政府信息公开"), "{b}: marked title");
        let (_, page) = get(&format!("/search?scope=all&{}", enc("营商环境"))).await;
        assert!(page.contains("索引号："), "{b}: results show the 索引号");
        for q in [
            "\"",
            "-",
            "\"\"\"",
            "😀",
            "' OR 1=1; DROP TABLE items; --",
            "<script>alert(1)</script>",
            "\u{1}\u{1b}[31m",
            &"政府".repeat(600),
        ] {
            let (st, page) = get(&format!("/search?{}", enc(q))).await;
            assert_eq!(st, 200, "{b}: {q:?}");
            assert!(!page.contains("<script>alert(1)"), "{b}: echoed query escaped");
            let (st, body) = get(&format!("/api/v1/search?{}", enc(q))).await;
            assert!(st == 200 || (st == 400 && q.chars().count() > 1000), "{b}: {q:?} → {st} {body}");
        }
        let (_, page) = get(&format!("/search?{}", enc(&"政府".repeat(600)))).await;
        assert!(page.contains("检索词过长"), "{b}");
        // Filters: a bad year is a clear 400, on the page and in the API.
        let (st, page) = get("/search?q=%E6%94%BF%E5%BA%9C&year=abc").await;
        assert_eq!(st, 400, "{b}");
        assert!(page.contains("年份"), "{b}");
        let (st, body) = get("/api/v1/search?q=x&year=abc").await;
        assert_eq!(st, 400, "{b}");
        assert!(body.contains("\"field\":\"year\""), "{b}");
        assert_eq!(get("/api/v1/search").await.0, 400, "{b}: q required");
        // Did you mean, suggestions, a 文号 in other brackets.
        let (_, body) = get(&format!("/api/v1/search?{}", enc("营商坏境"))).await;
        assert!(body.contains("\"did_you_mean\":\"营商环境\""), "{b}: {body}");
        let (_, body) = get(&format!("/api/v1/search/suggest?{}", enc("青禾区人民政府2024"))).await;
        assert!(body.contains("青禾区人民政府2024年政府信息公开工作年度报告"), "{b}: {body}");
        let (_, body) = get(&format!("/api/v1/search?{}&limit=1", enc("青政发[2023]2号"))).await;
        assert!(body.contains("保障性住房管理办法"), "{b}: {body}");
        // Terms are counted in aggregate (written by the follower) and shown as hot searches
        // of the site they were searched on.
        eventually("the site's hot searches show the term", 10, async || {
            let (_, page) = get("/search").await;
            page.contains("热门搜索") && page.contains("政府信息公开指南")
        })
        .await;
        assert!(
            scalar(&t, "SELECT COUNT(*) FROM search_terms WHERE term = '政府信息公开指南' AND site_id > 0").await >= 1,
            "{b}"
        );
        let (_, page) = get("/search").await;
        assert!(page.contains("热门搜索") && page.contains("政府信息公开指南"), "{b}");
    }
}
