-- Site group and information resource library (信息资源库). Times: UTC epoch ms; dates: 'YYYY-MM-DD'.

CREATE TABLE site_status_history (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    status TEXT NOT NULL,                 -- open | closed
    on_date TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    by_user INTEGER REFERENCES users(id),
    at INTEGER NOT NULL
);
CREATE INDEX site_status_history_site ON site_status_history(site_id);

-- Editable reference data, seeded from the product's defaults.
CREATE TABLE subjects (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    enabled BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE TABLE item_classes (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    enabled BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE columns (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    parent_id INTEGER REFERENCES columns(id),
    path TEXT NOT NULL,                   -- '/3/17/': materialised path within the site
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    kind TEXT NOT NULL,                   -- list | page | link | disclosure
    class TEXT NOT NULL,                  -- news | notice | policy | overview | interaction | other
    update_days INTEGER,                  -- expected update interval, for inspections
    sort_order INTEGER NOT NULL DEFAULT 0,
    visible BOOLEAN NOT NULL DEFAULT TRUE,
    link_url TEXT NOT NULL DEFAULT '',
    review_levels INTEGER NOT NULL DEFAULT 1,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, slug)
);
CREATE INDEX columns_site ON columns(site_id, parent_id);

-- Per-column editor and reviewer grants (on top of the role grants).
CREATE TABLE column_grants (
    column_id INTEGER NOT NULL REFERENCES columns(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,                   -- edit | review
    PRIMARY KEY (column_id, user_id, kind)
);

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    external_id TEXT UNIQUE,              -- id in the district's old CMS (import is idempotent on it)
    home_column_id INTEGER NOT NULL REFERENCES columns(id),
    class_code TEXT NOT NULL,
    title TEXT NOT NULL,
    subtitle TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',        -- sanitised HTML
    body_text TEXT NOT NULL DEFAULT '',   -- plain text of body, for checks and search
    summary TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    cover_attachment_id INTEGER,
    index_no TEXT UNIQUE,                 -- assigned at first publication, never reused
    publisher_org_id INTEGER REFERENCES orgs(id),
    subject_code TEXT,
    genre TEXT,
    doc_no TEXT NOT NULL DEFAULT '',
    doc_no_norm TEXT NOT NULL DEFAULT '',
    written_on TEXT,
    published_on TEXT,
    validity TEXT NOT NULL DEFAULT 'valid',
    validity_on TEXT,
    replaced_by_item_id INTEGER REFERENCES items(id),
    keywords TEXT NOT NULL DEFAULT '',
    disclosure_mode TEXT NOT NULL DEFAULT 'proactive',
    not_disclosed_reason TEXT NOT NULL DEFAULT '',
    disclosure_scope TEXT NOT NULL DEFAULT '全社会',
    five_open TEXT,
    art20 TEXT,
    is_rule BOOLEAN NOT NULL DEFAULT FALSE,
    is_normative BOOLEAN NOT NULL DEFAULT FALSE,
    normative_issued_on TEXT,
    normative_repealed_on TEXT,
    needs_interpretation BOOLEAN NOT NULL DEFAULT FALSE,
    interpretation_form TEXT,             -- set on items of class 'interpretation'
    status TEXT NOT NULL DEFAULT 'draft',
    review_level INTEGER NOT NULL DEFAULT 0,
    levels_required INTEGER NOT NULL DEFAULT 1,
    publish_at INTEGER,
    live BOOLEAN NOT NULL DEFAULT FALSE,
    live_version INTEGER,                 -- the version the public sees
    version INTEGER NOT NULL DEFAULT 1,   -- the working copy's version
    withdrawn_reason TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    published_at INTEGER
);
CREATE INDEX items_home ON items(home_column_id, published_at);
CREATE INDEX items_status ON items(status, publish_at);
CREATE INDEX items_publisher ON items(publisher_org_id, published_on);
CREATE INDEX items_doc_no ON items(doc_no_norm);

-- Every saved version, as a JSON snapshot of the editable fields.
CREATE TABLE item_versions (
    item_id INTEGER NOT NULL REFERENCES items(id),
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    saved_by INTEGER REFERENCES users(id),
    saved_at INTEGER NOT NULL,
    PRIMARY KEY (item_id, version)
);

-- One item shown in many columns and sites without copying (引用/推送).
CREATE TABLE item_placements (
    item_id INTEGER NOT NULL REFERENCES items(id),
    column_id INTEGER NOT NULL REFERENCES columns(id),
    is_home BOOLEAN NOT NULL DEFAULT FALSE,
    placed_at INTEGER NOT NULL,
    PRIMARY KEY (item_id, column_id)
);
CREATE INDEX item_placements_column ON item_placements(column_id);

-- Each review decision is a signature.
CREATE TABLE item_reviews (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    version INTEGER NOT NULL,
    level INTEGER NOT NULL,
    decision TEXT NOT NULL,               -- approve | reject | override
    comment TEXT NOT NULL DEFAULT '',
    reviewer_id INTEGER REFERENCES users(id),
    at INTEGER NOT NULL
);
CREATE INDEX item_reviews_item ON item_reviews(item_id);

-- 索引号 serials per publishing organisation and year; the row lock makes them unique.
CREATE TABLE index_serials (
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    year INTEGER NOT NULL,
    last_serial INTEGER NOT NULL,
    PRIMARY KEY (org_id, year)
);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,          -- content address: files/<aa>/<sha256>
    size INTEGER NOT NULL,
    mime TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE item_attachments (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES items(id),
    attachment_id INTEGER NOT NULL REFERENCES attachments(id),
    name TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    downloads INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX item_attachments_item ON item_attachments(item_id);

CREATE TABLE interpretation_links (
    interpretation_id INTEGER NOT NULL REFERENCES items(id),
    policy_id INTEGER NOT NULL REFERENCES items(id),
    PRIMARY KEY (interpretation_id, policy_id)
);
CREATE INDEX interpretation_links_policy ON interpretation_links(policy_id);

CREATE TABLE topics (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    name TEXT NOT NULL,
    slug TEXT NOT NULL,
    intro TEXT NOT NULL DEFAULT '',
    banner_attachment_id INTEGER REFERENCES attachments(id),
    opened_on TEXT NOT NULL,
    closed_on TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, slug)
);
CREATE TABLE topic_items (
    topic_id INTEGER NOT NULL REFERENCES topics(id),
    item_id INTEGER NOT NULL REFERENCES items(id),
    PRIMARY KEY (topic_id, item_id)
);
CREATE TABLE topic_columns (
    topic_id INTEGER NOT NULL REFERENCES topics(id),
    column_id INTEGER NOT NULL REFERENCES columns(id),
    PRIMARY KEY (topic_id, column_id)
);

-- 基层政务公开标准目录.
CREATE TABLE catalogue_entries (
    id INTEGER PRIMARY KEY,
    org_id INTEGER REFERENCES orgs(id),   -- 公开主体
    domain_code TEXT NOT NULL,
    seq TEXT NOT NULL DEFAULT '',         -- 序号 as published, e.g. 0505-01
    level1 TEXT NOT NULL,
    level2 TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL DEFAULT '',
    basis TEXT NOT NULL DEFAULT '',
    time_limit TEXT NOT NULL DEFAULT '',
    time_limit_kind TEXT NOT NULL DEFAULT 'unparsed', -- working_days | days | immediate | unparsed
    time_limit_n INTEGER,
    channels TEXT NOT NULL DEFAULT '',    -- comma-separated channel codes
    audience TEXT NOT NULL DEFAULT 'all', -- all | specific
    mode TEXT NOT NULL DEFAULT 'proactive',
    tier TEXT NOT NULL DEFAULT 'county',  -- county | township
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX catalogue_entries_domain ON catalogue_entries(domain_code, sort_order);
CREATE TABLE item_catalogue (
    item_id INTEGER NOT NULL REFERENCES items(id),
    entry_id INTEGER NOT NULL REFERENCES catalogue_entries(id),
    PRIMARY KEY (item_id, entry_id)
);
CREATE INDEX item_catalogue_entry ON item_catalogue(entry_id);
