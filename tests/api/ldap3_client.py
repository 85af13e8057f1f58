"""A phone's LDAP session with the python ldap3 client, driven by tests/api/ldap.rs.

    python ldap3_client.py '{"port": 3890, "mode": "plain|starttls|ldaps", "ca": "…/selfsigned.pem",
                            "user": "cn=phone", "password": "KEY", "ops": [...]}'

Prints one JSON line for the bind and one per operation, as soon as it is done, so a test
can act between operations (`{"op": "wait"}` reads a line from stdin first).
"""
import json
import ssl
import sys

from ldap3 import BASE, MODIFY_REPLACE, SASL, SUBTREE, Connection, Server, Tls

PAGED = "1.2.840.113556.1.4.319"


def say(obj):
    print(json.dumps(obj), flush=True)


def text(v):
    return v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v)


def main():
    plan = json.loads(sys.argv[1])
    mode = plan.get("mode", "plain")
    tls = Tls(ca_certs_file=plan.get("ca"), validate=ssl.CERT_REQUIRED)
    server = Server("localhost", port=plan["port"], use_ssl=(mode == "ldaps"), tls=tls,
                    get_info=None, connect_timeout=10)
    conn = Connection(server, user=plan.get("user"), password=plan.get("password"),
                      receive_timeout=20, raise_exceptions=False, auto_referrals=False)
    conn.open()
    out = {"op": "bind"}
    if mode == "starttls":
        out["starttls"] = conn.start_tls()
    out["ok"] = conn.bind()
    out["result"] = conn.result["result"] if conn.result else None
    say(out)
    for op in plan.get("ops", []):
        kind = op["op"]
        res = {"op": kind}
        if kind == "wait":
            sys.stdin.readline()
        elif kind == "search":
            controls = [tuple(c) for c in op.get("controls", [])] or None
            conn.search(op.get("base", ""), op["filter"],
                        search_scope=BASE if op.get("scope") == "base" else SUBTREE,
                        attributes=op.get("attrs", ["*"]), size_limit=op.get("size", 0),
                        paged_size=op.get("paged"), controls=controls)
            res["result"] = conn.result["result"]
            res["entries"] = [
                {"dn": e["dn"],
                 "attributes": {k: [text(v) for v in vals] for k, vals in e["raw_attributes"].items()}}
                for e in (conn.response or []) if e.get("type") == "searchResEntry"]
            ctrl = (conn.result.get("controls") or {}).get(PAGED)
            if ctrl is not None:
                res["paged_cookie"] = text(ctrl["value"]["cookie"])
        elif kind == "whoami":
            res["value"] = text(conn.extend.standard.who_am_i() or "")
        elif kind == "extended":
            conn.extended(op["name"])
            res["result"] = conn.result["result"]
        elif kind == "modify":
            conn.modify(op["dn"], {"cn": [(MODIFY_REPLACE, ["Mallory"])]})
            res["result"] = conn.result["result"]
        elif kind == "sasl":
            # A second connection binding with SASL, as a phone set to DIGEST-MD5 does.
            other = Connection(server, authentication=SASL, sasl_mechanism=op["mechanism"],
                               sasl_credentials=(None, "phone", plan.get("password"), None),
                               receive_timeout=20, raise_exceptions=False)
            other.open()
            other.bind()
            res["result"] = other.result["result"] if other.result else None
            other.unbind()
        elif kind == "abandon":
            res["ok"] = conn.abandon(op.get("msgid", 99))
        say(res)
    conn.unbind()


main()
