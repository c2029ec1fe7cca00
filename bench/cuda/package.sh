#!/usr/bin/env bash
# Packs everything bench/cuda/run.sh needs for a GPU machine that has only the NVIDIA driver and python3 + torch (CUDA
# build): a self-contained, UNTRIMMED linux-x64 publish of attnlab (ILGPU compiles kernels from IL by reflection, so
# trimming would break it) plus the benchmark scripts, in one tar.xz.
#   bench/cuda/package.sh [OUT.tar.xz]          (default attnlab-cuda-bench.tar.xz)
# Then, on the GPU machine:
#   tar xJf attnlab-cuda-bench.tar.xz && attnlab-cuda-bench/bench/cuda/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "${1:-attnlab-cuda-bench.tar.xz}")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/attnlab-cuda-bench"
mkdir -p "$root/bench"
dotnet publish src/AttentionLab.Cli -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -o "$root/attnlab" -v q
cp -r bench/cuda bench/pytorch "$root/bench/"
rm -rf "$root"/bench/cuda/results-*
tar cJf "$out" -C "$stage" attnlab-cuda-bench
echo "$out: copy it to the GPU machine, then: tar xJf $(basename "$out") && attnlab-cuda-bench/bench/cuda/run.sh"
