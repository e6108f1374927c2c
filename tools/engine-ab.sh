#!/bin/bash
# A/B of the engine seam (issue 13): the same phases of onrecord-bench at 1M
# events, before (eecb89e) and after, alternating sides each round.
set -u
N=${N:-1000000}
for round in 1 2; do
  if [ $round = 1 ]; then order="before after"; else order="after before"; fi
  for side in $order; do
    bin=/work/ab/$side/onrecord-bench
    dir=/work/ab/store-$side-$round
    rm -rf $dir; mkdir -p $dir
    out=/work/ab/$side-$round.jsonl
    : > $out
    echo "[$(date +%T)] round $round $side" >> /work/ab/progress.log
    for phase in bulk verify replay-paired query single; do
      extra=""
      if [ $phase = query ]; then
        prop=$(head -1 $out | python3 -c "import json,sys; print(json.load(sys.stdin)['workload']['hot_proposition'])")
        asof=$(head -1 $out | python3 -c "import json,sys; print(json.load(sys.stdin)['workload']['as_of'])")
        extra="--proposition $prop --as-of $asof"
      fi
      $bin --phase $phase --dir $dir --events $N --onrecord-bin /work/ab/$side/onrecord $extra >> $out 2>> /work/ab/$side-$round.err
      echo "[$(date +%T)]   $phase exit $?" >> /work/ab/progress.log
    done
    rm -rf $dir
  done
done
echo "[$(date +%T)] done" >> /work/ab/progress.log
