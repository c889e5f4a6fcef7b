#!/usr/bin/env bash
# Creates the system users TrustChain's children run as (idempotent; root):
# the shared user and group BASE (default trustchain, = server.user) and one
# user per child, BASE-<child>, with a group of its own and BASE as its only
# supplementary group. The validator (ACME challenge checks: connects where
# untrusted clients say) and metrics (serves /metrics) get no supplementary
# group at all: they read none of TrustChain's files. Also run by the Debian package's postinst.
set -euo pipefail
base=${1:-trustchain}
children=(signer transparency resolver gateway acme)
nologin=/usr/sbin/nologin
if ! getent group "$base" >/dev/null; then
  groupadd --system "$base"
fi
if ! getent passwd "$base" >/dev/null; then
  echo "trustchain: creating the system user '$base'"
  useradd --system --no-create-home --home-dir /nonexistent --shell "$nologin" --gid "$base" "$base"
fi
for c in "${children[@]}"; do
  u="$base-$c"
  if ! getent passwd "$u" >/dev/null; then
    echo "trustchain: creating the system user '$u'"
    useradd --system --no-create-home --home-dir /nonexistent --shell "$nologin" --user-group \
      --groups "$base" "$u"
  elif ! id -nG "$u" | tr ' ' '\n' | grep -qx "$base"; then
    usermod -a -G "$base" "$u"
  fi
done
# trustchain-metrics (serves /metrics) reads none of our files either.
for c in validator metrics; do
  u="$base-$c"
  if ! getent passwd "$u" >/dev/null; then
    echo "trustchain: creating the system user '$u'"
    useradd --system --no-create-home --home-dir /nonexistent --shell "$nologin" --user-group "$u"
  fi
done
