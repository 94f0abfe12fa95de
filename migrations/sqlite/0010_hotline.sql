-- 12345 政务服务便民热线: work orders (工单) from every channel, their dispatch legs (one per
-- handling organisation), the timeline, the SLA table, the category tree, the district
-- gazetteer, channel and Open311 clients, the knowledge base, opinion polls and the daily
-- roll-up the statistics read. Instants are epoch milliseconds; days are 'YYYY-MM-DD'.

-- 事项分类: a tree; leaves with open311 = 1 are the Open311 services (code = service_code).
CREATE TABLE hl_categories (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    parent_id INTEGER REFERENCES hl_categories(id),
    top_id INTEGER,                          -- the top-level ancestor (itself for a top level)
    name TEXT NOT NULL,
    path TEXT NOT NULL,                      -- '城乡建设/供水' for picking by typing
    keywords TEXT NOT NULL DEFAULT '',
    default_org_id INTEGER REFERENCES orgs(id), -- the usual handling organisation
    open311 INTEGER NOT NULL DEFAULT 0,
    attributes TEXT NOT NULL DEFAULT '[]',   -- Open311 attribute definitions (JSON array)
    active INTEGER NOT NULL DEFAULT 1,
    sort INTEGER NOT NULL DEFAULT 0
);

-- The district gazetteer: streets (街道/镇) and their communities (社区/村).
CREATE TABLE hl_places (
    id INTEGER PRIMARY KEY,
    street TEXT NOT NULL,
    community TEXT NOT NULL DEFAULT '',      -- '' for the street itself
    org_id INTEGER REFERENCES orgs(id),      -- the street's office, for territorial dispatch
    UNIQUE (street, community)
);

-- Time limits keyed by type, category and urgency ('*' matches any). Limits are written
-- '15m' (calendar minutes), '4wh' (working hours) or '3wd' (working days).
CREATE TABLE hl_sla (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT '*',
    category_code TEXT NOT NULL DEFAULT '*',  -- matches the category and its descendants
    urgency TEXT NOT NULL DEFAULT '*',
    accept_limit TEXT NOT NULL,               -- 签收
    return_limit TEXT NOT NULL,               -- 退单
    handle_limit TEXT NOT NULL,               -- 办理
    callback_limit TEXT NOT NULL,             -- 回访
    UNIQUE (kind, category_code, urgency)
);

-- Gateways (WeChat, Weibo, app, e-mail) and Open311 clients, each with its own key.
CREATE TABLE hl_clients (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,                       -- inbound | open311
    channel TEXT NOT NULL,                    -- the channel its orders carry
    key_hash TEXT NOT NULL UNIQUE,            -- sha256 of the key; the key is shown once
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE hl_orders (
    id INTEGER PRIMARY KEY,
    no TEXT NOT NULL UNIQUE,                  -- 工单编号, e.g. 20261128-000123
    idem_key TEXT UNIQUE,                     -- a retried intake with the same key creates nothing
    token TEXT UNIQUE,                        -- the Open311 token
    channel TEXT NOT NULL,                    -- phone | web | wechat | weibo | app | email | open311
    client_id INTEGER REFERENCES hl_clients(id),
    caller_name TEXT NOT NULL DEFAULT '',
    caller_phone TEXT NOT NULL DEFAULT '',
    caller_email TEXT NOT NULL DEFAULT '',
    anonymous INTEGER NOT NULL DEFAULT 0,
    confidential INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL,                       -- consult | help | complain | report | suggest | praise
    category_id INTEGER REFERENCES hl_categories(id),
    category_top INTEGER,                     -- the category's top level, for the statistics
    urgency TEXT NOT NULL DEFAULT 'normal',   -- urgent | high | normal
    tags TEXT NOT NULL DEFAULT '',            -- comma list, e.g. 营商环境
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    place_id INTEGER REFERENCES hl_places(id),
    street TEXT NOT NULL DEFAULT '',
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    attributes TEXT NOT NULL DEFAULT '{}',    -- Open311 attribute values (JSON object)
    media_url TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,                      -- received | dispatched | replied | callback | closed | merged
    agent_id INTEGER REFERENCES users(id),
    received_at INTEGER NOT NULL,
    received_on TEXT NOT NULL,
    direct INTEGER NOT NULL DEFAULT 0,        -- answered on the spot (直接答复)
    answer TEXT NOT NULL DEFAULT '',          -- what the caller was told
    reviewed_at INTEGER,
    callback_limit TEXT NOT NULL DEFAULT '',
    callback_due INTEGER,
    callback_at INTEGER,
    reached INTEGER,
    resolved INTEGER,
    satisfaction TEXT,                        -- satisfied | basic | unsatisfied
    redo_count INTEGER NOT NULL DEFAULT 0,
    closed_at INTEGER,
    closed_on_time INTEGER,
    merged_into INTEGER REFERENCES hl_orders(id),
    leader_note TEXT NOT NULL DEFAULT '',     -- 领导批办
    priority INTEGER NOT NULL DEFAULT 0,
    urged INTEGER NOT NULL DEFAULT 0,         -- 催办 count
    supervised INTEGER NOT NULL DEFAULT 0,    -- 督办 count
    overdue INTEGER NOT NULL DEFAULT 0,       -- a leg or the callback is late
    updated_at INTEGER NOT NULL
);
CREATE INDEX hl_orders_state ON hl_orders(state, received_at);
CREATE INDEX hl_orders_phone ON hl_orders(caller_phone, received_at);
CREATE INDEX hl_orders_received ON hl_orders(received_at);
CREATE INDEX hl_orders_place ON hl_orders(category_id, place_id, received_at);
CREATE INDEX hl_orders_callback ON hl_orders(state, callback_due);

-- One dispatch to one organisation (主办 main, 协办 co). Each leg keeps its own limits and
-- timers, so one late or returned leg never marks the order done.
CREATE TABLE hl_legs (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES hl_orders(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    role TEXT NOT NULL,                       -- main | co
    state TEXT NOT NULL,                      -- pending | accepted | replied | returned | cancelled | done
    dispatched_at INTEGER NOT NULL,
    handle_from INTEGER NOT NULL,                 -- when the handling limit started (dispatch or 重办)
    accept_limit TEXT NOT NULL,
    return_limit TEXT NOT NULL,
    handle_limit TEXT NOT NULL,
    accept_due INTEGER NOT NULL,
    return_due INTEGER NOT NULL,
    handle_due INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_on_time INTEGER,
    ext_days INTEGER NOT NULL DEFAULT 0,      -- approved extension, working days
    ext_state TEXT NOT NULL DEFAULT '',       -- '' | requested | approved | refused
    ext_request_days INTEGER NOT NULL DEFAULT 0,
    ext_reason TEXT NOT NULL DEFAULT '',
    returned_at INTEGER,
    return_reason TEXT NOT NULL DEFAULT '',
    replied_at INTEGER,
    reply TEXT NOT NULL DEFAULT '',
    replied_on_time INTEGER,
    overdue INTEGER NOT NULL DEFAULT 0,       -- 1 late to accept, 2 late to reply
    reminded INTEGER NOT NULL DEFAULT 0,      -- the due instant the last reminder was for
    updated_at INTEGER NOT NULL
);
CREATE INDEX hl_legs_order ON hl_legs(order_id);
CREATE INDEX hl_legs_org ON hl_legs(org_id, state);
CREATE INDEX hl_legs_accept_due ON hl_legs(state, accept_due);
CREATE INDEX hl_legs_handle_due ON hl_legs(state, handle_due);

-- The timeline; also what the daily roll-up counts (kind, value, on_time) and the Open311
-- servicerequestupdates (public = 1).
CREATE TABLE hl_events (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES hl_orders(id),
    leg_id INTEGER REFERENCES hl_legs(id),
    at INTEGER NOT NULL,
    day TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT '',
    on_time INTEGER,
    text TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,                      -- the order's state after the step
    public INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX hl_events_order ON hl_events(order_id, id);
CREATE INDEX hl_events_day ON hl_events(day);

-- 关联工单 and merges.
CREATE TABLE hl_links (
    order_id INTEGER NOT NULL REFERENCES hl_orders(id),
    other_id INTEGER NOT NULL REFERENCES hl_orders(id),
    kind TEXT NOT NULL,                       -- related | merged
    PRIMARY KEY (order_id, other_id)
);

CREATE TABLE hl_files (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES hl_orders(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX hl_files_order ON hl_files(order_id);

-- 知识库.
CREATE TABLE hl_kb (
    id INTEGER PRIMARY KEY,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    category_id INTEGER REFERENCES hl_categories(id),
    source TEXT NOT NULL DEFAULT '',          -- the source document
    valid_until TEXT,
    org_id INTEGER NOT NULL REFERENCES orgs(id), -- the owner, who reviews
    state TEXT NOT NULL,                      -- proposed | active | rejected | retired
    tokens TEXT NOT NULL DEFAULT '',          -- segmented words, space separated
    from_order_id INTEGER REFERENCES hl_orders(id),
    proposed_by INTEGER REFERENCES users(id),
    reviewed_by INTEGER REFERENCES users(id),
    review_note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX hl_kb_state ON hl_kb(state);

-- 民意调查: phone opinion-poll campaigns.
CREATE TABLE hl_polls (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    org_id INTEGER REFERENCES orgs(id),
    started_on TEXT NOT NULL,
    ended_on TEXT NOT NULL,
    planned INTEGER NOT NULL DEFAULT 0,       -- numbers to call
    respondents INTEGER NOT NULL DEFAULT 0,
    satisfied INTEGER NOT NULL DEFAULT 0,
    basic INTEGER NOT NULL DEFAULT 0,
    unsatisfied INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);

-- The daily roll-up: counts of the day's events by dimension. Days before today are final
-- once rolled; today is counted live from hl_events. The setting 'hotline.rolled_until'
-- is the last rolled day: statistics read hl_daily/hl_monthly up to it and hl_events after.
CREATE TABLE hl_daily (
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    category_top INTEGER NOT NULL,            -- 0 when uncategorised
    street TEXT NOT NULL,
    org_id INTEGER NOT NULL,                  -- the leg's organisation, 0 for order-level events
    received INTEGER NOT NULL DEFAULT 0,
    direct INTEGER NOT NULL DEFAULT 0,
    dispatched INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    accepted_on_time INTEGER NOT NULL DEFAULT 0,
    returned INTEGER NOT NULL DEFAULT 0,
    replied INTEGER NOT NULL DEFAULT 0,
    replied_on_time INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    closed_on_time INTEGER NOT NULL DEFAULT 0,
    callbacks INTEGER NOT NULL DEFAULT 0,
    reached INTEGER NOT NULL DEFAULT 0,
    satisfied INTEGER NOT NULL DEFAULT 0,
    basic INTEGER NOT NULL DEFAULT 0,
    unsatisfied INTEGER NOT NULL DEFAULT 0,
    late_accept INTEGER NOT NULL DEFAULT 0,   -- legs that went past the acceptance limit (超时签收)
    late_handle INTEGER NOT NULL DEFAULT 0,   -- legs that went past the handling limit (超时办理)
    PRIMARY KEY (day, channel, kind, category_top, street, org_id)
);
-- The same counts summed over each month's rolled days, rebuilt with the mark, so a year
-- of statistics reads twelve months of rows instead of 365 days of them.
CREATE TABLE hl_monthly (
    month TEXT NOT NULL,                     -- 'YYYY-MM'
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    category_top INTEGER NOT NULL,
    street TEXT NOT NULL,
    org_id INTEGER NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    direct INTEGER NOT NULL DEFAULT 0,
    dispatched INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    accepted_on_time INTEGER NOT NULL DEFAULT 0,
    returned INTEGER NOT NULL DEFAULT 0,
    replied INTEGER NOT NULL DEFAULT 0,
    replied_on_time INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    closed_on_time INTEGER NOT NULL DEFAULT 0,
    callbacks INTEGER NOT NULL DEFAULT 0,
    reached INTEGER NOT NULL DEFAULT 0,
    satisfied INTEGER NOT NULL DEFAULT 0,
    basic INTEGER NOT NULL DEFAULT 0,
    unsatisfied INTEGER NOT NULL DEFAULT 0,
    late_accept INTEGER NOT NULL DEFAULT 0,   -- legs that went past the acceptance limit (超时签收)
    late_handle INTEGER NOT NULL DEFAULT 0,   -- legs that went past the handling limit (超时办理)
    PRIMARY KEY (month, channel, kind, category_top, street, org_id)
);
CREATE TABLE hl_daily_tags (
    day TEXT NOT NULL,
    tag TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    closed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, tag)
);
