#!/usr/bin/env bash
# Green Tea against classic marking: `greentea` and `concurrent` on the same
# traces, `gcwb compare --repeat $REPEAT` per workload (collectors
# alternating between repetitions). Every figure of the README's "Green
# Tea" table comes from here; results go to results/greentea/ (table.csv,
# COMMAND.txt, one compare folder per workload).
#
#   bash scripts/greentea.sh                  # REPEAT=5 OUT=results/greentea
#   TABLE_ONLY=1 bash scripts/greentea.sh     # redo table.csv only
#
# table.csv, per workload and collector (medians over repetitions unless
# said): GC count; mark CPU (the collector's threads, cycles.csv
# mark_cpu_ns summed) and with assists (assists.csv added); bytes marked;
# mark CPU per MiB marked and MiB marked per mark-CPU second; pooled pause
# p50/p99/max; MMU at 10 ms; wall time; and, from greentea's own cycle
# metrics, spans scanned, objects per span scan, the share of span scans
# that were dense and the share of scans that took the one-mark fast path.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-5}
OUT=${OUT:-results/greentea}
mkdir -p "$OUT"

cargo build --release --locked --bin gcwb >&2
GCWB=$PWD/target/release/gcwb

# name|workload options
CONFIGS=(
    "gcbench|--workload gcbench"
    "binary-trees|--workload binary-trees --set max_depth=16"
    "graph|--workload graph --set nodes=1000000 --set mutations=2000000"
    "server|--workload server --set requests=2000"
    "cache|--workload cache"
    "fragment|--workload fragment"
)

[[ -n ${TABLE_ONLY:-} ]] || {
    echo "command: REPEAT=$REPEAT OUT=$OUT bash scripts/greentea.sh"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "gcwb: $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)')"
    echo "machine: nproc=$(nproc) mem=$(awk '/MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo) $(rustc --version)"
    echo "hardware counters: $(perf stat -e cache-misses true 2>&1 | grep -q 'not supported' && echo 'not supported on this machine (perf stat: <not supported>)' || echo 'see perf.txt')"
} >"$OUT/COMMAND.txt"

for c in "${CONFIGS[@]}"; do
    [[ -n ${TABLE_ONLY:-} ]] && break
    IFS='|' read -r name opts <<<"$c"
    dir="$OUT/$name"
    # shellcheck disable=SC2086 # the options are words
    echo "+ gcwb compare $opts --collectors concurrent,greentea --repeat $REPEAT --no-charts -q --out $dir" |
        tee -a "$OUT/COMMAND.txt" >&2
    # shellcheck disable=SC2086
    "$GCWB" compare $opts --collectors concurrent,greentea --repeat "$REPEAT" --no-charts -q --out "$dir" >/dev/null
done

python3 - "$OUT" <<'PY' >"$OUT/table.csv"
import csv, glob, os, statistics, sys
out = sys.argv[1]
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0
def rows(path):
    return list(csv.DictReader(open(path))) if os.path.exists(path) else []
def num(r, k):
    v = r.get(k, "")
    return float(v) if v not in ("", None) else 0.0

print("workload,collector,repeats,gc_count,mark_cpu_ns,mark_cpu_with_assists_ns,marked_bytes,"
      "mark_cpu_ns_per_mib,mib_marked_per_cpu_s,pause_p50_ns,pause_p99_ns,pause_max_ns,mmu_10ms,wall_ns,"
      "spans_scanned,objects_per_span_scan,dense_span_share,one_mark_scan_share")
for d in sorted(glob.glob(os.path.join(out, "*", ""))):
    name = os.path.basename(os.path.dirname(d))
    reps = sorted(glob.glob(os.path.join(d, "reps", "*")))
    if not reps:
        continue
    collectors = sorted({r["collector"] for rep in reps for r in rows(os.path.join(rep, "summary.csv"))})
    for c in collectors:
        per = []
        pauses = []
        for rep in reps:
            summ = [r for r in rows(os.path.join(rep, "summary.csv")) if r["collector"] == c]
            if not summ:
                continue
            s = summ[0]
            cyc = [r for r in rows(os.path.join(rep, "cycles.csv")) if r["collector"] == c]
            cpu = sum(num(r, "mark_cpu_ns") for r in cyc)
            assists = sum(num(r, "duration_ns") for r in rows(os.path.join(rep, "assists.csv")) if r.get("collector", c) == c)
            marked = sum(num(r, "marked_bytes") for r in cyc)
            spans = sum(num(r, "spans_scanned") for r in cyc)
            span_objs = sum(num(r, "span_objects_scanned") for r in cyc)
            dense = sum(num(r, "dense_spans_scanned") for r in cyc)
            one = sum(num(r, "one_mark_span_scans") for r in cyc)
            pauses += [int(r["duration_ns"]) for r in rows(os.path.join(rep, "pauses.csv"))
                       if r["collector"] == c and r["trigger"] != "final"]
            per.append(dict(gc=num(s, "gc_count"), cpu=cpu, cpu_a=cpu + assists, marked=marked,
                            per_mib=(cpu + assists) / (marked / 2**20) if marked else 0,
                            rate=(marked / 2**20) / ((cpu + assists) / 1e9) if cpu else 0,
                            mmu=num(s, "mmu_10ms"), wall=num(s, "wall_ns"), spans=spans,
                            ops=span_objs / spans if spans else 0, dense=dense / spans if spans else 0,
                            one=one / spans if spans else 0))
        med = lambda k: statistics.median(p[k] for p in per)
        print(f"{name},{c},{len(per)},{med('gc'):g},{med('cpu'):.0f},{med('cpu_a'):.0f},{med('marked'):.0f},"
              f"{med('per_mib'):.0f},{med('rate'):.1f},{pct(pauses, .5)},{pct(pauses, .99)},{max(pauses, default=0)},"
              f"{med('mmu'):.4f},{med('wall'):.0f},{med('spans'):.0f},{med('ops'):.2f},{med('dense'):.3f},{med('one'):.3f}")
PY
column -s, -t <"$OUT/table.csv" >&2

# The chart: greentea's mark CPU per MiB marked as a share of concurrent's,
# per workload, with and without assists (an SVG, no plotting library).
python3 - "$OUT" <<'PY' >"$OUT/mark-cpu-ratio.svg"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/table.csv")))
by = {(r["workload"], r["collector"]): r for r in rows}
workloads = [w for w in dict.fromkeys(r["workload"] for r in rows) if (w, "greentea") in by and (w, "concurrent") in by]
def per_mib(r, cpu):
    return float(r[cpu]) / (float(r["marked_bytes"]) / 2**20)
series = [("collector threads (mark_cpu_ns)", "mark_cpu_ns", "#CC79A7"),
          ("with mark assists", "mark_cpu_with_assists_ns", "#0072B2")]
ratios = {(w, c): per_mib(by[(w, "greentea")], c) / per_mib(by[(w, "concurrent")], c) for w in workloads for _, c, _ in series}
W, H, left, top, bottom = 720, 380, 70, 50, 60
plot_w, plot_h = W - left - 20, H - top - bottom
ymax = max(1.5, max(ratios.values()) * 1.1)
y = lambda v: top + plot_h * (1 - v / ymax)
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="13">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">greentea mark CPU per MiB marked, relative to concurrent (median of 5)</text>']
for t in [0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]:
    if t <= ymax:
        out.append(f'<line x1="{left}" x2="{W-20}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="{"#444" if t == 1 else "#ddd"}" stroke-width="{1.5 if t == 1 else 1}"/>')
        out.append(f'<text x="{left-8}" y="{y(t)+4:.1f}" text-anchor="end">{t:g}</text>')
out.append(f'<text x="18" y="{top+plot_h/2}" transform="rotate(-90 18 {top+plot_h/2})" text-anchor="middle">greentea / concurrent</text>')
group = plot_w / len(workloads)
bar = group * 0.32
for i, w in enumerate(workloads):
    x0 = left + i * group + group * 0.16
    for j, (_, c, color) in enumerate(series):
        v = ratios[(w, c)]
        x = x0 + j * bar
        out.append(f'<rect x="{x:.1f}" y="{y(v):.1f}" width="{bar-2:.1f}" height="{y(0)-y(v):.1f}" fill="{color}"/>')
        out.append(f'<text x="{x+bar/2-1:.1f}" y="{y(v)-4:.1f}" text-anchor="middle" font-size="11">{v:.2f}</text>')
    out.append(f'<text x="{left + i*group + group/2:.1f}" y="{y(0)+18:.1f}" text-anchor="middle">{w}</text>')
for j, (label, _, color) in enumerate(series):
    lx = left + 10 + j * 260
    out.append(f'<rect x="{lx}" y="{H-22}" width="12" height="12" fill="{color}"/><text x="{lx+18}" y="{H-12}">{label}</text>')
out.append("below 1: greentea marks for less CPU".join(['<text x="%d" y="%d" text-anchor="end" font-size="11" fill="#444">' % (W-24, top-6), '</text>']))
out.append("</svg>")
print("\n".join(out))
PY
