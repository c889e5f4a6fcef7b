#!/usr/bin/env bash
# server.log_format: json on a whole dev server: every line the supervisor
# and its children write parses as one JSON object (Debian's python3 json)
# with time/level/process/event/fields, and the security events carry their
# stable names: auth_failure and policy_violation for refused issuances,
# signer_refusal when the signer refuses, child_restart after a kill -9.
# Usage: log_json_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" log-json

mkdir -p "$tmp/data" "$tmp/keys"
"$ctl" token new --name ops --patterns '*.ops.hypermesh.online' --out "$tmp/keys/ops.token" \
  > "$tmp/data/tokens" 2>/dev/null || fail "token new"
"$ctl" token new --name wide --patterns '*' --out "$tmp/keys/wide.token" \
  >> "$tmp/data/tokens" 2>/dev/null || fail "token new"
chmod 600 "$tmp/data/tokens"
if [ "$(id -u)" = 0 ]; then chown trustchain-gateway "$tmp/data/tokens"; fi
dev_config "  tokens_file: $tmp/data/tokens" "  require_auth: true"
sed -i "s/^server:/server:\n  log_format: json/" "$tmp/trustchain.yaml"
start_server
c=(--config "$tmp/trustchain.yaml")

# Refused issuances: no credential, a name the token may not ask for, a name
# outside the CA's permitted suffixes (refused by the gateway or the signer).
"$ctl" "${c[@]}" issue --name web.ops.hypermesh.online --new-key "$tmp/keys/a.key" >/dev/null 2>&1 &&
  fail "anonymous issue accepted"
"$ctl" "${c[@]}" issue --token-file "$tmp/keys/ops.token" --name web.other.hypermesh.online \
  --new-key "$tmp/keys/b.key" >/dev/null 2>&1 && fail "issue outside the token's patterns accepted"
"$ctl" "${c[@]}" issue --token-file "$tmp/keys/wide.token" --name www.example.com \
  --new-key "$tmp/keys/c.key" >/dev/null 2>&1 && fail "issue outside the permitted suffixes accepted"
# And one that works, so the log is not only refusals.
"$ctl" "${c[@]}" issue --token-file "$tmp/keys/ops.token" --name web.ops.hypermesh.online \
  --new-key "$tmp/keys/d.key" --out "$tmp/d.pem" 2>/dev/null || fail "issue"

# A child restart.
old=$(pid_of resolver)
kill -KILL "$old"
wait_ready resolver "$old"

kill -TERM "$server_pid"
for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null && fail "server did not stop"
server_pid=

/usr/bin/python3 - "$tmp/server.log" <<'PY' || fail "JSON log check"
import json, re, sys
lines = open(sys.argv[1], 'rb').read().decode('utf-8').splitlines()
assert lines, "empty log"
events, processes = [], set()
for n, line in enumerate(lines, 1):
    try:
        o = json.loads(line)
    except ValueError as e:
        sys.exit("line %d is not JSON (%s): %r" % (n, e, line[:200]))
    assert isinstance(o, dict), "line %d: not an object" % n
    for k in ("time", "level", "process", "event", "fields"):
        assert k in o, "line %d: no %s: %r" % (n, k, line[:200])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]), o["time"]
    assert o["level"] in ("error", "warn", "info", "debug"), o["level"]
    assert isinstance(o["fields"], dict) and isinstance(o["fields"].get("msg"), str)
    processes.add(o["process"])
    events.append(o)
def find(event, **want):
    for o in events:
        if o["event"] == event and all(o["fields"].get(k) == v for k, v in want.items()):
            return o
    sys.exit("no %s event with %r; events: %r" % (event, want, sorted({o["event"] for o in events})))
find("auth_failure", method="/trustchain.v1.CertificateAuthority/Issue", reason="authentication_required")
find("policy_violation", method="/trustchain.v1.CertificateAuthority/Issue", identity="token:ops",
     reason="name_not_authorized")
o = find("child_restart", child="resolver")
assert o["process"] == "server" and o["level"] == "warn", o
# www.example.com: the signer refuses it (its own policy), the gateway says so.
o = find("signer_refusal", op="sign_precertificate", peer="gateway")
assert o["process"] == "signer" and "www.example.com" in o["fields"]["reason"], o
find("policy_violation", identity="token:wide", reason="name_not_permitted")
for p in ("server", "signer", "transparency", "resolver", "gateway"):
    assert p in processes, "nothing logged by %s (%r)" % (p, processes)
print("%d JSON lines from %s; events: %s" % (len(lines), sorted(processes), sorted({o["event"] for o in events})))
PY
ok "every line is JSON; auth_failure, policy_violation, child_restart and the suffix refusal logged"
