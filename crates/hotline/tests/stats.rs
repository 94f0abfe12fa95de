//! Statistics on SQLite and PostgreSQL: work orders taken through the service by real
//! principals, some moved into the past to make history, the daily roll-up (exact figures
//! for a period spanning rolled months, a rolled partial month and today's live entries;
//! the same figures before and after rolling; re-rolling is idempotent), the dashboard
//! and its links, the XLSX export (a zip with worksheets; openpyxl reads the numbers),
//! the monthly report as a page and as DOCX (python-docx opens it: tables and a real
//! chart part), and 民意调查 records with their validation, permissions and audit.

use std::process::Command;

use gongkai_hotline::model::Satisfaction;
use gongkai_hotline::service::{self, By, Callback, Dispatch, Intake};
use gongkai_hotline::stats::{self, Filter, figures, polls};
use gongkai_hotline::store::{self, LegRow};
use gongkai_kernel::auth::{Principal, Role};
use gongkai_kernel::clock::{fmt_date, local_to_ms, now_ms, today};
use gongkai_kernel::error::Error;
use gongkai_kernel::testkit::{self, TEST_PASSWORD, TestDb, TestServer, checkers};
use gongkai_kernel::with_conn;
use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::Value;
use time::{Date, PrimitiveDateTime, macros::time};

const IP: &str = "127.0.0.1";

async fn org_id(t: &TestDb, short: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    with_conn!(&mut h.conn(), x => {
        sqlx::query_scalar::<_, i64>("SELECT id FROM orgs WHERE short_name = $1").bind(short).fetch_one(&mut **x).await
    })
    .unwrap()
}

async fn user(t: &TestDb, name: &str, grants: &[(Role, Option<i64>)]) -> Principal {
    let id = testkit::user_with_role(&t.db, name, None).await;
    let actor = gongkai_kernel::audit::Actor::system("test");
    for (role, org) in grants {
        gongkai_kernel::auth::service::grant(&t.db, None, &actor, id, *role, *org, None).await.unwrap();
    }
    testkit::principal(&t.db, id).await
}

async fn exec(t: &TestDb, sql: String) {
    let mut tx = t.db.begin().await.unwrap();
    with_conn!(&mut tx.conn(), x => {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut **x).await.map(|r| r.rows_affected())
    })
    .unwrap();
    tx.commit().await.unwrap();
}

async fn scalar(t: &TestDb, sql: &str) -> i64 {
    let mut h = t.db.read().await.unwrap();
    let sql = sql.to_string();
    with_conn!(&mut h.conn(), x => {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).fetch_one(&mut **x).await
    })
    .unwrap()
}

type RollRow = (String, String, String, i64, String, i64, i64, i64, i64);

/// Every roll-up row as text, to compare two roll-ups.
async fn daily_rows(t: &TestDb) -> Vec<String> {
    let mut h = t.db.read().await.unwrap();
    let rows: Vec<RollRow> = with_conn!(&mut h.conn(), x => {
        sqlx::query_as(
            "SELECT day, channel, kind, category_top, street, org_id, received, dispatched, closed FROM hl_daily
             UNION ALL SELECT month, channel, kind, category_top, street, org_id, received, dispatched, closed FROM hl_monthly
             UNION ALL SELECT day, tag, '', 0, '', 0, received, 0, closed FROM hl_daily_tags
             ORDER BY 1, 2, 3, 4, 5, 6",
        )
        .fetch_all(&mut **x).await
    })
    .unwrap();
    rows.into_iter().map(|r| format!("{r:?}")).collect()
}

async fn legs(t: &TestDb, order: i64) -> Vec<LegRow> {
    let mut h = t.db.read().await.unwrap();
    store::legs_of(&mut h.conn(), order).await.unwrap()
}

struct World {
    agent: Principal,
    sup: Principal,
    /// Days: `d1` (the 10th of the month two months back) holds orders A and B, `d2`
    /// (yesterday) C and F, today D and E.
    d1: Date,
    d2: Date,
    today: Date,
    zjj: i64,
    jyj: i64,
}

fn call(title: &str, channel: &str, kind: &str, category: &str) -> Intake {
    Intake {
        channel: channel.into(),
        caller_name: "林秀英".into(),
        caller_phone: "13912345678".into(),
        kind: kind.into(),
        category: category.into(),
        urgency: "normal".into(),
        title: title.into(),
        content: "东湖路88号工地夜间施工到凌晨两点，噪音很大。".into(),
        address: "东湖路88号".into(),
        ..Default::default()
    }
}

async fn move_to(t: &TestDb, orders: &[i64], day: Date) {
    let ids = orders.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let at = local_to_ms(PrimitiveDateTime::new(day, time!(10:00)));
    let d = fmt_date(day);
    exec(t, format!("UPDATE hl_events SET day = '{d}', at = {at} WHERE order_id IN ({ids})")).await;
    exec(t, format!("UPDATE hl_orders SET received_on = '{d}', received_at = {at} WHERE id IN ({ids})")).await;
}

/// Six orders through the service:
/// - A (d1, phone, 投诉, 城乡建设/供水, 东湖街道, 营商环境): 住建局 main + 教育局 co, both accept,
///   教育局 replies late, review, satisfied callback → closed, not on time;
/// - B (d1, web, 咨询): answered on the call;
/// - C (d2, phone, 求助, 教育, tags 营商环境+教育): 教育局 returns it, 住建局 handles it,
///   a callback not reached, then basically satisfied → closed on time;
/// - F (d2, phone, 投诉): 教育局 replies, the caller is unsatisfied → 重办, open;
/// - D (today, phone, 投诉, 城乡建设/供水, 东湖街道, 营商环境): dispatched to 住建局, late to
///   accept (the sweep notes it), accepted late;
/// - E (today, app, 建议): answered on the call.
async fn world(t: &TestDb) -> World {
    gongkai_kernel::demo::seed(&t.db).await.unwrap();
    gongkai_hotline::init(&t.db).await.unwrap();
    let (rxzx, jyj, zjj, jd1) = (
        org_id(t, "热线中心").await,
        org_id(t, "区教育局").await,
        org_id(t, "区住建局").await,
        org_id(t, "东湖街道").await,
    );
    let agent = user(t, "st-agent", &[(Role::Agent, Some(rxzx))]).await;
    let hj = user(t, "st-jyj", &[(Role::Handler, Some(jyj))]).await;
    let hz = user(t, "st-zjj", &[(Role::Handler, Some(zjj))]).await;
    let sup = user(t, "st-sup", &[(Role::Supervisor, None)]).await;
    user(t, "st-lead", &[(Role::Leader, None), (Role::Supervisor, None)]).await;
    user(t, "st-editor", &[(Role::Editor, None)]).await;
    let place = {
        let mut tx = t.db.begin().await.unwrap();
        let mut c = tx.conn();
        store::insert_category(&mut c, "cxjs", "城乡建设", None, None, false, "[]", "").await.unwrap();
        let top = store::category_by_code(&mut c, "cxjs").await.unwrap().unwrap();
        store::insert_category(&mut c, "cxjs.gs", "供水", Some(&top), Some(zjj), false, "[]", "").await.unwrap();
        store::insert_category(&mut c, "jy", "教育", None, Some(jyj), false, "[]", "").await.unwrap();
        let place = store::insert_place(&mut c, "东湖街道", "东湖社区", Some(jd1)).await.unwrap();
        tx.commit().await.unwrap();
        place
    };
    let db = &t.db;
    let take = |i: Intake| {
        let agent = agent.clone();
        async move { service::intake(db, By::Staff(&agent, IP), i).await.unwrap().order }
    };
    let to = |main: i64, co: Vec<i64>| Dispatch { main_org: Some(main), co_orgs: co, note: String::new() };
    let satisfied =
        |s: Satisfaction| Callback { reached: true, resolved: true, satisfaction: Some(s), note: String::new() };

    // A
    let a = take(Intake {
        place_id: Some(place),
        tags: vec!["营商环境".into()],
        ..call("东湖路停水三天", "phone", "complain", "cxjs.gs")
    })
    .await;
    service::dispatch(db, &agent, IP, a.id, &to(zjj, vec![jyj])).await.unwrap();
    let l = legs(t, a.id).await;
    let (lz, lj) = (l.iter().find(|x| x.org_id == zjj).unwrap().id, l.iter().find(|x| x.org_id == jyj).unwrap().id);
    service::accept(db, &hz, IP, a.id, lz).await.unwrap();
    service::accept(db, &hj, IP, a.id, lj).await.unwrap();
    service::reply(db, &hz, IP, a.id, lz, "已抢修管网，恢复供水。").await.unwrap();
    // The 教育局's handling limit passed before it replied.
    exec(t, format!("UPDATE hl_legs SET handle_due = 1000 WHERE id = {lj}")).await;
    service::reply(db, &hj, IP, a.id, lj, "已协调学校错峰用水。").await.unwrap();
    service::review(db, &agent, IP, a.id, true, "", "").await.unwrap();
    let a = service::callback(db, &agent, IP, a.id, &satisfied(Satisfaction::Satisfied)).await.unwrap();
    assert_eq!((a.state.as_str(), a.closed_on_time), ("closed", Some(0)));
    // B
    let b = take(call("社保卡补办地点", "web", "consult", "")).await;
    service::answer_directly(db, &agent, IP, b.id, "可到区政务服务中心一楼社保窗口办理。").await.unwrap();
    // C
    let c = take(Intake {
        tags: vec!["营商环境".into(), "教育".into()],
        ..call("校车停靠点调整", "phone", "help", "jy")
    })
    .await;
    service::dispatch(db, &agent, IP, c.id, &to(jyj, vec![])).await.unwrap();
    let lj = legs(t, c.id).await[0].id;
    service::return_leg(db, &hj, IP, c.id, lj, "停靠点设置属交通部门").await.unwrap();
    service::dispatch(db, &agent, IP, c.id, &to(zjj, vec![])).await.unwrap();
    let lz = legs(t, c.id).await.iter().find(|x| x.org_id == zjj).unwrap().id;
    service::accept(db, &hz, IP, c.id, lz).await.unwrap();
    service::reply(db, &hz, IP, c.id, lz, "已调整。").await.unwrap();
    service::review(db, &agent, IP, c.id, true, "", "").await.unwrap();
    let unreached = Callback { reached: false, ..Default::default() };
    service::callback(db, &agent, IP, c.id, &unreached).await.unwrap();
    let c = service::callback(db, &agent, IP, c.id, &satisfied(Satisfaction::Basic)).await.unwrap();
    assert_eq!((c.state.as_str(), c.closed_on_time), ("closed", Some(1)));
    // F
    let f = take(call("学校食堂卫生", "phone", "complain", "")).await;
    service::dispatch(db, &agent, IP, f.id, &to(jyj, vec![])).await.unwrap();
    let lj = legs(t, f.id).await[0].id;
    service::accept(db, &hj, IP, f.id, lj).await.unwrap();
    service::reply(db, &hj, IP, f.id, lj, "已检查。").await.unwrap();
    service::review(db, &agent, IP, f.id, true, "", "").await.unwrap();
    let f = service::callback(db, &agent, IP, f.id, &satisfied(Satisfaction::Unsatisfied)).await.unwrap();
    assert_eq!(f.state, "dispatched", "重办");
    // D
    let d = take(Intake {
        place_id: Some(place),
        tags: vec!["营商环境".into()],
        ..call("东湖路水压低", "phone", "complain", "cxjs.gs")
    })
    .await;
    service::dispatch(db, &agent, IP, d.id, &to(zjj, vec![])).await.unwrap();
    let lz = legs(t, d.id).await[0].id;
    exec(t, format!("UPDATE hl_legs SET accept_due = 1000 WHERE id = {lz}")).await;
    let sweep = service::sweep(db, now_ms()).await.unwrap();
    assert_eq!(sweep.late_accept, 1);
    service::accept(db, &hz, IP, d.id, lz).await.unwrap();
    // E
    let e = take(call("垃圾分类建议", "app", "suggest", "")).await;
    service::answer_directly(db, &agent, IP, e.id, "感谢建议，已转告相关部门。").await.unwrap();

    let today = today();
    let d1 = figures::previous_month(figures::previous_month(today).0).0.replace_day(10).unwrap();
    let d2 = today.previous_day().unwrap();
    move_to(t, &[a.id, b.id], d1).await;
    move_to(t, &[c.id, f.id], d2).await;
    World { agent, sup, d1, d2, today, zjj, jyj }
}

fn expected_total() -> stats::Counts {
    stats::Counts {
        received: 6,
        direct: 2,
        dispatched: 6,
        accepted: 5,
        accepted_on_time: 4,
        returned: 1,
        replied: 4,
        replied_on_time: 3,
        closed: 4,
        closed_on_time: 3,
        callbacks: 4,
        reached: 3,
        satisfied: 1,
        basic: 1,
        unsatisfied: 1,
        late_accept: 1,
        late_handle: 0,
    }
}

#[tokio::test]
async fn figures_are_exact_across_rolled_days_and_today_and_rolling_is_idempotent() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let w = world(&t).await;
        let nothing = Filter::default();
        let from = figures::month_bounds(w.d1).0;

        // Nothing rolled yet: every day counted live.
        let live = stats::summary(&t.db, from, w.today, &nothing).await.unwrap();
        assert_eq!(live.counts, expected_total(), "{b}");
        // The dashboard's read with every day live: one read of the timeline shared by the
        // period, the year's trend and the tags.
        let all_live = stats::load(&t.db, from, w.today, &nothing, w.today, true).await.unwrap();
        assert_eq!(all_live.total, expected_total(), "{b}");

        let days = stats::rollup_until(&t.db, w.today).await.unwrap();
        assert_eq!(days as i64, (w.d2 - w.d1).whole_days() + 1, "{b}: from the first entry to yesterday");
        let mark = {
            let mut h = t.db.read().await.unwrap();
            gongkai_kernel::calendar::store::get_setting(&mut h.conn(), "hotline.rolled_until").await.unwrap()
        };
        assert_eq!(mark, Some(fmt_date(w.d2)), "{b}");
        assert!(scalar(&t, "SELECT COUNT(*) FROM hl_daily").await > 0);
        // Today is left to the live count; d1's rows, and its month's, sum to its two orders.
        assert_eq!(scalar(&t, &format!("SELECT COUNT(*) FROM hl_daily WHERE day >= '{}'", fmt_date(w.today))).await, 0);
        assert_eq!(
            scalar(&t, &format!("SELECT CAST(SUM(received) AS BIGINT) FROM hl_daily WHERE day = '{}'", fmt_date(w.d1)))
                .await,
            2,
            "{b}"
        );
        assert_eq!(
            scalar(
                &t,
                &format!(
                    "SELECT CAST(SUM(received) AS BIGINT) FROM hl_monthly WHERE month = '{}'",
                    figures::month_key(w.d1)
                )
            )
            .await,
            2
        );
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM hl_daily WHERE received = 0 AND dispatched = 0 AND accepted = 0 AND returned = 0 AND replied = 0 AND closed = 0 AND callbacks = 0 AND late_accept = 0 AND late_handle = 0 AND direct = 0").await, 0);

        // The same period after rolling: the roll-up plus today's live entries.
        let s = stats::summary(&t.db, from, w.today, &nothing).await.unwrap();
        assert_eq!(s.counts, expected_total(), "{b}");
        let r = s.rates;
        assert_eq!(
            [
                r.direct,
                r.accept_on_time,
                r.returned,
                r.reply_on_time,
                r.closed,
                r.close_on_time,
                r.callback,
                r.satisfaction
            ],
            [Some(333), Some(800), Some(167), Some(750), Some(667), Some(750), Some(1000), Some(667)],
            "{b}"
        );
        assert_eq!(figures::pct(r.satisfaction), "66.7%");
        // 回访率: A and C were closed after a satisfied or basic callback, B and E need none.
        assert_eq!((s.counts.needs_callback(), s.counts.called_back()), (2, 2));

        // A rolled partial month comes from hl_daily: the day d1 alone.
        assert_eq!(figures::plan(w.d1, w.d1, Some(w.d2)).days, vec![(w.d1, w.d1)]);
        let one = stats::summary(&t.db, w.d1, w.d1, &nothing).await.unwrap().counts;
        assert_eq!(
            (
                one.received,
                one.direct,
                one.dispatched,
                one.replied,
                one.replied_on_time,
                one.closed,
                one.closed_on_time
            ),
            (2, 1, 2, 2, 1, 2, 1),
            "{b}"
        );
        assert_eq!((one.callbacks, one.reached, one.satisfied), (1, 1, 1));
        // Today alone is live.
        let now = stats::summary(&t.db, w.today, w.today, &nothing).await.unwrap().counts;
        assert_eq!(
            (now.received, now.direct, now.dispatched, now.accepted, now.accepted_on_time),
            (2, 1, 1, 1, 0),
            "{b}"
        );
        assert_eq!((now.closed, now.late_accept), (1, 1));
        // Yesterday: C and F.
        let y = stats::summary(&t.db, w.d2, w.d2, &nothing).await.unwrap().counts;
        assert_eq!((y.received, y.returned, y.callbacks, y.reached, y.basic, y.unsatisfied), (2, 1, 3, 2, 1, 1), "{b}");

        // Filters.
        let phone = Filter { channel: Some("phone".into()), ..Default::default() };
        assert_eq!(stats::summary(&t.db, from, w.today, &phone).await.unwrap().counts.received, 4, "{b}");
        let zjj = Filter { org_id: Some(w.zjj), ..Default::default() };
        let z = stats::summary(&t.db, from, w.today, &zjj).await.unwrap().counts;
        assert_eq!((z.received, z.dispatched, z.accepted, z.accepted_on_time, z.late_accept), (0, 3, 3, 2, 1), "{b}");
        let street = Filter { street: Some("东湖街道".into()), ..Default::default() };
        assert_eq!(stats::summary(&t.db, from, w.today, &street).await.unwrap().counts.received, 2);

        // Breakdowns and tags.
        let d = stats::load(&t.db, from, w.today, &nothing, w.today, true).await.unwrap();
        let links = stats::tables::Links::new(from, w.today);
        let org = stats::tables::org_table(&d.rows, &d.orgs, &links);
        let row = |name: &str| org.rows.iter().find(|r| r[0].text == name).unwrap_or_else(|| panic!("{name}")).clone();
        let z = row("青禾区住房和城乡建设局");
        assert_eq!(
            (z[1].text.as_str(), z[2].text.as_str(), z[3].text.as_str(), z[8].text.as_str()),
            ("3", "3", "66.7%", "1")
        );
        let j = row("青禾区教育局");
        assert_eq!(
            (j[1].text.as_str(), j[4].text.as_str(), j[6].text.as_str(), j[7].text.as_str()),
            ("3", "1", "2", "50.0%")
        );
        assert_eq!(
            j[1].href.as_deref(),
            Some(
                format!("/console/hotline/orders?org_id={}&from={}&to={}", w.jyj, fmt_date(from), fmt_date(w.today))
                    .as_str()
            )
        );
        let cat = stats::tables::category_table(&d.rows, &d.categories, &links, None);
        let names: Vec<(&str, &str)> = cat.rows.iter().map(|r| (r[0].text.as_str(), r[1].text.as_str())).collect();
        assert_eq!(names, [("未分类", "3"), ("城乡建设", "2"), ("教育", "1")], "{b}");
        let ch = stats::tables::channel_table(&d.rows, &links);
        let names: Vec<(&str, &str)> = ch.rows.iter().map(|r| (r[0].text.as_str(), r[1].text.as_str())).collect();
        assert_eq!(names, [("电话", "4"), ("网站", "1"), ("客户端", "1")]);
        assert_eq!(d.tags.get("营商环境"), Some(&(3, 2)), "{b}");
        assert_eq!(d.tags.get("教育"), Some(&(1, 1)));
        let in_year: i64 = d.trend.iter().map(|(_, c)| c.received).sum();
        let expect_year = [(w.d1, 2), (w.d2, 2), (w.today, 2)]
            .iter()
            .filter(|(d, _)| d.year() == w.today.year())
            .map(|x| x.1)
            .sum::<i64>();
        assert_eq!((d.trend.len(), in_year), (12, expect_year), "{b}");
        // The same breakdowns, tags and trend as when every day was read live.
        assert_eq!((&d.rows, &d.tags, &d.trend), (&all_live.rows, &all_live.tags, &all_live.trend), "{b}");
        // A filter restricts the figures, not the tag counts.
        let by_phone = stats::load(&t.db, from, w.today, &phone, w.today, true).await.unwrap();
        assert_eq!((by_phone.total.received, &by_phone.tags), (4, &d.tags), "{b}");
        let phone_year: i64 = by_phone.trend.iter().map(|(_, c)| c.received).sum();
        assert!(phone_year <= in_year && by_phone.trend.len() == 12, "{b}");

        // Rolling again changes nothing; re-rolling a range rewrites the same rows.
        let before = daily_rows(&t).await;
        assert_eq!(stats::rollup_until(&t.db, w.today).await.unwrap(), 0);
        let again = stats::rollup_range(&t.db, w.d1, w.d2, w.today).await.unwrap();
        assert_eq!(again as i64, (w.d2 - w.d1).whole_days() + 1);
        assert_eq!(daily_rows(&t).await, before, "{b}");
        assert_eq!(stats::summary(&t.db, from, w.today, &nothing).await.unwrap().counts, expected_total());
        // Today is never rolled, even when asked to.
        stats::rollup_range(&t.db, w.today, w.today, w.today).await.unwrap();
        assert_eq!(scalar(&t, &format!("SELECT COUNT(*) FROM hl_daily WHERE day >= '{}'", fmt_date(w.today))).await, 0);

        // Today rolled up to a cut (as the hourly job does): its entries before the cut come
        // from hl_daily, the later ones are counted live, and every figure stays the same.
        let d = fmt_date(w.today);
        let n_today = scalar(&t, &format!("SELECT COUNT(*) FROM hl_events WHERE day = '{d}'")).await;
        let cut = scalar(
            &t,
            &format!("SELECT at FROM hl_events WHERE day = '{d}' ORDER BY at, id LIMIT 1 OFFSET {}", n_today / 2),
        )
        .await;
        let before_cut = format!("SELECT COUNT(*) FROM hl_events WHERE day = '{d}' AND at < {cut}");
        assert!(scalar(&t, &before_cut).await > 0 && scalar(&t, &before_cut).await < n_today, "{b}: a cut mid-day");
        // First to an earlier cut, then on to `cut`: the second adds only what came between.
        let early = scalar(
            &t,
            &format!("SELECT at FROM hl_events WHERE day = '{d}' ORDER BY at, id LIMIT 1 OFFSET {}", n_today / 4),
        )
        .await;
        assert!(stats::roll_part(&t.db, early).await.unwrap(), "{b}");
        assert!(stats::roll_part(&t.db, cut).await.unwrap(), "{b}");
        assert!(scalar(&t, &format!("SELECT COUNT(*) FROM hl_daily WHERE day = '{d}'")).await > 0, "{b}");
        let stepwise = daily_rows(&t).await;
        // Re-rolling a range forgets the part (today is then live until the next one).
        stats::rollup_range(&t.db, w.d2, w.d2, w.today).await.unwrap();
        assert_eq!(stats::summary(&t.db, from, w.today, &nothing).await.unwrap().counts, expected_total(), "{b}");
        assert!(stats::roll_part(&t.db, cut).await.unwrap(), "{b}");
        assert_eq!(daily_rows(&t).await, stepwise, "{b}: the same rows as one count up to the cut");
        assert_eq!(
            scalar(&t, &format!("SELECT CAST(SUM(received) AS BIGINT) FROM hl_daily WHERE day = '{d}'")).await,
            scalar(&t, &format!("{before_cut} AND kind = 'received'")).await,
            "{b}: only the entries before the cut are rolled"
        );
        assert_eq!(stats::summary(&t.db, from, w.today, &nothing).await.unwrap().counts, expected_total(), "{b}");
        assert_eq!(stats::summary(&t.db, w.today, w.today, &nothing).await.unwrap().counts, now, "{b}");
        let part = stats::load(&t.db, from, w.today, &nothing, w.today, true).await.unwrap();
        assert_eq!(
            (&part.total, &part.rows, &part.tags, &part.trend),
            (&all_live.total, &all_live.rows, &all_live.tags, &all_live.trend),
            "{b}"
        );
        let part_phone = stats::load(&t.db, from, w.today, &phone, w.today, true).await.unwrap();
        assert_eq!(
            (&part_phone.total, &part_phone.tags, &part_phone.trend),
            (&by_phone.total, &by_phone.tags, &by_phone.trend),
            "{b}"
        );
        // A cut on a day that does not follow the mark is refused.
        assert!(!stats::roll_part(&t.db, local_to_ms(PrimitiveDateTime::new(w.d1, time!(12:00)))).await.unwrap());
        // Tomorrow's roll-up rolls today whole; the part is then ignored.
        let tomorrow = w.today.next_day().unwrap();
        assert_eq!(stats::rollup_until(&t.db, tomorrow).await.unwrap(), 1, "{b}");
        let whole = stats::load(&t.db, from, w.today, &nothing, tomorrow, true).await.unwrap();
        assert_eq!((whole.mark, &whole.total, &whole.rows), (Some(w.today), &all_live.total, &all_live.rows), "{b}");

        // The job is scheduled by init.
        assert_eq!(scalar(&t, "SELECT COUNT(*) FROM schedules WHERE name = 'hl.rollup'").await, 1);
    }
}

// --- HTTP --------------------------------------------------------------------------------

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

/// A page with minijinja's escaped slashes turned back, so links can be compared.
async fn get(c: &Client, s: &TestServer, path: &str) -> (StatusCode, String) {
    let r = c.get(s.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap().replace("&#x2f;", "/"))
}

/// The text inside the element with `id` (tags stripped).
fn text_of(page: &str, id: &str) -> String {
    let key = format!("id=\"{id}\"");
    let i = page.find(&key).unwrap_or_else(|| panic!("no #{id}")) + key.len();
    let start = i + page[i..].find('>').unwrap() + 1;
    let end = start + page[start..].find("</dd>").unwrap();
    let mut out = String::new();
    let mut in_tag = false;
    for ch in page[start..end].chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// The names in a zip's central directory.
fn zip_names(zip: &[u8]) -> Vec<String> {
    let u16at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
    let u32at = |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]) as usize;
    let eocd = (0..=zip.len() - 22).rev().find(|&i| zip[i..i + 4] == [0x50, 0x4b, 5, 6]).expect("a zip");
    let (count, mut p) = (u16at(eocd + 10), u32at(eocd + 16));
    let mut out = Vec::new();
    for _ in 0..count {
        assert_eq!(zip[p..p + 4], [0x50, 0x4b, 1, 2], "central directory entry");
        let (n, extra, comment) = (u16at(p + 28), u16at(p + 30), u16at(p + 32));
        out.push(String::from_utf8(zip[p + 46..p + 46 + n].to_vec()).unwrap());
        p += 46 + n + extra + comment;
    }
    out
}

/// Runs a Python script on `bytes` (written to a file, passed as argv[1]) with `module`
/// importable; its JSON output, or None when that checker is missing and not required.
fn python_json(module: &str, script: &str, bytes: &[u8], ext: &str) -> Option<Value> {
    let py = checkers::python()?;
    let ok = Command::new(&py).args(["-c", &format!("import {module}")]).status().is_ok_and(|s| s.success());
    if !ok {
        assert!(!checkers::required(), "{module} is missing from {} but GONGKAI_REQUIRE_CHECKERS is set", py.display());
        eprintln!("{module} check not run: `import {module}` fails in {}", py.display());
        return None;
    }
    let path = std::env::temp_dir().join(format!("hotline-stats-{}.{ext}", gongkai_kernel::random_token::<6>()));
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(&py).args(["-c", script]).arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "{module} failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

const OPENPYXL: &str = "import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
print(json.dumps({ws.title: [[c if c is not None else '' for c in r] for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}, ensure_ascii=False))";

const PYTHON_DOCX: &str = "import json, sys, zipfile, docx
d = docx.Document(sys.argv[1])
z = zipfile.ZipFile(sys.argv[1])
parts = [(str(p.partname), p.content_type) for p in d.part.package.iter_parts()]
print(json.dumps({
  'paragraphs': [p.text for p in d.paragraphs],
  'tables': [[[c.text for c in r.cells] for r in t.rows] for t in d.tables],
  'chart_rels': [r.target_ref for r in d.part.rels.values() if r.reltype.endswith('/chart')],
  'charts': [p for p in parts if p[0].startswith('/word/charts/')],
  'chart_xml': z.read('word/charts/chart1.xml').decode('utf-8'),
  'document_xml': z.read('word/document.xml').decode('utf-8'),
}, ensure_ascii=False))";

#[tokio::test]
async fn dashboard_export_report_and_polls_over_http() {
    for t in testkit::backends().await {
        let b = t.backend_name();
        let w = world(&t).await;
        stats::rollup_until(&t.db, w.today).await.unwrap();
        let s = TestServer::start_slices(&t, gongkai_hotline::slices()).await;
        let from = fmt_date(figures::month_bounds(w.d1).0);
        let to = fmt_date(w.today);

        // Who may look.
        let (editor, _) = login(&s, "st-editor").await;
        assert_eq!(get(&editor, &s, "/console/hotline/stats").await.0, StatusCode::FORBIDDEN, "{b}");
        assert_eq!(get(&editor, &s, "/console/hotline/reports/monthly").await.0, StatusCode::FORBIDDEN);
        assert_eq!(get(&editor, &s, "/console/hotline/polls").await.0, StatusCode::FORBIDDEN);
        let (handler, _) = login(&s, "st-jyj").await;
        assert_eq!(get(&handler, &s, "/console/hotline/stats.xlsx?table=org").await.0, StatusCode::FORBIDDEN);
        let (lead, _) = login(&s, "st-lead").await;
        let (st, page) = get(&lead, &s, "/console/hotline/stats").await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert_eq!(page.matches("href=\"/console/hotline/stats\"").count(), 1, "one nav entry for two roles");
        let nav = &page[page.find("<nav").unwrap()..page.find("</nav>").unwrap()];
        assert!(nav.contains("热线统计") && !nav.contains("民意调查"), "the polls entry is the centre's: {nav}");

        // The dashboard: figures in stable elements, linked to the order list.
        let (agent, csrf) = login(&s, "st-agent").await;
        let (st, page) = get(&agent, &s, &format!("/console/hotline/stats?from={from}&to={to}")).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let mut pages = vec![("dashboard", page.clone())];
        for (id, v) in [
            ("m-received", "6"),
            ("m-direct", "2"),
            ("m-direct-rate", "33.3%"),
            ("m-accept-rate", "80.0%"),
            ("m-return-rate", "16.7%"),
            ("m-closed", "4"),
            ("m-close-rate", "66.7%"),
            ("m-close-on-time-rate", "75.0%"),
            ("m-callback-rate", "100.0%"),
            ("m-satisfaction-rate", "66.7%"),
            ("m-late", "1"),
        ] {
            assert_eq!(text_of(&page, id), v, "{b}: #{id}");
        }
        assert!(page.contains(&format!("<a href=\"/console/hotline/orders?from={from}&amp;to={to}\">6</a>")), "{b}");
        assert!(
            page.contains(&format!("href=\"/console/hotline/orders?channel=phone&amp;from={from}&amp;to={to}\">4</a>"))
        );
        assert!(page.contains(&format!("href=\"/console/hotline/orders?street=%E4%B8%9C%E6%B9%96%E8%A1%97%E9%81%93&amp;from={from}&amp;to={to}\">2</a>")));
        assert!(page.contains("<title id=\"c-channel-t\">各受理渠道受理量</title>"));
        assert!(page.contains("<desc id=\"c-channel-d\">电话 4件；网站 1件；客户端 1件</desc>"), "{b}");
        assert!(page.contains("<polyline points="), "the trend line");
        assert!(page.contains("营商环境"));
        // The default period is this month; a bad date falls back with a notice.
        let (_, page) = get(&agent, &s, "/console/hotline/stats?from=2026-02-30&to=x").await;
        assert!(page.contains("日期格式应为 YYYY-MM-DD"));
        let (st, css) = get(&agent, &s, "/console/hotline/stats.css").await;
        assert_eq!(st, StatusCode::OK);
        assert!(css.contains(".hl-metrics"));

        // XLSX: one table and all of them.
        let r = agent
            .get(s.url(&format!("/console/hotline/stats.xlsx?table=org&from={from}&to={to}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains("hotline-stats-org-"));
        let x = r.bytes().await.unwrap().to_vec();
        assert!(x.starts_with(b"PK"));
        assert!(zip_names(&x).contains(&"xl/worksheets/sheet1.xml".to_string()), "{b}");
        if let Some(v) = python_json("openpyxl", OPENPYXL, &x, "xlsx") {
            let rows = v["按承办单位"].as_array().unwrap();
            assert_eq!(rows[1][0], "承办单位");
            let z = rows.iter().find(|r| r[0] == "青禾区住房和城乡建设局").unwrap();
            assert_eq!((z[1].as_f64(), z[3].as_f64()), (Some(3.0), Some(0.667)), "{b}: counts and rates are numbers");
        }
        let all = agent
            .get(s.url(&format!("/console/hotline/stats.xlsx?table=all&from={from}&to={to}")))
            .send()
            .await
            .unwrap();
        let names = zip_names(&all.bytes().await.unwrap());
        assert!(names.contains(&"xl/worksheets/sheet8.xml".to_string()), "{b}: {names:?}");
        assert_eq!(get(&agent, &s, "/console/hotline/stats.xlsx?table=nope").await.0, StatusCode::UNPROCESSABLE_ENTITY);

        // 民意调查: the centre records them; the sums are checked; everyone who sees the
        // statistics sees the list.
        let poll = |title: &str, sat: &str| {
            vec![
                ("_csrf", csrf.clone()),
                ("title", title.to_string()),
                ("org_id", w.zjj.to_string()),
                ("started_on", fmt_date(w.d1.previous_day().unwrap())),
                ("ended_on", fmt_date(w.d1.next_day().unwrap())),
                ("planned", "200".into()),
                ("respondents", "150".into()),
                ("satisfied", sat.to_string()),
                ("basic", "30".into()),
                ("unsatisfied", "20".into()),
            ]
        };
        let r = agent
            .post(s.url("/console/hotline/polls/new"))
            .form(&poll("供水服务满意度调查", "101"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        let body = r.text().await.unwrap();
        assert!(body.contains("满意、基本满意、不满意人数之和（151）不能超过受访人数（150）"), "{b}");
        assert!(body.contains("value=\"供水服务满意度调查\""), "what was typed stays");
        pages.push(("poll form with errors", body.clone()));
        let r = agent
            .post(s.url("/console/hotline/polls/new"))
            .form(&poll("供水服务满意度调查", "90"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{b}");
        let pid = scalar(&t, "SELECT MAX(id) FROM hl_polls").await;
        let r = agent
            .post(s.url(&format!("/console/hotline/polls/{pid}")))
            .form(&poll("供水服务满意度调查（复核）", "100"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(scalar(&t, "SELECT satisfied FROM hl_polls").await, 100);
        assert_eq!(
            scalar(&t, "SELECT COUNT(*) FROM audit_log WHERE action IN ('hotline.poll_create', 'hotline.poll_update')")
                .await,
            2
        );
        let (sup, sup_csrf) = login(&s, "st-sup").await;
        assert_eq!(get(&sup, &s, "/console/hotline/polls/new").await.0, StatusCode::FORBIDDEN, "{b}");
        let mut f = poll("x", "1");
        f[0].1 = sup_csrf;
        assert_eq!(
            sup.post(s.url("/console/hotline/polls/new")).form(&f).send().await.unwrap().status(),
            StatusCode::FORBIDDEN
        );
        let (st, list) = get(&sup, &s, "/console/hotline/polls").await;
        assert_eq!(st, StatusCode::OK);
        assert!(list.contains("供水服务满意度调查（复核）") && list.contains("86.7%"), "{b}: (100+30)/150");
        pages.push(("polls", list));
        pages.push(("poll form", get(&agent, &s, &format!("/console/hotline/polls/{pid}")).await.1));
        // The service checks too.
        let e = polls::create(&t.db, &w.sup, IP, &polls::PollForm::default()).await.unwrap_err();
        assert!(matches!(e, Error::Forbidden(_)));
        let stored = {
            let mut h = t.db.read().await.unwrap();
            polls::get(&mut h.conn(), pid).await.unwrap().unwrap()
        };
        let bad_org = polls::PollForm { org_id: "999999".into(), ..polls::PollForm::of(&stored) };
        let e = polls::create(&t.db, &w.agent, IP, &bad_org).await.unwrap_err();
        assert!(matches!(e, Error::Invalid(ref f) if f.get("org_id").is_some()), "{e:?}");

        // The monthly report of d1's month: figures, comparison, the poll, the summary.
        let month = figures::month_key(w.d1);
        let label = figures::month_label(w.d1);
        let (st, page) = get(&agent, &s, &format!("/console/hotline/reports/monthly?month={month}")).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert!(page.contains(&format!("12345政务服务便民热线{label}运行情况报告")));
        assert!(page.contains(&format!("{label}，12345热线共受理群众诉求2件")), "{b}");
        assert!(page.contains("直接答复率50.0%"));
        assert!(page.contains("<th scope=\"row\">受理量</th><td>2</td><td>0</td><td>—</td>"), "{b}");
        assert!(page.contains("供水服务满意度调查（复核）"));
        assert!(page.contains("本月开展民意调查1项"));
        pages.push(("report", page.clone()));
        assert_eq!(
            get(&agent, &s, "/console/hotline/reports/monthly?month=2026-13").await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );

        let r = agent.get(s.url(&format!("/console/hotline/reports/monthly.docx?month={month}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b}");
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains(".docx"));
        let docx = r.bytes().await.unwrap().to_vec();
        let names = zip_names(&docx);
        for n in ["word/document.xml", "word/charts/chart1.xml", "[Content_Types].xml", "word/_rels/document.xml.rels"]
        {
            assert!(names.contains(&n.to_string()), "{b}: {n} in {names:?}");
        }
        if let Some(v) = python_json("docx", PYTHON_DOCX, &docx, "docx") {
            let paras: Vec<&str> = v["paragraphs"].as_array().unwrap().iter().filter_map(|p| p.as_str()).collect();
            assert!(paras.iter().any(|p| p.contains("共受理群众诉求2件")), "{b}: {paras:?}");
            assert!(paras.contains(&"一、总体情况"));
            let tables = v["tables"].as_array().unwrap();
            assert!(tables.len() >= 9, "{b}: {} tables", tables.len());
            assert_eq!(tables[0][0], serde_json::json!(["指标", "本月", "上月", "环比"]));
            assert_eq!(tables[0][1], serde_json::json!(["受理量", "2", "0", "—"]));
            let poll_table = tables.iter().find(|t| t[0][0] == "调查名称").expect("the polls table");
            assert_eq!(poll_table[1][0], "供水服务满意度调查（复核）");
            assert_eq!(v["chart_rels"], serde_json::json!(["charts/chart1.xml"]));
            assert_eq!(
                v["charts"],
                serde_json::json!([[
                    "/word/charts/chart1.xml",
                    "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
                ]])
            );
            let chart = v["chart_xml"].as_str().unwrap();
            assert!(
                chart.contains("<c:barChart>") && chart.contains("<c:v>电话</c:v>") && chart.contains("<c:numCache>"),
                "{b}"
            );
            let doc = v["document_xml"].as_str().unwrap();
            assert!(doc.contains("w:eastAsia=\"仿宋_GB2312\"") && doc.contains("w:eastAsia=\"黑体\""));
            assert!(doc.contains("<c:chart "));
        }
        // Valid HTML (the Nu HTML Checker, when installed).
        checkers::assert_valid_html(&pages);
    }
}
