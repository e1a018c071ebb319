#!/usr/bin/env bash
# Issue 18: our engine against the PyTorch peer (bench/torch_peer.py), both sides in one run, one JSON line each.
#   bench/run.sh [sample]  `latte score --tensor latents` against the peer on the same 8 prompts, seeds 0-7, 20 steps,
#                          guidance 3, on the shipped models/latte-emoji, a freshly initialised `bench` preset model
#                          (init seed 0, saved with bench/SavePreset.java) and a copy of it whose zero-initialised
#                          tensors are randomised (a fresh model's proj_out is zero, so its latents are just the noise).
#                          Exit status 1 if any max_abs_latent_diff exceeds 1e-4.
#   bench/run.sh prefill   the VLM prefill of the 9 caption contexts a generate call makes, and of 4 VQA prompts with
#                          their images (bench/EngineBench.java against the peer), on models/latte-emoji and the
#                          randomised `bench` preset model; s per prefill; K/V (and hidden states) within 1e-4.
#   bench/run.sh decode    greedy KV-cached VQA decoding of one prompt, 32 tokens, s per generated token, on the same
#                          two models; the tokens must be identical.
#   bench/run.sh train     a generation training step (forward, backward, Adam) of the `small` preset at batch 32:
#                          LaTtE (K = 4, M = 2; one group per step, then the batch dealt over all groups as
#                          `latte train` does by default) and its Vanilla twin (K = 1), zero-initialised tensors
#                          randomised; the losses before and after one step on the same batch within 1e-4.
#   bench/run.sh all       all four.
# Extra arguments go to every peer command of the mode (sample: e.g. --compile; prefill/decode/train: --repeats N);
# `all` takes none.
# LATTE_JAR=path measures that jar as is (e.g. a copy of examples/target/latte.jar), instead of rebuilding the shared one.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
MODE=sample
case "${1:-}" in
  sample|prefill|decode|train|all) MODE="$1"; shift ;;
esac
[[ $MODE != all || $# -eq 0 ]] || { echo "bench/run.sh all takes no extra arguments (the modes' commands differ)" >&2; exit 2; }
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
[[ -n "${LATTE_JAR:-}" ]] || ./latte --version >/dev/null    # builds the jar when stale
JAR="${LATTE_JAR:-$ROOT/examples/target/latte.jar}"
# a preset model (init seed 0) and its copy with the zero/one-initialised tensors randomised
preset() {
  java -Xmx4g -Dorg.bytedeco.javacpp.cachedir="$ROOT/target/native-cache/javacpp" -DDJL_CACHE_DIR="$ROOT/target/native-cache/djl" \
    -Doffline=true -Dai.djl.offline=true --add-opens=java.base/java.nio=ALL-UNNAMED \
    -cp "$JAR" bench/SavePreset.java "$1" 0 "$TMP/$1" >/dev/null
  "$PY" bench/torch_peer.py perturb --model "$TMP/$1" --out "$TMP/$1-perturbed" >/dev/null
}
status=0
if [[ $MODE == sample || $MODE == all || $MODE == prefill || $MODE == decode ]]; then preset bench; fi
if [[ $MODE == sample || $MODE == all ]]; then
  for m in models/latte-emoji "$TMP/bench" "$TMP/bench-perturbed"; do
    "$PY" bench/torch_peer.py compare --model "$m" "$@" || status=1
  done
fi
for what in prefill decode; do
  if [[ $MODE == "$what" || $MODE == all ]]; then
    for m in models/latte-emoji "$TMP/bench-perturbed"; do
      "$PY" bench/torch_peer.py "$what" --model "$m" "$@" || status=1
    done
  fi
done
if [[ $MODE == train || $MODE == all ]]; then
  preset small
  preset small-vanilla
  "$PY" bench/torch_peer.py train --model "$TMP/small-perturbed" --batch 32 --group-sampling per-step "$@" || status=1
  # per-sample steps draw which rows go to which group, so the graphs meet new shapes for a while: more warm-up
  "$PY" bench/torch_peer.py train --model "$TMP/small-perturbed" --batch 32 --group-sampling per-sample \
    --warmup 8 --repeats 6 "$@" || status=1
  "$PY" bench/torch_peer.py train --model "$TMP/small-vanilla-perturbed" --batch 32 "$@" || status=1   # K = 1: one mode
fi
exit $status
