#!/usr/bin/env bash
# The 12345 hotline under load (issue 7), release build, SQLite and PostgreSQL in one run:
#  1. Open311 GeoReport v2 `POST /open311/v2/requests.json` with wrk at 200 connections on
#     a `gongkai demo` server (the demo client's key), every request a new service request
#     with its own description and Idempotency-Key; every acknowledged service_request_id
#     (200/201) must be stored exactly once in hl_orders, with its one `received` entry.
#  2. The SLA sweep (`gongkai job run hl.sweep`) over SWEEP_ORDERS (1,000,000) open orders
#     bulk-generated into a demo database, run twice: the first flags what is newly late
#     (and remembers the calendar's fingerprint), the second finds nothing new.
#  3. A year's statistics over STATS_ORDERS (10,000,000) orders bulk-generated with their
#     timeline: `gongkai job run hl.rollup` (the first roll-up of the whole year, and of
#     today's entries up to ten minutes before, as the hourly job does), then
#     GET /console/hotline/stats for the last year as the demo supervisor, 10 times.
# Bulk data: bench/hotline/gen.py (set-based INSERT … SELECT; see its header).
#
#   bench/hotline.sh            # print the figures (Markdown) to stdout
#   bench/hotline.sh --record   # also append them to bench/RESULTS.md
#
# Environment: DURATION=20 (seconds of each wrk run) CONNS=200 THREADS=2 RATE=2200 (offered in
#   the paced Open311 run: each connection pauses a random think time, mean CONNS/RATE s, after
#   each answer; a little above the target since each client also waits for its answers)
#   SWEEP_ORDERS=1000000 STATS_ORDERS=10000000 STATS_REQUESTS=10
#   PARTS=open311,sweep,stats BACKENDS=sqlite,postgresql (a subset: the report names what it ran)
#   PG_URL=postgres://postgres@127.0.0.1:5432 (a server where scratch databases may be made, as a
#   superuser: the bulk load turns foreign-key triggers off for its session)
# Targets (issue 7): Open311 ≥ 2,000 creations/s on SQLite with p99 < 50 ms; the sweep over
# 1,000,000 open orders < 5 s; a year's statistics over 10,000,000 orders < 1 s.

set -euo pipefail

DURATION=${DURATION:-20}
CONNS=${CONNS:-200}
THREADS=${THREADS:-2}
RATE=${RATE:-2200}
THINK_MS=$(awk -v c="${CONNS:-200}" -v r="$RATE" 'BEGIN { printf "%d", c * 1000 / r }')
SWEEP_ORDERS=${SWEEP_ORDERS:-1000000}
STATS_ORDERS=${STATS_ORDERS:-10000000}
STATS_REQUESTS=${STATS_REQUESTS:-10}
PARTS=${PARTS:-open311,sweep,stats}
BACKENDS=${BACKENDS:-sqlite,postgresql}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
START_LIMIT_SECS=300
STOP_LIMIT_SECS=20
GEN_LIMIT_SECS=14400
JOB_LIMIT_SECS=7200
# Disk per generated order of the statistics part, measured on trial runs (tables and
# indexes, plus room for the index builds' sort files and the WAL).
SQLITE_KB_PER_ORDER=1.4
PG_KB_PER_ORDER=2.3
RECORD=0
[ "${1:-}" = "--record" ] && RECORD=1

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
for tool in cargo curl python3 timeout psql df awk sort uniq; do
	command -v "$tool" >/dev/null || { echo "hotline.sh: $tool is required" >&2; exit 1; }
done
if ! command -v wrk >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q wrk >&2
	fi
	command -v wrk >/dev/null || { echo "hotline.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }
fi
has() { case ",$1," in *",$2,"*) return 0 ;; *) return 1 ;; esac; }

for v in $(env | sed -n 's/^\(GONGKAI_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export GONGKAI_LOG=warn
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gongkai-bench-hotline.XXXXXX")
PIDS=()
cleanup() {
	local p d
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
	for d in $(psql "$PG_URL/postgres" -qAtc "SELECT datname FROM pg_database WHERE datname LIKE 'gongkai_bench_hotline_%_$$'" 2>/dev/null); do
		psql "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$WORK"

# --- disk ---------------------------------------------------------------------------------

free_gb() { # PATH: free GB on its filesystem
	df -Pk "$1" | awk 'NR == 2 { printf "%.1f", $4 / 1048576 }'
}
PG_DATA_DIR=$(psql "$PG_URL/postgres" -qAtc "SHOW data_directory" 2>/dev/null || true)
pg_free_gb() {
	if [ -n "$PG_DATA_DIR" ] && [ -d "$PG_DATA_DIR" ]; then free_gb "$PG_DATA_DIR"; else free_gb "$WORK"; fi
}
need_gb() { # ORDERS KB_PER_ORDER: GB needed, with 4 GB to spare for everything else on the disk
	awk -v n="$1" -v k="$2" 'BEGIN { printf "%.1f", n * k / 1048576 + 4 }'
}
enough() { # FREE NEED
	awk -v f="$1" -v n="$2" 'BEGIN { exit !(f >= n) }'
}
if has "$PARTS" stats; then
	largest=$(need_gb "$STATS_ORDERS" "$PG_KB_PER_ORDER")
	has "$BACKENDS" postgresql || largest=$(need_gb "$STATS_ORDERS" "$SQLITE_KB_PER_ORDER")
	f=$(free_gb "$WORK")
	has "$BACKENDS" postgresql && f=$(pg_free_gb)
	if ! enough "$f" "$largest"; then
		echo "hotline.sh: the statistics part needs about $largest GB free for $STATS_ORDERS orders (one backend at a time), only $f GB free." >&2
		echo "Free some space, or run with a smaller STATS_ORDERS (not for the record)." >&2
		exit 1
	fi
fi
f=$(free_gb "$WORK")
enough "$f" 5 || { echo "hotline.sh: only $f GB free in $WORK; at least 5 GB are needed" >&2; exit 1; }

if [ -n "${BENCH_BIN:-}" ]; then
	BIN=$BENCH_BIN # trials of the script itself only: the record needs the release build
else
	echo "building gongkai (release)…" >&2
	(cd "$ROOT" && nice -n 10 timeout 3600 cargo build --release -p gongkai --quiet) >&2
	BIN="$TARGET/release/gongkai"
fi
[ -x "$BIN" ] || { echo "no binary at $BIN" >&2; exit 1; }
[ -d "$ROOT/crates/hotline/src/open311" ] || { echo "hotline.sh: no Open311 API in this checkout" >&2; exit 1; }

# --- processes ----------------------------------------------------------------------------

free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((10000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	echo "hotline.sh: no free port found" >&2
	return 1
}

start() { # LOG URL CMD…: start a server, wait for a 200 on URL
	local log=$1 url=$2 deadline
	shift 2
	"$@" >"$log" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	deadline=$(($(date +%s) + START_LIMIT_SECS))
	until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)" = 200 ]; do
		kill -0 "$PID" 2>/dev/null || { echo "server exited; its output:" >&2; cat "$log" >&2; return 1; }
		[ "$(date +%s)" -lt "$deadline" ] || { echo "server did not answer $url in ${START_LIMIT_SECS}s" >&2; return 1; }
		sleep 0.2
	done
}

stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 $((STOP_LIMIT_SECS * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cpu_secs() { # PID: user + system CPU seconds so far
	awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"
}

# A config per use: the job runner on (as in production) for the Open311 load, off while
# data is prepared and while the statistics page is timed (so no scheduled job runs then).
cat >"$WORK/serve.toml" <<TOML
TOML
cat >"$WORK/nojobs.toml" <<TOML
[jobs]
enabled = false
TOML

# Backend arguments: SQLite in a data dir, PostgreSQL in a new scratch database.
new_backend() { # NAME TAG: sets DATA, DBURL, ARGS
	local name=$1 tag=$2
	DATA="$WORK/data-$name-$tag"
	rm -rf "$DATA"
	mkdir -p "$DATA"
	DBURL=""
	ARGS=(--data-dir "$DATA")
	if [ "$name" = postgresql ]; then
		local db="gongkai_bench_hotline_${tag}_$$"
		psql "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
		psql "$PG_URL/postgres" -qAtc "CREATE DATABASE $db" >/dev/null
		DBURL="$PG_URL/$db"
		ARGS+=(--database-url "$DBURL")
	fi
}

drop_backend() { # NAME
	if [ "$1" = postgresql ] && [ -n "$DBURL" ]; then
		psql "$PG_URL/postgres" -qAtc "DROP DATABASE IF EXISTS ${DBURL##*/} WITH (FORCE)" >/dev/null || true
	fi
	rm -rf "$DATA"
}

sql() { # SQL: one value (or rows, | separated) from the current backend
	if [ -n "$DBURL" ]; then
		psql "$DBURL" -X -qAt -v ON_ERROR_STOP=1 -c "$1"
	else
		python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for r in db.execute(sys.argv[2]).fetchall():
    print("|".join("" if v is None else str(v) for v in r))
db.commit()' "$DATA/gongkai.db" "$1"
	fi
}

db_size_mb() {
	if [ -n "$DBURL" ]; then
		psql "$DBURL" -qAtc "SELECT round(pg_database_size(current_database()) / 1048576.0)"
	else
		du -sm "$DATA" | awk '{ print $1 }'
	fi
}

# The demo district, created once by `gongkai demo` and stopped (no scheduled jobs ran).
prepare_demo() { # NAME
	local port
	port=$(free_port)
	start "$WORK/prep-$1.log" "http://127.0.0.1:$port/healthz" \
		"$BIN" demo --config "$WORK/nojobs.toml" --listen "127.0.0.1:$port" "${ARGS[@]}"
	stop "$PID"
}

now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

median_of() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "—"; exit } m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f", m }'; }
max_of() { sort -g | tail -n 1; }
min_of() { sort -g | head -n 1; }
ratio() { # VALUE TARGET: value ÷ target
	awk -v v="$1" -v t="$2" 'BEGIN { if (v == "" || v == "—" || t == 0) print "—"; else printf "%.2f×", v / t }'
}
ms_of() { # wrk latency (e.g. 12.34ms, 1.02s, 850.00us) in ms
	awk -v x="$1" 'BEGIN { v = x + 0; if (x ~ /us$/) v /= 1000; else if (x ~ /ms$/) v = v; else if (x ~ /s$/) v *= 1000; printf "%.2f", v }'
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# Rows of the report tables and notes, one file each (a part runs in a subshell).
add() { printf '%s\n' "$2" >>"$WORK/report-$1"; }
show() { cat "$WORK/report-$1" 2>/dev/null || true; }

# --- 1. Open311 POST requests -------------------------------------------------------------

open311() { # NAME: a demo server loaded closed loop, then paced
	local name=$1 port
	new_backend "$name" open311
	port=$(free_port)
	start "$WORK/open311-$name.log" "http://127.0.0.1:$port/healthz" \
		"$BIN" demo --config "$WORK/serve.toml" --listen "127.0.0.1:$port" "${ARGS[@]}"
	open311_load "$name" "$port" 0
	sleep 2
	open311_load "$name" "$port" "$THINK_MS"
	stop "$PID"
	drop_backend "$name"
}

open311_load() { # NAME PORT THINK_MS: one wrk run, one row
	local name=$1 port=$2 think=$3 tag out rps p50 p99 acked dup stored before after non2xx c0 c1 cpu_ms statuses mode
	tag="$name-$think"
	mode="closed loop"
	[ "$think" -gt 0 ] && mode="paced, think $think ms"
	before=$(sql "SELECT COUNT(*) FROM hl_orders")
	c0=$(cpu_secs "$PID")
	out=$(BENCH_KEY=demo-open311-key BENCH_STAMP="$name$think$$" BENCH_IDS="$WORK/ids-$tag" \
		BENCH_STATUSES="$WORK/statuses-$tag" BENCH_THINK_MS=$think \
		timeout $((DURATION + 120)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency \
		-s "$ROOT/bench/hotline/post.lua" "http://127.0.0.1:$port")
	c1=$(cpu_secs "$PID")
	echo "$out" >&2
	sleep 1
	after=$(sql "SELECT COUNT(*) FROM hl_orders")
	acked=$(wc -l <"$WORK/ids-$tag")
	sort "$WORK/ids-$tag" >"$WORK/ids-$tag.sorted"
	dup=$(uniq -d "$WORK/ids-$tag.sorted" | wc -l)
	stored=$(stored_once "$WORK/ids-$tag.sorted")
	rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
	p50=$(ms_of "$(echo "$out" | awk '$1 == "50%" { print $2 }')")
	p99=$(ms_of "$(echo "$out" | awk '$1 == "99%" { print $2 }')")
	non2xx=$(awk '$1 !~ /^2/ { s += $2 } END { print s + 0 }' "$WORK/statuses-$tag")
	statuses=$(sort -n "$WORK/statuses-$tag" | awk '{ printf "%s%s×%s", (NR > 1 ? ", " : ""), $1, $2 }')
	cpu_ms=$(awk -v a="$c0" -v b="$c1" -v n="$(echo "$out" | awk '/requests in/ { print $1 }')" \
		'BEGIN { if (n > 0) printf "%.2f", (b - a) * 1000 / n; else print "—" }')
	local target=""
	[ "$name" = sqlite ] && target="$(ratio "$rps" 2000) of 2,000/s; p99 $(ratio "$p99" 50) of 50 ms"
	add open311 "| $name | $mode | $CONNS | $rps | $p50 | $p99 | $acked | $((after - before)) | $stored | $dup | $non2xx | $statuses | $cpu_ms | ${target:-—} |"
}

stored_once() { # SORTED_IDS: how many acknowledged ids have exactly one order with exactly one 'received' entry
	local q="SELECT COUNT(*) FROM acked a WHERE (SELECT COUNT(*) FROM hl_orders o WHERE o.no = a.no) = 1
	  AND (SELECT COUNT(*) FROM hl_events e JOIN hl_orders o ON o.id = e.order_id
	       WHERE o.no = a.no AND e.kind = 'received') = 1"
	if [ -n "$DBURL" ]; then
		printf '%s\n' "CREATE TEMP TABLE acked (no TEXT);" "\\copy acked FROM '$1'" "$q;" >"$WORK/check.sql"
		psql "$DBURL" -qAt -f "$WORK/check.sql" | tail -n 1
	else
		python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TEMP TABLE acked (no TEXT)")
db.executemany("INSERT INTO acked VALUES (?)", [(l.strip(),) for l in open(sys.argv[2]) if l.strip()])
print(db.execute(sys.argv[3]).fetchone()[0])' "$DATA/gongkai.db" "$1" "$q"
	fi
}

# --- 2. the SLA sweep ---------------------------------------------------------------------

job_run() { # KIND: runs the job; prints "<job seconds> <wall seconds>"
	local t0 t1 out
	t0=$(now_ms)
	out=$(timeout "$JOB_LIMIT_SECS" "$BIN" --config "$WORK/nojobs.toml" "${ARGS[@]}" job run "$1" 2>&1) || {
		echo "hotline.sh: gongkai job run $1 failed: $out" >&2
		return 1
	}
	t1=$(now_ms)
	echo "$out" >&2
	local secs
	secs=$(echo "$out" | sed -n 's/.*用时 \([0-9.]*\) 秒.*/\1/p' | tail -n 1)
	[ -n "$secs" ] || { echo "hotline.sh: no time in the output of job run $1: $out" >&2; return 1; }
	echo "$secs $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')"
}

sweep() { # NAME
	local name=$1 gen now exp r1 r2 e0 e1 e2 m0 m1 m2 f size
	f=$(free_gb "$WORK")
	[ "$name" = postgresql ] && f=$(pg_free_gb)
	enough "$f" "$(need_gb "$SWEEP_ORDERS" 2)" || { echo "hotline.sh: too little disk for the sweep ($f GB free)" >&2; exit 1; }
	new_backend "$name" sweep
	prepare_demo "$name"
	# Unset, the fingerprint is only remembered by the first run (no re-dating).
	sql "DELETE FROM settings WHERE key = 'hotline.calendar_fingerprint'" >/dev/null
	now=$(now_ms)
	gen=$(timeout "$GEN_LIMIT_SECS" python3 "$ROOT/bench/hotline/gen.py" sweep "$( [ -n "$DBURL" ] && echo pg || echo sqlite)" \
		"$( [ -n "$DBURL" ] && echo "$DBURL" || echo "$DATA/gongkai.db")" "$SWEEP_ORDERS" "$now")
	size=$(db_size_mb)
	now=$(now_ms)
	# What the first run should find, counted by plain queries just before it.
	exp=$(sql "SELECT
	  (SELECT COUNT(*) FROM hl_legs WHERE state = 'pending' AND accept_due < $now AND overdue = 0),
	  (SELECT COUNT(*) FROM hl_legs WHERE state = 'accepted' AND handle_due < $now AND overdue < 2),
	  (SELECT COUNT(*) FROM hl_orders WHERE state = 'callback' AND callback_due < $now AND overdue = 0),
	  (SELECT COUNT(*) FROM hl_orders WHERE state NOT IN ('closed', 'merged')),
	  (SELECT COUNT(*) FROM hl_legs WHERE state IN ('pending', 'accepted'))" | tr '|' ' ')
	e0=$(sql "SELECT COUNT(*) FROM hl_events WHERE kind IN ('overdue', 'reminded')")
	m0=$(sql "SELECT COUNT(*) FROM hl_orders WHERE overdue = 1")
	r1=$(job_run hl.sweep)
	e1=$(sql "SELECT COUNT(*) FROM hl_events WHERE kind IN ('overdue', 'reminded')")
	m1=$(sql "SELECT COUNT(*) FROM hl_orders WHERE overdue = 1")
	local n1 rem1
	n1=$(sql "SELECT COUNT(*) FROM hl_events WHERE kind = 'overdue' AND at >= $now")
	rem1=$(sql "SELECT COUNT(*) FROM hl_events WHERE kind = 'reminded' AND at >= $now")
	r2=$(job_run hl.sweep)
	e2=$(sql "SELECT COUNT(*) FROM hl_events WHERE kind IN ('overdue', 'reminded')")
	m2=$(sql "SELECT COUNT(*) FROM hl_orders WHERE overdue = 1")
	set -- $exp
	local expected=$(($1 + $2 + $3))
	add sweep "| $name | 1st (flags the newly late) | $(echo "$r1" | cut -d' ' -f1) | $(echo "$r1" | cut -d' ' -f2) | $n1 (expected $expected: $1 to accept, $2 to handle, $3 callbacks) | $rem1 | $((m1 - m0)) | $(ratio "$(echo "$r1" | cut -d' ' -f1)" 5) |"
	add sweep "| $name | 2nd (nothing new) | $(echo "$r2" | cut -d' ' -f1) | $(echo "$r2" | cut -d' ' -f2) | $((e2 - e1)) (entries of both kinds) | — | $((m2 - m1)) | $(ratio "$(echo "$r2" | cut -d' ' -f1)" 5) |"
	add sweep-notes "- $name: $4 open orders, $5 open legs (pending or accepted); generated in $(echo "$gen" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p') s ($gen); database $size MB."
	drop_backend "$name"
}

# --- 3. a year's statistics ---------------------------------------------------------------

login() { # BASE COOKIES: the demo supervisor's session
	curl -s -c "$2" -b "$2" -o /dev/null --max-time 30 "$1/login"
	local code
	code=$(curl -s -c "$2" -b "$2" -o /dev/null -w '%{http_code}' --max-time 30 -X POST "$1/login" \
		--data-urlencode username=supervisor --data-urlencode "password=$DEMO_PASSWORD" --data-urlencode next=/console)
	[ "$code" = 303 ] || { echo "hotline.sh: logging in as supervisor answered $code" >&2; return 1; }
}

stats() { # NAME
	local name=$1 gen now f need kb size r1 r2 port from to url times=() code t i page received
	kb=$SQLITE_KB_PER_ORDER
	[ "$name" = postgresql ] && kb=$PG_KB_PER_ORDER
	need=$(need_gb "$STATS_ORDERS" "$kb")
	f=$(free_gb "$WORK")
	[ "$name" = postgresql ] && f=$(pg_free_gb)
	if ! enough "$f" "$need"; then
		add stats "| $name | skipped: $f GB free, about $need GB needed for $STATS_ORDERS orders | | | | | | |"
		return 0
	fi
	new_backend "$name" stats
	prepare_demo "$name"
	# Nothing rolled yet: the job rolls the whole year.
	sql "DELETE FROM settings WHERE key IN ('hotline.rolled_until', 'hotline.rolled_part')" >/dev/null
	sql "DELETE FROM hl_daily" >/dev/null
	sql "DELETE FROM hl_monthly" >/dev/null
	sql "DELETE FROM hl_daily_tags" >/dev/null
	now=$(now_ms)
	gen=$(timeout "$GEN_LIMIT_SECS" python3 "$ROOT/bench/hotline/gen.py" stats "$( [ -n "$DBURL" ] && echo pg || echo sqlite)" \
		"$( [ -n "$DBURL" ] && echo "$DBURL" || echo "$DATA/gongkai.db")" "$STATS_ORDERS" "$now")
	size=$(db_size_mb)
	r1=$(job_run hl.rollup)
	r2=$(job_run hl.rollup)
	local daily monthly mark
	daily=$(sql "SELECT COUNT(*) FROM hl_daily")
	monthly=$(sql "SELECT COUNT(*) FROM hl_monthly")
	mark=$(sql "SELECT value FROM settings WHERE key = 'hotline.rolled_until'")
	to=$(TZ=Asia/Shanghai date +%F)
	from=$(TZ=Asia/Shanghai date -d "$to - 1 year" +%F)
	received=$(sql "SELECT COUNT(*) FROM hl_events WHERE kind = 'received' AND day >= '$from' AND day <= '$to'")
	port=$(free_port)
	url="http://127.0.0.1:$port"
	start "$WORK/stats-$name.log" "$url/healthz" "$BIN" serve --config "$WORK/nojobs.toml" --listen "127.0.0.1:$port" "${ARGS[@]}"
	login "$url" "$WORK/cookies-$name"
	page="$url/console/hotline/stats?from=$from&to=$to"
	# One request first (connections, caches), then the timed ones.
	for i in $(seq 0 "$STATS_REQUESTS"); do
		read -r code t < <(curl -s -b "$WORK/cookies-$name" -o "$WORK/stats-$name.html" -w '%{http_code} %{time_total}\n' --max-time 300 "$page")
		[ "$code" = 200 ] || { echo "hotline.sh: $page answered $code" >&2; cat "$WORK/stats-$name.log" >&2; return 1; }
		[ "$i" -gt 0 ] && times+=("$t")
	done
	stop "$PID"
	# The page's 受理 figure must be the count of received entries in the period.
	local shown
	shown=$(python3 -c '
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"id=\"m-received\"[^>]*>(?:<a [^>]*>)?([0-9,]+)", html)
got = m.group(1).replace(",", "") if m else "none"
print(f"yes ({got})" if got == sys.argv[2] else f"NO: page {got}, entries {sys.argv[2]}")' \
		"$WORK/stats-$name.html" "$received")
	local med max
	med=$(printf '%s\n' "${times[@]}" | median_of)
	max=$(printf '%s\n' "${times[@]}" | max_of)
	add stats "| $name | $(echo "$r1" | cut -d' ' -f1) | $(echo "$r2" | cut -d' ' -f1) | $(awk -v x="$med" 'BEGIN { printf "%.1f", x * 1000 }') | $(awk -v x="$max" 'BEGIN { printf "%.1f", x * 1000 }') | $(printf '%s\n' "${times[@]}" | min_of | awk '{ printf "%.1f", $1 * 1000 }') | $(ratio "$max" 1) of 1 s (max) | $shown |"
	add stats-notes "- $name: $gen; database $size MB; roll-up wall time (process start to exit) $(echo "$r1" | cut -d' ' -f2) s, then $(echo "$r2" | cut -d' ' -f2) s; hl_daily $daily rows, hl_monthly $monthly rows, rolled until $mark; received entries $from – $to: $received; page $(wc -c <"$WORK/stats-$name.html") bytes."
	drop_backend "$name"
}

DEMO_PASSWORD=$(sed -n 's/^pub const DEMO_PASSWORD: &str = "\(.*\)";/\1/p' "$ROOT/crates/kernel/src/demo.rs")
[ -n "$DEMO_PASSWORD" ] || { echo "hotline.sh: DEMO_PASSWORD not found in crates/kernel/src/demo.rs" >&2; exit 1; }

# One part at a time, each backend in turn; each backend's data is removed before the next.
# Each in a subshell: a failure is reported in its table and the other parts still run.
for part in open311 sweep stats; do
	has "$PARTS" "$part" || continue
	order="sqlite postgresql"
	# PostgreSQL first where the disk is the limit: it is the one that must run at full size.
	[ "$part" = stats ] && order="postgresql sqlite"
	for b in $order; do
		has "$BACKENDS" "$b" || continue
		echo "== $part, $b ($(date -u +%H:%M:%S))" >&2
		set +e
		(
			set -e
			PIDS=()
			DBURL=""
			DATA=""
			trap 'rc=$?; set +e; for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done
				drop_backend "'"$b"'" 2>/dev/null; exit $rc' EXIT
			"$part" "$b"
		)
		rc=$?
		set -e
		if [ "$rc" != 0 ]; then
			echo "hotline.sh: $part on $b failed (exit $rc); see the messages above" >&2
			add "$part" "| $b | failed (exit $rc): see the script's standard error |"
		fi
	done
done

REPORT=$(
	echo "## hotline.sh — $(date -u '+%Y-%m-%d %H:%M') UTC"
	echo
	echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), $(rustc --version | cut -d' ' -f1-2), $(psql "$PG_URL/postgres" -qAtc 'SHOW server_version' | cut -d' ' -f1 | sed 's/^/PostgreSQL /') (shared_buffers $(psql "$PG_URL/postgres" -qAtc 'SHOW shared_buffers'), jit $(psql "$PG_URL/postgres" -qAtc 'SHOW jit')), SQLite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)') (Python's, for the bulk load; gongkai links its own), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2); load average before the runs: $LOAD_BEFORE (after the build)."
	echo "Binary: ${BIN#"$TARGET"/}; commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo 'none')$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo ' + uncommitted changes'). Parts: $PARTS; backends: $BACKENDS."
	if has "$PARTS" open311; then
		echo
		echo "**1. Open311 \`POST /open311/v2/requests.json\`** — \`wrk -t$THREADS -c$CONNS -d${DURATION}s --latency\` with bench/hotline/post.lua"
		echo "on a \`gongkai demo\` server (job runner on, \`GONGKAI_LOG=warn\`), key \`demo-open311-key\`: every request a new"
		echo "service request with its own description and \`Idempotency-Key\`, alternately \`cs.light\` (attribute \`pole_no\`, a"
		echo "street address, caller's name and phone) and \`cs.road\` (attribute \`size\`, lat/long). The Open311 API has no"
		echo "per-client limit to raise (crates/hotline/src/open311/). \"stored once\": acknowledged ids with exactly one row in"
		echo "\`hl_orders\` (column \`no\`) and exactly one \`received\` entry. Server CPU: user + system time of the server process"
		echo "over the run ÷ requests. wrk shares the 2 cores with the server."
		echo
		echo "| backend | load | connections | creations/s | p50 ms | p99 ms | acknowledged | rows added | stored once | duplicate ids | non-2xx | statuses | server CPU ms/request | vs target |"
		echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"
		show open311
		echo
		echo "Target: ≥ 2,000 creations/s on SQLite with p99 < 50 ms (ratios: measured ÷ target). Closed loop: each connection"
		echo "sends again as soon as it is answered, so throughput is the most the server takes and the mean latency is"
		echo "connections ÷ throughput (Little's law: p99 < 50 ms at 200 connections would need over 4,000/s). Paced: the same"
		echo "$CONNS connections, each pausing a random think time (exponential, mean $THINK_MS ms) after every answer, offering"
		echo "about $RATE/s: p99 there is the latency at that rate. \"rows added\" may exceed \"acknowledged\" by the requests in"
		echo "flight when wrk stopped (committed, answer not read)."
	fi
	if has "$PARTS" sweep; then
		echo
		echo "**2. SLA sweep** (\`gongkai job run hl.sweep\`, run twice) over $SWEEP_ORDERS generated open orders"
		echo "(bench/hotline/gen.py sweep: 5 % received, 25 % with a pending leg, 60 % accepted, 10 % waiting for the callback;"
		echo "every tenth dispatched order with a 协办 leg; about 7.5 % newly late, 3 % flagged before, 5 % due within 24 hours)"
		echo "in a \`gongkai demo\` database; the calendar fingerprint unset, so the first run only remembers it. \"job s\" is"
		echo "what the command prints (the job alone), \"wall s\" the whole process (start-up, migration check, job, exit)."
		echo
		echo "| backend | run | job s | wall s | new overdue entries | reminders | orders newly flagged | vs target 5 s |"
		echo "|---|---|---:|---:|---|---:|---:|---|"
		show sweep
		echo
		show sweep-notes
	fi
	if has "$PARTS" stats; then
		echo
		echo "**3. A year's statistics** over $STATS_ORDERS generated orders (bench/hotline/gen.py stats: received evenly"
		echo "over the last 365 days, each simulated to now — 25 % answered directly, the rest dispatched (10 % also to a 协办"
		echo "organisation), accepted, replied, reviewed, called back and closed, 8 % late to accept and 12 % late to reply;"
		echo "recent orders stand in every state; timeline entries of the counted kinds only, short descriptions, to fit the"
		echo "disk) in a \`gongkai demo\` database (its 3 streets, 16 leaf categories, 7 channels), nothing rolled up before. \`gongkai job run"
		echo "hl.rollup\` twice (the first rolls the whole year and today's entries up to ten minutes before it, the second"
		echo "moves today's cut on by what the first took), then \`gongkai serve\` (job"
		echo "runner off) and GET \`/console/hotline/stats?from=<a year ago>&to=<today>\` as the demo supervisor with curl:"
		echo "one untimed request, then $STATS_REQUESTS timed ones, one at a time. \"受理 shown\": the page shows the number"
		echo "of \`received\` entries in the period."
		echo
		echo "| backend | roll-up, 1st run s | roll-up, 2nd run s | page median ms | page max ms | page min ms | vs target | 受理 shown |"
		echo "|---|---:|---:|---:|---:|---:|---|---|"
		show stats
		echo
		show stats-notes
	fi
)
echo "$REPORT"
if [ "$RECORD" = 1 ]; then
	printf '\n%s\n' "$REPORT" >>"$ROOT/bench/RESULTS.md"
fi
