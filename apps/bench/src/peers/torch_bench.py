"""PyTorch side of Nabla's benchmarks: the same workloads, timed the same way (median of runs).

Two modes. Batch (default): reads {"cases": [...], "timing": {"warmup", "runs", "min_ms"}} (or a
bare list of cases) on stdin and prints one JSON object of results; every time is
{"median": ms, "samples": [ms, ...]} so the report can show the spread. Serve (`--serve`): a
JSON request per line on stdin, a JSON answer per line on stdout, so that the bench can take
PyTorch's samples in rounds interleaved with its own (src/interleave.ts): `setup` builds a case's
steps once, `block` times one of them for a few runs and answers the samples with the process's
CPU time during each. Run by src/peers/pytorch.ts with Debian's python3-torch (/usr/bin/python3),
single-threaded unless a case asks for more threads.

A step is a callable timed whole, or a pair (prepare, timed): `prepare()` runs untimed and its
result is `timed`'s argument (the graph whose backward alone is timed).
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)


TIMING = {"warmup": 3, "runs": 5, "min_ms": 300}
WARMUP_S = 1.0


def split(step):
    """(prepare, timed) of a step; a plain callable prepares nothing."""
    if isinstance(step, tuple):
        return step
    return (lambda: None), (lambda _: step())


def block(step, warmup, runs, min_ms, max_runs=200):
    """Warm-up, then timed runs: at least `runs`, and until `min_ms` spent (at most `max_runs`).
    Returns (wall ms per run, process CPU ms per run)."""
    prepare, timed = split(step)
    # Warm-up stops after WARMUP_S (one call at least), as timing.ts's WARMUP_MS does for the
    # in-process contenders: a warm-up asked in calls costs every contender about the same time.
    warm_end = time.perf_counter() + WARMUP_S
    for i in range(warmup):
        if i > 0 and time.perf_counter() >= warm_end:
            break
        timed(prepare())
    samples, cpu = [], []
    start = time.perf_counter()
    while len(samples) < runs or ((time.perf_counter() - start) * 1000 < min_ms and len(samples) < max(runs, max_runs)):
        p = prepare()
        c0 = time.process_time()
        t0 = time.perf_counter()
        timed(p)
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return samples, cpu


def median_ms(step):
    """{"median": ms, "samples": [...]}: warm-up, then timed runs (the bench's --quick/--runs decide how many)."""
    samples, _ = block(step, TIMING["warmup"], TIMING["runs"], TIMING["min_ms"])
    ordered = sorted(samples)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return {"median": median, "samples": samples}


def timed_all(steps):
    """Batch mode of a case given as named steps: each step's median_ms under its name."""
    return {name: median_ms(step) for name, step in steps.items()}


def per_op(fwd, fwd_bwd, ops):
    """Forward and backward µs per op from the forward and forward+backward timings (backward = fwd+bwd - median fwd)."""
    f = fwd["median"]
    return {
        "forward_us_per_op": {"median": f * 1000 / ops, "samples": [v * 1000 / ops for v in fwd["samples"]]},
        "backward_us_per_op": {"median": (fwd_bwd["median"] - f) * 1000 / ops, "samples": [(v - f) * 1000 / ops for v in fwd_bwd["samples"]]},
        "forward_backward_us_per_op": {"median": fwd_bwd["median"] * 1000 / ops, "samples": [v * 1000 / ops for v in fwd_bwd["samples"]]},
    }


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

    return per_op(median_ms(fwd), median_ms(bwd), 2 * n)


def matmul_steps(n):
    torch.manual_seed(0)
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    return {"ms": lambda: a @ b}


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


def silu_steps(n):
    torch.manual_seed(0)
    x = torch.randn(n, n, requires_grad=True)

    def fwd():
        with torch.no_grad():
            torch.nn.functional.silu(x)

    def fb():
        y = torch.nn.functional.silu(x)
        y.backward(torch.ones_like(y))
        x.grad = None

    return {"fwd_ms": fwd, "fb_ms": fb}


def mlp3_steps(batch):
    """784-256-256-10 ReLU MLP, MSE loss, one SGD step."""
    torch.manual_seed(0)
    sizes = [784, 256, 256, 10]
    params = []
    for i in range(3):
        params.append((torch.randn(sizes[i], sizes[i + 1]) * 0.05).requires_grad_())
        params.append(torch.zeros(sizes[i + 1], requires_grad=True))
    x = torch.randn(batch, 784)
    t = torch.randn(batch, 10)

    def step():
        h = x
        for i in range(3):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < 2:
                h = h.relu()
        loss = ((h - t) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None

    return {"ms": step}


def scalar_steps(n):
    """y = tanh(y·w + b), n times, on 0-d tensors whose w and b are shared leaves: the forward
    (building the graph), and the backward alone (the graph built untimed first)."""
    x = torch.tensor(0.3)
    w = torch.tensor(0.5, requires_grad=True)
    b = torch.tensor(0.1, requires_grad=True)

    def fwd():
        y = x
        for _ in range(n):
            y = torch.tanh(y * w + b)
        return y

    def bwd(y):
        y.backward()
        w.grad = None
        b.grad = None

    return {"fwd": fwd, "bwd": (fwd, bwd)}


def scalar(n):
    """Batch mode: µs per op of the forward and of the backward (each timed on its own)."""
    steps = scalar_steps(n)
    per = lambda t: {"median": t["median"] * 1000 / (3 * n), "samples": [v * 1000 / (3 * n) for v in t["samples"]]}
    return {"forward_us_per_op": per(median_ms(steps["fwd"])), "backward_us_per_op": per(median_ms(steps["bwd"]))}


def silu2_steps(n):
    """Second derivative of SiLU by double backward: grad(sum(grad(sum(silu(x)), x, create_graph)), x)."""
    torch.manual_seed(0)
    x = torch.randn(n, requires_grad=True)

    def step():
        (g,) = torch.autograd.grad(torch.nn.functional.silu(x).sum(), x, create_graph=True)
        (g2,) = torch.autograd.grad(g.sum(), x)
        return g2

    return {"ms": step}


def hvp_steps(batch):
    """Hessian-vector product of an MSE loss through a 256-256-10 tanh MLP, by double backward."""
    torch.manual_seed(0)
    w1 = (torch.randn(256, 256) * 0.06).requires_grad_()
    b1 = torch.zeros(256, requires_grad=True)
    w2 = (torch.randn(256, 10) * 0.06).requires_grad_()
    b2 = torch.zeros(10, requires_grad=True)
    params = [w1, b1, w2, b2]
    x = torch.randn(batch, 256)
    t = torch.randn(batch, 10)
    v = [torch.ones_like(p) for p in params]

    def step():
        loss = ((torch.tanh(x @ w1 + b1) @ w2 + b2 - t) ** 2).mean()
        gs = torch.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * vi).sum() for g, vi in zip(gs, v))
        return torch.autograd.grad(dot, params)

    return {"ms": step}


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


# The cases given as named steps: served to the interleaved cpu suite, or timed whole in batch mode.
STEPS = {"matmul": matmul_steps, "silu": silu_steps, "mlp3": mlp3_steps, "scalar": scalar_steps, "silu2": silu2_steps, "hvp": hvp_steps}

KINDS = {"overhead": overhead, "chain": chain, "mlp": mlp, "scalar": scalar,
         "sort": rows_op("sort"), "topk": rows_op("topk"), "cumsum": rows_op("cumsum"), "cumprod": rows_op("cumprod")}
for _kind, _steps in STEPS.items():
    KINDS.setdefault(_kind, lambda arg, _s=_steps: timed_all(_s(arg)))


def serve():
    """One JSON request per stdin line, one JSON answer per stdout line (see the module's doc)."""
    cases = {}
    print(json.dumps({"torch": torch.__version__, "blas": blas()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            threads = req.get("threads") or 1
            torch.set_num_threads(threads)
            key = f"{req['kind']}:{req['arg']}:{threads}"
            if req["op"] == "setup":
                cases[key] = STEPS[req["kind"]](req["arg"])
                answer = {"steps": sorted(cases[key])}
            elif req["op"] == "block":
                samples, cpu = block(cases[key][req["step"]], req["warmup"], req["runs"], req["min_ms"], req["max_runs"])
                answer = {"samples": samples, "cpu_ms": cpu}
            else:
                raise ValueError(f"unknown op {req['op']}")
        except Exception as e:  # the bench records the cell as not measured, with this reason
            answer = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer), flush=True)


def main():
    if "--serve" in sys.argv:
        serve()
        return
    request = json.load(sys.stdin)
    cases = request["cases"] if isinstance(request, dict) else request
    if isinstance(request, dict):
        TIMING.update(request.get("timing", {}))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas(), "results": {}}
    for c in cases:
        kind, arg = c["kind"], c["arg"]
        threads = c.get("threads")
        torch.set_num_threads(threads or 1)
        key = f"{kind}:{arg}" if threads is None else f"{kind}:{arg}:{threads}"
        out["results"][key] = KINDS[kind](arg)
    json.dump(out, sys.stdout)


def blas():
    """The BLAS behind Debian's python3-torch (BLAS_INFO=generic): whatever libblas.so.3 resolves to,
    the reference BLAS unless libopenblas0 (or BLIS) is installed and selected by update-alternatives."""
    import os

    path = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    for name in ("openblas", "blis", "atlas", "mkl"):
        if name in path.lower():
            return {"openblas": "OpenBLAS", "blis": "BLIS", "atlas": "ATLAS", "mkl": "MKL"}[name]
    return "reference BLAS"


if __name__ == "__main__":
    main()
