#!/usr/bin/env bash
# /metrics (issue 14 part 1) on a whole dev server, read with Debian's
# python3-prometheus-client parser: every child's figures arrive through the
# supervisor, labelled with the process they came from; counters move by
# exactly what the traffic made (issuances, refusals by reason, Validate
# decisions, DNS queries by transport and RCODE), histograms are consistent
# (cumulative buckets, +Inf = _count), the certificate and zone expiry
# timestamps lie in the future, and a kill -9 of a child shows as a
# restart. Then the real trustchain-metrics under a stand-in supervisor:
# a malformed and an oversized exposition (what a taken-over child could
# send) are refused, counted, and change nothing of the others' figures.
# Usage: metrics_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
ctl="$bindir/trustchainctl"
. "$(dirname "$0")/server_lib.sh" metrics

/usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null || fail "needs python3-prometheus-client"
dev_config
# The ACME traffic's http-01 check must fail, and the DNS counters below
# count only our dig queries: the validator resolves through a port where
# nothing answers (in dev it would use our resolver and add its lookups).
sed -i "/^acme:/a\\  validation:\\n    resolver: 127.0.0.1:$((base + 9))" "$tmp/trustchain.yaml"
murl="http://$(awk '/metrics_listen:/ { print $2 }' "$tmp/trustchain.yaml")/metrics"
start_server
grep -q "metrics .*$murl" "$tmp/server.out" || fail "the server does not say where /metrics is: $(cat "$tmp/server.out")"
c=(--config "$tmp/trustchain.yaml")

# scrape OUT: the figures as JSON {"name{k=v,...}": value} (labels sorted),
# after checking the exposition: parses, each family once, histograms
# consistent. Prints size and latency of the scrape on stderr.
cat > "$tmp/scrape.py" <<'PY'
import json, sys, time, urllib.request
from prometheus_client.parser import text_string_to_metric_families as parse
t0 = time.monotonic()
body = urllib.request.urlopen(sys.argv[1], timeout=10).read()
dt = time.monotonic() - t0
text = body.decode("utf-8")
out, seen = {}, set()
for f in parse(text):
    assert f.name not in seen, "family twice: " + f.name
    seen.add(f.name)
    assert f.name.startswith("trustchain_"), f.name
    buckets = {}
    for s in f.samples:
        assert "process" in s.labels, s
        key = s.name + "{" + ",".join("%s=%s" % kv for kv in sorted(s.labels.items())) + "}"
        out[key] = s.value
        if f.type == "histogram":
            k = tuple(sorted((a, b) for a, b in s.labels.items() if a != "le"))
            buckets.setdefault(k, {"b": []})
            if s.name.endswith("_bucket"):
                buckets[k]["b"].append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_count"):
                buckets[k]["count"] = s.value
            elif s.name.endswith("_sum"):
                buckets[k]["sum"] = s.value
        if f.type == "counter":
            assert s.value >= 0, s
    for k, h in buckets.items():
        b = sorted(h["b"])
        assert b and b[-1][0] == float("inf"), (f.name, k, b)
        assert all(b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)), (f.name, k, b)
        assert b[-1][1] == h["count"], (f.name, k, b, h)
        assert h["sum"] >= 0 and (h["count"] > 0 or h["sum"] == 0), (f.name, k, h)
json.dump(out, open(sys.argv[2], "w"))
print("scrape: %d bytes, %d families, %d samples, %.1f ms" % (len(body), len(seen), len(out), dt * 1000),
      file=sys.stderr)
PY
scrape() { /usr/bin/python3 "$tmp/scrape.py" "$murl" "$1"; }
# val FILE KEY: the value, 0 when absent.
val() { /usr/bin/python3 -c 'import json,sys; print("%g" % json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$1" "$2"; }
# wait_for KEY EXPECTED: scrapes (into $tmp/now.json) until KEY equals EXPECTED (30 s).
wait_for() {
  for _ in $(seq 1 60); do
    scrape "$tmp/now.json" 2>/dev/null || true
    [ -f "$tmp/now.json" ] && [ "$(val "$tmp/now.json" "$1")" = "$2" ] && return 0
    sleep 0.5
  done
  fail "$1 is $(val "$tmp/now.json" "$1"), expected $2"
}

# Every child's figures arrive (each pushes once a second).
for p in signer transparency resolver gateway acme validator; do
  wait_for "trustchain_child_up{child=$p,process=server}" 1
done
wait_for "trustchain_ct_tree_size{process=transparency}" "$(val "$tmp/now.json" "trustchain_ct_tree_size{process=transparency}")"
scrape "$tmp/before.json" 2> "$tmp/scrape1.txt" || fail "scrape: $(cat "$tmp/scrape1.txt")"
cat "$tmp/scrape1.txt"
ok "every child's figures are served, each family once, histograms consistent"

# Traffic: 3 issuances, 1 refused by the CA's policy (outside the permitted
# suffixes), 2 Validate calls (one trusted, one for another name), DNS
# queries: 4 over UDP (2 NOERROR, 2 NXDOMAIN), 2 over TCP, 1 over QUIC.
for i in 1 2 3; do
  "$ctl" "${c[@]}" issue --name "m$i.trust.hypermesh.online" --new-key "$tmp/k$i.key" > "$tmp/c$i.pem" \
    2>"$tmp/issue.err" || fail "issue $i: $(cat "$tmp/issue.err")"
done
"$ctl" "${c[@]}" issue --name www.example.com --new-key "$tmp/bad.key" >/dev/null 2>"$tmp/refused.err" &&
  fail "issuance outside the permitted suffixes accepted"
"$ctl" "${c[@]}" validate --target "127.0.0.1:$((base + 3))" --name m1.trust.hypermesh.online "$tmp/c1.pem" >"$tmp/v.out" 2>&1 || fail "validate (trusted): $(cat "$tmp/v.out")"
rc=0
"$ctl" "${c[@]}" validate --target "127.0.0.1:$((base + 3))" --name other.trust.hypermesh.online "$tmp/c1.pem" \
  >"$tmp/v.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "validate for another name: exit $rc (1 = UNTRUSTED expected): $(cat "$tmp/v.out")"
d=(@127.0.0.1 -p "$base" +time=5 +tries=1)
dig "${d[@]}" trust.hypermesh.online SOA >/dev/null || fail dig
dig "${d[@]}" trust.hypermesh.online NS >/dev/null || fail dig
dig "${d[@]}" nope1.trust.hypermesh.online A >/dev/null || fail dig
dig "${d[@]}" nope2.trust.hypermesh.online A >/dev/null || fail dig
dig "${d[@]}" +tcp trust.hypermesh.online SOA >/dev/null || fail "dig +tcp"
dig "${d[@]}" +tcp trust.hypermesh.online NS >/dev/null || fail "dig +tcp"
"$ctl" "${c[@]}" dig +quic trust.hypermesh.online SOA >/dev/null 2>&1 || fail "dig +quic"
# ACME: a refused POST, an order, a failing http-01 check (acme_metrics_traffic.py).
/usr/bin/python3 "$(dirname "$0")/acme_metrics_traffic.py" "https://127.0.0.1:$((base + 4))/acme/directory" \
  "$tmp/data/ca/root.pem" m9.trust.hypermesh.online > "$tmp/acme.out" 2>&1 || fail "acme traffic: $(cat "$tmp/acme.out")"

g=process=gateway
wait_for "trustchain_issuances_total{$g}" "$(( $(val "$tmp/before.json" "trustchain_issuances_total{$g}") + 3 ))"
# Every other figure the same traffic moved, a push later at most.
sleep 1.5
scrape "$tmp/after.json" 2> "$tmp/scrape2.txt" || fail "scrape: $(cat "$tmp/scrape2.txt")"
cat "$tmp/scrape2.txt"
/usr/bin/python3 - "$tmp/before.json" "$tmp/after.json" <<'PY' || fail "figures after the traffic"
import json, sys, time
b, a = (json.load(open(p)) for p in sys.argv[1:3])
def d(k): return a.get(k, 0) - b.get(k, 0)
def eq(k, want):
    assert d(k) == want, "%s moved by %g, expected %g" % (k, d(k), want)
g = "process=gateway"
eq("trustchain_issuances_total{%s}" % g, 3)
eq("trustchain_acme_jws_refusals_total{process=acme,reason=content_type}", 1)
eq("trustchain_acme_orders_total{process=acme,state=pending}", 1)
checks = {k: d(k) for k in a if k.startswith("trustchain_acme_validations_total{check=http-01:") and d(k)}
assert list(checks.values()) == [1] and "process=validator" in list(checks)[0], checks
refusals = {k: d(k) for k in a if k.startswith("trustchain_issue_refusals_total") and d(k)}
assert list(refusals.values()) == [1], refusals
eq("trustchain_issue_duration_seconds_count{%s}" % g, 4)
assert d("trustchain_issue_duration_seconds_sum{%s}" % g) > 0
eq("trustchain_rpc_requests_total{method=Issue,%s}" % g, 4)
eq("trustchain_validate_duration_seconds_count{%s}" % g, 2)
eq("trustchain_validate_decisions_total{decision=trusted,%s}" % g, 1)
eq("trustchain_validate_decisions_total{decision=untrusted,%s}" % g, 1)
r = "process=resolver"
eq("trustchain_dns_queries_total{%s,transport=udp}" % r, 4)
eq("trustchain_dns_queries_total{%s,transport=tcp}" % r, 2)
eq("trustchain_dns_queries_total{%s,transport=doq}" % r, 1)
eq("trustchain_dns_responses_total{%s,rcode=NXDOMAIN}" % r, 2)
eq("trustchain_dns_responses_total{%s,rcode=NOERROR}" % r, 5)
assert d("trustchain_doq_connections_total{%s}" % r) >= 1
# Open now: at most the DoQ query's own connection (closed or draining).
assert 0 <= a["trustchain_doq_connections_open{%s}" % r] <= 1, a.get("trustchain_doq_connections_open{%s}" % r)
# Precertificate and certificate of each issuance: two HSM signatures.
s = "process=signer"
assert d("trustchain_hsm_operation_duration_seconds_count{op=sign_certificate,%s}" % s) == 6, \
    d("trustchain_hsm_operation_duration_seconds_count{op=sign_certificate,%s}" % s)
eq("trustchain_hsm_errors_total{op=sign_certificate,%s}" % s, 0)
assert d("trustchain_journal_fsync_duration_seconds_count{%s}" % s) >= 6
t = "process=transparency"
assert d("trustchain_ct_tree_size{%s}" % t) >= 3, d("trustchain_ct_tree_size{%s}" % t)
assert a["trustchain_ct_pending_entries{%s}" % t] >= 0
assert a["trustchain_ct_mmd_headroom_seconds{%s}" % t] > 0
now = time.time()
for cert, proc in (("root", "gateway"), ("intermediate", "gateway"), ("doq", "resolver")):
    k = "trustchain_certificate_expiry_timestamp_seconds{certificate=%s,process=%s}" % (cert, proc)
    assert a.get(k, 0) > now, (k, a.get(k))
k = "trustchain_zone_signature_expiry_timestamp_seconds{process=resolver}"
assert a.get(k, 0) > now, (k, a.get(k))
assert d("trustchain_metrics_scrapes_total{process=metrics}") >= 1, sorted(k for k in a if "process=metrics" in k)
print("deltas ok: issuances 3, refusals %r, validate 1+1, dns udp 4 tcp 2 doq 1" % refusals)
PY
ok "counters moved by exactly the traffic; expiry timestamps in the future"
"$ctl" "${c[@]}" status > "$tmp/status.out" 2>&1 || true
n=$(awk '$1 == "metrics" && $2 == "issued" { sub(",", "", $3); print $3 }' "$tmp/status.out")
[ "${n:-0}" -ge 3 ] || fail "trustchainctl status shows no figures from /metrics: $(cat "$tmp/status.out")"
grep "^metrics" "$tmp/status.out"
ok "trustchainctl status prints the figures from /metrics"

# A restart, counted by the supervisor.
k="trustchain_child_restarts_total{child=resolver,process=server}"
n=$(val "$tmp/after.json" "$k")
old=$(pid_of resolver)
kill -KILL "$old"
wait_ready resolver "$old"
wait_for "$k" "$((n + 1))"
wait_for "trustchain_child_up{child=resolver,process=server}" 1
ok "kill -9 of the resolver: $k $n -> $((n + 1))"
kill -TERM "$server_pid"
for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
server_pid=

# trustchain-metrics alone, its supervisor played by Python: what a
# taken-over child could send reaches it (our supervisor checks only that it
# is a sealed memfd of at most 1 MiB), so the child must refuse it itself.
mport=$((base + 6))
/usr/bin/python3 - "$bindir/trustchain-metrics" "$mport" <<'PY' || fail "trustchain-metrics under a stand-in supervisor"
import fcntl, os, socket, struct, subprocess, sys, time, urllib.error, urllib.request
from prometheus_client.parser import text_string_to_metric_families as parse
prog, port = sys.argv[1], int(sys.argv[2])
ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
lst = socket.socket(); lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lst.bind(("127.0.0.1", port)); lst.listen(16)
env = dict(os.environ, TC_FD_SUPERVISOR=str(theirs.fileno()), TC_FD_METRICS_HTTP=str(lst.fileno()))
p = subprocess.Popen([prog], env=env, pass_fds=(theirs.fileno(), lst.fileno()))
theirs.close(); lst.close()
TC_SUP_READY, TC_SUP_METRICS = 3, 5
def msg(t, name): return struct.pack("=I256s", t, name.encode())
t, _ = struct.unpack("=I256s", ours.recv(260))
assert t == TC_SUP_READY, t
def push(source, text, seal=True):
    fd = os.memfd_create("m", os.MFD_ALLOW_SEALING)
    os.write(fd, text)
    if seal:
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
    socket.send_fds(ours, [msg(TC_SUP_METRICS, source)], [fd])
    os.close(fd)
# Scrapes until what the pushes before it should change has changed (until
# says so; at most 15 s): a loaded box may take longer than a fixed sleep to
# read a 2 MiB memfd and refuse it. The asserts after it then check everything.
def scrape(until=lambda m: True):
    deadline = time.time() + 15
    while True:
        time.sleep(0.1)
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
        m = {s.name + repr(sorted(s.labels.items())): s.value for f in parse(body) for s in f.samples}
        if until(m) or time.time() > deadline:
            return m, body
ISSUED, REFUSED = "trustchain_issuances_total[('process', 'gateway')]", "trustchain_metrics_refused_total[('process', 'metrics'), ('source', '%s')]"
good = b"# HELP trustchain_issuances_total Issued.\n# TYPE trustchain_issuances_total counter\ntrustchain_issuances_total 7\n"
push("gateway", good)
push("resolver", b"# TYPE trustchain_dns_queries_total counter\ntrustchain_dns_queries_total{transport=\"udp\"} 4\n")
m, _ = scrape(lambda m: m.get(ISSUED) == 7 and m.get("trustchain_dns_queries_total[('process', 'resolver'), ('transport', 'udp')]") == 4)
assert m["trustchain_issuances_total[('process', 'gateway')]"] == 7, m
assert m["trustchain_dns_queries_total[('process', 'resolver'), ('transport', 'udp')]"] == 4, m
# Malformed (a forged process label, a timestamp, garbage) and oversized.
push("resolver", b"# TYPE trustchain_issuances_total counter\ntrustchain_issuances_total{process=\"gateway\"} 1000\n")
m, body = scrape(lambda m: m.get(REFUSED % "resolver") == 1)
assert "trustchain_issuances_total[('process', 'gateway')]" in m and m["trustchain_issuances_total[('process', 'gateway')]"] == 7, m
assert not any("('process', 'resolver')" in k for k in m), m
assert m["trustchain_metrics_refused_total[('process', 'metrics'), ('source', 'resolver')]"] == 1, m
push("resolver", b"\x00\xff garbage {{{\n")
push("signer", b"# TYPE trustchain_x gauge\n" + b"trustchain_x{a=\"" + b"y" * (2 << 20) + b"\"} 1\n")
m, body = scrape(lambda m: m.get(REFUSED % "resolver") == 2 and m.get(REFUSED % "signer") == 1)
assert m["trustchain_metrics_refused_total[('process', 'metrics'), ('source', 'resolver')]"] == 2, m
assert m["trustchain_metrics_refused_total[('process', 'metrics'), ('source', 'signer')]"] == 1, m
assert m["trustchain_issuances_total[('process', 'gateway')]"] == 7, m
assert "trustchain_x" not in body
# A good text again is taken again.
push("resolver", b"# TYPE trustchain_dns_queries_total counter\ntrustchain_dns_queries_total{transport=\"udp\"} 5\n")
m, _ = scrape(lambda m: m.get("trustchain_dns_queries_total[('process', 'resolver'), ('transport', 'udp')]") == 5)
assert m["trustchain_dns_queries_total[('process', 'resolver'), ('transport', 'udp')]"] == 5, m
# Only GET /metrics.
for path, method, want in (("/other", "GET", 404), ("/metrics", "POST", 405)):
    try:
        urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                                      data=b"" if method == "POST" else None), timeout=5)
        sys.exit("%s %s answered 200" % (method, path))
    except urllib.error.HTTPError as e:
        assert e.code == want, (path, e.code)
# The child gone: its figures too.
ours.send(msg(TC_SUP_METRICS, "gateway"))
m, _ = scrape(lambda m: not any("('process', 'gateway')" in k for k in m))
assert not any("('process', 'gateway')" in k for k in m), m
assert p.poll() is None, "trustchain-metrics died"
ours.close()
p.wait(timeout=10)
print("stand-in supervisor: forged label, garbage and a 2 MiB text refused and counted; others untouched")
PY
ok "trustchain-metrics refuses malformed and oversized expositions, counts them, keeps the others"
