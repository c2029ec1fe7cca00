"""PyTorch eager fp32 (TF32 off) GPT-2 124M training step on the GPU: forward, backward, clip, AdamW, the step
`attnlab bench train --device cuda --preset gpt2-124m --batch 8 --context 1024` times. Plain torch (no
transformers): nanoGPT's model with its attention written out (eager), or --sdpa for scaled_dot_product_attention.

    python3 cuda_gpt2_step.py --batch 8 --context 1024 > torch_step.json
"""
import argparse, json, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F
from cuda_common import strict_fp32


class Block(nn.Module):
    def __init__(self, c, h, sdpa):
        super().__init__()
        self.h, self.sdpa = h, sdpa
        self.ln_1, self.ln_2 = nn.LayerNorm(c), nn.LayerNorm(c)
        self.c_attn, self.c_proj = nn.Linear(c, 3 * c), nn.Linear(c, c)
        self.c_fc, self.mlp_proj = nn.Linear(c, 4 * c), nn.Linear(4 * c, c)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (z.view(B, T, self.h, C // self.h).transpose(1, 2) for z in (q, k, v))  # (B, H, T, D)
        if self.sdpa:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(torch.ones(T, T, device=x.device, dtype=torch.bool).triu(1), float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, v=50257, t=1024, c=768, l=12, h=12, sdpa=False):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(v, c), nn.Embedding(t, c)
        self.blocks = nn.ModuleList(Block(c, h, sdpa) for _ in range(l))
        self.ln_f = nn.LayerNorm(c)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1), device=idx.device))
        for b in self.blocks:
            x = b(x)
        logits = self.ln_f(x) @ self.wte.weight.t()  # the head tied to the embedding
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--context", type=int, default=1024)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--sdpa", action="store_true", help="scaled_dot_product_attention instead of eager attention")
    a = p.parse_args()
    dev = strict_fp32()
    torch.manual_seed(0)
    model = GPT(t=max(1024, a.context), sdpa=a.sdpa).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=6e-4, weight_decay=0.1)
    x = torch.randint(0, 50257, (a.batch, a.context), device=dev)
    y = torch.randint(0, 50257, (a.batch, a.context), device=dev)
    times, losses = [], []
    for step in range(a.warmup + a.steps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        torch.cuda.synchronize()
        if step >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
        losses.append(loss.item())
    times.sort()
    print(json.dumps(dict(device=torch.cuda.get_device_name(), torch=torch.__version__, batch=a.batch, context=a.context,
                          attention="sdpa" if a.sdpa else "eager", ms_per_step=times[0], median_ms_per_step=times[len(times) // 2],
                          tokens_per_s=a.batch * a.context / (times[0] / 1000), first_loss=losses[0], last_loss=losses[-1],
                          peak_mib=torch.cuda.max_memory_allocated() / 2**20), indent=2))


if __name__ == "__main__":
    main()
