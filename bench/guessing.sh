#!/usr/bin/env bash
# What an attacker gets from one address in a fixed time, with the limits of issue 10 on
# (their defaults) against the same server with them off (the reference, measured in the
# same run on the same machine):
#   1. key guesses answered (404 = "no such directory", i.e. an answer that tells which keys
#      exist), wrk -t2 -c64, a fresh random key per request
#   2. directories created by POST /api/v1/directories
# Writes bench/results-keys.md. Usage: bench/guessing.sh [seconds]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
BIN=target/release/phonedir
T=$(mktemp -d /tmp/phonedir-guess.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat > "$T/count.lua" <<'LUA'
-- Counts answers by status over all threads; METHOD and PATH from the environment, where
-- `KEY` in PATH becomes a fresh random 14-character key per request.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  codes = {}
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
local method, path = os.getenv("METHOD") or "GET", os.getenv("TARGET") or "/contacts/KEY"
request = function()
  local k = string.format("Gx%06d%06d", math.random(0, 999999), math.random(0, 999999))
  return wrk.format(method, (path:gsub("KEY", k)))
end
response = function(status) codes[status] = (codes[status] or 0) + 1 end
done = function()
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("codes")) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("status %d %d\n", k, v)) end
end
LUA

# run FLAGS... → starts a server, its base URL in $BASE (not printed: a command substitution
# would run it in a subshell, and cleanup would not know its pid)
run() {
  local h s; h=$(port); s=$(port); mkdir -p "$T/d$h"
  "$BIN" serve --data-dir "$T/d$h" --http "127.0.0.1:$h" --https "127.0.0.1:$s" --no-access-log "$@" >"$T/d$h.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$h/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
  BASE="http://127.0.0.1:$h"
}
# count BASE METHOD TARGET STATUS → how many answers had STATUS
count() {
  METHOD=$2 TARGET=$3 wrk -t2 -c64 -d"${SECS}s" -s "$T/count.lua" "$1" \
    | awk -v s="$4" '$1=="status" && $2==s {n=$3} END {print n+0}'
}

echo "guessing, ${SECS} s per run ..." >&2
run --key-failures-per-minute 0 --registration-limit 0; off=$BASE
run; on=$BASE
g_off=$(count "$off" GET /contacts/KEY/yealink/v1 404)
g_on=$(count "$on" GET /contacts/KEY/yealink/v1 404)
r_off=$(count "$off" POST /api/v1/directories 201)
r_on=$(count "$on" POST /api/v1/directories 201)

{
  echo "# Guessing and registration from one address"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, commit $(git rev-parse --short HEAD), ${SECS} s per run, wrk -t2 -c64 from 127.0.0.1 (\`bench/guessing.sh\`)."
  echo
  echo "| from one address in ${SECS} s | limits off (reference) | defaults | ratio |"
  echo "| --- | ---: | ---: | ---: |"
  echo "| wrong keys answered 404 | $g_off | $g_on | $(python3 -c "print('%.5f' % ($g_on / max($g_off, 1)))") |"
  echo "| directories created | $r_off | $r_on | $(python3 -c "print('%.5f' % ($r_on / max($r_off, 1)))") |"
  echo
  echo "Defaults: \`--key-failures-per-minute 20\` (after 20 wrong keys, one more every 3 s; the rest"
  echo "answer 429 with Retry-After), \`--registration-limit 10\` per hour."
} > bench/results-keys.md
cat bench/results-keys.md
