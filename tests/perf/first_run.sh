#!/usr/bin/env bash
# Times the README's first command on a fresh machine: from `git clone` to the first
# 200 from http://127.0.0.1:$PORT/ under `make run` (a new .venv, base.txt installed).
#
#   tests/perf/first_run.sh [REPO [BRANCH]]    # defaults: this repository, its HEAD
#
# RUNS (3) clones are timed one after another, each in a new temporary folder. pip's
# cache is whatever PIP_CACHE_DIR says (pip's default when unset); COLD=1 gives each
# run a new empty cache, as on a machine that never ran pip. PORT defaults to 8765.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=${1:-$(git -C "$here" rev-parse --show-toplevel)}
branch=${2:-$(git -C "$repo" rev-parse --abbrev-ref HEAD)}
runs=${RUNS:-3}
port=${PORT:-8765}

if curl -so /dev/null "http://127.0.0.1:$port/"; then
  echo "first_run: something already answers on port $port (PORT=N picks another)" >&2
  exit 1
fi

now() { date +%s.%N; }

# CPU seconds (user + system) spent so far by the processes of session $1 and by their
# children that have exited: the same figure on a busy machine as on an idle one, where
# the wall-clock time is not.
session_cpu() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } |  # (a process may end meanwhile)
    awk -v sid="$1" -v hz="$(getconf CLK_TCK)" \
      '$6 == sid { t += $14 + $15 + $16 + $17 } END { printf "%.1f", t / hz }'
}

for run in $(seq 1 "$runs"); do
  work=$(mktemp -d)
  if [ "${COLD:-0}" = 1 ]; then
    export PIP_CACHE_DIR="$work/pip-cache"
  fi
  start=$(now)
  git clone --quiet --branch "$branch" "$repo" "$work/nullboard"
  # Its own session, so that make, runserver and the reloader's child stop together.
  (cd "$work/nullboard" && exec setsid make run PORT="$port" >"$work/make.log" 2>&1) &
  leader=$!
  trap 'kill -TERM -- "-$leader" 2>/dev/null || true' EXIT
  until curl -fso /dev/null "http://127.0.0.1:$port/"; do
    if ! kill -0 "$leader" 2>/dev/null; then
      echo "first_run: make run stopped before answering; its output:" >&2
      cat "$work/make.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  end=$(now)
  cpu=$(session_cpu "$leader")
  kill -TERM -- "-$leader"
  wait "$leader" 2>/dev/null || true
  installed=$(stat -c %.3Y "$work/nullboard/.venv/.installed-base")
  printf 'run %d: %.1f s from git clone to the first 200 (install done after %.1f s); %s s of CPU\n' \
    "$run" "$(echo "$end - $start" | bc)" "$(echo "$installed - $start" | bc)" "$cpu"
  rm -rf "$work"
done
