#!/usr/bin/env bash
# SIGHUP to trustchain-resolver (issue 12, part 6): dns.records and
# dns.zone_file are read again and the zone rebuilt and served by the same
# process, its connections untouched. The resolver runs on its own here (no
# supervisor: dns_hup_test.sh has the supervisor hand the configuration
# over), so the zone is unsigned and DoQ has no certificate; the in-process
# reload is the same.
# Checks: the pid does not change; a changed A record, a new TXT and a
# changed zone_file record are served after the SIGHUP under a larger
# serial; a TCP connection opened before the reload answers after it with
# the new data; a configuration whose zone cannot be built (a missing
# zone_file) is refused and the previous zone stays.
# Usage: dns_reload_test.sh BINDIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
command -v dig >/dev/null || { echo "SKIP: dig not installed (bind9-dnsutils)"; exit 77; }
. "$(dirname "$0")/server_lib.sh" dns-reload
zone=trust.hypermesh.online
base=$(( 20000 + RANDOM % 20000 ))
port=$base quic=$((base + 1))
printf 'fromfile 300 IN TXT "zone file v1"\n' > "$tmp/extra.zone"
chmod 644 "$tmp/extra.zone"
mkdir -p "$tmp/data"

# Written in place (same inode): the resolver's Landlock rules name the
# files it was started with.
config() { # config A-ADDRESS EXTRA-RECORD-LINE ZONE-FILE
  cat > "$tmp/trustchain.yaml.new" <<YAML
server:
  dev: true
  data_dir: $tmp/data
dns:
  listen_address: 127.0.0.1
  udp_port: $port
  quic_port: $quic
  zone_file: $3
  records:
    - "www 300 A $1"
$2
YAML
  cat "$tmp/trustchain.yaml.new" > "$tmp/trustchain.yaml"
}
config 192.0.2.10 "" "$tmp/extra.zone"

"$bindir/trustchain-resolver" --config "$tmp/trustchain.yaml" > "$tmp/server.out" 2> "$tmp/server.log" &
server_pid=$!
pid=$server_pid
for _ in $(seq 1 300); do grep -q "ready: DNS" "$tmp/server.log" && break; sleep 0.1; done
grep -q "ready: DNS" "$tmp/server.log" || fail "resolver not ready"
q() { dig +short +norec @127.0.0.1 -p "$port" "$@"; }
serial() { q "$zone" SOA | awk '{ print $3 }'; }
[ "$(q www.$zone A)" = 192.0.2.10 ] || fail "www A is not served"
[ "$(q fromfile.$zone TXT)" = '"zone file v1"' ] || fail "the zone file's TXT is not served"
s0=$(serial)
ok "resolver $pid serves serial $s0"

# A TCP connection opened before the reload, asked again after it.
cat > "$tmp/tcp_client.py" <<'PY'
import socket, struct, sys, time, os
port, name, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def query(s, qid):
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for l in name.split("."):
        q += bytes([len(l)]) + l.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    s.sendall(struct.pack(">H", len(q)) + q)
    n = struct.unpack(">H", s.recv(2, socket.MSG_WAITALL))[0]
    r = s.recv(n, socket.MSG_WAITALL)
    # The first answer's RDATA: after the header, the question and the
    # answer's compressed owner (2), type, class, TTL and RDLENGTH (10).
    at = 12 + len(q) - 12 + 12
    return ".".join(str(b) for b in r[at:at + 4])
s = socket.create_connection(("127.0.0.1", port))
print(query(s, 1), flush=True)
while not os.path.exists(go):
    time.sleep(0.05)
print(query(s, 2), flush=True)
PY
/usr/bin/python3 "$tmp/tcp_client.py" "$port" "www.$zone" "$tmp/go" > "$tmp/tcp.out" 2>&1 &
tcp_pid=$!
cleanup_extra() { kill "$tcp_pid" 2>/dev/null || true; }
for _ in $(seq 1 50); do [ -s "$tmp/tcp.out" ] && break; sleep 0.1; done
[ "$(head -n 1 "$tmp/tcp.out")" = 192.0.2.10 ] || fail "TCP client: $(cat "$tmp/tcp.out")"

config 192.0.2.20 '    - "new 300 TXT \"reloaded\""' "$tmp/extra.zone"
printf 'fromfile 300 IN TXT "zone file v2"\n' > "$tmp/extra.zone"
kill -HUP "$pid"
for _ in $(seq 1 100); do
  [ "$(q www.$zone A)" = 192.0.2.20 ] && break
  sleep 0.1
done
[ "$(q www.$zone A)" = 192.0.2.20 ] || fail "the changed A record is not served after SIGHUP"
[ "$(q new.$zone TXT)" = '"reloaded"' ] || fail "the new TXT is not served after SIGHUP"
touch "$tmp/go"
wait "$tcp_pid" || fail "the TCP connection did not survive the reload: $(cat "$tmp/tcp.out")"
[ "$(sed -n 2p "$tmp/tcp.out")" = 192.0.2.20 ] || fail "TCP connection after the reload: $(cat "$tmp/tcp.out")"
[ "$(q fromfile.$zone TXT)" = '"zone file v2"' ] || fail "the zone file was not read again"
s1=$(serial)
[ "$s1" -gt "$s0" ] || fail "serial did not grow ($s0 -> $s1)"
kill -0 "$pid" || fail "the resolver exited"
grep -q "zone $zone reloaded (SIGHUP): serial $s1" "$tmp/server.log" || fail "no reload logged"
ok "SIGHUP: new records served under serial $s1 by the same process $pid; a TCP connection from before answered with them"

# A configuration that cannot build a zone: refused, the zone stays.
config 192.0.2.30 "" "$tmp/missing.zone"
kill -HUP "$pid"
for _ in $(seq 1 50); do
  grep -q "SIGHUP: keeping the zone" "$tmp/server.log" && break
  sleep 0.1
done
grep -q "SIGHUP: keeping the zone: .*missing.zone" "$tmp/server.log" || fail "a bad reload was not refused"
[ "$(q www.$zone A)" = 192.0.2.20 ] || fail "a refused reload changed the zone"
[ "$(serial)" = "$s1" ] || fail "a refused reload changed the serial"
ok "a configuration without its zone file is refused; serial $s1 stays"

