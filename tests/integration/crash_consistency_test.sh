#!/usr/bin/env bash
# Crash consistency of the audit journal and the CT log's LevelDB store
# (issue 16, part 6): the dev server
# runs with tests/support/io_recorder.c preloaded, which records every
# write, fdatasync and truncation of data/journal/audit.jsonl with its
# CLOCK_MONOTONIC time, while clients issue certificates (issue_load.py
# records when each one was received). crash_states.py then rebuilds the
# file a power failure could leave at every sync window (the synced state,
# every in-order prefix of the later writes with a torn last one, and random
# subsets of them) and checks that each opens and holds every certificate
# acknowledged before the next sync; a sample of the states, failures
# included, goes through `trustchainctl journal verify` too, which must
# agree. Afterwards the real journal verifies, and a kill -9 of the signer
# mid-load is followed by a restart that keeps every acknowledged record.
# Usage: crash_consistency_test.sh BINDIR RECORDER_SO SOURCE_DIR [CALLS]
set -euo pipefail
bindir=$(cd "$1" && pwd)
recorder=$2
src=$(cd "$3" && pwd)
calls=${4:-${TC_CRASH_CALLS:-120}}
py=/usr/bin/python3
. "$(dirname "$0")/server_lib.sh" crash
python_stubs
$py -c 'import cryptography' 2>/dev/null || fail "needs python3-cryptography"
# The checker itself must catch an acknowledgement made before its sync.
$py "$src/tests/integration/crash_states.py" --self-test || fail "crash_states.py self-test"

cp "$recorder" "$tmp/io_recorder.so"
chmod 755 "$tmp/io_recorder.so"
mkdir -p "$tmp/rec"
chmod 1777 "$tmp/rec"
dev_config
# The recorder runs in every process of the server (children inherit the
# environment through fexecve) and opens its log before any sandbox. It
# comes before the ASan runtime in the library list, which ASan must allow.
export TC_IOREC_DIR=$tmp/rec TC_IOREC_MATCH='journal/audit.jsonl|ct/log/'
export LD_PRELOAD=$tmp/io_recorder.so ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0
start_server
unset LD_PRELOAD
wait_ready gateway

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" \
  -subj /CN=crash.hypermesh.online -out "$tmp/csr.pem" 2>/dev/null || fail "cannot make a CSR"
target=127.0.0.1:$((base + 3))
load() { # load COUNT THREADS
  $py "$src/tests/integration/issue_load.py" issue "$tmp/gen" "$target" "$tmp/data" "$tmp/csr.pem" \
    "$tmp/calls.jsonl" "$1" "$2" crash.hypermesh.online
}
out=$(load "$calls" 16) || fail "load"
echo "load: $out"
case "$out" in ok=0\ *) fail "nothing issued: $out" ;; esac

ls "$tmp"/rec/*.rec >/dev/null 2>&1 || fail "the recorder wrote nothing (LD_PRELOAD not honoured?)"
$py "$src/tests/integration/crash_states.py" "$tmp/rec" "$tmp/calls.jsonl" "$tmp/states" \
  --samples "${TC_CRASH_SAMPLES:-6}" | tee "$tmp/states.out" || fail "a crash state lost or broke the journal"

# The CT log's LevelDB store: crash points drawn among its syncs, each
# rebuilt state opened by ct_store_check, which looks for every entry whose
# SCT a client had received.
$py "$src/tests/integration/ct_crash_states.py" "$tmp/rec" "$tmp/calls.jsonl" "$bindir/ct_store_check" "$tmp/ct-states" \
  --states "${TC_CRASH_CT_STATES:-30}" || fail "a crash state of the CT store lost an acknowledged entry"
# ... and it notices a loss: with every acknowledgement moved to time 0,
# the early crash states lack entries and must be reported.
$py -c 'import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r.get("ok"):
        r["ack_mono"] = 0
    print(json.dumps(r))' < "$tmp/calls.jsonl" > "$tmp/calls-early.jsonl"
if $py "$src/tests/integration/ct_crash_states.py" "$tmp/rec" "$tmp/calls-early.jsonl" "$bindir/ct_store_check" \
  "$tmp/ct-states-early" --states 10 > "$tmp/ct-early.out"; then
  fail "ct_crash_states.py did not notice entries missing from early states"
fi

# trustchainctl must judge the sampled states as crash_states.py did.
checked=0
for f in "$tmp"/states/*.jsonl; do
  [ -e "$f" ] || continue
  checked=$((checked + 1))
  if "$bindir/trustchainctl" --config "$tmp/trustchain.yaml" journal verify "$f" >/dev/null 2>&1; then
    case "$(basename "$f")" in bad-*) fail "trustchainctl accepts $f, crash_states.py does not" ;; esac
  else
    case "$(basename "$f")" in ok-*) fail "trustchainctl refuses $f, crash_states.py accepts it" ;; esac
  fi
done
[ "$checked" -gt 0 ] || fail "no state sampled"
ok "trustchainctl journal verify agrees on $checked sampled crash states"

# A real crash: kill -9 the signer while calls run; its restart reopens the
# journal (a torn tail is cut) and keeps every record a client saw.
signer=$(pid_of signer)
load 40 8 > "$tmp/load2.out" &
loader=$!
sleep 1
kill -KILL "$signer"
wait "$loader" || true
echo "load across the kill: $(cat "$tmp/load2.out")"
wait_ready signer "$signer"
out=$(load 8 4) || fail "load after the restart"
case "$out" in ok=8\ *) ;; *) fail "after the signer restart: $out" ;; esac
"$bindir/trustchainctl" --config "$tmp/trustchain.yaml" journal verify > "$tmp/verify.out" 2>&1 ||
  { cat "$tmp/verify.out"; fail "journal verify after kill -9"; }
$py - "$tmp/calls.jsonl" "$tmp/data/journal/audit.jsonl" <<'PY' || fail "an acknowledged certificate is missing from the journal"
import json, sys
calls, journal = sys.argv[1:3]
digests = set()
with open(journal, "rb") as f:
    for line in f:
        digests.add(json.loads(line.split(b"\t")[0]).get("digest"))
acked = [json.loads(l)["digest"] for l in open(calls) if json.loads(l).get("ok")]
missing = [d for d in acked if d not in digests]
print("journal holds %d of %d acknowledged certificates" % (len(acked) - len(missing), len(acked)))
sys.exit(1 if missing else 0)
PY
ok "audit journal crash consistency"
