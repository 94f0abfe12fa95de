//! Roles, permissions and the one place that decides them.
//!
//! A principal's grants are loaded once per request (one query); every decision is then
//! a pure function of those grants, and list screens turn the same grants into one SQL
//! filter (`OrgScope`), so no screen loops over grants with a query each.

use std::collections::BTreeSet;

use serde::Serialize;

pub mod password;
pub mod service;
pub mod store;
pub mod totp;
pub mod web;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SysAdmin,
    SecAdmin,
    AuditAdmin,
    Editor,
    Reviewer,
    Handler,
    Agent,
    Supervisor,
    Leader,
    Discloser,
}

pub const ALL_ROLES: [Role; 10] = [
    Role::SysAdmin,
    Role::SecAdmin,
    Role::AuditAdmin,
    Role::Editor,
    Role::Reviewer,
    Role::Handler,
    Role::Agent,
    Role::Supervisor,
    Role::Leader,
    Role::Discloser,
];

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SysAdmin => "sysadmin",
            Role::SecAdmin => "secadmin",
            Role::AuditAdmin => "auditadmin",
            Role::Editor => "editor",
            Role::Reviewer => "reviewer",
            Role::Handler => "handler",
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Leader => "leader",
            Role::Discloser => "discloser",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        ALL_ROLES.into_iter().find(|r| r.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::SysAdmin => "系统管理员",
            Role::SecAdmin => "安全管理员",
            Role::AuditAdmin => "审计管理员",
            Role::Editor => "编辑",
            Role::Reviewer => "审核",
            Role::Handler => "部门承办人",
            Role::Agent => "热线坐席",
            Role::Supervisor => "督办",
            Role::Leader => "领导",
            Role::Discloser => "依申请公开经办",
        }
    }
    /// The three separated administrator roles (三员分立): one person holds at most one.
    pub fn is_admin_triad(self) -> bool {
        matches!(self, Role::SysAdmin | Role::SecAdmin | Role::AuditAdmin)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Perm {
    /// Sign in to the console, see one's home page, use the due-date calculator.
    Console,
    UserView,
    UserManage,
    OrgManage,
    SettingsManage,
    JobView,
    GrantManage,
    AuditRead,
    /// Read the information resource library (items, review state, versions).
    ContentView,
    ContentEdit,
    ContentReview,
    CaseHandle,
    HotlineIntake,
    Supervise,
    LeaderView,
    /// See disclosure requests (依申请公开) of the organisations in scope.
    DisclosureView,
    /// Register and handle disclosure requests: receipt, clock, fees, decisions, letters.
    DisclosureHandle,
}

/// The role → permission table. 三员分立: the system administrator has no grant or audit
/// permission, the security administrator only grants, the audit administrator only reads
/// the audit log.
pub fn role_perms(role: Role) -> &'static [Perm] {
    use Perm::*;
    match role {
        Role::SysAdmin => &[Console, UserView, UserManage, OrgManage, SettingsManage, JobView],
        Role::SecAdmin => &[Console, UserView, GrantManage],
        Role::AuditAdmin => &[Console, AuditRead],
        Role::Editor => &[Console, ContentView, ContentEdit],
        Role::Reviewer => &[Console, ContentView, ContentReview],
        Role::Handler => &[Console, CaseHandle],
        Role::Agent => &[Console, HotlineIntake],
        Role::Supervisor => &[Console, Supervise, DisclosureView],
        Role::Leader => &[Console, ContentView, LeaderView],
        Role::Discloser => &[Console, DisclosureView, DisclosureHandle],
    }
}

/// One grant with its scope resolved: `org_path` is the granted organisation's
/// materialised path ("/1/4/"), None for the whole district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub role: Role,
    pub org_id: Option<i64>,
    pub org_path: Option<String>,
    pub site_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub org_id: Option<i64>,
    pub must_change_password: bool,
    pub session_id: String,
    pub csrf_token: String,
    pub grants: Vec<Scope>,
}

/// Which organisations a permission reaches, for SQL list filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgScope {
    All,
    Paths(Vec<String>),
    None,
}

impl Principal {
    pub fn roles(&self) -> BTreeSet<Role> {
        self.grants.iter().map(|g| g.role).collect()
    }

    /// The role named in audit entries: the first (most privileged) one held.
    pub fn primary_role(&self) -> Option<Role> {
        self.roles().into_iter().next()
    }

    /// Holds `perm` anywhere. `Console` belongs to every signed-in account, so a new
    /// user without roles can still change the password and see why nothing else shows.
    pub fn has(&self, perm: Perm) -> bool {
        perm == Perm::Console || self.grants.iter().any(|g| role_perms(g.role).contains(&perm))
    }

    /// Holds `perm` over an object of organisation `org_path` (None: not tied to an
    /// organisation, so only a district-wide grant covers it) and site `site_id`.
    pub fn can(&self, perm: Perm, org_path: Option<&str>, site_id: Option<i64>) -> bool {
        self.grants.iter().any(|g| {
            role_perms(g.role).contains(&perm)
                && match (&g.org_path, org_path) {
                    (None, _) => true,
                    (Some(gp), Some(tp)) => tp.starts_with(gp.as_str()),
                    (Some(_), None) => false,
                }
                && match (g.site_id, site_id) {
                    (None, _) => true,
                    (Some(gs), Some(ts)) => gs == ts,
                    (Some(_), None) => false,
                }
        })
    }

    pub fn org_scope(&self, perm: Perm) -> OrgScope {
        let mut paths = Vec::new();
        for g in self.grants.iter().filter(|g| role_perms(g.role).contains(&perm)) {
            match &g.org_path {
                None => return OrgScope::All,
                Some(p) => paths.push(p.clone()),
            }
        }
        if paths.is_empty() { OrgScope::None } else { OrgScope::Paths(paths) }
    }

    pub fn actor(&self, ip: &str) -> crate::audit::Actor {
        crate::audit::Actor {
            user_id: Some(self.user_id),
            name: format!("{}（{}）", self.display_name, self.username),
            role: self.primary_role().map(|r| r.as_str().to_string()).unwrap_or_default(),
            org_id: self.org_id,
            ip: ip.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(grants: Vec<Scope>) -> Principal {
        Principal {
            user_id: 1,
            username: "u".into(),
            display_name: "U".into(),
            org_id: None,
            must_change_password: false,
            session_id: String::new(),
            csrf_token: String::new(),
            grants,
        }
    }

    #[test]
    fn triad_is_separated() {
        for r in ALL_ROLES {
            let perms = role_perms(r);
            let n = [Perm::UserManage, Perm::GrantManage, Perm::AuditRead].iter().filter(|x| perms.contains(x)).count();
            assert!(n <= 1, "{r:?} mixes admin duties");
        }
        assert!(!role_perms(Role::SysAdmin).contains(&Perm::GrantManage));
        assert!(!role_perms(Role::SysAdmin).contains(&Perm::AuditRead));
        assert_eq!(role_perms(Role::AuditAdmin), &[Perm::Console, Perm::AuditRead]);
    }

    #[test]
    fn subtree_and_site_scopes() {
        let u =
            p(vec![Scope { role: Role::Editor, org_id: Some(4), org_path: Some("/1/4/".into()), site_id: Some(2) }]);
        assert!(u.can(Perm::ContentEdit, Some("/1/4/9/"), Some(2)));
        assert!(u.can(Perm::ContentEdit, Some("/1/4/"), Some(2)));
        assert!(!u.can(Perm::ContentEdit, Some("/1/40/"), Some(2)), "sibling with a common prefix");
        assert!(!u.can(Perm::ContentEdit, Some("/1/4/9/"), Some(3)));
        assert!(!u.can(Perm::ContentEdit, None, Some(2)));
        assert!(!u.can(Perm::ContentReview, Some("/1/4/"), Some(2)));
        assert_eq!(u.org_scope(Perm::ContentEdit), OrgScope::Paths(vec!["/1/4/".into()]));
        assert_eq!(u.org_scope(Perm::UserManage), OrgScope::None);
        let a = p(vec![Scope { role: Role::SysAdmin, org_id: None, org_path: None, site_id: None }]);
        assert!(a.can(Perm::UserManage, Some("/7/"), None));
        assert_eq!(a.org_scope(Perm::UserManage), OrgScope::All);
    }

    #[test]
    fn role_names_round_trip() {
        for r in ALL_ROLES {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
