"""An independent PyTorch peer of LaTtE-Flow's image generation (issue 18, "A peer of our own").

What it implements
    ``LatteFlow.generate`` for a LaTtE-Flow model directory (``config.json`` = LatteConfig JSON,
    ``model.safetensors`` with the names of ``LatteWeights``, ``tokenizer.json`` read with the ``tokenizers``
    library): caption contexts, one text prefill of the VLM (every layer's keys after M-RoPE and values), the
    seeded noise of ``java.util.Random(seed).nextGaussian()`` (48-bit LCG and the polar method, reproduced exactly),
    and T' Euler steps, each running only the expert group that owns t = i / T', with classifier-free
    guidance on conditional rows then empty-caption rows, v = v_u + s (v_c - v_u). The output is the final latents
    (images, latentTokens, latentDim), as ``score --tensor latents`` writes them. It was written from the Java
    sources, not from another project.

Java classes it mirrors (model/core/src/main/java/io/latteflow/model/)
    LatteFlow (generate, captionContext), SamplingBatch (defaults, noise, contexts), flow.EulerSampler,
    flow.ExpertGroup, flow.GenerationLayer, flow.ResidualAttention, flow.TimestepEmbedder, flow.TimestepPartition,
    flow.PositionEmbedding, flow.GenerationContext, flow.ContextCache (off: one padded prefill of the distinct
    contexts), vlm.VisionLanguageModel (text prefill), vlm.TextDecoder, vlm.PromptBatch, nn.Net, nn.Rope,
    latent.PixelPatchCodec (decode, for PNGs only), io.LatteTokenizer (special tokens, no added special tokens).

How to run (from the repository root)
    /work/hfvenv/bin/python bench/torch_peer.py generate --model models/latte-emoji --prompt "grinning face" --seed 1
    /work/hfvenv/bin/python bench/torch_peer.py compare --model models/latte-emoji     # both sides, one JSON line
    bench/run.sh                     # compare on models/latte-emoji and on a fresh `bench` preset model
    ``compare`` runs ``./latte score --tensor latents`` on the same 8 prompts (seeds 0-7, 20 steps, guidance 3)
    and times the peer eagerly with 1 and 2 torch threads (median of several runs after a warm-up). ``ratio`` is
    ours / torch (1 thread); ours is score's per-batch latency_ms (one LatteFlow.generate call of the 8 rows:
    prefill, sampling, pixel decode) as the median of the batches after the first, divided by 8.
    ``--compile`` adds an optional torch.compile timing (about 35 s of compiling; see its note in the output).
    ``perturb`` copies a model with its zero/one-initialised tensors randomised: a fresh preset model's proj_out is
    zero, so its latents equal the noise and only check the noise; bench/run.sh checks the perturbed copy too.

Versions it was checked with
    Python 3.11, torch 2.14.1 (CPU), tokenizers and safetensors from /work/hfvenv, numpy, pyarrow 25.0.1;
    Java side: latte 0.1.0-SNAPSHOT on ND4J/SameDiff 1.0.0-M2.1, OpenJDK 17.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

MASKED = -1e9  # PromptBatch.MASKED
MASK48 = (1 << 48) - 1


# ----------------------------------------------------------------------------------------------- java.util.Random
class JavaRandom:
    """java.util.Random: 48-bit LCG (0x5DEECE66D, 0xB), nextDouble, and nextGaussian's polar method."""

    def __init__(self, seed: int):
        self.seed = (seed ^ 0x5DEECE66D) & MASK48
        self.next_next = None

    def next(self, bits: int) -> int:
        self.seed = (self.seed * 0x5DEECE66D + 0xB) & MASK48
        r = self.seed >> (48 - bits)
        return r - (1 << 32) if r & (1 << 31) else r  # (int) cast: signed 32 bits

    def next_double(self) -> float:
        return ((self.next(26) << 27) + self.next(27)) * (1.0 / (1 << 53))

    def next_gaussian(self) -> float:
        if self.next_next is not None:
            g, self.next_next = self.next_next, None
            return g
        while True:
            v1 = 2 * self.next_double() - 1
            v2 = 2 * self.next_double() - 1
            s = v1 * v1 + v2 * v2
            if 0 < s < 1:
                break
        m = math.sqrt(-2 * math.log(s) / s)  # StrictMath: fdlibm; libm agrees to the float32 the noise keeps
        self.next_next = v2 * m
        return v1 * m


def noise(seeds, tokens: int, dim: int) -> torch.Tensor:
    """SamplingBatch.noise: (images, tokens, dim), float32 of Random(seed).nextGaussian() in row-major order."""
    out = np.empty((len(seeds), tokens * dim), dtype=np.float32)
    for b, seed in enumerate(seeds):
        r = JavaRandom(int(seed))
        out[b] = np.array([r.next_gaussian() for _ in range(tokens * dim)], dtype=np.float64).astype(np.float32)
    return torch.from_numpy(out.reshape(len(seeds), tokens, dim))


# ------------------------------------------------------------------------------------------------------- the model
class Config:
    def __init__(self, d: dict):
        self.__dict__.update(d)
        self.head_dim = self.hiddenSize // self.numHeads
        self.layers_per_group = self.numLayers // self.groups
        self.latent_grid = self.genImageSize // self.latentPatch
        self.latent_tokens = self.latent_grid ** 2
        self.latent_dim = self.latentChannels * self.latentPatch ** 2
        half = self.head_dim // 2
        t = half // 4
        h = (half - t) // 2
        self.mrope_section = (t, h, half - t - h)


def mrope(positions: np.ndarray, cfg: Config):
    """Rope.mrope: positions (batch, 3, n) -> cos, sin (batch, 1, n, dh); computed in double, stored as float."""
    dh, half = cfg.head_dim, cfg.head_dim // 2
    s0, s1, _ = cfg.mrope_section
    comp = np.array([0 if j < s0 else 1 if j < s0 + s1 else 2 for j in range(half)])
    inv = np.array([math.pow(cfg.ropeTheta, -2.0 * j / dh) for j in range(half)])
    pos = positions[:, comp, :].astype(np.float64)               # (batch, half, n)
    ang = np.transpose(pos, (0, 2, 1)) * inv                      # (batch, n, half)
    cos = np.cos(ang).astype(np.float32)
    sin = np.sin(ang).astype(np.float32)
    cos = np.concatenate([cos, cos], -1)[:, None]
    sin = np.concatenate([sin, sin], -1)[:, None]
    return torch.from_numpy(np.ascontiguousarray(cos)), torch.from_numpy(np.ascontiguousarray(sin))


def timestep_features(t: float, rows: int, dim: int) -> torch.Tensor:
    """TimestepEmbedder.features: [cos(1000 t f_i), sin(1000 t f_i)], f_i = exp(-ln(10000) i / half)."""
    half = dim // 2
    arg = [1000 * t * math.exp(-math.log(10000) * i / half) for i in range(half)]
    row = np.array([math.cos(a) for a in arg] + [math.sin(a) for a in arg], dtype=np.float64).astype(np.float32)
    return torch.from_numpy(np.tile(row, (rows, 1)))


def sincos2d(grid: int, d: int) -> torch.Tensor:
    """PositionEmbedding.sincos2d: (grid*grid, d), [sin(i w), cos(i w), sin(j w), cos(j w)], w = 10000^(-f/quarter)."""
    q = d // 4
    omega = np.array([math.pow(10000, -f / q) for f in range(q)])
    i = np.repeat(np.arange(grid), grid)[:, None] * omega
    j = np.tile(np.arange(grid), grid)[:, None] * omega
    return torch.from_numpy(np.concatenate([np.sin(i), np.cos(i), np.sin(j), np.cos(j)], 1).astype(np.float32))


def rms_norm(x, w, eps):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def rotate(x, cos, sin):
    """Net.rope: x cos + rotate_half(x) sin, rotate_half(x) = [-x2, x1]."""
    h = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin


class LattePeer:
    def __init__(self, model_dir: str | Path):
        from safetensors.torch import load_file
        from tokenizers import Tokenizer
        model_dir = Path(model_dir)
        self.cfg = Config(json.loads((model_dir / "config.json").read_text()))
        self.w = {k: v.to(torch.float32).contiguous() for k, v in load_file(str(model_dir / "model.safetensors")).items()}
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        ids = {t: self.tok.token_to_id(t) for t in ("<|endoftext|>", "<|im_start|>", "<|vision_start|>")}
        self.pad_id, self.im_start, self.vision_start = ids["<|endoftext|>"], ids["<|im_start|>"], ids["<|vision_start|>"]
        self.pos_embed = sincos2d(self.cfg.latent_grid, self.cfg.hiddenSize)

    def lin(self, x, prefix, bias=True):
        return F.linear(x, self.w[prefix + ".weight"], self.w.get(prefix + ".bias") if bias else None)

    def split(self, x, heads):
        b, n, _ = x.shape
        return x.view(b, n, heads, self.cfg.head_dim).transpose(1, 2)

    def repeat_kv(self, x):
        rep = self.cfg.numHeads // self.cfg.numKvHeads
        return x if rep == 1 else x.repeat_interleave(rep, dim=1)

    def swiglu(self, x, prefix):
        return self.lin(F.silu(self.lin(x, prefix + ".gate_proj", False)) * self.lin(x, prefix + ".up_proj", False),
                        prefix + ".down_proj", False)

    # ---- LatteFlow.captionContext, PromptBatch, VisionLanguageModel.prefill (text only)
    def caption_context(self, caption: str):
        return [self.im_start] + self.tok.encode(caption, add_special_tokens=False).ids + [self.vision_start]

    def prefill(self, seqs):
        """One right-padded text prefill: per layer keys after RoPE and values (batch, kvHeads, n, dh)."""
        c = self.cfg
        batch, n = len(seqs), max(len(s) for s in seqs)
        if n > c.maxContextTokens:
            raise ValueError(f"Prompt of {n} tokens exceeds the context limit of {c.maxContextTokens} tokens")
        ids = torch.tensor([s + [self.pad_id] * (n - len(s)) for s in seqs], dtype=torch.long)
        lengths = torch.tensor([len(s) for s in seqs])
        pos = np.broadcast_to(np.arange(n), (batch, 3, n))  # text only: (p, p, p), padding continues counting
        cos, sin = mrope(pos, c)
        j = torch.arange(n)
        causal = (j[None, :] <= j[:, None])[None] & (j[None, None, :] < lengths[:, None, None])
        mask = torch.where(causal, 0.0, MASKED).to(torch.float32)[:, None]          # (batch, 1, n, n)
        x = F.embedding(ids, self.w["model.embed_tokens.weight"])
        keys, values = [], []
        scale = 1.0 / math.sqrt(c.head_dim)
        for l in range(c.numLayers):
            p = f"model.layers.{l}"
            h = rms_norm(x, self.w[p + ".input_layernorm.weight"], c.rmsNormEps)
            q = rotate(self.split(self.lin(h, p + ".self_attn.q_proj"), c.numHeads), cos, sin)
            k = rotate(self.split(self.lin(h, p + ".self_attn.k_proj"), c.numKvHeads), cos, sin)
            v = self.split(self.lin(h, p + ".self_attn.v_proj"), c.numKvHeads)
            probs = torch.softmax(q @ self.repeat_kv(k).transpose(-1, -2) * scale + mask, -1)
            attn = (probs @ self.repeat_kv(v)).transpose(1, 2).reshape(batch, n, -1)
            mid = x + self.lin(attn, p + ".self_attn.o_proj", False)
            x = mid + self.swiglu(rms_norm(mid, self.w[p + ".post_attention_layernorm.weight"], c.rmsNormEps), p + ".mlp")
            keys.append(k)
            values.append(v)
        key_mask = torch.where(j[None, :] < lengths[:, None], 0.0, MASKED).to(torch.float32)[:, None, None]
        return keys, values, key_mask, lengths.numpy()

    def contexts(self, captions):
        """GenerationContext.of: the distinct contexts prefilled once, expanded to one row per context."""
        c = self.cfg
        seqs = [self.caption_context(t) for t in captions]
        unique, row_of = {}, []
        for s in seqs:
            row_of.append(unique.setdefault(tuple(s), len(unique)))
        keys, values, key_mask, next_pos = self.prefill([list(s) for s in unique])
        g = c.latent_grid
        cell = np.arange(g * g)
        pos = np.stack([np.stack([np.full(g * g, s), s + cell // g, s + cell % g]) for s in next_pos])
        icos, isin = mrope(pos, c)
        rows = torch.tensor(row_of)
        return ([k[rows] for k in keys], [v[rows] for v in values], key_mask[rows], icos[rows], isin[rows])

    # ---- ExpertGroup.velocity, GenerationLayer.forward, ResidualAttention
    def modulation(self, act, prefix, n):
        """n chunks (batch, 1, d) of Linear(SiLU(h_t)), each from its own rows of the weight."""
        d = self.cfg.hiddenSize
        w, b = self.w[prefix + ".weight"], self.w[prefix + ".bias"]
        return [F.linear(act, w[i * d:(i + 1) * d], b[i * d:(i + 1) * d])[:, None] for i in range(n)]

    def velocity(self, group, x, t, ctx):
        c = self.cfg
        ck, cv, cmask, icos, isin = ctx
        rows = x.shape[0]
        ht = self.lin(F.silu(self.lin(timestep_features(t, rows, c.timeEmbedDim), "gen.time_embed.linear_1")),
                      "gen.time_embed.linear_2")
        act = F.silu(ht)
        g = f"gen.groups.{group}"
        h = self.lin(x, g + ".input_proj") + self.pos_embed
        scale = 1.0 / math.sqrt(c.head_dim)
        previous = None
        for l in range(group * c.layers_per_group, (group + 1) * c.layers_per_group):
            own = f"gen.layers.{l}"
            attn = (own if c.variant == "COUPLE" else f"model.layers.{l}") + ".self_attn"
            m = self.modulation(act, own + ".adaLN_modulation", 6)
            hn = rms_norm(h, self.w[own + ".input_layernorm.weight"], c.rmsNormEps) * (m[1] + 1) + m[0]
            q = rotate(self.split(self.lin(hn, attn + ".q_proj"), c.numHeads), icos, isin)
            k = rotate(self.split(self.lin(hn, attn + ".k_proj"), c.numKvHeads), icos, isin)
            v = self.split(self.lin(hn, attn + ".v_proj"), c.numKvHeads)
            context_logits = q @ self.repeat_kv(ck[l]).transpose(-1, -2) * scale + cmask
            image_logits = q @ self.repeat_kv(k).transpose(-1, -2) * scale
            mixed = image_logits
            if previous is not None:
                gate = torch.tanh(F.linear(ht, self.w[own + ".residual_gate.weight"]))       # (rows, heads)
                mixed = image_logits + gate[:, :, None, None] * previous
            probs = torch.softmax(torch.cat([context_logits, mixed], -1), -1)
            vals = self.repeat_kv(torch.cat([cv[l], v], 2))
            attended = self.lin((probs @ vals).transpose(1, 2).reshape(rows, c.latent_tokens, -1), attn + ".o_proj", False)
            mid = h + attended * (m[2] + 1)
            h2 = rms_norm(mid, self.w[own + ".post_attention_layernorm.weight"], c.rmsNormEps) * (m[4] + 1) + m[3]
            h = mid + self.swiglu(h2, own + ".mlp") * (m[5] + 1)
            previous = image_logits if c.residualAttention else None
        m = self.modulation(act, g + ".adaLN_out", 2)
        y = rms_norm(h, self.w[g + ".norm_out.weight"], c.rmsNormEps) * (m[1] + 1) + m[0]
        return self.lin(y, g + ".proj_out")

    # ---- LatteFlow.generate / SamplingBatch.sample / EulerSampler (one step count for the batch)
    @torch.no_grad()
    def generate(self, prompts, seeds, steps=None, guidance=None, trace=None):
        c = self.cfg
        steps = c.defaultSteps if steps is None else steps
        guidance = c.defaultCfg if guidance is None else guidance
        guided = guidance != 1.0
        b = len(prompts)
        x = noise(seeds, c.latent_tokens, c.latent_dim)
        ctx = self.contexts(list(prompts) + ([""] * b if guided else []))
        if trace is not None:
            trace["noise"] = x.clone()
            trace["ctx"] = ctx
        s = torch.tensor(float(np.float32(guidance)))
        dt = 1.0 / steps
        for i in range(steps):
            t = i / steps
            group = min(c.groups - 1, math.floor(t * c.groups))
            v = self.velocity(group, torch.cat([x, x]) if guided else x, t, ctx)
            if guided:
                vc, vu = v[:b], v[b:]
                v = vu + (vc - vu) * s
            x = x + v * np.float32(dt)
            if trace is not None:
                trace.setdefault("steps", []).append(x.clone())
        return x

    def decode(self, latents):
        """PixelPatchCodec.decode: (b, 3, size, size) in [0, 1]."""
        c = self.cfg
        g, p = c.latent_grid, c.latentPatch
        x = latents.reshape(-1, g, g, 3, p, p).permute(0, 3, 1, 4, 2, 5).reshape(-1, 3, g * p, g * p)
        return ((x + 1) / 2).clamp(0, 1)


# --------------------------------------------------------------------------------------------------- comparison
PROMPTS = ["grinning face", "red apple", "couple with heart", "smiling face with sunglasses",
           "thumbs up", "red heart", "cat face", "rocket"]
ROOT = Path(__file__).resolve().parent.parent


def java_latents(model_dir, prompts, seeds, steps, guidance, repeats=1, batch=None, env=None):
    """Runs `./latte score --tensor latents` on the prompts (repeated `repeats` times in batches of len(prompts));
    returns (latents of the first repeat as (rows, tokens, dim), per-batch latency_ms list)."""
    import pyarrow as pa
    import pyarrow.ipc as ipc
    n = len(prompts)
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "prompts.arrow", Path(tmp) / "out.arrow"
        table = pa.table({"prompt": pa.array(list(prompts) * repeats, pa.utf8()),
                          "seed": pa.array(list(seeds) * repeats, pa.int64()),
                          "steps": pa.array([steps] * n * repeats, pa.int32()),
                          "guidance": pa.array([guidance] * n * repeats, pa.float32())})
        with ipc.new_file(str(src), table.schema) as w:
            w.write_table(table)
        cmd = [str(ROOT / "latte"), "score", "--model", str(model_dir), "--in", str(src), "--out", str(out),
               "--tensor", "latents", "--batch", str(batch or n)]
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
        with ipc.open_file(str(out)) as f:
            res = f.read_all()
    errs = [e for e in res.column("error").to_pylist() if e is not None]
    if errs:
        raise RuntimeError("Java rows failed: " + "; ".join(errs[:3]))
    col = res.column("latents").combine_chunks()
    lat = np.asarray(col.to_numpy_ndarray(), dtype=np.float32)[:n]
    lat_ms = res.column("latency_ms").to_pylist()
    return lat, [lat_ms[i * n] for i in range(repeats)]


def time_peer(peer, prompts, seeds, steps, guidance, threads, runs):
    torch.set_num_threads(threads)
    peer.generate(prompts, seeds, steps, guidance)  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        peer.generate(prompts, seeds, steps, guidance)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / len(prompts)


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def compare(args):
    prompts = PROMPTS[:args.images]
    seeds = list(range(len(prompts)))
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    java, lat_ms = java_latents(args.model, prompts, seeds, args.steps, args.guidance, repeats=args.java_repeats, env=env)
    torch.set_num_threads(1)
    peer = LattePeer(args.model)
    ours = peer.generate(prompts, seeds, args.steps, args.guidance).numpy()
    diff = float(np.max(np.abs(ours - java.reshape(ours.shape))))
    warm = lat_ms[1:] if len(lat_ms) > 1 else lat_ms
    ours_s = statistics.median(warm) / 1000 / len(prompts)
    t1 = time_peer(peer, prompts, seeds, args.steps, args.guidance, 1, args.runs)
    t2 = time_peer(peer, prompts, seeds, args.steps, args.guidance, 2, args.runs)
    out = {
        "model": str(args.model),
        "images": len(prompts), "steps": args.steps, "guidance": args.guidance,
        "ours_s_per_image": round(ours_s, 5),
        "ours_timing": f"latte score latency_ms of a batch of {len(prompts)} rows (one LatteFlow.generate call: "
                       f"prefill, sampling, pixel decode), median of the {len(warm)} batches after the first of "
                       f"{len(lat_ms)} (one JVM), / rows",
        "ours_batch_latency_ms": [round(x, 1) for x in lat_ms],
        "torch_eager_s_per_image": round(t1, 5),
        "torch_eager_2t_s_per_image": round(t2, 5),
        "ratio": round(ours_s / t1, 3),
        "ratio_2t": round(ours_s / t2, 3),
        "max_abs_latent_diff": diff,
        "omp_num_threads": env.get("OMP_NUM_THREADS"),
        "openblas_coretype": env.get("OPENBLAS_CORETYPE") or "(set by ./latte from CPU flags: " + coretype_guess() + ")",
        "cpu_model": cpu_model(),
        "torch": torch.__version__,
        "torch_timing": f"median of {args.runs} peer.generate calls after 1 warm-up (noise, tokenize, prefill, sampling)",
    }
    if args.compile:
        out.update(time_compiled(peer, prompts, seeds, args))
    print(json.dumps(out))
    return 0 if diff <= args.tol else 1


def coretype_guess():
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = " " + line.split(":", 1)[1] + " "
                break
    except OSError:
        pass
    if all(f" {f} " in flags for f in ("avx512f", "avx512bw", "avx512vl")):
        return "SKYLAKEX"
    if " avx2 " in flags and " fma " in flags:
        return "HASWELL"
    return "unset"


def time_compiled(peer, prompts, seeds, args):
    try:
        torch.set_num_threads(1)
        t0 = time.perf_counter()
        peer.velocity = torch.compile(peer.velocity, dynamic=False)
        peer.generate(prompts, seeds, args.steps, args.guidance)
        compile_s = time.perf_counter() - t0
        return {"torch_compile_s_per_image": round(time_peer(peer, prompts, seeds, args.steps, args.guidance, 1, args.runs), 5),
                "torch_compile_warmup_s": round(compile_s, 1),
                "torch_compile_note": "velocity() compiled with group and t as Python constants: dynamo recompiles per "
                                      "(group, t) and stops at its recompile limit (8), so most steps fall back to "
                                      "eager; not a fair compiled number"}
    except Exception as e:  # noqa: BLE001 - optional
        return {"torch_compile_error": f"{type(e).__name__}: {str(e)[:200]}"}


def perturb(args):
    """Copies a model directory with every all-zero or all-one tensor (adaLN, residual gates, proj_out, biases, norms)
    replaced by seeded random values, so that a fresh preset model's generation path is not trivially the noise
    (proj_out is zero-initialised: a fresh model's velocity is exactly 0)."""
    import shutil
    from safetensors.torch import load_file, save_file
    src, dst = Path(args.model), Path(args.out)
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(src / name, dst / name)
    w = load_file(str(src / "model.safetensors"))
    gen = torch.Generator().manual_seed(args.seed)
    changed = 0
    for k, v in sorted(w.items()):
        if v.numel() and (bool((v == 0).all()) or bool((v == 1).all())):
            fan = v.shape[-1] if v.dim() > 1 else 1
            r = torch.randn(v.shape, generator=gen) * (args.scale / math.sqrt(fan) if v.dim() > 1 else args.scale)
            w[k] = (v.to(torch.float32) + r).to(v.dtype).contiguous()
            changed += 1
    save_file(w, str(dst / "model.safetensors"), metadata={"format": "pt", "producer": "latteflow"})
    print(json.dumps({"out": str(dst), "tensors_perturbed": changed}))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="latents (and a PNG) of one prompt")
    g.add_argument("--model", default=str(ROOT / "models/latte-emoji"))
    g.add_argument("--prompt", required=True)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--steps", type=int)
    g.add_argument("--cfg", type=float)
    g.add_argument("--out")
    c = sub.add_parser("compare", help="both sides on the same prompts: one JSON line")
    c.add_argument("--model", default=str(ROOT / "models/latte-emoji"))
    c.add_argument("--images", type=int, default=8)
    c.add_argument("--steps", type=int, default=20)
    c.add_argument("--guidance", type=float, default=3.0)
    c.add_argument("--runs", type=int, default=5, help="timed peer runs per thread count")
    c.add_argument("--java-repeats", type=int, default=4, help="batches of the prompts scored by Java (first = warm-up)")
    c.add_argument("--tol", type=float, default=1e-4)
    c.add_argument("--compile", action="store_true", help="also time torch.compile (optional)")
    pz = sub.add_parser("perturb", help="copy a model with its zero/one-initialised tensors randomised")
    pz.add_argument("--model", required=True)
    pz.add_argument("--out", required=True)
    pz.add_argument("--seed", type=int, default=0)
    pz.add_argument("--scale", type=float, default=0.5)
    a = ap.parse_args(argv)
    if a.cmd == "compare":
        return compare(a)
    if a.cmd == "perturb":
        return perturb(a)
    peer = LattePeer(a.model)
    x = peer.generate([a.prompt], [a.seed], a.steps, a.cfg)
    print(json.dumps({"latents_shape": list(x.shape), "mean": float(x.mean()), "std": float(x.std())}))
    if a.out:
        from PIL import Image
        img = (peer.decode(x)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        Image.fromarray(img).save(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
