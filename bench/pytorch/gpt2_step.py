"""PyTorch baseline for `attnlab bench train`: ms per GPT-2 training step (forward, backward, AdamW) on CPU.

Run on the same machine as our benchmark, side by side:
    python3 gpt2_step.py --threads 2 --preset gpt2-124m --batch 4 --context 64
    python3 gpt2_step.py --threads 2 --preset char-small --batch 12 --context 64
Uses Hugging Face transformers' GPT2LMHeadModel (eager attention, float32, no dropout).
"""
import argparse, json, math, time
import torch
from transformers import GPT2Config, GPT2LMHeadModel

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
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = GPT2Config(**PRESETS[a.preset], resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    cfg._attn_implementation = "eager"
    model = GPT2LMHeadModel(cfg)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    x = torch.randint(0, cfg.vocab_size, (a.batch, a.context))
    times = []
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        out = model(input_ids=x, labels=x)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()
        dt = time.perf_counter() - t0
        if step >= a.warmup:
            times.append(dt)
    times.sort()
    ms = 1000 * times[len(times) // 2]
    print(json.dumps({"framework": f"torch {torch.__version__}", "threads": a.threads, "preset": a.preset,
                      "batch": a.batch, "context": a.context, "ms_per_step_median": ms,
                      "ms_per_step_min": 1000 * times[0],
                      "tokens_per_s": a.batch * a.context / (ms / 1000),
                      "params": sum(p.numel() for p in model.parameters())}))

if __name__ == "__main__":
    main()
