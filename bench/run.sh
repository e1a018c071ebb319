#!/usr/bin/env bash
# Issue 18: the PyTorch peer (bench/torch_peer.py) against `latte score --tensor latents` on the same 8 prompts,
# seeds 0-7, 20 steps, guidance 3. Prints one JSON line per model: the shipped models/latte-emoji, a freshly
# initialised `bench` preset model (init seed 0, saved with bench/SavePreset.java) and a copy of it whose
# zero-initialised tensors are randomised (a fresh model's proj_out is zero, so its latents are just the noise).
# Exit status 1 if any max_abs_latent_diff exceeds 1e-4. Extra arguments go to every `compare` (e.g. --compile).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# PYTHON: a Python with torch, numpy, tokenizers, safetensors and pyarrow; by default a venv under target/, made here
# from pip's configured wheel mirror (the CPU-only torch 2.13.0 wheel, see shared/SPIKE-NOTES.md) when missing.
VENV="$ROOT/target/bench-venv"
PY="${PYTHON:-$VENV/bin/python}"
cd "$ROOT"
if [[ -z "${PYTHON:-}" && ! -x "$PY" ]]; then
  read -r -a MIRRORS <<<"$(pip config get global.extra-index-url 2>/dev/null || echo)"
  [[ ${#MIRRORS[@]} -ge 1 ]] || { echo "bench/run.sh: set PYTHON or configure the wheel mirror (pip config)" >&2; exit 2; }
  PIP=("$VENV/bin/pip" install -q --index-url "${MIRRORS[0]}" ${MIRRORS[1]:+--extra-index-url "${MIRRORS[1]}"})
  python3 -m venv "$VENV"
  "${PIP[@]}" --no-deps "torch==2.13.0+cpu"
  "${PIP[@]}" filelock typing-extensions "setuptools>=77.0.3" sympy networkx jinja2 fsspec numpy tokenizers safetensors pyarrow
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
./latte --version >/dev/null                     # builds the jar when stale
java -Xmx4g -Dorg.bytedeco.javacpp.cachedir="$ROOT/target/native-cache/javacpp" -DDJL_CACHE_DIR="$ROOT/target/native-cache/djl" \
  -Doffline=true -Dai.djl.offline=true --add-opens=java.base/java.nio=ALL-UNNAMED \
  -cp examples/target/latte.jar bench/SavePreset.java bench 0 "$TMP/bench" >/dev/null
"$PY" bench/torch_peer.py perturb --model "$TMP/bench" --out "$TMP/bench-perturbed" >/dev/null
status=0
for m in models/latte-emoji "$TMP/bench" "$TMP/bench-perturbed"; do
  "$PY" bench/torch_peer.py compare --model "$m" "$@" || status=1
done
exit $status
