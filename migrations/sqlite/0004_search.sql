-- Search: the administrators' dictionary (words jieba should keep whole, and synonym
-- groups), the text extracted from attachments (once per file content), and the
-- aggregate search-term log (term and count per day and site; nothing about who searched).
CREATE TABLE search_words (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('word', 'synonym')),
    text TEXT NOT NULL,                 -- a word, or a synonym group: terms joined by ','
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    UNIQUE (kind, text)
);
CREATE TABLE search_texts (
    sha256 TEXT PRIMARY KEY,            -- attachments.sha256
    text TEXT NOT NULL                  -- '' when the format has no extractable text
);
CREATE TABLE search_terms (
    day TEXT NOT NULL,                  -- 'YYYY-MM-DD'
    site_id INTEGER NOT NULL,              -- 0: searched across the whole site group
    term TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (day, site_id, term)
);
CREATE INDEX search_terms_term ON search_terms(term);
