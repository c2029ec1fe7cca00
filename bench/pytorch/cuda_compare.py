"""Side-by-side table (Markdown) of our CUDA benchmarks and PyTorch's, from the JSON files bench/cuda/run.sh writes.

    python3 cuda_compare.py RESULTS_DIR
Ratios are ours / theirs in throughput (GEMM GFLOP/s) and theirs / ours in time (attention, training step), so
> 1 means we are faster; the issue's targets are GEMM ≥ 0.5, flash ≥ 0.5, training step ≥ 0.5 (within 2×).
"""
import json, os, sys


def load(d, name):
    return json.load(open(os.path.join(d, name)))


def main():
    d = sys.argv[1]
    og, tg = load(d, "ours_gemm.json"), load(d, "torch_gemm.json")
    print(f"## GEMM fp32 (TF32 off), GPT-2 124M shapes at 8 × 1024 tokens — {tg['device']}, torch {tg['torch']}\n")
    print("| product | m | n | k | form | ours GFLOP/s | torch.matmul GFLOP/s | ours / torch |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for o, t in zip(og["shapes"], tg["shapes"]):
        print(f"| {o['name']} | {o['m']} | {o['n']} | {o['k']} | {o['form']} | {o['gflops']:.0f} | {t['gflops']:.0f} | {o['gflops'] / t['gflops']:.2f} |")
    oa, ta = load(d, "ours_attention.json"), load(d, "torch_attention.json")
    print("\n## Flash attention fp32, causal, d 64 (ours) vs scaled_dot_product_attention (torch)\n")
    print("| T | ours fwd ms | torch fwd ms | torch/ours | ours fwd+bwd ms | torch fwd+bwd ms | torch/ours | ours saved floats |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for o, t in zip(oa["rows"], ta["rows"]):
        print(f"| {o['length']} | {o['forward_ms']:.3f} | {t['forward_ms']:.3f} | {t['forward_ms'] / o['forward_ms']:.2f} | "
              f"{o['forward_backward_ms']:.3f} | {t['forward_backward_ms']:.3f} | {t['forward_backward_ms'] / o['forward_backward_ms']:.2f} | {o['saved_floats']:,} |")
    os_, ts = load(d, "ours_step.json"), load(d, "torch_step.json")
    print("\n## GPT-2 124M training step, batch 8 × 1024, fp32\n")
    print("| | ms/step | tokens/s |")
    print("|---|---:|---:|")
    print(f"| ours ({os_['attention']} attention) | {os_['ms_per_step']:.1f} | {os_['tokens_per_s']:.0f} |")
    print(f"| PyTorch eager | {ts['ms_per_step']:.1f} | {ts['tokens_per_s']:.0f} |")
    print(f"\ntorch / ours time ratio: {ts['ms_per_step'] / os_['ms_per_step']:.2f} (target ≥ 0.5: within 2×)")


if __name__ == "__main__":
    main()
