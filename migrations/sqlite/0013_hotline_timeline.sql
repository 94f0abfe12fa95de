-- As PostgreSQL's 0013: the timeline's order_id and leg_id lose their per-row foreign-key
-- check (the catch-up sweep over 1,000,000 open orders spent about 1 s of 7 s on it).
-- SQLite cannot drop a constraint, so the table is rebuilt with the same columns and ids.
CREATE TABLE hl_events_new (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL,
    leg_id INTEGER,
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
INSERT INTO hl_events_new (id, order_id, leg_id, at, day, actor, actor_id, kind, value, on_time, text, state, public)
    SELECT id, order_id, leg_id, at, day, actor, actor_id, kind, value, on_time, text, state, public FROM hl_events;
DROP TABLE hl_events;
ALTER TABLE hl_events_new RENAME TO hl_events;
CREATE INDEX hl_events_order ON hl_events(order_id, id);
-- As on PostgreSQL, the day index carries the instant (the live count after the roll-up's
-- cut of today).
CREATE INDEX hl_events_day ON hl_events(day, at);
