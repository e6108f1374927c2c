//! The backend conformance suite on the in-memory backend.
//!
//! Built only with the `conformance` feature. `cargo test --workspace` (what
//! CI runs) has it: onrecord-sled's dev-dependency on this crate asks for
//! it, and cargo unifies the features of the packages it builds, so this
//! crate's own tests see it too. On this crate alone:
//! `cargo test -p onrecord-ledger --features conformance`.
#![cfg(feature = "conformance")]

onrecord_ledger::conformance_tests!(onrecord_ledger::conformance::MemoryBackend::default());
