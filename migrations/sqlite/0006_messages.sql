-- 网民留言: messages left on a site's public form, their timeline (every step, attributed),
-- and the per-site settings (review levels, deadlines per type). Dates are 'YYYY-MM-DD'
-- text; instants are epoch milliseconds.
CREATE TABLE msg_messages (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,              -- tracking code shown to the writer, e.g. LY20260315-7KQ3MZ
    access_hash TEXT NOT NULL,              -- sha256 of the query password
    idem_key TEXT UNIQUE,                   -- the public form's idempotency key
    site_id INTEGER NOT NULL REFERENCES sites(id),
    kind TEXT NOT NULL,                     -- consult | suggest | complain | help | other
    addressee TEXT NOT NULL,                -- org | leader (the site organisation's 领导信箱)
    addressee_org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_id INTEGER REFERENCES orgs(id),       -- the organisation handling it, once assigned
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    agree_publish INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,                    -- submitted | accepted | rejected | assigned | replied | reviewed | sent | published
    reject_reason TEXT,
    reject_note TEXT NOT NULL DEFAULT '',
    submitted_on TEXT NOT NULL,
    accepted_on TEXT,
    due_days INTEGER,
    due_on TEXT,                            -- recomputed from the calendar on every change and by the sweep
    reminded_due TEXT,                      -- the due date the last reminder was for
    overdue INTEGER NOT NULL DEFAULT 0,
    alarm INTEGER NOT NULL DEFAULT 0,         -- 80+ days after submission without a valid reply
    reply TEXT NOT NULL DEFAULT '',
    reply_by INTEGER REFERENCES users(id),
    replied_at INTEGER,
    review_levels INTEGER NOT NULL DEFAULT 1,
    review_passed INTEGER NOT NULL DEFAULT 0,
    review1_by INTEGER REFERENCES users(id),
    publish_ok INTEGER NOT NULL DEFAULT 0,    -- the final reviewer chose to publish
    sent_on TEXT,
    published_on TEXT,
    public_title TEXT NOT NULL DEFAULT '',
    public_content TEXT NOT NULL DEFAULT '',
    public_reply TEXT NOT NULL DEFAULT '',
    reply_org TEXT NOT NULL DEFAULT '',     -- the answering organisation's name when sent
    rating TEXT,                            -- satisfied | basic | unsatisfied
    rated_at INTEGER,
    followup TEXT NOT NULL DEFAULT '',
    followup_at INTEGER,
    supervised INTEGER NOT NULL DEFAULT 0,    -- supervision notes sent
    ip TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX msg_messages_site_state ON msg_messages(site_id, state);
CREATE INDEX msg_messages_org ON msg_messages(org_id, state);
CREATE INDEX msg_messages_submitted ON msg_messages(submitted_on);
CREATE INDEX msg_messages_published ON msg_messages(site_id, published_on);

CREATE TABLE msg_events (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES msg_messages(id),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    public INTEGER NOT NULL DEFAULT 0         -- shown to the writer on the tracking page
);
CREATE INDEX msg_events_message ON msg_events(message_id, id);

CREATE TABLE msg_site_settings (
    site_id INTEGER PRIMARY KEY REFERENCES sites(id),
    review_levels INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL
);

CREATE TABLE msg_deadlines (
    site_id INTEGER NOT NULL REFERENCES sites(id),
    kind TEXT NOT NULL,
    days INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, kind)
);
