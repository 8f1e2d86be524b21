fn main() {
    if let Err(e) = cla_tracker::cli::main() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
