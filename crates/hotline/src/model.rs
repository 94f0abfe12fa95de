//! The words of a work order (工单): channels, request types, urgency, the order's and a
//! leg's states, satisfaction. Stored as the English code, shown as the Chinese label.

use gongkai_kernel::words;

words! {
    /// Where the request came from.
    Channel {
        Phone = "phone": "电话",
        Web = "web": "网站",
        Wechat = "wechat": "微信",
        Weibo = "weibo": "微博",
        App = "app": "客户端",
        Email = "email": "电子邮件",
        Open311 = "open311": "开放接口",
    }
}

words! {
    /// 诉求类型.
    Kind {
        Consult = "consult": "咨询",
        Help = "help": "求助",
        Complain = "complain": "投诉",
        Report = "report": "举报",
        Suggest = "suggest": "建议",
        Praise = "praise": "表扬",
    }
}

words! {
    /// 紧急程度: life or property at risk; water, power, gas or heat; everything else.
    Urgency {
        Urgent = "urgent": "特急",
        High = "high": "紧急",
        Normal = "normal": "一般",
    }
}

words! {
    /// Where an order stands as a whole. A leg's state is beside it (`LegState`).
    OrderState {
        Received = "received": "待派单",
        Dispatched = "dispatched": "办理中",
        Replied = "replied": "答复待审核",
        Callback = "callback": "待回访",
        Closed = "closed": "已办结",
        Merged = "merged": "已合并",
    }
}

impl OrderState {
    /// Still in the loop: neither closed nor merged away.
    pub fn is_open(self) -> bool {
        !matches!(self, OrderState::Closed | OrderState::Merged)
    }
    /// The Open311 status.
    pub fn open311(self) -> &'static str {
        if self.is_open() { "open" } else { "closed" }
    }
}

words! {
    /// 主办 or 协办.
    LegRole {
        Main = "main": "主办",
        Co = "co": "协办",
    }
}

words! {
    /// One organisation's part of an order.
    LegState {
        Pending = "pending": "待签收",
        Accepted = "accepted": "办理中",
        Replied = "replied": "已答复",
        Returned = "returned": "已退单",
        Cancelled = "cancelled": "已撤回",
        Done = "done": "已办结",
    }
}

impl LegState {
    /// The leg still owes something (acceptance or a reply).
    pub fn is_active(self) -> bool {
        matches!(self, LegState::Pending | LegState::Accepted)
    }
}

words! {
    Satisfaction {
        Satisfied = "satisfied": "满意",
        Basic = "basic": "基本满意",
        Unsatisfied = "unsatisfied": "不满意",
    }
}

words! {
    /// What a client key is for.
    ClientKind {
        Inbound = "inbound": "渠道接入",
        Open311 = "open311": "Open311 客户端",
    }
}

words! {
    /// A knowledge-base entry's state.
    KbState {
        Proposed = "proposed": "待审核",
        Active = "active": "已发布",
        Rejected = "rejected": "未通过",
        Retired = "retired": "已停用",
    }
}

/// Timeline entry kinds, with their labels. Also what the daily roll-up counts.
pub const EVENTS: &[(&str, &str)] = &[
    ("received", "受理"),
    ("direct", "直接答复"),
    ("dispatched", "派单"),
    ("accepted", "签收"),
    ("returned", "退单"),
    ("ext_requested", "申请延期"),
    ("ext_approved", "同意延期"),
    ("ext_refused", "不同意延期"),
    ("replied", "答复"),
    ("review_passed", "审核通过"),
    ("review_rejected", "审核退回"),
    ("callback", "回访"),
    ("redo", "重办"),
    ("closed", "办结"),
    ("urged", "催办"),
    ("supervised", "督办"),
    ("instructed", "领导批办"),
    ("merged", "合并"),
    ("related", "关联"),
    ("overdue", "超时"),
    ("reminded", "到期提醒"),
    ("viewed", "查看保密工单"),
    ("note", "备注"),
];

pub fn event_label(kind: &str) -> &'static str {
    EVENTS.iter().find(|(k, _)| *k == kind).map(|(_, l)| *l).unwrap_or("")
}
