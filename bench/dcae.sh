#!/usr/bin/env bash
# Issue 20: DcAeCodec against the PyTorch reference (bench/dcae_ref.py) on a full-size random DC-AE f32c32 in the
# diffusers layout: load, encode and decode one 256x256 image on each side (same image, --repeats runs each), time
# and resident memory; one JSON line per side, Java's with max_abs_diff against the reference's tokens and decoder
# output (its decoder is fed the reference's tokens). docs/DCAE.md has the figures.
#   bench/dcae.sh [--repeats N] [--size S]       THREADS=1 (default) sets torch threads and OMP_NUM_THREADS alike
# Needs target/bench-venv (bench/run.sh makes it) and a built tree (./mvnw -o install -DskipTests).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-$ROOT/target/bench-venv/bin/python}"
MODEL="${MODEL:-$ROOT/target/dcae-f32c32}"
THREADS="${THREADS:-1}"
export OMP_NUM_THREADS="$THREADS" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
[[ -f "$MODEL/diffusion_pytorch_model.safetensors" ]] || "$PY" bench/dcae_ref.py full --out "$MODEL" >&2
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PY" bench/dcae_ref.py time --model "$MODEL" --threads "$THREADS" --save "$TMP/ref.safetensors" "$@"
# the core's classes first, so a tree built since the jar was packaged is what runs
CP="$ROOT/model/core/target/classes:${LATTE_JAR:-$ROOT/examples/target/latte.jar}"
java -Xmx4g -Dorg.bytedeco.javacpp.cachedir="$ROOT/target/native-cache/javacpp" -Doffline=true \
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  -cp "$CP" bench/DcAeBench.java --model "$MODEL" --ref "$TMP/ref.safetensors" "$@"
