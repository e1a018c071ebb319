#!/usr/bin/env bash
# Executes a notebook (default: latte-tour.ipynb) headlessly on a real Jupyter client (nbconvert/nbclient) and the
# LaTtE-Flow test kernel (io.latteflow.notebook.kernel.JShellKernel, built on jupyter-jvm-basekernel), writing
# target/notebooks/latte-tour.out.ipynb and an HTML copy next to it. Works from a clean clone; everything it sets
# up (Python venv, Jupyter dirs, kernelspec) lives under target/notebooks/.
#
#   examples/notebooks/run-headless.sh                      # build what is needed, run the tour
#   LATTE_MODEL=/path/to/model examples/notebooks/run-headless.sh
#
# Environment (all optional): LATTE_NOTEBOOK (input), LATTE_NOTEBOOK_OUT (output .ipynb), LATTE_MODEL (model dir for
# %latte load), LATTE_KERNEL_CP (kernel class path; when set, nothing is built), LATTE_TIMEOUT (seconds per cell),
# LATTE_ALLOW_ERRORS=1 (keep executing past a failing cell and write the notebook anyway, for tests to inspect).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK="$ROOT/target/notebooks"
NOTEBOOK=$(realpath "${LATTE_NOTEBOOK:-$ROOT/examples/notebooks/latte-tour.ipynb}")
OUT="${LATTE_NOTEBOOK_OUT:-$WORK/latte-tour.out.ipynb}"
mkdir -p "$WORK" "$(dirname "$OUT")"
OUT=$(realpath "$OUT")
log() { echo "run-headless: $*" >&2; }

# 1. The kernel's class path: the extension, its test kernel and their dependencies (never the examples module).
if [ -z "${LATTE_KERNEL_CP:-}" ]; then
  log "building notebook-kernel-ext (and model) ..."
  (cd "$ROOT" && nice -n 19 ./mvnw -B -q -pl notebook-kernel-ext -am test-compile)
  EXT="$ROOT/notebook-kernel-ext/target"
  LATTE_KERNEL_CP="$EXT/classes:$EXT/test-classes:$(cat "$EXT/kernel.classpath")"
fi

# 2. A Python venv with the Jupyter client side, from the machine's wheel mirror when pip has one configured.
VENV="$WORK/venv"
if [ ! -x "$VENV/bin/jupyter-nbconvert" ]; then
  log "creating $VENV ..."
  python3 -m venv "$VENV"
  INDEX=()
  MIRRORS=$(pip config get global.extra-index-url 2>/dev/null || true)
  if [ -n "$MIRRORS" ]; then
    read -r -a M <<<"$MIRRORS"
    INDEX=(--index-url "${M[0]}")
    for m in "${M[@]:1}"; do INDEX+=(--extra-index-url "$m"); done
  fi
  "$VENV/bin/pip" install -q "${INDEX[@]}" jupyter-core jupyter-client nbformat nbclient nbconvert
fi

# 3. Private Jupyter dirs, so nothing of the user's Jupyter set-up is read or changed.
export JUPYTER_DATA_DIR="$WORK/jupyter/data" JUPYTER_CONFIG_DIR="$WORK/jupyter/config"
export JUPYTER_RUNTIME_DIR="$WORK/jupyter/runtime" IPYTHONDIR="$WORK/jupyter/ipython"
export JUPYTER_PATH="$WORK/jupyter/prefix/share/jupyter" JUPYTER_PLATFORM_DIRS=1
mkdir -p "$JUPYTER_DATA_DIR" "$JUPYTER_CONFIG_DIR" "$JUPYTER_RUNTIME_DIR" "$IPYTHONDIR"

# 4. The kernelspec. ND4J unpacks its natives into the project's shared cache, as the tests do.
SPEC="$WORK/kernelspec/latte-java"
mkdir -p "$SPEC"
CACHE="$ROOT/target/native-cache"
"$VENV/bin/python" - "$SPEC/kernel.json" "$LATTE_KERNEL_CP" "$CACHE" <<'PY'
import json, sys
spec, cp, cache = sys.argv[1:]
json.dump({
    "argv": ["java", "-Xmx3g", "-Djava.awt.headless=true",
             "-Dorg.bytedeco.javacpp.cachedir=" + cache + "/javacpp", "-DDJL_CACHE_DIR=" + cache + "/djl",
             "-Doffline=true", "-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
             "-Dorg.slf4j.simpleLogger.log.ai.djl.util.cuda=error",
             "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
             "-cp", cp, "io.latteflow.notebook.kernel.JShellKernel", "{connection_file}"],
    "display_name": "Java (LaTtE-Flow test kernel)",
    "language": "java",
    "interrupt_mode": "message",
    "env": {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "DJL_CACHE_DIR": cache + "/djl"},
}, open(spec, "w"), indent=1)
PY
"$VENV/bin/jupyter" kernelspec install --prefix="$WORK/jupyter/prefix" --name latte-java "$SPEC" >/dev/null 2>&1

# 5. Execute, then an HTML copy to look at.
log "executing $NOTEBOOK ..."
"$VENV/bin/jupyter" nbconvert --to notebook --execute \
  --ExecutePreprocessor.kernel_name=latte-java --ExecutePreprocessor.timeout="${LATTE_TIMEOUT:-600}" \
  ${LATTE_ALLOW_ERRORS:+--allow-errors} \
  --output-dir="$(dirname "$OUT")" --output "$(basename "$OUT")" "$NOTEBOOK"
"$VENV/bin/jupyter" nbconvert --to html --output-dir="$(dirname "$OUT")" "$OUT" >/dev/null 2>&1
log "wrote $OUT and ${OUT%.ipynb}.html"
