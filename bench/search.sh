#!/usr/bin/env bash
# Search at a million items: gongkai's engine against SQLite FTS5 (trigram) and PostgreSQL
# pg_trgm in the same run. The benchmark is its own cargo workspace in bench/search/ (it
# pulls rusqlite and postgres, which gongkai itself does not need); see bench/search/run.sh.
#
#   bench/search.sh            1,000,000 items (about an hour on 2 cores)
#   bench/search.sh 20000      a quick run, not for the record
set -euo pipefail
for v in $(env | sed -n 's/^\(GONGKAI_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
exec "$(cd "$(dirname "$0")" && pwd)/search/run.sh" "$@"
