"""Shared set-up of the CUDA baselines: fp32 with TF32 off (the arithmetic our kernels do), timing with CUDA events."""
import torch


def strict_fp32():
    """PyTorch's fp32 paths with TF32 switched off, so matmul and attention round like plain fp32."""
    if not torch.cuda.is_available():
        raise SystemExit("these baselines need a CUDA GPU (torch.cuda.is_available() is False)")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    return torch.device("cuda")


def best_ms(fn, repeat=5, warmup=1):
    """Best of `repeat` timed calls (ms), after `warmup` untimed ones; each timed with CUDA events."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        best = min(best, start.elapsed_time(end))
    return best
