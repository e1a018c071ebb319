#!/usr/bin/env python3
"""Writes a safetensors file with the official Python package, for SafeTensorsPythonFixtureTest.

The Java reader is checked against files it did not write itself, and the Java writer's
float -> F16/BF16 rounding against numpy's and ml_dtypes' (both round to nearest even).

Regenerate (from the repository root; the outputs are committed, so this is needed only
when the fixture changes):

    python3 -m venv /tmp/stvenv
    /tmp/stvenv/bin/pip install safetensors numpy ml_dtypes
    /tmp/stvenv/bin/python model/core/src/test/python/make_safetensors_fixture.py

ml_dtypes supplies numpy's bfloat16; without it the BF16 tensors are left out. The order of
the __metadata__ keys in the written header varies from run to run (the Rust side keeps them
in a hash map), so a regenerated file can differ in bytes while holding the same content.

Outputs, in model/core/src/test/resources/fixtures/:
  python-written.safetensors    the tensors plus __metadata__
  python-written.expected.json  {"__metadata__": {...},
                                 name: {"dtype", "shape", "values", "source"?}}
    values: the stored tensor as a flat C-order list of floats, exact (every F32/F16/BF16
            value is a double); "nan", "inf" and "-inf" are strings to keep the JSON standard.
    source: for F16/BF16, the float32 values that were rounded to make the tensor.
"""
import json
import pathlib

import numpy as np
import safetensors
from safetensors.numpy import save_file

try:
    import ml_dtypes
except ImportError:
    ml_dtypes = None

OUT = pathlib.Path(__file__).resolve().parents[1] / "resources" / "fixtures"

# Float32 inputs chosen to land on rounding ties, subnormals and overflow once narrowed.
F16_EDGES = [0.0, -0.0, 2.0**-24, -3 * 2.0**-24, 2.0**-25, 2.0**-25 * 1.5, 65504.0, 65519.0,
             65520.0, 1 + 2.0**-11, 1 + 3 * 2.0**-11, float("inf"), float("-inf"), float("nan")]
BF16_EDGES = [0.0, -0.0, 1 + 2.0**-8, 1 + 3 * 2.0**-8, 2.0**-133, 65504.0, 3.4e38,
              float("inf"), float("nan")]


def tensors():
    t = {}
    t["f32_matrix"] = ((np.arange(6, dtype=np.float32) - 2.5) / 3).reshape(2, 3)
    t["f32_scalar"] = np.array(-0.125, dtype=np.float32)
    t["f32_empty"] = np.zeros((0, 3), dtype=np.float32)
    t["f16_cube"] = ((np.arange(8, dtype=np.float32) - 3.3) * 7.77).reshape(2, 2, 2)
    t["f16_edges"] = np.array(F16_EDGES, dtype=np.float32)
    if ml_dtypes is not None:
        t["bf16_matrix"] = ((np.arange(6, dtype=np.float32) - 2.5) * 1000 / 3).reshape(2, 3)
        t["bf16_edges"] = np.array(BF16_EDGES, dtype=np.float32)
    return t


@np.errstate(over="ignore")  # overflowing to inf is one of the cases under test
def narrowed(name, source):
    if name.startswith("f16_"):
        return source.astype(np.float16), "F16"
    if name.startswith("bf16_"):
        return source.astype(ml_dtypes.bfloat16), "BF16"
    return source, "F32"


def as_json(values):
    def one(v):
        v = float(v)
        return "nan" if np.isnan(v) else "inf" if v == np.inf else "-inf" if v == -np.inf else v
    return [one(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]


def main():
    stored = {}
    expected = {}
    for name, source in tensors().items():
        array, dtype = narrowed(name, source)
        stored[name] = array
        entry = {"dtype": dtype, "shape": list(array.shape), "values": as_json(array.astype(np.float32))}
        if dtype != "F32":
            entry["source"] = as_json(source)
        expected[name] = entry
    # A dtype the Java side must list but refuse to read as float.
    stored["i64_step"] = np.array([1200], dtype=np.int64)
    expected["i64_step"] = {"dtype": "I64", "shape": [1]}

    metadata = {"producer": "make_safetensors_fixture.py", "format": "np",
                "safetensors": safetensors.__version__}
    expected["__metadata__"] = metadata

    OUT.mkdir(parents=True, exist_ok=True)
    save_file(stored, str(OUT / "python-written.safetensors"), metadata=metadata)
    (OUT / "python-written.expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print("wrote", len(stored), "tensors to", OUT, "(bf16 included)" if ml_dtypes else "(no ml_dtypes: no bf16)")


if __name__ == "__main__":
    main()
