"""scaled_dot_product_attention fp32 (TF32 off), causal, d = 64: forward and forward+backward at T = 1024..8192,
the rows `attnlab bench attention --device cuda --variants flash --causal --json` times (same B, H, T, D), plus peak memory per call.

    python3 cuda_attention.py --batch 1 --heads 12 --lengths 1024,2048,4096,8192 > torch_attention.json
"""
import argparse, json
import torch
import torch.nn.functional as F
from cuda_common import strict_fp32, best_ms


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--head-dim", type=int, default=64)
    p.add_argument("--lengths", default="1024,2048,4096,8192")
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()
    dev = strict_fp32()
    rows = []
    for t in [int(x) for x in a.lengths.split(",")]:
        shape = (a.batch, a.heads, t, a.head_dim)
        q, k, v = (torch.randn(shape, device=dev, requires_grad=True) for _ in range(3))
        dO = torch.randn(shape, device=dev)
        fwd = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)
        def both():
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            o.backward(dO)
        forward_ms = best_ms(lambda: torch.no_grad()(fwd)(), a.repeat)
        torch.cuda.reset_peak_memory_stats()
        both_ms = best_ms(both, a.repeat)
        rows.append(dict(length=t, batch=a.batch, heads=a.heads, head_dim=a.head_dim, causal=True,
                         forward_ms=forward_ms, forward_backward_ms=both_ms,
                         peak_mib=torch.cuda.max_memory_allocated() / 2**20))
    print(json.dumps(dict(device=torch.cuda.get_device_name(), torch=torch.__version__, rows=rows), indent=2))


if __name__ == "__main__":
    main()
