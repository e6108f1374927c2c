//! Decoding stored bytes never panics: arbitrary bytes, and valid records with
//! bytes flipped, cut or appended, give a record or a `StoreError`.

use onrecord_core::{EventId, Party, PartyId, PartyKind, Proposition, PropositionId, When, Window};
use onrecord_ledger::StoreError;
use onrecord_ledger::envelope::{
    EnvelopeV1, EnvelopeV2, StoredEventV1, decode_envelope, decode_recorded, encode_payload,
    encode_record, encode_record_v2,
};
use proptest::prelude::*;

fn valid_records() -> Vec<Vec<u8>> {
    let day = |s: &str| s.parse::<When>().unwrap();
    let events = [
        onrecord_core::Event::PartyRegistered(Party {
            id: PartyId::new("peskov").unwrap(),
            name: "Dmitry Peskov".into(),
            kind: PartyKind::Person,
            speaks_for: Some(PartyId::new("kremlin").unwrap()),
            aliases: Vec::new(),
        }),
        onrecord_core::Event::PropositionOpened(Proposition {
            id: PropositionId::new("paris-meeting").unwrap(),
            text: "They meet".into(),
            criteria: Some("Any talk".into()),
            window: Some(Window::new(day("2018-11-10"), day("2018-11-12")).unwrap()),
        }),
    ];
    let v1 = events.iter().enumerate().map(|(i, e)| {
        encode_record(&EnvelopeV1 {
            seq: i as u64 + 1,
            event_id: *EventId::v7_at(1_700_000_000_000_000).as_bytes(),
            event_type: e.event_type().code(),
            recorded_at: 1_541_500_000_000_000,
            prev_hash: [7; 32],
            payload: encode_payload(e),
        })
    });
    let v2 = events.iter().enumerate().map(|(i, e)| {
        encode_record_v2(&EnvelopeV2 {
            seq: i as u64 + 1,
            event_id: *EventId::v7_at(1_700_000_000_000_000).as_bytes(),
            event_type: e.event_type().code(),
            recorded_at: 1_541_500_000_000_000,
            prev_hash: [7; 32],
            payload: encode_payload(e),
            recorded_by: "local:alice".into(),
        })
    });
    v1.chain(v2).collect()
}

fn decode_never_panics(bytes: &[u8]) {
    match decode_recorded(bytes, 42) {
        Ok(rec) => {
            // Whatever decodes re-encodes to a payload that decodes again.
            let again = encode_payload(&rec.event);
            let stored: StoredEventV1 =
                bincode::serde::decode_from_slice(&again, bincode::config::standard())
                    .unwrap()
                    .0;
            assert_eq!(stored.event_type(), rec.event.event_type());
        }
        // Payload errors name the seq the envelope claims, which a mutation may change.
        Err(StoreError::Corrupt { .. } | StoreError::UnknownFormat { seq: 42, .. }) => {}
        Err(other) => panic!("unexpected error kind: {other:?}"),
    }
    let _ = decode_envelope(bytes, 42);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_bytes_decode_to_an_error_or_a_record(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        decode_never_panics(&bytes);
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_version_prefix_never_panic(
        version in 1u16..=2,
        bytes in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut v = version.to_be_bytes().to_vec();
        v.extend(bytes);
        decode_never_panics(&v);
    }

    #[test]
    fn mutated_valid_records_never_panic(
        which in 0usize..4,
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in any::<usize>(),
        tail in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut bytes = valid_records()[which].clone();
        for (at, b) in flips {
            let i = at % bytes.len();
            bytes[i] = b;
        }
        let keep = cut % (bytes.len() + 1);
        bytes.truncate(keep);
        bytes.extend(tail);
        decode_never_panics(&bytes);
    }
}

/// Found by `cargo fuzz run decode_recorded`: a payload length prefix of
/// ~2^56 made bincode try to allocate it (an abort, not an error) before the
/// decode limit was set.
#[test]
fn a_huge_length_prefix_is_an_error_not_an_allocation() {
    let bytes = include_bytes!("fuzz-crash-huge-length.bin");
    assert!(decode_recorded(bytes, 1).is_err());
}
