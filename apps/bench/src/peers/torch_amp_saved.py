"""What PyTorch's autograd graph saves for the amp suite's MLP (8 x (Linear(256,256) + ReLU), then
.float().mean()), in float32 and under torch.autocast('cpu') (bfloat16), counted the way PyTorch
itself exposes it: every tensor handed to torch.autograd.graph.saved_tensors_hooks' pack hook,
each storage counted once (ReLU's output is saved by ReLU and by the next Linear).

A saved tensor with the batch as a dim is an activation; the others are parameters or their
autocast copies (the weight casts PyTorch caches per autocast region). Reads {"batch": N} on stdin,
writes JSON: {mode: {activation_bytes, weight_bytes, activations: [[shape, dtype]...], weights: [...]}}.
Run: echo '{"batch": 512}' | /usr/bin/python3 torch_amp_saved.py
"""
import json
import sys

import torch

BLOCKS = 8


def count(batch, autocast):
    torch.manual_seed(7)
    model = torch.nn.Sequential(*[m for _ in range(BLOCKS) for m in (torch.nn.Linear(256, 256), torch.nn.ReLU())])
    x = torch.randn(batch, 256)
    seen = {}

    def pack(t):
        key = (t.storage().data_ptr(), t.dtype)
        if key not in seen:
            seen[key] = (list(t.shape), str(t.dtype).replace('torch.', ''), t.storage().nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        with torch.autocast('cpu', enabled=autocast):
            loss = model(x).float().mean()
    loss.backward()
    acts = [v for v in seen.values() if batch in v[0]]
    weights = [v for v in seen.values() if batch not in v[0]]
    return {
        'activation_bytes': sum(v[2] for v in acts),
        'weight_bytes': sum(v[2] for v in weights),
        'activations': sorted([v[0], v[1]] for v in acts),
        'weights': sorted([v[0], v[1]] for v in weights),
    }


def main():
    batch = int(json.load(sys.stdin)['batch'])
    if batch == 256:
        raise SystemExit('batch must differ from the feature size (256) to tell activations from weights')
    out = {'torch': torch.__version__, 'float32': count(batch, False), 'autocast bfloat16': count(batch, True)}
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
