#!/usr/bin/env bash
# Runs our CUDA benchmarks and PyTorch's side by side on this machine's GPU, in one go, and prints the comparison.
#   bench/cuda/run.sh [RESULTS_DIR]        (default bench/cuda/results-<timestamp>)
# Needs: the NVIDIA driver, python3 with torch (CUDA build), and attnlab: $ATTNLAB, else the self-contained publish that
# bench/cuda/package.sh puts beside this script (attnlab/attnlab), else the .NET 10 SDK to build it here.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-bench/cuda/results-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
if [[ -z "${ATTNLAB:-}" && -x attnlab/attnlab ]]; then
  ATTNLAB=attnlab/attnlab
elif [[ -z "${ATTNLAB:-}" ]]; then
  dotnet build src/AttentionLab.Cli -c Release -v q >/dev/null
  ATTNLAB="dotnet src/AttentionLab.Cli/bin/Release/net10.0/attnlab.dll"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
$ATTNLAB devices | tee "$out/devices.txt"
py=bench/pytorch

echo "== GEMM (GPT-2 124M shapes, 8 × 1024 tokens)"
$ATTNLAB bench gemm --device cuda --repeat 10 --json > "$out/ours_gemm.json"
python3 $py/cuda_gemm.py --from "$out/ours_gemm.json" --repeat 10 > "$out/torch_gemm.json"

echo "== attention (causal, d 64, T = 1024..8192)"
$ATTNLAB bench attention --device cuda --variants flash --causal --batch 1 --heads 12 --head-dim 64 --seq-lens 1024,2048,4096,8192 --repeat 5 --json > "$out/ours_attention.json"
python3 $py/cuda_attention.py --batch 1 --heads 12 --head-dim 64 --lengths 1024,2048,4096,8192 --repeat 5 > "$out/torch_attention.json"

echo "== GPT-2 124M training step (batch 8 × 1024)"
$ATTNLAB bench train --device cuda --preset gpt2-124m --batch 8 --context 1024 --steps 5 --warmup 1 --attention flash --json > "$out/ours_step.json"
python3 $py/cuda_gpt2_step.py --batch 8 --context 1024 --steps 5 --warmup 1 > "$out/torch_step.json"

python3 $py/cuda_compare.py "$out" | tee "$out/comparison.md"
echo "results in $out"
