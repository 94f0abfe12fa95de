//! The demo district: organisations and a user for every role. Idempotent: a database
//! that already has organisations is left as it is.

use crate::audit::Actor;
use crate::auth::{Role, service as auth};
use crate::db::Db;
use crate::error::Result;
use crate::org::{OrgInput, service as org};

/// Shared by every demo account; printed by `gongkai demo`. Never use outside a demo.
pub const DEMO_PASSWORD: &str = "Demo-2026-Qinghe";

pub const DEMO_DIVISION: &str = "330199";

/// (username, display name, role, organisation short key or "" for district-wide)
pub const DEMO_USERS: [(&str, &str, Role, &str); 11] = [
    ("sysadmin", "王建国", Role::SysAdmin, ""),
    ("secadmin", "李安", Role::SecAdmin, ""),
    ("auditor", "赵审", Role::AuditAdmin, ""),
    ("editor", "陈编", Role::Editor, "xxzx"),
    ("reviewer", "刘审核", Role::Reviewer, "xxzx"),
    ("handler", "周承办", Role::Handler, "jyj"),
    ("agent", "吴坐席", Role::Agent, "rxzx"),
    ("supervisor", "郑督办", Role::Supervisor, ""),
    ("leader", "孙领导", Role::Leader, ""),
    ("discloser", "钱公开", Role::Discloser, "office"),
    ("discloser2", "冯依申", Role::Discloser, "jyj"),
];

/// (key, parent key, name, short name, kind, 8-char organisation code body)
const DEMO_ORGS: [(&str, &str, &str, &str, &str, &str); 12] = [
    ("gov", "", "青禾区人民政府", "区政府", "government", "00250001"),
    ("office", "gov", "青禾区人民政府办公室", "区府办", "department", "00250002"),
    ("xxzx", "office", "青禾区政务公开和大数据中心", "信息中心", "institution", "MB1A0003"),
    ("fgw", "gov", "青禾区发展和改革局", "区发改局", "department", "00250004"),
    ("jyj", "gov", "青禾区教育局", "区教育局", "department", "00250005"),
    ("czj", "gov", "青禾区财政局", "区财政局", "department", "00250006"),
    ("wjw", "gov", "青禾区卫生健康局", "区卫健局", "department", "00250007"),
    ("zjj", "gov", "青禾区住房和城乡建设局", "区住建局", "department", "00250008"),
    ("rxzx", "office", "青禾区12345政务服务便民热线中心", "热线中心", "institution", "MB1A0009"),
    ("jd1", "gov", "青禾区东湖街道办事处", "东湖街道", "street", "00250010"),
    ("jd2", "gov", "青禾区西岭街道办事处", "西岭街道", "street", "00250011"),
    ("town", "gov", "青禾区石桥镇人民政府", "石桥镇", "street", "00250012"),
];

/// A valid 统一社会信用代码 for a demo body: 机关 (11) + division + organisation code.
fn demo_uscc(kind: &str, body8: &str) -> (String, String) {
    let org_code = format!("{body8}{}", crate::cn::org_code_check_char(body8).unwrap_or('0'));
    let prefix = if kind == "institution" { "12" } else { "11" };
    let first17 = format!("{prefix}{DEMO_DIVISION}{org_code}");
    let uscc = format!("{first17}{}", crate::cn::uscc_check_char(&first17).unwrap_or('0'));
    (uscc, org_code)
}

pub struct DemoInfo {
    pub created: bool,
}

pub async fn seed(db: &Db) -> Result<DemoInfo> {
    {
        let mut h = db.read().await?;
        if crate::org::store::count(&mut h.conn()).await? > 0 {
            return Ok(DemoInfo { created: false });
        }
    }
    let actor = Actor::system("demo");
    let mut ids: Vec<(&str, i64)> = Vec::new();
    for (i, (key, parent, name, short, kind, body)) in DEMO_ORGS.iter().enumerate() {
        let (uscc, _) = demo_uscc(kind, body);
        let parent_id = ids.iter().find(|(k, _)| k == parent).map(|(_, id)| id.to_string()).unwrap_or_default();
        let input = OrgInput {
            parent_id,
            name: name.to_string(),
            short_name: short.to_string(),
            kind: kind.to_string(),
            uscc,
            division_code: DEMO_DIVISION.into(),
            phone: format!("0571-8800{:04}", 1000 + i),
            address: "青禾区人民大道 1 号".into(),
            sort_order: (i as i64 * 10).to_string(),
            ..Default::default()
        };
        let o = org::create_as(db, &actor, &input).await?;
        ids.push((key, o.id));
    }
    // (code, name, kind, 主办 key, hosts, serial, external)
    let sites = [
        ("www", "青禾区人民政府", "portal", "office", "www.qinghe.gov.cn\nlocalhost", "0001", false),
        ("jyj", "青禾区教育局", "department", "jyj", "jyj.qinghe.gov.cn", "0002", false),
        ("yshj", "青禾区优化营商环境专题网", "special", "fgw", "yshj.qinghe.gov.cn", "0003", false),
        ("rmt", "青禾区融媒体中心（外部）", "special", "office", "news.qinghe.example.cn", "0004", true),
    ];
    {
        let mut tx = db.begin().await?;
        let mut c = tx.conn();
        for (code, name, kind, org_key, hosts, serial, external) in sites {
            let org_id = ids.iter().find(|(k, _)| *k == org_key).map(|(_, id)| *id);
            let site_code = format!("{DEMO_DIVISION}{serial}");
            let new = crate::site::store::NewSite {
                code,
                name,
                site_code: &site_code,
                hosts,
                kind,
                org_id,
                icp: "浙ICP备00000000号-1",
                psb: "浙公网安备 33019902000001号",
                phone: "0571-88001000",
                opened_on: Some("2018-03-01"),
                external,
            };
            let id = crate::site::store::insert(&mut c, &new).await?;
            crate::audit::append(
                &mut c,
                &actor,
                "site.create",
                "site",
                id,
                serde_json::json!({ "code": code, "name": name }),
            )
            .await?;
            crate::outbox::emit(&mut c, "site.changed", id, serde_json::json!({ "op": "create" })).await?;
        }
        tx.commit().await?;
    }
    for (username, display, role, org_key) in DEMO_USERS {
        let org_id = ids.iter().find(|(k, _)| *k == org_key).map(|(_, id)| *id);
        let input = auth::UserInput {
            username: username.into(),
            display_name: display.into(),
            org_id: org_id.or_else(|| ids.first().map(|(_, id)| *id)).map(|i| i.to_string()).unwrap_or_default(),
            password: DEMO_PASSWORD.into(),
            version: String::new(),
        };
        let u = auth::create_user(db, None, &actor, &input, false).await?;
        auth::grant(db, None, &actor, u.id, role, org_id, None).await?;
    }
    Ok(DemoInfo { created: true })
}
