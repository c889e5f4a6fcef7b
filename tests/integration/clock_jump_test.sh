#!/usr/bin/env bash
# Clock jumps under load: the whole dev server and its clients run under
# libfaketime (Debian's faketime) reading one offset file, which
# clock_jump.py moves back 2 h (and kills the CT log then), forward to now,
# forward 2 and 8 days, and back 1 day, while it issues and reads tree
# heads. Checked: SCT and tree-head timestamps never decrease, every
# notBefore within policy, the zone's RRSIGs valid at each new time, DoQ and
# the gateway's TLS served with valid certificates, every SCT's entry in the
# log, and `trustchainctl journal verify` OK afterwards.
# Usage: clock_jump_test.sh BINDIR SOURCE_DIR
set -euo pipefail
bindir=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
py=/usr/bin/python3
if [ "$(id -u)" = 0 ] && [ -z "${TC_CLOCK_NETNS:-}" ]; then
  export TC_CLOCK_NETNS=1
  exec unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
. "$(dirname "$0")/server_lib.sh" clock
lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n 1)
[ -n "$lib" ] || { echo "SKIP: needs libfaketime (Debian package faketime)"; exit 77; }
python_stubs

# The offset file lives under /dev, which every child's Landlock rules let
# it read; it is re-read at most once a second.
offset_file=$(mktemp /dev/shm/tc-clock-XXXXXX)
chmod 644 "$offset_file"
echo "+172800" > "$offset_file"  # clock_jump.py BASE - 1 day
export LD_PRELOAD=$lib FAKETIME_TIMESTAMP_FILE=$offset_file FAKETIME_CACHE_DURATION=1 \
  FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0
# libfaketime comes before the sanitizer runtime in the library list.
export ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0

# libfaketime shares its state through a POSIX semaphore and shared memory
# made by the first process (the supervisor, root) with mode 0600; the
# children, each its own user, could not open them and would run on the real
# clock. They are opened up as soon as they exist (the dev ceremony runs
# before any child starts).
( unset LD_PRELOAD
  for _ in $(seq 1 1200); do
    pid=$(pgrep -f "trustchain-server --config $tmp/trustchain.yaml" | head -n 1)
    if [ -n "$pid" ] && [ -e "/dev/shm/sem.faketime_sem_$pid" ] && [ -e "/dev/shm/faketime_shm_$pid" ]; then
      chmod 666 "/dev/shm/sem.faketime_sem_$pid" "/dev/shm/faketime_shm_$pid"
      exit 0
    fi
    sleep 0.05
  done ) &
opener=$!
cleanup_extra() {
  kill "$opener" 2>/dev/null || true
  rm -f "$offset_file" "$offset_file.tmp"
  [ -z "$server_pid" ] || rm -f "/dev/shm/sem.faketime_sem_$server_pid" "/dev/shm/faketime_shm_$server_pid"
}
dev_config
# Not under test here, and its gRPC client cannot reach the gateway under
# libfaketime (start_server waits for every child).
sed -i 's|^  listen: 127.0.0.1:'"$((base + 4))"'$|  listen: "off"|' "$tmp/trustchain.yaml"
start_server
for c in signer transparency resolver gateway; do wait_ready "$c"; done
# DoQ serves once the resolver has its certificate.
for _ in $(seq 1 150); do
  "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" dig +quic -p $((base + 1)) @127.0.0.1 \
    ca.trust.hypermesh.online A > /dev/null 2>&1 && break
  sleep 0.2
done

# Bounded on the real clock (timeout runs without libfaketime): a run that
# overstays gets SIGUSR1 (clock_jump.py prints every thread's stack) and is
# killed 20 s later, well inside ctest's limit, instead of hanging.
env -u LD_PRELOAD timeout --signal=USR1 --kill-after=20 600 env LD_PRELOAD="$lib" \
  $py "$src/tests/integration/clock_jump.py" --gen "$tmp/gen" --grpc "127.0.0.1:$((base + 3))" \
  --ct "127.0.0.1:$((base + 2))" --dns-port "$base" --doq-port $((base + 1)) \
  --ctl "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" --data "$tmp/data" \
  --offset-file "$offset_file" || fail "clock jump checks"
out=$("$bindir/trustchainctl" --config "$tmp/trustchain.yaml" journal verify) || fail "journal verify: $out"
echo "$out"
kill -0 "$server_pid" 2>/dev/null || fail "server exited"
ok "clock jumps: timestamps monotonic, certificates and signatures valid at every time, journal verifies"
