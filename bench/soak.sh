#!/usr/bin/env bash
# Issue 19, item 3: the soak runs (long runs, not CI tests; results in docs/RELIABILITY.md, section "Soak").
#   bench/soak.sh model [ModelSoak options]   10,000 generations (batches of 8, 20 steps) and 10,000 answers in one JVM
#                                             on models/latte-emoji, resident memory and heap sampled
#                                             -> target/soak/model/{samples.csv,summary.json,run.log}, docs/soak-model.png
#   bench/soak.sh flink [FlinkSoak options]   100,000 mixed generate/answer requests on a JobManager + TaskManager process
#                                             cluster on 127.0.0.1, a TaskManager SIGKILLed and replaced every minute,
#                                             every id checked once in the exactly-once output
#                                             -> target/soak/flink/{samples.csv,kills.csv,summary.json,cluster/}, flink-run.log,
#                                                docs/soak-flink-memory.png, docs/soak-flink-progress.png
#   bench/soak.sh plot model|flink [DIR]      redraws the PNGs from target/soak/<what> (or DIR)
# Runs in the foreground; for a long run: nohup bench/soak.sh model > /dev/null 2>&1 &   (the log goes to run.log)
# Options after the mode go to the driver (e.g. --generations 100 --answers 100 for a short trial; --out DIR).
# The JVM settings are the ./latte launcher's (OMP_NUM_THREADS=1, MALLOC_ARENA_MAX=2, -Xmx4g for the model soak).
# LATTE_JAR: the jar to run (default examples/target/latte.jar, copied to target/soak/ first).
# SOAK_IMAGES: the real PNGs questions are asked about (default data/emoji/google/64 when data/fetch.sh has run).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"
MODE="${1:-}"
shift || true
[[ -n "${LATTE_JAR:-}" || -f examples/target/latte.jar ]] || ./latte --version >/dev/null
# A copy of the jar: a rebuild during a long run would otherwise change the classes under the running JVMs (and
# under the TaskManagers started later in the run).
mkdir -p target/soak
JAR="$ROOT/target/soak/latte-$MODE.jar"
[[ $MODE == plot ]] && JAR="${LATTE_JAR:-$ROOT/examples/target/latte.jar}" || cp "${LATTE_JAR:-$ROOT/examples/target/latte.jar}" "$JAR"
CACHE="$ROOT/target/native-cache"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export DJL_CACHE_DIR="$CACHE/djl"
FLAGS=(-Dorg.bytedeco.javacpp.cachedir="$CACHE/javacpp" -DDJL_CACHE_DIR="$CACHE/djl" -Doffline=true -Dai.djl.offline=true
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED)
IMAGES="${SOAK_IMAGES:-$ROOT/data/emoji/google/64}"
IMG=()
[[ -d "$IMAGES" ]] && IMG=(--images "$IMAGES")
# the value of --out among the arguments, else $1
out_of() { local d="$1" prev=""; shift; for a in "$@"; do [[ $prev == --out ]] && d="$a"; prev="$a"; done; echo "$d"; }
case "$MODE" in
  model)
    OUT="$(out_of target/soak/model "$@")"
    mkdir -p "$OUT"
    set -- --out "$OUT" "$@"
    java -Xmx4g "${FLAGS[@]}" -cp "$JAR" io.latteflow.examples.soak.ModelSoak --model models/latte-emoji "${IMG[@]}" "$@" \
      2>&1 | tee "${OUT}/run.log"
    java -cp "$JAR" io.latteflow.examples.soak.SoakPlot model "$OUT" docs/soak-model.png ;;
  flink)
    OUT="$(out_of target/soak/flink "$@")"
    [[ -e $OUT ]] && { echo "soak.sh: $OUT exists; move it away or pass another --out DIR" >&2; exit 2; }
    set -- --out "$OUT" "$@"
    mkdir -p "$(dirname "$OUT")"
    java -Xmx1g "${FLAGS[@]}" -cp "$JAR" io.latteflow.examples.soak.FlinkSoak "${IMG[@]}" "$@" 2>&1 | tee "${OUT%/}-run.log"
    java -cp "$JAR" io.latteflow.examples.soak.SoakPlot flink "$OUT" docs/soak-flink ;;
  plot)
    case "${1:-}" in
      model) java -cp "$JAR" io.latteflow.examples.soak.SoakPlot model "${2:-target/soak/model}" docs/soak-model.png ;;
      flink) java -cp "$JAR" io.latteflow.examples.soak.SoakPlot flink "${2:-target/soak/flink}" docs/soak-flink ;;
      *) echo "usage: bench/soak.sh plot model|flink" >&2; exit 2 ;;
    esac ;;
  *) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
