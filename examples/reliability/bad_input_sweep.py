#!/usr/bin/env python3
"""The bad-input sweep of issue 19, as a new user would try it: each case runs the built `latte` jar once and records
its exit code, its time and the message it wrote on stderr, and, where a file of the user's was in the way, whether
it is still there unchanged. Writes a Markdown table on stdout (docs/RELIABILITY.md, "Bad inputs", holds the results).

    ./mvnw -q -B -o install -DskipTests && python3 examples/reliability/bad_input_sweep.py > /tmp/sweep.md
    LATTE_JAR=/tmp/latte.jar python3 examples/reliability/bad_input_sweep.py      # a copy, while other builds run

Needs only Python 3 (the PNGs, the non-Arrow files and the damaged models are made here); the demo's Flink cases
and Arrow schema errors are left to DemoCommandITCase and ScoreCommandTest, which build their inputs in Java.
"""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JAR = Path(os.environ.get("LATTE_JAR", ROOT / "examples" / "target" / "latte.jar"))
EMOJI = ROOT / "models" / "latte-emoji"
HF = ROOT / "model" / "core" / "src" / "test" / "resources" / "fixtures" / "qwen2vl-folders" / "tied-bf16-sharded"
CACHE = ROOT / "target" / "native-cache"
# The launcher's settings (./latte), without its build step.
JAVA = ["java", "-Xmx4g", f"-Dorg.bytedeco.javacpp.cachedir={CACHE}/javacpp", f"-DDJL_CACHE_DIR={CACHE}/djl", "-Doffline=true",
        "-Dai.djl.offline=true", "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        f"-Dlatte.home={ROOT}", "-jar", str(JAR)]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE", MALLOC_ARENA_MAX="2")


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(path, w, h, rgb=(255, 0, 0), depth=8, colour=2):
    """A real PNG: w x h of one colour (colour type 2, 8 bits) or of zeros (grey, any depth), compressed row by row."""
    comp = zlib.compressobj(9)
    body = []
    if colour == 2:
        row = b"\x00" + bytes(rgb) * w
    else:
        row = b"\x00" + bytes(w * depth // 8)
    for _ in range(h):
        body.append(comp.compress(row))
    body.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(body)) + chunk(b"IEND", b""))


def png_header_only(path, w, h):
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"") + chunk(b"IEND", b""))


def with_nan_weight(src, dst):
    """A copy of a model folder whose first floating-point tensor starts with a NaN."""
    nans = {"F32": struct.pack("<I", 0x7FC00000), "F16": struct.pack("<H", 0x7E00), "BF16": struct.pack("<H", 0x7FC0)}
    shutil.copytree(src, dst)
    f = dst / "model.safetensors"
    data = bytearray(f.read_bytes())
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    name, info = next((k, v) for k, v in header.items() if k != "__metadata__" and v["dtype"] in nans)
    at = 8 + n + info["data_offsets"][0]
    nan = nans[info["dtype"]]
    data[at:at + len(nan)] = nan
    f.write_bytes(bytes(data))
    return name


def digest(p):
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None


def main():
    w = Path(tempfile.mkdtemp(prefix="latte-sweep-"))
    notes = w / "notes.txt"
    notes.write_text("mine")
    (w / "pictures").mkdir()
    existing = w / "existing.png"
    existing.write_text("my own picture")
    good = w / "face.png"
    png(good, 28, 28, (255, 200, 0))
    (w / "text.png").write_text("hello, not an image")
    (w / "empty.png").write_bytes(b"")
    png_header_only(w / "bomb-header.png", 100000, 100000)
    png(w / "bomb-24000.png", 24000, 24000, depth=16, colour=0)          # 3.4 MB, 24000x24000 16-bit grey: the bomb
    (w / "not-arrow.arrow").write_bytes(b"this is not arrow!!!\n\n")      # 22 bytes
    (w / "empty.arrow").write_bytes(b"")
    truncated = w / "truncated-model"
    shutil.copytree(EMOJI, truncated)
    (truncated / "model.safetensors").write_bytes((EMOJI / "model.safetensors").read_bytes()[:1000])
    nan_tensor = with_nan_weight(EMOJI, w / "nan-model")
    bad_json = w / "bad-json-model"
    shutil.copytree(EMOJI, bad_json)
    (bad_json / "config.json").write_text("{ not json")
    bad_tokenizer = w / "bad-tokenizer-model"
    shutil.copytree(EMOJI, bad_tokenizer)
    (bad_tokenizer / "tokenizer.json").write_text("[1, 2")
    no_config = w / "no-config-model"
    no_config.mkdir()
    shutil.copy(EMOJI / "model.safetensors", no_config)
    images = w / "images"
    images.mkdir()
    png(images / "red_apple.png", 16, 16, (255, 0, 0))
    png(images / "blue_car.png", 16, 16, (0, 0, 255))
    (w / "images-empty").mkdir()
    bad_images = w / "images-bad"
    bad_images.mkdir()
    png(bad_images / "good.png", 16, 16)
    (bad_images / "bad.png").write_bytes(b"\x01\x02\x03\x04")
    user_run = w / "user-folder"
    user_run.mkdir()
    (user_run / "config.json").write_text('{"my": "settings"}')
    (user_run / "model.safetensors").write_text("my own weights")
    long_prompt = "red " * 70                                            # 280 characters, 72 tokens: over the emoji model's 64
    o = str(w / "out.png")

    cases = [
        # (surface, what, args, protected file or None)
        ("generate", "--steps 0", ["generate", "--prompt", "red apple", "--out", o, "--steps", "0"], None),
        ("generate", "--steps 1000000", ["generate", "--prompt", "red apple", "--out", o, "--steps", "1000000"], None),
        ("generate", "--steps abc", ["generate", "--prompt", "red apple", "--out", o, "--steps", "abc"], None),
        ("generate", "--cfg -1", ["generate", "--prompt", "red apple", "--out", o, "--cfg", "-1"], None),
        ("generate", "--cfg NaN", ["generate", "--prompt", "red apple", "--out", o, "--cfg", "NaN"], None),
        ("generate", "--count 0", ["generate", "--prompt", "red apple", "--out", o, "--count", "0"], None),
        ("generate", "--count 2000000000", ["generate", "--prompt", "red apple", "--out", o, "--count", "2000000000"], None),
        ("generate", "--batch 0", ["generate", "--prompt", "red apple", "--out", o, "--batch", "0"], None),
        ("generate", "--count 100000 --batch 100000", ["generate", "--prompt", "red apple", "--out", o, "--count", "100000", "--batch", "100000"], None),
        ("generate", "--seed x", ["generate", "--prompt", "red apple", "--out", o, "--seed", "x"], None),
        ("generate", "--seed 2^64 (overflow)", ["generate", "--prompt", "red apple", "--out", o, "--seed", "18446744073709551616"], None),
        ("generate", "--prompt ''", ["generate", "--prompt", "", "--out", o], None),
        ("generate", "--prompt of 600 characters", ["generate", "--prompt", "x" * 600, "--out", o], None),
        ("generate", "--prompt of 72 tokens (context 64)", ["generate", "--prompt", long_prompt, "--out", o], None),
        ("generate", "--out a folder", ["generate", "--prompt", "red apple", "--out", str(w / "pictures")], None),
        ("generate", "--out under a regular file", ["generate", "--prompt", "red apple", "--out", str(notes / "a.png")], notes),
        ("generate", "--out where nobody may write", ["generate", "--prompt", "red apple", "--out", "/proc/self/a.png"], None),
        ("generate", "--out an existing file, no --force", ["generate", "--prompt", "red apple", "--out", str(existing)], existing),
        ("generate", "--model a missing folder", ["generate", "--prompt", "red apple", "--out", o, "--model", str(w / "nope")], None),
        ("generate", "--model with a truncated model.safetensors", ["generate", "--prompt", "red apple", "--out", o, "--model", str(truncated)], None),
        ("generate", f"--model with a NaN in {nan_tensor}", ["generate", "--prompt", "red apple", "--out", o, "--model", str(w / "nan-model")], None),
        ("generate", "--model with config.json not JSON", ["generate", "--prompt", "red apple", "--out", o, "--model", str(bad_json)], None),
        ("generate", "--model with tokenizer.json not JSON", ["generate", "--prompt", "red apple", "--out", o, "--model", str(bad_tokenizer)], None),
        ("generate", "--model without config.json", ["generate", "--prompt", "red apple", "--out", o, "--model", str(no_config)], None),
        ("generate", "--model a Qwen2-VL folder (cannot draw)", ["generate", "--prompt", "red apple", "--out", o, "--model", str(HF)], None),
        ("answer", "--image missing", ["answer", "--image", str(w / "nope.png"), "--question", "what is this?"], None),
        ("answer", "--image a folder", ["answer", "--image", str(w / "pictures"), "--question", "what is this?"], None),
        ("answer", "--image a text file", ["answer", "--image", str(w / "text.png"), "--question", "what is this?"], None),
        ("answer", "--image an empty file", ["answer", "--image", str(w / "empty.png"), "--question", "what is this?"], None),
        ("answer", "--image PNG header declaring 100000x100000", ["answer", "--image", str(w / "bomb-header.png"), "--question", "what?"], None),
        ("answer", "--image 3.4 MB 24000x24000 16-bit PNG bomb", ["answer", "--image", str(w / "bomb-24000.png"), "--question", "what?"], None),
        ("answer", "--question ''", ["answer", "--image", str(good), "--question", ""], None),
        ("answer", "--question of 800 characters", ["answer", "--image", str(good), "--question", "why " * 200], None),
        ("answer", "--question of 60 words (over the context with the image's tokens)", ["answer", "--image", str(good), "--question", ("why " * 60).strip()], None),
        ("answer", "--max-new-tokens 0", ["answer", "--image", str(good), "--question", "what?", "--max-new-tokens", "0"], None),
        ("answer", "--max-new-tokens 100000", ["answer", "--image", str(good), "--question", "what?", "--max-new-tokens", "100000"], None),
        ("answer", "--timing a folder", ["answer", "--image", str(good), "--question", "what?", "--timing", str(w / "pictures")], None),
        ("score", "--in missing", ["score", "--in", str(w / "nope.arrow"), "--out", str(w / "s.arrow")], None),
        ("score", "--in a 22-byte file that is not Arrow", ["score", "--in", str(w / "not-arrow.arrow"), "--out", str(w / "s.arrow")], None),
        ("score", "--in an empty file", ["score", "--in", str(w / "empty.arrow"), "--out", str(w / "s.arrow")], None),
        ("score", "--in a folder", ["score", "--in", str(w / "pictures"), "--out", str(w / "s.arrow")], None),
        ("score", "--in a PNG", ["score", "--in", str(good), "--out", str(w / "s.arrow")], None),
        ("score", "--out a folder", ["score", "--in", str(w / "not-arrow.arrow"), "--out", str(w / "pictures")], None),
        ("score", "--out under a regular file", ["score", "--in", str(w / "not-arrow.arrow"), "--out", str(notes / "s.arrow")], notes),
        ("score", "--batch 0", ["score", "--in", str(w / "not-arrow.arrow"), "--out", str(w / "s.arrow"), "--batch", "0"], None),
        ("score", "--mode answer --max-tokens 1000", ["score", "--in", str(w / "not-arrow.arrow"), "--out", str(w / "s.arrow"), "--mode", "answer", "--max-tokens", "1000"], None),
        ("score", "--batch 100000", ["score", "--in", str(w / "not-arrow.arrow"), "--out", str(w / "s.arrow"), "--batch", "100000"], None),
        ("score", "--mode paint", ["score", "--in", str(w / "not-arrow.arrow"), "--out", str(w / "s.arrow"), "--mode", "paint"], None),
        ("demo", "--count 0", ["demo", "--count", "0", "--out", str(w / "d")], None),
        ("demo", "--count 2000000000", ["demo", "--count", "2000000000", "--out", str(w / "d")], None),
        ("demo", "--question ''", ["demo", "--count", "1", "--question", "", "--out", str(w / "d")], None),
        ("demo", "--prompts missing", ["demo", "--prompts", str(w / "nope.txt"), "--out", str(w / "d")], None),
        ("demo", "--prompts an empty file", ["demo", "--prompts", str(w / "empty.png"), "--out", str(w / "d")], None),
        ("demo", "--out under a regular file", ["demo", "--count", "1", "--out", str(notes / "d")], notes),
        ("train", "--images missing", ["train", "--preset", "tiny", "--images", str(w / "nope"), "--out", str(w / "t")], None),
        ("train", "--images with no PNGs", ["train", "--preset", "tiny", "--images", str(w / "images-empty"), "--out", str(w / "t")], None),
        ("train", "--images with a corrupt PNG", ["train", "--preset", "tiny", "--images", str(bad_images), "--out", str(w / "t")], None),
        ("train", "--steps -1", ["train", "--preset", "tiny", "--images", str(images), "--out", str(w / "t"), "--steps", "-1"], None),
        ("train", "--batch 0", ["train", "--preset", "tiny", "--images", str(images), "--out", str(w / "t"), "--batch", "0"], None),
        ("train", "--vocab 3", ["train", "--preset", "tiny", "--images", str(images), "--out", str(w / "t"), "--vocab", "3"], None),
        ("train", "--checkpoint-every 0", ["train", "--preset", "tiny", "--images", str(images), "--out", str(w / "t"), "--checkpoint-every", "0"], None),
        ("train", "--lr 0", ["train", "--preset", "tiny", "--images", str(images), "--out", str(w / "t"), "--lr", "0"], None),
        ("train", "--ema 1", ["train", "--preset", "tiny", "--images", str(images), "--out", str(w / "t"), "--ema", "1"], None),
        ("train", "--groups 3 (tiny has 4 layers)", ["train", "--preset", "tiny", "--images", str(images), "--out", str(w / "t"), "--groups", "3"], None),
        ("train", "--preset huge", ["train", "--preset", "huge", "--images", str(images), "--out", str(w / "t")], None),
        ("train", "--data unknown", ["train", "--preset", "tiny", "--data", "cats", "--out", str(w / "t")], None),
        ("train", "--out a regular file", ["train", "--preset", "tiny", "--images", str(images), "--out", str(notes)], notes),
        ("train", "--out holding files, no --force", ["train", "--preset", "tiny", "--images", str(images), "--out", str(user_run)], user_run / "config.json"),
        ("train", "--force, --out holding the user's config.json", ["train", "--preset", "tiny", "--images", str(images), "--out", str(user_run), "--force"], user_run / "config.json"),
        ("train", "--resume with no run", ["train", "--preset", "tiny", "--images", str(images), "--out", str(w / "pictures"), "--resume"], None),
        ("train", "--init and --resume", ["train", "--init", str(EMOJI), "--images", str(images), "--out", str(w / "t"), "--resume"], None),
        ("init-couple", "--vlm missing", ["init-couple", "--vlm", str(w / "nope"), "--out", str(w / "c")], None),
        ("init-couple", "--vlm not a Hugging Face folder", ["init-couple", "--vlm", str(EMOJI), "--out", str(w / "c")], None),
        ("init-couple", "--groups 3 (2 layers)", ["init-couple", "--vlm", str(HF), "--out", str(w / "c"), "--groups", "3"], None),
        ("init-couple", "--force, --out holding the user's model.safetensors", ["init-couple", "--vlm", str(HF), "--out", str(user_run), "--groups", "2", "--force"], user_run / "model.safetensors"),
    ]
    print("| surface | bad input | exit | seconds | what it says (stderr, without the pointer to --help) | user's file kept |")
    print("|---|---|---|---|---|---|")
    for surface, what, args, protected in cases:
        before = digest(protected) if protected else None
        t0 = time.time()
        p = subprocess.run(JAVA + args, capture_output=True, text=True, env=ENV, cwd=w, timeout=600)
        secs = time.time() - t0
        lines = [l for l in p.stderr.splitlines() if l.strip() and "SLF4J" not in l and "WARN" not in l
                 and not l.startswith("Run 'latte")]                 # picocli's pointer to --help after the message
        last = lines[-1].strip() if lines else ""
        last = last.replace(str(w), "W").replace("|", "\\|")
        if len(last) > 220:
            last = last[:217] + "..."
        kept = "" if protected is None else ("yes" if digest(protected) == before else "**no**")
        print(f"| {surface} | {what} | {p.returncode} | {secs:.1f} | {last} | {kept} |", flush=True)
        for leftover in [w / "out.png", w / "s.arrow", w / "t", w / "c", w / "d"]:
            if leftover.exists():
                print(f"<!-- left behind by '{what}': {leftover.name} -->", flush=True)
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    shutil.rmtree(w)


if __name__ == "__main__":
    sys.exit(main())
