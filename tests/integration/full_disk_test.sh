#!/usr/bin/env bash
# A full disk under load: the data directory is a 48 MiB tmpfs (in a mount
# namespace of this test) that full_disk.py fills up while it issues,
# submits add-chain and sends DNS updates. While full: Issue UNAVAILABLE
# (the signer refuses to sign without its journal record), add-chain 503,
# updates SERVFAIL. Once the file is removed every kind of call succeeds
# again with no restart; nothing acknowledged is lost, and after a restart
# of the whole server every store opens and still holds all of it.
# Usage: full_disk_test.sh BINDIR SOURCE_DIR   (root: mounts a tmpfs)
set -euo pipefail
bindir=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
py=/usr/bin/python3
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (mounts a tmpfs)"; exit 77; fi
if [ -z "${TC_FULL_DISK_NS:-}" ]; then
  export TC_FULL_DISK_NS=1
  exec unshare -m -n sh -c 'mount --make-rprivate / && ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
. "$(dirname "$0")/server_lib.sh" full-disk
for tool in nsupdate dig; do command -v $tool > /dev/null || fail "needs $tool (bind9-dnsutils)"; done
python_stubs

mkdir -p "$tmp/data"
mount -t tmpfs -o size=48m,mode=0750 tc-full-disk "$tmp/data"
cleanup_extra() {
  # The tmpfs goes with the test; TC_KEEP_TEST_DIR keeps a copy of it.
  [ -z "${TC_KEEP_TEST_DIR:-}" ] || cp -a "$tmp/data" "$tmp/data.kept" 2>/dev/null || true
  umount -l "$tmp/data" 2>/dev/null || true
}

"$bindir/trustchainctl" dns tsig new upd > "$tmp/upd.key"
cp "$tmp/upd.key" "$tmp/tsig.keys"
own_tsig_keys
# Final certificates stay out of the log, so add-chain of them writes.
dev_config
sed -i "s|^dns:|dns:\n  tsig_keys_file: $tmp/tsig.keys\n  update_policy:\n    - {key: upd, names: [\"_acme-challenge.*\"], types: [TXT]}|; s|^ct:|ct:\n  log_stoq_certificates: false|" \
  "$tmp/trustchain.yaml"
start_server
for c in signer transparency resolver gateway; do wait_ready "$c"; done

args=(--gen "$tmp/gen" --grpc "127.0.0.1:$((base + 3))" --ct "127.0.0.1:$((base + 2))" --dns-port "$base"
      --ctl "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" --data "$tmp/data" --key "$tmp/upd.key"
      --state "$tmp/state.json")
$py "$src/tests/integration/full_disk.py" run "${args[@]}" || fail "full disk checks"
grep -q "audit journal write failed" "$tmp/server.log" || fail "the signer never logged a failed journal write"
kill -0 "$server_pid" 2>/dev/null || fail "server exited"

# Every store opens again after a clean restart and holds what was acknowledged.
kill -TERM "$server_pid"
for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null && fail "server did not stop"
mv "$tmp/server.log" "$tmp/server.log.1"
start_server
for c in signer transparency resolver gateway; do wait_ready "$c"; done
$py "$src/tests/integration/full_disk.py" verify "${args[@]}" || fail "after the restart"
ok "full disk: refused the right way while full, resumed by itself, nothing acknowledged lost"
