#!/usr/bin/env bash
# gongkai's search engine (crates/search) against SQLite FTS5 (trigram tokenizer) and
# PostgreSQL pg_trgm, on the same generated items and the same queries, in one run:
# indexing throughput and size, query latency p50/p99/mean and QPS at 1 and 16 clients for
# four query classes, result overlap, and the ratios. See src/main.rs for the method.
#
#   bench/search/run.sh [N] [more flags for the benchmark binary]
#     N          items to generate (default 1000000; 20000 for a quick run)
#     BENCH_PG   PostgreSQL connection (default "host=127.0.0.1 user=postgres"); the
#                scratch database gongkai_bench_search is dropped and created by the run
#     BENCH_JSON where to write the JSON figures (default bench/search/target/search-N.json)
#
# Needs cargo and a running PostgreSQL 13+ with the pg_trgm extension available (and psql,
# only to drop the scratch database when the run is interrupted). Builds in release into
# bench/search/target (its own workspace). Scratch files go to a fresh temporary directory,
# removed on every path.
set -euo pipefail

N=${1:-1000000}
shift || true
here=$(cd "$(dirname "$0")" && pwd)
export BENCH_PG=${BENCH_PG:-"host=127.0.0.1 user=postgres"}
json=${BENCH_JSON:-"$here/target/search-$N.json"}

command -v cargo >/dev/null || { echo "cargo is needed" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/gongkai-bench-search.XXXXXX")
cleanup() {
    rm -rf "$scratch"
    if command -v psql >/dev/null; then
        psql -q -d "$BENCH_PG dbname=postgres" -c "DROP DATABASE IF EXISTS gongkai_bench_search WITH (FORCE)" \
            >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: nproc=$(nproc), $(free -g | awk '/^Mem:/ {print $2 " GiB memory"}'), kernel $(uname -r), $(rustc --version)"

t0=$(date +%s)
(cd "$here" && cargo build --release --quiet)
t1=$(date +%s)
echo "phase build (release): $((t1 - t0)) s"

"$here/target/release/gongkai-bench-search" --n "$N" --pg "$BENCH_PG" --work "$scratch/work" --json "$json" "$@"
t2=$(date +%s)
echo "phase benchmark run: $((t2 - t1)) s; total $((t2 - t0)) s"
