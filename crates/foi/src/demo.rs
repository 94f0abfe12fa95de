//! Demo disclosure requests for `gongkai demo`: two years of requests through every
//! channel, state and outcome, including requests carried over from one year into the
//! next, with letters, a released file, reviews and litigation. Every request goes
//! through the same service functions staff use, so its clock and timeline are real.
//! Idempotent: a database that already has requests is left as it is.

use time::{Date, Duration};

use gongkai_kernel::auth::Principal;
use gongkai_kernel::calendar::rules::format_date;
use gongkai_kernel::db::Db;
use gongkai_kernel::error::{Error, Result};
use gongkai_kernel::with_conn;

use crate::model::*;
use crate::service::{self, ApplicationForm, DecisionForm, DeliveryForm, EvidenceForm, ReviewForm};

const IP: &str = "demo";

/// Valid identity numbers and credit codes (check characters computed, not real people).
const PEOPLE: [(&str, &str); 6] = [
    ("张明", "11010519491231002X"),
    ("李秀英", "330106198503124520"),
    ("王建华", "330102197001015375"),
    ("刘洋", "330105199208084413"),
    ("陈静", "33010619880215202X"),
    ("杨帆", "330108199512300036"),
];
const ORGS: [(ApplicantKind, &str, &str); 5] = [
    (ApplicantKind::Business, "杭州青禾建设工程有限公司", "91330106MA27XK9L03"),
    (ApplicantKind::Research, "青禾区城市发展研究院", "12330106470000013B"),
    (ApplicantKind::PublicInterest, "青禾区绿水环保公益服务中心", "52330106MJ9000014R"),
    (ApplicantKind::LegalService, "浙江青禾律师事务所", "313300007252224522"),
    (ApplicantKind::OtherOrg, "青禾区东湖社区居民委员会", "55330106C00000008Q"),
];
const TITLES: [&str; 12] = [
    "东湖路拓宽工程征收补偿方案",
    "2024年度区级部门预算执行情况",
    "青禾区义务教育阶段学校招生划片方案",
    "西岭街道老旧小区改造项目批复文件",
    "区卫生健康局行政处罚决定书",
    "2025年区政府常务会议纪要",
    "青禾大道环境影响评价报告",
    "区属国有企业负责人薪酬情况",
    "保障性住房分配名单及审核依据",
    "东湖公园提升工程招标文件",
    "区教育局学校校舍安全检查报告",
    "城市道路占用挖掘许可办理情况",
];

/// What happens to a demo request after it arrives.
#[derive(Clone, Copy)]
enum Plan {
    Pending,
    Open,
    Correction,
    Consultation,
    Fee,
    Decide(Answer, Option<Ground>),
    /// A correction, then the deadline passes without one.
    NoCorrection,
    /// A fee notice, then the payment period passes.
    NoPayment,
    /// Corrected, consulted, extended, then decided.
    Full(Answer, Option<Ground>),
}

fn cleanup_err(e: Error) -> Error {
    match e {
        Error::Invalid(f) => Error::Internal(format!("demo data invalid: {:?}", f.0)),
        other => other,
    }
}

async fn user_principal(db: &Db, username: &str) -> Result<Option<Principal>> {
    let id: Option<i64> = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        with_conn!(&mut c, x => {
            sqlx::query_scalar("SELECT id FROM users WHERE username = $1").bind(username).fetch_optional(&mut **x).await
        })?
    };
    match id {
        Some(id) => Ok(Some(gongkai_kernel::auth::service::principal_of(db, id).await?)),
        None => Ok(None),
    }
}

fn d(s: Date) -> String {
    format_date(s)
}

/// Seed the demo requests; returns whether anything was created.
pub async fn seed(db: &Db, today: Date) -> Result<bool> {
    let existing: i64 = {
        let mut h = db.read().await?;
        let mut c = h.conn();
        with_conn!(&mut c, x => { sqlx::query_scalar("SELECT COUNT(*) FROM foi_requests").fetch_one(&mut **x).await })?
    };
    if existing > 0 {
        return Ok(false);
    }
    let (Some(office), Some(jyj)) = (user_principal(db, "discloser").await?, user_principal(db, "discloser2").await?)
    else {
        return Ok(false);
    };
    let cal = gongkai_kernel::calendar::service::load(db).await?;
    let year = today.year();
    let mut plans: Vec<(Date, Plan)> = Vec::new();
    // Last year: every outcome, spread over the months; the last ones carried into this year.
    let decisions: Vec<(Answer, Option<Ground>)> = Answer::ALL
        .iter()
        .filter(|a| !matches!(a, Answer::NoCorrection | Answer::NoPayment))
        .flat_map(|a| {
            if a.needs_ground() {
                if *a == Answer::Withhold {
                    Ground::ALL.iter().map(|g| (*a, Some(*g))).collect::<Vec<_>>()
                } else {
                    vec![(*a, Some(Ground::ThirdParty))]
                }
            } else {
                vec![(*a, None)]
            }
        })
        .collect();
    let start_last = Date::from_calendar_date(year - 1, time::Month::January, 6).map_err(Error::internal)?;
    for (i, (a, g)) in decisions.iter().enumerate() {
        let received = start_last + Duration::days(i as i64 * 15);
        plans.push((received, if i % 5 == 2 { Plan::Full(*a, *g) } else { Plan::Decide(*a, *g) }));
    }
    plans.push((start_last + Duration::days(120), Plan::NoCorrection));
    plans.push((start_last + Duration::days(200), Plan::NoPayment));
    // Received in late December, answered in January: carried over into this year.
    let december = Date::from_calendar_date(year - 1, time::Month::December, 15).map_err(Error::internal)?;
    plans.push((december, Plan::Decide(Answer::Disclose, None)));
    plans.push((december + Duration::days(7), Plan::Decide(Answer::NotHeld, None)));
    plans.push((december + Duration::days(9), Plan::Full(Answer::Withhold, Some(Ground::ThirdParty))));
    // This year: the common outcomes again, and requests open in every state.
    let start_this = Date::from_calendar_date(year, time::Month::January, 5).map_err(Error::internal)?;
    let common = [
        (Answer::Disclose, None),
        (Answer::AlreadyPublic, None),
        (Answer::Partial, Some(Ground::Process)),
        (Answer::NotHeld, None),
        (Answer::Withhold, Some(Ground::ThirdParty)),
        (Answer::Repeat, None),
        (Answer::Disclose, None),
        (Answer::NotThisAgency, None),
    ];
    for (i, (a, g)) in common.iter().enumerate() {
        plans.push((start_this + Duration::days(i as i64 * 28), Plan::Decide(*a, *g)));
    }
    let recent = |n: i64| cal.add_working_days(today - Duration::days(n), 0);
    plans.push((recent(40), Plan::Open)); // overdue by now
    plans.push((recent(12), Plan::Open));
    plans.push((recent(3), Plan::Open));
    plans.push((recent(6), Plan::Correction));
    plans.push((recent(9), Plan::Consultation));
    plans.push((recent(8), Plan::Fee));
    plans.push((recent(2), Plan::Pending));
    plans.push((recent(1), Plan::Pending));

    for (i, (received, plan)) in plans.into_iter().enumerate() {
        let received = if cal.is_working_day(received) { received } else { cal.add_working_days(received, 1) };
        if received > today {
            continue;
        }
        let (who, org_id) = if i % 3 == 1 { (&jyj, jyj.org_id) } else { (&office, office.org_id) };
        let mut form = ApplicationForm {
            org_id: org_id.map(|o| o.to_string()).unwrap_or_default(),
            info_title: TITLES[i % TITLES.len()].into(),
            info_description: "请提供该文件的全文。".into(),
            form_wanted: if i % 2 == 0 { "paper".into() } else { "email".into() },
            delivery: if i % 2 == 0 { "post".into() } else { "email".into() },
            phone: format!("1381234{:04}", 1000 + i),
            email: format!("applicant{i}@example.cn"),
            address: "青禾区东湖路1号".into(),
            postcode: "310000".into(),
            ..Default::default()
        };
        if i % 4 == 3 {
            let (kind, name, uscc) = ORGS[i % ORGS.len()];
            form.applicant_kind = kind.as_str().into();
            form.applicant_name = name.into();
            form.uscc = uscc.into();
            form.legal_rep = "周经理".into();
        } else {
            let (name, id) = PEOPLE[i % PEOPLE.len()];
            form.applicant_kind = "natural".into();
            form.applicant_name = name.into();
            form.id_type = "id_card".into();
            form.id_number = id.into();
        }
        let channels =
            [Channel::InPerson, Channel::RegisteredMail, Channel::Email, Channel::Fax, Channel::OrdinaryMail];
        let channel = channels[i % channels.len()];
        let ev = match channel {
            Channel::InPerson => {
                EvidenceForm { channel: "in_person".into(), submitted_on: d(received), ..Default::default() }
            }
            Channel::RegisteredMail => EvidenceForm {
                channel: "registered_mail".into(),
                sent_on: d(received - Duration::days(2)),
                signed_on: d(received),
                ..Default::default()
            },
            Channel::Email => {
                EvidenceForm { channel: "email".into(), email_received_on: d(received), ..Default::default() }
            }
            Channel::Fax => EvidenceForm {
                channel: "fax".into(),
                sent_on: d(received),
                confirmed_on: d(received),
                ..Default::default()
            },
            _ => EvidenceForm {
                channel: "ordinary_mail".into(),
                arrived_on: d(received),
                confirmed_on: d(received),
                ..Default::default()
            },
        };
        if let Plan::Pending = plan {
            let key = format!("demo-online-request-{i:04}");
            service::submit_online(db, &form, &key, &format!("DEMO{i:04}"), IP).await.map_err(cleanup_err)?;
            continue;
        }
        let (r, _) = service::register(db, who, IP, &form, &ev).await.map_err(cleanup_err)?;
        let id = r.id;
        let wd = |n: u32| cal.add_working_days(received, n);
        let decide = |a: Answer, g: Option<Ground>, on: Date| DecisionForm {
            answer: a.as_str().into(),
            ground: g.map(|g| g.as_str().into()).unwrap_or_default(),
            reason: match a {
                Answer::AlreadyPublic => "可在青禾区人民政府门户网站“政府信息公开”栏目查阅。".into(),
                Answer::Disclose => String::new(),
                _ => "经审查，依法作出上述处理。".into(),
            },
            withheld: if a == Answer::Partial { "涉及个人信息的第3至5页".into() } else { String::new() },
            decided_on: d(on),
        };
        match plan {
            Plan::Pending => {}
            Plan::Open => {}
            Plan::Correction => {
                let sent = wd(2).min(today);
                let f = service::CorrectionForm {
                    items: "1. 所需信息的名称或文号；2. 所需信息的形成时间。".into(),
                    sent_on: d(sent),
                    deadline: d(cal.add_working_days(sent, 15)),
                };
                service::send_correction(db, who, IP, id, &f).await.map_err(cleanup_err)?;
            }
            Plan::Consultation => {
                service::start_consultation(db, who, IP, id, "杭州青禾建设工程有限公司", &d(wd(3).min(today)))
                    .await
                    .map_err(cleanup_err)?;
            }
            Plan::Fee => {
                service::fee_notice(db, who, IP, id, "per_page", "160", &d(wd(4).min(today)))
                    .await
                    .map_err(cleanup_err)?;
            }
            Plan::NoCorrection => {
                let sent = wd(3);
                let deadline = cal.add_working_days(sent, 10);
                let f = service::CorrectionForm {
                    items: "请写明所需信息的名称、文号或者特征描述。".into(),
                    sent_on: d(sent),
                    deadline: d(deadline),
                };
                service::send_correction(db, who, IP, id, &f).await.map_err(cleanup_err)?;
                let on = cal.add_working_days(deadline, 1);
                let mut f = decide(Answer::NoCorrection, None, on);
                f.reason = format!("申请人未在补正期限（{}）内补正，视为放弃申请。", d(deadline));
                service::decide(db, who, IP, id, &f).await.map_err(cleanup_err)?;
                service::issue_letter(db, who, IP, id).await.map_err(cleanup_err)?;
            }
            Plan::NoPayment => {
                let on = wd(5);
                service::fee_notice(db, who, IP, id, "per_page", "240", &d(on)).await.map_err(cleanup_err)?;
                let lapsed = cal.add_working_days(service_fee_deadline(&cal, on), 1);
                let mut f = decide(Answer::NoPayment, None, lapsed);
                f.reason = "申请人逾期未缴纳信息处理费，视为放弃申请。".into();
                service::decide(db, who, IP, id, &f).await.map_err(cleanup_err)?;
                service::issue_letter(db, who, IP, id).await.map_err(cleanup_err)?;
            }
            Plan::Decide(a, g) | Plan::Full(a, g) => {
                let mut on = wd(12 + (i as u32 % 7));
                if let Plan::Full(..) = plan {
                    let sent = wd(3);
                    let f = service::CorrectionForm {
                        items: "请补充所需信息的形成时间。".into(),
                        sent_on: d(sent),
                        deadline: d(cal.add_working_days(sent, 10)),
                    };
                    service::send_correction(db, who, IP, id, &f).await.map_err(cleanup_err)?;
                    let back = cal.add_working_days(sent, 4);
                    service::receive_correction(db, who, IP, id, &d(back)).await.map_err(cleanup_err)?;
                    let from = cal.add_working_days(back, 2);
                    service::start_consultation(db, who, IP, id, "相关第三方企业", &d(from))
                        .await
                        .map_err(cleanup_err)?;
                    let end = cal.add_working_days(from, 8);
                    service::end_consultation(db, who, IP, id, &d(end), "不同意公开其商业信息")
                        .await
                        .map_err(cleanup_err)?;
                    let ext = service::ExtensionForm {
                        days: "15".into(),
                        approver: "区政府办公室副主任 赵明".into(),
                        approved_on: d(cal.add_working_days(end, 1)),
                        notified_on: d(cal.add_working_days(end, 1)),
                        reason: "需要调取多个年度的档案".into(),
                    };
                    service::extend(db, who, IP, id, &ext).await.map_err(cleanup_err)?;
                    on = cal.add_working_days(end, 20);
                }
                if on > today {
                    // Still within its time: stays open (carried into next year's statistics).
                    continue;
                }
                service::decide(db, who, IP, id, &decide(a, g, on)).await.map_err(cleanup_err)?;
                service::issue_letter(db, who, IP, id).await.map_err(cleanup_err)?;
                let delivered = cal.add_working_days(on, 2).min(today);
                service::deliver(
                    db,
                    who,
                    IP,
                    id,
                    &DeliveryForm {
                        delivered_on: d(delivered),
                        method: if i % 2 == 0 { "邮寄（EMS）".into() } else { "电子邮件".into() },
                        reference: if i % 2 == 0 { format!("EA{:09}CN", 100_000 + i) } else { String::new() },
                    },
                )
                .await
                .map_err(cleanup_err)?;
                if matches!(a, Answer::Disclose | Answer::Partial) {
                    let text = format!(
                        "{}（依申请提供）\n\n本文件由青禾区人民政府办公室依申请提供。\n",
                        TITLES[i % TITLES.len()]
                    );
                    service::add_file(db, who, IP, id, "提供的信息.txt", text.into_bytes())
                        .await
                        .map_err(cleanup_err)?;
                }
                // Reviews and litigation on some refusals.
                if matches!(a, Answer::Withhold | Answer::NotHeld) && on.year() < year {
                    let kinds = [
                        ("review", "青禾区人民政府", "upheld"),
                        ("litigation_direct", "青禾区人民法院", "pending"),
                        ("litigation_after_review", "杭州市中级人民法院", "corrected"),
                    ];
                    let (kind, body, result) = kinds[i % kinds.len()];
                    let filed = cal.add_working_days(delivered, 20).min(today);
                    let concluded =
                        if result == "pending" { String::new() } else { d(cal.add_working_days(filed, 40).min(today)) };
                    let f = ReviewForm {
                        kind: kind.into(),
                        filed_on: d(filed),
                        body: body.into(),
                        result: result.into(),
                        concluded_on: concluded,
                        note: String::new(),
                    };
                    service::add_review(db, who, IP, id, &f).await.map_err(cleanup_err)?;
                }
            }
        }
    }
    Ok(true)
}

fn service_fee_deadline(cal: &gongkai_kernel::calendar::rules::Calendar, on: Date) -> Date {
    crate::rules::fee_payment_deadline(cal, on)
}
