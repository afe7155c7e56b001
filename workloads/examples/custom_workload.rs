//! A researcher's own workload, written with gcwb's trace builder: main
//! keeps a linked list in a global while worker goroutines allocate
//! short-lived request buffers. Writes `custom.gctb`; replay it with
//! `gcwb run custom.gctb --verify`.
//!
//! Run: `cargo run --release -p gcwb-workloads --example custom_workload`

use std::fs::File;
use std::io::BufWriter;
use workloads::builder::{gl, l, BinarySink, BuildError, Builder, NIL};
use workloads::{Cause, Placement};

fn main() -> Result<(), BuildError> {
    let file = BufWriter::new(File::create("custom.gctb")?);
    let mut b = Builder::new(BinarySink::new(file), 1)?; // one global: var head *node
    let main = b.main();
    b.call(main, 2, &[])?; // func main(): l0 = new node, l1 = scratch
    for i in 0..1000 {
        // head = &node{next: head}: the node escapes through the global.
        b.alloc(main, l(0), 32, 1, Cause::New, Placement::Auto)?;
        b.set(main, l(0).slot(0), gl(0).into())?;
        b.set(main, gl(0), l(0).into())?;
        if i % 100 == 0 {
            // go handle(): a worker with one local, allocating a request buffer
            // that dies with the request (it stays on the worker's stack).
            let g = b.go(main, 1, &[])?;
            b.begin(g, "req")?;
            b.alloc(g, l(0), 4096, 0, Cause::MakeSlice, Placement::Auto)?;
            b.work(g, 2_000)?;
            b.end(g, "req")?;
            b.exit(g)?;
        }
    }
    b.set(main, gl(0), NIL)?; // drop the list: everything is garbage now
    b.gc(main)?;
    let out = b.finish()?;
    drop(out);
    println!("wrote custom.gctb");
    Ok(())
}
