//! Demo data of the hotline: the category tree (some offered as Open311 services), the
//! district gazetteer, a demo Open311 client, and a year of work orders — a few thousand,
//! each simulated through its whole life (受理, 派单, 签收, sometimes 退单 or 延期, 答复,
//! 审核, 回访, sometimes 重办) at plausible times and cut off at the present, so recent
//! orders stand in every state and the statistics show real figures. Bulk-written in one
//! transaction (thousands of orders through the use cases would take minutes); the limits
//! and due instants come from the same SLA table and calendar as live orders.

use serde_json::json;

use gongkai_kernel::audit::{self, Actor};
use gongkai_kernel::clock::{self, fmt_date};
use gongkai_kernel::db::{Conn, Db};
use gongkai_kernel::error::Result;
use gongkai_kernel::with_conn;

use crate::model::{LegRole, LegState, OrderState};
use crate::rules::{self, Limit};
use crate::service::Env;
use crate::store::{self, LegRow, NewEvent, OrderRow};

/// The Open311 key of the demo client (documented in README; a real install creates its
/// own keys in the console).
pub const DEMO_OPEN311_KEY: &str = "demo-open311-key";

const SINGLE: &str = "singlevaluelist";

fn attr(code: &str, datatype: &str, required: bool, description: &str, values: &[(&str, &str)]) -> serde_json::Value {
    json!({
        "variable": true,
        "code": code,
        "datatype": datatype,
        "required": required,
        "datatype_description": "",
        "order": 1,
        "description": description,
        "values": values.iter().map(|(k, n)| json!({ "key": k, "name": n })).collect::<Vec<_>>(),
    })
}

/// (code, name, default organisation's short name, Open311, keywords)
const CATEGORIES: &[(&str, &str, &str, bool, &str)] = &[
    ("cs", "城乡建设", "区住建局", false, ""),
    ("cs.noise", "施工噪音", "区住建局", true, "噪音 夜间施工 工地"),
    ("cs.road", "道路破损", "区住建局", true, "坑洼 路面 井盖"),
    ("cs.light", "路灯故障", "区住建局", true, "路灯 不亮"),
    ("cs.water", "供水停水", "区住建局", false, "停水 水压 自来水"),
    ("cs.property", "物业管理", "区住建局", false, "物业 电梯 维修基金"),
    ("env", "环境卫生", "", false, ""),
    ("env.garbage", "垃圾清运", "", true, "垃圾 清运 堆放"),
    ("env.green", "绿化养护", "", false, "树木 绿化 草坪"),
    ("edu", "教育", "区教育局", false, ""),
    ("edu.enroll", "入学招生", "区教育局", false, "入学 招生 学位 转学"),
    ("edu.training", "校外培训", "区教育局", false, "培训 退费"),
    ("health", "卫生健康", "区卫健局", false, ""),
    ("health.food", "食品安全", "区卫健局", false, "食堂 餐饮 卫生"),
    ("health.medical", "医疗服务", "区卫健局", false, "医院 挂号 医保"),
    ("biz", "营商环境", "区发改局", false, ""),
    ("biz.permit", "审批服务", "区发改局", false, "审批 许可 办事难"),
    ("biz.arrears", "拖欠账款", "区财政局", false, "欠款 账款 中小企业"),
    ("gov", "政务服务", "区府办", false, ""),
    ("gov.service", "办事服务", "区府办", false, "办事 窗口 材料"),
    ("gov.website", "政府网站", "信息中心", false, "网站 打不开 链接"),
    ("fin", "财政补贴", "区财政局", false, ""),
    ("fin.subsidy", "补贴发放", "区财政局", false, "补贴 发放 到账"),
];

/// (street, street office short name, communities)
const PLACES: &[(&str, &str, &[&str])] = &[
    ("东湖街道", "东湖街道", &["东湖社区", "湖滨社区", "青年路社区"]),
    ("西岭街道", "西岭街道", &["西岭社区", "松柏社区"]),
    ("石桥镇", "石桥镇", &["石桥村", "河西村", "新桥社区"]),
];

/// (category code, kind, title, content, answer)
const MATTERS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "cs.noise",
        "complain",
        "工地夜间施工噪音扰民",
        "小区旁工地每天夜里施工到凌晨，影响休息。",
        "已责令施工单位22时至次日6时停止施工，并加强夜间巡查。",
    ),
    (
        "cs.road",
        "report",
        "路面坑洼影响通行",
        "路口有一处大坑，电动车经过很危险。",
        "养护单位已完成修补，路面恢复平整。",
    ),
    (
        "cs.light",
        "help",
        "路灯连续多日不亮",
        "小区门口一排路灯一周没亮，夜里出行不便。",
        "经检查为线路老化，已更换线路，路灯恢复照明。",
    ),
    (
        "cs.water",
        "help",
        "小区突然停水",
        "今天早上开始停水，没有看到通知。",
        "系管网抢修临时停水，已于当日恢复供水，今后将提前公告。",
    ),
    (
        "cs.property",
        "complain",
        "物业不维修电梯",
        "单元电梯坏了两周，物业一直拖着不修。",
        "已约谈物业公司，电梯已维修并通过检测。",
    ),
    (
        "env.garbage",
        "complain",
        "垃圾清运不及时",
        "垃圾桶满了好几天没人清运，气味很大。",
        "已督促保洁公司每日清运两次，并增设垃圾桶。",
    ),
    ("env.green", "suggest", "建议修剪遮挡路灯的树枝", "行道树长得太高，把路灯挡住了。", "绿化养护单位已完成修剪。"),
    (
        "edu.enroll",
        "consult",
        "外地户籍子女入学需要哪些材料",
        "孩子明年上小学，我们是外地户籍，想了解入学材料。",
        "需提供居住证、房屋租赁备案或产权证明、社保缴纳证明等，详见区教育局招生公告。",
    ),
    (
        "edu.training",
        "complain",
        "校外培训机构拒绝退费",
        "培训机构停课后不给退费。",
        "区教育局已约谈该机构，已按规定退还剩余课时费用。",
    ),
    (
        "health.food",
        "report",
        "餐馆后厨卫生差",
        "某餐馆后厨脏乱，有老鼠。",
        "市场监管和卫健部门联合检查，已责令停业整改。",
    ),
    (
        "health.medical",
        "consult",
        "医保异地就医怎么备案",
        "父母在外地长住，看病报销需要备案吗？",
        "可通过国家医保服务平台或医保窗口办理异地就医备案。",
    ),
    (
        "biz.permit",
        "complain",
        "营业执照变更跑了三次还没办好",
        "材料每次说不齐，希望一次性告知。",
        "已核实并向申请人一次性告知材料，当日办结变更登记。",
    ),
    (
        "biz.arrears",
        "help",
        "政府项目工程款拖欠",
        "我们公司承接的区属项目尾款拖欠一年。",
        "区财政局已会同项目单位核对，尾款已拨付。",
    ),
    (
        "gov.service",
        "suggest",
        "建议政务服务中心周六开放",
        "上班族工作日没时间办事。",
        "政务服务中心已试行周六上午开放。",
    ),
    (
        "gov.website",
        "report",
        "政府网站部分链接打不开",
        "区政府网站政策文件栏目有链接打不开。",
        "已修复失效链接，并开展全站链接检查。",
    ),
    (
        "fin.subsidy",
        "consult",
        "家电以旧换新补贴什么时候到账",
        "上个月申请的补贴还没到账。",
        "补贴审核后15个工作日内发放，已查询您的申请在发放中。",
    ),
    (
        "edu.enroll",
        "praise",
        "表扬学校老师耐心细致",
        "孩子转学时老师帮忙办手续，非常耐心。",
        "感谢您的肯定，已转达学校。",
    ),
];

const NAMES: &[&str] =
    &["林秀英", "王建华", "张丽", "陈志强", "刘芳", "赵敏", "孙伟", "周杰", "吴静", "郑浩", "冯雪", "何磊"];
const CHANNELS: &[(&str, u32)] =
    &[("phone", 60), ("web", 12), ("wechat", 12), ("app", 8), ("weibo", 3), ("email", 3), ("open311", 2)];

/// A small deterministic generator: the same demo every time.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True with probability `pct` percent.
    fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    fn weighted<'a>(&mut self, items: &'a [(&'a str, u32)]) -> &'a str {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.below(u64::from(total)) as u32;
        for (v, w) in items {
            if r < *w {
                return v;
            }
            r -= w;
        }
        items[0].0
    }
}

const HOUR: i64 = 3_600_000;

/// Seeds categories, places and the demo client when there are none, and a year of orders
/// when there are none. Returns whether anything was created.
pub async fn seed(db: &Db, today: time::Date) -> Result<bool> {
    let env = Env::load(db).await?;
    let mut tx = db.begin().await?;
    let mut c = tx.conn();
    let mut created = false;
    if store::categories(&mut c).await?.is_empty() {
        seed_reference(&mut c).await?;
        created = true;
    }
    let has_orders: i64 =
        with_conn!(&mut c, x => sqlx::query_scalar("SELECT COUNT(*) FROM hl_orders").fetch_one(&mut **x).await)?;
    if has_orders == 0 {
        let n = seed_orders(&mut c, &env, today).await?;
        audit::append(&mut c, &Actor::system("demo"), "hotline.demo", "hl_order", "*", json!({ "orders": n })).await?;
        created = true;
    }
    tx.commit().await?;
    Ok(created)
}

async fn org_by_short(c: &mut Conn<'_>, short: &str) -> Result<Option<i64>> {
    if short.is_empty() {
        return Ok(None);
    }
    Ok(with_conn!(c, x => {
        sqlx::query_scalar("SELECT id FROM orgs WHERE short_name = $1").bind(short).fetch_optional(&mut **x).await
    })?)
}

async fn seed_reference(c: &mut Conn<'_>) -> Result<()> {
    let attrs = |code: &str| -> serde_json::Value {
        match code {
            "cs.noise" => json!([attr(
                "time_of_day",
                SINGLE,
                true,
                "发生时段",
                &[("night", "夜间（22时至次日6时）"), ("day", "白天")]
            )]),
            "cs.road" => {
                json!([attr("size", SINGLE, false, "破损大小", &[("small", "小于1平方米"), ("large", "1平方米以上")])])
            }
            "cs.light" => json!([attr("pole_no", "string", false, "灯杆编号（灯杆上的白色标牌）", &[])]),
            "env.garbage" => json!([attr(
                "kind",
                "multivaluelist",
                false,
                "垃圾种类",
                &[("household", "生活垃圾"), ("construction", "建筑垃圾"), ("bulky", "大件垃圾")]
            )]),
            _ => json!([]),
        }
    };
    for (code, name, org, open311, keywords) in CATEGORIES {
        let parent = match code.rsplit_once('.') {
            Some((p, _)) => store::category_by_code(c, p).await?,
            None => None,
        };
        let org = org_by_short(c, org).await?;
        let a = attrs(code).to_string();
        store::insert_category(c, code, name, parent.as_ref(), org, *open311, &a, keywords).await?;
    }
    for (street, office, communities) in PLACES {
        let org = org_by_short(c, office).await?;
        store::insert_place(c, street, "", org).await?;
        for cm in *communities {
            store::insert_place(c, street, cm, org).await?;
        }
    }
    let hash = audit::hex(&<sha2::Sha256 as sha2::Digest>::digest(DEMO_OPEN311_KEY.as_bytes()));
    store::insert_client(c, "演示 Open311 客户端", "open311", "open311", &hash).await?;
    Ok(())
}

/// Who acts in the demo timelines.
struct Cast {
    agent: Actor,
    system: Actor,
}

fn staff(name: &str) -> Actor {
    Actor { user_id: None, name: name.into(), role: "demo".into(), org_id: None, ip: "demo".into() }
}

async fn seed_orders(c: &mut Conn<'_>, env: &Env, today: time::Date) -> Result<usize> {
    let cats = store::categories(c).await?;
    let places = store::places(c).await?;
    let fallback_org = org_by_short(c, "区府办").await?.unwrap_or(1);
    let co_org = org_by_short(c, "区卫健局").await?.unwrap_or(fallback_org);
    let cast = Cast { agent: staff("吴坐席（agent）"), system: Actor::system("demo") };
    let now = clock::now_ms();
    let mut rng = Lcg(20_261_128);
    let mut n = 0;
    // Recent orders a repeat call may be merged into: (id, number).
    let mut prev: Vec<(i64, String)> = Vec::new();
    for days_ago in (0..365).rev() {
        let day = today - time::Duration::days(days_ago);
        let weekday = env.cal.is_working_day(day);
        let count = if weekday { 8 + rng.below(6) } else { 3 + rng.below(3) };
        for _ in 0..count {
            // Today's calls spread over the last eight hours, so some wait for dispatch or
            // acceptance right now; other days' between 08:00 and 21:00.
            let start = if days_ago == 0 {
                now - (5 + rng.below(8 * 60) as i64) * 60_000
            } else {
                rules::end_of_day(day) + 1 - 86_400_000 + (8 * HOUR) + rng.below(13 * 60) as i64 * 60_000
            };
            if start > now - 5 * 60_000 {
                continue;
            }
            let m = MATTERS[rng.below(MATTERS.len() as u64) as usize];
            let cat = cats.iter().find(|c| c.code == m.0);
            let place = places.get(rng.below(places.len() as u64) as usize);
            let channel = rng.weighted(CHANNELS);
            let anonymous = channel != "open311" && rng.pct(4);
            let name = NAMES[rng.below(NAMES.len() as u64) as usize];
            let urgency = if m.0 == "cs.water" && rng.pct(50) { "high" } else { "normal" };
            let mut tags = Vec::new();
            if m.0.starts_with("biz") || rng.pct(5) {
                tags.push("营商环境");
            }
            let community = place.map(|p| p.community.clone()).unwrap_or_default();
            let street = place.map(|p| p.street.clone()).unwrap_or_default();
            let mut o = OrderRow {
                no: format!("tmp-demo-{n}"),
                channel: channel.into(),
                caller_name: if anonymous { String::new() } else { name.into() },
                caller_phone: format!("139{:08}", rng.below(100_000_000)),
                anonymous: anonymous as i64,
                confidential: rng.pct(3) as i64,
                kind: m.1.into(),
                category_id: cat.map(|c| c.id),
                category_top: cat.and_then(|c| c.top_id),
                urgency: urgency.into(),
                tags: tags.join(","),
                title: m.2.into(),
                content: format!("{}地点：{street}{community}。", m.3),
                address: format!("{street}{community}"),
                place_id: place.map(|p| p.id),
                street: street.clone(),
                attributes: "{}".into(),
                state: OrderState::Received.as_str().into(),
                received_at: start,
                received_on: fmt_date(clock::ms_to_local(start).date()),
                updated_at: start,
                ..Default::default()
            };
            o.id = gongkai_kernel::db::next_ids(c, "hl_orders", 1)
                .await?
                .pop()
                .ok_or_else(|| gongkai_kernel::error::Error::Internal("no id".into()))?;
            o.no = rules::order_no(clock::ms_to_local(start).date(), o.id);
            store::insert_orders(c, &[&o]).await?;
            let main_org =
                cat.and_then(|c| c.default_org_id).or_else(|| place.and_then(|p| p.org_id)).unwrap_or(fallback_org);
            let code = cat.map(|c| c.code.clone()).unwrap_or_default();
            let mut sim = Sim { c: &mut *c, env, cast: &cast, now, o, legs: Vec::new() };
            sim.ev(start, None, "received", "", None, "工单已受理", true).await?;
            sim.life(&mut rng, &code, main_org, co_org, m.4, &prev).await?;
            sim.finish().await?;
            if sim.o.state != OrderState::Merged.as_str() {
                prev.push((sim.o.id, sim.o.no.clone()));
            }
            if prev.len() > 30 {
                prev.remove(0);
            }
            n += 1;
        }
    }
    Ok(n)
}

/// One order's simulated life; every step after `now` is not taken.
struct Sim<'a, 'c> {
    c: &'a mut Conn<'c>,
    env: &'a Env,
    cast: &'a Cast,
    now: i64,
    o: OrderRow,
    legs: Vec<LegRow>,
}

/// The life stopped at the present.
struct Stop;

impl Sim<'_, '_> {
    #[allow(clippy::too_many_arguments)]
    async fn ev(
        &mut self,
        at: i64,
        leg: Option<i64>,
        kind: &str,
        value: &str,
        on_time: Option<bool>,
        text: &str,
        public: bool,
    ) -> Result<()> {
        let actor = if kind == "overdue" { &self.cast.system } else { &self.cast.agent };
        store::add_event(self.c, &self.o, actor, at, &NewEvent { leg_id: leg, kind, value, on_time, text, public })
            .await?;
        Ok(())
    }

    fn due(&self, limit: Limit, from: i64) -> i64 {
        limit.due(from, &self.env.cal, &self.env.hours)
    }

    async fn dispatch(&mut self, at: i64, org: i64, role: LegRole, code: &str) -> Result<usize> {
        let l = self.env.limits(&self.o.kind, code, &self.o.urgency);
        let mut leg = LegRow {
            order_id: self.o.id,
            org_id: org,
            role: role.as_str().into(),
            state: LegState::Pending.as_str().into(),
            dispatched_at: at,
            handle_from: at,
            accept_limit: l.accept.spec(),
            return_limit: l.ret.spec(),
            handle_limit: l.handle.spec(),
            accept_due: self.due(l.accept, at),
            return_due: self.due(l.ret, at),
            handle_due: self.due(l.handle, at),
            updated_at: at,
            ..Default::default()
        };
        leg.id = store::insert_leg(self.c, &leg).await?;
        self.o.state = OrderState::Dispatched.as_str().into();
        let id = leg.id;
        self.legs.push(leg);
        self.ev(at, Some(id), "dispatched", "", None, "派单", role == LegRole::Main).await?;
        Ok(self.legs.len() - 1)
    }

    fn check(&self, at: i64) -> std::result::Result<(), Stop> {
        if at > self.now { Err(Stop) } else { Ok(()) }
    }

    #[allow(clippy::too_many_arguments)]
    async fn life(
        &mut self,
        rng: &mut Lcg,
        code: &str,
        main_org: i64,
        co_org: i64,
        answer: &str,
        prev: &[(i64, String)],
    ) -> Result<()> {
        match self.steps(rng, code, main_org, co_org, answer, prev).await {
            Ok(Ok(())) | Ok(Err(Stop)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The steps; `Ok(Err(Stop))` when the present is reached.
    #[allow(clippy::too_many_arguments)]
    async fn steps(
        &mut self,
        rng: &mut Lcg,
        code: &str,
        main_org: i64,
        co_org: i64,
        answer: &str,
        prev: &[(i64, String)],
    ) -> Result<std::result::Result<(), Stop>> {
        let t0 = self.o.received_at;
        // 3%: a repeat call merged into an earlier order.
        if rng.pct(3)
            && let Some((into_id, into)) = prev.last()
        {
            let at = t0 + 20 * 60_000;
            if self.check(at).is_err() {
                return Ok(Err(Stop));
            }
            self.o.state = OrderState::Merged.as_str().into();
            self.o.merged_into = Some(*into_id);
            store::add_link(self.c, self.o.id, *into_id, "merged").await?;
            self.ev(at, None, "merged", "", None, &format!("并入工单 {into}"), true).await?;
            return Ok(Ok(()));
        }
        // About a third answered on the call.
        if self.o.kind == "consult" && rng.pct(70) || rng.pct(20) {
            self.o.direct = 1;
            self.o.answer = answer.into();
            let at = t0 + 5 * 60_000;
            self.ev(at, None, "direct", "", None, answer, false).await?;
            self.o.state = OrderState::Closed.as_str().into();
            self.o.closed_at = Some(at);
            self.o.closed_on_time = Some(1);
            self.ev(at, None, "closed", "", Some(true), "直接答复办结", true).await?;
            return Ok(Ok(()));
        }
        let mut at = t0 + (10 + rng.below(50) as i64) * 60_000;
        if self.check(at).is_err() {
            return Ok(Err(Stop));
        }
        let mut main = self.dispatch(at, main_org, LegRole::Main, code).await?;
        let co = if rng.pct(10) && co_org != main_org {
            Some(self.dispatch(at, co_org, LegRole::Co, code).await?)
        } else {
            None
        };
        // 5%: returned within the limit and re-dispatched to the district office.
        if rng.pct(5) {
            at += (1 + rng.below(6) as i64) * HOUR;
            if self.check(at).is_err() {
                return Ok(Err(Stop));
            }
            let id = self.legs[main].id;
            self.legs[main].state = LegState::Returned.as_str().into();
            self.legs[main].returned_at = Some(at);
            self.legs[main].return_reason = "不属于本单位职责".into();
            self.o.state = OrderState::Received.as_str().into();
            self.ev(at, Some(id), "returned", "", None, "不属于本单位职责", false).await?;
            at += HOUR;
            if self.check(at).is_err() {
                return Ok(Err(Stop));
            }
            let org = if main_org == co_org { main_org } else { co_org };
            main = self.dispatch(at, org, LegRole::Main, code).await?;
        }
        let mut active = vec![main];
        active.extend(co);
        for &i in &active {
            // 92% accepted in time.
            let leg = &self.legs[i];
            let acc = if rng.pct(92) {
                leg.dispatched_at + (leg.accept_due - leg.dispatched_at).min(6 * HOUR) * (1 + rng.below(9) as i64) / 10
            } else {
                leg.accept_due + (2 + rng.below(30) as i64) * HOUR
            };
            if self.check(acc).is_err() {
                return Ok(Err(Stop));
            }
            let on_time = acc <= self.legs[i].accept_due;
            let l = &mut self.legs[i];
            l.state = LegState::Accepted.as_str().into();
            l.accepted_at = Some(acc);
            l.accepted_on_time = Some(on_time as i64);
            let id = l.id;
            self.ev(acc, Some(id), "accepted", "", Some(on_time), "已签收", false).await?;
        }
        // 4%: the main handler never answers (left open, late, for the supervision queues).
        if rng.pct(4) {
            return Ok(Ok(()));
        }
        // 5%: an approved extension of 5 working days.
        if rng.pct(5) {
            let l = &self.legs[main];
            let req = l.accepted_at.unwrap_or(at) + 24 * HOUR;
            if self.check(req + 2 * HOUR).is_err() {
                return Ok(Err(Stop));
            }
            let id = l.id;
            let due = rules::extend_due(l.handle_due, 5, &self.env.cal);
            self.ev(req, Some(id), "ext_requested", "", None, "申请延期 5 个工作日：需现场核查", false).await?;
            let l = &mut self.legs[main];
            l.ext_days = 5;
            l.ext_state = "approved".into();
            l.ext_request_days = 5;
            l.ext_reason = "需现场核查".into();
            l.handle_due = due;
            self.ev(req + 2 * HOUR, Some(id), "ext_approved", "", None, "同意延期 5 个工作日", false).await?;
        }
        let mut last = at;
        let mut redo = false;
        loop {
            for &i in &active {
                let l = &self.legs[i];
                let from = l.accepted_at.unwrap_or(l.handle_from).max(l.handle_from);
                let rep = if rng.pct(88) {
                    from + ((l.handle_due - from).max(HOUR) * (1 + rng.below(8) as i64) / 10)
                } else {
                    l.handle_due + (1 + rng.below(4) as i64) * 24 * HOUR
                };
                if self.check(rep).is_err() {
                    return Ok(Err(Stop));
                }
                let on_time = rep <= self.legs[i].handle_due;
                let text = if redo { format!("（重办）{answer}") } else { answer.to_string() };
                let l = &mut self.legs[i];
                l.state = LegState::Replied.as_str().into();
                l.replied_at = Some(rep);
                l.reply = text.clone();
                l.replied_on_time = Some(on_time as i64);
                let id = l.id;
                self.ev(rep, Some(id), "replied", "", Some(on_time), &text, false).await?;
                last = last.max(rep);
            }
            self.o.state = OrderState::Replied.as_str().into();
            let rev = last + (2 + rng.below(18) as i64) * HOUR;
            if self.check(rev).is_err() {
                return Ok(Err(Stop));
            }
            let limits = self.env.limits(&self.o.kind, code, &self.o.urgency);
            self.o.answer = self.legs[main].reply.clone();
            self.o.reviewed_at = Some(rev);
            self.o.callback_limit = limits.callback.spec();
            self.o.callback_due = Some(self.due(limits.callback, rev));
            self.o.state = OrderState::Callback.as_str().into();
            self.ev(rev, None, "review_passed", "", None, &self.o.answer.clone(), true).await?;
            let cb = rev + (2 + rng.below(28) as i64) * HOUR;
            if self.check(cb).is_err() {
                return Ok(Err(Stop));
            }
            self.o.callback_at = Some(cb);
            let roll = rng.below(100);
            if roll < 3 {
                self.o.reached = Some(0);
                self.ev(cb, None, "callback", "unreached", None, "未接通", false).await?;
                let close = cb + 26 * HOUR;
                if self.check(close).is_err() {
                    return Ok(Err(Stop));
                }
                return self.close(close, "多次回访未接通，按期办结").await.map(Ok);
            }
            self.o.reached = Some(1);
            let sat = if roll < 83 {
                "satisfied"
            } else if roll < 95 || redo {
                "basic"
            } else {
                "unsatisfied"
            };
            self.o.satisfaction = Some(sat.into());
            self.o.resolved = Some((sat != "unsatisfied") as i64);
            let label = crate::model::Satisfaction::parse(sat).map(|s| s.label_zh()).unwrap_or("");
            self.ev(cb, None, "callback", sat, None, label, false).await?;
            if sat != "unsatisfied" {
                return self.close(cb, "回访满意，办结").await.map(Ok);
            }
            // 重办: back to the handlers with a fresh limit.
            redo = true;
            self.o.redo_count += 1;
            self.o.state = OrderState::Dispatched.as_str().into();
            self.o.callback_due = None;
            for &i in &active {
                let l = &mut self.legs[i];
                l.state = LegState::Accepted.as_str().into();
                l.handle_from = cb;
                l.handle_due =
                    Limit::parse(&l.handle_limit).unwrap_or(Limit::WorkDays(5)).due(cb, &self.env.cal, &self.env.hours);
                l.replied_on_time = None;
            }
            self.ev(cb, None, "redo", "", None, "群众不满意，退回承办单位重办", true).await?;
            last = cb;
        }
    }

    async fn close(&mut self, at: i64, text: &str) -> Result<()> {
        let live = |l: &&LegRow| l.state == LegState::Replied.as_str();
        let on_time = self.legs.iter().filter(live).all(|l| l.replied_on_time == Some(1));
        for l in self.legs.iter_mut().filter(|l| l.state == LegState::Replied.as_str()) {
            l.state = LegState::Done.as_str().into();
        }
        self.o.state = OrderState::Closed.as_str().into();
        self.o.closed_at = Some(at);
        self.o.closed_on_time = Some(on_time as i64);
        self.ev(at, None, "closed", "", Some(on_time), text, true).await
    }

    /// Write the order and its legs as they stand, with the late flags of the present.
    async fn finish(&mut self) -> Result<()> {
        let now = self.now;
        for l in &mut self.legs {
            l.overdue = match LegState::parse(&l.state) {
                Some(LegState::Pending) if l.accept_due < now => 1,
                Some(LegState::Accepted) if l.handle_due < now => 2,
                _ => 0,
            };
            l.updated_at = now;
            store::save_leg(self.c, l).await?;
        }
        let open = OrderState::parse(&self.o.state).is_some_and(|s| s.is_open());
        self.o.overdue = (open
            && (self.legs.iter().any(|l| l.overdue > 0)
                || self.o.state == "callback" && self.o.callback_due.is_some_and(|d| d < now)))
            as i64;
        self.o.updated_at = now;
        store::save_order(self.c, &self.o).await
    }
}
