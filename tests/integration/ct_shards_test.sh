#!/usr/bin/env bash
# Temporal shards of the CT log (ct.logs, issue 13) under the real
# supervisor: an installation with the single log gets two shards split at a notAfter boundary T a few hours ahead
# ("near" takes notAfter < T, "far" the rest), their keys made by the dev
# ceremony. Checks: each shard takes a certificate of its window over its own
# URL prefix and refuses one of the other's with HTTP 400 and a clear reason;
# the single log stays served, frozen, at the root; Issue over gRPC logs each certificate
# in the shard of its notAfter (the embedded SCT's log ID is that shard's key)
# and Validate verifies that SCT; each shard publishes its own checkpoint
# under ct.tiles_dir/<name>/, signed with its key; `ct loglist` lists both
# with their windows; `export ct --log` + `verify-export` per shard (and a
# shard's bundle fails against the other shard's key); backup + restore of
# every shard; one shard frozen while the other goes on; the gRPC
# Transparency service per shard (Request.log, NOT_FOUND for an unknown
# log) and `trustchainctl status` per shard.
# Usage: ct_shards_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" ct-shards
command -v curl >/dev/null || fail "needs curl"

mkdir -p "$tmp/data" "$tmp/keys"
"$ctl" token new --name ops --patterns '*.ops.hypermesh.online' --out "$tmp/keys/ops.token" \
  > "$tmp/data/tokens" || fail "token new"
chmod 600 "$tmp/data/tokens"
if [ "$(id -u)" = 0 ]; then chown trustchain-gateway "$tmp/data/tokens"; fi

# T: 6 hours ahead, whole seconds; a 2 h certificate is "near", a 20 h one "far".
t=$(( $(date +%s) + 6 * 3600 ))
T=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)
base=$(( 20000 + RANDOM % 20000 ))
ct="127.0.0.1:$((base + 2))"
# First the single log of a configuration without ct.logs, with entries
# (the gateway's and the resolver's own certificates are logged at start).
cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
dns:
  udp_port: $base
  quic_port: $((base + 1))
ct:
  http_listen: $ct
  sequence_interval_ms: 50
gateway:
  listen: 127.0.0.1:$((base + 3))
  tokens_file: $tmp/data/tokens
  require_auth: true
YAML
start_server
sth_size() { curl -s "http://$ct$1/ct/v1/get-sth" | sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p'; }
for _ in $(seq 1 100); do single=$(sth_size ""); [ "${single:-0}" -ge 2 ] && break; sleep 0.1; done
[ "${single:-0}" -ge 2 ] || fail "the single log has no entries"
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=
ok "single log with $single entries; now ct.logs is set"

# Then the same installation with two shards.
cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
  metrics_listen: 127.0.0.1:$((base + 5))
dns:
  udp_port: $base
  quic_port: $((base + 1))
ct:
  http_listen: $ct
  sequence_interval_ms: 50
  logs:
    - name: near
      not_after_start: "2000-01-01T00:00:00Z"
      not_after_end: "$T"
    - name: far
      not_after_start: "$T"
gateway:
  listen: 127.0.0.1:$((base + 3))
  tokens_file: $tmp/data/tokens
  require_auth: true
  require_sct: true
YAML
start_server
c=(--config "$tmp/trustchain.yaml")

# Keys of both shards from the dev ceremony, and their log IDs.
for s in near far; do
  [ -s "$tmp/data/ct/keys/$s.pem" ] || fail "no key of shard $s"
  [ -s "$tmp/data/ct/keys/$s.log_id.txt" ] || fail "no log ID of shard $s"
done
cmp -s "$tmp/data/ct/keys/near.pem" "$tmp/data/ct/keys/far.pem" && fail "both shards have the same key"

# Issue: a 2 h certificate (near) and a 20 h one (far).
for v in near:2h far:20h; do
  s=${v%%:*}
  "$ctl" "${c[@]}" issue --token-file "$tmp/keys/ops.token" --name "$s.ops.hypermesh.online" \
    --new-key "$tmp/keys/$s.key" --out "$tmp/$s.pem" --chain-out "$tmp/$s-chain.pem" --validity "${v#*:}" \
    2> "$tmp/issue.err" || { cat "$tmp/issue.err"; fail "issue ($s)"; }
  # The embedded SCT's log ID is the shard's (OpenSSL prints it in hex with colons).
  want=$(base64 -d < "$tmp/data/ct/keys/$s.log_id.txt" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
  got=$(openssl x509 -in "$tmp/$s.pem" -noout -text | awk '/Log ID/ { f = 1; sub(/.*Log ID *: */, "") }
        f { print } /^ *$/ { f = 0 }' | head -3 | tr -d ' :\n' | tr a-f A-F)
  case "$got" in "$want"*) ;; *) fail "SCT of the $s certificate has log ID $got, want $want" ;; esac
  # Validate (require_sct) verifies the SCT against the shard's key.
  cat "$tmp/$s.pem" "$tmp/$s-chain.pem" > "$tmp/$s-full.pem"
  out=$("$ctl" "${c[@]}" validate --target "127.0.0.1:$((base + 3))" --token-file "$tmp/keys/ops.token" \
    --name "$s.ops.hypermesh.online" "$tmp/$s-full.pem" 2>&1) || true
  grep -qx "decision: TRUSTED" <<< "$out" || fail "validate ($s, require_sct): $out"
  ok "Issue logged the $s certificate in shard $s; Validate verified its SCT"
done

# add-chain over each shard's prefix: its own window taken, the other refused.
chain_json() { # chain_json CERT CHAIN -> {"chain": [b64, b64]}
  local a b
  a=$(openssl x509 -in "$1" -outform DER | base64 -w0)
  b=$(openssl x509 -in "$2" -outform DER | base64 -w0)
  printf '{"chain":["%s","%s"]}' "$a" "$b"
}
post() { # post SHARD CERT -> status in $code, body in $tmp/body
  chain_json "$tmp/$2.pem" "$tmp/$2-chain.pem" > "$tmp/req.json"
  code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$tmp/req.json" "http://$ct/$1/ct/v1/add-chain")
}
for s in near far; do
  post "$s" "$s"
  [ "$code" = 200 ] || fail "add-chain of the $s certificate to $s: HTTP $code $(cat "$tmp/body")"
done
post far near
[ "$code" = 400 ] || fail "near certificate submitted to far: HTTP $code"
grep -q "outside this log's window" "$tmp/body" || fail "cross-shard refusal says: $(cat "$tmp/body")"
post near far
[ "$code" = 400 ] || fail "far certificate submitted to near: HTTP $code"
grep -q "notAfter in \[2000-01-01T00:00:00Z, $T)" "$tmp/body" || fail "refusal names no window: $(cat "$tmp/body")"
ok "each shard takes its window and refuses the other's (HTTP 400)"
# The single log from before the shards: still served at the root, frozen.
now=$(sth_size "")
[ "${now:-0}" -ge "$single" ] || fail "the retired single log's tree is not served at the root ($now < $single)"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary @"$tmp/req.json" "http://$ct/ct/v1/add-chain")
[ "$code" = 403 ] && grep -q "frozen" "$tmp/body" || fail "the retired log took a submission: HTTP $code $(cat "$tmp/body")"
[ -s "$tmp/data/ct/tiles/checkpoint" ] || fail "the retired log's checkpoint is gone"
ok "the single log from before ct.logs is served read-only at the root"

# Each shard's tree holds its certificates (precertificate + final); the
# checkpoint under tiles/<name>/ and /<name>/checkpoint.
for s in near far; do
  for _ in $(seq 1 50); do
    size=$(curl -s "http://$ct/$s/ct/v1/get-sth" | sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p')
    [ "${size:-0}" -ge 1 ] && break
    sleep 0.1
  done
  [ "${size:-0}" -ge 1 ] || fail "shard $s has an empty tree"
  for _ in $(seq 1 50); do [ -s "$tmp/data/ct/tiles/$s/checkpoint" ] && break; sleep 0.1; done
  head -1 "$tmp/data/ct/tiles/$s/checkpoint" | grep -qx "ct.trust.hypermesh.online:$((base + 2))/$s" ||
    fail "checkpoint origin of $s: $(head -1 "$tmp/data/ct/tiles/$s/checkpoint")"
  curl -sf "http://$ct/$s/checkpoint" | head -1 | grep -qx "ct.trust.hypermesh.online:$((base + 2))/$s" ||
    fail "/$s/checkpoint not served"
done
ok "each shard has its own tree and checkpoint"
# /metrics: each shard's tree size under log="<name>" (sampled every second).
for s in near far; do
  want=$(curl -s "http://$ct/$s/ct/v1/get-sth" | sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p')
  for _ in $(seq 1 30); do
    got=$(curl -s "http://127.0.0.1:$((base + 5))/metrics" | awk -v s="log=\"$s\"" '/^trustchain_ct_log_tree_size\{/ && index($1, s) { print $2 }')
    [ "${got:-}" = "$want" ] && break
    sleep 0.2
  done
  [ "${got:-}" = "$want" ] || fail "metrics: trustchain_ct_log_tree_size{log=\"$s\"} is '${got:-}', get-sth says $want"
done
ok "metrics: trustchain_ct_log_tree_size per shard"

# The gRPC Transparency service per shard (its requests' `log` field): each
# shard's GetSth is its HTTP get-sth, GetEntries reads its own leaves, an
# unnamed request reaches the retired single log (as before ct.logs), a
# name no log has is NOT_FOUND naming it, a name with a NUL is refused
# (never cut to "near"), and AddChain named to a shard keeps its window.
python_stubs
for s in near far single; do
  p=/$s; [ $s = single ] && p=
  curl -sf "http://$ct$p/ct/v1/get-sth" > "$tmp/grpc-sth-$s.json" || fail "get-sth of $s"
  curl -sf "http://$ct$p/ct/v1/get-entries?start=0&end=0" > "$tmp/grpc-entries-$s.json" || fail "get-entries of $s"
done
TC_GEN="$tmp/gen" /usr/bin/python3 - "127.0.0.1:$((base + 3))" "$tmp" <<'PY' || fail "gRPC Transparency per shard"
import base64, json, os, sys
sys.path.insert(0, os.environ["TC_GEN"])
import grpc
from trustchain.v1 import transparency_pb2 as ct
target, tmp = sys.argv[1:3]
root = open(os.path.join(tmp, "data", "ca", "root.pem"), "rb").read()
token = open(os.path.join(tmp, "keys", "ops.token")).read().strip()
md = (("authorization", "Bearer " + token),)
ch = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=root))
def rpc(name, req, resp):
    return ch.unary_unary("/trustchain.v1.Transparency/" + name, request_serializer=req.SerializeToString,
                          response_deserializer=resp.FromString)
get_sth = rpc("GetSth", ct.GetSthRequest, ct.GetSthResponse)
get_entries = rpc("GetEntries", ct.GetEntriesRequest, ct.GetEntriesResponse)
add_chain = rpc("AddChain", ct.AddChainRequest, ct.AddChainResponse)
def reason(e):
    return dict(e.trailing_metadata() or ()).get("trustchain-reason")
def expect_error(call, req, code, why, text=None):
    try:
        call(req, metadata=md, timeout=10)
    except grpc.RpcError as e:
        assert e.code() == code, (why, e.code(), e.details())
        assert text is None or text in e.details(), (why, e.details())
        return e
    raise AssertionError(why + ": no error")
for s in ("near", "far", "single"):
    http = json.load(open(os.path.join(tmp, "grpc-sth-%s.json" % s)))
    g = get_sth(ct.GetSthRequest(log="" if s == "single" else s), metadata=md, timeout=10)
    # the HTTP head was read just before: the gRPC one is the same or newer
    assert g.tree_size >= http["tree_size"] > 0, (s, g.tree_size, http["tree_size"])
    if g.tree_size == http["tree_size"]:
        assert g.sha256_root_hash == base64.b64decode(http["sha256_root_hash"]), s
    e = get_entries(ct.GetEntriesRequest(log="" if s == "single" else s, start=0, end=0), metadata=md, timeout=10)
    want = base64.b64decode(json.load(open(os.path.join(tmp, "grpc-entries-%s.json" % s)))["entries"][0]["leaf_input"])
    assert len(e.entries) == 1 and e.entries[0].leaf_input == want, (s, "GetEntries is not the shard's leaf 0")
    print("ok: gRPC GetSth/GetEntries of %s: tree size %d, leaf 0 as over HTTP" % (s, g.tree_size))
near0 = get_entries(ct.GetEntriesRequest(log="near", start=0, end=0), metadata=md, timeout=10).entries[0].leaf_input
far0 = get_entries(ct.GetEntriesRequest(log="far", start=0, end=0), metadata=md, timeout=10).entries[0].leaf_input
assert near0 != far0, "near and far answer the same leaf 0"
e = expect_error(get_sth, ct.GetSthRequest(log="nosuch"), grpc.StatusCode.NOT_FOUND, "unknown log", "nosuch")
assert reason(e) == "ct_log_not_found", reason(e)
expect_error(get_entries, ct.GetEntriesRequest(log="nosuch", start=0, end=0), grpc.StatusCode.NOT_FOUND,
             "unknown log (GetEntries)", "nosuch")
e = expect_error(get_sth, ct.GetSthRequest(log="near\x00x"), grpc.StatusCode.INVALID_ARGUMENT, "log name with a NUL")
assert reason(e) == "name_invalid", reason(e)
expect_error(get_sth, ct.GetSthRequest(log="n" * 300), grpc.StatusCode.NOT_FOUND, "overlong log name")
print("ok: gRPC: unknown log NOT_FOUND (ct_log_not_found) naming it; a name with a NUL refused, never cut")
# A far certificate named to near: refused by near's window, as over HTTP.
def der_chain(name):
    import subprocess
    out = []
    for f in (name + ".pem", name + "-chain.pem"):
        out.append(subprocess.run(["openssl", "x509", "-in", os.path.join(tmp, f), "-outform", "DER"],
                                  check=True, capture_output=True).stdout)
    return out
expect_error(add_chain, ct.AddChainRequest(log="near", chain=der_chain("far")), grpc.StatusCode.INVALID_ARGUMENT,
             "far certificate named to near", "window")
r = add_chain(ct.AddChainRequest(log="far", chain=der_chain("far")), metadata=md, timeout=10)
far_id = base64.b64decode(open(os.path.join(tmp, "data", "ct", "keys", "far.log_id.txt")).read())
assert r.log_id == far_id, "AddChain(log=far) answered another log's ID"
r = add_chain(ct.AddChainRequest(chain=der_chain("near")), metadata=md, timeout=10)
near_id = base64.b64decode(open(os.path.join(tmp, "data", "ct", "keys", "near.log_id.txt")).read())
assert r.log_id == near_id, "an unnamed AddChain was not routed to near by its notAfter"
print("ok: gRPC AddChain: named to far -> far's log ID; a far certificate named to near refused; unnamed routed by notAfter")
PY
ok "gRPC Transparency answers per shard; an unknown log is NOT_FOUND"

# trustchainctl status: a line per shard (window, state, tree size, tree
# head and checkpoint age) and the retired single log.
"$ctl" "${c[@]}" status > "$tmp/status.out" 2>&1 || true
for s in near far; do
  grep -q "^CT log  *$s \[.*) usable tree size [1-9][0-9]*, tree head age [0-9.]* s, checkpoint age [0-9.]* s" \
    "$tmp/status.out" || fail "status has no line for shard $s: $(cat "$tmp/status.out")"
done
grep -q "^CT log  *near \[2000-01-01T00:00:00Z, $T) usable" "$tmp/status.out" || fail "status: near's window"
grep -q "^CT log  *(single) retired tree size [1-9][0-9]*, .*checkpoint age" "$tmp/status.out" ||
  fail "status has no line for the retired single log: $(cat "$tmp/status.out")"
grep -q "PROBLEM: .*CT log" "$tmp/status.out" && fail "status reports a CT problem: $(cat "$tmp/status.out")"
ok "status: one line per shard ($(grep -c '^CT log' "$tmp/status.out") CT logs)"

# The log list: both shards with their windows.
"$ctl" "${c[@]}" ct loglist --out "$tmp/loglist.cnf" || fail "ct loglist"
grep -q '^enabled_logs = trustchain-near,trustchain-far' "$tmp/loglist.cnf" || fail "loglist: $(cat "$tmp/loglist.cnf")"
grep -q "^# log near: notAfter \[2000-01-01T00:00:00Z, $T), state: usable" "$tmp/loglist.cnf" ||
  fail "loglist has no window for near"
grep -q "^# log far: notAfter \[$T, +inf), state: usable" "$tmp/loglist.cnf" || fail "loglist has no window for far"
[ "$(grep -c '^key = ' "$tmp/loglist.cnf")" = 3 ] || fail "loglist has not three keys"
grep -q '^enabled_logs = trustchain-near,trustchain-far,trustchain$' "$tmp/loglist.cnf" ||
  fail "loglist does not keep the retired single log"
ok "ct loglist lists both shards with their windows"

# Audit export and offline verification per shard.
for s in near far; do
  "$ctl" "${c[@]}" export ct --log "$s" --out "$tmp/$s.bundle" > /dev/null 2> "$tmp/export.err" ||
    { cat "$tmp/export.err"; fail "export ct --log $s"; }
  "$ctl" verify-export "$tmp/$s.bundle" --log-key "$tmp/data/ct/keys/$s.pem" > /dev/null ||
    fail "verify-export of $s"
done
"$ctl" "${c[@]}" export ct --out "$tmp/single.bundle" > /dev/null 2>&1 || fail "export ct of the retired log"
"$ctl" verify-export "$tmp/single.bundle" --log-key "$tmp/data/ct/log_public_key.pem" > /dev/null ||
  fail "verify-export of the retired log"
if "$ctl" verify-export "$tmp/near.bundle" --log-key "$tmp/data/ct/keys/far.pem" > /dev/null 2>&1; then
  fail "near's bundle verified with far's key"
fi
ok "export + verify-export per shard"

# Backup and restore carry every shard: a backup of the running server,
# restored into a fresh data directory; restore rebuilds each shard (and the
# retired single log) at the size of the tree head served before, and the
# restored server's trees extend those heads (export --since-sth proves it,
# verify-export checks the proof: the restarted server logs its own new
# certificates, so the sizes grow).
"$ctl" "${c[@]}" backup --out "$tmp/backup.tcb" > "$tmp/backup.out" 2>&1 || { cat "$tmp/backup.out"; fail "backup"; }
for s in near far; do
  grep -q "CT shard $s tree size [1-9]" "$tmp/backup.out" || fail "backup has no shard $s: $(cat "$tmp/backup.out")"
done
for s in near far single; do
  p=/$s; [ $s = single ] && p=
  curl -sf "http://$ct$p/ct/v1/get-sth" > "$tmp/sth-$s.json" || fail "get-sth of $s"
done
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=
mkdir -p "$tmp/data2"
cp -a "$tmp/data/hsm" "$tmp/data2/hsm"
sed -i "s#$tmp/data/#$tmp/data2/#" "$tmp/data2/hsm/softhsm2.conf" # the token's new place
sed -i "s#^  data_dir: .*#  data_dir: $tmp/data2#" "$tmp/trustchain.yaml"
"$ctl" "${c[@]}" restore "$tmp/backup.tcb" --audit-key "$tmp/data/audit/audit_public_key.pem" > "$tmp/r.out" 2>&1 ||
  { cat "$tmp/r.out"; fail "restore"; }
tree_size() { sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p' "$1"; }
for s in near far single; do
  d=ct/logs/$s/log; k=$tmp/data/ct/keys/$s.pem
  [ $s = single ] && { d=ct/log; k=$tmp/data/ct/log_public_key.pem; }
  n=$(tree_size "$tmp/sth-$s.json")
  grep -q "CT log rebuilt in $tmp/data2/$d: $n entries, root matches" "$tmp/r.out" ||
    fail "restore did not rebuild $s at $n entries: $(cat "$tmp/r.out")"
  [ $s = single ] && continue
  cmp -s "$k" "$tmp/data2/ct/keys/$s.pem" || fail "key of $s not restored"
  cmp -s "$tmp/data/ct/keys/$s.log_id.txt" "$tmp/data2/ct/keys/$s.log_id.txt" || fail "log ID of $s not restored"
done
start_server
for s in near far single; do
  l=(--log "$s"); k=$tmp/data2/ct/keys/$s.pem
  [ $s = single ] && { l=(); k=$tmp/data2/ct/log_public_key.pem; }
  "$ctl" "${c[@]}" export ct "${l[@]}" --since-sth "$tmp/sth-$s.json" --out "$tmp/$s-after.bundle" > /dev/null \
    2> "$tmp/export.err" || { cat "$tmp/export.err"; fail "export ct of $s after the restore"; }
  "$ctl" verify-export "$tmp/$s-after.bundle" --log-key "$k" > "$tmp/ve.out" 2>&1 ||
    fail "the restored $s does not extend its tree head from before the backup: $(cat "$tmp/ve.out")"
done
ok "backup + restore: near $(tree_size "$tmp/sth-near.json"), far $(tree_size "$tmp/sth-far.json"), single $(tree_size "$tmp/sth-single.json") entries rebuilt; the restored trees extend those heads"

# Freezing one shard (ct.logs[].frozen): near takes no new entry (HTTP 403
# with the reason) while its reads go on at the same tree head; far still
# takes its own; the log list says which is frozen.
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=
sed -i 's/^    - name: near$/    - name: near\n      frozen: true/' "$tmp/trustchain.yaml"
grep -q "^      frozen: true" "$tmp/trustchain.yaml" || fail "could not set near frozen"
start_server
before=$(sth_size /near)
[ "${before:-0}" -gt 0 ] || fail "the frozen shard's tree head is not served"
post near near
[ "$code" = 403 ] && grep -q "frozen" "$tmp/body" || fail "the frozen shard took a submission: HTTP $code $(cat "$tmp/body")"
post far far
[ "$code" = 200 ] || fail "far refused a submission while near is frozen: HTTP $code $(cat "$tmp/body")"
curl -sf "http://$ct/near/checkpoint" > /dev/null || fail "the frozen shard's checkpoint is not served"
sleep 1
[ "$(sth_size /near)" = "$before" ] || fail "the frozen shard's tree changed"
"$ctl" "${c[@]}" ct loglist --out "$tmp/loglist2.cnf" || fail "ct loglist (frozen)"
grep -q "^# log near: .*state: frozen" "$tmp/loglist2.cnf" || fail "loglist does not say near is frozen"
grep -q "^# log far: .*state: usable" "$tmp/loglist2.cnf" || fail "loglist does not say far is usable"
"$ctl" "${c[@]}" status > "$tmp/status2.out" 2>&1 || true
grep -q "^CT log  *near \[.*) frozen tree size $before, " "$tmp/status2.out" || fail "status does not say near is frozen: $(cat "$tmp/status2.out")"
grep -q "^CT log  *far \[.*) usable tree size " "$tmp/status2.out" || fail "status does not say far is usable"
ok "a frozen shard refuses new entries (403) while its tree head and checkpoint are served; the other shard goes on"
echo "ok: CT temporal shards"
