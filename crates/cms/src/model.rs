//! Content-model enumerations and seed reference lists.
//!
//! Every enum has a stable ASCII code (stored in the database, used in URLs
//! and forms, identical to its serde form) and a Chinese label for display.
//! Codes must never change once data exists; labels may be reworded.
//!
//! Lists that administrators may extend later (主题分类, 基层政务公开领域,
//! 信息类别) are plain `(code, label)` slices: the product seeds its tables
//! from them and the tables, not these constants, are authoritative afterwards.

/// Declares a code enum: the variant list is written once, so `ALL`, `as_str`,
/// `parse`, `label_zh` and the serde names cannot drift apart. The serde name is
/// set per variant from the same code literal (`rename_all` stays as the house
/// default). `[N]` is checked by the compiler against the variant count.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident [$n:literal] {
            $( $(#[$vmeta:meta])* $var:ident = $code:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $var, )+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: [Self; $n] = [$(Self::$var),+];

            /// Stable storage code.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$var => $code,)+ }
            }

            /// Inverse of [`Self::as_str`]; exact match only (codes are machine data).
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($code => Some(Self::$var),)+ _ => None }
            }

            /// Chinese display label.
            pub fn label_zh(self) -> &'static str {
                match self { $(Self::$var => $label,)+ }
            }
        }
    };
}

code_enum! {
    /// Lifecycle status of a content item; transitions live in `crate::rules`.
    ItemStatus[5] {
        Draft = "draft", "草稿";
        InReview = "in_review", "审核中";
        Scheduled = "scheduled", "待发布";
        Published = "published", "已发布";
        Withdrawn = "withdrawn", "已撤稿";
    }
}

code_enum! {
    /// 效力状态 of a normative document (规范性文件).
    Validity[3] {
        Valid = "valid", "有效";
        Expired = "expired", "失效";
        Repealed = "repealed", "废止";
    }
}

code_enum! {
    /// 公开方式 under 《政府信息公开条例》.
    DisclosureMode[3] {
        Proactive = "proactive", "主动公开";
        OnRequest = "on_request", "依申请公开";
        NotDisclosed = "not_disclosed", "不予公开";
    }
}

code_enum! {
    /// 五公开: 决策、执行、管理、服务、结果公开.
    FiveOpen[5] {
        Decision = "decision", "决策公开";
        Execution = "execution", "执行公开";
        Management = "management", "管理公开";
        Service = "service", "服务公开";
        Result = "result", "结果公开";
    }
}

code_enum! {
    /// The fifteen categories of 《政府信息公开条例》（2019）第二十条 that an
    /// administrative organ shall proactively disclose. Codes carry the item
    /// number so they sort in statutory order.
    Art20[15] {
        Regulations = "a20_01", "行政法规、规章和规范性文件";
        Organization = "a20_02", "机关职能、机构设置、办公地址、办公时间、联系方式、负责人姓名";
        Planning = "a20_03", "国民经济和社会发展规划、专项规划、区域规划及相关政策";
        Statistics = "a20_04", "国民经济和社会发展统计信息";
        Licensing = "a20_05", "办理行政许可和其他对外管理服务事项的依据、条件、程序以及办理结果";
        Enforcement = "a20_06", "实施行政处罚、行政强制的依据、条件、程序以及本行政机关认为具有一定社会影响的行政处罚决定";
        Budget = "a20_07", "财政预算、决算信息";
        Fees = "a20_08", "行政事业性收费项目及其依据、标准";
        Procurement = "a20_09", "政府集中采购项目的目录、标准及实施情况";
        MajorProjects = "a20_10", "重大建设项目的批准和实施情况";
        SocialPolicy = "a20_11", "扶贫、教育、医疗、社会保障、促进就业等方面的政策、措施及其实施情况";
        Emergency = "a20_12", "突发公共事件的应急预案、预警信息及应对情况";
        Supervision = "a20_13", "环境保护、公共卫生、安全生产、食品药品、产品质量的监督检查情况";
        CivilService = "a20_14", "公务员招考的职位、名额、报考条件等事项以及录用结果";
        OtherStatutory = "a20_15", "法律、法规、规章和国家有关规定规定应当主动公开的其他政府信息";
    }
}

/// Chinese numerals for the statute's item numbers （一）…（十五）.
const ART20_NUMERALS: [&str; 15] =
    ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五"];

impl Art20 {
    /// Item number within 第二十条, 1..=15.
    pub fn number(self) -> u8 {
        // ALL is in statutory order, so the position is the item number.
        Self::ALL.iter().position(|&a| a == self).map_or(0, |i| i as u8 + 1)
    }

    /// Label as the statute prints it, e.g. "（一）行政法规、规章和规范性文件".
    pub fn label_with_number(self) -> String {
        let numeral = ART20_NUMERALS.get(usize::from(self.number()).wrapping_sub(1)).copied().unwrap_or("");
        format!("（{numeral}）{}", self.label_zh())
    }
}

code_enum! {
    /// What a column (栏目) holds.
    ColumnKind[4] {
        List = "list", "信息列表";
        Page = "page", "单页";
        Link = "link", "外部链接";
        Disclosure = "disclosure", "信息公开栏目";
    }
}

code_enum! {
    /// Column class for update-frequency inspections (政府网站检查指标).
    ColumnClass[6] {
        News = "news", "动态/要闻";
        Notice = "notice", "通知公告";
        Policy = "policy", "政策文件";
        Overview = "overview", "概况";
        Interaction = "interaction", "互动";
        Other = "other", "其他";
    }
}

impl ColumnClass {
    /// Longest gap between updates before the national inspection rules deduct
    /// points: 动态要闻 2 weeks, 通知公告/政策文件 6 months, 概况 yearly. Columns
    /// without a statutory rhythm (互动, 其他) are not checked.
    pub fn default_update_days(self) -> Option<u32> {
        match self {
            Self::News => Some(14),
            Self::Notice | Self::Policy => Some(180),
            Self::Overview => Some(365),
            Self::Interaction | Self::Other => None,
        }
    }
}

code_enum! {
    /// 政策解读形式.
    InterpretationForm[6] {
        Text = "text", "文字解读";
        Graphic = "graphic", "图解";
        Media = "media", "音视频";
        PressConference = "press_conference", "新闻发布会";
        Commentary = "commentary", "媒体评论";
        Other = "other", "其他";
    }
}

code_enum! {
    /// 体裁分类: the 15 公文种类 of 《党政机关公文处理工作条例》第八条, plus 其他.
    Genre[16] {
        Resolution = "resolution", "决议";
        Decision = "decision", "决定";
        Order = "order", "命令（令）";
        Communique = "communique", "公报";
        Announcement = "announcement", "公告";
        PublicNotice = "public_notice", "通告";
        Opinion = "opinion", "意见";
        Notice = "notice", "通知";
        Circular = "circular", "通报";
        Report = "report", "报告";
        Request = "request", "请示";
        Reply = "reply", "批复";
        Motion = "motion", "议案";
        Letter = "letter", "函";
        Minutes = "minutes", "纪要";
        Other = "other", "其他";
    }
}

code_enum! {
    /// 公开渠道和载体 as used in the 基层政务公开标准目录.
    Channel[13] {
        Website = "website", "政府网站";
        Gazette = "gazette", "政府公报";
        NewMedia = "new_media", "两微一端";
        PressHearing = "press_hearing", "发布会/听证会";
        Broadcast = "broadcast", "广播电视";
        Print = "print", "纸质媒体";
        ReadingPoint = "reading_point", "公开查阅点";
        ServiceCenter = "service_center", "政务服务中心";
        ServiceStation = "service_station", "便民服务站";
        OnSite = "on_site", "入户/现场";
        BulletinBoard = "bulletin_board", "社区/企事业单位/村公示栏（电子屏）";
        TargetedPush = "targeted_push", "精准推送";
        Other = "other", "其他";
    }
}

/// 国务院公文主题分类, top level (seed data; editable later).
pub const SUBJECTS: &[(&str, &str)] = &[
    ("s01", "综合政务"),
    ("s02", "国民经济管理、国有资产监管"),
    ("s03", "财政、金融、审计"),
    ("s04", "国土资源、能源"),
    ("s05", "农业、林业、水利"),
    ("s06", "工业、交通"),
    ("s07", "商贸、海关、旅游"),
    ("s08", "市场监管、安全生产监管"),
    ("s09", "城乡建设、环境保护"),
    ("s10", "科技、教育"),
    ("s11", "文化、广电、新闻出版"),
    ("s12", "卫生、体育"),
    ("s13", "人口与计划生育、妇女儿童工作"),
    ("s14", "劳动、人事、监察"),
    ("s15", "公安、安全、司法"),
    ("s16", "民政、扶贫、救灾"),
    ("s17", "民族、宗教"),
    ("s18", "对外事务"),
    ("s19", "港澳台侨工作"),
    ("s20", "国防"),
    ("s21", "其他"),
];

/// The 26 基层政务公开标准化规范化 pilot domains (seed data; editable later).
pub const DOMAINS: &[(&str, &str)] = &[
    ("d01", "城乡规划"),
    ("d02", "重大建设项目"),
    ("d03", "公共资源交易"),
    ("d04", "财政预决算"),
    ("d05", "安全生产"),
    ("d06", "税收管理"),
    ("d07", "征地补偿"),
    ("d08", "国有土地上房屋征收与补偿"),
    ("d09", "环境保护"),
    ("d10", "公共文化服务"),
    ("d11", "扶贫"),
    ("d12", "救灾"),
    ("d13", "社会救助"),
    ("d14", "养老服务"),
    ("d15", "户籍管理"),
    ("d16", "涉农补贴"),
    ("d17", "义务教育"),
    ("d18", "医疗卫生"),
    ("d19", "市政服务"),
    ("d20", "就业"),
    ("d21", "社会保险"),
    ("d22", "农村危房改造"),
    ("d23", "保障性住房"),
    ("d24", "食品药品监管"),
    ("d25", "城市综合执法"),
    ("d26", "公共法律服务"),
];

/// Default information classes (信息类别) of a disclosure platform (seed data).
pub const ITEM_CLASSES: &[(&str, &str)] = &[
    ("guide", "政府信息公开指南"),
    ("system", "政府信息公开制度"),
    ("annual_report", "政府信息公开年报"),
    ("news", "政务动态"),
    ("notice", "通知公告"),
    ("policy", "政策文件"),
    ("personnel", "人事信息"),
    ("budget", "财政预决算"),
    ("project", "重点项目"),
    ("procurement", "政府采购"),
    ("interpretation", "政策解读"),
    ("other", "其他"),
];

#[cfg(test)]
#[allow(clippy::type_complexity)] // test tables are tuples of slices by design
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Codes are stored and appear in URLs: lowercase ASCII, digits, underscore.
    fn is_code(s: &str) -> bool {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }

    /// Runs the shared contract over one enum: unique codes and labels, parse
    /// round trip, serde name == code, unknown and near-miss codes rejected.
    macro_rules! check_enum {
        ($t:ty, $expected:expr) => {{
            let expected: &[(&str, &str)] = $expected;
            assert_eq!(<$t>::ALL.len(), expected.len(), stringify!($t));
            for (v, &(code, label)) in <$t>::ALL.iter().zip(expected) {
                assert_eq!(v.as_str(), code, "{v:?}");
                assert_eq!(v.label_zh(), label, "{v:?}");
                assert!(is_code(code), "{code}");
                assert_eq!(<$t>::parse(code), Some(*v));
                assert_eq!(<$t>::parse(&code.to_uppercase()), None, "{code}");
                assert_eq!(<$t>::parse(&format!(" {code}")), None, "{code}");
                assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{code}\""));
                assert_eq!(serde_json::from_str::<$t>(&format!("\"{code}\"")).unwrap(), *v);
            }
            let codes: HashSet<_> = <$t>::ALL.iter().map(|v| v.as_str()).collect();
            let labels: HashSet<_> = <$t>::ALL.iter().map(|v| v.label_zh()).collect();
            assert_eq!(codes.len(), expected.len(), "duplicate code in {}", stringify!($t));
            assert_eq!(labels.len(), expected.len(), "duplicate label in {}", stringify!($t));
            for bad in ["", "x", "草稿", "\u{0}"] {
                assert_eq!(<$t>::parse(bad), None);
            }
            assert!(serde_json::from_str::<$t>("\"no_such_code\"").is_err());
        }};
    }

    #[test]
    fn item_status() {
        check_enum!(
            ItemStatus,
            &[
                ("draft", "草稿"),
                ("in_review", "审核中"),
                ("scheduled", "待发布"),
                ("published", "已发布"),
                ("withdrawn", "已撤稿")
            ]
        );
    }

    #[test]
    fn small_enums() {
        check_enum!(Validity, &[("valid", "有效"), ("expired", "失效"), ("repealed", "废止")]);
        check_enum!(
            DisclosureMode,
            &[("proactive", "主动公开"), ("on_request", "依申请公开"), ("not_disclosed", "不予公开")]
        );
        check_enum!(
            FiveOpen,
            &[
                ("decision", "决策公开"),
                ("execution", "执行公开"),
                ("management", "管理公开"),
                ("service", "服务公开"),
                ("result", "结果公开")
            ]
        );
        check_enum!(
            ColumnKind,
            &[("list", "信息列表"), ("page", "单页"), ("link", "外部链接"), ("disclosure", "信息公开栏目")]
        );
        check_enum!(
            InterpretationForm,
            &[
                ("text", "文字解读"),
                ("graphic", "图解"),
                ("media", "音视频"),
                ("press_conference", "新闻发布会"),
                ("commentary", "媒体评论"),
                ("other", "其他")
            ]
        );
    }

    #[test]
    fn art20_codes_numbers_and_labels() {
        check_enum!(
            Art20,
            &[
                ("a20_01", "行政法规、规章和规范性文件"),
                ("a20_02", "机关职能、机构设置、办公地址、办公时间、联系方式、负责人姓名"),
                ("a20_03", "国民经济和社会发展规划、专项规划、区域规划及相关政策"),
                ("a20_04", "国民经济和社会发展统计信息"),
                ("a20_05", "办理行政许可和其他对外管理服务事项的依据、条件、程序以及办理结果"),
                ("a20_06", "实施行政处罚、行政强制的依据、条件、程序以及本行政机关认为具有一定社会影响的行政处罚决定"),
                ("a20_07", "财政预算、决算信息"),
                ("a20_08", "行政事业性收费项目及其依据、标准"),
                ("a20_09", "政府集中采购项目的目录、标准及实施情况"),
                ("a20_10", "重大建设项目的批准和实施情况"),
                ("a20_11", "扶贫、教育、医疗、社会保障、促进就业等方面的政策、措施及其实施情况"),
                ("a20_12", "突发公共事件的应急预案、预警信息及应对情况"),
                ("a20_13", "环境保护、公共卫生、安全生产、食品药品、产品质量的监督检查情况"),
                ("a20_14", "公务员招考的职位、名额、报考条件等事项以及录用结果"),
                ("a20_15", "法律、法规、规章和国家有关规定规定应当主动公开的其他政府信息")
            ]
        );
        for (i, a) in Art20::ALL.iter().enumerate() {
            assert_eq!(usize::from(a.number()), i + 1);
            assert_eq!(a.as_str(), format!("a20_{:02}", i + 1));
        }
        let numbered: &[(Art20, &str)] = &[
            (Art20::Regulations, "（一）行政法规、规章和规范性文件"),
            (Art20::Fees, "（八）行政事业性收费项目及其依据、标准"),
            (Art20::MajorProjects, "（十）重大建设项目的批准和实施情况"),
            (Art20::Emergency, "（十二）突发公共事件的应急预案、预警信息及应对情况"),
            (Art20::OtherStatutory, "（十五）法律、法规、规章和国家有关规定规定应当主动公开的其他政府信息"),
        ];
        for &(a, want) in numbered {
            assert_eq!(a.label_with_number(), want);
        }
    }

    #[test]
    fn column_class_update_days() {
        check_enum!(
            ColumnClass,
            &[
                ("news", "动态/要闻"),
                ("notice", "通知公告"),
                ("policy", "政策文件"),
                ("overview", "概况"),
                ("interaction", "互动"),
                ("other", "其他")
            ]
        );
        let days: &[(ColumnClass, Option<u32>)] = &[
            (ColumnClass::News, Some(14)),
            (ColumnClass::Notice, Some(180)),
            (ColumnClass::Policy, Some(180)),
            (ColumnClass::Overview, Some(365)),
            (ColumnClass::Interaction, None),
            (ColumnClass::Other, None),
        ];
        assert_eq!(days.len(), ColumnClass::ALL.len());
        for &(c, want) in days {
            assert_eq!(c.default_update_days(), want, "{c:?}");
        }
    }

    #[test]
    fn genre_is_the_fifteen_document_kinds_plus_other() {
        check_enum!(
            Genre,
            &[
                ("resolution", "决议"),
                ("decision", "决定"),
                ("order", "命令（令）"),
                ("communique", "公报"),
                ("announcement", "公告"),
                ("public_notice", "通告"),
                ("opinion", "意见"),
                ("notice", "通知"),
                ("circular", "通报"),
                ("report", "报告"),
                ("request", "请示"),
                ("reply", "批复"),
                ("motion", "议案"),
                ("letter", "函"),
                ("minutes", "纪要"),
                ("other", "其他")
            ]
        );
    }

    #[test]
    fn channel() {
        check_enum!(
            Channel,
            &[
                ("website", "政府网站"),
                ("gazette", "政府公报"),
                ("new_media", "两微一端"),
                ("press_hearing", "发布会/听证会"),
                ("broadcast", "广播电视"),
                ("print", "纸质媒体"),
                ("reading_point", "公开查阅点"),
                ("service_center", "政务服务中心"),
                ("service_station", "便民服务站"),
                ("on_site", "入户/现场"),
                ("bulletin_board", "社区/企事业单位/村公示栏（电子屏）"),
                ("targeted_push", "精准推送"),
                ("other", "其他")
            ]
        );
    }

    /// Seed lists: expected size, unique codes and labels, and the code pattern.
    #[test]
    fn reference_lists() {
        let lists: &[(&str, &[(&str, &str)], usize, Option<char>)] = &[
            ("SUBJECTS", SUBJECTS, 21, Some('s')),
            ("DOMAINS", DOMAINS, 26, Some('d')),
            ("ITEM_CLASSES", ITEM_CLASSES, 12, None),
        ];
        for &(name, list, len, prefix) in lists {
            assert_eq!(list.len(), len, "{name}");
            let codes: HashSet<_> = list.iter().map(|p| p.0).collect();
            let labels: HashSet<_> = list.iter().map(|p| p.1).collect();
            assert_eq!(codes.len(), len, "{name} codes");
            assert_eq!(labels.len(), len, "{name} labels");
            for (i, &(code, label)) in list.iter().enumerate() {
                assert!(is_code(code), "{name} {code}");
                assert!(!label.trim().is_empty(), "{name} {code}");
                if let Some(p) = prefix {
                    assert_eq!(code, format!("{p}{:02}", i + 1), "{name}");
                }
            }
        }
        let spot: &[(&[(&str, &str)], &str, &str)] = &[
            (SUBJECTS, "s01", "综合政务"),
            (SUBJECTS, "s13", "人口与计划生育、妇女儿童工作"),
            (SUBJECTS, "s21", "其他"),
            (DOMAINS, "d08", "国有土地上房屋征收与补偿"),
            (DOMAINS, "d26", "公共法律服务"),
            (ITEM_CLASSES, "annual_report", "政府信息公开年报"),
            (ITEM_CLASSES, "interpretation", "政策解读"),
        ];
        for &(list, code, label) in spot {
            assert_eq!(list.iter().find(|p| p.0 == code).map(|p| p.1), Some(label), "{code}");
        }
    }
}
