//! `decode_recorded` on arbitrary stored bytes: a record or an error, never a
//! panic, an abort or a huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onrecord_ledger::envelope::{decode_recorded, encode_payload};

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = decode_recorded(data, 1) {
        // Whatever decodes can be written again.
        let _ = encode_payload(&rec.event);
        let _ = onrecord_core::write_line(&rec);
    }
});
