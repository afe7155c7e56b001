//! Build script: a fingerprint of the sources that define what a prepared
//! trace means (the trace model and every analysis), so that a prepared
//! trace written by one build is refused by a build whose analyses differ
//! (see `src/analysis/persist.rs`).

use std::fs;
use std::path::Path;

fn main() {
    let mut files: Vec<_> = fs::read_dir("src/analysis")
        .expect("src/analysis exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.push(Path::new("src/model.rs").to_path_buf());
    files.sort();
    // FNV-1a, 64 bits, over each file's name and contents.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.to_string_lossy().replace('\\', "/");
        for &b in name.as_bytes().iter().chain(&fs::read(f).expect("readable source")) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rerun-if-changed=src/analysis");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("fingerprint.rs");
    fs::write(out, format!("{h:#018x}\n")).expect("OUT_DIR is writable");
}
