"""PyTorch baseline for `attnlab demo`: char-level GPT on tiny Shakespeare, nanoGPT's CPU config
(4 layers, 128 wide, 4 heads, context 64, batch 12, lr 1e-3 -> 1e-4 cosine, warmup 100, AdamW (0.9, 0.99),
weight decay 0.1, grad clip 1.0, no dropout), reporting validation loss against wall-clock time.

    python3 char_train.py --threads 2 --data data/tinyshakespeare.txt --iters 2000

The model is transformers' GPT2LMHeadModel (eager attention) when transformers is installed, else the
plain-torch GPT-2 of gpt2_plain.py (same parameters, same arithmetic); --impl picks one.
"""
import argparse, json, math, time
import os
# libgomp's threads spin while they wait; on a shared, oversubscribed machine (load ≫ cores) that made a
# 2-thread step 10-20× slower than 1 thread. Passive waiting is the honest setting there; override by
# exporting OMP_WAIT_POLICY=ACTIVE. (Must be set before torch loads libgomp.)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch
from gpt2_plain import hf_or_plain

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default="data/tinyshakespeare.txt")
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--eval-batches", type=int, default=20)
    p.add_argument("--impl", default="auto", choices=["auto", "hf", "plain"],
                   help="transformers' GPT2LMHeadModel (hf), gpt2_plain.py (plain), or hf when installed (auto)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1337)
    text = open(a.data, encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(data))
    train, val = data[:n], data[n:]
    B, T = 12, 64
    V = len(chars)
    forward, model, impl = hf_or_plain(a.impl, vocab_size=V, n_positions=T, n_embd=128, n_layer=4, n_head=4)
    print(json.dumps({"model": impl, "framework": f"torch {torch.__version__}", "threads": a.threads,
                      "omp_wait_policy": os.environ["OMP_WAIT_POLICY"]}), flush=True)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))

    def batch(split):
        d = train if split == "train" else val
        ix = torch.randint(len(d) - T, (B,))
        return torch.stack([d[i:i + T] for i in ix]), torch.stack([d[i + 1:i + 1 + T] for i in ix])

    def lr_at(it, warmup=100, lr=1e-3, min_lr=1e-4):
        if it < warmup:
            return lr * (it + 1) / (warmup + 1)
        r = (it - warmup) / max(1, a.iters - warmup)
        return min_lr + 0.5 * (1 + math.cos(math.pi * min(r, 1.0))) * (lr - min_lr)

    @torch.no_grad()
    def val_loss():
        model.eval()
        ls = []
        for _ in range(a.eval_batches):
            x, y = batch("val")
            ls.append(forward(x).view(-1, V).log_softmax(-1)
                      .gather(1, y.view(-1, 1)).neg().mean().item())
        model.train()
        return sum(ls) / len(ls)

    t0 = time.perf_counter()
    train_time = 0.0
    for it in range(a.iters + 1):
        if it % a.eval_every == 0 or it == a.iters:
            print(json.dumps({"iter": it, "train_seconds": round(train_time, 2), "val_loss": round(val_loss(), 4)}), flush=True)
        if it == a.iters:
            break
        s = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr_at(it)
        x, y = batch("train")
        logits = forward(x)                                                        # (B, T, V)
        loss = torch.nn.functional.cross_entropy(logits.view(-1, V), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        train_time += time.perf_counter() - s
    print(json.dumps({"ms_per_iter": 1000 * train_time / a.iters, "total_seconds": round(time.perf_counter() - t0, 1)}))

if __name__ == "__main__":
    main()
