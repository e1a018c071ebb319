#!/usr/bin/env bash
# The real Qwen2-VL-2B-Instruct network (random weights, saved as the hub ships it: sharded BF16) through Hugging Face
# transformers and through `latte ask`, side by side on this machine: the same greedy tokens, and load time, prefill,
# seconds per generated token and peak RSS of each. Not part of CI (it needs ~3 GB of Python packages, ~5 GB of disk
# and ~15 GB of memory, and takes a few minutes). Prints a Markdown table and a JSON line; exits 1 if the tokens differ.
#
# Environment: HF_VENV (a venv with torch 2.14.1 + transformers 5.17.0; default target/paper-scale/venv, installed from
# the wheel mirror as shared/SPIKE-NOTES.md describes when missing), THREADS (default 2, both engines),
# OPENBLAS_CORETYPE (default SKYLAKEX: ND4J's OpenBLAS 0.3.19 does not recognise recent Xeons, see
# docs/DESIGN-NOTES.md), MAX_NEW_TOKENS (default 16).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
OUT="$ROOT/target/paper-scale"
MODEL="$OUT/Qwen2-VL-2B-random"
VENV="${HF_VENV:-$OUT/venv}"
THREADS="${THREADS:-2}"
N="${MAX_NEW_TOKENS:-16}"
QUESTION="What is in this picture?"
PY="$ROOT/examples/paper-scale/full_size_check.py"
mkdir -p "$OUT"

if [[ ! -x "$VENV/bin/python" ]]; then
  read -r -a MIRRORS <<<"$(pip config get global.extra-index-url 2>/dev/null || echo)"
  [[ ${#MIRRORS[@]} -ge 1 ]] || { echo "full-size-check: set HF_VENV or configure the wheel mirror (pip config)" >&2; exit 2; }
  PIP=("$VENV/bin/pip" install --index-url "${MIRRORS[0]}" ${MIRRORS[1]:+--extra-index-url "${MIRRORS[1]}"})
  python3 -m venv "$VENV"
  "${PIP[@]}" --no-deps torch==2.14.1 torchvision==0.29.1
  "${PIP[@]}" filelock typing-extensions setuptools sympy networkx jinja2 fsspec \
    "cuda-toolkit[cublas,cudart,cufft,cufile,cupti,curand,cusolver,cusparse,nvjitlink,nvrtc,nvtx]==13.0.3" \
    nvidia-cudnn-cu13==9.24.0.43 nvidia-cusparselt-cu13==0.8.1 nvidia-nccl-cu13==2.30.7 nvidia-nvshmem-cu13==3.4.5
  "${PIP[@]}" transformers==5.17.0 safetensors pillow numpy tokenizers
fi

[[ -f "$MODEL/model.safetensors.index.json" ]] || "$VENV/bin/python" "$PY" make --out "$MODEL"

OMP_NUM_THREADS="$THREADS" /usr/bin/time -v -o "$OUT/hf.time" "$VENV/bin/python" "$PY" hf --model "$MODEL" \
  --image "$OUT/test-image.png" --question "$QUESTION" --max-new-tokens "$N" --threads "$THREADS" --json "$OUT/hf.json" >&2

# ND4J allocates off the Java heap; JavaCPP's default cap is the heap size, far below a 2.2 B-parameter model in F32.
# The cap is also where JavaCPP collects dead temporaries, so it must not be 0 (unlimited).
OMP_NUM_THREADS="$THREADS" OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-SKYLAKEX}" \
  LATTE_JAVA_OPTS="${LATTE_JAVA_OPTS:--Xmx1g -Dorg.bytedeco.javacpp.maxbytes=9500M -Dorg.bytedeco.javacpp.maxphysicalbytes=15G}" \
  /usr/bin/time -v -o "$OUT/latte.time" "$ROOT/latte" answer --model "$MODEL" --image "$OUT/test-image.png" \
  --question "$QUESTION" --max-new-tokens "$N" --timing "$OUT/latte.json" >&2

"$VENV/bin/python" "$PY" report --hf "$OUT/hf.json" --latte "$OUT/latte.json" --hf-time "$OUT/hf.time" --latte-time "$OUT/latte.time"
