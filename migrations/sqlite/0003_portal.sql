-- The public projection: what the portal, feeds and the open API read. Rows are written
-- in the same transaction as the workflow change that makes an item live (or not), from
-- the live version's snapshot, so an unapproved revision never reaches the public.
CREATE TABLE pub_items (
    item_id INTEGER PRIMARY KEY REFERENCES items(id),
    site_id INTEGER NOT NULL REFERENCES sites(id),      -- the home column's site
    home_column_id INTEGER NOT NULL REFERENCES columns(id),
    class_code TEXT NOT NULL,
    title TEXT NOT NULL,
    subtitle TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',                      -- sanitised HTML of the live version
    source TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    cover_attachment_id INTEGER,
    index_no TEXT,
    publisher_org_id INTEGER REFERENCES orgs(id),
    subject_code TEXT,
    genre TEXT,
    doc_no TEXT NOT NULL DEFAULT '',
    written_on TEXT,
    published_on TEXT NOT NULL,                         -- 'YYYY-MM-DD'
    year INTEGER NOT NULL,
    validity TEXT NOT NULL,
    validity_on TEXT,
    replaced_by_item_id INTEGER,
    keywords TEXT NOT NULL DEFAULT '',
    disclosure_mode TEXT NOT NULL,
    disclosure_scope TEXT NOT NULL DEFAULT '',
    five_open TEXT,
    art20 TEXT,
    is_rule BOOLEAN NOT NULL DEFAULT FALSE,
    is_normative BOOLEAN NOT NULL DEFAULT FALSE,
    interpretation_form TEXT,
    live_version INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- The group-wide newest-first list (open API without a site or column).
CREATE INDEX pub_items_date ON pub_items(published_on DESC, item_id DESC);

-- Where a live item is listed: one row per column (home and pushed), newest first.
CREATE TABLE pub_placements (
    column_id INTEGER NOT NULL REFERENCES columns(id),
    item_id INTEGER NOT NULL REFERENCES items(id),
    published_on TEXT NOT NULL,
    PRIMARY KEY (column_id, item_id)
);
CREATE INDEX pub_placements_list ON pub_placements(column_id, published_on DESC, item_id DESC);
CREATE INDEX pub_placements_item ON pub_placements(item_id);

-- One row per (site, live item) with the disclosure catalogue's filter fields, so every
-- combination of filters is an index range on one table.
CREATE TABLE pub_site_items (
    site_id INTEGER NOT NULL REFERENCES sites(id),
    item_id INTEGER NOT NULL REFERENCES items(id),
    published_on TEXT NOT NULL,
    year INTEGER NOT NULL,
    disclosure BOOLEAN NOT NULL,                        -- has a 索引号: listed under 法定主动公开内容
    art20 TEXT,
    subject_code TEXT,
    publisher_org_id INTEGER,
    genre TEXT,
    class_code TEXT NOT NULL,
    PRIMARY KEY (site_id, item_id)
);
-- Each index leads with one filter and the list order, and carries the other filter
-- columns, so a filtered list or count never visits the table (covering index scans).
CREATE INDEX pub_site_items_date ON pub_site_items(site_id, disclosure, published_on DESC, item_id DESC, art20, subject_code, publisher_org_id, genre, year);
CREATE INDEX pub_site_items_art20 ON pub_site_items(site_id, disclosure, art20, published_on DESC, item_id DESC, subject_code, publisher_org_id, genre, year);
CREATE INDEX pub_site_items_subject ON pub_site_items(site_id, disclosure, subject_code, published_on DESC, item_id DESC, art20, publisher_org_id, genre, year);
CREATE INDEX pub_site_items_org ON pub_site_items(site_id, disclosure, publisher_org_id, published_on DESC, item_id DESC, art20, subject_code, genre, year);
CREATE INDEX pub_site_items_genre ON pub_site_items(site_id, disclosure, genre, published_on DESC, item_id DESC, art20, subject_code, publisher_org_id, year);
CREATE INDEX pub_site_items_year ON pub_site_items(site_id, disclosure, year, published_on DESC, item_id DESC, art20, subject_code, publisher_org_id, genre);
-- Everything a site shows, newest first (feeds, sitemap, home).
CREATE INDEX pub_site_items_latest ON pub_site_items(site_id, published_on DESC, item_id DESC);
CREATE INDEX pub_site_items_item ON pub_site_items(item_id);
