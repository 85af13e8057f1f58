#!/usr/bin/env python3
"""The book's benchmarks: how lookups, searches, first renders and memory behave as a
directory grows, each against a reference measured in the same run (see issue "The book").

  1. caller-ID lookups/s on a 100,000-contact directory vs on a 1,000-contact one (500
     distinct numbers in mixed shapes: +49…, 0049…, 0…, with separators), and vs nginx
     serving a 100-byte file;
  2. uncached Yealink `?q=` and Gigaset `ln=`/`fn=` searches/s on 100,000 contacts vs on
     1,000 (a server with `--cache-bytes 0`, so every answer is searched and rendered);
  3. the first render of the whole 100,000-contact book in every format vs the push that
     stored it;
  4. peak RSS with 1,000 directories of 1,000 contacts, every book fetched and 10 lookups in
     each, default settings.

Usage: bench/book.py BIN NGINX [--quick]   (run by bench/run.sh, which installs wrk, nginx
and phonenumbers). Prints a markdown table; --quick: 3 s wrk runs, 100 directories for RSS.
"""
import csv
import io
import json
import os
import random
import socket
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

BIN, NGINX = sys.argv[1], sys.argv[2]
QUICK = "--quick" in sys.argv
DURATION = "3s" if QUICK else "10s"
DIRS = 100 if QUICK else 1000
HERE = os.path.dirname(os.path.abspath(__file__))
T = tempfile.mkdtemp(prefix="phonedir-book-")
procs = []

WRK_LUA = """
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("offset", counter * 7919) end
function init(args) i = offset or 0 end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""


def key(name):
    """A directory key for `name`: 14 characters the server takes (at least 8 distinct, no
    run of 4 alike or in sequence), the same on every run."""
    import hashlib
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    salt = 0
    while True:
        h = int.from_bytes(hashlib.sha256(f"{name}/{salt}".encode()).digest(), "big")
        k = "".join(alphabet[(h >> (6 * i)) % 62] for i in range(14))
        steps = [ord(b) - ord(a) for a, b in zip(k, k[1:])]
        runs = any(steps[i] == steps[i + 1] == steps[i + 2] and steps[i] in (-1, 0, 1)
                   for i in range(len(steps) - 2))
        if len(set(k)) >= 8 and not runs:
            return k
        salt += 1


SMALL, BIG = key("small"), key("big")


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def get(url, data=None, method=None, ctype=None):
    r = urllib.request.Request(url, data=data, method=method)
    if ctype:
        r.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(r, timeout=600) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def start(data_dir, *extra):
    p = port()
    proc = subprocess.Popen(
        [BIN, "serve", "--data-dir", data_dir, "--http", f"127.0.0.1:{p}", "--https", "off",
         "--default-region", "DE", "--no-access-log", "--registration-limit", "0",
         "--key-failures-per-minute", "0", *extra],
        stderr=open(data_dir + ".log", "w"))
    procs.append(proc)
    base = f"http://127.0.0.1:{p}"
    for _ in range(400):
        try:
            if get(base + "/healthz")[0] == 200:
                return proc, base
        except OSError:
            time.sleep(0.05)
    sys.exit("phonedir did not start")


def gen(n, seed=42):
    out = os.path.join(T, f"c{n}-{seed}.csv")
    with open(out, "w") as f:
        subprocess.run([sys.executable, os.path.join(HERE, "gen_contacts.py"), str(n), str(seed),
                        "--varied"], stdout=f, check=True)
    return out


def push(base, key, path):
    body = open(path, "rb").read()
    t = time.perf_counter()
    status, out = get(f"{base}/contacts/{key}", body, "PUT", "text/csv")
    took = time.perf_counter() - t
    assert status == 200, out[:300]
    return took


def wrk(paths, base, conns=32):
    pf = os.path.join(T, f"paths{random.random()}.txt")
    with open(pf, "w") as f:
        f.write("\n".join(paths) + "\n")
    lua = os.path.join(T, "paths.lua")
    open(lua, "w").write(WRK_LUA)
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{DURATION}", "--latency", "-s", lua, base],
                         env=dict(os.environ, PATHS=pf), capture_output=True, text=True, check=True).stdout
    rps = float(next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec:")))
    p99 = next((l.split()[1] for l in out.splitlines() if l.strip().startswith("99%")), "?")
    non2xx = next((l for l in out.splitlines() if "Non-2xx" in l), "")
    return rps, p99, non2xx


def rows(path):
    return list(csv.DictReader(open(path, encoding="utf-8")))


def shapes(number):
    """The shapes a PBX delivers a caller in."""
    e164 = number.replace(" ", "")
    digits = e164.lstrip("+")
    out = [e164, "00" + digits]
    if digits.startswith("49"):
        nat = "0" + digits[2:]
        out += [nat, nat[:4] + " " + nat[4:], nat[:4] + "-" + nat[4:]]
    return out


def lookup_paths(key, path, n=500, seed=1):
    rng = random.Random(seed)
    numbers = []
    for r in rows(path):
        for item in r["phone"].split(";"):
            kind, _, num = item.partition(":")
            if kind != "EXT":
                numbers.append(num)
    rng.shuffle(numbers)
    paths = []
    for num in numbers:
        for s in shapes(num):
            paths.append(f"/contacts/{key}/lookup?number={urllib.parse.quote(s)}")
            if len(paths) >= n:
                return paths
    return paths


def search_paths(key, path, n, seed):
    """Distinct searches as people type them until the list is short: a whole family name,
    or a family name and the start of a given name; Gigaset's ln/fn alike."""
    rng = random.Random(seed)
    people = rows(path)
    yealink, gigaset, seen = [], [], set()
    for _ in range(n * 20):
        if len(yealink) >= n:
            break
        r = rng.choice(people)
        fam, giv = r["family_name"], r["given_name"]
        k = len(fam)
        term = fam if rng.random() < 0.5 else f"{fam} {giv[:rng.randint(1, len(giv))]}"
        if term in seen:
            continue
        seen.add(term)
        yealink.append(f"/contacts/{key}/yealink/v1?q={urllib.parse.quote(term)}")
        gigaset.append(f"/contacts/{key}/gigaset/v1?command=get_list&type=pb"
                       f"&ln={urllib.parse.quote(fam[:k])}&fn={urllib.parse.quote(giv[:2])}"
                       f"&first=1&count={rng.randint(1, 40)}")
    return yealink, gigaset


def hwm(proc):
    for line in open(f"/proc/{proc.pid}/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) // 1024
    return 0


def main():
    results = []
    small, big = gen(1000), gen(100000)
    proc, base = start(os.path.join(T, "d1"))
    push(base, SMALL, small)
    push_s = push(base, BIG, big)

    # 3. The book built (by a lookup, which renders nothing), then the first render of the
    # whole 100k book in every format.
    t = time.perf_counter()
    get(f"{base}/contacts/{BIG}/lookup?number=%2B10000000000")
    build_s = time.perf_counter() - t
    formats = ["", "yealink/v1", "yealink/v1?style=directory", "snom/v1", "snom/tbook", "snom/dect",
               "gigaset/v1", "gigaset/central", "cisco/v1", "grandstream/v1", "fanvil/v1",
               "fritzbox/v1", "vcard", "vcard?version=4.0"]
    firsts = []
    for f in formats:
        t = time.perf_counter()
        status, _ = get(f"{base}/contacts/{BIG}/{f}" if f else f"{base}/contacts/{BIG}")
        firsts.append((time.perf_counter() - t, f or "csv"))
        assert status == 200, f
    worst, worst_f = max(firsts)
    built = [l for l in open(os.path.join(T, "d1.log")) if "book built" in l and "contacts=100000" in l]
    per_contact = 0
    if built:
        fields = dict(kv.split("=", 1) for kv in built[-1].split() if "=" in kv)
        per_contact = int(fields.get("bytes", "0")) // 100000

    # 1. Lookups. Each book is built just before its run (the build is measured above, and
    # with the default --book-cache-bytes the 100,000-contact book is kept alone: asking for
    # the small one drops it).
    def warm_wrk(paths):
        get(base + paths[0])
        return wrk(paths, base)

    lk_small = warm_wrk(lookup_paths(SMALL, small))
    lk_big = warm_wrk(lookup_paths(BIG, big))
    www = os.path.join(T, "www")
    os.makedirs(www)
    open(os.path.join(www, "f"), "w").write("x" * 100)
    np_ = port()
    os.makedirs(os.path.join(T, "nginx"), exist_ok=True)
    conf = os.path.join(T, "nginx.conf")
    open(conf, "w").write(f"""
user root; worker_processes 2; pid {T}/nginx/nginx.pid; error_log {T}/nginx/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {T}/nginx; proxy_temp_path {T}/nginx;
  fastcgi_temp_path {T}/nginx; uwsgi_temp_path {T}/nginx; scgi_temp_path {T}/nginx;
  server {{ listen 127.0.0.1:{np_}; root {www}; location / {{ default_type "text/plain"; }} }} }}
""")
    procs.append(subprocess.Popen([NGINX, "-c", conf, "-p", os.path.join(T, "nginx"), "-g", "daemon off;"]))
    for _ in range(100):
        try:
            if get(f"http://127.0.0.1:{np_}/f")[0] == 200:
                break
        except OSError:
            time.sleep(0.05)
    nginx = wrk(["/f"], f"http://127.0.0.1:{np_}")

    proc.terminate()
    proc.wait()

    # 2. Searches, every one searched and rendered: no render cache.
    proc, base = start(os.path.join(T, "d1"), "--cache-bytes", "0")
    ys, gs = search_paths(SMALL, small, 2000, 7)
    yb, gb = search_paths(BIG, big, 2000, 7)
    ye_small, ye_big = warm_wrk(ys), warm_wrk(yb)
    gi_small, gi_big = warm_wrk(gs), warm_wrk(gb)
    proc.terminate()
    proc.wait()

    # 4. Memory: many directories, each book fetched and looked up in.
    proc, base = start(os.path.join(T, "d2"))
    books = [gen(1000, seed) for seed in range(10)]
    for i in range(DIRS):
        push(base, key(f"rss{i}"), books[i % 10])
    for i in range(DIRS):
        k = key(f"rss{i}")
        assert get(f"{base}/contacts/{k}/yealink/v1")[0] == 200
        for p in lookup_paths(k, books[i % 10], n=10, seed=i):
            get(base + p)
    peak = hwm(proc)
    proc.terminate()

    def ratio(a, b):
        return a / b if b else 0.0

    print("| measurement | phonedir | reference | ratio (target) |")
    print("| --- | --- | --- | --- |")
    print(f"| caller-ID lookups/s, 100,000 contacts (500 numbers in mixed shapes; p99) | {lk_big[0]:.0f} ({lk_big[1]}) | 1,000 contacts: {lk_small[0]:.0f} ({lk_small[1]}) | {ratio(lk_big[0], lk_small[0]):.2f}× (≥ 0.9) |")
    print(f"| same, against a static file | {lk_big[0]:.0f} | nginx, 100-byte file: {nginx[0]:.0f} ({nginx[1]}) | {ratio(lk_big[0], nginx[0]):.2f}× (≥ 0.5) |")
    print(f"| Yealink `?q=` searches/s (uncached), 100,000 contacts | {ye_big[0]:.0f} ({ye_big[1]}) | 1,000 contacts: {ye_small[0]:.0f} ({ye_small[1]}) | {ratio(ye_big[0], ye_small[0]):.2f}× (≥ 0.7) |")
    print(f"| Gigaset `ln`/`fn` searches/s (uncached), 100,000 contacts | {gi_big[0]:.0f} ({gi_big[1]}) | 1,000 contacts: {gi_small[0]:.0f} ({gi_small[1]}) | {ratio(gi_big[0], gi_small[0]):.2f}× (≥ 0.7) |")
    print(f"| slowest first render of the whole 100,000-contact book, any format ({worst_f}) | {worst:.2f} s | its push: {push_s:.2f} s | {ratio(worst, push_s):.2f}× (≤ 0.3) |")
    print(f"| building that book once per version (read, merge, index; before the first render) | {build_s:.2f} s | its push: {push_s:.2f} s | {ratio(build_s, push_s):.2f}× |")
    print(f"| peak RSS, {DIRS} directories × 1,000 contacts, every book fetched, 10 lookups each | {peak} MiB | | (≤ 150 MiB) |")
    print(f"| memory of the 100,000-contact book (contacts, indexes, ids) per contact | {per_contact} bytes | | |")
    detail = ", ".join(f"{f} {s:.2f} s" for s, f in firsts)
    print(f"\nFirst renders of the 100,000-contact book: {detail}.")
    for name, r in [("lookups 1k", lk_small), ("lookups 100k", lk_big), ("yealink 1k", ye_small),
                    ("yealink 100k", ye_big), ("gigaset 1k", gi_small), ("gigaset 100k", gi_big)]:
        if r[2]:
            print(f"\nnote: {name}: {r[2].strip()}")


if __name__ == "__main__":
    try:
        main()
    finally:
        # Terminated, not killed: a killed nginx master leaves its workers running.
        for p in procs:
            try:
                p.terminate()
                p.wait(timeout=10)
            except Exception:
                p.kill()
        # Its servers' data: gigabytes per run (1,000 directories, 100,000-contact books).
        shutil.rmtree(T, ignore_errors=True)
