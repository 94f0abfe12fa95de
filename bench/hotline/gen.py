#!/usr/bin/env python3
"""Bulk-generate hotline work orders for bench/hotline.sh with set-based SQL.

    gen.py sweep sqlite DB_FILE ORDERS NOW_MS
    gen.py stats pg     DB_URL  ORDERS NOW_MS

The database must be migrated by the real binary and hold the demo district (`gongkai demo`
run once and stopped): orgs, users, the category tree and the gazetteer are read from it.
Rows go straight into hl_orders, hl_legs and hl_events with INSERT … SELECT over a number
series (SQLite: a recursive CTE; PostgreSQL: generate_series), in chunks of CHUNK orders,
each order's values derived from its number by a fixed hash (the same data every run).
The secondary indexes of the three tables are dropped for the load and recreated from
their own definitions afterwards (PostgreSQL: foreign-key triggers off for the load
session, sequences moved past the new ids, VACUUM ANALYZE as autovacuum would do).

sweep: ORDERS open orders as the SLA sweep finds them at NOW_MS — 5 % received (no leg),
  25 % with a pending leg, 60 % accepted, 10 % waiting for the callback; newly late
  (unflagged) about 2 % of pending, 5 % of accepted and 0.5 % of callback orders; already
  flagged 1 % and 2 %; 5 % with the handling limit due within 24 hours (reminders); every
  tenth dispatched order has a 协办 leg too. Timeline: received, dispatched, accepted,
  replied, review_passed and the earlier overdue entries.
stats: ORDERS orders received evenly over the 365 days before NOW_MS, each simulated to
  NOW_MS: 25 % answered directly (received, direct, closed), the rest dispatched (every
  tenth to a 协办 organisation too), accepted (8 % late), replied (12 % late), reviewed,
  called back (80 % satisfied, 12 % basic, 4 % unsatisfied, 4 % unreached) and closed;
  overdue entries for the late legs. The timeline holds the kinds the statistics count
  (received, direct, dispatched, accepted, replied, callback, closed, overdue), and the
  descriptions are short: 10,000,000 orders must fit a small machine's disk (about 2 KB an
  order on PostgreSQL). Entries after NOW_MS are not written, so recent orders stand in
  every state.

Prints one line per chunk to stderr and a summary (rows, seconds) to stdout.
"""

import os
import subprocess
import sys
import tempfile
import time

DAY = 86_400_000
HOUR = 3_600_000
MIN = 60_000
TZ = 8 * HOUR  # Asia/Shanghai, no daylight saving
TABLES = ("hl_orders", "hl_legs", "hl_events")
NC = NP = 1  # how many leaf categories and communities (set in main)
MULS = [2654435761, 2246822519, 3266489917, 668265263, 374761393, 1103515245, 1664525, 22695477,
        1566083941, 1812433253, 214013, 134775813, 1140671485, 2891336453, 747796405, 4294967291 // 3]


def H(i):
    """A fixed hash of the order number n (non-negative, below 2^31)."""
    return f"((n * {MULS[i % len(MULS)]} + {i * 7919 + 13}) % 2147483647)"


class Backend:
    def __init__(self, kind, target):
        self.kind = kind
        self.target = target
        if kind == "sqlite":
            import sqlite3
            self.db = sqlite3.connect(target, isolation_level=None)
            self.db.execute("PRAGMA foreign_keys = OFF")
            # The load is one-off and restartable: no journal, no syncs, a large cache.
            self.db.execute("PRAGMA journal_mode = OFF")
            self.db.execute("PRAGMA synchronous = OFF")
            self.db.execute("PRAGMA cache_size = -1000000")
            self.db.execute("PRAGMA temp_store = MEMORY")
        else:
            self.sql = []

    def rows(self, sql):
        if self.kind == "sqlite":
            return [tuple(r) for r in self.db.execute(sql).fetchall()]
        out = subprocess.run(["psql", self.target, "-X", "-qAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                             check=True, capture_output=True, text=True).stdout
        return [tuple(line.split("\t")) for line in out.splitlines() if line]

    def day(self, x):
        """The local day 'YYYY-MM-DD' of epoch milliseconds x."""
        if self.kind == "sqlite":
            return f"strftime('%Y-%m-%d', (({x}) + {TZ}) / 1000, 'unixepoch')"
        return f"to_char(DATE '1970-01-01' + CAST((({x}) + {TZ}) / {DAY} AS INTEGER), 'YYYY-MM-DD')"

    def order_no(self, t, oid):
        if self.kind == "sqlite":
            return f"strftime('%Y%m%d', (({t}) + {TZ}) / 1000, 'unixepoch') || '-' || printf('%06d', {oid})"
        return (f"to_char(DATE '1970-01-01' + CAST((({t}) + {TZ}) / {DAY} AS INTEGER), 'YYYYMMDD') || '-' || "
                f"CASE WHEN {oid} < 1000000 THEN lpad(CAST({oid} AS TEXT), 6, '0') ELSE CAST({oid} AS TEXT) END")

    def series(self, lo, hi):
        if self.kind == "sqlite":
            return f"g(n) AS (SELECT {lo} UNION ALL SELECT n + 1 FROM g WHERE n < {hi})"
        return f"g(n) AS (SELECT CAST(x AS BIGINT) FROM generate_series({lo}, {hi}) AS x)"

    def run(self, sql):
        if self.kind == "sqlite":
            self.db.execute(sql)
        else:
            self.sql.append(sql.rstrip().rstrip(";") + ";")

    def chunk_done(self, label):
        if self.kind == "sqlite":
            print(label, file=sys.stderr, flush=True)
        else:
            self.sql.append(f"\\echo {label}")

    def flush(self):
        if self.kind == "pg" and self.sql:
            with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
                if os.environ.get("GEN_TIMING"):
                    f.write("\\timing on\n")
                f.write("\n".join(self.sql) + "\n")
                name = f.name
            self.sql = []
            try:
                subprocess.run(["psql", self.target, "-X", "-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1", "-f", name],
                               check=True, stdout=sys.stderr)
            finally:
                if not os.environ.get("GEN_KEEP"):
                    os.unlink(name)
                else:
                    print(f"gen.py: SQL kept in {name}", file=sys.stderr)


def secondary_indexes(b):
    """(name, CREATE statement) of the tables' indexes that no constraint needs."""
    names = ", ".join(f"'{t}'" for t in TABLES)
    if b.kind == "sqlite":
        return b.rows(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                      f"AND tbl_name IN ({names}) ORDER BY name")
    return b.rows(f"SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
                  f"AND i.tablename IN ({names}) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                  f"WHERE c.conname = i.indexname) ORDER BY i.indexname")


def reference(b):
    cats = b.rows("SELECT c.id, COALESCE(c.top_id, c.id), c.code, COALESCE(c.default_org_id, 0), c.name "
                  "FROM hl_categories c WHERE c.parent_id IS NOT NULL AND c.active = 1 ORDER BY c.id")
    places = b.rows("SELECT id, street, community, COALESCE(org_id, 0) FROM hl_places "
                    "WHERE community <> '' ORDER BY id")
    orgs = [int(r[0]) for r in b.rows("SELECT id FROM orgs ORDER BY id")]
    agent = b.rows("SELECT id FROM users WHERE username = 'agent'")
    if not cats or not places or not orgs:
        sys.exit("gen.py: no demo categories, places or orgs: run `gongkai demo` on the database first")
    short = {r[1]: int(r[0]) for r in b.rows("SELECT id, short_name FROM orgs")}
    fallback = short.get("区府办", orgs[0])
    co = [short.get("区卫健局", orgs[-1]), short.get("区住建局", orgs[0])]
    return cats, places, fallback, co, (int(agent[0][0]) if agent else None)


def q(s):
    return "'" + str(s).replace("'", "''") + "'"


def temp_tables(b, cats, places, fallback):
    b.run("DROP TABLE IF EXISTS bc")
    b.run("DROP TABLE IF EXISTS bp")
    b.run("CREATE TEMP TABLE bc (k INTEGER PRIMARY KEY, id BIGINT, top BIGINT, org BIGINT, biz INTEGER, name TEXT)")
    b.run("CREATE TEMP TABLE bp (k INTEGER PRIMARY KEY, id BIGINT, street TEXT, community TEXT, org BIGINT)")
    b.run("INSERT INTO bc VALUES " + ", ".join(
        f"({k}, {c[0]}, {c[1]}, {int(c[3])}, {1 if str(c[2]).startswith('biz') else 0}, {q(c[4])})"
        for k, c in enumerate(cats)))
    b.run("INSERT INTO bp VALUES " + ", ".join(
        f"({k}, {p[0]}, {q(p[1])}, {q(p[2])}, {int(p[3]) or fallback})" for k, p in enumerate(places)))


KIND = (f"CASE WHEN {H(3)} % 100 < 20 THEN 'consult' WHEN {H(3)} % 100 < 45 THEN 'help' "
        f"WHEN {H(3)} % 100 < 70 THEN 'complain' WHEN {H(3)} % 100 < 85 THEN 'report' "
        f"WHEN {H(3)} % 100 < 95 THEN 'suggest' ELSE 'praise' END")
CHANNEL = (f"CASE WHEN {H(4)} % 100 < 60 THEN 'phone' WHEN {H(4)} % 100 < 72 THEN 'web' "
           f"WHEN {H(4)} % 100 < 84 THEN 'wechat' WHEN {H(4)} % 100 < 92 THEN 'app' "
           f"WHEN {H(4)} % 100 < 95 THEN 'weibo' WHEN {H(4)} % 100 < 98 THEN 'email' ELSE 'open311' END")
NAMES = ["林秀英", "王建华", "张丽", "陈志强", "刘芳", "赵敏", "孙伟", "周杰", "吴静", "郑浩", "冯雪", "何磊"]
CALLER = "CASE " + " ".join(f"WHEN {H(5)} % {len(NAMES)} = {i} THEN '{nm}'" for i, nm in enumerate(NAMES)) + " END"
CONTENT = "反映的问题已持续多日，影响周边居民正常生活，请有关部门尽快核实处理并答复。"


def order_columns(b, agent, full=True):
    """Columns common to both modes, as (name, expression) over b (base row), bc, bp; `full`
    False: a short description (the statistics never read it; it keeps 10,000,000 orders
    within the disk of a small machine)."""
    return [
        ("id", "b.id"),
        ("no", b.order_no("b.t0", "b.id")),
        ("channel", "b.channel"),
        ("caller_name", CALLER),
        ("caller_phone", f"'139' || substr(CAST(100000000 + {H(6)} % 100000000 AS TEXT), 2)"),
        ("kind", "b.kind"),
        ("category_id", "bc.id"),
        ("category_top", "bc.top"),
        ("urgency", "'normal'"),
        ("tags", f"CASE WHEN bc.biz = 1 OR {H(7)} % 20 = 0 THEN '营商环境' ELSE '' END"),
        ("title", "bc.name || '问题反映'"),
        ("content", f"bp.street || bp.community || '：' || bc.name || '，{CONTENT}'" if full else "bc.name || '，' || bp.community"),
        ("address", "bp.street || bp.community"),
        ("place_id", "bp.id"),
        ("street", "bp.street"),
        ("agent_id", f"CASE WHEN b.channel = 'phone' THEN {agent if agent else 'NULL'} END"),
        ("received_at", "b.t0"),
        ("received_on", b.day("b.t0")),
    ]


def insert(b, table, cols, with_sql, frm, where="1 = 1", order=None):
    names = ", ".join(c[0] for c in cols)
    exprs = ",\n  ".join(f"{c[1]} AS {c[0]}" for c in cols)
    sql = f"{with_sql}\nINSERT INTO {table} ({names})\nSELECT {exprs}\nFROM {frm}\nWHERE {where}"
    if order:
        sql += f"\nORDER BY {order}"
    b.run(sql)


def event(leg, at, kind, state, actor, text="", value="''", on_time="NULL", public=0, cond="1 = 1"):
    """One SELECT of timeline entries from base rows `x` (the caller's union)."""
    # Typed, so PostgreSQL can match the union's columns when a first branch has NULLs.
    return (f"SELECT x.id AS order_id, CAST({leg} AS BIGINT) AS leg_id, {at} AS at, "
            f"CAST({actor} AS TEXT) AS actor, CAST('{kind}' AS TEXT) AS kind, CAST({value} AS TEXT) AS value, "
            f"CAST({on_time} AS INTEGER) AS on_time, CAST('{text}' AS TEXT) AS text, "
            f"CAST('{state}' AS TEXT) AS state, {public} AS public FROM x WHERE {cond}")


def events_insert(b, with_sql, selects, now):
    union = "\nUNION ALL\n".join(selects)
    b.run(f"{with_sql},\ne AS ({union})\n"
          f"INSERT INTO hl_events (order_id, leg_id, at, day, actor, kind, value, on_time, text, state, public)\n"
          f"SELECT order_id, leg_id, at, {b.day('at')}, actor, kind, value, on_time, text, state, public\n"
          f"FROM e WHERE at <= {now} ORDER BY at")


# --- stats: a year of orders ------------------------------------------------------------

def stats_chunk(b, lo, hi, n_total, now, ob, lb, agent, co):
    # SPAN_DAYS (analysis only): the same orders per day as a bigger year in a smaller database.
    span = int(os.environ.get("SPAN_DAYS", "365")) * DAY
    start = now - span
    base = f"""WITH RECURSIVE {b.series(lo, hi)},
b0 AS (SELECT n, {ob} + n AS id, {start} + ((n - 1) * {span}) / {n_total} AS t0,
  {KIND} AS kind, {CHANNEL} AS channel,
  {H(0)} % 100 < 25 AS dir, {H(1)} % 10 = 0 AS has_co,
  {H(8)} % 100 < 8 AS acc_late, {H(9)} % 100 < 12 AS rep_late, {H(10)} % 100 AS cbv,
  {H(11)} AS h11, {H(12)} AS h12, {H(13)} AS h13, {H(14)} AS h14, {H(2)} AS hc, {H(15)} AS hp FROM g),
b1 AS (SELECT b0.*, t0 + 10 * {MIN} + h11 % (50 * {MIN}) AS td FROM b0),
b2 AS (SELECT b1.*, CASE WHEN acc_late THEN td + {DAY} + {HOUR} + h12 % {DAY}
    ELSE td + 10 * {MIN} + h12 % (6 * {HOUR}) END AS ta FROM b1),
b3 AS (SELECT b2.*, CASE WHEN rep_late THEN td + 7 * {DAY} + {HOUR} + h13 % (3 * {DAY})
    ELSE ta + {HOUR} + h13 % (4 * {DAY}) END AS tr FROM b2),
b4 AS (SELECT b3.*, tr + 2 * {HOUR} + h14 % (18 * {HOUR}) AS tv FROM b3),
b AS (SELECT b4.*, tv + 2 * {HOUR} + (h11 / 7) % (28 * {HOUR}) AS tc, t0 + 5 * {MIN} AS tx FROM b4)"""
    org = f"CASE WHEN bc.org <> 0 THEN bc.org ELSE bp.org END"
    cols = order_columns(b, agent, full=False) + [
        ("state", f"""CASE WHEN dir THEN (CASE WHEN tx <= {now} THEN 'closed' ELSE 'received' END)
    WHEN tc <= {now} THEN 'closed' WHEN tv <= {now} THEN 'callback' WHEN tr <= {now} THEN 'replied'
    WHEN td <= {now} THEN 'dispatched' ELSE 'received' END"""),
        ("direct", f"CASE WHEN dir AND tx <= {now} THEN 1 ELSE 0 END"),
        ("answer", f"CASE WHEN (dir AND tx <= {now}) OR (NOT dir AND tr <= {now}) THEN '已按政策答复' ELSE '' END"),
        ("reviewed_at", f"CASE WHEN NOT dir AND tv <= {now} THEN tv END"),
        ("callback_limit", f"CASE WHEN NOT dir AND tv <= {now} THEN '2wd' ELSE '' END"),
        ("callback_due", f"CASE WHEN NOT dir AND tv <= {now} THEN tv + 2 * {DAY} END"),
        ("callback_at", f"CASE WHEN NOT dir AND tc <= {now} THEN tc END"),
        ("reached", f"CASE WHEN NOT dir AND tc <= {now} THEN (CASE WHEN cbv < 96 THEN 1 ELSE 0 END) END"),
        ("resolved", f"CASE WHEN NOT dir AND tc <= {now} AND cbv < 96 THEN (CASE WHEN cbv < 92 THEN 1 ELSE 0 END) END"),
        ("satisfaction", f"""CASE WHEN NOT dir AND tc <= {now} THEN (CASE WHEN cbv < 80 THEN 'satisfied'
    WHEN cbv < 92 THEN 'basic' WHEN cbv < 96 THEN 'unsatisfied' END) END"""),
        ("closed_at", f"CASE WHEN dir AND tx <= {now} THEN tx WHEN NOT dir AND tc <= {now} THEN tc END"),
        ("closed_on_time", f"""CASE WHEN dir AND tx <= {now} THEN 1
    WHEN NOT dir AND tc <= {now} THEN (CASE WHEN rep_late THEN 0 ELSE 1 END) END"""),
        ("overdue", f"""CASE WHEN NOT dir AND tc > {now} AND td <= {now} AND ((acc_late AND ta > {now}
    AND td + {DAY} < {now}) OR (rep_late AND tr > {now} AND td + 7 * {DAY} < {now})) THEN 1 ELSE 0 END"""),
        ("updated_at", f"{now}"),
    ]
    frm = f"b JOIN bc ON bc.k = b.hc % {NC} JOIN bp ON bp.k = b.hp % {NP}"
    insert(b, "hl_orders", cols, base, frm)

    def leg_cols(lid, role, org_expr, shift):
        return [
            ("id", lid), ("order_id", "b.id"), ("org_id", org_expr), ("role", f"'{role}'"),
            ("state", f"""CASE WHEN tc <= {now} THEN 'done' WHEN tr + {shift} <= {now} THEN 'replied'
    WHEN ta + {shift} <= {now} THEN 'accepted' ELSE 'pending' END"""),
            ("dispatched_at", "td"), ("handle_from", "td"),
            ("accept_limit", "'1wd'"), ("return_limit", "'2wd'"), ("handle_limit", "'5wd'"),
            ("accept_due", f"td + {DAY}"), ("return_due", f"td + 2 * {DAY}"), ("handle_due", f"td + 7 * {DAY}"),
            ("accepted_at", f"CASE WHEN ta + {shift} <= {now} THEN ta + {shift} END"),
            ("accepted_on_time", f"CASE WHEN ta + {shift} <= {now} THEN (CASE WHEN acc_late THEN 0 ELSE 1 END) END"),
            ("replied_at", f"CASE WHEN tr + {shift} <= {now} THEN tr + {shift} END"),
            ("reply", f"CASE WHEN tr + {shift} <= {now} THEN '已按政策答复' ELSE '' END"),
            ("replied_on_time", f"CASE WHEN tr + {shift} <= {now} THEN (CASE WHEN rep_late THEN 0 ELSE 1 END) END"),
            ("overdue", f"""CASE WHEN tc > {now} AND ((acc_late AND ta > {now} AND td + {DAY} < {now})
    OR (rep_late AND tr > {now} AND td + 7 * {DAY} < {now})) THEN (CASE WHEN ta > {now} THEN 1 ELSE 2 END) ELSE 0 END"""),
            ("updated_at", f"{now}"),
        ]
    insert(b, "hl_legs", leg_cols(f"{lb} + b.n", "main", org, 0), base, frm, f"NOT dir AND td <= {now}")
    co_org = f"CASE WHEN ({org}) = {co[0]} THEN {co[1]} ELSE {co[0]} END"
    insert(b, "hl_legs", leg_cols(f"{lb} + {n_total} + b.n", "co", co_org, MIN), base, frm,
           f"NOT dir AND has_co AND td <= {now}")

    leg = f"{lb} + x.n"
    cleg = f"{lb} + {n_total} + x.n"
    sysact, agent_act, org_act = "'系统'", "'吴坐席（agent）'", "'承办单位'"
    late_acc = "CASE WHEN acc_late THEN 0 ELSE 1 END"
    late_rep = "CASE WHEN rep_late THEN 0 ELSE 1 END"
    d = "NOT dir"
    sel = [
        event("NULL", "t0", "received", "received", agent_act, "工单已受理", public=1),
        event("NULL", "tx", "direct", "received", agent_act, "已直接答复", cond="dir"),
        event("NULL", "tx", "closed", "closed", agent_act, "直接答复办结", on_time="1", public=1, cond="dir"),
        event(leg, "td", "dispatched", "dispatched", agent_act, "已派单", cond=d),
        event(cleg, "td", "dispatched", "dispatched", agent_act, "已派单（协办）", cond=f"{d} AND has_co"),
        event(leg, "ta", "accepted", "dispatched", org_act, "已签收", on_time=late_acc, cond=d),
        event(cleg, f"ta + {MIN}", "accepted", "dispatched", org_act, "已签收", on_time=late_acc,
              cond=f"{d} AND has_co"),
        event(leg, f"td + {DAY}", "overdue", "dispatched", sysact, "超过签收时限", value="'accept'",
              cond=f"{d} AND acc_late"),
        event(leg, f"td + 7 * {DAY}", "overdue", "dispatched", sysact, "超过办理时限", value="'handle'",
              cond=f"{d} AND rep_late"),
        event(leg, "tr", "replied", "replied", org_act, "已按政策答复", on_time=late_rep, cond=d),
        event(cleg, f"tr + {MIN}", "replied", "replied", org_act, "已按政策答复", on_time=late_rep,
              cond=f"{d} AND has_co"),
        event("NULL", "tc", "callback", "callback", agent_act, "回访",
              value="CASE WHEN cbv < 80 THEN 'satisfied' WHEN cbv < 92 THEN 'basic' "
                    "WHEN cbv < 96 THEN 'unsatisfied' ELSE 'unreached' END", cond=d),
        event("NULL", "tc", "closed", "closed", agent_act, "回访办结", on_time=late_rep, public=1, cond=d),
    ]
    events_insert(b, base + ",\nx AS (SELECT * FROM b)", sel, now)


# --- sweep: a million open orders -------------------------------------------------------

def sweep_chunk(b, lo, hi, n_total, now, ob, lb, agent, co):
    # u: which kind of open order (per mille); the due instants relative to now.
    base = f"""WITH RECURSIVE {b.series(lo, hi)},
b0 AS (SELECT n, {ob} + n AS id, {H(0)} % 1000 AS u, {KIND} AS kind, {CHANNEL} AS channel,
  {H(1)} % 10 = 0 AS has_co, {H(11)} AS h11, {H(2)} AS hc, {H(15)} AS hp FROM g),
b1 AS (SELECT b0.*,
  CASE WHEN u < 50 THEN NULL
    WHEN u < 80 THEN {now} - {HOUR} - h11 % (2 * {DAY}) - {DAY}
    WHEN u < 300 THEN {now} + 10 * {MIN} + h11 % {DAY} - {DAY}
    WHEN u < 370 THEN {now} - {HOUR} - h11 % (5 * {DAY}) - 7 * {DAY}
    WHEN u < 420 THEN {now} + 10 * {MIN} + h11 % (23 * {HOUR}) - 7 * {DAY}
    WHEN u < 900 THEN {now} + {DAY} + h11 % (13 * {DAY}) - 7 * {DAY}
    ELSE {now} - 4 * {DAY} - h11 % (3 * {DAY}) END AS td FROM b0),
b AS (SELECT b1.*, CASE WHEN u < 50 THEN {now} - h11 % (4 * {HOUR}) ELSE td - 30 * {MIN} END AS t0,
  CASE WHEN u < 900 THEN NULL WHEN u < 905 THEN {now} - {HOUR} - h11 % {DAY}
    ELSE {now} + {HOUR} + h11 % (2 * {DAY}) END AS cbdue FROM b1)"""
    flagged = "(u >= 70 AND u < 80) OR (u >= 350 AND u < 370)"
    cols = order_columns(b, agent) + [
        ("state", "CASE WHEN u < 50 THEN 'received' WHEN u < 900 THEN 'dispatched' ELSE 'callback' END"),
        ("answer", "CASE WHEN u >= 900 THEN '已按政策答复' ELSE '' END"),
        ("reviewed_at", f"CASE WHEN u >= 900 THEN cbdue - 2 * {DAY} END"),
        ("callback_limit", "CASE WHEN u >= 900 THEN '2wd' ELSE '' END"),
        ("callback_due", "cbdue"),
        ("overdue", f"CASE WHEN {flagged} THEN 1 ELSE 0 END"),
        ("updated_at", f"{now}"),
    ]
    frm = f"b JOIN bc ON bc.k = b.hc % {NC} JOIN bp ON bp.k = b.hp % {NP}"
    insert(b, "hl_orders", cols, base, frm)
    org = "CASE WHEN bc.org <> 0 THEN bc.org ELSE bp.org END"

    def leg_cols(lid, role, org_expr):
        return [
            ("id", lid), ("order_id", "b.id"), ("org_id", org_expr), ("role", f"'{role}'"),
            ("state", "CASE WHEN u < 300 THEN 'pending' WHEN u < 900 THEN 'accepted' ELSE 'replied' END"),
            ("dispatched_at", "td"), ("handle_from", "td"),
            ("accept_limit", "'1wd'"), ("return_limit", "'2wd'"), ("handle_limit", "'5wd'"),
            ("accept_due", f"td + {DAY}"), ("return_due", f"td + 2 * {DAY}"), ("handle_due", f"td + 7 * {DAY}"),
            ("accepted_at", f"CASE WHEN u >= 300 THEN td + 2 * {HOUR} END"),
            ("accepted_on_time", "CASE WHEN u >= 300 THEN 1 END"),
            ("replied_at", f"CASE WHEN u >= 900 THEN cbdue - 2 * {DAY} - 2 * {HOUR} END"),
            ("reply", "CASE WHEN u >= 900 THEN '已按政策答复' ELSE '' END"),
            ("replied_on_time", "CASE WHEN u >= 900 THEN 1 END"),
            ("overdue", "CASE WHEN u >= 70 AND u < 80 THEN 1 WHEN u >= 350 AND u < 370 THEN 2 ELSE 0 END"),
            ("updated_at", f"{now}"),
        ]
    insert(b, "hl_legs", leg_cols(f"{lb} + b.n", "main", org), base, frm, "u >= 50")
    co_org = f"CASE WHEN ({org}) = {co[0]} THEN {co[1]} ELSE {co[0]} END"
    insert(b, "hl_legs", leg_cols(f"{lb} + {n_total} + b.n", "co", co_org), base, frm, "u >= 50 AND has_co")
    agent_act, org_act, sysact = "'吴坐席（agent）'", "'承办单位'", "'系统'"
    sel = [event("NULL", "t0", "received", "received", agent_act, "工单已受理", public=1)]
    for lid, extra in ((f"{lb} + x.n", ""), (f"{lb} + {n_total} + x.n", " AND has_co")):
        sel += [
            event(lid, "td", "dispatched", "dispatched", agent_act, "已派单", cond=f"u >= 50{extra}"),
            event(lid, f"td + 2 * {HOUR}", "accepted", "dispatched", org_act, "已签收", on_time="1",
                  cond=f"u >= 300{extra}"),
            event(lid, f"cbdue - 2 * {DAY} - 2 * {HOUR}", "replied", "replied", org_act, "已按政策答复",
                  on_time="1", cond=f"u >= 900{extra}"),
            event(lid, f"td + {DAY}", "overdue", "dispatched", sysact, "超过签收时限", value="'accept'",
                  cond=f"u >= 70 AND u < 80{extra}"),
            event(lid, f"td + 7 * {DAY}", "overdue", "dispatched", sysact, "超过办理时限", value="'handle'",
                  cond=f"u >= 350 AND u < 370{extra}"),
        ]
    sel.append(event("NULL", f"cbdue - 2 * {DAY}", "review_passed", "callback", agent_act, "已按政策答复",
                     public=1, cond="u >= 900"))
    events_insert(b, base + ",\nx AS (SELECT * FROM b)", sel, now)


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("sweep", "stats") or sys.argv[2] not in ("sqlite", "pg"):
        sys.exit(__doc__)
    mode, kind, target, n_total, now = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    chunk = int(os.environ.get("CHUNK", "250000"))
    started = time.time()
    b = Backend(kind, target)
    cats, places, fallback, co, agent = reference(b)
    global NC, NP
    NC, NP = len(cats), len(places)
    ob = int(b.rows("SELECT COALESCE(MAX(id), 0) FROM hl_orders")[0][0])
    lb = int(b.rows("SELECT COALESCE(MAX(id), 0) FROM hl_legs")[0][0])
    before = int(b.rows("SELECT COUNT(*) FROM hl_events")[0][0])
    indexes = secondary_indexes(b)
    if kind == "pg":
        # Foreign keys are satisfied by construction; their per-row triggers would dominate the load.
        b.run("SET session_replication_role = replica")
        b.run("SET work_mem = '256MB'")
        b.run("SET jit = off")  # compiling these wide expressions costs seconds per statement
        b.run("SET maintenance_work_mem = '1GB'")
    for name, _ in indexes:
        b.run(f"DROP INDEX {name}")
    temp_tables(b, cats, places, fallback)
    if kind == "sqlite":
        b.run("BEGIN")
    b.chunk_done(f"gen.py: {mode} {kind}: {n_total} orders, indexes dropped for the load: "
                 f"{', '.join(n for n, _ in indexes)}")
    step = sweep_chunk if mode == "sweep" else stats_chunk
    lo = 1
    while lo <= n_total:
        hi = min(n_total, lo + chunk - 1)
        step(b, lo, hi, n_total, now, ob, lb, agent, co)
        if kind == "sqlite":
            b.run("COMMIT")
            b.run("BEGIN")
        b.chunk_done(f"gen.py: orders {lo}-{hi} of {n_total} written")
        lo = hi + 1
    if kind == "sqlite":
        b.run("COMMIT")
    b.chunk_done("gen.py: recreating indexes")
    for _, sql in indexes:
        b.run(sql)
    if kind == "pg":
        for t in ("hl_orders", "hl_legs", "hl_events"):
            b.run(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))")
        b.run("RESET session_replication_role")
        b.flush()
        b.run("VACUUM ANALYZE hl_orders")
        b.run("VACUUM ANALYZE hl_legs")
        b.run("VACUUM ANALYZE hl_events")
        b.flush()
    else:
        b.db.execute("PRAGMA journal_mode = WAL")
        b.db.close()
    took = time.time() - started
    b2 = Backend(kind, target) if kind == "pg" else None
    if kind == "sqlite":
        import sqlite3
        db = sqlite3.connect(target)
        counts = [db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES]
        db.close()
    else:
        counts = [int(b2.rows(f"SELECT COUNT(*) FROM {t}")[0][0]) for t in TABLES]
    print(f"orders={counts[0]} legs={counts[1]} events={counts[2]} new_events={counts[2] - before} "
          f"seconds={took:.1f}")


if __name__ == "__main__":
    main()
