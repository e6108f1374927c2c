#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time: tools/fuzz.sh [SECONDS] (default 60).
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Seeds come from fuzz/seeds/<target>; the growing corpus goes to
# fuzz/corpus/<target> and any crash to fuzz/artifacts/<target> (both ignored by git).
# Exits non-zero if any target found a crash.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz.sh: no nightly toolchain (rustup toolchain install nightly)" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is not installed (cargo install cargo-fuzz)" >&2
    exit 2
fi
status=0
for target in $(cargo fuzz list); do
    mkdir -p "corpus/$target" "seeds/$target"
    echo "== $target: ${seconds}s"
    if ! cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 -timeout=10 2>"/tmp/fuzz-$target.log"; then
        echo "!! $target found a crash: see fuzz/artifacts/$target and /tmp/fuzz-$target.log"
        status=1
    fi
    grep -E "^(#[0-9]+: *DONE|Done [0-9]+ runs|SUMMARY|==[0-9]+== ERROR)" "/tmp/fuzz-$target.log" | tail -3 || true
    tail -1 "/tmp/fuzz-$target.log"
done
exit $status
