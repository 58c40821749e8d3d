"""PyTorch's float32 matmul on the shapes of gantry's GEMM benchmark (`cargo bench --bench
kernels -- gemm/`, the list in benches/kernels.rs), with the same labels and the same
transposed views, for a side-by-side GFLOP/s.

    python benches/peers/torch_gemm.py [THREADS] [LABEL_SUBSTRING]   (default: 2, every shape)

Prints one JSON line per shape: the median GFLOP/s of 7 timed batches (each at least 0.2 s of
products, after a warm-up), and the best.
"""
import json, statistics, sys, time
import torch

# (label, m, k, n, A read through a transposed view, B read through a transposed view)
SHAPES = [
    ("256x2 · 2x512", 256, 2, 512, False, False),
    ("256x512 · 512x512", 256, 512, 512, False, False),
    ("256x512 · (512x512)ᵀ", 256, 512, 512, False, True),
    ("256x512 · 512x1", 256, 512, 1, False, False),
    ("(256x512)ᵀ · 256x512", 512, 256, 512, True, False),
    ("64x100 · 100x6272", 64, 100, 6272, False, False),
    ("64x1024 · 1024x784", 64, 1024, 784, False, False),
    ("64x784 · 784x512", 64, 784, 512, False, False),
    ("128x1024 · 1024x3136", 128, 1024, 3136, False, False),
    ("128x3136 · (1024x3136)ᵀ", 128, 3136, 1024, False, True),
    ("1024x128 · 128x3136", 1024, 128, 3136, False, False),
    ("64x16 · 16x12544", 64, 16, 12544, False, False),
    ("(64x16)ᵀ · 64x12544", 16, 64, 12544, True, False),
    ("64x12544 · (16x12544)ᵀ", 64, 12544, 16, False, True),
    ("128x1024 · 1024x49", 128, 1024, 49, False, False),
    ("64x16 · 16x196", 64, 16, 196, False, False),
    ("1024x128 · 128x49", 1024, 128, 49, False, False),
]


def operand(rows, cols, transposed):
    """A rows x cols matrix, stored transposed (and viewed back) if asked."""
    return torch.randn(cols, rows).t() if transposed else torch.randn(rows, cols)


def rate(label, m, k, n, at, bt):
    a, b = operand(m, k, at), operand(k, n, bt)
    out = torch.empty(m, n)
    flop = 2 * m * k * n
    reps = max(1, int(0.2e9 * 50 / flop))  # about 0.2 s at 50 GFLOP/s
    for _ in range(reps):
        torch.mm(a, b, out=out)
    rates = []
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        rates.append(flop * reps / (time.perf_counter() - t) / 1e9)
    return {"peer": f"pytorch-{torch.__version__}", "threads": torch.get_num_threads(), "shape": label,
            "gflops": round(statistics.median(rates), 1), "best_gflops": round(max(rates), 1)}


if __name__ == "__main__":
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    pick = sys.argv[2] if len(sys.argv) > 2 else ""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    for shape in SHAPES:
        if pick in shape[0]:
            print(json.dumps(rate(*shape), ensure_ascii=False), flush=True)
