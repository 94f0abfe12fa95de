#!/usr/bin/env bash
# Cold start, warm start and idle memory of `gongkai serve`, with a trivial server
# (`python3 -m http.server` on an empty directory) measured the same way in the same run
# as the reference for process-start overhead.
#
#   bench/cold_start.sh            # print the figures (Markdown) to stdout
#   bench/cold_start.sh --record   # also append them to bench/RESULTS.md
#
# Environment:
#   N=10                   starts per series
#   IDLE_SECS=5            idle time before reading VmRSS
#   BENCH_PG_ADMIN_URL     e.g. postgres://postgres@127.0.0.1:5432/postgres — when set (and
#                          psql is installed) the PostgreSQL series run too, each on a scratch
#                          database created and dropped by this script.
#
# Method: the clock starts just before the process is spawned and stops when curl first
# gets HTTP 200 from /healthz (polled every 5 ms; each poll is one curl process, so the
# resolution is roughly 5 ms + one curl start). The reference is polled the same way on "/".
# Every wait is bounded; every process this script starts is stopped on exit.

set -euo pipefail

N=${N:-10}
IDLE_SECS=${IDLE_SECS:-5}
START_LIMIT_SECS=30   # a start that takes longer than this is a failure
STOP_LIMIT_SECS=10    # SIGTERM, then SIGKILL after this
RECORD=0
[ "${1:-}" = "--record" ] && RECORD=1

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

for tool in cargo curl awk; do
	command -v "$tool" >/dev/null || { echo "cold_start.sh: $tool is required" >&2; exit 1; }
done

# Nothing from the caller's environment may change what is measured.
unset GONGKAI_CONFIG GONGKAI_DATA_DIR GONGKAI_DATABASE_URL GONGKAI_LISTEN GONGKAI_LOG_FORMAT GONGKAI_PASSWORD
export GONGKAI_LOG=warn

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gongkai-bench.XXXXXX")
PIDS=()
PG_DBS=()

cleanup() {
	local p
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
	done
	for db in "${PG_DBS[@]:-}"; do
		[ -n "$db" ] && psql "$BENCH_PG_ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The working directory holds no gongkai.toml.
cd "$WORK"

echo "building gongkai (release)…" >&2
(cd "$ROOT" && timeout 3600 cargo build --release -p gongkai --quiet) >&2
BIN="$ROOT/target/release/gongkai"
[ -x "$BIN" ] || { echo "no binary at $BIN" >&2; exit 1; }

now_ns() { date +%s%N; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# A TCP port nobody listens on (bash /dev/tcp: a refused connection means free).
free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "no free port found" >&2
	return 1
}

# stop PID: SIGTERM, bounded wait, then SIGKILL.
stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 $((STOP_LIMIT_SECS * 100))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	local keep=()
	for p in "${PIDS[@]}"; do [ "$p" != "$pid" ] && keep+=("$p"); done
	PIDS=("${keep[@]:-}")
}

# spawn_timed URL LOG CMD...: start CMD in the background, poll URL until 200.
# Sets MS (milliseconds from spawn to first 200, 1 decimal) and PID.
spawn_timed() {
	local url=$1 log=$2 code t0 t1 deadline
	shift 2
	t0=$(now_ns)
	"$@" >"$log" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	deadline=$((t0 + START_LIMIT_SECS * 1000000000))
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null || true)
		if [ "$code" = 200 ]; then
			t1=$(now_ns)
			break
		fi
		if ! kill -0 "$PID" 2>/dev/null; then
			echo "process exited before answering $url; its output:" >&2
			cat "$log" >&2
			return 1
		fi
		if [ "$(now_ns)" -gt "$deadline" ]; then
			echo "no 200 from $url within ${START_LIMIT_SECS}s; output:" >&2
			cat "$log" >&2
			stop "$PID"
			return 1
		fi
		sleep 0.005
	done
	MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
}

# stats V1 V2 …  ->  "median min max"
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f", m, v[1], v[NR] }'
}

rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

ROWS=()     # Markdown table rows
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); }

# series NAME KIND: KIND = sqlite-cold | sqlite-warm | pg-cold | pg-warm | python
series() {
	local name=$1 kind=$2 i port dir times=() db url
	for i in $(seq 1 "$N"); do
		port=$(free_port)
		case $kind in
		sqlite-cold)
			dir="$WORK/cold-$i"
			spawn_timed "http://127.0.0.1:$port/healthz" "$WORK/log" "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$dir"
			;;
		sqlite-warm)
			spawn_timed "http://127.0.0.1:$port/healthz" "$WORK/log" "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$WORK/warm"
			;;
		pg-cold)
			db="gongkai_bench_$$_$i"
			PG_DBS+=("$db")
			psql "$BENCH_PG_ADMIN_URL" -qAtc "CREATE DATABASE \"$db\"" >/dev/null
			url=$(pg_url "$db")
			spawn_timed "http://127.0.0.1:$port/healthz" "$WORK/log" "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$WORK/pgdata" --database-url "$url"
			;;
		pg-warm)
			spawn_timed "http://127.0.0.1:$port/healthz" "$WORK/log" "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$WORK/pgdata" --database-url "$PG_WARM_URL"
			;;
		python)
			spawn_timed "http://127.0.0.1:$port/" "$WORK/log" python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/empty"
			;;
		esac
		times+=("$MS")
		stop "$PID"
		if [ "$kind" = sqlite-cold ]; then rm -rf "$dir"; fi
	done
	read -r med min max <<<"$(stats "${times[@]}")"
	echo "$name: median $med ms, min $min ms, max $max ms  (runs: ${times[*]})" >&2
	eval "MED_${kind//-/_}=$med"
	row "$name" "$med" "$min" "$max" "$N"
}

RSS_ROWS=()

pg_url() {
	# replace the database name of BENCH_PG_ADMIN_URL
	local base=${BENCH_PG_ADMIN_URL%%\?*} query=""
	case $BENCH_PG_ADMIN_URL in *\?*) query="?${BENCH_PG_ADMIN_URL#*\?}" ;; esac
	local scheme=${base%%://*} rest=${base#*://}
	echo "$scheme://${rest%%/*}/$1$query"
}

measure_rss() {
	local name=$1 url=$2
	shift 2
	local port
	port=$(free_port)
	url=${url//PORT/$port}
	local args=()
	for a in "$@"; do args+=("${a//PORT/$port}"); done
	spawn_timed "$url" "$WORK/log" "${args[@]}"
	sleep "$IDLE_SECS"
	if ! kill -0 "$PID" 2>/dev/null; then
		echo "$name exited while idle" >&2
		cat "$WORK/log" >&2
		return 1
	fi
	local mb
	mb=$(rss_mb "$PID")
	stop "$PID"
	echo "$name: idle RSS $mb MB" >&2
	RSS_ROWS+=("| $name | $mb |")
}

mkdir -p "$WORK/empty"

# The clock's resolution: one poll (curl to a port nobody listens on + the 5 ms sleep).
POLL_PORT=$(free_port)
p0=$(now_ns)
for i in $(seq 1 20); do
	curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$POLL_PORT/" 2>/dev/null || true
	sleep 0.005
done
POLL_MS=$(awk -v a="$p0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e6 / 20 }')
echo "one poll takes $POLL_MS ms" >&2

echo "cold starts (fresh data dir each time)…" >&2
series "gongkai serve, SQLite, cold (fresh data dir: create + migrate + seed calendar)" sqlite-cold

# The warm data dir: created and migrated once, not timed.
"$BIN" migrate --data-dir "$WORK/warm" >/dev/null 2>&1
echo "warm starts (existing, migrated data dir)…" >&2
series "gongkai serve, SQLite, warm (existing data dir)" sqlite-warm

HAVE_PY=0
if command -v python3 >/dev/null; then
	HAVE_PY=1
	echo "reference: python3 -m http.server…" >&2
	series "reference: python3 -m http.server (empty dir)" python
fi

HAVE_PG=0
if [ -n "${BENCH_PG_ADMIN_URL:-}" ] && command -v psql >/dev/null; then
	HAVE_PG=1
	echo "PostgreSQL cold starts (fresh empty database each time)…" >&2
	series "gongkai serve, PostgreSQL, cold (empty database: migrate + seed)" pg-cold
	PG_WARM_DB="gongkai_bench_$$_warm"
	PG_DBS+=("$PG_WARM_DB")
	psql "$BENCH_PG_ADMIN_URL" -qAtc "CREATE DATABASE \"$PG_WARM_DB\"" >/dev/null
	PG_WARM_URL=$(pg_url "$PG_WARM_DB")
	"$BIN" migrate --data-dir "$WORK/pgdata" --database-url "$PG_WARM_URL" >/dev/null 2>&1
	echo "PostgreSQL warm starts…" >&2
	series "gongkai serve, PostgreSQL, warm (migrated database)" pg-warm
fi

echo "idle memory (${IDLE_SECS}s after the first 200)…" >&2
measure_rss "gongkai serve, SQLite (no --database-url)" "http://127.0.0.1:PORT/healthz" \
	"$BIN" serve --listen "127.0.0.1:PORT" --data-dir "$WORK/warm"
if [ "$HAVE_PG" = 1 ]; then
	measure_rss "gongkai serve, PostgreSQL (--database-url)" "http://127.0.0.1:PORT/healthz" \
		"$BIN" serve --listen "127.0.0.1:PORT" --data-dir "$WORK/pgdata" --database-url "$PG_WARM_URL"
fi
if [ "$HAVE_PY" = 1 ]; then
	measure_rss "reference: python3 -m http.server" "http://127.0.0.1:PORT/" \
		python3 -m http.server PORT --bind 127.0.0.1 --directory "$WORK/empty"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# ---- report ----
{
	echo "## cold_start.sh — $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 " GiB RAM" }'), Linux $(uname -r), $(rustc --version)," \
		"$(command -v python3 >/dev/null && python3 --version 2>&1 || echo 'no python3'), $(curl --version | head -n1 | cut -d' ' -f1-2);" \
		"load average before the runs: $LOAD_BEFORE (after the build)."
	echo "Binary: target/release/gongkai, $(awk -v s="$(stat -c %s "$BIN")" 'BEGIN { printf "%.1f", s / 1048576 }') MiB; commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo 'none')."
	echo
	echo "Time from spawn to the first HTTP 200 (/healthz; the reference: /), polled every 5 ms with curl, N=$N." \
		"One poll (curl start + refused connect + 5 ms sleep) takes $POLL_MS ms on this machine, so each figure is" \
		"the true time rounded up to the next poll: differences smaller than that are noise."
	echo
	echo "| series | median ms | min ms | max ms | runs |"
	echo "|---|---:|---:|---:|---:|"
	printf '%s\n' "${ROWS[@]}"
	echo
	if [ "$HAVE_PY" = 1 ]; then
		echo "Ratio to the reference (median / median): SQLite cold $(ratio "$MED_sqlite_cold" "$MED_python")×," \
			"SQLite warm $(ratio "$MED_sqlite_warm" "$MED_python")×$(
				[ "$HAVE_PG" = 1 ] && echo ", PostgreSQL cold $(ratio "$MED_pg_cold" "$MED_python")×, PostgreSQL warm $(ratio "$MED_pg_warm" "$MED_python")×"
			)."
		echo
	fi
	echo "Idle resident memory (VmRSS) ${IDLE_SECS} s after the first 200:"
	echo
	echo "| process | RSS MB |"
	echo "|---|---:|"
	printf '%s\n' "${RSS_ROWS[@]}"
	echo
} >"$WORK/report.md"

cat "$WORK/report.md"
if [ "$RECORD" = 1 ]; then
	[ -f "$ROOT/bench/RESULTS.md" ] || printf '# Benchmark results\n\nNewest last. Each section is pasted verbatim from one run of the named script.\n\n' >"$ROOT/bench/RESULTS.md"
	cat "$WORK/report.md" >>"$ROOT/bench/RESULTS.md"
	echo "appended to bench/RESULTS.md" >&2
fi
