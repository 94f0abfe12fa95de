-- PostgreSQL's 0012 leaves room in the pages of hl_orders and hl_legs for in-place
-- updates; SQLite has no such setting. Kept so both backends number their migrations alike.
SELECT 1;
