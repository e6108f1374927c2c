//! Every generated draft of a --quick sized workload validates when appended
//! to a fresh ledger, in the bench's batches, and the singles after it.

use onrecord_bench::encode::encode_workload;
use onrecord_bench::ops::{self, BATCH};
use onrecord_bench::workload::{Workload, WorkloadConfig};
use onrecord_ledger::AppendRequest;

#[test]
fn a_quick_workload_appends_to_a_fresh_ledger_and_verifies() {
    let config = WorkloadConfig {
        seed: 42,
        events: 20_000,
        singles: 20,
    };
    let w = Workload::generate(config);
    let dir = tempfile::tempdir().unwrap();
    let ledger = onrecord_sled::create(&dir.path().join("l"), &ops::options()).unwrap();
    let (_, ids) = ops::append_log(&ledger, &w, BATCH).unwrap();
    assert_eq!(ids.len(), 20_000);
    assert_eq!(ledger.head().seq, 20_000);
    for ev in &w.singles {
        ledger
            .append(AppendRequest::new(
                ev.draft.clone(),
                onrecord_core::Recorder::new("bench").unwrap(),
            ))
            .unwrap();
    }
    assert_eq!(ledger.head().seq, 20_020);
    let report = ledger.verify(&mut |_, _| {}).unwrap();
    assert_eq!((report.records, report.damage), (20_020, None));

    // The baselines' records are the same events, byte for byte in size, in one chain.
    let (log, singles) = encode_workload(&w, 1_700_000_000_000_000);
    assert_eq!((log.len(), singles.len()), (20_000, 20));
    let (n, positions) = ops::fold_all(&ledger).unwrap();
    assert_eq!(n, 20_020);
    assert!(positions > 0);
}
