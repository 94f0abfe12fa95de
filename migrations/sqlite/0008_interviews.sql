-- 在线访谈 and 新闻发布会: sessions per site, their guests, the questions the public
-- submits (private until answered), the published entries of the live page (question and
-- answer pairs, text updates) in the order they appeared, and the reminders of the sweep.
-- Dates are 'YYYY-MM-DD' text; instants are epoch milliseconds.
CREATE TABLE itv_interviews (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    kind TEXT NOT NULL,                     -- interview | press
    topic TEXT NOT NULL,
    intro TEXT NOT NULL DEFAULT '',
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    state TEXT NOT NULL,                    -- draft | announced | live | ended
    answer_days INTEGER NOT NULL DEFAULT 5,  -- working days to answer what the session left open
    announced_on TEXT,
    live_at INTEGER,
    ended_at INTEGER,
    ended_on TEXT,
    answer_due_on TEXT,                     -- set when the session ends
    last_seq INTEGER NOT NULL DEFAULT 0,     -- the last entry's number (entries are numbered per interview)
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX itv_interviews_site ON itv_interviews(site_id, state);

CREATE TABLE itv_guests (
    id INTEGER PRIMARY KEY,
    interview_id INTEGER NOT NULL REFERENCES itv_interviews(id),
    sort INTEGER NOT NULL,
    name TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    photo BLOB,
    photo_type TEXT NOT NULL DEFAULT ''
);
CREATE INDEX itv_guests_interview ON itv_guests(interview_id, sort);

CREATE TABLE itv_questions (
    id INTEGER PRIMARY KEY,
    interview_id INTEGER NOT NULL REFERENCES itv_interviews(id),
    origin TEXT NOT NULL,                   -- public | staff (typed by the moderator)
    idem_key TEXT UNIQUE,
    asker TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    state TEXT NOT NULL,                    -- pending | queued | rejected | answered
    reason TEXT NOT NULL DEFAULT '',
    submitted_at INTEGER NOT NULL,
    answered_at INTEGER,
    overdue INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX itv_questions_interview ON itv_questions(interview_id, state);

CREATE TABLE itv_entries (
    id INTEGER PRIMARY KEY,
    interview_id INTEGER NOT NULL REFERENCES itv_interviews(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,                     -- qa | update
    question_id INTEGER UNIQUE REFERENCES itv_questions(id),
    question TEXT NOT NULL DEFAULT '',
    asker TEXT NOT NULL DEFAULT '',
    guest TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    photo BLOB,
    photo_type TEXT NOT NULL DEFAULT '',
    after_session INTEGER NOT NULL DEFAULT 0,
    published_at INTEGER NOT NULL,
    published_by INTEGER REFERENCES users(id),
    UNIQUE (interview_id, seq)
);

CREATE TABLE itv_reminders (
    id INTEGER PRIMARY KEY,
    interview_id INTEGER NOT NULL REFERENCES itv_interviews(id),
    question_id INTEGER NOT NULL REFERENCES itv_questions(id),
    kind TEXT NOT NULL,                     -- due_soon | overdue
    due_on TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (question_id, kind)
);
CREATE INDEX itv_reminders_interview ON itv_reminders(interview_id);
