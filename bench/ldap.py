#!/usr/bin/env python3
"""LDAP searches as a Yealink sends them while its user types, on a 100,000-contact directory
against the same on a 1,000-contact one (the reference, measured in the same run).

The sequence: 60 family names from the book, each typed letter by letter (1 to 4 letters), one
search per keystroke with Yealink's default name filter `(|(cn=X*)(sn=X*))`, its attributes
and its default max_hits (50). Clients are python-ldap (OpenLDAP libldap) processes, or python
ldap3 where python-ldap is missing, on persistent bound connections (and, as phones that
connect per search do, a connection per search). Besides the
searches/s the client sees, the server's own CPU time per search is read from /proc, which
the client's speed does not distort.

Usage: bench/ldap.py BIN [--quick]   (run by bench/run.sh with Debian's python3 and its
python3-ldap; needs `phonenumbers` for bench/gen_contacts.py). Prints a markdown table.
SECS=N in the environment measures N seconds per run instead of 10 (3 with --quick).
"""
import multiprocessing
import os
import random
import socket
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

# This file is `ldap.py`: python-ldap's module `ldap` is found only without its folder.
_path = sys.path
sys.path = [d for d in sys.path if os.path.abspath(d or ".") != os.path.dirname(os.path.abspath(__file__))]
try:
    # python-ldap: OpenLDAP's C client library, as a desk phone's client is C. The pure-Python
    # ldap3 decodes 50 entries slower than the server finds and encodes them, so with it the
    # searches/s measure the client more than the server.
    import ldap as libldap
    CLIENT = "python-ldap (OpenLDAP's libldap)"
except ImportError:
    libldap = None
    from ldap3 import Connection, Server
    CLIENT = "python ldap3"
sys.path = _path

BIN = sys.argv[1]
QUICK = "--quick" in sys.argv
SECONDS = int(os.environ.get("SECS", "3" if QUICK else "10"))
CLIENTS = 2
HERE = os.path.dirname(os.path.abspath(__file__))
T = tempfile.mkdtemp(prefix="phonedir-ldap-")
ATTRS = ["cn", "telephoneNumber", "mobile", "ipPhone"]


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def gen(n):
    out = os.path.join(T, f"c{n}.csv")
    with open(out, "w") as f:
        subprocess.run([sys.executable, os.path.join(HERE, "gen_contacts.py"), str(n), "42", "--varied"],
                       stdout=f, check=True)
    return out


def families(path, n, seed=7):
    import csv
    names = sorted({r["family_name"] for r in csv.DictReader(open(path, encoding="utf-8"))
                    if len(r["family_name"]) >= 4})
    return random.Random(seed).sample(names, n)


def sequence(names):
    return [f"(|(cn={name[:k]}*)(sn={name[:k]}*))" for name in names for k in range(1, 5)]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker(args):
    ldap_port, key, filters, per_search, seconds = args
    done, lat = 0, []
    conn = None
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        f = filters[i % len(filters)]
        i += 1
        t = time.perf_counter()
        if libldap is not None:
            if conn is None:
                conn = libldap.initialize(f"ldap://127.0.0.1:{ldap_port}")
                conn.protocol_version = 3
                conn.simple_bind_s("cn=phone", key)
            try:
                conn.search_ext_s("dc=phonedir", libldap.SCOPE_SUBTREE, f, ATTRS, sizelimit=50)
            except libldap.SIZELIMIT_EXCEEDED:
                pass
            if per_search:
                conn.unbind_s()
                conn = None
        else:
            if conn is None:
                conn = Connection(Server("127.0.0.1", port=ldap_port, get_info=None), user="cn=phone",
                                  password=key, auto_bind=True)
            conn.search("dc=phonedir", f, attributes=ATTRS, size_limit=50)
            assert conn.result["result"] in (0, 4), conn.result
            if per_search:
                conn.unbind()
                conn = None
        lat.append(time.perf_counter() - t)
        done += 1
    if conn is not None:
        conn.unbind_s() if libldap is not None else conn.unbind()
    return done, lat


def run(pid, ldap_port, key, filters, per_search):
    cpu = cpu_seconds(pid)
    t = time.perf_counter()
    with multiprocessing.Pool(CLIENTS) as pool:
        results = pool.map(worker, [(ldap_port, key, filters, per_search, SECONDS)] * CLIENTS)
    wall = time.perf_counter() - t
    cpu = cpu_seconds(pid) - cpu
    n = sum(r[0] for r in results)
    lat = sorted(x for r in results for x in r[1])
    p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else 0
    return n / wall, p99, cpu / max(n, 1) * 1e6


def main():
    small, big = gen(1000), gen(100000)
    http, ldap_port = port(), port()
    log = open(os.path.join(T, "server.log"), "w")
    proc = subprocess.Popen([BIN, "serve", "--data-dir", os.path.join(T, "d"), "--http", f"127.0.0.1:{http}",
                             "--https", "off", "--ldap", f"127.0.0.1:{ldap_port}", "--default-region", "DE",
                             "--no-access-log"], stderr=log)
    try:
        for _ in range(400):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.05)
        keys = {1000: "SMALLq7Rt2xK9p", 100000: "BIGBKq7Rt2xK9p"}
        for n, path in [(1000, small), (100000, big)]:
            req = urllib.request.Request(f"http://127.0.0.1:{http}/contacts/{keys[n]}", data=open(path, "rb").read(),
                                         method="PUT", headers={"Content-Type": "text/csv"})
            urllib.request.urlopen(req, timeout=600).read()
        # The same typed names in both books: the small book's names are in the big one.
        filters = sequence(families(small, 60))
        rows = []
        for per_search in (False, True):
            got = {}
            for n in (1000, 100000):
                # Build the book before measuring.
                worker((ldap_port, keys[n], filters[:1], False, 0.01))
                got[n] = run(proc.pid, ldap_port, keys[n], filters, per_search)
            rows.append((per_search, got))
    finally:
        proc.terminate()
        proc.wait()
    mode = {False: "one bound connection per client", True: "bind + search + unbind per keystroke"}
    print(f"LDAP: Yealink search as you type ({len(filters)} searches of 60 names typed 1-4 letters, "
          f"`(|(cn=X*)(sn=X*))`, 4 attributes, sizeLimit 50), {CLIENTS} {CLIENT} clients, {SECONDS} s each, "
          f"plain LDAP on loopback.")
    print()
    print("| measurement | 100,000 contacts | 1,000 contacts (reference) | ratio (target) |")
    print("| --- | --- | --- | --- |")
    for per_search, got in rows:
        big_rps, big_p99, big_cpu = got[100000]
        small_rps, small_p99, small_cpu = got[1000]
        print(f"| searches/s, {mode[per_search]} (p99 ms) | {big_rps:.0f} ({big_p99:.1f}) | "
              f"{small_rps:.0f} ({small_p99:.1f}) | {big_rps / small_rps:.2f}× (≥ 0.8) |")
        print(f"| server CPU per search, {mode[per_search]}, µs | {big_cpu:.0f} | {small_cpu:.0f} | "
              f"{big_cpu / max(small_cpu, 1e-9):.2f}× (≤ 2) |")


if __name__ == "__main__":
    try:
        main()
    finally:
        # Its server's data (books of 100,000 and 1,000 contacts).
        shutil.rmtree(T, ignore_errors=True)
