"""Whole-step times of the standard workloads on 1 and 2 threads, gantry beside PyTorch, with
both held to one instruction set, in alternating rounds; prints the medians as a table.

    python3 benches/peers/thread_scaling.py --python /path/to/torch/python [--paths avx2,avx512]
        [--rounds 3] [--gantry target/release/gantry] [--out scaling.jsonl]
    python3 benches/peers/thread_scaling.py --table-from scaling.jsonl [more.jsonl ...]

A round runs, for each path, each thread count and each workload W,
`benches/peers/torch_gan_steps.py T W` and `gantry bench --workload W --iters 15 --warmup 3`
one right after the other, so the two of a pair are seconds apart. gantry's path is forced with
GANTRY_SIMD; PyTorch's with ATEN_CPU_CAPABILITY (its own kernels), ONEDNN_MAX_CPU_ISA
(convolutions) and MKL_ENABLE_INSTRUCTIONS (matrix products), so "avx2" is what an AVX2-only
CPU would run. Threads: RAYON_NUM_THREADS for gantry, the script's argument for PyTorch.
Every JSON line the two print is kept (with "round" and "path" added) in --out.

The table gives, per workload, path and peer, the median ms per step on 1 and 2 threads and
the speed-up 1 -> 2 (the ratio of the medians), then PyTorch ms / gantry ms on 1 and 2
threads (ratios of the medians), the median of the 2-thread ratios round by round (each
pair seconds apart, so the machine's drift between rounds cancels), and last the ceiling of
that ratio on 2 threads: PyTorch ms / the ms a step would take if all of it ran at gantry's
roofline (flop_per_iter at the median sgemm_gflops), i.e. the ratio a step that is nothing
but matrix products at full speed would reach. The last column puts both peers' 2-thread
steps against the CPU's arithmetic peak on that path (gantry's fma_gflops): the step's
matrix-product flops (flop_per_iter, the same for both peers) over its median time, as a
share of the peak, gantry's / PyTorch's; PyTorch ÷ gantry is their quotient. Files from
before fma_gflops existed show "-" there.

Given several --table-from files, each one sitting, a second table follows: per workload, the
2-thread ratios pair by pair over all the sittings' rounds, their median, and a 95% interval
of that median from the bootstrap over sittings. One sitting's rounds share its machine's
state (other tenants load these machines in spells), so the sittings, not the rounds, are
the independent draws; the interval says how far the median could move with more of them.
"""
import argparse, json, os, random, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["toy-wgangp", "mlp-ns", "dcgan-sn-hinge", "dcgan-wgangp"]
TORCH_ISA = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "avx512": {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE", "MKL_ENABLE_INSTRUCTIONS": "AVX512"},
}


def run(cmd, env):
    out = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]


def measure(args):
    rows = []
    with open(args.out, "w") as out:
        for r in range(args.rounds):
            for path in args.paths.split(","):
                for threads in (1, 2):
                    for w in WORKLOADS:
                        torch = run([args.python, os.path.join(HERE, "torch_gan_steps.py"), str(threads), w],
                                    TORCH_ISA[path])
                        ours = run([args.gantry, "bench", "--workload", w, "--iters", "15", "--warmup", "3"],
                                   {"GANTRY_SIMD": path, "RAYON_NUM_THREADS": str(threads)})
                        for line in torch + ours:
                            line.update(round=r, path=path, threads=threads)
                            out.write(json.dumps(line) + "\n")
                            rows.append(line)
                    print(f"round {r + 1}/{args.rounds}, {path}, {threads} thread(s)", file=sys.stderr, flush=True)
    return rows


def load(files):
    """The lines of earlier --out files, each file's rounds numbered after the previous file's,
    and each line tagged with its file's index ("sitting")."""
    rows, first = [], 0
    for sitting, name in enumerate(files):
        with open(name) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        for line in lines:
            line["round"] += first
            line["sitting"] = sitting
        first = max((l["round"] for l in lines), default=first - 1) + 1
        rows += lines
    return rows


def values(rows, path, peer, workload, threads, key="ms_per_iter"):
    """{round: key} of one peer's lines for a workload, path and thread count."""
    return {x["round"]: x[key] for x in rows if x["path"] == path and x["peer"].startswith(peer)
            and x["workload"] == workload and x["threads"] == threads and x.get(key) is not None}


def pair_ratios(rows, path, workload):
    """{round: PyTorch ms ÷ gantry ms} on 2 threads, for the rounds both peers ran."""
    torch2, ours2 = values(rows, path, "pytorch", workload, 2), values(rows, path, "gantry", workload, 2)
    return {r: torch2[r] / ours2[r] for r in torch2 if r in ours2}


def table(rows, paths):
    def median(*args, **kw):
        v = values(rows, *args, **kw)
        return statistics.median(v.values()) if v else None

    print("| workload | path | PyTorch 1 → 2 threads, ms | speed-up | gantry 1 → 2 threads, ms | speed-up "
          "| PyTorch ÷ gantry, 1 thread | 2 threads | 2 threads, pair by pair | ceiling, 2 threads "
          "| share of FMA peak, 2 threads: gantry / PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for w in WORKLOADS:
        for path in paths:
            t1, t2 = median(path, "pytorch", w, 1), median(path, "pytorch", w, 2)
            g1, g2 = median(path, "gantry", w, 1), median(path, "gantry", w, 2)
            if None in (t1, t2, g1, g2):
                continue
            pairs = statistics.median(pair_ratios(rows, path, w).values())
            flop = median(path, "gantry", w, 2, "flop_per_iter")
            roofline_ms = flop / median(path, "gantry", w, 2, "sgemm_gflops") / 1e6
            peak = median(path, "gantry", w, 2, "fma_gflops")
            share = "-" if peak is None else \
                f"{flop / (g2 * 1e6) / peak:.0%} / {flop / (t2 * 1e6) / peak:.0%}"
            print(f"| {w} | {path} | {t1:.1f} → {t2:.1f} | {t1 / t2:.2f} | {g1:.1f} → {g2:.1f} | {g1 / g2:.2f} "
                  f"| {t1 / g1:.2f} | {t2 / g2:.2f} | {pairs:.2f} | {t2 / roofline_ms:.2f} | {share} |")


def interval(rows, paths, resamples=4000):
    """For files from several sittings: per workload and path, the 2-thread PyTorch ÷ gantry
    ratios pair by pair (each round's own), their median over all rounds, and a 95% interval
    of that median by the bootstrap over sittings (whole sittings drawn with replacement, as
    rounds of one sitting share its machine's state; fixed seed, so the same files print the
    same interval)."""
    rng = random.Random(0)
    sitting_of = {x["round"]: x["sitting"] for x in rows}
    print()
    print("| workload | path | sittings | rounds | 2 threads, pair by pair: median | 95% interval, sittings resampled |")
    print("|---|---|---|---|---|---|")
    for w in WORKLOADS:
        for path in paths:
            by_sitting = {}
            for r, ratio in pair_ratios(rows, path, w).items():
                by_sitting.setdefault(sitting_of[r], []).append(ratio)
            sittings = list(by_sitting.values())
            if len(sittings) < 2:
                continue
            medians = sorted(statistics.median([r for s in rng.choices(sittings, k=len(sittings)) for r in s])
                             for _ in range(resamples))
            low, high = medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]
            rounds = [r for s in sittings for r in s]
            print(f"| {w} | {path} | {len(sittings)} | {len(rounds)} | {statistics.median(rounds):.2f} | {low:.2f}–{high:.2f} |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--python", help="a Python with torch (to measure)")
    p.add_argument("--gantry", default="target/release/gantry")
    p.add_argument("--paths", default="avx2,avx512")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default="scaling.jsonl")
    p.add_argument("--table-from", nargs="+", metavar="JSONL",
                   help="print the table of earlier --out files (their rounds together) instead of measuring")
    args = p.parse_args()
    if args.table_from:
        rows = load(args.table_from)
    elif args.python:
        rows = measure(args)
    else:
        p.error("give --python to measure, or --table-from to tabulate earlier runs")
    table(rows, args.paths.split(","))
    if args.table_from and len(args.table_from) > 1:
        interval(rows, args.paths.split(","))


if __name__ == "__main__":
    main()
