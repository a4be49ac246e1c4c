"""PyTorch side of Nabla's benchmarks: the same workloads, timed the same way (median of runs).

Reads a JSON list of cases on stdin, prints one JSON object of results. Run by src/peers/pytorch.ts
with Debian's python3-torch (/usr/bin/python3), single-threaded so it matches Nabla's one thread.
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)


def median_ms(fn, warmup=3, runs=5, min_ms=300):
    for _ in range(warmup):
        fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < runs or ((time.perf_counter() - start) * 1000 < min_ms and len(samples) < 200):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return samples[len(samples) // 2]


def overhead(n):
    x = torch.tensor(1.5, requires_grad=True)
    state = {}

    def fwd():
        y = x
        for _ in range(n):
            y = y * 1.0001 + 0.001
        state["y"] = y

    def bwd():
        fwd()
        state["y"].backward()

    f = median_ms(fwd)
    fb = median_ms(bwd)
    ops = 2 * n
    return {"forward_us_per_op": f * 1000 / ops, "backward_us_per_op": (fb - f) * 1000 / ops}


def matmul(n):
    torch.manual_seed(0)
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    return {"ms": median_ms(lambda: a @ b)}


def chain(n):
    x = torch.randn(n, requires_grad=True)

    def step():
        y = (x * 2 + 1).tanh() * x
        y.sum().backward()
        x.grad = None

    return {"ms": median_ms(step)}


def mlp(batch):
    torch.manual_seed(0)
    w1 = (torch.randn(784, 256) * 0.05).requires_grad_()
    b1 = torch.zeros(256, requires_grad=True)
    w2 = (torch.randn(256, 10) * 0.05).requires_grad_()
    b2 = torch.zeros(10, requires_grad=True)
    x = torch.randn(batch, 784)
    t = torch.randn(batch, 10)
    params = [w1, b1, w2, b2]

    def step():
        h = (x @ w1 + b1).relu()
        loss = ((h @ w2 + b2 - t) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None

    return {"ms": median_ms(step)}


def rows_op(kind):
    """sort/topk forward, cumsum/cumprod forward+backward on an n×n float32 tensor along dim 1."""

    def bench(n):
        torch.manual_seed(1)
        x = torch.rand(n, n).mul(0.02).add(0.99)
        if kind in ("cumsum", "cumprod"):
            x.requires_grad_(True)
            op = torch.cumsum if kind == "cumsum" else torch.cumprod

            def step():
                y = op(x, 1)
                y.backward(torch.ones_like(y))
                x.grad = None

            return {"ms": median_ms(step)}
        with torch.no_grad():
            if kind == "sort":
                return {"ms": median_ms(lambda: torch.sort(x, 1))}
            return {"ms": median_ms(lambda: torch.topk(x, 10, 1))}

    return bench


def main():
    cases = json.load(sys.stdin)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": {}}
    for c in cases:
        kind, arg = c["kind"], c["arg"]
        fn = {"overhead": overhead, "matmul": matmul, "chain": chain, "mlp": mlp, "sort": rows_op("sort"), "topk": rows_op("topk"),
              "cumsum": rows_op("cumsum"), "cumprod": rows_op("cumprod")}[kind]
        out["results"][f"{kind}:{arg}"] = fn(arg)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
