//! The `gcwb` binary: parses the command line and hands over to
//! [`harness::cli`].

use clap::Parser;

fn main() {
    let cli = harness::cli::Cli::parse();
    std::process::exit(harness::cli::main_with(cli));
}
