//! A prepared trace on disk (`.gcwbp`): what pass 1 made of a trace, and
//! the oracle's death times where they were computed, written once by
//! `gcwb prepare` so that every later command loads them instead of
//! validating and analysing the trace again.
//!
//! Pass 1 runs the whole trace through a pointer machine (validation,
//! escape analysis, dependencies), which costs more than a replay of the
//! trace with no collector; reading its result back costs about what
//! reading the file costs. A prepared file is derived data, like an object
//! file: it is tied to the build that wrote it. Its header carries a
//! fingerprint of the sources that define its meaning (the trace model and
//! the analyses, hashed by `build.rs`), and a build whose fingerprint
//! differs refuses it with a message saying to prepare the trace again.
//!
//! # Layout (all integers little-endian)
//!
//! ```text
//! magic "GCWBPREP", format u32, fingerprint u64, gcwb version (str)
//! origin: trace name (str), trace bytes u64, trace CRC-32 u32
//! file (str), globals u32, peak_goroutines u64, events_by_kind 10 × u64
//! blocks:     n u64, n × 28 bytes (size u64, alloc_event u32, ptr_slots u32,
//!             why.event u32, why.via u32, why tag u8, cause u8, requested u8, 0u8)
//! goroutines: n u64, n × (id u32, events u32, spawned_at u32 or u32::MAX)
//! programs:   one per goroutine: steps u32, code (bytes), derefs (bytes),
//!             dep_target (u64s)
//! tags:       n u64, n × str
//! order:      kind u8 (0 narrow: u16s, 1 wide: u32s, 2 runs: len u64,
//!             starts u32s, goroutines u32s)
//! positions:  kind u8 (0 none, 1 lines, 2 byte offsets), last u64,
//!             checkpoints u64s, deltas bytes, far: n u64, n × (u32, u64)
//! block names: 0u8, or 1u8 and u64s
//! deaths:     for placements with stack blocks, then without: 0u8 (not
//!             computed), or 1u8, death times (u32s, u32::MAX: never),
//!             peak bytes u64, peak event u32, heap blocks u64, stack
//!             blocks u64, heap bytes u64, stack bytes u64
//! CRC-32 of every byte before it, u32
//! ```
//! A str is its length (u64) and UTF-8 bytes; `bytes`, `u32s`, ... are a
//! count (u64) and the elements.
//!
//! # Bad files
//!
//! Every count is checked against the bytes left before anything is
//! allocated for it, every enum code against its range, and the whole file
//! against its CRC, so a truncated or damaged file is an error naming the
//! byte offset and what was expected, never a panic or a huge allocation.
//! The CRC guards against damage, not against a file crafted to pass it:
//! a prepared file is gcwb's own output, not an interchange format (the
//! trace formats are that).

use super::oracle::Deaths;
use super::positions::{Positions, Sources};
use super::prepared::{Order, PreparedTrace, Program};
use super::{BlockInfo, GoroutineInfo, Why, WhyTag};
use crate::binary::{placement_code, placement_from_code};
use crate::error::{Result, TraceError};
use crate::model::{Cause, GoroutineId};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::OnceLock;

/// The first bytes of a prepared trace.
pub const MAGIC: &[u8; 8] = b"GCWBPREP";
/// The usual extension of a prepared trace.
pub const EXTENSION: &str = "gcwbp";
/// The layout version (the module comment).
const FORMAT: u32 = 1;
/// This build's fingerprint of the trace model and analyses (`build.rs`).
pub const FINGERPRINT: u64 = include!(concat!(env!("OUT_DIR"), "/fingerprint.rs"));

/// Bytes of one block record.
const BLOCK_BYTES: usize = 28;
/// Elements converted per chunk when reading or writing an array.
const CHUNK_BYTES: usize = 64 * 1024;

/// The trace a prepared file was made from, for provenance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The trace as the preparing command named it (a path or a workload).
    pub name: String,
    /// Its size and CRC-32 when it was a file (0 and 0 otherwise).
    pub bytes: u64,
    pub crc32: u32,
}

/// Does a file starting with `head` hold a prepared trace?
pub fn is_prepared(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// Does the file at `path` start like a prepared trace? (`false` when it
/// cannot be read: the trace reader's error names the problem.)
pub fn is_prepared_file(path: &Path) -> bool {
    let mut head = [0u8; MAGIC.len()];
    File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && is_prepared(&head)
}

/// Writes `trace`, prepared from `origin`, to `path`: to a temporary file
/// beside it, renamed over `path` once complete, so a failure leaves
/// whatever `path` held before. Returns the bytes written.
pub fn write(trace: &PreparedTrace, origin: &Origin, path: &Path) -> Result<u64> {
    let name = path.display().to_string();
    let io_err = |e| TraceError::io(name.as_str(), e);
    let file_name = path.file_name().map_or_else(|| "prepared".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut out = Out { w: BufWriter::with_capacity(1 << 20, File::create(&tmp)?), crc: Default::default(), n: 0 };
        encode(trace, origin, &mut out)?;
        let crc = out.crc.clone().finalize();
        out.w.write_all(&crc.to_le_bytes())?;
        out.w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(out.n + 4)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.map_err(io_err)
}

/// Reads a prepared trace written by [`write`] with this build.
pub fn read(path: &Path) -> Result<(PreparedTrace, Origin)> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| TraceError::io(name.as_str(), e))?;
    let len = file.metadata().map_err(|e| TraceError::io(name.as_str(), e))?.len();
    let mut input = In { r: BufReader::with_capacity(1 << 20, file), crc: Default::default(), pos: 0, end: len, name };
    if len < 4 {
        return Err(input.error("a prepared trace (it is shorter than its checksum)"));
    }
    input.end = len - 4;
    let decoded = decode(&mut input)?;
    if input.pos != input.end {
        return Err(input.error("the checksum (more bytes follow the last section)"));
    }
    let want = input.crc.clone().finalize();
    let mut crc = [0u8; 4];
    input.r.read_exact(&mut crc).map_err(|e| TraceError::io(input.name.as_str(), e))?;
    if u32::from_le_bytes(crc) != want {
        return Err(input.error(&format!(
            "checksum {want:08x}, found {:08x}: the file is damaged; prepare the trace again",
            u32::from_le_bytes(crc)
        )));
    }
    Ok(decoded)
}

fn encode<W: Write>(t: &PreparedTrace, origin: &Origin, out: &mut Out<W>) -> io::Result<()> {
    out.bytes(MAGIC)?;
    out.u32(FORMAT)?;
    out.u64(FINGERPRINT)?;
    out.str(env!("CARGO_PKG_VERSION"))?;
    out.str(&origin.name)?;
    out.u64(origin.bytes)?;
    out.u32(origin.crc32)?;
    out.str(&t.file)?;
    out.u32(t.globals)?;
    out.u64(t.peak_goroutines)?;
    for &k in &t.events_by_kind {
        out.u64(k)?;
    }

    out.u64(t.blocks.len() as u64)?;
    for chunk in t.blocks.chunks(CHUNK_BYTES / BLOCK_BYTES) {
        let mut buf = Vec::with_capacity(chunk.len() * BLOCK_BYTES);
        for b in chunk {
            buf.extend_from_slice(&b.size.to_le_bytes());
            buf.extend_from_slice(&b.alloc_event.to_le_bytes());
            buf.extend_from_slice(&b.ptr_slots.to_le_bytes());
            buf.extend_from_slice(&b.why.event.to_le_bytes());
            buf.extend_from_slice(&b.why.via.to_le_bytes());
            buf.extend_from_slice(&[why_code(b.why.tag), cause_code(b.cause), placement_code(b.requested), 0]);
        }
        out.bytes(&buf)?;
    }

    out.u64(t.goroutines.len() as u64)?;
    for g in &t.goroutines {
        out.u32(g.id.0)?;
        out.u32(g.events)?;
        out.u32(g.spawned_at.unwrap_or(u32::MAX))?;
    }
    for p in &t.programs {
        out.u32(p.steps)?;
        out.u64(p.code.len() as u64)?;
        out.bytes(&p.code)?;
        out.u64(p.derefs.len() as u64)?;
        out.bytes(&p.derefs)?;
        out.u64s(&p.dep_target)?;
    }

    out.u64(t.tags.len() as u64)?;
    for tag in &t.tags {
        out.str(tag)?;
    }

    match &t.order {
        Order::Narrow(v) => {
            out.u8(0)?;
            out.u64(v.len() as u64)?;
            out.array(v, |x| x.to_le_bytes())?;
        }
        Order::Wide(v) => {
            out.u8(1)?;
            out.u32s(v)?;
        }
        Order::Runs { starts, gs, len } => {
            out.u8(2)?;
            out.u64(*len as u64)?;
            out.u32s(starts)?;
            out.u32s(gs)?;
        }
    }

    let p = &t.sources.positions;
    out.u8(match p.lines {
        None => 0,
        Some(true) => 1,
        Some(false) => 2,
    })?;
    out.u64(p.last)?;
    out.u64s(&p.checkpoints)?;
    out.u64(p.deltas.len() as u64)?;
    out.bytes(&p.deltas)?;
    let mut far: Vec<(u32, u64)> = p.far.iter().map(|(&k, &v)| (k, v)).collect();
    far.sort_unstable();
    out.u64(far.len() as u64)?;
    for (k, v) in far {
        out.u32(k)?;
        out.u64(v)?;
    }
    match &t.sources.block_names {
        None => out.u8(0)?,
        Some(names) => {
            out.u8(1)?;
            out.u64s(names)?;
        }
    }
    for no_stack in [false, true] {
        match t.deaths_if_known(no_stack) {
            None => out.u8(0)?,
            Some(d) => {
                out.u8(1)?;
                out.u64(d.death.len() as u64)?;
                out.array(&d.death, |x| x.unwrap_or(u32::MAX).to_le_bytes())?;
                out.u64(d.peak_live_heap_bytes)?;
                out.u32(d.peak_live_heap_event)?;
                for v in [d.heap_blocks, d.stack_blocks, d.heap_bytes, d.stack_bytes] {
                    out.u64(v)?;
                }
            }
        }
    }
    Ok(())
}

fn decode(input: &mut In) -> Result<(PreparedTrace, Origin)> {
    let magic: [u8; 8] = input.fixed("the prepared-trace magic \"GCWBPREP\"")?;
    if &magic != MAGIC {
        return Err(input.error_at(0, "the prepared-trace magic \"GCWBPREP\""));
    }
    let at = input.pos;
    let format = input.u32("the format version")?;
    if format != FORMAT {
        return Err(input.error_at(at, &format!("format version {FORMAT}, found {format}: prepare the trace again")));
    }
    let at = input.pos;
    let fingerprint = input.u64("the build fingerprint")?;
    let version = input.str("the gcwb version")?;
    if fingerprint != FINGERPRINT {
        return Err(input.error_at(
            at,
            &format!(
                "a trace prepared by this build of gcwb (analyses {FINGERPRINT:016x}); it was prepared by \
                 gcwb {version} (analyses {fingerprint:016x}): prepare the trace again"
            ),
        ));
    }
    let origin = Origin {
        name: input.str("the origin's name")?,
        bytes: input.u64("the origin's size")?,
        crc32: input.u32("the origin's CRC-32")?,
    };
    let file = input.str("the trace's name")?;
    let globals = input.u32("the number of globals")?;
    let peak_goroutines = input.u64("the peak goroutine count")?;
    let mut events_by_kind = [0u64; 10];
    for k in &mut events_by_kind {
        *k = input.u64("the events by kind")?;
    }

    let n = input.count(BLOCK_BYTES, "blocks")?;
    let mut blocks = Vec::with_capacity(n);
    let mut left = n;
    let mut buf = Vec::with_capacity(CHUNK_BYTES);
    while left > 0 {
        let k = left.min(CHUNK_BYTES / BLOCK_BYTES);
        let at = input.pos;
        buf.clear();
        input.fill(&mut buf, k * BLOCK_BYTES, "block records")?;
        for (i, r) in buf.chunks_exact(BLOCK_BYTES).enumerate() {
            let word = |o: usize| u32::from_le_bytes([r[o], r[o + 1], r[o + 2], r[o + 3]]);
            let codes = (why_from_code(r[24]), cause_from_code(r[25]), placement_from_code(r[26]));
            let (Some(tag), Some(cause), Some(requested)) = codes else {
                let offset = at + (i * BLOCK_BYTES + 24) as u64;
                return Err(input.error_at(offset, "a block's heap reason, cause and placement codes"));
            };
            blocks.push(BlockInfo {
                size: u64::from_le_bytes(r[0..8].try_into().expect("8 bytes")),
                alloc_event: word(8),
                ptr_slots: word(12),
                why: Why { event: word(16), via: word(20), tag },
                cause,
                requested,
            });
        }
        left -= k;
    }

    let n = input.count(12, "goroutines")?;
    let mut goroutines = Vec::with_capacity(n);
    for _ in 0..n {
        let id = GoroutineId(input.u32("a goroutine id")?);
        let events = input.u32("a goroutine's event count")?;
        let spawned_at = Some(input.u32("a goroutine's go event")?).filter(|&e| e != u32::MAX);
        goroutines.push(GoroutineInfo { id, events, spawned_at });
    }
    let mut programs = Vec::with_capacity(n);
    for _ in 0..n {
        let steps = input.u32("a program's step count")?;
        let code = input.byte_vec("a program's instructions")?;
        let derefs = input.byte_vec("a program's dereferenced blocks")?;
        let dep_target = input.u64s("a program's dependency targets")?;
        programs.push(Program { code, derefs, dep_target, steps });
    }

    let n = input.count(8, "span tags")?;
    let mut tags = Vec::with_capacity(n);
    for _ in 0..n {
        tags.push(input.str("a span tag")?);
    }

    let at = input.pos;
    let order = match input.u8("the trace order's kind")? {
        0 => {
            let n = input.count(2, "the trace order")?;
            Order::Narrow(input.array::<u16, 2>(n, "the trace order", |b| u16::from_le_bytes([b[0], b[1]]))?)
        }
        1 => Order::Wide(input.u32s("the trace order")?),
        2 => {
            let len = input.u64("the trace order's length")? as usize;
            let starts = input.u32s("the trace order's runs")?;
            let gs = input.u32s("the trace order's goroutines")?;
            if starts.len() != gs.len() {
                return Err(input.error_at(at, "as many run goroutines as run starts"));
            }
            Order::Runs { starts, gs, len }
        }
        _ => return Err(input.error_at(at, "a trace-order kind (0, 1 or 2)")),
    };

    let at = input.pos;
    let lines = match input.u8("the positions' kind")? {
        0 => None,
        1 => Some(true),
        2 => Some(false),
        _ => return Err(input.error_at(at, "a positions kind (0, 1 or 2)")),
    };
    let last = input.u64("the last position")?;
    let checkpoints = input.u64s("the position checkpoints")?;
    let deltas = input.byte_vec("the position deltas")?;
    let n = input.count(12, "far positions")?;
    let mut far = HashMap::with_capacity(n);
    for _ in 0..n {
        let k = input.u32("a far position's event")?;
        far.insert(k, input.u64("a far position")?);
    }
    let at = input.pos;
    let block_names = match input.u8("whether block names follow")? {
        0 => None,
        1 => Some(input.u64s("the block names")?),
        _ => return Err(input.error_at(at, "0 or 1 (whether block names follow)")),
    };

    let mut deaths: [Option<Deaths>; 2] = [None, None];
    for d in &mut deaths {
        let at = input.pos;
        match input.u8("whether the oracle's death times follow")? {
            0 => {}
            1 => {
                let n = input.count(4, "death times")?;
                if n != blocks.len() {
                    return Err(input.error_at(at, &format!("a death time per block ({}), found {n}", blocks.len())));
                }
                let death = input.array::<Option<u32>, 4>(n, "death times", |b| {
                    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]])).filter(|&e| e != u32::MAX)
                })?;
                *d = Some(Deaths {
                    death,
                    peak_live_heap_bytes: input.u64("the peak live heap")?,
                    peak_live_heap_event: input.u32("the peak's event")?,
                    heap_blocks: input.u64("the heap blocks")?,
                    stack_blocks: input.u64("the stack blocks")?,
                    heap_bytes: input.u64("the heap bytes")?,
                    stack_bytes: input.u64("the stack bytes")?,
                });
            }
            _ => return Err(input.error_at(at, "0 or 1 (whether death times follow)")),
        }
    }

    let sources = Sources { positions: Positions { lines, checkpoints, deltas, far, last }, block_names };
    let trace = PreparedTrace {
        file,
        globals,
        blocks,
        goroutines,
        programs,
        tags,
        events_by_kind,
        peak_goroutines,
        order,
        sources,
        event_index: Default::default(),
        deaths: deaths.map(|d| d.map_or_else(OnceLock::new, OnceLock::from)),
        placements: Default::default(),
    };
    Ok((trace, origin))
}

fn why_code(t: WhyTag) -> u8 {
    match t {
        WhyTag::Stack => 0,
        WhyTag::Requested => 1,
        WhyTag::TooLarge => 2,
        WhyTag::Escapes => 3,
    }
}

fn why_from_code(c: u8) -> Option<WhyTag> {
    [WhyTag::Stack, WhyTag::Requested, WhyTag::TooLarge, WhyTag::Escapes].get(c as usize).copied()
}

fn cause_code(c: Cause) -> u8 {
    Cause::ALL.iter().position(|&x| x == c).expect("every cause is in Cause::ALL") as u8
}

fn cause_from_code(c: u8) -> Option<Cause> {
    Cause::ALL.get(c as usize).copied()
}

/// The writer: every byte goes through the running CRC.
struct Out<W: Write> {
    w: W,
    crc: crc32fast::Hasher,
    n: u64,
}

impl<W: Write> Out<W> {
    fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.crc.update(b);
        self.n += b.len() as u64;
        self.w.write_all(b)
    }
    fn u8(&mut self, v: u8) -> io::Result<()> {
        self.bytes(&[v])
    }
    fn u32(&mut self, v: u32) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }
    fn u64(&mut self, v: u64) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }
    fn str(&mut self, s: &str) -> io::Result<()> {
        self.u64(s.len() as u64)?;
        self.bytes(s.as_bytes())
    }
    /// The elements of `v`, each as `le` gives its bytes, in chunks.
    fn array<T: Copy, const N: usize>(&mut self, v: &[T], le: impl Fn(T) -> [u8; N]) -> io::Result<()> {
        let mut buf = Vec::with_capacity(CHUNK_BYTES);
        for chunk in v.chunks(CHUNK_BYTES / N) {
            buf.clear();
            for &x in chunk {
                buf.extend_from_slice(&le(x));
            }
            self.bytes(&buf)?;
        }
        Ok(())
    }
    fn u32s(&mut self, v: &[u32]) -> io::Result<()> {
        self.u64(v.len() as u64)?;
        self.array(v, u32::to_le_bytes)
    }
    fn u64s(&mut self, v: &[u64]) -> io::Result<()> {
        self.u64(v.len() as u64)?;
        self.array(v, u64::to_le_bytes)
    }
}

/// The reader: every byte goes through the running CRC; `pos` is the
/// offset of the next byte and `end` where the checksum starts.
struct In {
    r: BufReader<File>,
    crc: crc32fast::Hasher,
    pos: u64,
    end: u64,
    name: String,
}

impl In {
    fn error(&self, expected: &str) -> TraceError {
        self.error_at(self.pos, expected)
    }

    fn error_at(&self, offset: u64, expected: &str) -> TraceError {
        TraceError::invalid(self.name.as_str(), format!("byte offset {offset}"), format!("expected {expected}"))
    }

    /// Appends the next `n` bytes to `buf`, or an error naming `what` if
    /// the file ends first.
    fn fill(&mut self, buf: &mut Vec<u8>, n: usize, what: &str) -> Result<()> {
        if (n as u64) > self.end - self.pos {
            return Err(self.error(&format!("{what} ({n} bytes; the file ends {} bytes on)", self.end - self.pos)));
        }
        let start = buf.len();
        buf.reserve_exact(n);
        // `take` + `read_to_end` reads into the spare capacity without
        // zeroing it first (a large section is hundreds of megabytes).
        let got = (&mut self.r).take(n as u64).read_to_end(buf).map_err(|e| TraceError::io(self.name.as_str(), e))?;
        if got != n {
            return Err(self.error_at(self.pos + got as u64, &format!("{what} (the file ended early)")));
        }
        self.crc.update(&buf[start..]);
        self.pos += n as u64;
        Ok(())
    }

    /// The next `N` bytes, into an array (no allocation).
    fn fixed<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        if N as u64 > self.end - self.pos {
            return Err(self.error(&format!("{what} ({N} bytes; the file ends {} bytes on)", self.end - self.pos)));
        }
        let mut buf = [0u8; N];
        self.r.read_exact(&mut buf).map_err(|e| TraceError::io(self.name.as_str(), e))?;
        self.crc.update(&buf);
        self.pos += N as u64;
        Ok(buf)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.fixed::<1>(what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.fixed(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.fixed(what)?))
    }

    /// A count of elements of `size` bytes each, checked against the bytes
    /// left so that nothing is allocated for a count the file cannot hold.
    fn count(&mut self, size: usize, what: &str) -> Result<usize> {
        let at = self.pos;
        let n = self.u64(&format!("the number of {what}"))?;
        let left = self.end - self.pos;
        match n.checked_mul(size as u64) {
            Some(bytes) if bytes <= left => Ok(n as usize),
            _ => Err(self.error_at(
                at,
                &format!("the number of {what}: {n} of {size} bytes do not fit in the {left} bytes left"),
            )),
        }
    }

    fn str(&mut self, what: &str) -> Result<String> {
        let at = self.pos;
        let bytes = self.byte_vec(what)?;
        String::from_utf8(bytes).map_err(|_| self.error_at(at, &format!("{what} in UTF-8")))
    }

    fn byte_vec(&mut self, what: &str) -> Result<Vec<u8>> {
        let n = self.count(1, what)?;
        let mut v = Vec::with_capacity(n);
        self.fill(&mut v, n, what)?;
        Ok(v)
    }

    /// `n` elements of `N` bytes each, decoded by `le`, read in chunks.
    fn array<T, const N: usize>(&mut self, n: usize, what: &str, le: impl Fn(&[u8]) -> T) -> Result<Vec<T>> {
        let mut v = Vec::with_capacity(n);
        let mut buf = Vec::with_capacity(CHUNK_BYTES);
        let mut left = n;
        while left > 0 {
            let k = left.min(CHUNK_BYTES / N);
            buf.clear();
            self.fill(&mut buf, k * N, what)?;
            v.extend(buf.chunks_exact(N).map(&le));
            left -= k;
        }
        Ok(v)
    }

    fn u32s(&mut self, what: &str) -> Result<Vec<u32>> {
        let n = self.count(4, what)?;
        self.array::<u32, 4>(n, what, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64s(&mut self, what: &str) -> Result<Vec<u64>> {
        let n = self.count(8, what)?;
        self.array::<u64, 8>(n, what, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
}
