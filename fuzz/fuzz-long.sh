#!/usr/bin/env bash
# Runs every fuzz target of fuzz/targets.txt in fuzzing mode, one JVM per target, one target at a time (issue 19).
#
#   ./mvnw -q -B -o install -DskipTests      # first: the classes and test classes of every module
#   fuzz/fuzz-long.sh                        # every target, 1,000,000 executions each
#   RUNS=20000 fuzz/fuzz-long.sh arrowInput  # a short burst of one target (names: the method column)
#
# Each target runs in Jazzer's standalone driver (com.code_intelligence.jazzer.Jazzer, in-process libFuzzer) on the
# module's test class path, with -Xmx$HEAP so that an out-of-memory is a finding, -timeout=$TIMEOUT seconds per input
# so that a hang is one, and -XX:ErrorFile so that a JVM crash (a native library) leaves its hs_err file beside the log.
# Output, per target, under target/fuzz/<method>/: log.txt (libFuzzer's and Jazzer's output), corpus/ (the inputs that
# grew coverage; the committed seeds in src/test/resources/.../<Class>Inputs/<method>/ are read, never written), and
# findings/ (the input of a finding: crash-*, timeout-*, ...). One line per target is appended to
# target/fuzz/summary.tsv: target, executions, seconds, executions/s, exit status, result.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=${RUNS:-1000000}
MAX_SECONDS=${MAX_SECONDS:-2400}
HEAP=${HEAP:-1g}
TIMEOUT=${TIMEOUT:-60}
OUT=$ROOT/target/fuzz
# Coverage guidance in our classes and in the parsers they use (Jazzer's default is only the class folders).
INCLUDES='io.latteflow.**:com.fasterxml.jackson.**:com.hubspot.jinjava.**:org.apache.arrow.**:com.google.flatbuffers.**:picocli.**'
# Paths in the CLI's and the notebook's arguments are the user's own choice, so Jazzer's path-traversal detector would
# only report them; where a file names another (the shard index), the target itself asserts it stays in its folder.
DISABLED_HOOKS=com.code_intelligence.jazzer.sanitizers.FilePathTraversal
mkdir -p "$OUT"
SUMMARY=$OUT/summary.tsv
[ -f "$SUMMARY" ] || printf 'target\texecutions\tfuzz_seconds\texec_per_s\twall_seconds\texit\tresult\tfinished\n' > "$SUMMARY"

classpath() {   # $1: module; cached in target/fuzz/cp-<module>.txt
    local module=$1 file=$OUT/cp-${1//\//-}.txt
    if [ ! -s "$file" ]; then
        ./mvnw -q -B -o -pl "$module" dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$file" >&2 || return 1
    fi
    echo "$ROOT/$module/target/test-classes:$ROOT/$module/target/classes:$(cat "$file")"
}

grep -v '^#' fuzz/targets.txt | while read -r module class method _; do
    [ -z "$module" ] && continue
    if [ $# -gt 0 ] && [[ " $* " != *" $method "* ]]; then continue; fi
    dir=$OUT/$method
    rm -rf "$dir/findings"
    mkdir -p "$dir/corpus" "$dir/findings"
    cp=$(classpath "$module") || { echo "no class path for $module" >&2; exit 1; }
    seeds=$ROOT/$module/src/test/resources/$(dirname "${class//.//}")/$(basename "${class//.//}")Inputs/$method
    echo "== $method ($class, $module): $RUNS executions, at most $MAX_SECONDS s, -Xmx$HEAP" >&2
    start=$(date +%s)
    (cd "$ROOT/$module" && OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE MALLOC_ARENA_MAX=2 DJL_CACHE_DIR=$ROOT/target/native-cache/djl \
        java -Xmx"$HEAP" -XX:ErrorFile="$dir/hs_err_%p.log" \
        -Dorg.bytedeco.javacpp.cachedir="$ROOT/target/native-cache/javacpp" -DDJL_CACHE_DIR="$ROOT/target/native-cache/djl" \
        -Doffline=true -Dai.djl.offline=true --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
        -cp "$cp" com.code_intelligence.jazzer.Jazzer \
        --target_class="$class" --target_method="$method" \
        --instrumentation_includes="$INCLUDES" --custom_hook_includes="$INCLUDES" --disabled_hooks="$DISABLED_HOOKS" \
        "$dir/corpus" "$seeds" \
        -runs="$RUNS" -max_total_time="$MAX_SECONDS" -timeout="$TIMEOUT" -artifact_prefix="$dir/findings/" \
        -print_final_stats=1) > "$dir/log.txt" 2>&1
    status=$?
    seconds=$(( $(date +%s) - start ))
    done_runs=$(grep -oE 'Done [0-9]+ runs' "$dir/log.txt" | tail -1 | grep -oE '[0-9]+')
    [ -z "$done_runs" ] && done_runs=$(grep -oE '^#[0-9]+' "$dir/log.txt" | tail -1 | tr -d '#')
    [ -z "$done_runs" ] && done_runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$dir/log.txt" | grep -oE '[0-9]+$' | tail -1)
    done_runs=${done_runs:-0}
    if ls "$dir"/hs_err_*.log >/dev/null 2>&1; then result="JVM CRASH ($(ls "$dir"/hs_err_*.log | head -1))"
    elif grep -q 'OutOfMemoryError' "$dir/log.txt"; then result="OUT OF MEMORY"
    elif grep -qE 'ERROR: libFuzzer: timeout|Timeout after' "$dir/log.txt"; then result="HANG (timeout ${TIMEOUT}s)"
    elif [ "$status" -ne 0 ] || [ -n "$(ls -A "$dir/findings")" ]; then result="FINDING (see log.txt, findings/)"
    elif [ "$done_runs" -lt "$RUNS" ]; then result="ok, stopped by the ${MAX_SECONDS}s limit"
    else result="ok"
    fi
    # libFuzzer's own count of seconds (from the first input, without the JVM's start) and its average rate.
    fuzz_seconds=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$dir/log.txt" | tail -1 | grep -oE '[0-9]+ second' | grep -oE '[0-9]+')
    rate=$(grep -oE 'average_exec_per_sec: *[0-9]+' "$dir/log.txt" | tail -1 | grep -oE '[0-9]+$')
    [ -z "$rate" ] && rate=$(awk -v n="$done_runs" -v s="$seconds" 'BEGIN { printf "%.0f", (s > 0) ? n / s : 0 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$method" "$done_runs" "${fuzz_seconds:-?}" "$rate" "$seconds" "$status" "$result" "$(date -u +%FT%TZ)" >> "$SUMMARY"
    echo "   $method: $done_runs executions in $seconds s ($rate/s), exit $status: $result" >&2
done
