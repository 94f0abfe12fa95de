#!/usr/bin/env bash
# The public portal under load, release build, against nginx serving the same site exported
# with `gongkai export-static`, in the same run on the same machine:
#
#   1. a site with ITEMS (default 100,000) published items: `gongkai demo` (the demo district),
#      then `gongkai import items` of lines from crates/portal/examples/bench_portal_data.rs
#      (five columns of the www site, 第二十条 category, 主题分类, 体裁, ten publishers,
#      2015–2025, so the disclosure catalogue's filters have data);
#   2. `gongkai export-static www` of that site (timed), served by nginx (worker_processes
#      NGINX_WORKERS, access_log off, sendfile on, no gzip; the config is printed);
#   3. wrk (-t THREADS -c CONNS -d DURATION, --latency) against:
#        (a) an item page /art/<id>.html: gongkai (page cache on, warm) vs nginx;
#        (b) a column list, page 1 and a deep page: gongkai cache on (warm), gongkai with
#            `portal.cache_mb = 0` (every request renders), vs nginx;
#        (c) the filtered catalogue /zfxxgk/fdzdgk/?cat=a20_01&year=2025, cache on and off;
#            nginx cannot filter, so its reference is the exported unfiltered catalogue page;
#      req/s, p50, p99, ratio to nginx, and each server's VmRSS after its runs.
#
# Only one server runs at a time (nginx, then gongkai cached, then gongkai uncached), but wrk
# and the server share the machine's cores: the figures are for this machine as a whole.
#
#   bench/portal.sh            # print the figures (Markdown) to stdout
#   bench/portal.sh --record   # also append them to bench/RESULTS.md
#
# Environment: ITEMS=100000 DURATION=15 (seconds per wrk run) CONNS=64 THREADS=2 NGINX_WORKERS=2
#
# nginx and wrk are installed with apt-get when missing (root on Debian/Ubuntu); otherwise the
# script stops and says so. Every wait is bounded; every process started here is stopped on
# every path; the scratch directory (database, export) is removed.

set -euo pipefail

ITEMS=${ITEMS:-100000}
DURATION=${DURATION:-15}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
NGINX_WORKERS=${NGINX_WORKERS:-2}
WARMUP_SECS=3
START_LIMIT_SECS=60
STEP_LIMIT_SECS=3600
STOP_LIMIT_SECS=10
RECORD=0
[ "${1:-}" = "--record" ] && RECORD=1

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

for tool in cargo curl awk timeout; do
	command -v "$tool" >/dev/null || { echo "portal.sh: $tool is required" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if ! [ -x "$NGINX" ] || ! command -v wrk >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing nginx-light and wrk (apt-get)…" >&2
		DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q nginx-light wrk >&2 ||
			{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q nginx-light wrk >&2; }
		NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	fi
	[ -x "$NGINX" ] || { echo "portal.sh: nginx is required (apt-get install nginx-light)" >&2; exit 1; }
	command -v wrk >/dev/null || { echo "portal.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }
fi

# Nothing from the caller's environment may change what is measured.
unset GONGKAI_CONFIG GONGKAI_DATA_DIR GONGKAI_DATABASE_URL GONGKAI_LISTEN GONGKAI_LOG_FORMAT GONGKAI_PASSWORD
export GONGKAI_LOG=warn

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gongkai-bench-portal.XXXXXX")
# nginx's workers run as an unprivileged user when started by root: they must reach the export.
chmod 755 "$WORK"
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
	done
	[ -f "$WORK/nginx.pid" ] && kill -KILL "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The working directory holds no gongkai.toml.
cd "$WORK"

echo "building gongkai and the data generator (release)…" >&2
(cd "$ROOT" && timeout 3600 cargo build --release -p gongkai --quiet) >&2
(cd "$ROOT" && timeout 3600 cargo build --release -p gongkai-portal --example bench_portal_data --quiet) >&2
BIN="$ROOT/target/release/gongkai"
GEN="$ROOT/target/release/examples/bench_portal_data"
for b in "$BIN" "$GEN"; do
	[ -x "$b" ] || { echo "no binary at $b" >&2; exit 1; }
done

now_ns() { date +%s%N; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# Below the kernel's ephemeral range (outgoing connections of this machine take ports from it).
free_port() {
	local p i lo
	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	for i in $(seq 1 200); do
		p=$((10000 + RANDOM % (lo > 12000 ? lo - 10000 : 20000)))
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

# start LOG URL CMD…: run CMD in the background until URL answers 200; sets PID.
start() {
	local log=$1 url=$2 code deadline
	shift 2
	"$@" >"$log" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	deadline=$(($(date +%s) + START_LIMIT_SECS))
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null || true)
		[ "$code" = 200 ] && return 0
		if ! kill -0 "$PID" 2>/dev/null; then
			echo "$1 exited before answering $url; its output:" >&2
			cat "$log" >&2
			return 1
		fi
		if [ "$(date +%s)" -gt "$deadline" ]; then
			echo "no 200 from $url within ${START_LIMIT_SECS}s; output:" >&2
			cat "$log" >&2
			stop "$PID"
			return 1
		fi
		sleep 0.05
	done
}

timed() {
	local log=$1 t0 rc=0
	shift
	t0=$(now_ns)
	timeout "$STEP_LIMIT_SECS" "$@" >"$log" 2>&1 || rc=$?
	SECS=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	if [ "$rc" -gt 1 ]; then
		echo "failed ($rc): $*" >&2
		tail -n 30 "$log" >&2
		return 1
	fi
}

rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# nginx: master and workers together.
nginx_rss_mb() {
	local master=$1 total=0 p kb
	for p in "$master" $(pgrep -P "$master" || true); do
		kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
		total=$((total + kb))
	done
	awk -v k="$total" 'BEGIN { printf "%.1f", k / 1024 }'
}

# wrk latency "812.00us" / "1.23ms" / "1.02s" → milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
		else print "n/a" }'
}

ROWS=()
declare -A RPS

# measure KEY LABEL URL [CONNECTIONS]: warm-up, then one wrk run; records a table row and RPS[KEY].
measure() {
	local key=$1 label=$2 url=$3 c=${4:-$CONNS} code out rps p50 p99 errs bytes t=$THREADS
	[ "$c" -lt "$t" ] && t=$c
	code=$(curl -s -o "$WORK/probe" -w '%{http_code}' --max-time 30 "$url" || true)
	if [ "$code" != 200 ]; then
		echo "$url answered $code, not 200" >&2
		head -c 600 "$WORK/probe" >&2
		exit 1
	fi
	bytes=$(stat -c %s "$WORK/probe")
	wrk -t"$t" -c"$c" -d"${WARMUP_SECS}s" "$url" >/dev/null 2>&1 || true
	out=$(timeout $((DURATION + 60)) wrk -t"$t" -c"$c" -d"${DURATION}s" --latency "$url")
	rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
	p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
	p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
	errs=$(awk '/Non-2xx or 3xx responses:/ { print $5 } /Socket errors:/ { print $0 }' <<<"$out" | tr '\n' ' ')
	RPS[$key]=$rps
	local ref=${key%%:*}
	local ratio="—"
	if [ "$c" = "$CONNS" ] && [ "${key#*:}" != nginx ] && [ -n "${RPS[$ref:nginx]:-}" ]; then
		ratio=$(awk -v a="$rps" -v b="${RPS[$ref:nginx]}" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "n/a" }')
	fi
	echo "$label: $rps req/s, p50 $p50 ms, p99 $p99 ms ${errs:+(errors: $errs)}" >&2
	ROWS+=("| $label | \`/${url#http://127.0.0.1:*/}\` | $c | $bytes | $rps | $p50 | $p99 | $ratio | ${errs:-none} |")
}

# ---- 1. the site ----
echo "generating $ITEMS items…" >&2
timeout "$STEP_LIMIT_SECS" "$GEN" "$ITEMS" >"$WORK/items.jsonl"
DATA="$WORK/data"
port=$(free_port)
start "$WORK/demo.log" "http://127.0.0.1:$port/healthz" "$BIN" demo --listen "127.0.0.1:$port" --data-dir "$DATA"
stop "$PID"
echo "importing $ITEMS items…" >&2
timed "$WORK/import.log" "$BIN" --data-dir "$DATA" import items "$WORK/items.jsonl"
IMPORT_SECS=$SECS
IMPORT_SUMMARY=$(grep -m1 '^导入完成' "$WORK/import.log" || true)
echo "import: ${IMPORT_SECS}s — $IMPORT_SUMMARY" >&2

# ---- 2. the export and nginx ----
SITE="$WORK/site"
echo "exporting the www site…" >&2
timed "$WORK/export.log" "$BIN" --data-dir "$DATA" export-static www "$SITE" --base-url "http://127.0.0.1"
EXPORT_SECS=$SECS
EXPORT_SUMMARY=$(grep -m1 '^页面' "$WORK/export.log" || true)
EXPORT_FILES=$(find "$SITE" -type f | wc -l)
EXPORT_MB=$(du -sm "$SITE" | cut -f1)
echo "export: ${EXPORT_SECS}s, $EXPORT_FILES files, $EXPORT_MB MB — $EXPORT_SUMMARY" >&2

NPORT=$(free_port)
cat >"$WORK/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    gzip off;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx-tmp;
    proxy_temp_path $WORK/nginx-tmp;
    fastcgi_temp_path $WORK/nginx-tmp;
    uwsgi_temp_path $WORK/nginx-tmp;
    scgi_temp_path $WORK/nginx-tmp;
    server {
        listen 127.0.0.1:$NPORT;
        root $SITE;
        index index.html;
    }
}
EOF
mkdir -p "$WORK/nginx-tmp"

# Targets: an item from the middle of the site, the largest imported column, the catalogue.
ITEM_ID=$(find "$SITE/art" -name '[0-9]*.html' ! -name '*_text.html' -printf '%f\n' | sed 's/\.html$//' | sort -n |
	awk '{ v[NR] = $1 } END { print v[int(NR / 2) + 1] }')
COL=bmdt
COL_PAGES=$(($(find "$SITE/col/$COL" -name 'index*.html' | wc -l)))
DEEP=$((COL_PAGES * 4 / 5))
[ "$DEEP" -ge 2 ] || DEEP=2
CAT='zfxxgk/fdzdgk/?cat=a20_01&year=2025'
echo "item $ITEM_ID; column $COL: $COL_PAGES pages, deep page $DEEP" >&2

echo "nginx…" >&2
start "$WORK/nginx.log" "http://127.0.0.1:$NPORT/" "$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;'
NGINX_PID=$PID
N="http://127.0.0.1:$NPORT"
measure "item:nginx" "(a) item page — nginx" "$N/art/$ITEM_ID.html"
measure "col1:nginx" "(b) column page 1 — nginx" "$N/col/$COL/"
measure "deep:nginx" "(b) column page $DEEP — nginx" "$N/col/$COL/index_$DEEP.html"
measure "cat:nginx" "(c) catalogue — nginx (exported unfiltered page 1: the reference)" "$N/zfxxgk/fdzdgk/"
NGINX_RSS=$(nginx_rss_mb "$NGINX_PID")
stop "$NGINX_PID"

echo "gongkai, page cache on…" >&2
GPORT=$(free_port)
start "$WORK/serve.log" "http://127.0.0.1:$GPORT/healthz" "$BIN" serve --listen "127.0.0.1:$GPORT" --data-dir "$DATA"
G="http://127.0.0.1:$GPORT"
measure "item:cached" "(a) item page — gongkai, cache on" "$G/art/$ITEM_ID.html"
measure "col1:cached" "(b) column page 1 — gongkai, cache on" "$G/col/$COL/"
measure "deep:cached" "(b) column page $DEEP — gongkai, cache on" "$G/col/$COL/index_$DEEP.html"
measure "cat:cached" "(c) catalogue, filtered — gongkai, cache on" "$G/$CAT"
CACHED_RSS=$(rss_mb "$PID")
stop "$PID"

echo "gongkai, page cache off (portal.cache_mb = 0)…" >&2
printf '[portal]\ncache_mb = 0\n' >"$WORK/nocache.toml"
GPORT=$(free_port)
start "$WORK/serve0.log" "http://127.0.0.1:$GPORT/healthz" "$BIN" serve --config "$WORK/nocache.toml" --listen "127.0.0.1:$GPORT" --data-dir "$DATA"
G="http://127.0.0.1:$GPORT"
measure "item:uncached" "(a) item page — gongkai, cache off" "$G/art/$ITEM_ID.html"
measure "col1:uncached" "(b) column page 1 — gongkai, cache off" "$G/col/$COL/"
measure "deep:uncached" "(b) column page $DEEP — gongkai, cache off" "$G/col/$COL/index_$DEEP.html"
measure "cat:uncached" "(c) catalogue, filtered — gongkai, cache off" "$G/$CAT"
# The same pages one request at a time: the time to render a page, without queueing behind 63 others.
measure "col1:uncached1" "(b) column page 1 — gongkai, cache off, 1 connection" "$G/col/$COL/" 1
measure "deep:uncached1" "(b) column page $DEEP — gongkai, cache off, 1 connection" "$G/col/$COL/index_$DEEP.html" 1
measure "cat:uncached1" "(c) catalogue, filtered — gongkai, cache off, 1 connection" "$G/$CAT" 1
UNCACHED_RSS=$(rss_mb "$PID")
stop "$PID"

# ---- report ----
{
	echo "## portal.sh — $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 " GiB RAM" }'), Linux $(uname -r), $(rustc --version)," \
		"$("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2);" \
		"load average before the runs: $LOAD_BEFORE (after the build)."
	echo "Binary: target/release/gongkai; commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo 'none')$(cd "$ROOT" && git diff --quiet 2>/dev/null || echo ' + uncommitted changes')."
	echo
	echo "**Site**: \`gongkai demo\` then \`gongkai import items\` of $ITEMS lines of examples/bench_portal_data.rs (www site:"
	echo "部门动态 25 %, 街镇动态 10 %, 通知公告 20 %, 政策文件 20 %, 法定主动公开内容 25 %; 第二十条 category, 主题分类, 体裁,"
	echo "ten publishers, 2015–2025 with 30 % in 2025), SQLite. Import: ${IMPORT_SECS} s — $IMPORT_SUMMARY"
	echo
	echo "**Export**: \`gongkai export-static www <dir> --base-url http://127.0.0.1\`: ${EXPORT_SECS} s, $EXPORT_FILES files,"
	echo "$EXPORT_MB MB on disk — $EXPORT_SUMMARY"
	echo
	echo "**Method**: one server at a time on 127.0.0.1 — nginx serving the export, then \`gongkai serve\` (defaults: page cache"
	echo "64 MiB, job runner on, \`GONGKAI_LOG=warn\`), then \`gongkai serve --config nocache.toml\` with \`[portal] cache_mb = 0\`"
	echo "(every request renders the page: SQL on SQLite + template). Each URL is fetched once with curl (must be 200), warmed"
	echo "with ${WARMUP_SECS} s of wrk (so \"cache on\" means a warm page cache, and SQLite's and the OS's caches are warm for every"
	echo "series), then measured with \`wrk -t$THREADS -c$CONNS -d${DURATION}s --latency <url>\` (keep-alive, no Accept-Encoding, so both"
	echo "servers send the uncompressed page). **wrk and the server under test share the same $(nproc) cores**, so a server that"
	echo "needs less CPU per request also leaves more to wrk. RSS is VmRSS after the server's runs (nginx: master + workers)."
	echo
	echo "nginx.conf (written by the script; \`nginx -p <work> -c nginx.conf -g 'daemon off;'\`):"
	echo
	echo '```nginx'
	sed -e "s|$WORK|<work>|g" -e "s|$NPORT|<port>|" "$WORK/nginx.conf"
	echo '```'
	echo
	echo "| series | path | connections | bytes | req/s | p50 ms | p99 ms | req/s ÷ nginx | errors |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "Resident memory after the runs: gongkai cache on $CACHED_RSS MB, gongkai cache off $UNCACHED_RSS MB, nginx $NGINX_RSS MB."
	echo
	echo "Targets (issue 4): cached pages ≥ 1.0× nginx's req/s; uncached list and catalogue pages p99 < 20 ms; server RSS < 300 MB."
	echo "With $CONNS connections on a saturated CPU the uncached latency is mostly queueing (p50 ≈ $CONNS ÷ req/s); the"
	echo "1-connection rows show the time one uncached page takes."
	echo "The catalogue's nginx row is a reference only: nginx serves a file, gongkai filters 100,000 items per request when"
	echo "uncached."
	echo
} >"$WORK/report.md"

cat "$WORK/report.md"
if [ "$RECORD" = 1 ]; then
	[ -f "$ROOT/bench/RESULTS.md" ] || printf '# Benchmark results\n\nNewest last. Each section is pasted verbatim from one run of the named script.\n\n' >"$ROOT/bench/RESULTS.md"
	cat "$WORK/report.md" >>"$ROOT/bench/RESULTS.md"
	echo "appended to bench/RESULTS.md" >&2
fi
