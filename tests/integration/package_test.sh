#!/usr/bin/env bash
# The Debian package end to end: `cpack -G DEB` in BUILD_DIR, the package's
# contents, `dpkg -i` (maintainer scripts: the service users through
# ops/create-users.sh, /var/lib/trustchain), `systemd-analyze verify` of the
# installed unit, then a production start as the unit does it: the packaged
# configuration with only the data directory (and the SoftHSM configuration)
# moved to a temporary directory, a SoftHSM token and keys made by the
# documented ceremony, ExecStart as the unit writes it, run
# under the unit's CapabilityBoundingSet and NoNewPrivileges (setpriv), with a
# NOTIFY_SOCKET that must receive READY=1; `trustchainctl status` healthy;
# SIGTERM stops it; `dpkg --purge` removes the programs.
# As root only (dpkg); runs itself in a private network namespace (the
# production configuration binds :53, :853, :6962, :50051).
# Usage: [TC_DEB=trustchain_*.deb] package_test.sh BUILD_DIR
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (dpkg -i)"; exit 77; }
build=$(cd "$1" && pwd)
if [ -z "${TC_IN_NETNS:-}" ]; then
  exec env TC_IN_NETNS=1 unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
. "$(dirname "$0")/server_lib.sh" package
installed=
cleanup_extra() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ -n "$installed" ]; then
    dpkg --purge trustchain > "$tmp/purge.out" 2>&1 || cat "$tmp/purge.out"
    rmdir /var/lib/trustchain 2>/dev/null || true
  fi
}
if dpkg-query -W -f='${Status}' trustchain 2>/dev/null | grep -q "install ok installed"; then
  fail "a trustchain package is installed already: not touching it"
fi

# Build and inspect the package (TC_DEB: test that .deb instead, e.g. one
# made by cpack in a Release build directory).
if [ -n "${TC_DEB:-}" ]; then
  deb=$TC_DEB
else
  (cd "$build" && cpack -G DEB -B "$tmp/pkg" > "$tmp/cpack.out" 2>&1) || { cat "$tmp/cpack.out"; fail "cpack"; }
  deb=$(ls "$tmp"/pkg/trustchain_*.deb)
fi
dpkg-deb -c "$deb" > "$tmp/contents"
for f in ./usr/lib/trustchain/trustchain-server ./usr/lib/trustchain/trustchain-signer \
  ./usr/lib/trustchain/trustchain-transparency ./usr/lib/trustchain/trustchain-resolver \
  ./usr/lib/trustchain/trustchain-gateway ./usr/lib/trustchain/trustchainctl \
  ./usr/lib/trustchain/create-users.sh ./usr/bin/trustchain-server ./usr/bin/trustchainctl \
  ./lib/systemd/system/trustchain.service ./etc/trustchain/trustchain.yaml \
  ./usr/share/trustchain/hsm/softhsm2.conf.template ./usr/share/doc/trustchain/README.md; do
  grep -q " $f\( ->.*\)\?$" "$tmp/contents" || fail "package lacks $f"
done
dpkg-deb -I "$deb" > "$tmp/info"
grep -q "^ Depends:.*libgrpc" "$tmp/info" || fail "no library dependencies (dpkg-shlibdeps): $(cat "$tmp/info")"
[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = /etc/trustchain/trustchain.yaml ] ||
  fail "the configuration is not a conffile"
ok "$(basename "$deb"): $(grep -c . "$tmp/contents") entries, $(du -k "$deb" | cut -f1) KiB"

# Install: the maintainer scripts make the users and the data directory.
dpkg -i "$deb" > "$tmp/dpkg.out" 2>&1 || { cat "$tmp/dpkg.out"; fail "dpkg -i"; }
installed=1
for u in trustchain trustchain-signer trustchain-transparency trustchain-resolver trustchain-gateway; do
  getent passwd "$u" >/dev/null || fail "postinst did not create user $u"
done
[ "$(stat -c '%U:%G %a' /var/lib/trustchain)" = "root:trustchain 750" ] ||
  fail "/var/lib/trustchain is $(stat -c '%U:%G %a' /var/lib/trustchain)"
unit=/lib/systemd/system/trustchain.service
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify is not clean: $out"
ok "installed; users made; systemd-analyze verify clean"

# The packaged configuration, moved to $tmp/data.
data="$tmp/data"
conf="$tmp/trustchain.yaml"
sed -e "/^ *#/!s#/var/lib/trustchain#$data#g" -e "s#^  softhsm_conf: \"\"#  softhsm_conf: $data/hsm/softhsm2.conf#" \
  /etc/trustchain/trustchain.yaml > "$conf"
[ "$({ diff /etc/trustchain/trustchain.yaml "$conf" || true; } | grep -c '^>')" = 3 ] ||
  fail "expected 3 changed lines: data_dir, hsm.pin_file, hsm.softhsm_conf"
grep -q "^  dev: false" "$conf" || fail "the packaged configuration is not production"

# A SoftHSM token and the keys, as README "Operating" and hsm/CEREMONY.md say.
ctl=(/usr/bin/trustchainctl --config "$conf" --operator package-test)
install -d -m 0700 "$data/hsm" "$data/hsm/tokens"
sed "s#@DATA_DIR@#$data#" /usr/share/trustchain/hsm/softhsm2.conf.template > "$data/hsm/softhsm2.conf"
(umask 077 && head -c 24 /dev/urandom | base64 > "$data/hsm/user.pin" && head -c 24 /dev/urandom | base64 > "$tmp/so.pin")
ceremony() { "${ctl[@]}" ceremony "$@" >> "$tmp/ceremony.out" 2>&1 || { cat "$tmp/ceremony.out"; fail "ceremony $*"; }; }
ceremony init-token --so-pin-file "$tmp/so.pin"
ceremony create-audit-key
ceremony create-root
ceremony create-intermediate
ceremony create-key ct-log
ceremony create-key dns-zone
"${ctl[@]}" journal verify > /dev/null 2>&1 || fail "journal verify after the ceremony"
ok "SoftHSM token and keys made by the ceremony"

# The unit's own command lines, hardening and readiness protocol.
unit_value() { sed -n "s/^$1=//p" "$unit"; }
start=$(unit_value ExecStart | sed "s#/etc/trustchain/trustchain.yaml#$conf#")
caps=$(unit_value CapabilityBoundingSet | tr 'A-Z' 'a-z' | sed 's/cap_/,+/g; s/ //g') # ",+chown,+kill..."
[ "$(unit_value NoNewPrivileges)" = yes ] || fail "NoNewPrivileges is not set"
[ "$(unit_value Type)" = notify ] || fail "Type is not notify"
limited=(setpriv --bounding-set "-all$caps" --inh-caps=-all --no-new-privs --)
/usr/bin/python3 - "$tmp" "$start" "${limited[@]}" <<'PY' > "$tmp/notify.out" 2> "$tmp/server.log" &
# Plays systemd's part: a datagram socket in NOTIFY_SOCKET, the service
# started with it, every notification printed as it comes.
import os, shlex, socket, subprocess, sys
tmp, start, prefix = sys.argv[1], sys.argv[2], sys.argv[3:]
path = os.path.join(tmp, "notify.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
p = subprocess.Popen(prefix + shlex.split(start), env=dict(os.environ, NOTIFY_SOCKET=path),
                     stdout=open(os.path.join(tmp, "server.out"), "w"))
open(os.path.join(tmp, "server.pid"), "w").write(str(p.pid))
s.settimeout(0.5)
while p.poll() is None:
    try:
        print(s.recv(4096).decode().replace("\n", " "), flush=True)
    except socket.timeout:
        pass
print("exit", p.returncode, flush=True)
PY
notifier=$!
for _ in $(seq 1 900); do
  [ -s "$tmp/server.pid" ] && server_pid=$(cat "$tmp/server.pid")
  grep -q "READY=1" "$tmp/notify.out" && break
  kill -0 "$notifier" 2>/dev/null || { cat "$tmp/notify.out"; fail "server exited before READY=1"; }
  sleep 0.2
done
grep -q "READY=1" "$tmp/notify.out" || fail "no READY=1 within 180 s"
bnd=$(capsh --decode="$(awk '/^CapBnd/ { print $2 }' /proc/"$server_pid"/status)")
[ "$(echo "${bnd#*=}" | tr , '\n' | sed 's/^cap_//' | sort)" = "$(echo "$caps" | tr -d , | tr + '\n' | sed '/^$/d' | sort)" ] ||
  fail "server's bounding set is $bnd, not $caps"
[ "$(awk '/^NoNewPrivs/ { print $2 }' /proc/"$server_pid"/status)" = 1 ] || fail "server runs without no-new-privs"
ok "READY=1 received: $(head -n 1 "$tmp/notify.out")"

"${ctl[@]}" status > "$tmp/status.out" 2>&1 || { cat "$tmp/status.out"; fail "trustchainctl status"; }
cat "$tmp/status.out"
for child in signer transparency resolver gateway; do
  grep -q "^$child .* ready " "$tmp/status.out" || fail "status: $child not ready"
done
grep -q "^CT log  *tree size [0-9]*, tree head age" "$tmp/status.out" || fail "status: no CT figures"
grep -q "^DNS zone .* serial [0-9]" "$tmp/status.out" || fail "status: no zone serial"
grep -q "^  gateway  *expires" "$tmp/status.out" || fail "status: no gateway certificate expiry"
grep -qx healthy "$tmp/status.out" || fail "status: not healthy"
ok "trustchainctl status: healthy"

kill -TERM "$server_pid"
for _ in $(seq 1 150); do kill -0 "$notifier" 2>/dev/null || break; sleep 0.2; done
grep -q "^exit 0$" "$tmp/notify.out" || fail "server did not stop cleanly: $(tail -n 1 "$tmp/notify.out")"
server_pid=
dpkg --purge trustchain > "$tmp/purge.out" 2>&1 || { cat "$tmp/purge.out"; fail "dpkg --purge"; }
installed=
[ ! -e /usr/lib/trustchain/trustchain-server ] && [ ! -e /lib/systemd/system/trustchain.service ] ||
  fail "programs left after purge"
rmdir /var/lib/trustchain 2>/dev/null || true
ok "stopped on SIGTERM; purged"
