//! Traces a Go program to a text trace on stdout (a development aid).
use std::path::PathBuf;
use workloads::golang::{trace_into, GoTraceOptions};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut escape = workloads::golang::Escape::Gcwb;
    if args.first().is_some_and(|a| a == "--escape-go") {
        escape = workloads::golang::Escape::Go;
        args.remove(0);
    }
    let paths: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
    let mut sink = workloads::sink::MemorySink::new();
    match trace_into(&paths, &GoTraceOptions { capture_output: true, escape, ..Default::default() }, &mut sink) {
        Ok(s) => {
            print!("{}", s.output);
            let trace = sink.into_trace();
            eprintln!("{} events", trace.events.len());
            match workloads::analysis::analyze(&trace) {
                Ok(a) => eprintln!("analysis ok: {} blocks", a.blocks.len()),
                Err(e) => eprintln!("analysis: {e}"),
            }
            let mut out = Vec::new();
            workloads::text::write_text(&trace, &mut out).unwrap();
            std::fs::write("/tmp/gt/out.gct", out).unwrap();
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}
