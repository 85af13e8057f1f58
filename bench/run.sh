#!/usr/bin/env bash
# phonedir's end-to-end benchmarks, each against a reference measured in the same run on the
# same machine (absolute numbers on a shared machine mean little; ratios hold):
#   1. GET of a cached 1,000-contact Yealink book, plain HTTP and HTTPS, vs nginx serving
#      the byte-identical file (requests/s and p99 latency, wrk)
#   2. the same for a 304 revalidation (If-None-Match)
#   3. a 100,000-contact push end to end (upload until the JSON answer) vs Python
#      `phonenumbers` (Google's libphonenumber) only parsing and formatting the same numbers
#   4. peak RSS of the server after loading 1,000 directories of 1,000 contacts and
#      fetching every book once
#   5. CardDAV (bench/carddav.py): a full multiget of 100,000 cards vs their push, a
#      current-token sync-collection vs the same on 1,000 cards, memory during the multiget
#   6. LDAP searches/s of a Yealink search-as-you-type sequence on 100,000 contacts vs the
#      same on 1,000 (bench/ldap.py, python-ldap clients: OpenLDAP's C library, as phones
#      use C clients; the Debian python3 that has it runs the script)
#   7. the book (bench/book.py): caller-ID lookups/s and uncached Yealink/Gigaset searches/s
#      on 100,000 contacts vs 1,000 (and lookups vs nginx serving 100 bytes), the first
#      render of a 100,000-contact book in every format vs its push, peak RSS with 1,000
#      directories × 1,000 contacts each fetched and looked up in
# Writes the table to bench/results.md. Installs wrk, nginx and phonenumbers if missing.
# Usage: bench/run.sh [--quick]   (--quick: 3 s wrk runs, 100 directories for the RSS run)
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=${1:-}
DURATION=10s; DIRS=1000
if [ "$QUICK" = "--quick" ]; then DURATION=3s; DIRS=100; fi

need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
/usr/bin/python3 -c 'import ldap, phonenumbers' 2>/dev/null || need_apt+=(python3-ldap python3-phonenumbers)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
python3 -c 'import phonenumbers' 2>/dev/null || pip install -q phonenumbers

cargo build --release --quiet
BIN=target/release/phonedir
T=$(mktemp -d /tmp/phonedir-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 200); do curl -skf "$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "server did not start" >&2; exit 1; }
start_phonedir() { # data-dir http https
  "$BIN" serve --data-dir "$1" --http "127.0.0.1:$2" --https "127.0.0.1:$3" --default-region DE --no-access-log \
    --registration-limit 0 \
    >"$1.log" 2>&1 &
  PIDS+=($!); PHONEDIR_PID=$!
  wait_up "http://127.0.0.1:$2"
}
# wrk URL [header] → "requests/s p99"
bench_wrk() {
  local out
  if [ $# -gt 1 ]; then out=$(wrk -t2 -c64 -d"$DURATION" --latency -H "$2" "$1"); else out=$(wrk -t2 -c64 -d"$DURATION" --latency "$1"); fi
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo "$rps $p99"
}

echo "generating data sets (1k, 10k, 100k contacts) ..." >&2
for n in 1000 10000 100000; do python3 bench/gen_contacts.py $n > "$T/c$n.csv"; done
python3 - "$T/c100000.csv" > "$T/numbers.txt" <<'PY'
import csv, sys
for row in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    for item in row["phone"].split(";"):
        kind, _, number = item.partition(":")
        if kind != "EXT":
            print(number)
PY

# Directory keys as open registration takes them (8+ different characters, no run of 4),
# the same every run: KEYS[0] the book, [1] the 100k push, [2..] the RSS run, last the
# repeated pushes.
mapfile -t KEYS < <(python3 - "$((DIRS + 3))" <<'PY'
import random, string, sys
r = random.Random(7)
out = []
while len(out) < int(sys.argv[1]):
    k = "".join(r.choice(string.ascii_letters + string.digits) for _ in range(14))
    steps = [ord(b) - ord(a) for a, b in zip(k, k[1:])]
    if len(set(k)) >= 8 and not any(steps[i] == steps[i + 1] == steps[i + 2] in (-1, 0, 1) for i in range(len(steps) - 2)):
        out.append(k)
print("\n".join(out))
PY
)

H1=$(port); S1=$(port); H2=$(port); S2=$(port)
mkdir -p "$T/d1"
start_phonedir "$T/d1" "$H1" "$S1"
KEY=${KEYS[0]}
curl -sf -F "file=@$T/c1000.csv" "http://127.0.0.1:$H1/contacts/$KEY" >/dev/null
BOOK="/contacts/$KEY/yealink/v1"
mkdir -p "$T/www/contacts/$KEY/yealink" "$T/nginx/logs"
curl -sf "http://127.0.0.1:$H1$BOOK" > "$T/www/contacts/$KEY/yealink/v1"
ETAG=$(curl -sfI "http://127.0.0.1:$H1$BOOK" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')

cat > "$T/nginx.conf" <<NGX
user root;
worker_processes 2;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $T/nginx; proxy_temp_path $T/nginx; fastcgi_temp_path $T/nginx;
  uwsgi_temp_path $T/nginx; scgi_temp_path $T/nginx;
  server {
    listen 127.0.0.1:$H2;
    listen 127.0.0.1:$S2 ssl;
    ssl_certificate $T/d1/certs/selfsigned.pem;
    ssl_certificate_key $T/d1/certs/selfsigned.key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $T/www;
    location / { default_type "text/xml; charset=utf-8"; }
  }
}
NGX
"$NGINX" -c "$T/nginx.conf" -p "$T/nginx" -g 'daemon off;' &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$H2$BOOK" >/dev/null && break; sleep 0.05; done
cmp <(curl -s "http://127.0.0.1:$H1$BOOK") <(curl -s "http://127.0.0.1:$H2$BOOK") \
  || { echo "nginx and phonedir bodies differ" >&2; exit 1; }
NGINX_ETAG=$(curl -sI "http://127.0.0.1:$H2$BOOK" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')

echo "wrk runs ($DURATION each) ..." >&2
read -r p_http p_http99 <<<"$(bench_wrk "http://127.0.0.1:$H1$BOOK")"
read -r n_http n_http99 <<<"$(bench_wrk "http://127.0.0.1:$H2$BOOK")"
read -r p_tls p_tls99 <<<"$(bench_wrk "https://127.0.0.1:$S1$BOOK")"
read -r n_tls n_tls99 <<<"$(bench_wrk "https://127.0.0.1:$S2$BOOK")"
read -r p_304 p_30499 <<<"$(bench_wrk "http://127.0.0.1:$H1$BOOK" "If-None-Match: $ETAG")"
read -r n_304 n_30499 <<<"$(bench_wrk "http://127.0.0.1:$H2$BOOK" "If-None-Match: $NGINX_ETAG")"

echo "100k push vs libphonenumber ..." >&2
PUSH=$(curl -sf -o "$T/push.json" -w '%{time_total}' -F "file=@$T/c100000.csv" "http://127.0.0.1:$H1/contacts/${KEYS[1]}")
PUSHED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["contacts"])' "$T/push.json")
read -r PY PYOK < <(python3 bench/libphonenumber_parse.py "$T/numbers.txt")
NUMS=$(wc -l < "$T/numbers.txt")

echo "peak RSS with $DIRS directories x 1000 contacts ..." >&2
kill "$PHONEDIR_PID"; wait "$PHONEDIR_PID" 2>/dev/null || true
H3=$(port); S3=$(port); mkdir -p "$T/d2"
start_phonedir "$T/d2" "$H3" "$S3"
for v in $(seq 0 9); do python3 bench/gen_contacts.py 1000 "$v" > "$T/v$v.csv"; done
for i in $(seq 1 "$DIRS"); do
  k=${KEYS[$((i + 1))]}
  curl -sf -o /dev/null -F "file=@$T/v$((i % 10)).csv" "http://127.0.0.1:$H3/contacts/$k"
done
for i in $(seq 1 "$DIRS"); do
  curl -sf -o /dev/null "http://127.0.0.1:$H3/contacts/${KEYS[$((i + 1))]}/yealink/v1"
done
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$PHONEDIR_PID/status")
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$PHONEDIR_PID/status")
# The process's own memory (heap), apart from the mapped binary.
ANON=$(awk '/RssAnon/ {print $2}' "/proc/$PHONEDIR_PID/status")

echo "repeated pushes ..." >&2
REPEAT=200
REPEAT_KEY=${KEYS[$((DIRS + 2))]}
for i in $(seq 1 20); do  # warm up: allocator and caches reach their working size
  curl -sf -o /dev/null -F "file=@$T/v$((i % 2)).csv" "http://127.0.0.1:$H3/contacts/$REPEAT_KEY"
  curl -sf -o /dev/null "http://127.0.0.1:$H3/contacts/$REPEAT_KEY/yealink/v1"
done
RSS_BEFORE=$(awk '/RssAnon/ {print $2}' "/proc/$PHONEDIR_PID/status")
for i in $(seq 1 "$REPEAT"); do
  curl -sf -o /dev/null -F "file=@$T/v$((i % 2)).csv" "http://127.0.0.1:$H3/contacts/$REPEAT_KEY"
  curl -sf -o /dev/null "http://127.0.0.1:$H3/contacts/$REPEAT_KEY/yealink/v1"
done
RSS_AFTER=$(awk '/RssAnon/ {print $2}' "/proc/$PHONEDIR_PID/status")

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print('%.2f' % (a/b if b else 0))" "$1" "$2"; }
CPU=$(lscpu 2>/dev/null | awk -F: '/Model name/ {gsub(/^ +/,"",$2); print $2; exit}')
{
  echo "# phonedir benchmark results"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB, commit $(git rev-parse --short HEAD)${QUICK:+, $QUICK}."
  echo "Both servers on the same machine as wrk (-t2 -c64 -d$DURATION), phonedir with 2 workers, nginx with 2 worker processes, access logs off on both."
  echo
  echo "| measurement | phonedir | reference | ratio (target) |"
  echo "| --- | --- | --- | --- |"
  echo "| GET 1,000-contact Yealink book, HTTP: requests/s (p99) | $p_http ($p_http99) | nginx $n_http ($n_http99) | $(ratio "$p_http" "$n_http")× (≥ 1.0) |"
  echo "| same over HTTPS | $p_tls ($p_tls99) | nginx $n_tls ($n_tls99) | $(ratio "$p_tls" "$n_tls")× (≥ 1.0) |"
  echo "| 304 revalidation, HTTP: requests/s (p99) | $p_304 ($p_30499) | nginx $n_304 ($n_30499) | $(ratio "$p_304" "$n_304")× (≥ 1.0) |"
  echo "| push of 100,000 contacts ($NUMS numbers; $PUSHED stored), seconds | $PUSH | phonenumbers parse+format only $PY ($PYOK valid) | $(ratio "$PUSH" "$PY")× (≤ 0.5) |"
  echo "| peak RSS after $DIRS directories × 1,000 contacts, every book fetched once | $((HWM / 1024)) MiB (now $((RSS / 1024)) MiB, of it heap $((ANON / 1024)) MiB) | | (≤ 150 MiB) |"
  echo "| heap RSS across $REPEAT further pushes of a changing 1,000-contact book, each fetched | $((RSS_BEFORE / 1024)) → $((RSS_AFTER / 1024)) MiB | before | $(ratio "$RSS_AFTER" "$RSS_BEFORE")× (no growth: ≈ 1.0) |"
} | tee bench/results.md

echo "CardDAV: full multiget, current-token sync ..." >&2
python3 bench/carddav.py "$BIN" $QUICK | tee -a bench/results.md
echo "LDAP search as you type, 100k vs 1k ..." >&2
kill "$PHONEDIR_PID"; wait "$PHONEDIR_PID" 2>/dev/null || true
{ echo; /usr/bin/python3 bench/ldap.py "$BIN" $QUICK; } | tee -a bench/results.md
echo "The book: lookups, searches, first renders, memory ..." >&2
{ echo; echo "## The book (bench/book.py, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD))"; echo; python3 bench/book.py "$BIN" "$NGINX" $QUICK; } | tee -a bench/results.md
