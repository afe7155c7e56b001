//! Trace files on disk: choosing the codec by extension, loading, saving
//! atomically, converting.
//!
//! `.gct` is the text format ([`crate::text`]), `.gctb` the binary one
//! ([`crate::binary`]). [`load`] also accepts other names and tells the two
//! apart by the binary magic `GCTB`; [`save`] writes to a temporary file in
//! the target's directory and renames it into place, so a crash or an error
//! never leaves a half-written trace under the real name. [`load_into`]
//! streams a trace into any [`EventSink`] instead of building it in memory;
//! [`load_into_wire`] streams it into pass 1's hand-off form.

use crate::analysis::wire::{WireRecords, WireSink};
use crate::binary::{self, MAGIC, READ_CHUNK_BYTES};
use crate::error::{Result, TraceError};
use crate::model::Trace;
use crate::sink::{EventSink, MemorySink};
use crate::text::{self, EventFeed, SinkFeed};
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Read buffer for text traces.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// A trace file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `.gct`: the text format v1.
    Text,
    /// `.gctb`: the binary format.
    Binary,
}

impl Format {
    /// The format a file name's extension stands for (`.gct` or `.gctb`,
    /// case-insensitive), if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("gct") {
            Some(Format::Text)
        } else if ext.eq_ignore_ascii_case("gctb") {
            Some(Format::Binary)
        } else {
            None
        }
    }

    /// The extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "gct",
            Format::Binary => "gctb",
        }
    }
}

/// The name used for `path` in messages.
fn display_name(path: &Path) -> String {
    path.display().to_string()
}

/// Loads a trace: by extension, or for any other name by its first bytes
/// (`GCTB` means binary, anything else is read as text).
pub fn load(path: &Path) -> Result<Trace> {
    let mut sink = MemorySink::new();
    load_feed(path, &mut sink)?;
    Ok(text::named(sink, &display_name(path)))
}

/// Loads a trace into `sink`, choosing the codec as [`load`] does, and
/// streaming: the file is read through a buffer, never whole, and each
/// event goes to the sink as it is decoded (see [`text::read_text_into`] and
/// [`binary::read_binary_into`] for the calls the sink sees, and how its
/// errors are reported).
pub fn load_into<S: EventSink + ?Sized>(path: &Path, sink: &mut S) -> Result<()> {
    load_feed(path, &mut SinkFeed(sink))
}

/// [`load_into`] for a [`WireSink`]: a binary trace's records are decoded
/// straight into the sink's encoder, with no [`crate::model::Event`] in
/// between (a text trace's events go through [`EventSink::event`]). What the
/// sink is handed, and the errors, are [`load_into`]'s.
pub fn load_into_wire<S: WireSink + ?Sized>(path: &Path, sink: &mut S) -> Result<()> {
    let (name, format, reader) = open(path)?;
    match format {
        Format::Text => {
            text::read_text_feed(BufReader::with_capacity(READ_BUFFER_BYTES, reader), &name, &mut SinkFeed(sink))
        }
        Format::Binary => binary::read_binary_out(reader, &name, &mut WireRecords::new(sink), READ_CHUNK_BYTES),
    }
}

/// [`load_into`] for any [`EventFeed`].
fn load_feed<F: EventFeed + ?Sized>(path: &Path, feed: &mut F) -> Result<()> {
    let (name, format, reader) = open(path)?;
    match format {
        Format::Text => text::read_text_feed(BufReader::with_capacity(READ_BUFFER_BYTES, reader), &name, feed),
        Format::Binary => binary::read_binary_feed(reader, &name, feed, READ_CHUNK_BYTES),
    }
}

/// Opens `path` and tells its format: by extension, or for any other name
/// by its first bytes (which the reader returned still yields).
fn open(path: &Path) -> Result<(String, Format, Box<dyn Read>)> {
    let name = display_name(path);
    let io_err = |e| TraceError::io(name.as_str(), e);
    let mut file = File::open(path).map_err(io_err)?;
    let format = match Format::from_path(path) {
        Some(format) => format,
        None => {
            let mut head = [0u8; 4];
            let n = read_up_to(&mut file, &mut head).map_err(io_err)?;
            // Start again from the top without reopening (which could race
            // with a rename).
            let reader = io::Cursor::new(head).take(n as u64).chain(file);
            if head[..n] == crate::analysis::persist::MAGIC[..4] {
                let msg = "expected a trace, found a prepared trace (`gcwb prepare`'s output): give the trace it was prepared from";
                return Err(TraceError::invalid(name.as_str(), "byte offset 0", msg));
            }
            let format = if head[..n] == MAGIC[..] { Format::Binary } else { Format::Text };
            return Ok((name, format, Box::new(reader)));
        }
    };
    Ok((name, format, Box::new(file)))
}

/// Fills `buf` as far as the file allows; returns how many bytes were read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Saves `trace` in the format its extension names (`.gct` or `.gctb`; any
/// other extension is an error), atomically: written to a temporary file
/// next to `path`, synced, then renamed over it.
pub fn save(trace: &Trace, path: &Path) -> Result<()> {
    let name = display_name(path);
    let format = Format::from_path(path).ok_or_else(|| {
        TraceError::io(
            name.as_str(),
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot tell the trace format from the extension (expected .gct for text or .gctb for binary)",
            ),
        )
    })?;
    write_atomically(path, |file| match format {
        Format::Text => text::write_text(trace, file),
        Format::Binary => binary::write_binary(trace, file),
    })
    .map_err(|e| TraceError::io(name, e))
}

/// Converts a trace between formats (chosen by the extensions); the output
/// is written atomically as by [`save`].
pub fn convert(input: &Path, output: &Path) -> Result<()> {
    let trace = load(input)?;
    save(&trace, output)
}

/// Runs `write` on a fresh temporary file in `path`'s directory, then syncs
/// it and renames it to `path`; on any failure the temporary file is removed.
fn write_atomically(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let (tmp_path, mut file) = create_temporary_sibling(path)?;
    let result = write(&mut file).and_then(|()| file.flush()).and_then(|()| file.sync_all()).and_then(|()| {
        drop(file);
        fs::rename(&tmp_path, path)
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp_path);
    }
    result
}

/// A new file `.NAME.PID-N.tmp` next to `path`, created exclusively.
fn create_temporary_sibling(path: &Path) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "trace".to_string());
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{base}.{}-{n}.tmp", std::process::id()));
        match fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}
