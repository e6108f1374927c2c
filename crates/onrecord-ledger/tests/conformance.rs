//! The backend conformance suite on the in-memory backend.
//!
//! Built only with the `conformance` feature. `cargo test --workspace` (what
//! CI runs) has it: onrecord-sled's dev-dependency on this crate asks for
//! it, and cargo unifies the features of the packages it builds, so this
//! crate's own tests see it too. On this crate alone:
//! `cargo test -p onrecord-ledger --features conformance`.
#![cfg(feature = "conformance")]

mod memory {
    onrecord_ledger::conformance_tests!(onrecord_ledger::conformance::MemoryBackend::default());
}

/// The same suite with the engine reading each batch's keys ahead, as it
/// does on a store whose reads are round trips (PostgreSQL).
mod memory_reading_ahead {
    onrecord_ledger::conformance_tests!(
        onrecord_ledger::conformance::MemoryBackend::reading_ahead()
    );
}
