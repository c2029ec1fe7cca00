"""PyTorch baseline for `attnlab bench train`: ms per GPT-2 training step (forward, backward, AdamW) on CPU.

Run on the same machine as our benchmark, side by side:
    python3 gpt2_step.py --threads 2 --preset gpt2-124m --batch 4 --context 64
    python3 gpt2_step.py --threads 2 --preset char-small --batch 12 --context 64
Uses Hugging Face transformers' GPT2LMHeadModel (eager attention, float32, no dropout) when transformers is
installed, else the plain-torch GPT-2 of gpt2_plain.py (same parameters, same arithmetic); --impl picks one.
The loss is cross-entropy of the logits against the inputs shifted by one, as transformers' labels=x does.
"""
import argparse, json, time
import os
# libgomp's threads spin while they wait; on a shared, oversubscribed machine (load ≫ cores) that made a
# 2-thread step 10-20× slower than 1 thread. Passive waiting is the honest setting there; override by
# exporting OMP_WAIT_POLICY=ACTIVE. (Must be set before torch loads libgomp.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch
import torch.nn.functional as F
from gpt2_plain import hf_or_plain

PRESETS = {
    "gpt2-124m": dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12),
    "char-small": dict(vocab_size=65, n_positions=64, n_embd=128, n_layer=4, n_head=4),
}

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--preset", default="gpt2-124m", choices=PRESETS)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--context", type=int, default=64)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--impl", default="auto", choices=["auto", "hf", "plain"],
                   help="transformers' GPT2LMHeadModel (hf), gpt2_plain.py (plain), or hf when installed (auto)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    preset = PRESETS[a.preset]
    forward, model, impl = hf_or_plain(a.impl, **preset)
    V = preset["vocab_size"]
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    x = torch.randint(0, V, (a.batch, a.context))
    times = []
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        logits = forward(x)                                                        # (B, T, V)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if step >= a.warmup:
            times.append(dt)
    times.sort()
    ms = 1000 * times[len(times) // 2]
    print(json.dumps({"framework": f"torch {torch.__version__}", "model": impl, "threads": a.threads, "omp_wait_policy": os.environ["OMP_WAIT_POLICY"], "preset": a.preset,
                      "batch": a.batch, "context": a.context, "ms_per_step_median": ms,
                      "ms_per_step_min": 1000 * times[0],
                      "tokens_per_s": a.batch * a.context / (ms / 1000),
                      "params": sum(p.numel() for p in model.parameters()),
                      # netlib's reference BLAS (/usr/lib/x86_64-linux-gnu/blas/) is ~50x slower than OpenBLAS: not a baseline
                      "blas": blas_library()}))

def blas_library():
    """The BLAS library this process loaded (Debian's torch calls whatever libblas.so.3 the alternatives select)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.split()[-1]}
    except OSError:
        return "unknown"
    return ", ".join(sorted(libs)) or "none loaded"

if __name__ == "__main__":
    main()
