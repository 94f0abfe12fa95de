//! The words of a disclosure request (依申请公开): channels, applicant classes, the Art. 36
//! answer types and the 21 outcome leaves of the annual report's table 三 (国办公开办函〔2021〕30号).

use gongkai_kernel::words;

words! {
    /// How the request reached the agency; decides the receipt rule (Art. 31, 国办公开办函〔2015〕207号).
    Channel {
        Online = "online": "网上申请",
        InPerson = "in_person": "当面提交",
        RegisteredMail = "registered_mail": "挂号信/快递（需签收）",
        OrdinaryMail = "ordinary_mail": "平信",
        Fax = "fax": "传真",
        Email = "email": "电子邮件",
        Other = "other": "其他渠道",
    }
}

words! {
    /// The six applicant columns of table 三.
    ApplicantKind {
        Natural = "natural": "自然人",
        Business = "business": "商业企业",
        Research = "research": "科研机构",
        PublicInterest = "public_interest": "社会公益组织",
        LegalService = "legal_service": "法律服务机构",
        OtherOrg = "other_org": "其他",
    }
}

impl ApplicantKind {
    pub fn is_natural(self) -> bool {
        self == ApplicantKind::Natural
    }
}

words! {
    IdType {
        IdCard = "id_card": "居民身份证",
        Passport = "passport": "护照",
        HkMacao = "hk_macao": "港澳居民来往内地通行证",
        Taiwan = "taiwan": "台湾居民来往大陆通行证",
        Other = "other": "其他证件",
    }
}

words! {
    /// 所需信息的提供形式.
    FormWanted {
        Paper = "paper": "纸质",
        Email = "email": "电子邮件",
        Disc = "disc": "光盘",
        Other = "other": "其他",
    }
}

words! {
    /// 获取信息的方式.
    Delivery {
        Post = "post": "邮寄",
        Pickup = "pickup": "自行领取",
        Email = "email": "电子邮件",
        Online = "online": "网上获取",
    }
}

words! {
    /// Where a request stands. Lateness is computed from the clock, never stored as a state.
    RequestState {
        Pending = "pending": "待确认收到",
        Open = "open": "办理中",
        Correction = "correction": "待补正",
        Consultation = "consultation": "征询意见中",
        Fee = "fee": "待缴费",
        Decided = "decided": "已答复",
    }
}

impl RequestState {
    pub fn is_open(self) -> bool {
        self != RequestState::Decided
    }
}

words! {
    /// 不予公开 grounds: table 三 rows （三）1–8.
    Ground {
        StateSecret = "state_secret": "属于国家秘密",
        LawForbids = "law_forbids": "其他法律行政法规禁止公开",
        Security = "security": "危及“三安全一稳定”",
        ThirdParty = "third_party": "保护第三方合法权益",
        Internal = "internal": "属于三类内部事务信息",
        Process = "process": "属于四类过程性信息",
        EnforcementFile = "enforcement_file": "属于行政执法案卷",
        Query = "query": "属于行政查询事项",
    }
}

impl Ground {
    /// The article that carries the ground.
    pub fn basis(self) -> &'static str {
        match self {
            Ground::StateSecret | Ground::LawForbids | Ground::Security => "第十四条",
            Ground::ThirdParty => "第十五条",
            Ground::Internal | Ground::Process | Ground::EnforcementFile => "第十六条",
            Ground::Query => "第三十六条第（七）项",
        }
    }
}

words! {
    /// How staff answer, in the terms of Art. 36–39 and the report's 不予处理/其他处理 rows.
    /// The report category follows from the answer (and the ground, for 不予公开 and 部分公开).
    Answer {
        AlreadyPublic = "already_public": "已主动公开，告知获取方式和途径",
        Disclose = "disclose": "予以公开",
        Partial = "partial": "部分公开（区分处理）",
        Withhold = "withhold": "不予公开",
        NotHeld = "not_held": "经检索没有所申请的信息（本机关不掌握）",
        NotThisAgency = "not_this_agency": "不属于本机关负责公开",
        NeedsCreation = "needs_creation": "没有现成信息，需要另行制作",
        StillUnclear = "still_unclear": "补正后申请内容仍不明确",
        Petition = "petition": "属于信访、举报、投诉类申请",
        Repeat = "repeat": "重复申请",
        Publication = "publication": "要求提供公开出版物",
        Excessive = "excessive": "无正当理由大量、频繁申请",
        Reissue = "reissue": "要求确认或重新出具已获取的信息",
        NoCorrection = "no_correction": "逾期不补正，不再处理",
        NoPayment = "no_payment": "逾期未缴纳信息处理费，不再处理",
        OtherHandling = "other_handling": "其他处理",
    }
}

words! {
    /// The 21 outcome leaves of table 三, in the table's row order.
    Outcome {
        Disclosed = "1": "（一）予以公开",
        Partial = "2": "（二）部分公开",
        WithholdStateSecret = "3.1": "（三）1.属于国家秘密",
        WithholdLawForbids = "3.2": "（三）2.其他法律行政法规禁止公开",
        WithholdSecurity = "3.3": "（三）3.危及“三安全一稳定”",
        WithholdThirdParty = "3.4": "（三）4.保护第三方合法权益",
        WithholdInternal = "3.5": "（三）5.属于三类内部事务信息",
        WithholdProcess = "3.6": "（三）6.属于四类过程性信息",
        WithholdEnforcementFile = "3.7": "（三）7.属于行政执法案卷",
        WithholdQuery = "3.8": "（三）8.属于行政查询事项",
        NotHeld = "4.1": "（四）1.本机关不掌握相关政府信息",
        NeedsCreation = "4.2": "（四）2.没有现成信息需要另行制作",
        StillUnclear = "4.3": "（四）3.补正后申请内容仍不明确",
        Petition = "5.1": "（五）1.信访举报投诉类申请",
        Repeat = "5.2": "（五）2.重复申请",
        Publication = "5.3": "（五）3.要求提供公开出版物",
        Excessive = "5.4": "（五）4.无正当理由大量反复申请",
        Reissue = "5.5": "（五）5.要求行政机关确认或重新出具已获取信息",
        NoCorrection = "6.1": "（六）1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        NoPayment = "6.2": "（六）2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        Other = "6.3": "（六）3.其他",
    }
}

impl Outcome {
    /// The table's block: 1 予以公开 … 6 其他处理.
    pub fn group(self) -> u8 {
        self.as_str().as_bytes()[0] - b'0'
    }
}

impl Answer {
    /// Whether the answer needs a 不予公开 ground (the withheld part's, for 部分公开).
    pub fn needs_ground(self) -> bool {
        matches!(self, Answer::Withhold | Answer::Partial)
    }

    /// The report category that follows from the answer. `ground` is required exactly
    /// when [`Answer::needs_ground`]; the caller has checked that.
    pub fn outcome(self, ground: Option<Ground>) -> Option<Outcome> {
        Some(match self {
            Answer::AlreadyPublic | Answer::Disclose => Outcome::Disclosed,
            Answer::Partial => {
                ground?;
                Outcome::Partial
            }
            Answer::Withhold => match ground? {
                Ground::StateSecret => Outcome::WithholdStateSecret,
                Ground::LawForbids => Outcome::WithholdLawForbids,
                Ground::Security => Outcome::WithholdSecurity,
                Ground::ThirdParty => Outcome::WithholdThirdParty,
                Ground::Internal => Outcome::WithholdInternal,
                Ground::Process => Outcome::WithholdProcess,
                Ground::EnforcementFile => Outcome::WithholdEnforcementFile,
                Ground::Query => Outcome::WithholdQuery,
            },
            // Practice puts "not this agency's information" under （四）1 (statutory-rules §2.3).
            Answer::NotHeld | Answer::NotThisAgency => Outcome::NotHeld,
            Answer::NeedsCreation => Outcome::NeedsCreation,
            Answer::StillUnclear => Outcome::StillUnclear,
            Answer::Petition => Outcome::Petition,
            Answer::Repeat => Outcome::Repeat,
            Answer::Publication => Outcome::Publication,
            Answer::Excessive => Outcome::Excessive,
            Answer::Reissue => Outcome::Reissue,
            Answer::NoCorrection => Outcome::NoCorrection,
            Answer::NoPayment => Outcome::NoPayment,
            Answer::OtherHandling => Outcome::Other,
        })
    }

    /// The legal basis cited in the decision letter.
    pub fn basis(self, ground: Option<Ground>) -> String {
        let art = match self {
            Answer::AlreadyPublic => "第三十六条第（一）项",
            Answer::Disclose => "第三十六条第（二）项",
            Answer::Partial => return format!("第三十七条、{}", ground.map(Ground::basis).unwrap_or("")),
            Answer::Withhold => return format!("第三十六条第（三）项、{}", ground.map(Ground::basis).unwrap_or("")),
            Answer::NotHeld => "第三十六条第（四）项",
            Answer::NotThisAgency => "第三十六条第（五）项",
            Answer::NeedsCreation => "第三十八条",
            Answer::StillUnclear => "第三十条",
            Answer::Petition => "第三十九条第一款",
            Answer::Repeat => "第三十六条第（六）项",
            Answer::Publication => "第三十九条第二款",
            Answer::Excessive => "第三十五条",
            Answer::Reissue => "第三十六条",
            Answer::NoCorrection => "第三十条",
            Answer::NoPayment => "第四十二条",
            Answer::OtherHandling => "第三十六条",
        };
        art.to_string()
    }

    /// Answers staff pick on the decision form (the two "abandoned" ones come from the
    /// correction and fee periods but can also be recorded by hand).
    pub fn needs_reason(self) -> bool {
        !matches!(self, Answer::Disclose | Answer::AlreadyPublic)
    }
}

words! {
    /// 信息处理费 schemes (国办函〔2020〕109号): one per request, never both.
    FeeScheme {
        PerRequest = "per_request": "按件计收",
        PerPage = "per_page": "按量计收",
    }
}

words! {
    /// Intervals that act on the clock.
    StepKind {
        Correction = "correction": "补正",
        Consultation = "consultation": "征求第三方意见",
        Fee = "fee": "缴纳信息处理费",
    }
}

words! {
    ReviewKind {
        Review = "review": "行政复议",
        LitigationDirect = "litigation_direct": "行政诉讼（未经复议直接起诉）",
        LitigationAfterReview = "litigation_after_review": "行政诉讼（复议后起诉）",
    }
}

words! {
    /// Results in table 四's columns.
    ReviewResult {
        Upheld = "upheld": "结果维持",
        Corrected = "corrected": "结果纠正",
        Other = "other": "其他结果",
        Pending = "pending": "尚未审结",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_maps_to_one_leaf_and_every_leaf_is_reached() {
        let mut reached = std::collections::BTreeSet::new();
        for a in Answer::ALL {
            if a.needs_ground() {
                assert_eq!(a.outcome(None), None, "{a:?} without a ground");
                for g in Ground::ALL {
                    reached.insert(a.outcome(Some(*g)).unwrap().as_str());
                }
            } else {
                reached.insert(a.outcome(None).unwrap().as_str());
            }
        }
        let all: std::collections::BTreeSet<_> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(reached, all);
        assert_eq!(Outcome::ALL.len(), 21);
    }

    #[test]
    fn words_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(*o));
        }
        assert_eq!(Outcome::WithholdQuery.group(), 3);
        assert_eq!(Outcome::Other.group(), 6);
        assert_eq!(Channel::parse("fax"), Some(Channel::Fax));
        assert_eq!(Channel::parse("pigeon"), None);
    }
}
