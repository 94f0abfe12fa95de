#!/usr/bin/env bash
# Publishing and import throughput of the information resource library, release build:
#
#   1. `gongkai demo` on a fresh data dir: spawn → first 200 on /healthz (the demo district
#      and its ~300 items, each published through the service layer, are created before the
#      server listens);
#   2. publishing through the service layer (create → submit → approve, one review level),
#      items/s, with 1 and with 4 concurrent publishers (crates/cms/examples/bench_publish.rs);
#   3. `gongkai import items` of IMPORT_N (default 100,000) generated lines (crates/cms/
#      examples/gen_items.rs, sentences of the demo corpus) into the demo database, then the
#      same file again (every line unchanged: skipped), then `gongkai export items`.
#
# All three on SQLite, and on PostgreSQL when BENCH_PG_ADMIN_URL is set (scratch databases,
# dropped on exit). No reference is named for these figures; none is measured.
#
#   bench/publish.sh            # print the figures (Markdown) to stdout
#   bench/publish.sh --record   # also append them to bench/RESULTS.md
#
# Environment:
#   DEMO_RUNS=3          demo starts per backend
#   PUBLISH_N=2000       items per publishing run
#   PUBLISH_RUNS=3       publishing runs per series (median reported)
#   IMPORT_N=100000      generated lines for the import
#   BENCH_PG_ADMIN_URL   e.g. postgres://postgres@127.0.0.1:5432/postgres (psql must be able to
#                        create and drop databases with it)
#
# Every wait is bounded (START_LIMIT_SECS for a start, STEP_LIMIT_SECS for any other step);
# every process started here is stopped on every path; scratch directories and databases go.

set -euo pipefail

DEMO_RUNS=${DEMO_RUNS:-3}
PUBLISH_N=${PUBLISH_N:-2000}
PUBLISH_RUNS=${PUBLISH_RUNS:-3}
IMPORT_N=${IMPORT_N:-100000}
START_LIMIT_SECS=60
STEP_LIMIT_SECS=1800
STOP_LIMIT_SECS=10
RECORD=0
[ "${1:-}" = "--record" ] && RECORD=1

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

for tool in cargo curl awk timeout; do
	command -v "$tool" >/dev/null || { echo "publish.sh: $tool is required" >&2; exit 1; }
done

# Nothing from the caller's environment may change what is measured.
unset GONGKAI_CONFIG GONGKAI_DATA_DIR GONGKAI_DATABASE_URL GONGKAI_LISTEN GONGKAI_LOG_FORMAT GONGKAI_PASSWORD
export GONGKAI_LOG=warn

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gongkai-bench-publish.XXXXXX")
PIDS=()
PG_DBS=()

cleanup() {
	local p db
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

echo "building gongkai and the benchmark examples (release)…" >&2
(cd "$ROOT" && timeout 3600 cargo build --release -p gongkai --quiet) >&2
(cd "$ROOT" && timeout 3600 cargo build --release -p gongkai-cms --example bench_publish --example gen_items --quiet) >&2
BIN="$ROOT/target/release/gongkai"
PUB="$ROOT/target/release/examples/bench_publish"
GEN="$ROOT/target/release/examples/gen_items"
for b in "$BIN" "$PUB" "$GEN"; do
	[ -x "$b" ] || { echo "no binary at $b" >&2; exit 1; }
done

now_ns() { date +%s%N; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

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

stop() {
	local pid=$1 i p keep=()
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 $((STOP_LIMIT_SECS * 100))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for p in "${PIDS[@]}"; do [ "$p" != "$pid" ] && keep+=("$p"); done
	PIDS=("${keep[@]:-}")
}

# demo_start LOG ARGS…: `gongkai demo ARGS` on a free port until /healthz answers 200; sets MS
# (spawn → first 200) and leaves the server stopped.
demo_start() {
	local log=$1 port code t0 t1 deadline pid
	shift
	port=$(free_port)
	t0=$(now_ns)
	"$BIN" demo --listen "127.0.0.1:$port" "$@" >"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	deadline=$((t0 + START_LIMIT_SECS * 1000000000))
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/healthz" 2>/dev/null || true)
		if [ "$code" = 200 ]; then
			t1=$(now_ns)
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "gongkai demo exited before answering; its output:" >&2
			cat "$log" >&2
			return 1
		fi
		if [ "$(now_ns)" -gt "$deadline" ]; then
			echo "no 200 from gongkai demo within ${START_LIMIT_SECS}s; output:" >&2
			cat "$log" >&2
			stop "$pid"
			return 1
		fi
		sleep 0.01
	done
	MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) / 1e6 }')
	stop "$pid"
}

# stats V1 V2 …  ->  "median min max"
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f", m, v[1], v[NR] }'
}

pg_url() {
	local base=${BENCH_PG_ADMIN_URL%%\?*} query=""
	case $BENCH_PG_ADMIN_URL in *\?*) query="?${BENCH_PG_ADMIN_URL#*\?}" ;; esac
	local scheme=${base%%://*} rest=${base#*://}
	echo "$scheme://${rest%%/*}/$1$query"
}

# new_db KIND NAME: echo the --database-url of a fresh database of KIND (sqlite | pg).
new_db() {
	case $1 in
	sqlite)
		mkdir -p "$WORK/$2"
		echo "sqlite://$WORK/$2/gongkai.db"
		;;
	pg)
		local db="gongkai_bench_$$_$2"
		PG_DBS+=("$db")
		psql "$BENCH_PG_ADMIN_URL" -qAtc "CREATE DATABASE \"$db\"" >/dev/null
		pg_url "$db"
		;;
	esac
}

# timed LOG CMD…: run CMD with the step limit; sets SECS (wall time). Exit status 0 and 1
# both count as having run (import: 1 = some lines rejected, which the summary shows).
timed() {
	local log=$1 t0 rc=0
	shift
	t0=$(now_ns)
	timeout "$STEP_LIMIT_SECS" "$@" >"$log" 2>&1 || rc=$?
	SECS=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	if [ "$rc" -gt 1 ]; then
		echo "failed ($rc): $*" >&2
		tail -n 30 "$log" >&2
		return 1
	fi
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "n/a" }'; }

DEMO_ROWS=()
PUB_ROWS=()
IMPORT_ROWS=()
IMPORT_SUMMARY=()
BACKENDS=(sqlite)
if [ -n "${BENCH_PG_ADMIN_URL:-}" ]; then
	if command -v psql >/dev/null; then
		BACKENDS+=(pg)
	else
		echo "BENCH_PG_ADMIN_URL is set but psql is missing: PostgreSQL skipped" >&2
	fi
fi

echo "generating $IMPORT_N lines…" >&2
timeout "$STEP_LIMIT_SECS" "$GEN" "$IMPORT_N" >"$WORK/items.jsonl"
IMPORT_MB=$(awk -v s="$(stat -c %s "$WORK/items.jsonl")" 'BEGIN { printf "%.1f", s / 1048576 }')

for be in "${BACKENDS[@]}"; do
	label=$([ "$be" = pg ] && echo PostgreSQL || echo SQLite)

	echo "[$label] gongkai demo, fresh database each start…" >&2
	times=()
	for i in $(seq 1 "$DEMO_RUNS"); do
		url=$(new_db "$be" "demo$i")
		demo_start "$WORK/demo.log" --data-dir "$WORK/demo$i" --database-url "$url"
		times+=("$MS")
	done
	read -r med min max <<<"$(stats "${times[@]}")"
	echo "[$label] demo start: median $med ms (runs: ${times[*]})" >&2
	DEMO_ROWS+=("| gongkai demo, $label, fresh database | $med | $min | $max | $DEMO_RUNS |")

	for conc in 1 4; do
		echo "[$label] publishing $PUBLISH_N items, concurrency $conc…" >&2
		rates=()
		for i in $(seq 1 "$PUBLISH_RUNS"); do
			url=$(new_db "$be" "pub${conc}_$i")
			timed "$WORK/pub.log" "$PUB" --database-url "$url" --items "$PUBLISH_N" --concurrency "$conc"
			r=$(awk -F'items_per_s=' '/items_per_s=/ { print $2 }' "$WORK/pub.log")
			[ -n "$r" ] || { cat "$WORK/pub.log" >&2; exit 1; }
			rates+=("$r")
		done
		read -r med min max <<<"$(stats "${rates[@]}")"
		echo "[$label] publish c=$conc: median $med items/s (runs: ${rates[*]})" >&2
		PUB_ROWS+=("| $label, $conc publisher(s), $PUBLISH_N items | $med | $min | $max | $PUBLISH_RUNS |")
	done

	echo "[$label] import of $IMPORT_N lines…" >&2
	url=$(new_db "$be" "import")
	demo_start "$WORK/demo.log" --data-dir "$WORK/import" --database-url "$url"
	gk=("$BIN" --data-dir "$WORK/import" --database-url "$url")
	timed "$WORK/import.log" "${gk[@]}" import items "$WORK/items.jsonl"
	first=$SECS
	summary=$(grep -m1 '^导入完成' "$WORK/import.log" || true)
	echo "[$label] first import: ${first}s — $summary" >&2
	timed "$WORK/import2.log" "${gk[@]}" import items "$WORK/items.jsonl"
	again=$SECS
	echo "[$label] re-import: ${again}s — $(grep -m1 '^导入完成' "$WORK/import2.log" || true)" >&2
	timed "$WORK/export.log" "${gk[@]}" export items --output "$WORK/export.jsonl"
	exported=$SECS
	lines=$(wc -l <"$WORK/export.jsonl")
	IMPORT_ROWS+=("| $label | import, new items | $IMPORT_N | $first | $(rate "$IMPORT_N" "$first") |")
	IMPORT_ROWS+=("| $label | import again, every line unchanged | $IMPORT_N | $again | $(rate "$IMPORT_N" "$again") |")
	IMPORT_ROWS+=("| $label | export items (all, incl. demo) | $lines | $exported | $(rate "$lines" "$exported") |")
	IMPORT_SUMMARY+=("$label: $summary")
	rm -f "$WORK/export.jsonl"
done

# ---- report ----
{
	echo "## publish.sh — $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 " GiB RAM" }'), Linux $(uname -r), $(rustc --version)$(
		[ "${#BACKENDS[@]}" -gt 1 ] && echo ", $(psql "$BENCH_PG_ADMIN_URL" -qAtc 'SHOW server_version' 2>/dev/null | sed 's/^/PostgreSQL /')"
	); load average before the runs: $LOAD_BEFORE (after the build)."
	echo "Binary: target/release/gongkai; commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo 'none')$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo ' + uncommitted changes')."
	echo
	echo "**gongkai demo**: spawn → first HTTP 200 on /healthz with a fresh database (migrations, calendar, demo district,"
	echo "and the demo content: columns, ~300 items each created, submitted and approved through the service layer,"
	echo "topics, catalogue entries), polled every 10 ms."
	echo
	echo "| series | median ms | min ms | max ms | runs |"
	echo "|---|---:|---:|---:|---:|"
	printf '%s\n' "${DEMO_ROWS[@]}"
	echo
	echo "**Publishing through the service layer** (examples/bench_publish.rs): create → submit → approve (one review"
	echo "level; 索引号 assigned), each step its own transaction with audit entry and outbox event, as the console does it."
	echo
	echo "| series | median items/s | min | max | runs |"
	echo "|---|---:|---:|---:|---:|"
	printf '%s\n' "${PUB_ROWS[@]}"
	echo
	echo "**Import / export** (\`gongkai import items\`, default 500 lines per transaction) of $IMPORT_N generated lines"
	echo "($IMPORT_MB MiB; examples/gen_items.rs: 85 % published of which a quarter with an old 索引号, 15 % drafts) into the"
	echo "demo database; wall time of the whole command (start-up, line count, validation, sanitising, writes, summary)."
	echo
	echo "| backend | run | lines | seconds | lines/s |"
	echo "|---|---|---:|---:|---:|"
	printf '%s\n' "${IMPORT_ROWS[@]}"
	echo
	for s in "${IMPORT_SUMMARY[@]}"; do echo "- $s"; done
	echo
} >"$WORK/report.md"

cat "$WORK/report.md"
if [ "$RECORD" = 1 ]; then
	[ -f "$ROOT/bench/RESULTS.md" ] || printf '# Benchmark results\n\nNewest last. Each section is pasted verbatim from one run of the named script.\n\n' >"$ROOT/bench/RESULTS.md"
	cat "$WORK/report.md" >>"$ROOT/bench/RESULTS.md"
	echo "appended to bench/RESULTS.md" >&2
fi
