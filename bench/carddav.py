#!/usr/bin/env python3
"""The CardDAV server's benchmarks, each against a reference measured in the same run:

  1. a full addressbook-multiget of a 100,000-contact book in one request (what Thunderbird
     sends: every href, getetag + address-data) vs the push that stored the book
     (target: under the push's time);
  2. a sync-collection with the current token (what DAVx5 and Evolution send every few
     minutes) on the 100,000-contact book vs on a 1,000-contact book (target: the same
     cost; it renders no vCard);
  3. the server's peak memory growth during the full multiget vs the book's own size
     (target: the answer is streamed, so well under the book).

Usage: bench/carddav.py BIN [--quick]   (run by bench/run.sh; needs `phonenumbers` for
bench/gen_contacts.py). Prints a markdown table.
"""
import base64
import http.client
import os
import re
import socket
import statistics
import shutil
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
QUICK = "--quick" in sys.argv
HERE = os.path.dirname(os.path.abspath(__file__))
T = tempfile.mkdtemp(prefix="phonedir-carddav-")
BIG, SMALL = "DAVBIGq7Rt2xK9", "DAVSMLq7Rt2xK9"
procs = []


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Client:
    def __init__(self, p, key):
        self.conn = http.client.HTTPConnection("127.0.0.1", p, timeout=600)
        self.auth = "Basic " + base64.b64encode(f"bench:{key}".encode()).decode()

    def call(self, method, path, body=b"", depth=None, ctype="application/xml; charset=utf-8"):
        headers = {"Authorization": self.auth, "Content-Type": ctype}
        if depth is not None:
            headers["Depth"] = depth
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        return r.status, r.read()


def propfind(c, path, depth, props):
    body = (f'<d:propfind xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav">'
            f"<d:prop>{props}</d:prop></d:propfind>").encode()
    status, out = c.call("PROPFIND", path, body, depth)
    assert status == 207, (status, out[:300])
    return out.decode()


def hrefs_of(xml):
    return re.findall(r"<D:href>([^<]*)</D:href>", xml)


def book_of(c):
    root = propfind(c, "/", "0", "<d:current-user-principal/>")
    principal = hrefs_of(root)[1]
    home = re.search(r"<C:addressbook-home-set><D:href>([^<]*)<", propfind(c, principal, "0", "<card:addressbook-home-set/>")).group(1)
    return home + "contacts/"


def sync_body(token):
    return (f'<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token>'
            f"<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>").encode()


def hwm(proc):
    for line in open(f"/proc/{proc.pid}/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) // 1024
    return 0


def main():
    p = port()
    data = os.path.join(T, "data")
    log = open(data + ".log", "w")
    proc = subprocess.Popen([BIN, "serve", "--data-dir", data, "--http", f"127.0.0.1:{p}",
                             "--https", "off", "--default-region", "DE", "--no-access-log"],
                            stderr=log)
    procs.append(proc)
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", p), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)

    def gen(n):
        out = os.path.join(T, f"c{n}.csv")
        with open(out, "w") as f:
            subprocess.run([sys.executable, os.path.join(HERE, "gen_contacts.py"), str(n), "42", "--varied"],
                           stdout=f, check=True)
        return open(out, "rb").read()

    def push(key, body):
        c = Client(p, key)
        t = time.perf_counter()
        status, out = c.call("PUT", f"/contacts/{key}", body, ctype="text/csv")
        assert status == 200, out[:300]
        return time.perf_counter() - t

    push(SMALL, gen(1000))
    push_s = push(BIG, gen(100000))

    big = Client(p, BIG)
    book = book_of(big)
    # (Discovery above was the first CardDAV request: it built the book and logged it.)
    t = time.perf_counter()
    listing = propfind(big, book, "1", "<d:getetag/>")
    listing_s = time.perf_counter() - t
    cards = [h for h in hrefs_of(listing) if h.endswith(".vcf")]
    assert len(cards) == 100000, len(cards)

    body = ('<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">'
            "<D:prop><D:getetag/><C:address-data/></D:prop>"
            + "".join(f"<D:href>{h}</D:href>" for h in cards)
            + "</C:addressbook-multiget>").encode()
    before = hwm(proc)
    runs = []
    for _ in range(1 if QUICK else 3):
        t = time.perf_counter()
        status, out = big.call("REPORT", book, body, "1")
        runs.append(time.perf_counter() - t)
        assert status == 207, out[:300]
        assert out.count(b"<C:address-data>") == 100000
    multiget_s = min(runs)
    growth = hwm(proc) - before
    answer_mib = len(out) / 2**20
    built = [l for l in open(data + ".log") if "book built" in l and "contacts=100000" in l]
    book_mib = 0.0
    if built:
        fields = dict(kv.split("=", 1) for kv in built[-1].split() if "=" in kv)
        book_mib = int(fields.get("bytes", "0")) / 2**20

    def sync_current(c, path, n):
        status, out = c.call("REPORT", path, sync_body(""), "1")
        assert status == 207
        token = re.search(rb"<D:sync-token>([^<]*)<", out).group(1).decode()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            status, out = c.call("REPORT", path, sync_body(token), "1")
            times.append(time.perf_counter() - t)
            assert status == 207 and b"<D:response>" not in out, out[:300]
        return statistics.median(times) * 1000

    n = 50 if QUICK else 300
    small = Client(p, SMALL)
    sync_big = sync_current(big, book, n)
    sync_small = sync_current(small, book_of(small), n)
    proc.terminate()
    proc.wait()

    def ratio(a, b):
        return a / b if b else 0.0

    print()
    print("CardDAV (bench/carddav.py):")
    print()
    print("| measurement | phonedir | reference | ratio (target) |")
    print("| --- | --- | --- | --- |")
    print(f"| full addressbook-multiget of 100,000 cards in one request ({len(body) / 2**20:.1f} MiB asked, {answer_mib:.0f} MiB answered), seconds | {multiget_s:.2f} | the push of the book: {push_s:.2f} | {ratio(multiget_s, push_s):.2f}× (< 1.0) |")
    print(f"| sync-collection with the current token, 100,000 cards, ms (median of {n}) | {sync_big:.2f} | 1,000 cards: {sync_small:.2f} | {ratio(sync_big, sync_small):.2f}× (≈ 1.0) |")
    print(f"| peak memory growth during the full multiget, MiB | {growth} | the book in memory: {book_mib:.0f} | {ratio(growth, book_mib):.2f}× (< 1.0) |")
    print(f"\nPROPFIND Depth 1 (getetag) listing all 100,000 cards: {listing_s:.2f} s.")


try:
    main()
finally:
    for pr in procs:
        try:
            pr.kill()
            pr.wait()
        except Exception:
            pass
    # Its server's data (a 100,000-card book).
    shutil.rmtree(T, ignore_errors=True)
