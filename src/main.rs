//! The `onrecord` binary: everything lives in `onrecord-cli`; this only exits with its code.

fn main() {
    std::process::exit(onrecord_cli::main())
}
