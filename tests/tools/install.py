#!/usr/bin/env python3
"""Installs the real clients and servers the tests talk to, into target/test-tools/.

`cargo test` runs this (through tests/api/tools.rs) when a test needs a tool that is not
there yet, so a fresh clone needs nothing but Rust and Python 3 (and, for the Debian
packages, apt). Idempotent: a tool that is installed is left alone. Prints, as its last
line, a JSON object naming the path of every tool asked for.

    python3 tests/tools/install.py radicale vdirsyncer ldapsearch ldapadd slapd chromium

Python tools go into a venv (target/test-tools/venv). Debian packages are installed with
apt-get when we are root (CI, the project's machines); otherwise they are downloaded with
their missing dependencies and unpacked under target/test-tools/root, which needs no root.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("PHONEDIR_TEST_TOOLS", ROOT / "target" / "test-tools"))
VENV = TOOLS / "venv"
UNPACKED = TOOLS / "root"

# tool -> (pip requirement, what to run)
PYTHON = {
    "radicale": ("radicale>=3.1,<4", ["python", "-m", "radicale"]),
    "vdirsyncer": ("vdirsyncer>=0.19,<0.20", ["vdirsyncer"]),
    "ldap3": ("ldap3>=2.9,<3", ["python"]),
    "openapi-spec-validator": ("openapi-spec-validator>=0.7,<0.8", ["openapi-spec-validator"]),
    # Prometheus's official Python client, whose parser reads /metrics in the tests.
    "prometheus-client": ("prometheus-client>=0.20,<1", ["python"]),
}
# tool -> (Debian packages, executable)
DEBIAN = {
    "ldapsearch": (["ldap-utils"], "usr/bin/ldapsearch"),
    "ldapadd": (["ldap-utils"], "usr/bin/ldapadd"),
    "slapd": (["slapd", "ldap-utils"], "usr/sbin/slapd"),
    "chromium": (["chromium", "chromium-driver"], "usr/bin/chromium"),
    "chromedriver": (["chromium", "chromium-driver"], "usr/bin/chromedriver"),
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("+", " ".join(str(c) for c in cmd))
    subprocess.run(cmd, check=True, **kw)


def venv_python():
    return VENV / "bin" / "python"


def ensure_python(tool):
    req, cmd = PYTHON[tool]
    if not venv_python().exists():
        TOOLS.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "venv", str(VENV)])
    module = {"radicale": "radicale", "vdirsyncer": "vdirsyncer", "ldap3": "ldap3",
              "openapi-spec-validator": "openapi_spec_validator",
              "prometheus-client": "prometheus_client"}[tool]
    ok = subprocess.run([str(venv_python()), "-c", f"import {module}"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    if not ok:
        run([str(venv_python()), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", req])
    return [str(VENV / "bin" / cmd[0])] + cmd[1:]


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return r.returncode == 0 and "install ok installed" in r.stdout


def ensure_debian(tool):
    pkgs, exe = DEBIAN[tool]
    system = Path("/") / exe
    if system.exists():
        return [str(system)]
    local = UNPACKED / exe
    if local.exists():
        return [str(local)]
    if shutil.which("apt-get") is None:
        sys.exit(f"{tool} is needed by the tests: install the Debian/Ubuntu package(s) "
                 f"{' '.join(pkgs)} (no apt-get here to do it)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if os.geteuid() == 0:
        # Keep package scripts from starting daemons (slapd would take port 389).
        policy = Path("/usr/sbin/policy-rc.d")
        had_policy = policy.exists()
        if not had_policy:
            policy.write_text("#!/bin/sh\nexit 101\n")
            policy.chmod(0o755)
        try:
            try:
                run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *pkgs], env=env)
            except subprocess.CalledProcessError:
                run(["apt-get", "update", "-q"], env=env)
                run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *pkgs], env=env)
        finally:
            if not had_policy:
                policy.unlink()
        return [str(system)]
    # Not root: download the packages and their missing dependencies, unpack them here.
    debs = TOOLS / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    deps = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *pkgs],
        check=True, stdout=subprocess.PIPE, text=True).stdout
    names = sorted({l.strip() for l in deps.splitlines()
                    if l and not l.startswith(" ") and not l.startswith("<")})
    missing = [n for n in names if not installed(n)]
    run(["apt-get", "download", *missing], cwd=debs)
    UNPACKED.mkdir(parents=True, exist_ok=True)
    for deb in debs.glob("*.deb"):
        run(["dpkg-deb", "-x", str(deb), str(UNPACKED)])
    return [str(local)]


def main(tools):
    out = {}
    for tool in tools:
        if tool in PYTHON:
            out[tool] = ensure_python(tool)
        elif tool in DEBIAN:
            out[tool] = ensure_debian(tool)
        else:
            sys.exit(f"unknown tool {tool}; known: {', '.join(sorted({**PYTHON, **DEBIAN}))}")
    # Libraries of packages unpacked without root live here.
    out["_ld_library_path"] = ":".join(
        str(p) for p in [UNPACKED / "usr/lib/x86_64-linux-gnu", UNPACKED / "usr/lib"] if p.exists())
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
