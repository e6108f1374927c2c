#!/usr/bin/env bash
# Reliability soak: the crash, concurrency, bad-input, tamper and disk-full
# tests against the real binary.
#   tools/soak.sh          the normal suite's sizes
#   tools/soak.sh --long   many more kill moments, bigger batches, more appends
#                          (tens of minutes; run it before a release)
# Figures are printed by the tests (run with --nocapture).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--long" ]]; then
    export ONRECORD_CRASH_ITERATIONS="${ONRECORD_CRASH_ITERATIONS:-300}"
    export ONRECORD_CRASH_BATCH_LINES="${ONRECORD_CRASH_BATCH_LINES:-3000}"
    export ONRECORD_CONC_PER_WORKER="${ONRECORD_CONC_PER_WORKER:-200}"
    export PROPTEST_CASES="${PROPTEST_CASES:-100000}"
fi
cargo test --test crash --test concurrency --test bad_input --test tamper_cli \
    -- --nocapture --test-threads=1
# Known to fail at times (sled after ENOSPC; docs/reliability.md): not in the normal suite.
cargo test --test disk_full -- --nocapture --include-ignored || echo "soak: disk_full FAILED (known sled issue)"

cargo test -p onrecord-core --test parse_props
cargo test -p onrecord-ledger --test decode_props
