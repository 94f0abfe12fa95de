-- 征集调查: solicitations (意见征集: a draft document open for comments between two dates,
-- comments moderated before they appear) and questionnaires (问卷调查: questions stored as
-- validated JSON, one response per person best-effort). Dates are 'YYYY-MM-DD' text
-- (Asia/Shanghai); instants are epoch milliseconds.
CREATE TABLE svy_surveys (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),    -- 发起单位: whose staff may edit it
    kind TEXT NOT NULL,                             -- solicitation | questionnaire
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',                  -- the draft's text (solicitations)
    questions TEXT NOT NULL DEFAULT '[]',           -- JSON, see surveys::rules::Question
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    state TEXT NOT NULL,                            -- draft | published | result
    published_at INTEGER,
    closed_at INTEGER,                              -- closed early by staff
    feedback TEXT NOT NULL DEFAULT '',              -- 采纳情况 / 调查结果
    feedback_at INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX svy_surveys_site ON svy_surveys(site_id, state, closes_on);
CREATE INDEX svy_surveys_opens ON svy_surveys(opens_on);

CREATE TABLE svy_files (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES svy_surveys(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX svy_files_survey ON svy_files(survey_id);

CREATE TABLE svy_comments (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES svy_surveys(id),
    idem_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT '',               -- never shown publicly
    body TEXT NOT NULL,
    state TEXT NOT NULL,                            -- pending | approved | rejected
    ip TEXT NOT NULL DEFAULT '',
    moderated_by INTEGER REFERENCES users(id),
    moderated_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX svy_comments_survey ON svy_comments(survey_id, state);
CREATE INDEX svy_comments_created ON svy_comments(created_at);

CREATE TABLE svy_responses (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES svy_surveys(id),
    idem_key TEXT NOT NULL UNIQUE,
    voter TEXT NOT NULL,                            -- the signed cookie's random id
    answers TEXT NOT NULL,                          -- JSON {question id: answer}
    ip TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (survey_id, voter)
);
CREATE INDEX svy_responses_created ON svy_responses(created_at);
