#!/bin/bash
# A/B of two builds of onrecord-bench on the engine's phases (bulk, verify,
# replay-paired, query, single), each side on its own fresh store, in two
# rounds that alternate which side goes first. Used for the engine seam
# (issue 13; docs/benchmarks.md, "The engine seam, before and after").
#
#   AB=/tmp/ab; mkdir -p $AB/before $AB/after
#   cp <old build>/{onrecord-bench,onrecord} $AB/before/
#   cp target/release/{onrecord-bench,onrecord} $AB/after/
#   AB=$AB N=1000000 tools/engine-ab.sh    # figures in $AB/{before,after}-{1,2}.jsonl
set -u
N=${N:-1000000}
AB=${AB:-/tmp/engine-ab}
for round in 1 2; do
  if [ $round = 1 ]; then order="before after"; else order="after before"; fi
  for side in $order; do
    bin=$AB/$side/onrecord-bench
    dir=$AB/store-$side-$round
    rm -rf $dir; mkdir -p $dir
    out=$AB/$side-$round.jsonl
    : > $out
    echo "[$(date +%T)] round $round $side" >> $AB/progress.log
    for phase in bulk verify replay-paired query single; do
      extra=""
      if [ $phase = query ]; then
        prop=$(head -1 $out | python3 -c "import json,sys; print(json.load(sys.stdin)['workload']['hot_proposition'])")
        asof=$(head -1 $out | python3 -c "import json,sys; print(json.load(sys.stdin)['workload']['as_of'])")
        extra="--proposition $prop --as-of $asof"
      fi
      $bin --phase $phase --dir $dir --events $N --onrecord-bin $AB/$side/onrecord $extra >> $out 2>> $AB/$side-$round.err
      echo "[$(date +%T)]   $phase exit $?" >> $AB/progress.log
    done
    rm -rf $dir
  done
done
echo "[$(date +%T)] done" >> $AB/progress.log
