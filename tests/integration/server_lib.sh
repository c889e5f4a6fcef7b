# Scaffolding shared by the integration scripts that run a whole
# trustchain-server. Source it as `. "$(dirname "$0")/server_lib.sh" NAME`.
# It makes $tmp (world-readable: the children run as the service user),
# stops $server_pid on exit (SIGTERM, up to 10 s, then SIGKILL) after calling
# cleanup_extra (define it to stop helpers of your own), removes $tmp unless
# TC_KEEP_TEST_DIR is set, and defines fail (prints the server log's tail)
# and ok.
tmp=$(mktemp -d "/tmp/tc-$1-XXXXXX")
chmod 755 "$tmp"
server_pid=
cleanup_extra() { :; }
cleanup() {
  cleanup_extra
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  [ -n "${TC_KEEP_TEST_DIR:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log:"; tail -n 60 "$tmp/server.log" || true; exit 1; }
ok() { echo "ok: $*"; }

# LeakSanitizer cannot stop a non-dumpable process (the signer makes itself
# one); leaks are checked by the C tests.
export ASAN_OPTIONS=detect_leaks=0

# Python message classes of api/trustchain/v1 into $tmp/gen, for Debian's
# python3 with grpcio ($src must be the source tree).
python_stubs() {
  /usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null || fail "needs python3-grpcio and python3-protobuf"
  command -v protoc >/dev/null || fail "needs protoc (protobuf-compiler)"
  mkdir -p "$tmp/gen"
  protoc --proto_path="$src/api" --python_out="$tmp/gen" "$src"/api/trustchain/v1/*.proto
  touch "$tmp/gen/trustchain/__init__.py" "$tmp/gen/trustchain/v1/__init__.py"
}

# A dev configuration in $tmp/trustchain.yaml on ports from a random $base
# (DNS $base, DoQ +1, CT HTTP +2, gRPC +3, ACME +4, /metrics +5; +6 and up
# are free for the test's own listeners). Lines given as arguments are added
# to the gateway section ("  tokens_file: ..."); an argument "@SECTION"
# sends the lines after it to that section instead (a new one is added
# after the others), e.g. dev_config "@ct" "  sequence_interval_ms: 50".
dev_config() {
  base=$(( 20000 + RANDOM % 20000 ))
  local -A extra=()
  local -a order=(server dns ct acme gateway)
  local section=gateway line s
  for line in "$@"; do
    if [[ $line == @* ]]; then
      section=${line#@}
      [[ " ${order[*]} " == *" $section "* ]] || order+=("$section")
    else
      extra[$section]+="$line"$'\n'
    fi
  done
  {
    for s in "${order[@]}"; do
      printf '%s:\n' "$s"
      case $s in
        server) printf '  dev: true\n  data_dir: %s/data\n  metrics_listen: 127.0.0.1:%s\n' "$tmp" "$((base + 5))" ;;
        dns) printf '  udp_port: %s\n  quic_port: %s\n' "$base" "$((base + 1))" ;;
        ct) printf '  http_listen: 127.0.0.1:%s\n' "$((base + 2))" ;;
        acme) printf '  listen: 127.0.0.1:%s\n' "$((base + 4))" ;;
        gateway) printf '  listen: 127.0.0.1:%s\n' "$((base + 3))" ;;
      esac
      printf '%s' "${extra[$s]:-}"
    done
  } > "$tmp/trustchain.yaml"
}

# The TSIG keys file $tmp/tsig.keys as dns.tsig_keys_file wants it: 0600,
# owned by the resolver's user when the tests run as root.
own_tsig_keys() {
  chmod 600 "$tmp/tsig.keys"
  if [ "$(id -u)" = 0 ] && id trustchain-resolver >/dev/null 2>&1; then
    chown trustchain-resolver "$tmp/tsig.keys"
  fi
}
# tsig_secret NAME: the base64 secret of key NAME in $tmp/tsig.keys.
tsig_secret() {
  awk -v k="\"$1\"" '$1 == "key" && $2 == k { f = 1 } f && $1 == "secret" { gsub(/[";]/, "", $2); print $2; exit }' \
    "$tmp/tsig.keys"
}

# knot_secondary_conf ZONE KNOT_PORT PRIMARY_PORT SECRET: $tmp/knot/knot.conf
# for Debian's knotd 3.2 as a secondary of ZONE from 127.0.0.1:PRIMARY_PORT,
# listening on KNOT_PORT, transfers and NOTIFY authenticated by the TSIG key
# xfr-knot (hmac-sha256, SECRET), nothing written back to a zone file.
knot_secondary_conf() {
  mkdir -p "$tmp/knot/db" "$tmp/knot/zones"
  cat > "$tmp/knot/knot.conf" <<KNOT
server:
    listen: 127.0.0.1@$2
    rundir: "$tmp/knot"
log:
  - target: "$tmp/knot/knot.log"
    any: info
database:
    storage: "$tmp/knot/db"
key:
  - id: xfr-knot
    algorithm: hmac-sha256
    secret: $4
remote:
  - id: primary
    address: 127.0.0.1@$3
    key: xfr-knot
acl:
  - id: notify-from-primary
    address: 127.0.0.1
    key: xfr-knot
    action: notify
template:
  - id: default
    storage: "$tmp/knot/zones"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
zone:
  - domain: $1
    master: primary
    acl: notify-from-primary
KNOT
}

# Starts trustchain-server ($bindir) on $tmp/trustchain.yaml, output in
# $tmp/server.out and server.log, and waits (up to 120 s) until it says
# every child is ready.
start_server() {
  "$bindir/trustchain-server" --config "$tmp/trustchain.yaml" > "$tmp/server.out" 2> "$tmp/server.log" &
  server_pid=$!
  for _ in $(seq 1 600); do
    grep -q "TrustChain is running" "$tmp/server.out" && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "server exited"
    sleep 0.2
  done
  fail "server not ready"
}

# The children in $tmp/data/server.status: "pid state restarts" of NAME,
# its pid, and a wait (up to 60 s) until NAME is ready (and, given
# NOT_PID, is not that process any more).
status_of() { awk -v n="$1" '$1 == n { print $2, $3, $4 }' "$tmp/data/server.status" 2>/dev/null; }
pid_of() { status_of "$1" | awk '{ print $1 }'; }
wait_ready() { # wait_ready NAME [NOT_PID]
  for _ in $(seq 1 300); do
    kill -0 "$server_pid" 2>/dev/null || fail "server exited"
    read -r pid state _ < <(status_of "$1" || true) || true
    if [ "${state:-}" = ready ] && [ "${pid:-0}" != 0 ] && [ "$pid" != "${2:-}" ]; then
      return 0
    fi
    sleep 0.2
  done
  fail "$1 not ready (status: $(status_of "$1"))"
}
