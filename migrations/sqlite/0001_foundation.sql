-- Foundation schema (SQLite). Times are UTC epoch milliseconds (INTEGER) and dates
-- are 'YYYY-MM-DD' text on both backends, so the same queries run on both.

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES orgs(id),
    path TEXT NOT NULL,               -- '/1/4/9/': materialised path for subtree checks
    name TEXT NOT NULL,
    short_name TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    uscc TEXT UNIQUE,
    org_code TEXT UNIQUE,
    division_code TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    sort_order INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX orgs_parent ON orgs(parent_id);
CREATE INDEX orgs_path ON orgs(path);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    org_id INTEGER REFERENCES orgs(id),
    password_hash TEXT NOT NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT TRUE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    totp_secret TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_login_at INTEGER
);

CREATE TABLE grants (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    org_id INTEGER REFERENCES orgs(id),   -- NULL: whole district
    site_id INTEGER,                      -- NULL: every site; checked against sites by the service
    granted_by INTEGER REFERENCES users(id),
    granted_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX grants_unique ON grants(user_id, role, COALESCE(org_id, 0), COALESCE(site_id, 0));
CREATE INDEX grants_user ON grants(user_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,                  -- sha256 of the cookie token; the token itself is never stored
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    mfa_pending BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,              -- assigned as head.seq + 1 inside the writing transaction
    at INTEGER NOT NULL,
    actor_id INTEGER,
    actor_name TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_org_id INTEGER,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    summary TEXT NOT NULL,
    ip TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_id);
CREATE INDEX audit_log_action ON audit_log(action);

-- One row: the chain head, locked by every appender so the chain stays linear.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    topic TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    xid INTEGER                           -- PostgreSQL transaction id; unused on SQLite
);
CREATE INDEX outbox_at ON outbox(at);

CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);

CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY,
    papers TEXT NOT NULL DEFAULT '[]',
    source TEXT NOT NULL,
    loaded_at INTEGER NOT NULL,
    loaded_by INTEGER REFERENCES users(id)
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    dedupe_key TEXT UNIQUE,
    priority INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'queued', -- queued | running | done | dead
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 8,
    locked_by TEXT,
    locked_until INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_claim ON jobs(status, run_at);

CREATE TABLE schedules (
    name TEXT PRIMARY KEY,
    cron TEXT NOT NULL,
    job_kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    next_run_at INTEGER NOT NULL,
    last_run_at INTEGER,
    updated_at INTEGER NOT NULL
);

-- The district's website registry (网站). The site-group slice builds columns and items
-- on it; grants can be scoped to a site. External sites are listed for inspection only.
CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,            -- short name used in /s/{code}/ and in the console
    name TEXT NOT NULL,
    site_code TEXT NOT NULL DEFAULT '',   -- 政府网站标识码: 6-digit division code + 4-digit serial
    hosts TEXT NOT NULL DEFAULT '',       -- host names, one per line
    kind TEXT NOT NULL,                   -- portal | department | special
    org_id INTEGER REFERENCES orgs(id),   -- 主办单位
    icp TEXT NOT NULL DEFAULT '',
    psb TEXT NOT NULL DEFAULT '',         -- 公安机关备案号
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    theme TEXT NOT NULL DEFAULT 'default',
    external BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL DEFAULT 'open',  -- open | closed
    opened_on TEXT,
    closed_on TEXT,
    close_reason TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
