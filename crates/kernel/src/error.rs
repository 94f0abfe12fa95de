//! One error type for services. Handlers turn it into a page or a status; the CLI
//! prints it and exits non-zero. Messages are Chinese: they reach users.

use std::fmt;

/// Field-level validation messages, in form order.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &str, msg: impl Into<String>) {
        self.0.push((field.to_string(), msg.into()));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
    /// Ok(()) when empty, so validators can end with `errs.into_result()?`.
    pub fn into_result(self) -> Result<(), Error> {
        if self.is_empty() { Ok(()) } else { Err(Error::Invalid(self)) }
    }
    pub fn as_map(&self) -> std::collections::BTreeMap<String, String> {
        self.0.iter().cloned().collect()
    }
}

#[derive(Debug)]
pub enum Error {
    NotFound,
    Forbidden(String),
    Invalid(FieldErrors),
    Conflict(String),
    Unauthenticated,
    TooMany(String),
    Db(sqlx::Error),
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn field(field: &str, msg: impl Into<String>) -> Self {
        let mut e = FieldErrors::new();
        e.add(field, msg);
        Error::Invalid(e)
    }
    pub fn internal(e: impl fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }
    pub fn status(&self) -> u16 {
        match self {
            Error::NotFound => 404,
            Error::Forbidden(_) => 403,
            Error::Invalid(_) => 422,
            Error::Conflict(_) => 409,
            Error::Unauthenticated => 401,
            Error::TooMany(_) => 429,
            Error::Db(_) | Error::Internal(_) => 500,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound => write!(f, "未找到"),
            Error::Forbidden(m) => write!(f, "无权操作：{m}"),
            Error::Invalid(errs) => {
                let parts: Vec<String> = errs.0.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                write!(f, "输入有误：{}", parts.join("；"))
            }
            Error::Conflict(m) => write!(f, "{m}"),
            Error::Unauthenticated => write!(f, "请先登录"),
            Error::TooMany(m) => write!(f, "{m}"),
            Error::Db(e) => write!(f, "数据库错误：{e}"),
            Error::Internal(m) => write!(f, "内部错误：{m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Error::NotFound,
            e => Error::Db(e),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Internal(format!("数据库迁移失败：{e}"))
    }
}

/// True when a database error is a unique-constraint violation (both backends).
pub fn is_unique_violation(e: &Error) -> bool {
    match e {
        Error::Db(sqlx::Error::Database(d)) => d.is_unique_violation(),
        _ => false,
    }
}

/// True when a database error is a foreign-key violation (both backends): the row is
/// still referenced elsewhere.
pub fn is_foreign_key_violation(e: &Error) -> bool {
    match e {
        Error::Db(sqlx::Error::Database(d)) => d.is_foreign_key_violation(),
        _ => false,
    }
}
