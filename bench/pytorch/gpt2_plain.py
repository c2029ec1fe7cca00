"""GPT-2 in plain PyTorch (no transformers), with Hugging Face GPT2LMHeadModel's parameter names and shapes,
so the baselines run where only torch is installed (Debian's python3-torch 1.13 on this machine).

Same architecture and arithmetic as transformers' eager GPT-2: pre-LayerNorm blocks (eps 1e-5), Conv1D
weights stored (in_features, out_features) so y = x @ W + b, causal attention softmax(q·kᵀ/√D) with masked
scores set to the dtype's minimum, GELU tanh approximation, tied lm_head = wte, weights ~ N(0, 0.02) with
the residual projections (c_proj) scaled by 1/√(2·n_layer).

    python3 gpt2_plain.py --check-fixture tests/AttentionLab.Tests/fixtures/gpt2_tiny
checks it against the transformers fixture (logits, loss, parameter names and shapes).
"""
import json, math, struct, sys
import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv1D(nn.Module):
    """transformers' Conv1D: a Linear whose weight is stored transposed, (in_features, out_features)."""
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out).normal_(0.0, 0.02))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):  # (..., n_in) -> (..., n_out)
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)


class Attention(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.H = H
        self.c_attn = Conv1D(C, 3 * C)
        self.c_proj = Conv1D(C, C)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)                      # each (B, T, C)
        q = q.view(B, T, self.H, C // self.H).transpose(1, 2)         # (B, H, T, D)
        k = k.view(B, T, self.H, C // self.H).transpose(1, 2)         # (B, H, T, D)
        v = v.view(B, T, self.H, C // self.H).transpose(1, 2)         # (B, H, T, D)
        s = q @ k.transpose(-2, -1) / math.sqrt(C // self.H)          # (B, H, T, T)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        s = s.masked_fill(~causal, torch.finfo(s.dtype).min)
        y = torch.softmax(s, dim=-1) @ v                              # (B, H, T, D)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))        # (B, T, C)


class MLP(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.c_fc = Conv1D(C, 4 * C)
        self.c_proj = Conv1D(4 * C, C)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C, eps=1e-5)
        self.attn = Attention(C, H)
        self.ln_2 = nn.LayerNorm(C, eps=1e-5)
        self.mlp = MLP(C)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2LMHeadModel(nn.Module):
    """Parameters named as transformers names them: transformer.wte/wpe/h.N.*/ln_f, lm_head (tied)."""
    def __init__(self, vocab_size, n_positions, n_embd, n_layer, n_head):
        super().__init__()
        self.vocab_size = vocab_size
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd),
            wpe=nn.Embedding(n_positions, n_embd),
            h=nn.ModuleList(Block(n_embd, n_head) for _ in range(n_layer)),
            ln_f=nn.LayerNorm(n_embd, eps=1e-5),
        ))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        nn.init.normal_(self.transformer.wte.weight, 0.0, 0.02)
        nn.init.normal_(self.transformer.wpe.weight, 0.0, 0.01)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, ids):  # (B, T) -> logits (B, T, V)
        B, T = ids.shape
        x = self.transformer.wte(ids) + self.transformer.wpe(torch.arange(T, device=ids.device))  # (B, T, C)
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def read_safetensors(path):
    """The safetensors format without the safetensors package: u64 header length, JSON header, raw data."""
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    dtypes = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "I64": torch.int64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=dtypes[info["dtype"]]).view(info["shape"])
    return out


def check_fixture(folder):
    """Loads transformers' save_pretrained output into the plain model and compares logits and loss with
    the reference transformers computed (fixtures/gpt2_tiny/reference.json)."""
    cfg = json.load(open(f"{folder}/config.json"))
    model = GPT2LMHeadModel(cfg["vocab_size"], cfg["n_positions"], cfg["n_embd"], cfg["n_layer"], cfg["n_head"])
    tensors = read_safetensors(f"{folder}/model.safetensors")
    ours = {n: p for n, p in model.named_parameters()}  # lm_head.weight is tied, so it is not listed
    names = set(tensors)
    missing = sorted(set(ours) - names)
    extra = sorted(n for n in names - set(ours) if not n.endswith(".attn.bias") and not n.endswith(".masked_bias"))
    assert not missing and not extra, f"names differ: missing {missing}, extra {extra}"
    with torch.no_grad():
        for n, p in ours.items():
            assert tuple(p.shape) == tuple(tensors[n].shape), f"{n}: {tuple(p.shape)} vs {tuple(tensors[n].shape)}"
            p.copy_(tensors[n])
    ref = json.load(open(f"{folder}/reference.json"))
    x = torch.tensor(ref["x"]["data"]).view(ref["x"]["shape"])
    y = torch.tensor(ref["y"]["data"]).view(ref["y"]["shape"])
    with torch.no_grad():
        logits = model(x)
    expected = torch.tensor(ref["logits"]["data"], dtype=torch.float64).view(ref["logits"]["shape"])
    diff = (logits.double() - expected).abs().max().item()
    loss = F.cross_entropy(logits.view(-1, model.vocab_size), y.view(-1)).item()
    print(json.dumps({"parameters": len(ours), "max_abs_logit_diff": diff, "loss": loss, "loss_transformers": ref["loss"]}))
    ok = diff < 1e-5 and abs(loss - ref["loss"]) < 1e-5
    print("PLAIN_GPT2_MATCHES_TRANSFORMERS" if ok else "PLAIN_GPT2_MISMATCH")
    return ok


def hf_or_plain(impl, vocab_size, n_positions, n_embd, n_layer, n_head):
    """(forward, module, name): transformers' GPT2LMHeadModel (eager attention, no dropout) when impl is
    "hf", or "auto" and transformers is installed; this file's plain model otherwise. forward(ids) gives the
    logits (B, T, V); module has the parameters."""
    if impl in ("auto", "hf"):
        try:
            from transformers import GPT2Config, GPT2LMHeadModel as HF
        except ImportError:
            if impl == "hf":
                sys.exit("--impl hf needs the transformers package, which is not installed (use --impl plain)")
        else:
            cfg = GPT2Config(vocab_size=vocab_size, n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
                             n_head=n_head, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
            cfg._attn_implementation = "eager"
            hf = HF(cfg)
            return (lambda ids: hf(input_ids=ids).logits), hf, "transformers"
    m = GPT2LMHeadModel(vocab_size, n_positions, n_embd, n_layer, n_head)
    return m, m, "plain"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check-fixture":
        sys.exit(0 if check_fixture(sys.argv[2]) else 1)
    sys.exit(__doc__)
