fn main() {
    std::process::exit(onrecord_cli::main())
}
