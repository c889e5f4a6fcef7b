#!/usr/bin/env bash
# trustchain-resolver end to end over classic DNS, with dig: the zone built
# from the configuration (generated records plus dns.records) over UDP and
# TCP, negative answers, truncation and EDNS sizes, malformed input over both
# transports, TCP framing/pipelining/idle timeout, restart after kill -9, and
# forwarding (dns.traditional_fallback) through a second resolver whose
# upstreams are a dead port and the first resolver.
# Usage: dns_process_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
command -v dig >/dev/null || { echo "SKIP: dig not installed (dnsutils)"; exit 77; }
py=/usr/bin/python3
. "$(dirname "$0")/server_lib.sh" dns-test
fwd_pid=
cleanup_extra() { [ -z "$fwd_pid" ] || kill -KILL "$fwd_pid" 2>/dev/null || true; }

zone=trust.hypermesh.online
base=$(( 20000 + RANDOM % 20000 ))
port=$base
long() { printf "%0200d" 0 | tr 0 "$1"; }
cat > "$tmp/trustchain.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/data
  restart_backoff_max_ms: 500
dns:
  udp_port: $port
  quic_port: $((base + 1))
  idle_timeout_ms: 1500
  records:
    - "www 300 A 192.0.2.10"
    - "www 300 AAAA 2001:db8::10"
    - "alias 300 CNAME www"
    - "mid 300 TXT \"$(long a)\""
    - "mid 300 TXT \"$(long b)\""
    - "mid 300 TXT \"$(long c)\""
    - "big 300 TXT \"$(long d)\""
    - "big 300 TXT \"$(long e)\""
    - "big 300 TXT \"$(long f)\""
    - "big 300 TXT \"$(long g)\""
    - "big 300 TXT \"$(long h)\""
    - "big 300 TXT \"$(long i)\""
    - "big 300 TXT \"$(long j)\""
ct:
  http_listen: 127.0.0.1:$((base + 2))
gateway:
  listen: 127.0.0.1:$((base + 3))
YAML


"$bindir/trustchain-server" --config "$tmp/trustchain.yaml" > "$tmp/server.out" 2> "$tmp/server.log" &
server_pid=$!
wait_ready resolver
ok "resolver ready: $(grep -o 'DNS udp/tcp.*' "$tmp/server.log" | head -n 1)"

q() { dig @127.0.0.1 -p "$port" +time=2 +tries=1 "$@"; }
status() { q "$@" +noall +comments | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
flags() { q "$@" +noall +comments | sed -n 's/.*;; flags: \([a-z ]*\);.*/\1/p'; }
short() { q "$@" +short; }

# Positive answers over UDP and TCP: same data both ways, AA set.
for t in "" +tcp; do
  w=${t:-+notcp}
  [ "$(short $t $zone SOA | awk '{ print $1, $2 }')" = "dns.$zone. hostmaster.$zone." ] || fail "SOA $w"
  [ "$(short $t $zone NS)" = "dns.$zone." ] || fail "NS $w"
  for n in "" ca. ct. dns.; do
    [ "$(short $t "$n$zone" A)" = 127.0.0.1 ] || fail "A $n$zone $w: $(short $t "$n$zone" A)"
  done
  short $t $zone TXT | grep -q "TrustChain CA" || fail "TXT $w"
  [ "$(short $t $zone CAA)" = "0 issue \"$zone\"" ] || fail "CAA $w: $(short $t $zone CAA)"
  [ "$(short $t www.$zone A)" = 192.0.2.10 ] && [ "$(short $t www.$zone AAAA)" = 2001:db8::10 ] ||
    fail "extra records $w"
  [ "$(short $t alias.$zone A | tr '\n' ' ')" = "www.$zone. 192.0.2.10 " ] || fail "CNAME chain $w"
  [ "$(short $t WwW.TrUsT.HyPeRmEsH.OnLiNe A)" = 192.0.2.10 ] || fail "mixed case $w"
  q $t WwW.TrUsT.HyPeRmEsH.OnLiNe A +noall +question | grep -q "WwW.TrUsT.HyPeRmEsH.OnLiNe" ||
    fail "question case not echoed $w"
  flags $t www.$zone A | grep -qw aa || fail "AA not set $w"

  # NXDOMAIN and NODATA carry the SOA in authority (RFC 2308).
  [ "$(status $t nope.$zone A)" = NXDOMAIN ] || fail "NXDOMAIN $w"
  q $t nope.$zone A +noall +authority | grep -q "SOA" || fail "NXDOMAIN without SOA $w"
  [ "$(status $t www.$zone MX)" = NOERROR ] && [ -z "$(short $t www.$zone MX)" ] || fail "NODATA $w"
  q $t www.$zone MX +noall +authority | grep -q "SOA" || fail "NODATA without SOA $w"

  # Not ours, no fallback: REFUSED.
  [ "$(status $t example.org A)" = REFUSED ] || fail "outside name not REFUSED $w"
done
ok "SOA/NS/A/TXT/CAA/extra/CNAME/mixed case, NXDOMAIN/NODATA with SOA, REFUSED outside, over UDP and TCP"

# Sizes: "mid" (~620 octets) needs EDNS over UDP; "big" (~1430) never fits
# UDP (we cap at 1232) and comes whole over TCP.
flags +noedns +ignore mid.$zone TXT | grep -qw tc || fail "mid without EDNS not truncated"
[ "$(short +noedns +ignore +bufsize=0 mid.$zone TXT | wc -l)" = 0 ] || fail "truncated answer has records"
[ "$(short +bufsize=1232 mid.$zone TXT | wc -l)" = 3 ] || fail "mid with EDNS 1232"
q +bufsize=4096 mid.$zone TXT +noall +comments | grep -q "udp: 1232" || fail "our EDNS size is not 1232"
flags +bufsize=4096 +ignore big.$zone TXT | grep -qw tc || fail "big over UDP not truncated"
[ "$(short +tcp big.$zone TXT | wc -l)" = 7 ] || fail "big over TCP not whole"
[ "$(short big.$zone TXT | wc -l)" = 7 ] || fail "dig's retry over TCP after TC"
ok "TC over UDP (512 without EDNS, 1232 cap with EDNS 4096), whole over TCP, EDNS size 1232"

# Garbage over UDP: FORMERR or silence, never a crash.
"$py" - "$port" <<'PY' || fail "malformed UDP"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
addr = ("127.0.0.1", int(sys.argv[1]))
# header claiming a question that is not there -> FORMERR with the ID echoed
s.sendto(bytes.fromhex("beef0100000100000000000000"), addr)
r = s.recv(4096)
assert r[:2] == b"\xbe\xef" and r[2] & 0x80 and (r[3] & 0x0f) == 1, r.hex()
# under 12 octets and a response (QR=1): nothing comes back
for junk in (b"\x01\x02\x03", bytes.fromhex("beef8100000100000000000003777777000001 0001".replace(" ", ""))):
    s.sendto(junk, addr)
try:
    r = s.recv(4096); sys.exit("answered junk: " + r.hex())
except socket.timeout:
    pass
PY
[ "$(short www.$zone A)" = 192.0.2.10 ] || fail "no answer after garbage"
ok "malformed UDP: FORMERR with ID echoed, short/response datagrams ignored, still answering"

# TCP framing: pipelined queries on one connection, a query dribbled in one
# octet at a time, a bogus length prefix that closes only its connection,
# and the idle timeout.
"$py" - "$port" "$zone" <<'PY' || fail "TCP framing"
import socket, struct, sys, time
port, zone = int(sys.argv[1]), sys.argv[2]
def query(qid, name, qtype=1):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)
def framed(m): return struct.pack(">H", len(m)) + m
def conn():
    c = socket.create_connection(("127.0.0.1", port)); c.settimeout(3); return c
def read_msg(c):
    buf = b""
    while len(buf) < 2:
        d = c.recv(2 - len(buf)); assert d, "closed"; buf += d
    n = struct.unpack(">H", buf)[0]; body = b""
    while len(body) < n:
        d = c.recv(n - len(body)); assert d, "closed"; body += d
    return body
good = conn()
good.sendall(b"".join(framed(query(i, "www." + zone)) for i in (1, 2, 3)))
ids = sorted(struct.unpack(">H", read_msg(good)[:2])[0] for _ in range(3))
assert ids == [1, 2, 3], ids
m = framed(query(9, "ca." + zone))
for b in m:
    good.send(bytes([b])); time.sleep(0.002)
r = read_msg(good); assert r[:2] == b"\x00\x09" and struct.unpack(">H", r[6:8])[0] == 1, r.hex()
bad = conn()
bad.sendall(b"\x00\x05hello")
assert bad.recv(100) == b"", "bogus length did not close"
good.sendall(framed(query(10, zone, 6)))
assert read_msg(good)[:2] == b"\x00\x0a", "good connection hurt by the bad one"
idle = conn(); time.sleep(3.2)
try:
    assert idle.recv(100) == b"", "idle connection not closed"
except ConnectionResetError:
    pass
PY
ok "TCP: 3 pipelined queries, 1-octet writes, bogus length closes that connection only, idle timeout"

# kill -9 the resolver: the supervisor restarts it and it answers again.
old=$(pid_of resolver)
kill -KILL "$old"
t0=$(date +%s)
for _ in $(seq 1 50); do
  [ "$(short +time=1 www.$zone A 2>/dev/null)" = 192.0.2.10 ] && [ "$(pid_of resolver)" != "$old" ] && break
  sleep 0.2
done
[ "$(short www.$zone A)" = 192.0.2.10 ] && [ "$(pid_of resolver)" != "$old" ] || fail "no answer after kill -9"
ok "resolver restarted after kill -9 ($old -> $(pid_of resolver)), answering after $(( $(date +%s) - t0 )) s"

# Forwarding: a second resolver (run by hand, its own zone) with fallback on,
# upstreams a dead port first and then the first resolver.
fport=$((base + 4)); dead=$((base + 5))
cat > "$tmp/fwd.yaml" <<YAML
server:
  dev: true
  data_dir: $tmp/fwd-data
bootstrap:
  domain: other.test
dns:
  udp_port: $fport
  quic_port: $((base + 6))
  traditional_fallback: true
  upstreams: ["127.0.0.1:$dead", "127.0.0.1:$port"]
YAML
mkdir -p "$tmp/fwd-data"
"$bindir/trustchain-resolver" --config "$tmp/fwd.yaml" 2> "$tmp/fwd.log" &
fwd_pid=$!
fq() { dig @127.0.0.1 -p "$fport" +time=4 +tries=1 "$@"; }
for _ in $(seq 1 50); do fq +short other.test SOA >/dev/null 2>&1 && break; sleep 0.1; done
[ "$(fq +short www.$zone A)" = 192.0.2.10 ] || fail "forwarded A: $(fq www.$zone A)"
fq www.$zone A +noall +comments | grep -q " ra" || fail "RA not set with fallback"
[ "$(fq +short +tcp ca.$zone A)" = 127.0.0.1 ] || fail "forwarded over TCP"
[ "$(fq nope.$zone A +noall +comments | sed -n 's/.*status: \([A-Z]*\).*/\1/p')" = NXDOMAIN ] ||
  fail "forwarded NXDOMAIN"
sleep 2.2
ttl=$(fq www.$zone A +noall +answer | awk '{ print $2 }')
[ -n "$ttl" ] && [ "$ttl" -lt 300 ] && [ "$ttl" -ge 290 ] || fail "cached TTL not aged: $ttl"
[ "$(fq +short other.test SOA | awk '{ print $1 }')" = dns.other.test. ] || fail "own zone with fallback"
ok "fallback: forwarded past a dead upstream (UDP and TCP), NXDOMAIN passed on, cache ages TTLs ($ttl)"
kill -TERM "$fwd_pid"; wait "$fwd_pid" || fail "forwarding resolver exit status $?"
fwd_pid=
grep -q "forwarder: .* forwarded" "$tmp/fwd.log" || fail "no forwarder counters on exit"

# Rate limiting: a third resolver (by hand) at 50 qps per source. A burst of
# 400 gets about 50 full answers, some TC=1 slips and silence for the rest;
# after a pause the source is answered again.
rport=$((base + 7))
printf 'server:\n  dev: true\n  data_dir: %s/fwd-data\ndns:\n  udp_port: %s\n  quic_port: %s\n  rate_limit_qps: 50\n' \
  "$tmp" "$rport" "$((base + 8))" > "$tmp/rl.yaml"
"$bindir/trustchain-resolver" --config "$tmp/rl.yaml" 2> "$tmp/rl.log" &
fwd_pid=$!
for _ in $(seq 1 50); do dig @127.0.0.1 -p "$rport" +time=1 +tries=1 +short $zone SOA >/dev/null 2>&1 && break; sleep 0.1; done
sleep 1.1   # the probes above spent tokens: start from a full bucket
"$py" - "$rport" "$zone" <<'PY' || fail "rate limiting"
import socket, struct, sys, time
port, zone = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)
def q(i):
    m = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0)
    for l in ("www." + zone).split("."): m += bytes([len(l)]) + l.encode()
    return m + b"\x00\x00\x01\x00\x01"
for i in range(400): s.sendto(q(i), ("127.0.0.1", port))
full = slip = 0
try:
    while True:
        r = s.recv(4096)
        if r[2] & 0x02: slip += 1
        else: full += 1
except socket.timeout:
    pass
print("rate limit: %d full, %d slipped of 400" % (full, slip))
assert 40 <= full <= 80 and slip >= 20, (full, slip)
time.sleep(1.0)
s.sendto(q(999), ("127.0.0.1", port))
r = s.recv(4096); assert r[:2] == struct.pack(">H", 999) and not r[2] & 0x02, r.hex()
PY
kill -TERM "$fwd_pid"; wait "$fwd_pid" || fail "rate-limited resolver exit status $?"
fwd_pid=
ok "rate limit: burst cut to the bucket, every 2nd limited query slipped with TC, answered after a pause"

# Clean stop.
kill -TERM "$server_pid"
for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
set +e; wait "$server_pid"; rc=$?; set -e
server_pid=
[ $rc -eq 0 ] || fail "server exit status $rc"
ok "SIGTERM: clean stop"
echo "1 passed, 0 failed"
