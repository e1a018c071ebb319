#!/usr/bin/env python3
"""Batch scoring from Python: pyarrow writes a table, `latte score` scores it, pyarrow and pandas read it back.

    python3 examples/batch/score_with_pyarrow.py demo            # prompts -> images, the whole round trip
    python3 examples/batch/score_with_pyarrow.py demo --mode vqa # images + questions -> answers

The other commands are the steps of the demo, also used by the Java test PyArrowRoundTripTest:

    write-prompts FILE [--stream] [--rows N]   a prompt table (with a null prompt and a bad steps value)
    write-vqa FILE [--stream]                  an image+question table (with a null, a garbage and a bomb image)
    check OUTPUT --input FILE --mode M         reads OUTPUT back and checks every row against the input

Needs pyarrow (and pandas for the DataFrame step): pip install pyarrow pandas
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import pyarrow as pa
import pyarrow.ipc as ipc

PROMPTS = ["red apple", "smiling face", "blue car", "a cat", "green tree"]
HF_IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def png(width, height, rgb):
    """A minimal RGB PNG written with zlib only (no imaging library needed)."""
    raw = b"".join(b"\x00" + b"".join(bytes(rgb(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def bomb(width, height):
    """A valid PNG header declaring a huge image, with almost no data: must be rejected before decoding."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def decode_png(data):
    """Checks every chunk CRC and inflates IDAT; returns (width, height). Raises ValueError on a bad PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG signature")
    pos, idat, width, height, colour = 8, b"", None, None, None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise ValueError("bad CRC in chunk %r" % kind)
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if channels is None:
        raise ValueError("unexpected PNG colour type %r" % colour)
    if len(zlib.decompress(idat)) != height * (1 + width * channels):
        raise ValueError("pixel data does not fill %dx%d" % (width, height))
    return width, height


def write_table(table, path, stream, rows_per_batch=4):
    with pa.OSFile(path, "wb") as sink:
        writer = ipc.new_stream(sink, table.schema) if stream else ipc.new_file(sink, table.schema)
        with writer:
            writer.write_table(table, max_chunksize=rows_per_batch)


def prompt_table(rows):
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(rows)]
    prompts[1] = None                                   # a null prompt: that row gets an error, the rest is scored
    steps = [None if i % 3 else 2 + i % 3 for i in range(rows)]
    steps[2] = 0                                        # out of range: an error for that row only
    return pa.table({
        "id": pa.array(range(rows), pa.int32()),
        "prompt": pa.array(prompts, pa.string()),
        "seed": pa.array([1000 + i for i in range(rows)], pa.int64()),
        "steps": pa.array(steps, pa.int32()),
        "guidance": pa.array([None if i % 2 else 2.0 for i in range(rows)], pa.float32()),
    })


def vqa_table():
    images = [
        {"bytes": png(16, 16, lambda x, y: (x * 16, y * 16, 128)), "path": "gradient.png"},
        {"bytes": png(40, 24, lambda x, y: (255, 0, 0) if x < 20 else (0, 0, 255)), "path": "flag.png"},
        None,                                           # a null image
        {"bytes": b"this is not an image", "path": "junk.png"},
        {"bytes": bomb(100000, 100000), "path": "bomb.png"},
        {"bytes": png(16, 16, lambda x, y: (0, 255, 0)), "path": "green.png"},
    ]
    questions = ["what is this?", "what colors?", "what?", "what?", "what?", None]
    return pa.table({"image": pa.array(images, HF_IMAGE), "question": pa.array(questions, pa.string())})


EXPECTED_VQA_ERRORS = {2: "image is null", 3: "image bytes are not PNG", 4: "possible decompression bomb",
                       5: "question is null"}


def read_any(path):
    with open(path, "rb") as f:
        magic = f.read(6)
    return (ipc.open_file(path) if magic == b"ARROW1" else ipc.open_stream(path)).read_all()


def check(output, input_path, mode):
    source = read_any(input_path)
    out = ipc.open_file(output).read_all()
    meta = {k.decode(): v.decode() for k, v in (out.schema.metadata or {}).items()}
    assert meta["latte.mode"] == mode, meta
    config = json.loads(meta["latte.config"])
    assert out.num_rows == source.num_rows, (out.num_rows, source.num_rows)
    assert out.select(source.column_names).equals(source), "input columns did not pass through unchanged"
    added = ["image", "error", "latency_ms"] if mode == "generate" else ["answer", "error", "latency_ms"]
    names = out.column_names
    assert names[:len(source.column_names)] == source.column_names and names[len(source.column_names):][:3] == added, names
    assert out.schema.field("error").type == pa.string() and out.schema.field("latency_ms").type == pa.float64()
    rows = out.to_pylist()
    for i, row in enumerate(rows):
        if mode == "generate":
            src = source.slice(i, 1).to_pylist()[0]
            bad = src["prompt"] is None or (src["steps"] is not None and not 1 <= src["steps"] <= 1000)
            if bad:
                want = "prompt is null" if src["prompt"] is None else "steps 0 is outside [1, 1000]"
                assert row["error"] and row["error"].startswith(want), (i, row["error"])
                assert row["image"] is None and row["latency_ms"] is None, i
            else:
                assert row["error"] is None, (i, row["error"])
                assert row["latency_ms"] > 0, i
                assert row["image"]["path"] == "row-%08d.png" % i, row["image"]["path"]
                size = decode_png(row["image"]["bytes"])
                assert size == (config["genImageSize"], config["genImageSize"]), (i, size)
        else:
            want = EXPECTED_VQA_ERRORS.get(i)
            if want:
                assert row["error"] and want in row["error"], (i, row["error"])
                assert row["answer"] is None and row["latency_ms"] is None, i
            else:
                assert row["error"] is None, (i, row["error"])
                assert isinstance(row["answer"], str) and row["latency_ms"] > 0, (i, row)
    if "latents" in names:
        t = out.schema.field("latents").type
        assert isinstance(t, pa.FixedShapeTensorType), t
        shape = [config["genImageSize"] // config["latentPatch"] * (config["genImageSize"] // config["latentPatch"]),
                 config["latentChannels"] * config["latentPatch"] ** 2]
        assert list(t.shape) == shape, (t.shape, shape)
        column = out.column("latents").combine_chunks()
        for i, row in enumerate(rows):
            if row["error"] is None:
                tensor = column[i].to_numpy()
                assert list(tensor.shape) == shape and (abs(tensor) < 1e6).all(), i
            else:
                assert not column[i].is_valid, i
    try:
        import pandas  # noqa: F401
    except ImportError:
        print("pandas is not installed: skipped the DataFrame check", file=sys.stderr)
    else:
        frame = out.drop_columns([c for c in ["latents"] if c in names]).to_pandas()
        assert len(frame) == out.num_rows
        assert int(frame["error"].isna().sum()) == sum(r["error"] is None for r in rows)
        if mode == "generate":
            ok = frame[frame["error"].isna()]
            assert all(img["bytes"][:8] == b"\x89PNG\r\n\x1a\n" for img in ok["image"])
    print("checked %d rows of %s (%s mode, %d with errors)" % (len(rows), output, mode,
                                                              sum(r["error"] is not None for r in rows)))


def demo(mode, latte, extra):
    """The whole round trip through the command line."""
    work = tempfile.mkdtemp(prefix="latte-score-")
    source, output = os.path.join(work, "input.arrow"), os.path.join(work, "output.arrow")
    write_table(prompt_table(10) if mode == "generate" else vqa_table(), source, stream=False)
    subprocess.run([latte, "score", "--in", source, "--out", output, "--mode", mode] + extra, check=True)
    table = ipc.open_file(output).read_all()
    import pandas  # noqa: F401  (to_pandas needs it)
    frame = table.to_pandas()
    print(frame.drop(columns=["image"], errors="ignore").to_string(max_colwidth=40))
    if mode == "generate":
        for row in table.to_pylist():
            if row["image"] is not None:
                with open(os.path.join(work, row["image"]["path"]), "wb") as f:
                    f.write(row["image"]["bytes"])
    check(output, source, mode)
    print("files in", work)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command")
    d = sub.add_parser("demo")
    d.add_argument("--mode", choices=["generate", "answer", "vqa"], default="generate")
    d.add_argument("--latte", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "latte"))
    d.add_argument("extra", nargs="*", help="more latte score options after --, e.g. -- --preset tiny")
    w = sub.add_parser("write-prompts")
    w.add_argument("file")
    w.add_argument("--stream", action="store_true")
    w.add_argument("--rows", type=int, default=10)
    v = sub.add_parser("write-vqa")
    v.add_argument("file")
    v.add_argument("--stream", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("output")
    c.add_argument("--input", required=True)
    c.add_argument("--mode", choices=["generate", "answer", "vqa"], required=True)
    a = p.parse_args()
    if a.command == "write-prompts":
        write_table(prompt_table(a.rows), a.file, a.stream)
    elif a.command == "write-vqa":
        write_table(vqa_table(), a.file, a.stream)
    elif a.command == "check":
        check(a.output, a.input, a.mode)
    else:
        demo(getattr(a, "mode", "generate"), getattr(a, "latte", "./latte"), getattr(a, "extra", []))


if __name__ == "__main__":
    main()
