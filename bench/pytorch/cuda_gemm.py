"""torch.matmul fp32 (TF32 off) at the GPT-2 124M shapes `attnlab bench gemm --device cuda --json` times.

    python3 cuda_gemm.py --from ours_gemm.json > torch_gemm.json
Reads the shapes (m, n, k, form) from our JSON so both sides time exactly the same products.
"""
import argparse, json
import torch
from cuda_common import strict_fp32, best_ms


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--from", dest="source", required=True, help="JSON of attnlab bench gemm --device cuda --json")
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()
    dev = strict_fp32()
    ours = json.load(open(a.source))
    rows = []
    for s in ours["shapes"]:
        m, n, k, form = s["m"], s["n"], s["k"], s["form"]
        # A is (m, k) or stored (k, m) when transposed; B is (k, n) or stored (n, k)
        A = torch.randn(k, m, device=dev).t() if form[0] == "T" else torch.randn(m, k, device=dev)
        B = torch.randn(n, k, device=dev).t() if form[1] == "T" else torch.randn(k, n, device=dev)
        C = torch.empty(m, n, device=dev)
        ms = best_ms(lambda: torch.matmul(A, B, out=C), a.repeat)
        rows.append(dict(name=s["name"], m=m, n=n, k=k, form=form, ms=ms, gflops=2.0 * m * n * k / (ms * 1e6)))
    print(json.dumps(dict(device=torch.cuda.get_device_name(), torch=torch.__version__, shapes=rows), indent=2))


if __name__ == "__main__":
    main()
