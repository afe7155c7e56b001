//! The `gcwb` binary: parses the command line and hands over to
//! [`harness::cli`].

use clap::Parser;

fn main() {
    // Behave like a Unix filter when stdout is closed early (`gcwb ... | head`):
    // die quietly of SIGPIPE instead of panicking on a failed print.
    // SAFETY: resetting a signal's disposition to its default at the start of
    // main, before any other thread exists, races with nothing.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = harness::cli::Cli::parse();
    std::process::exit(harness::cli::main_with(cli));
}
