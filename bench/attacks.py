#!/usr/bin/env python3
"""Replays the attacks of issue 11 ("No tenant can take the server down") against the real
release server and shows that the server holds: after each attack it is up, another
directory's reads stay fast (p99 under load <= 3x its idle p99), that directory's writes
complete, and the server's memory stays under a stated bound.

Python 3 standard library only; builds the release binary if it is missing. Remote systems
(CardDAV, JSON APIs) are played by a local HTTP server in this script.

Usage: bench/attacks.py [--out bench/attacks.md] [--only WORDS]...
  --only: run just the attacks whose name contains WORDS (repeatable), e.g.
          --only "?wait=0" --only replacement, while working on one of them.
"""
import http.client
import http.server
import json
import os
import shutil
import socket
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("PHONEDIR_BIN") or os.path.join(ROOT, "target", "release", "phonedir")
RSS_BOUND_MIB = 768
# Two other tenants: one whose phones read its book (the reader, `Probe`), one that writes
# (`victim_write`). Apart, so that the reads measured are the reads a phone makes of an
# unchanged book, not rebuilds after the victim's own writes.
VICTIM = "VICTIMq7Rt2xK9"
WRITER = "WRITERq7Rt2xK9"
ATTACKER = "EVILq7Rt2xK9pZ"
RESULTS = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# ---------------------------------------------------------------- remote systems (fakes)
DEEP = ("<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\"><d:response>"
        + "<d:prop>" * 5000 + "</d:prop>" * 5000 + "</d:response></d:multistatus>").encode()
JUNK = "x" * 1000


def big_json(mib):
    """A JSON answer of about `mib` MiB whose records carry 1 KB of unmapped junk each."""
    n = mib * 1024 * 1024 // 1070
    parts = [b'{"value": [']
    for i in range(n):
        rec = '{"name": "Person %d", "phone": "+4930%08d", "junk": "%s"}' % (i, 20000000 + i, JUNK)
        parts.append(rec.encode() + (b"," if i + 1 < n else b""))
    parts.append(b"]}")
    return b"".join(parts)


# Bodies made before the attacks, so that making them is not measured as the attack.
BIG = {}
BODIES = {}
FAKE_HITS = {"endless": 0}


class Fake(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_PROPFIND(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send(207, DEEP, "application/xml")

    def do_GET(self):
        path = self.path
        if path.startswith("/endless"):
            FAKE_HITS["endless"] += 1
            time.sleep(0.05)
            n = int(path.split("n=")[1]) if "n=" in path else 0
            base = path.split("?")[0]
            body = {"value": [{"name": "Loop %d" % n, "phone": "+493020000001"}],
                    "next": "%s?n=%d" % (base, n + 1)}
            self.send(200, json.dumps(body).encode())
        elif path.startswith("/big"):
            mib = int(path.split("/")[2])
            self.send(200, BIG[mib])
        else:
            self.send(200, json.dumps({"value": [{"name": "Quick Person", "phone": "+493020000002"}]}).encode())


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


# ---------------------------------------------------------------- the server under attack
class Phonedir:
    def __init__(self, extra=()):
        self.data = tempfile.mkdtemp(prefix="phonedir-attacks.")
        self.port = free_port()
        self.log = open(os.path.join(self.data, "server.log"), "w")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--data-dir", self.data, "--http", "127.0.0.1:%d" % self.port,
             "--https", "off", "--no-access-log", "--default-region", "DE",
             # The remote systems of the attacks are played on loopback: allowed, so that
             # their answers reach the parsers (the network policy is tested elsewhere).
             "--source-allow", "127.0.0.0/8",
             # One address here plays attackers on many: registration per address is a
             # defence of its own (bench/guessing.sh), not what these attacks measure.
             "--registration-limit", "0", *extra],
            stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(200):
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("server did not start")

    def conn(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=60):
        c = self.conn(timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def get(self, path):
        return self.request("GET", path)

    def api(self, key, method, path, body=None):
        return self.request(method, "/api/v1/directories/%s%s" % (key, path),
                            body=json.dumps(body).encode() if body is not None else None,
                            headers={"Authorization": "Bearer " + key,
                                     "Content-Type": "application/json"})

    def push(self, key, csv, source="push", timeout=120):
        return self.request("POST", "/contacts/%s?source=%s" % (key, source), body=csv,
                            headers={"Content-Type": "text/csv"}, timeout=timeout)

    def reset_peak(self):
        """Starts a new peak (VmHWM) measurement, so each attack's peak is its own."""
        try:
            with open("/proc/%d/clear_refs" % self.proc.pid, "w") as f:
                f.write("5")
        except OSError:
            pass

    def rss_mib(self):
        status = open("/proc/%d/status" % self.proc.pid).read()
        get = lambda k: int(next(l for l in status.splitlines() if l.startswith(k)).split()[1]) // 1024
        return get("VmRSS:"), get("VmHWM:")

    def up(self):
        return self.proc.poll() is None and self.get("/healthz")[0] == 200

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.data, ignore_errors=True)


def csv_book(n, prefix="Person", offset=0):
    rows = ["display_name,phone"]
    for i in range(n):
        rows.append("%s %d,WORK:+4930%08d;MOBILE:+49151%08d" % (prefix, i, 20000000 + i + offset, 10000000 + i + offset))
    return ("\n".join(rows) + "\n").encode()


class Probe:
    """Another directory's reader: one GET of its book after the other, timed, in a process of
    its own at normal priority. On the internet the victim's phones, the attacker and the
    remote systems the attacker points its sources at are different machines; here they
    share two cores, so the reader must not wait for this script's own interpreter (its
    lock is held for tens of ms while it builds a big body), and the attacker's side runs
    at lower priority (`main`). What is left is the server's own contention.

    The reader process is started once, before this script lowers its priority, and reads
    while it is told to: `start`, then `stop`, which answers the timings as JSON."""

    process = None

    @classmethod
    def launch(cls, srv):
        cls.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--probe", str(srv.port), VICTIM],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def __init__(self, _srv):
        self.p = Probe.process
        self.p.stdin.write("start\n")
        self.p.stdin.flush()
        assert self.p.stdout.readline().strip() == "reading"

    def finish(self):
        self.p.stdin.write("stop\n")
        self.p.stdin.flush()
        res = json.loads(self.p.stdout.readline())
        t = sorted(res["times"])
        return t[min(len(t) - 1, int(len(t) * 0.99))] if t else float("inf"), res["errors"], len(t)


def probe_main(port, key):
    """The reader's process (see `Probe`)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        if line.strip() != "start":
            continue
        stop = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
        times, errors = [], 0
        print("reading", flush=True)
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                c.request("GET", "/contacts/%s/yealink/v1" % key)
                r = c.getresponse()
                r.read()
                ok = r.status == 200
            except OSError:
                ok = False
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            times.append(time.perf_counter() - t0)
            errors += 0 if ok else 1
            time.sleep(0.005)
        print(json.dumps({"times": times, "errors": errors}), flush=True)


def victim_write(srv, i):
    t0 = time.perf_counter()
    status, body = srv.push(WRITER, csv_book(20, "Probe", offset=1000 * (i % 7)), source="probe")
    return status, time.perf_counter() - t0


def attack(srv, name, _first_idle_p99, fn):
    # The machine is shared: other work comes and goes, so the idle p99 is measured again
    # right before each attack, 3 s of reads with nothing else asked of the server.
    base = Probe(srv)
    time.sleep(3)
    idle_p99, _, _ = base.finish()
    srv.reset_peak()
    probe = Probe(srv)
    t0 = time.perf_counter()
    detail = fn()
    took = time.perf_counter() - t0
    # At least 3 s of reads per attack, so a p99 means something.
    time.sleep(max(0.0, 3 - took))
    w_status, w_time = victim_write(srv, len(RESULTS))
    p99, errors, n = probe.finish()
    rss, hwm = srv.rss_mib()
    up = srv.up()
    holds = (up and errors == 0 and p99 <= 3 * idle_p99 and w_status == 200 and hwm <= RSS_BOUND_MIB)
    RESULTS.append((name, detail, took, p99, idle_p99, n, w_status, w_time, rss, hwm, up, holds))
    print("%-42s %-5s up=%s reads p99 %.1f ms (idle %.1f ms, %.1fx, %d reads, %d errors) write %d in %.2f s, RSS %d MiB (peak %d) — %s"
          % (name, "HOLDS" if holds else "FAILS", up, p99 * 1000, idle_p99 * 1000, p99 / idle_p99, n, errors,
             w_status, w_time, rss, hwm, detail), flush=True)


# ---------------------------------------------------------------- the attacks
def deep_xml(srv, fake):
    srv.api(ATTACKER, "PUT", "/sources/dav", {"kind": "carddav", "url": fake + "/ab/", "username": "u",
                                               "password": "p", "interval_s": 0})
    st, body = srv.api(ATTACKER, "POST", "/sources/dav/sync?wait=30")
    return "sync answered %d: %s" % (st, json.loads(body)["error"][:70])


def junk_part(srv, _):
    """300 MB in a form part other than `file`, chunked."""
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(("POST /contacts/%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
               "Content-Type: multipart/form-data; boundary=B\r\n\r\n" % ATTACKER).encode())
    head = b'--B\r\nContent-Disposition: form-data; name="junk"\r\n\r\n'
    chunk = b"x" * (1 << 20)
    sent = 0
    try:
        s.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        for _ in range(300):
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
    except OSError:
        pass
    s.settimeout(10)
    try:
        answer = s.recv(200).split(b"\r\n")[0].decode()
    except OSError as e:
        answer = "connection closed (%s)" % e
    s.close()
    return "%s after %d MiB sent" % (answer, sent >> 20)


def stalled_uploads(srv, _):
    """40 uploads that announce 20 MB, send 1 MB and stop."""
    socks, answers = [], {}
    for _ in range(40):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(("POST /contacts/%s HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                   "Content-Length: 20000000\r\n\r\n" % ATTACKER).encode())
        try:
            s.sendall(b"display_name,phone\n" + b"a,+4930123\n" * 95000)
        except OSError:
            pass
        socks.append(s)
    time.sleep(3)
    for s in socks:
        s.settimeout(0.2)
        try:
            line = s.recv(100).split(b"\r\n")[0].decode() or "closed"
        except OSError:
            line = "held"
        answers[line] = answers.get(line, 0) + 1
    rss = srv.rss_mib()[0]
    for s in socks:
        s.close()
    return "while held: RSS %d MiB; answers %s" % (rss, answers)


def idle_connections(srv, _):
    socks = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(300)]
    time.sleep(2)
    st = srv.get("/healthz")[0]
    for s in socks:
        s.close()
    return "300 idle connections open: /healthz %d" % st


def endless_sources(srv, fake):
    for i in range(4):
        srv.api(ATTACKER, "PUT", "/sources/loop%d" % i, {
            "kind": "rest", "url": "%s/endless%d" % (fake, i), "interval_s": 0, "records": "/value",
            "next": "/next", "fields": {"display_name": "name", "numbers": {"WORK": ["phone"]}}})
        srv.api(ATTACKER, "POST", "/sources/loop%d/sync?wait=0" % i)
    time.sleep(1)
    t0 = time.perf_counter()
    st, _ = srv.api(VICTIM, "POST", "/sources/crm/sync?wait=60")
    other = time.perf_counter() - t0
    for i in range(4):
        srv.api(ATTACKER, "DELETE", "/sources/loop%d" % i)
    time.sleep(0.5)
    hits = FAKE_HITS["endless"]
    time.sleep(2)
    return ("victim's sync %d in %.2f s; after the delete the endless pages got %d more requests"
            % (st, other, FAKE_HITS["endless"] - hits))


def many_syncs(srv, fake):
    """1,102 syncs started with ?wait=0 (58 directories x 19 endless sources: with its push
    source each directory is at the quota of 20)."""
    # Keys open registration takes (not guessable), one per directory.
    keys = ["SPAMq7Rt2x%s%sK9" % (chr(65 + i // 26), chr(97 + i % 26)) for i in range(58)]
    for k in keys:
        srv.push(k, csv_book(1, "Spam"))
        for j in range(19):
            srv.api(k, "PUT", "/sources/s%d" % j, {
                "kind": "rest", "url": "%s/endless-%s-%d" % (fake, k, j), "interval_s": 0, "records": "/value",
                "next": "/next", "fields": {"display_name": "name", "numbers": {"WORK": ["phone"]}}})
    t0 = time.perf_counter()
    codes = {}
    for k in keys:
        for j in range(19):
            st, _ = srv.api(k, "POST", "/sources/s%d/sync?wait=0" % j)
            codes[st] = codes.get(st, 0) + 1
    started = time.perf_counter() - t0
    t1 = time.perf_counter()
    st, _ = srv.push(VICTIM, csv_book(20, "During"), source="during")
    push = time.perf_counter() - t1
    for k in keys:
        for j in range(19):
            srv.api(k, "DELETE", "/sources/s%d" % j)
    return "1,102 POSTs answered %s in %.1f s; victim push %d in %.2f s" % (codes, started, st, push)


def big_answers(srv, fake):
    """Six 60 MB JSON answers at once (over the 32 MiB cap), then six 30 MB ones (under it)."""
    out = []
    for size in (60, 30):
        keys = ["BIGq7Rt2xK%02d%s%s" % (size, chr(65 + i), chr(97 + i)) for i in range(6)]
        for k in keys:
            srv.push(k, csv_book(1, "Big"))
            srv.api(k, "PUT", "/sources/big", {
                "kind": "rest", "url": "%s/big/%d" % (fake, size), "interval_s": 0, "records": "/value",
                "fields": {"display_name": "name", "numbers": {"WORK": ["phone"]}}})
        results = []
        threads = [threading.Thread(target=lambda k=k: results.append(srv.api(k, "POST", "/sources/big/sync?wait=120")[0]))
                   for k in keys]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out.append("%d MB x6: %s" % (size, sorted(results)))
    return "; ".join(out)


def many_numbers(srv, _):
    numbers = ["+4930%08d" % (20000000 + i) for i in range(80000)]
    body = json.dumps([{"display_name": "Many", "numbers": numbers}]).encode()
    t0 = time.perf_counter()
    st, resp = srv.request("POST", "/contacts/%s?dry_run=true" % ATTACKER, body=body,
                           headers={"Content-Type": "application/json"})
    return "dry run %d in %.2f s, %s numbers kept" % (st, time.perf_counter() - t0, json.loads(resp).get("numbers"))


def big_replacement(srv, _):
    """A 167,000-contact source replaced while another directory writes."""
    first, second = BODIES["old"], BODIES["new"]
    st1, _ = srv.push(ATTACKER, first, source="big", timeout=600)
    worst, writes, done = 0.0, 0, []

    def replace():
        t0 = time.perf_counter()
        st, _ = srv.push(ATTACKER, second, source="big", timeout=600)
        done.append((st, time.perf_counter() - t0))

    t = threading.Thread(target=replace)
    t.start()
    while t.is_alive():
        st, took = victim_write(srv, writes)
        worst = max(worst, took)
        writes += 1
    t.join()
    return ("first push %d; replacement %d in %.1f s; %d victim writes meanwhile, slowest %.2f s"
            % (st1, done[0][0], done[0][1], writes, worst))


def control_chars(srv, _):
    key = "CTRLq7Rt2xK9pZ"
    body = json.dumps([{"display_name": "Eve\u001b[31m\u0007\ufffe", "numbers": ["+493020000009"]},
                       {"display_name": "Zed", "numbers": ["+493020000010"]}]).encode()
    st, _ = srv.request("POST", "/contacts/%s?source=ctl" % key, body=body,
                        headers={"Content-Type": "application/json"})
    import xml.dom.minidom
    bad = []
    for f in ["yealink/v1", "snom/v1", "snom/tbook", "snom/dect", "gigaset/v1", "gigaset/central",
              "cisco/v1", "grandstream/v1", "fanvil/v1", "fritzbox/v1"]:
        s, b = srv.get("/contacts/%s/%s" % (key, f))
        try:
            xml.dom.minidom.parseString(b)
        except Exception:
            bad.append(f)
    s, text = srv.get("/contacts/%s/lookup?number=%%2B493020000009&format=text" % key)
    ctl = any(c < 32 or c == 127 for c in text)
    return "push %d; unparseable formats: %s; control bytes in lookup text: %s" % (st, bad or "none", ctl)


def second_server(srv, _):
    p = subprocess.run([BIN, "serve", "--data-dir", srv.data, "--http", "127.0.0.1:0", "--https", "off"],
                       capture_output=True, text=True, timeout=30)
    said = next((l for l in p.stderr.splitlines() if "phonedir" in l and "running" in l), p.stderr[:90])
    return "second serve exit %d: %s" % (p.returncode, said.strip()[:110])


def main():
    if sys.argv[1:2] == ["--probe"]:
        return probe_main(int(sys.argv[2]), sys.argv[3])
    out = sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else None
    only = [sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == "--only"]
    for mib in (60, 30):
        BIG[mib] = big_json(mib)
    BODIES["old"], BODIES["new"] = csv_book(167000, "Old"), csv_book(167000, "New", offset=300000)
    if not os.path.exists(BIN):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    srv = Phonedir()
    Probe.launch(srv)
    # The attacker and its remote systems yield the cores to the server and the reader, as
    # other machines would. Set before any of their threads starts: on Linux a thread's
    # priority is its own, and threads inherit it from the one that starts them (the fake
    # server's, started before a nice(10) of the main thread, ran at normal priority).
    # SCHED_IDLE, not a nice value: a nice-19 thread still keeps a core for its time slice
    # (milliseconds) when the reader wakes.
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)
    fake = ThreadingServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    fake_url = "http://127.0.0.1:%d" % fake.server_address[1]
    try:
        assert srv.push(VICTIM, csv_book(1000))[0] == 200
        assert srv.push(WRITER, csv_book(1000))[0] == 200
        assert srv.push(ATTACKER, csv_book(10, "Evil"))[0] == 200
        srv.api(VICTIM, "PUT", "/sources/crm", {
            "kind": "rest", "url": fake_url + "/quick", "interval_s": 0, "records": "/value",
            "fields": {"display_name": "name", "numbers": {"WORK": ["phone"]}}})
        for _ in range(20):
            srv.get("/contacts/%s/yealink/v1" % VICTIM)
        probe = Probe(srv)
        time.sleep(5)
        idle_p99, _, n = probe.finish()
        print("idle: victim's 1,000-contact Yealink book p99 %.1f ms over %d reads; RSS bound %d MiB"
              % (idle_p99 * 1000, n, RSS_BOUND_MIB), flush=True)
        for name, fn in [
            ("CardDAV answer nested 5,000 deep", deep_xml),
            ("300 MB in a form part other than `file`", junk_part),
            ("40 uploads that stop sending", stalled_uploads),
            ("300 idle connections", idle_connections),
            ("4 endlessly paging sources, then deleted", endless_sources),
            ("1,102 syncs started with ?wait=0", many_syncs),
            ("six 60 MB and six 30 MB JSON answers", big_answers),
            ("one contact with 80,000 numbers", many_numbers),
            ("167k-contact replacement vs other writes", big_replacement),
            ("control characters in a name", control_chars),
            ("a second serve on the same data dir", second_server),
        ]:
            if only and not any(w in name for w in only):
                continue
            attack(srv, name, idle_p99, lambda: fn(srv, fake_url))
    finally:
        Probe.process.stdin.close()
        srv.stop()
    if out:
        with open(out, "w") as f:
            f.write("# Attacks of issue 11 against the release server\n\n")
            f.write("`bench/attacks.py --out bench/attacks.md` on %s; the victim's 1,000-contact Yealink book "
                    "read one request after the other (idle p99 at the start %.1f ms; the machine is shared, so "
                    "each attack is compared with 3 s of idle reads just before it). Holds = server up, victim "
                    "reads without error and p99 <= 3x idle, victim write 200, the attack's peak RSS <= %d MiB.\n\n"
                    % (time.strftime("%Y-%m-%d"), idle_p99 * 1000, RSS_BOUND_MIB))
            f.write("| attack | holds | victim read p99 under attack / idle | victim write | RSS now / peak | what happened |\n")
            f.write("| --- | --- | --- | --- | --- | --- |\n")
            for (name, detail, took, p99, idle, n, ws, wt, rss, hwm, up, holds) in RESULTS:
                f.write("| %s | %s | %.1f / %.1f ms (%.1fx) | %d in %.2f s | %d / %d MiB | %s |\n"
                        % (name, "yes" if holds else "**no**", p99 * 1000, idle * 1000, p99 / idle, ws, wt, rss, hwm,
                           detail.replace("|", "/")))
            f.write("\nLoad average while it ran: %.1f on %d cores. Under the three heaviest attacks "
                    "(`?wait=0`, big JSON answers, the big replacement) the reader's p99 was 3-7x idle until "
                    "three causes were found (perf sched, 2026-12-03) and removed: every write made memory "
                    "forget every directory's version and keys, sending other tenants' phones to the "
                    "database; background threads held both CPUs for whole scheduler ticks; request "
                    "workers shared malloc arenas with background threads that held an arena's lock while "
                    "waiting for a CPU. The machine is shared: single runs vary. "
                    "Before issue 11 (from the issue): the deep XML aborted the process on every start, "
                    "40 stalled uploads held 860 MB, 1,100 `?wait=0` syncs made another book take 59 s and "
                    "a push 120 s, six 60 MB answers took 4.3 GB, one contact with 80,000 numbers took 9.4 s, "
                    "and a big replacement held the writer for minutes.\n"
                    % (os.getloadavg()[0], os.cpu_count() or 0))
    sys.exit(0 if all(r[-1] for r in RESULTS) else 1)


if __name__ == "__main__":
    main()
