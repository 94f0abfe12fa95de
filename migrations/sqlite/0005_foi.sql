-- 依申请公开: disclosure requests, the intervals that act on their clock (corrections,
-- consultations, fee periods), the timeline, letters, released files, reviews and
-- litigation, and the administrators' letter templates. Dates are 'YYYY-MM-DD' text;
-- instants are epoch milliseconds.
CREATE TABLE foi_requests (
    id INTEGER PRIMARY KEY,
    tracking_no TEXT NOT NULL UNIQUE,       -- shown to the applicant, e.g. YSQ20261128-0001
    access_hash TEXT NOT NULL,              -- sha256 of the applicant's 查询码
    idem_key TEXT UNIQUE,                   -- the public form's idempotency key
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    applicant_kind TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    id_type TEXT NOT NULL DEFAULT '',
    id_number TEXT NOT NULL DEFAULT '',
    uscc TEXT NOT NULL DEFAULT '',
    legal_rep TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    postcode TEXT NOT NULL DEFAULT '',
    info_title TEXT NOT NULL,
    info_doc_no TEXT NOT NULL DEFAULT '',
    info_description TEXT NOT NULL DEFAULT '',
    form_wanted TEXT NOT NULL,
    delivery TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '{}',    -- the channel's dates (JSON), see rules::Evidence
    received_on TEXT,                       -- set once receipt is established
    receipt_rule TEXT NOT NULL DEFAULT '',
    due_on TEXT,                            -- the clock's due date, recomputed on every change and by the sweep
    extension_days INTEGER NOT NULL DEFAULT 0,
    extension TEXT NOT NULL DEFAULT '{}',   -- approver, approved_on, notified_on, reason
    longer_due_on TEXT,                     -- Art. 35
    longer_reason TEXT NOT NULL DEFAULT '',
    fee_scheme TEXT,
    fee_units INTEGER,
    fee_amount INTEGER,                     -- yuan
    answer TEXT,
    ground TEXT,
    outcome TEXT,                           -- table 三 leaf code, e.g. '3.4'
    reason TEXT NOT NULL DEFAULT '',
    withheld TEXT NOT NULL DEFAULT '',
    decided_on TEXT,
    decided_by INTEGER REFERENCES users(id),
    delivered_on TEXT,
    delivery_method TEXT NOT NULL DEFAULT '',
    delivery_ref TEXT NOT NULL DEFAULT '',
    overdue INTEGER NOT NULL DEFAULT 0,
    reminded_due TEXT,                      -- the due date the last reminder was for
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX foi_requests_org_state ON foi_requests(org_id, state);
CREATE INDEX foi_requests_received ON foi_requests(received_on);
CREATE INDEX foi_requests_decided ON foi_requests(decided_on);
CREATE INDEX foi_requests_applicant ON foi_requests(id_number, uscc);

CREATE TABLE foi_steps (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES foi_requests(id),
    kind TEXT NOT NULL,                     -- correction | consultation | fee
    started_on TEXT NOT NULL,
    deadline_on TEXT NOT NULL,
    ended_on TEXT,
    detail TEXT NOT NULL DEFAULT '',        -- items to correct, the third party consulted, the fee basis
    created_at INTEGER NOT NULL
);
CREATE INDEX foi_steps_request ON foi_steps(request_id);

CREATE TABLE foi_events (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES foi_requests(id),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    public INTEGER NOT NULL DEFAULT 1       -- shown to the applicant
);
CREATE INDEX foi_events_request ON foi_events(request_id, id);

CREATE TABLE foi_letters (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES foi_requests(id),
    kind TEXT NOT NULL,                     -- decision | correction | fee | extension
    title TEXT NOT NULL,
    body TEXT NOT NULL,                     -- rendered text, paragraphs separated by blank lines
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX foi_letters_request ON foi_letters(request_id);

CREATE TABLE foi_files (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES foi_requests(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX foi_files_request ON foi_files(request_id);

CREATE TABLE foi_reviews (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES foi_requests(id),
    kind TEXT NOT NULL,                     -- review | litigation_direct | litigation_after_review
    filed_on TEXT NOT NULL,
    body TEXT NOT NULL,                     -- 复议机关 or court
    result TEXT NOT NULL,                   -- upheld | corrected | other | pending
    concluded_on TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX foi_reviews_request ON foi_reviews(request_id);
CREATE INDEX foi_reviews_filed ON foi_reviews(filed_on);

CREATE TABLE foi_templates (
    kind TEXT PRIMARY KEY,                  -- a decision answer group or a notice kind
    body TEXT NOT NULL,
    updated_by INTEGER REFERENCES users(id),
    updated_at INTEGER NOT NULL
);
