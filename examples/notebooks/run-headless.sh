#!/usr/bin/env bash
# Executes a notebook headlessly on a real Jupyter client (nbconvert/nbclient) and a Java kernel, writing the
# executed notebook and an HTML copy next to it. Works from a clean clone; everything it sets up (Python venv,
# Jupyter dirs, kernelspec) lives under target/notebooks/.
#
#   examples/notebooks/run-headless.sh                      # build what is needed, run latte-tour.ipynb on the test kernel
#   LATTE_KERNEL=rapaio examples/notebooks/run-headless.sh  # run latte-tour-rapaio.ipynb on rapaio-jupyter-kernel
#   LATTE_KERNEL=ijava examples/notebooks/run-headless.sh   # run latte-tour-ijava.ipynb on the IJava stand-in
#   LATTE_MODEL=/path/to/model examples/notebooks/run-headless.sh
#
# Kernels (LATTE_KERNEL): "test" (default) is io.latteflow.notebook.kernel.JShellKernel, the LaTtE-Flow test kernel
# on jupyter-jvm-basekernel, with the extension on its class path. "rapaio" is io.github.padreati:rapaio-jupyter-kernel
# from Maven Central (the build copies it to notebook-kernel-ext/target/rapaio/), started bare as its own installer
# would; the notebook adds the extension itself with %classpath / %jars. "ijava" is the test stand-in for SpencerPark's
# IJava (io.github.spencerpark.ijava.IJava, on jupyter-jvm-basekernel 2.3.0 with the jeromq and gson IJava was
# released with; IJava's own jar is not on Maven Central), started bare too: the notebook adds the extension with
# %classpath / %jars and calls LatteNotebook.installIJava().
#
# Environment (all optional): LATTE_KERNEL (test | rapaio | ijava), LATTE_NOTEBOOK (input), LATTE_NOTEBOOK_OUT (output
# .ipynb), LATTE_MODEL (model dir the notebook loads by default), LATTE_KERNEL_CP (test kernel class path) or
# LATTE_RAPAIO_JAR (rapaio kernel jar) or LATTE_IJAVA_CP (IJava stand-in class path): when the one the kernel needs is
# set, nothing is built; LATTE_TIMEOUT
# (seconds per cell), LATTE_ALLOW_ERRORS=1 (keep executing past a failing cell and write the notebook anyway, for
# tests to inspect).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK="$ROOT/target/notebooks"
KERNEL="${LATTE_KERNEL:-test}"
case "$KERNEL" in
  test) TOUR=latte-tour ;;
  rapaio) TOUR=latte-tour-rapaio ;;
  ijava) TOUR=latte-tour-ijava ;;
  *) echo "run-headless: LATTE_KERNEL must be test, rapaio or ijava, got '$KERNEL'" >&2; exit 2 ;;
esac
NOTEBOOK=$(realpath "${LATTE_NOTEBOOK:-$ROOT/examples/notebooks/$TOUR.ipynb}")
OUT="${LATTE_NOTEBOOK_OUT:-$WORK/$TOUR.out.ipynb}"
mkdir -p "$WORK" "$(dirname "$OUT")"
OUT=$(realpath "$OUT")
log() { echo "run-headless: $*" >&2; }
EXT="$ROOT/notebook-kernel-ext/target"

# 1. What the kernel needs: for the test kernel its class path (the extension, the test kernel and their
#    dependencies, never the examples module); for rapaio its jar, and the class folders and jars the notebook adds.
if { [ "$KERNEL" = test ] && [ -z "${LATTE_KERNEL_CP:-}" ]; } || { [ "$KERNEL" = rapaio ] && [ -z "${LATTE_RAPAIO_JAR:-}" ]; } \
   || { [ "$KERNEL" = ijava ] && [ -z "${LATTE_IJAVA_CP:-}" ]; }; then
  log "building notebook-kernel-ext (and model) ..."
  (cd "$ROOT" && nice -n 19 ./mvnw -B -q -pl notebook-kernel-ext -am test-compile)
  LATTE_KERNEL_CP="${LATTE_KERNEL_CP:-$EXT/classes:$EXT/test-classes:$(cat "$EXT/kernel.classpath")}"
  LATTE_RAPAIO_JAR="${LATTE_RAPAIO_JAR:-$EXT/rapaio/rapaio-jupyter-kernel.jar}"
  LATTE_IJAVA_CP="${LATTE_IJAVA_CP:-$EXT/test-classes:$EXT/ijava-kernel/*}"
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

# 4. The kernelspec. ND4J unpacks its natives into the project's shared cache, as the tests do. The rapaio one is
#    named as rapaio's own installer names it (and the IJava one "java", as IJava's installer does), so the tours open on a
#    user's installed kernel too.
case "$KERNEL" in rapaio) SPEC_NAME=rapaio-jupyter-kernel ;; ijava) SPEC_NAME=java ;; *) SPEC_NAME=latte-java ;; esac
SPEC="$WORK/kernelspec/$SPEC_NAME"
mkdir -p "$SPEC"
CACHE="$ROOT/target/native-cache"
"$VENV/bin/python" - "$SPEC/kernel.json" "$KERNEL" "${LATTE_KERNEL_CP:-}" "${LATTE_RAPAIO_JAR:-}" "$CACHE" "$WORK/py/rapaio_launch.py" \
  "${LATTE_IJAVA_CP:-}" <<'PY'
import json, sys
spec, kernel, cp, jar, cache, launcher, ijava_cp = sys.argv[1:]
jvm = ["java", "-Xmx3g", "-Djava.awt.headless=true",
       "-Dorg.bytedeco.javacpp.cachedir=" + cache + "/javacpp", "-DDJL_CACHE_DIR=" + cache + "/djl",
       "-Doffline=true", "-Dai.djl.offline=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
       "-Dorg.slf4j.simpleLogger.log.ai.djl.util.cuda=error",
       "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"]
env = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "MALLOC_ARENA_MAX": "2", "DJL_CACHE_DIR": cache + "/djl"}
if kernel == "rapaio":
    argv = [sys.executable, launcher] + jvm + ["-jar", jar, "{connection_file}"]
    name = "Java (rapaio-jupyter-kernel)"
    env["RJK_TIMEOUT_MILLIS"] = "-1"
elif kernel == "ijava":
    argv = jvm + ["-cp", ijava_cp, "io.github.spencerpark.ijava.IJava", "{connection_file}"]
    name = "Java (IJava stand-in)"
else:
    argv = jvm + ["-cp", cp, "io.latteflow.notebook.kernel.JShellKernel", "{connection_file}"]
    name = "Java (LaTtE-Flow test kernel)"
json.dump({"argv": argv, "display_name": name, "language": "java", "interrupt_mode": "message", "env": env},
          open(spec, "w"), indent=1)
PY
"$VENV/bin/jupyter" kernelspec install --prefix="$WORK/jupyter/prefix" --name "$SPEC_NAME" "$SPEC" >/dev/null 2>&1

# 4b. rapaio 3.0.x starts each channel's loop thread before it marks the thread running (LoopThread.start: super.start()
#     then running = true), so on a busy machine a thread can find running false and end at once: the kernel then
#     has a bound shell or heartbeat socket that nobody reads, and nbclient waits 60 s for nothing (CI, stop 22). It
#     also installs its message handlers a moment after binding, and a request in that moment kills the shell thread
#     (NullPointerException in Channels.getHandler). So the kernelspec starts rapaio through rapaio_launch.py, which
#     waits for the heartbeat and a grace second, asks kernel_info itself, and starts a fresh kernel (up to 5 times)
#     when either stays silent; then it stands in for the kernel process until the JVM ends.
if [ "$KERNEL" = rapaio ]; then
  mkdir -p "$WORK/py"
  cat >"$WORK/py/rapaio_launch.py" <<'PY'
import os, signal, subprocess, sys, time
import zmq
from jupyter_client import BlockingKernelClient

connection_file, cmd = sys.argv[-1], sys.argv[1:]


def heartbeat(client, seconds):
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.linger = 0
    sock.connect(f"{client.transport}://{client.ip}:{client.hb_port}")
    try:
        deadline = time.monotonic() + seconds
        sock.send(b"ping")
        while time.monotonic() < deadline:
            if sock.poll(200):
                return True
        return False
    finally:
        sock.close()


def answers(client):
    if not heartbeat(client, 20):
        return False
    time.sleep(1.0)
    client.start_channels()
    try:
        client.wait_for_ready(timeout=20)
        return True
    except RuntimeError:
        return False
    finally:
        client.stop_channels()


for attempt in range(1, 6):
    kernel = subprocess.Popen(cmd)
    client = BlockingKernelClient(connection_file=connection_file)
    client.load_connection_file()
    if answers(client):
        break
    print(f"rapaio_launch: the kernel did not answer (try {attempt}); starting a fresh one", file=sys.stderr, flush=True)
    kernel.kill()
    kernel.wait()
for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda s, _f: kernel.send_signal(s))
sys.exit(kernel.wait())
PY
fi

# 5. Execute, then an HTML copy to look at.
log "executing $NOTEBOOK on the $KERNEL kernel ..."
"$VENV/bin/jupyter" nbconvert --to notebook --execute \
  --ExecutePreprocessor.kernel_name="$SPEC_NAME" --ExecutePreprocessor.timeout="${LATTE_TIMEOUT:-600}" \
  ${LATTE_ALLOW_ERRORS:+--allow-errors} \
  --output-dir="$(dirname "$OUT")" --output "$(basename "$OUT")" "$NOTEBOOK"
"$VENV/bin/jupyter" nbconvert --to html --output-dir="$(dirname "$OUT")" "$OUT" >/dev/null 2>&1
log "wrote $OUT and ${OUT%.ipynb}.html"
