//! The Go front end's behaviour, through `golang::trace_into`: every shipped
//! program prints what Go prints and gives a sound trace with the
//! allocations its constants imply; errors are Go's (kind, `file:line:col`,
//! wording checked against Go 1.19.8 runs); goroutines interleave the same
//! way on every run; the trace's memory model (channel buffers, closures'
//! captures, `&x`, `new` of nothing); and no mutated program makes the
//! front end panic.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use workloads::analysis::{self, PreparedTrace};
use workloads::golang::{self, trace_into, GoError, GoErrorKind, GoTraceOptions, RunSummary};
use workloads::model::{BlockIdx, Cause, Op, Trace};
use workloads::sink::MemorySink;

// ----- running programs -----

fn go_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("go")
}

fn capture() -> GoTraceOptions {
    GoTraceOptions { capture_output: true, ..GoTraceOptions::default() }
}

/// A run's trace and summary.
struct Run {
    trace: Trace,
    summary: RunSummary,
}

fn trace_files(paths: &[PathBuf], opts: &GoTraceOptions) -> Result<Run, GoError> {
    let mut sink = MemorySink::new();
    let summary = trace_into(paths, opts, &mut sink)?;
    Ok(Run { trace: sink.into_trace(), summary })
}

/// A Go program in a file of its own (`p.go` in a fresh directory).
struct Source {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Source {
    fn new(src: &str) -> Source {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("p.go");
        std::fs::write(&path, src).expect("write the program");
        Source { _dir: dir, path }
    }

    /// `file:line:col` in this file, as errors print positions.
    fn at(&self, line_col: &str) -> String {
        format!("{}:{line_col}", self.path.display())
    }

    fn run(&self) -> Result<Run, GoError> {
        trace_files(std::slice::from_ref(&self.path), &capture())
    }
}

fn run_ok(src: &str) -> Run {
    match Source::new(src).run() {
        Ok(r) => r,
        Err(e) => panic!("{e}\nfor:\n{src}"),
    }
}

fn analyze(trace: &Trace) -> PreparedTrace {
    analysis::analyze(trace).unwrap_or_else(|e| panic!("the trace is unsound: {e}"))
}

/// Every allocation: block, size, cause.
fn allocs(trace: &Trace) -> Vec<(BlockIdx, u64, Cause)> {
    trace
        .events
        .iter()
        .filter_map(|e| match &e.op {
            Op::Alloc { block, size, cause, .. } => Some((*block, *size, *cause)),
            _ => None,
        })
        .collect()
}

fn count_allocs(trace: &Trace, cause: Cause, size: u64) -> usize {
    allocs(trace).iter().filter(|a| a.2 == cause && a.1 == size).count()
}

/// The indices of the `runtime.GC()` events, in order.
fn gc_events(trace: &Trace) -> Vec<u32> {
    trace.events.iter().enumerate().filter(|(_, e)| matches!(e.op, Op::Gc)).map(|(i, _)| i as u32).collect()
}

fn text(trace: &Trace) -> Vec<u8> {
    let mut out = Vec::new();
    workloads::text::write_text(trace, &mut out).expect("write to memory");
    out
}

// ----- 1. the shipped programs -----

/// The native run's stdout (`expected/NAME.native.txt` without the
/// `memstats` line, which a plain run does not print).
fn native_output(name: &str) -> String {
    let path = go_dir().join("expected").join(format!("{name}.native.txt"));
    let all = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    all.lines().filter(|l| !l.starts_with("memstats ")).map(|l| format!("{l}\n")).collect()
}

/// Runs a shipped program: its output is Go's and its trace is sound.
fn shipped(name: &str) -> (Run, PreparedTrace) {
    let path = go_dir().join(format!("{name}.go"));
    let run = trace_files(&[path], &capture()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(run.summary.output, native_output(name), "{name}: the output differs from Go's");
    let prepared = analyze(&run.trace);
    assert_eq!(prepared.blocks.len(), allocs(&run.trace).len());
    (run, prepared)
}

macro_rules! shipped_tests {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                shipped($name);
            }
        )*
        /// Every program of `workloads/go` has its test above.
        #[test]
        fn every_shipped_program_is_tested() {
            // binary-trees and gcbench have tests of their own below.
            let tested: std::collections::BTreeSet<&str> =
                [$($name,)* "binary-trees", "gcbench"].into_iter().collect();
            let mut shipped = std::collections::BTreeSet::new();
            for entry in std::fs::read_dir(go_dir()).expect("workloads/go") {
                let name = entry.expect("a directory entry").file_name().to_string_lossy().into_owned();
                if let Some(stem) = name.strip_suffix(".go") {
                    shipped.insert(stem.to_string());
                }
            }
            let tested: std::collections::BTreeSet<String> = tested.into_iter().map(String::from).collect();
            assert_eq!(tested, shipped);
        }
    };
}

shipped_tests! {
    seed_example_runs_as_go => "seed-example",
    server_runs_as_go => "server",
    situations_append_runs_as_go => "situations-append",
    situations_closure_runs_as_go => "situations-closure",
    situations_iface_runs_as_go => "situations-iface",
    situations_inline_runs_as_go => "situations-inline",
    situations_large_runs_as_go => "situations-large",
    situations_map_runs_as_go => "situations-map",
    situations_pointers_runs_as_go => "situations-pointers",
    situations_strings_runs_as_go => "situations-strings",
}

/// The nodes of a complete binary tree of depth `d`.
fn tree_nodes(d: u64) -> u64 {
    (1 << (d + 1)) - 1
}

#[test]
fn binary_trees_allocates_exactly_its_nodes() {
    let (run, _) = shipped("binary-trees");
    // The program's constants: the stretch tree of maxDepth+1, the
    // long-lived tree of maxDepth, and 2^(maxDepth-d+minDepth) trees of
    // depth d for d = minDepth, minDepth+2, ..., maxDepth.
    let (max_depth, min_depth) = (12u64, 4u64);
    let mut nodes = tree_nodes(max_depth + 1) + tree_nodes(max_depth);
    for d in (min_depth..=max_depth).step_by(2) {
        nodes += (1 << (max_depth - d + min_depth)) * tree_nodes(d);
    }
    assert_eq!(nodes, 674_478);
    // Every node is one `&Node{...}` of two pointers, and no other literal
    // is 16 bytes.
    assert_eq!(count_allocs(&run.trace, Cause::Literal, 16), nodes as usize);
    // main and one goroutine per depth.
    let depths = (max_depth - min_depth) / 2 + 1;
    assert_eq!(u64::from(run.summary.goroutines), 1 + depths);
}

#[test]
fn gcbench_allocates_exactly_its_nodes_and_array() {
    let (run, _) = shipped("gcbench");
    // kStretchTreeDepth 14, kLongLivedTreeDepth 12, kArraySize 50000,
    // depths 4..=12 by 2, each numIters(d) trees built top-down and as many
    // bottom-up.
    let stretch = 14u64;
    let num_iters = |d: u64| 2 * tree_nodes(stretch) / tree_nodes(d);
    let mut nodes = tree_nodes(stretch) + tree_nodes(12);
    for d in (4..=12).step_by(2) {
        nodes += 2 * num_iters(d) * tree_nodes(d);
    }
    assert_eq!(nodes, 695_970);
    // A node is 32 bytes, made by `new(Node)` or `&Node{...}`.
    let made = count_allocs(&run.trace, Cause::New, 32) + count_allocs(&run.trace, Cause::Literal, 32);
    assert_eq!(made, nodes as usize);
    // Top-down trees are all `new`; bottom-up ones have `new` leaves.
    let top_down: u64 = tree_nodes(12) + (4..=12).step_by(2).map(|d| num_iters(d) * tree_nodes(d)).sum::<u64>();
    let bottom_up_leaves: u64 = (1 << stretch) + (4..=12).step_by(2).map(|d| num_iters(d) << d).sum::<u64>();
    assert_eq!(count_allocs(&run.trace, Cause::New, 32) as u64, top_down + bottom_up_leaves);
    // The long-lived array of 50000 float64s.
    assert_eq!(count_allocs(&run.trace, Cause::MakeSlice, 50_000 * 8), 1);
}

// ----- 2. errors -----

/// A program expected to fail.
struct Failing {
    name: &'static str,
    src: &'static str,
    kind: GoErrorKind,
    /// `line:col` (for a deadlock: where main waits), or "" for none.
    at: &'static str,
    msg: &'static str,
}

/// Runs every case; fails listing every case that did not fail as
/// expected. Errors the checker gives must come before the program runs.
fn check_failures(cases: &[Failing]) {
    let mut wrong = Vec::new();
    for c in cases {
        let src = Source::new(c.src);
        let want_at = if c.at.is_empty() { String::new() } else { src.at(c.at) };
        let got = src.run();
        match got {
            Ok(r) => wrong.push(format!("{}: ran to the end (output {:?})", c.name, r.summary.output)),
            Err(e) if e.kind != c.kind || e.at != want_at || e.msg != c.msg => {
                wrong.push(format!("{}: got {:?} {:?} {:?}", c.name, e.kind, e.at, e.msg))
            }
            Err(_) => {}
        }
        let checker_refuses = matches!(c.kind, GoErrorKind::NotSupported | GoErrorKind::Type);
        if checker_refuses && golang::load(std::slice::from_ref(&src.path)).is_ok() {
            wrong.push(format!("{}: the checker accepts it (refused only while running)", c.name));
        }
    }
    assert!(wrong.is_empty(), "{} of {} cases:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}

#[test]
fn unsupported_constructs_are_refused_before_running() {
    use GoErrorKind::NotSupported;
    check_failures(&[
        Failing {
            name: "defer",
            src: "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n\tdefer fmt.Println(\"bye\")\n}\n",
            kind: NotSupported,
            at: "7:2",
            msg: "not supported: defer statement",
        },
        Failing {
            name: "select",
            src: "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n\tc := make(chan int, 1)\n\tc <- 1\n\tselect {\n\tcase v := <-c:\n\t\tfmt.Println(v)\n\t}\n}\n",
            kind: NotSupported,
            at: "9:2",
            msg: "not supported: select statement",
        },
        Failing {
            name: "method value",
            src: "package main\n\nimport \"fmt\"\n\ntype T struct{ n int }\n\nfunc (t T) Get() int { return t.n }\n\nfunc main() {\n\tfmt.Println(\"hi\")\n\tt := T{3}\n\tf := t.Get\n\tfmt.Println(f())\n}\n",
            kind: NotSupported,
            at: "12:9",
            msg: "not supported: a method value (a method not called at once)",
        },
        Failing {
            name: "method value of a method called at once",
            src: "package main\n\ntype T struct{ n int }\n\nfunc (t T) Get() T { return t }\n\nfunc main() {\n\tt := T{3}\n\tg := t.Get().Get\n\tprintln(g().n)\n}\n",
            kind: NotSupported,
            at: "9:15",
            msg: "not supported: a method value (a method not called at once)",
        },
        Failing {
            name: "interface method value",
            src: "package main\n\ntype I interface{ M() int }\n\ntype T struct{}\n\nfunc (T) M() int { return 1 }\n\nfunc main() {\n\tvar i I = T{}\n\tm := i.M\n\tprintln(m())\n}\n",
            kind: NotSupported,
            at: "11:9",
            msg: "not supported: a method value (a method not called at once)",
        },
        Failing {
            name: "multi-valued call as arguments",
            src: "package main\n\nfunc two() (int, int) { return 1, 2 }\n\nfunc add(a, b int) int { return a + b }\n\nfunc main() {\n\tprintln(add(two()))\n}\n",
            kind: NotSupported,
            at: "8:17",
            msg: "not supported: a multi-valued call as the arguments of a call",
        },
        Failing {
            name: "promoted field",
            src: "package main\n\ntype Base struct{ id int }\n\ntype Derived struct {\n\tBase\n\tname string\n}\n\nfunc main() {\n\td := Derived{}\n\td.id = 4\n\tprintln(d.id)\n}\n",
            kind: NotSupported,
            at: "12:4",
            msg: "not supported: promoted fields and methods of embedded structs",
        },
        Failing {
            name: "go of a builtin",
            src: "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n\tgo println(\"x\")\n}\n",
            kind: NotSupported,
            at: "7:12",
            msg: "not supported: go with a builtin or a sync method",
        },
        Failing {
            name: "go of a sync method",
            src: "package main\n\nimport \"sync\"\n\nfunc main() {\n\tvar wg sync.WaitGroup\n\twg.Add(1)\n\tgo wg.Done()\n\twg.Wait()\n}\n",
            kind: NotSupported,
            at: "8:12",
            msg: "not supported: go with a builtin or a sync method",
        },
    ]);
}

/// Positions and words as `go build` (Go 1.19.8) prints them for the same
/// programs.
#[test]
fn type_errors_are_gos() {
    use GoErrorKind::Type;
    check_failures(&[
        Failing {
            name: "undefined name",
            src: "package main\n\nfunc main() {\n\tx := 1\n\tprintln(x + y)\n}\n",
            kind: Type,
            at: "5:14",
            msg: "undefined: y",
        },
        Failing {
            name: "mismatched types",
            src: "package main\n\nfunc main() {\n\ta := 1\n\tb := \"s\"\n\tprintln(a + b)\n}\n",
            kind: Type,
            at: "6:10",
            msg: "invalid operation: a + b (mismatched types int and string)",
        },
        Failing {
            name: "assignment mismatch",
            src: "package main\n\nfunc main() {\n\ta, b := 1\n\tprintln(a, b)\n}\n",
            kind: Type,
            at: "4:10",
            msg: "assignment mismatch: 2 variables but 1 value",
        },
        Failing {
            name: "assignment mismatch with a call",
            src: "package main\n\nfunc two() (int, int) { return 1, 2 }\n\nfunc main() {\n\ta, b, c := two()\n\tprintln(a, b, c)\n}\n",
            kind: Type,
            at: "6:13",
            msg: "assignment mismatch: 3 variables but two returns 2 values",
        },
        Failing {
            name: "assignment mismatch of values",
            src: "package main\n\nfunc main() {\n\tx, y := 1, 2, 3\n\tprintln(x, y)\n}\n",
            kind: Type,
            at: "4:10",
            msg: "assignment mismatch: 2 variables but 3 values",
        },
        Failing {
            name: "call of a non-function",
            src: "package main\n\nfunc main() {\n\tx := 1\n\tx()\n}\n",
            kind: Type,
            at: "5:2",
            msg: "invalid operation: cannot call non-function x (variable of type int)",
        },
        Failing {
            name: "not enough arguments",
            src: "package main\n\nfunc f(a, b int) int { return a + b }\n\nfunc main() {\n\tprintln(f(1))\n}\n",
            kind: Type,
            at: "6:12",
            msg: "not enough arguments in call to f",
        },
        Failing {
            name: "no arguments",
            src: "package main\n\nfunc f(a, b int) int { return a + b }\n\nfunc main() {\n\tprintln(f())\n}\n",
            kind: Type,
            at: "6:10",
            msg: "not enough arguments in call to f",
        },
        Failing {
            name: "too many arguments",
            src: "package main\n\nfunc f(a, b int) int { return a + b }\n\nfunc main() {\n\tprintln(f(1, 2, 3))\n}\n",
            kind: Type,
            at: "6:18",
            msg: "too many arguments in call to f",
        },
        Failing {
            name: "missing method",
            src: "package main\n\ntype Shape interface{ Area() int }\n\ntype Sq struct{ s int }\n\nfunc main() {\n\tvar s Shape = Sq{2}\n\tprintln(s != nil)\n}\n",
            kind: Type,
            at: "8:16",
            msg: "Sq does not implement Shape (missing method Area)",
        },
        Failing {
            name: "undefined field or method",
            src: "package main\n\ntype T struct{}\n\nfunc main() {\n\tvar t T\n\tt.foo()\n}\n",
            kind: Type,
            at: "7:4",
            msg: "t.foo undefined (type T has no field or method foo)",
        },
    ]);
}

/// The message is the first line Go 1.19.8 prints for the same program
/// (`panic: ...` or `fatal error: ...`); the position is the expression or
/// statement that panicked.
#[test]
fn runtime_panics_are_gos() {
    use GoErrorKind::Runtime;
    check_failures(&[
        Failing {
            name: "nil pointer dereference",
            src: "package main\n\ntype T struct{ n int }\n\nfunc main() {\n\tvar p *T\n\tprintln(\"before\")\n\tprintln(p.n)\n}\n",
            kind: Runtime,
            at: "8:11",
            msg: "panic: runtime error: invalid memory address or nil pointer dereference",
        },
        Failing {
            name: "nil pointer store",
            src: "package main\n\ntype T struct{ n int }\n\nfunc main() {\n\tvar p *T\n\tp.n = 3\n}\n",
            kind: Runtime,
            at: "7:3",
            msg: "panic: runtime error: invalid memory address or nil pointer dereference",
        },
        Failing {
            name: "nil pointer deref",
            src: "package main\n\nfunc main() {\n\tvar p *int\n\tprintln(*p)\n}\n",
            kind: Runtime,
            at: "5:10",
            msg: "panic: runtime error: invalid memory address or nil pointer dereference",
        },
        Failing {
            name: "index out of range",
            src: "package main\n\nfunc main() {\n\ts := []int{1, 2, 3}\n\ti := 5\n\tprintln(s[i])\n}\n",
            kind: Runtime,
            at: "6:11",
            msg: "panic: runtime error: index out of range [5] with length 3",
        },
        Failing {
            name: "negative index",
            src: "package main\n\nfunc main() {\n\ts := []int{1}\n\ti := -1\n\tprintln(s[i])\n}\n",
            kind: Runtime,
            at: "6:11",
            msg: "panic: runtime error: index out of range [-1]",
        },
        Failing {
            name: "slice beyond capacity",
            src: "package main\n\nfunc main() {\n\ts := make([]int, 3, 4)\n\th := 5\n\tprintln(len(s[1:h]))\n}\n",
            kind: Runtime,
            at: "6:15",
            msg: "panic: runtime error: slice bounds out of range [:5] with capacity 4",
        },
        Failing {
            name: "slice bounds inverted",
            src: "package main\n\nfunc main() {\n\ts := make([]int, 3, 4)\n\tl := 3\n\th := 2\n\tprintln(len(s[l:h]))\n}\n",
            kind: Runtime,
            at: "7:15",
            msg: "panic: runtime error: slice bounds out of range [3:2]",
        },
        Failing {
            name: "string slice beyond length",
            src: "package main\n\nfunc main() {\n\ts := \"abc\"\n\th := 5\n\tprintln(s[1:h])\n}\n",
            kind: Runtime,
            at: "6:11",
            msg: "panic: runtime error: slice bounds out of range [:5] with length 3",
        },
        Failing {
            name: "integer divide by zero",
            src: "package main\n\nfunc main() {\n\ta := 1\n\tb := 0\n\tprintln(a / b)\n}\n",
            kind: Runtime,
            at: "6:12",
            msg: "panic: runtime error: integer divide by zero",
        },
        Failing {
            name: "failed type assertion",
            src: "package main\n\nfunc main() {\n\tvar x interface{} = \"s\"\n\tn := x.(int)\n\tprintln(n)\n}\n",
            kind: Runtime,
            at: "5:8",
            msg: "panic: interface conversion: interface {} is string, not int",
        },
        Failing {
            name: "failed type assertion of nil",
            src: "package main\n\nfunc main() {\n\tvar x interface{}\n\tn := x.(int)\n\tprintln(n)\n}\n",
            kind: Runtime,
            at: "5:8",
            msg: "panic: interface conversion: interface {} is nil, not int",
        },
        Failing {
            name: "failed type assertion between named types",
            src: "package main\n\ntype S interface{ A() int }\ntype X struct{}\ntype Y struct{}\n\nfunc (X) A() int { return 1 }\nfunc (Y) A() int { return 2 }\n\nfunc main() {\n\tvar s S = X{}\n\ty := s.(Y)\n\tprintln(y.A())\n}\n",
            kind: Runtime,
            at: "12:8",
            msg: "panic: interface conversion: main.S is main.X, not main.Y",
        },
        Failing {
            name: "failed type assertion to an interface",
            src: "package main\n\nimport \"fmt\"\n\ntype S interface{ A() int }\ntype T interface{ B() int }\ntype X struct{}\n\nfunc (X) A() int { return 1 }\n\nfunc main() {\n\tvar s S = X{}\n\tif _, ok := s.(T); ok {\n\t\tfmt.Println(\"wrong\")\n\t}\n\tt := s.(T)\n\tfmt.Println(t.B())\n}\n",
            kind: Runtime,
            at: "16:8",
            msg: "panic: interface conversion: main.X is not main.T: missing method B",
        },
        Failing {
            name: "explicit panic",
            src: "package main\n\nfunc main() {\n\tpanic(\"x\")\n}\n",
            kind: Runtime,
            at: "4:7",
            msg: "panic: x",
        },
        Failing {
            name: "negative WaitGroup counter",
            src: "package main\n\nimport \"sync\"\n\nfunc main() {\n\tvar wg sync.WaitGroup\n\twg.Add(1)\n\twg.Done()\n\twg.Done()\n}\n",
            kind: Runtime,
            at: "9:9",
            msg: "panic: sync: negative WaitGroup counter",
        },
        Failing {
            name: "send on closed channel",
            src: "package main\n\nfunc main() {\n\tc := make(chan int, 1)\n\tclose(c)\n\tc <- 1\n}\n",
            kind: Runtime,
            at: "6:4",
            msg: "panic: send on closed channel",
        },
        Failing {
            name: "close of closed channel",
            src: "package main\n\nfunc main() {\n\tc := make(chan int)\n\tclose(c)\n\tclose(c)\n}\n",
            kind: Runtime,
            at: "6:7",
            msg: "panic: close of closed channel",
        },
        Failing {
            name: "close of nil channel",
            src: "package main\n\nfunc main() {\n\tvar c chan int\n\tclose(c)\n}\n",
            kind: Runtime,
            at: "5:7",
            msg: "panic: close of nil channel",
        },
        Failing {
            name: "assignment to a nil map",
            src: "package main\n\nfunc main() {\n\tvar m map[string]int\n\tm[\"a\"] = 1\n}\n",
            kind: Runtime,
            at: "5:9",
            msg: "panic: assignment to entry in nil map",
        },
        Failing {
            name: "unlock of an unlocked mutex",
            src: "package main\n\nimport \"sync\"\n\nfunc main() {\n\tvar mu sync.Mutex\n\tmu.Unlock()\n}\n",
            kind: Runtime,
            at: "7:11",
            msg: "fatal error: sync: unlock of unlocked mutex",
        },
        Failing {
            name: "panic in a goroutine",
            src: "package main\n\nimport \"sync\"\n\nfunc main() {\n\tvar wg sync.WaitGroup\n\twg.Add(1)\n\tgo func() {\n\t\tvar a []int\n\t\ti := 2\n\t\ta[i] = 1\n\t\twg.Done()\n\t}()\n\twg.Wait()\n}\n",
            kind: Runtime,
            at: "11:4",
            msg: "panic: runtime error: index out of range [2] with length 0",
        },
        Failing {
            name: "receive nobody sends",
            src: "package main\n\nfunc main() {\n\tc := make(chan int)\n\tprintln(<-c)\n}\n",
            kind: Runtime,
            at: "5:10",
            msg: "fatal error: all goroutines are asleep - deadlock!",
        },
        Failing {
            name: "wait with a missing Done",
            src: "package main\n\nimport \"sync\"\n\nfunc main() {\n\tvar wg sync.WaitGroup\n\tfor i := 0; i < 3; i++ {\n\t\twg.Add(1)\n\t\tgo func(i int) {\n\t\t\tif i != 1 {\n\t\t\t\twg.Done()\n\t\t\t}\n\t\t}(i)\n\t}\n\twg.Wait()\n}\n",
            kind: Runtime,
            at: "15:9",
            msg: "fatal error: all goroutines are asleep - deadlock!",
        },
        Failing {
            name: "unbounded recursion",
            src: "package main\n\nfunc f(n int) int {\n\treturn f(n+1) + 1\n}\n\nfunc main() {\n\tprintln(f(0))\n}\n",
            kind: Runtime,
            at: "4:10",
            msg: "fatal error: stack overflow",
        },
    ]);
}

#[test]
fn os_exit_zero_ends_the_program_with_a_complete_trace() {
    let run = run_ok(
        "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tp := &[4]int{}\n\tfmt.Println(\"a\", p[0])\n\tos.Exit(0)\n\tfmt.Println(\"b\")\n}\n",
    );
    assert_eq!(run.summary.output, "a 0\n");
    analyze(&run.trace);
}

#[test]
fn os_exit_zero_in_a_goroutine_ends_the_program_with_a_complete_trace() {
    let run = run_ok(
        "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tdone := make(chan bool)\n\tgo func() {\n\t\tfmt.Println(\"child\")\n\t\tos.Exit(0)\n\t}()\n\t<-done\n\tfmt.Println(\"never\")\n}\n",
    );
    assert_eq!(run.summary.output, "child\n");
    analyze(&run.trace);
}

#[test]
fn os_exit_with_a_status_is_an_exit_error() {
    let src = Source::new(
        "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tfmt.Println(\"a\")\n\tos.Exit(3)\n}\n",
    );
    let e = src.run().err().expect("os.Exit(3) is an error");
    assert_eq!((e.kind, e.msg.as_str()), (GoErrorKind::Exit, "exit status 3"));
    assert_eq!(e.to_string(), "exit status 3");
}

#[test]
fn a_step_limit_ends_an_endless_loop() {
    let src = Source::new("package main\n\nfunc main() {\n\tn := 0\n\tfor {\n\t\tn++\n\t}\n}\n");
    let opts = GoTraceOptions { max_steps: Some(10_000), ..capture() };
    let mut sink = MemorySink::new();
    let e = trace_into(std::slice::from_ref(&src.path), &opts, &mut sink).expect_err("the limit is reached");
    assert_eq!((e.kind, e.msg.as_str()), (GoErrorKind::Runtime, "step limit reached"));
    // A program that ends within its budget is not affected.
    let ok = Source::new("package main\n\nimport \"fmt\"\n\nfunc main() {\n\tn := 0\n\tfor i := 0; i < 10; i++ {\n\t\tn += i\n\t}\n\tfmt.Println(n)\n}\n");
    let mut sink = MemorySink::new();
    let summary = trace_into(std::slice::from_ref(&ok.path), &opts, &mut sink).expect("within the budget");
    assert_eq!(summary.output, "45\n");
    assert!(summary.steps <= 10_000);
}

// ----- 3. goroutines, deterministically -----

/// Runs `src` twice: the same output and byte-identical traces.
fn run_twice(src: &str) -> Run {
    let first = run_ok(src);
    let second = run_ok(src);
    assert_eq!(first.summary.output, second.summary.output);
    assert!(text(&first.trace) == text(&second.trace), "the two runs' traces differ");
    assert_eq!(first.trace, second.trace);
    analyze(&first.trace);
    first
}

const PING_PONG: &str = r#"package main

import "fmt"

func player(name string, in <-chan int, out chan<- int, done chan<- bool) {
	for {
		n := <-in
		fmt.Println(name, n)
		if n >= 6 {
			done <- true
			return
		}
		out <- n + 1
	}
}

func main() {
	ping := make(chan int)
	pong := make(chan int)
	done := make(chan bool)
	go player("ping", ping, pong, done)
	go player("pong", pong, ping, done)
	ping <- 1
	<-done
	fmt.Println("done")
}
"#;

#[test]
fn unbuffered_ping_pong_alternates() {
    let run = run_twice(PING_PONG);
    assert_eq!(run.summary.output, "ping 1\npong 2\nping 3\npong 4\nping 5\npong 6\ndone\n");
    assert_eq!(run.summary.goroutines, 3);
}

const PRODUCER_CONSUMER: &str = r#"package main

import "fmt"

func produce(ch chan<- int, n int) {
	for i := 0; i < n; i++ {
		fmt.Println("put", i)
		ch <- i
	}
	close(ch)
}

func main() {
	ch := make(chan int, 3)
	go produce(ch, 8)
	sum := 0
	for v := range ch {
		fmt.Println("got", v)
		sum += v
	}
	fmt.Println("sum", sum)
}
"#;

#[test]
fn buffered_producer_consumer_with_close_and_range() {
    let run = run_twice(PRODUCER_CONSUMER);
    let lines: Vec<&str> = run.summary.output.lines().collect();
    let got: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with("got ")).collect();
    let want: Vec<String> = (0..8).map(|i| format!("got {i}")).collect();
    assert_eq!(got, want, "received in order, each once");
    assert_eq!(lines.last(), Some(&"sum 28"));
    // Each value is received after it is sent, and never more than the
    // buffer's 3 (plus the one being handed over) ahead.
    for i in 0..8 {
        let put = lines.iter().position(|l| *l == format!("put {i}")).expect("put");
        let got = lines.iter().position(|l| *l == format!("got {i}")).expect("got");
        assert!(put < got, "{i} received before it was sent:\n{}", run.summary.output);
        if i >= 5 {
            let earlier = lines.iter().position(|l| *l == format!("got {}", i - 5)).expect("got");
            assert!(earlier < put, "put {i} before got {}: the buffer holds 3", i - 5);
        }
    }
}

const FAN_OUT: &str = r#"package main

import (
	"fmt"
	"sync"
)

type Counter struct {
	mu sync.Mutex
	n  int
}

func main() {
	var wg sync.WaitGroup
	c := &Counter{}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			for i := 0; i < 100; i++ {
				c.mu.Lock()
				c.n += w
				c.mu.Unlock()
			}
			fmt.Println("worker", w)
			wg.Done()
		}(w)
	}
	wg.Wait()
	fmt.Println("total", c.n)
}
"#;

#[test]
fn waitgroup_fan_out_with_a_mutex_counter() {
    let run = run_twice(FAN_OUT);
    // Go with GOMAXPROCS=1 prints the same: the goroutine started last
    // runs first (runnext), then the others in the order they started.
    assert_eq!(run.summary.output, "worker 3\nworker 0\nworker 1\nworker 2\ntotal 600\n");
    assert_eq!(run.summary.goroutines, 5);
}

#[test]
fn preemption_interleaves_the_same_way_every_run() {
    // Two goroutines that never block, each far longer than a time slice.
    let src = r#"package main

import (
	"fmt"
	"sync"
)

func spin(id int, out []int, wg *sync.WaitGroup) {
	s := 0
	for i := 0; i < 200000; i++ {
		s += i % (id + 2)
	}
	out[id] = s
	wg.Done()
}

func main() {
	var wg sync.WaitGroup
	out := make([]int, 2)
	wg.Add(2)
	go spin(0, out, &wg)
	go spin(1, out, &wg)
	wg.Wait()
	fmt.Println(out[0], out[1])
}
"#;
    let run = run_twice(src);
    let sum = |m: u64| (0..200_000u64).map(|i| i % m).sum::<u64>();
    assert_eq!(run.summary.output, format!("{} {}\n", sum(2), sum(3)));
    // Both goroutines were preempted: their events interleave.
    let prepared = analyze(&run.trace);
    let switches = prepared.order().collect::<Vec<_>>().windows(2).filter(|w| w[0] != w[1]).count();
    assert!(switches > 4, "only {switches} switches between goroutines");
}

// ----- 4. the memory model in the trace -----

#[test]
fn a_buffered_channel_keeps_what_it_holds_reachable() {
    let src = r#"package main

import (
	"fmt"
	"runtime"
)

type Box struct {
	next *Box
	v    int
}

func fill(c chan *Box) {
	c <- &Box{v: 1}
	c <- &Box{v: 2}
}

func take(c chan *Box) int {
	a := <-c
	return a.v
}

func main() {
	c := make(chan *Box, 2)
	fill(c)
	runtime.GC()
	n := take(c)
	runtime.GC()
	b := <-c
	fmt.Println(n, b.v)
}
"#;
    let run = run_ok(src);
    assert_eq!(run.summary.output, "1 2\n");
    let prepared = analyze(&run.trace);
    let boxes: Vec<BlockIdx> =
        allocs(&run.trace).into_iter().filter(|a| a.2 == Cause::Literal && a.1 == 16).map(|a| a.0).collect();
    assert_eq!(boxes.len(), 2);
    let gcs = gc_events(&run.trace);
    assert_eq!(gcs.len(), 2);
    let deaths = prepared.deaths(false);
    let death = |b: BlockIdx| deaths.death[b.0 as usize].unwrap_or(u32::MAX);
    // Both sit only in the channel's buffer at the first GC (fill's frame
    // is gone): alive.
    assert!(death(boxes[0]) > gcs[0] && death(boxes[1]) > gcs[0]);
    // The first was received, by a function that has returned: dead by the
    // second GC (Go clears a buffer slot when it is received from).
    assert!(death(boxes[0]) < gcs[1], "a received value stays reachable through the buffer");
    // The second is still buffered at the second GC.
    assert!(death(boxes[1]) > gcs[1]);
}

#[test]
fn an_unbuffered_handoff_does_not_keep_the_value() {
    let src = r#"package main

import (
	"fmt"
	"runtime"
)

type Box struct {
	next *Box
	v    int
}

func put(c chan *Box) {
	c <- &Box{v: 1}
}

func sender(c chan *Box, done chan bool) {
	put(c)
	done <- true
}

func take(c chan *Box) int {
	a := <-c
	return a.v
}

func main() {
	c := make(chan *Box)
	done := make(chan bool)
	go sender(c, done)
	n := take(c)
	<-done
	runtime.GC()
	fmt.Println(n)
}
"#;
    let run = run_ok(src);
    assert_eq!(run.summary.output, "1\n");
    let prepared = analyze(&run.trace);
    let boxes: Vec<BlockIdx> =
        allocs(&run.trace).into_iter().filter(|a| a.2 == Cause::Literal && a.1 == 16).map(|a| a.0).collect();
    assert_eq!(boxes.len(), 1);
    let gc = gc_events(&run.trace)[0];
    let death = prepared.deaths(false).death[boxes[0].0 as usize].unwrap_or(u32::MAX);
    // Neither frame that held it is left at the GC (put has returned, as
    // `done` says); only the channel could still hold it.
    assert!(death < gc, "the handed-over value stays reachable through the channel");
}

/// The blocks of a cause, as (size) in allocation order.
fn sizes_of(trace: &Trace, cause: Cause) -> Vec<u64> {
    allocs(trace).into_iter().filter(|a| a.2 == cause).map(|a| a.1).collect()
}

#[test]
fn closures_capture_by_value_unless_reassigned_or_large() {
    let src = r#"package main

import "fmt"

func main() {
	a := [4]int{1, 2, 3, 4}
	f := func() int { return a[0] + a[3] }
	n := 0
	n = 5
	g := func() int { n++; return n }
	big := [20]int{7}
	h := func() int { return big[0] }
	fmt.Println(f(), g(), h())
	fmt.Println(n)
}
"#;
    let run = run_ok(src);
    assert_eq!(run.summary.output, "5 6 7\n6\n");
    analyze(&run.trace);
    // `a` (32 bytes, never reassigned) is copied into f's closure: the code
    // pointer and the array. `n` (reassigned) and `big` (160 bytes > 128)
    // live in blocks of their own, and g's and h's closures hold pointers.
    assert_eq!(sizes_of(&run.trace, Cause::Closure), [8 + 32, 16, 16]);
    assert_eq!(sizes_of(&run.trace, Cause::Var), [8, 160]);
}

#[test]
fn taking_an_address_makes_a_var_block() {
    let run = run_ok("package main\n\nimport \"fmt\"\n\nfunc main() {\n\tx := 7\n\ty := 1\n\tp := &x\n\t*p = 8\n\tfmt.Println(x, y)\n}\n");
    assert_eq!(run.summary.output, "8 1\n");
    analyze(&run.trace);
    // x alone: y's address is never taken.
    assert_eq!(allocs(&run.trace).iter().map(|a| (a.1, a.2)).collect::<Vec<_>>(), [(8, Cause::Var)]);
}

#[test]
fn new_of_zero_bytes_allocates_nothing() {
    let src = "package main\n\nimport \"fmt\"\n\ntype E struct{}\n\nfunc main() {\n\tp := new(E)\n\tq := new([0]int)\n\tr := new(int)\n\tfmt.Println(p != nil, q != nil, *r)\n}\n";
    let run = run_ok(src);
    assert_eq!(run.summary.output, "true true 0\n");
    analyze(&run.trace);
    assert_eq!(sizes_of(&run.trace, Cause::New), [8]);
}

// ----- 5. robustness -----

/// The shipped programs' sources, by name (read once).
fn shipped_sources() -> &'static [(String, String)] {
    static SOURCES: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    SOURCES.get_or_init(|| {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(go_dir()).expect("workloads/go") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "go") {
                let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
                out.push((name, std::fs::read_to_string(&path).expect("read a program")));
            }
        }
        out.sort();
        out
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete(prop::sample::Index),
    Swap(prop::sample::Index, prop::sample::Index),
    Duplicate(prop::sample::Index),
}

fn mutate(src: &str, m: &Mutation) -> String {
    let mut lines: Vec<&str> = src.lines().collect();
    match m {
        Mutation::Delete(i) => {
            lines.remove(i.index(lines.len()));
        }
        Mutation::Swap(i, j) => {
            let (i, j) = (i.index(lines.len()), j.index(lines.len()));
            lines.swap(i, j);
        }
        Mutation::Duplicate(i) => {
            let i = i.index(lines.len());
            lines.insert(i, lines[i]);
        }
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>()).prop_map(|(i, j)| Mutation::Swap(i, j)),
        any::<prop::sample::Index>().prop_map(Mutation::Duplicate),
    ]
}

proptest! {
    // A fixed seed: the same cases on every run.
    #![proptest_config(ProptestConfig {
        cases: 300,
        rng_seed: RngSeed::Fixed(0x60_7e57),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Mutated programs run under a step budget: an error or a sound
    /// trace, never a panic, and no internal error.
    #[test]
    fn mutated_programs_never_panic(
        program in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..3),
    ) {
        let sources = shipped_sources();
        let (name, src) = &sources[program.index(sources.len())];
        let mut mutated = src.clone();
        for m in &mutations {
            mutated = mutate(&mutated, m);
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(name);
        std::fs::write(&path, &mutated).expect("write the program");
        let opts = GoTraceOptions { max_steps: Some(20_000), ..capture() };
        match trace_files(&[path], &opts) {
            Ok(run) => {
                if let Err(e) = analysis::analyze(&run.trace) {
                    panic!("{name} {mutations:?}: the trace is unsound: {e}");
                }
            }
            Err(e) => {
                prop_assert!(!e.msg.contains("internal error"), "{name} {mutations:?}: {e}");
                prop_assert!(!e.msg.is_empty());
            }
        }
    }
}
