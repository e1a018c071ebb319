"""An independent PyTorch peer of LaTtE-Flow's image generation, prefill, VQA decoding and generation training
(issue 18, "A peer of our own").

What it implements
    ``LatteFlow.generate`` for a LaTtE-Flow model directory (``config.json`` = LatteConfig JSON,
    ``model.safetensors`` with the names of ``LatteWeights``, ``tokenizer.json`` read with the ``tokenizers``
    library): caption contexts, one text prefill of the VLM (every layer's keys after M-RoPE and values), the
    seeded noise of ``SeededNoise(seed).nextGaussian()`` (SplitMix64 and the polar method, reproduced exactly),
    and T' Euler steps, each running only the expert group that owns t = i / T', with classifier-free
    guidance on conditional rows then empty-caption rows, v = v_u + s (v_c - v_u). The output is the final latents
    (images, latentTokens, latentDim), as ``score --tensor latents`` writes them. It was written from the Java
    sources, not from another project.

Java classes it mirrors (model/core/src/main/java/io/latteflow/model/)
    LatteFlow (generate, captionContext), SamplingBatch (defaults, noise, contexts), flow.EulerSampler,
    flow.ExpertGroup, flow.GenerationLayer, flow.ResidualAttention, flow.TimestepEmbedder, flow.TimestepPartition,
    flow.PositionEmbedding, flow.GenerationContext, flow.ContextCache (off: one padded prefill of the distinct
    contexts), vlm.VisionLanguageModel (text prefill), vlm.TextDecoder, vlm.PromptBatch, nn.Net, nn.Rope,
    latent.PixelPatchCodec and latent.DcAeCodec (decode, for PNGs only; the DC-AE network is bench/dcae_ref.py's),
    io.LatteTokenizer (special tokens, no added special tokens);
    for prefill, decode and train also LatteFlow.questionPrompt, vlm.PromptBatch (image positions), vlm.ImagePatches,
    vlm.VisionEncoder, nn.Rope.vision2d, VisionLanguageModel (decode loop), train.GenerationTrainer, train.Adam.

How to run (from the repository root)
    /work/hfvenv/bin/python bench/torch_peer.py generate --model models/latte-emoji --prompt "grinning face" --seed 1
    /work/hfvenv/bin/python bench/torch_peer.py compare --model models/latte-emoji     # both sides, one JSON line
    bench/run.sh                     # compare on models/latte-emoji and on a fresh `bench` preset model
    ``compare`` runs ``./latte score --tensor latents`` (LATTE_JAR: that jar as is) on the same 8 prompts (seeds
    0-7, 20 steps, guidance 3) and times the peer eagerly with 1 and 2 torch threads (median of several runs after a
    warm-up), generation and decode. ``ratio`` is
    ours / torch (1 thread); ours is score's per-batch latency_ms (one LatteFlow.generate call of the 8 rows:
    prefill, sampling, codec decode) as the median of the batches after the first, divided by 8.
    ``--compile`` adds an optional torch.compile timing (about 35 s of compiling; see its note in the output).
    ``prefill``, ``decode`` and ``train`` run bench/EngineBench.java (source-file mode on the latte jar; it times our
    side and writes its inputs and results as .npy) and the peer on the same inputs, one JSON line per measurement
    with ours_s, torch_eager_s, ratio (ours / torch), threads, CPU and max_abs_diff:
      prefill  VisionLanguageModel.prefill of the 9 distinct caption contexts of a generate call (every layer's K/V)
               and of 4 VQA prompts with images (ViT, splice, K/V, final hidden states); s per prefill.
      decode   greedy KV-cached decoding (VisionLanguageModel.generate, no stop token) of a VQA prompt; s per token
               = (time of 32 tokens - time of 1) / 31 on each side; the token ids must be identical (exit 1).
      train    GenerationTrainer.step (one expert group per step, groups rotating) against torch autograd and
               torch.optim.Adam; checked: one step of a group on a batch EngineBench fixed, losses before/after.
    bench/run.sh prefill|decode|train|all runs them on the models of docs/BENCHMARKS.md.
    ``perturb`` copies a model with its zero/one-initialised tensors randomised: a fresh preset model's proj_out is
    zero, so its latents equal the noise and only check the noise; bench/run.sh checks the perturbed copy too.

Versions it was checked with
    Python 3.11, torch 2.14.1 (CPU), tokenizers and safetensors from /work/hfvenv, numpy, pyarrow 25.0.1;
    Java side: latte 0.1.0-SNAPSHOT on ND4J/SameDiff 1.0.0-M2.1, OpenJDK 17. prefill, decode and train: torch 2.13.0
    CPU in target/bench-venv (bench/run.sh makes it).
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
MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------------------------------------------- SeededNoise
class SeededNoise:
    """io.latteflow.model.SeededNoise: SplitMix64 uniform doubles (53 bits) and java.util.Random's polar method."""

    GOLDEN_GAMMA = 0x9E3779B97F4A7C15

    def __init__(self, seed: int):
        self.state = seed & MASK64
        self.next_next = None

    @staticmethod
    def mix64(z: int) -> int:
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def next_double(self) -> float:
        self.state = (self.state + self.GOLDEN_GAMMA) & MASK64
        return (self.mix64(self.state) >> 11) * (1.0 / (1 << 53))

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
    """SamplingBatch.noise: (images, tokens, dim), float32 of SeededNoise(seed).nextGaussian() in row-major order."""
    out = np.empty((len(seeds), tokens * dim), dtype=np.float32)
    for b, seed in enumerate(seeds):
        r = SeededNoise(int(seed))
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
        # LatteConfig.latentDim: a pixel patch's channels * p * p values per token, or one DC-AE latent cell's channels
        # ("codec": "dc-ae:FOLDER", relative to the model directory; latentPatch is then the DC-AE's spatial factor).
        # No codec named: pixel, as in checkpoints from before issue 20.
        codec = d.get("codec") or "pixel"
        self.dc_ae = codec[len("dc-ae:"):] if codec.startswith("dc-ae:") else None
        self.latent_dim = self.latentChannels if self.dc_ae else self.latentChannels * self.latentPatch ** 2
        half = self.head_dim // 2
        t = half // 4
        h = (half - t) // 2
        self.mrope_section = (t, h, half - t - h)
        self.vision_grid = self.imageSize // self.patchSize
        self.vision_head_dim = self.visionHidden // self.visionHeads
        self.image_tokens = (self.vision_grid // self.spatialMergeSize) ** 2


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


def timestep_features_rows(t, dim: int) -> torch.Tensor:
    """TimestepEmbedder.features of one t per row (float64 t, as the Java double[])."""
    half = dim // 2
    arg = 1000 * np.asarray(t, dtype=np.float64)[:, None] * np.exp(-math.log(10000) * np.arange(half) / half)
    return torch.from_numpy(np.concatenate([np.cos(arg), np.sin(arg)], 1).astype(np.float32))


def sincos2d(grid: int, d: int) -> torch.Tensor:
    """PositionEmbedding.sincos2d: (grid*grid, d), [sin(i w), cos(i w), sin(j w), cos(j w)], w = 10000^(-f/quarter)."""
    q = d // 4
    omega = np.array([math.pow(10000, -f / q) for f in range(q)])
    i = np.repeat(np.arange(grid), grid)[:, None] * omega
    j = np.tile(np.arange(grid), grid)[:, None] * omega
    return torch.from_numpy(np.concatenate([np.sin(i), np.cos(i), np.sin(j), np.cos(j)], 1).astype(np.float32))


IMAGE_OFFSET = 2  # PromptBatch.IMAGE_OFFSET
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # ImagePatches.MEAN, STD
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def vision_order(grid_h: int, grid_w: int, m: int):
    """ImagePatches.order: (rows, cols) of each patch, merge windows in raster order, a window's patches in raster order."""
    rows, cols = [], []
    for hb in range(grid_h // m):
        for wb in range(grid_w // m):
            for mh in range(m):
                for mw in range(m):
                    rows.append(hb * m + mh)
                    cols.append(wb * m + mw)
    return np.array(rows), np.array(cols)


def vision_rope(rows, cols, dh: int, theta: float = 10000):
    """Rope.vision2d: (1, 1, n, dh); frequency j of the rotary half follows the row (j < dh/4) or the column."""
    quarter, half = dh // 4, dh // 2
    j = np.arange(half)
    inv = np.array([math.pow(theta, -2.0 * (i % quarter) / half) for i in j])
    ang = np.where(j[None, :] < quarter, rows[:, None], cols[:, None]).astype(np.float64) * inv
    cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
    return (torch.from_numpy(np.concatenate([cos, cos], -1)[None, None].copy()),
            torch.from_numpy(np.concatenate([sin, sin], -1)[None, None].copy()))


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
        model_dir = self.model_dir = Path(model_dir)
        self.dcae = None  # the DC-AE decoder, loaded on the first decode (generation and prefill need none)
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

    def prefill(self, seqs, layers=None, pad_id=None):
        """One right-padded text prefill: per layer keys after RoPE and values (batch, kvHeads, n, dh), of layers
        0..layers-1 (all by default); padding with ``pad_id`` (the tokenizer's; GenerationTrainer pads with 0)."""
        c = self.cfg
        layers = c.numLayers if layers is None else layers
        pad_id = self.pad_id if pad_id is None else pad_id
        batch, n = len(seqs), max(len(s) for s in seqs)
        if n > c.maxContextTokens:
            raise ValueError(f"Prompt of {n} tokens exceeds the context limit of {c.maxContextTokens} tokens")
        ids = torch.tensor([s + [pad_id] * (n - len(s)) for s in seqs], dtype=torch.long)
        lengths = torch.tensor([len(s) for s in seqs])
        pos = np.broadcast_to(np.arange(n), (batch, 3, n))  # text only: (p, p, p), padding continues counting
        cos, sin = mrope(pos, c)
        j = torch.arange(n)
        causal = (j[None, :] <= j[:, None])[None] & (j[None, None, :] < lengths[:, None, None])
        mask = torch.where(causal, 0.0, MASKED).to(torch.float32)[:, None]          # (batch, 1, n, n)
        x = F.embedding(ids, self.w["model.embed_tokens.weight"])
        keys, values = [], []
        for l in range(layers):
            x, k, v = self.decoder_layer(l, x, cos, sin, mask)
            keys.append(k)
            values.append(v)
        key_mask = torch.where(j[None, :] < lengths[:, None], 0.0, MASKED).to(torch.float32)[:, None, None]
        return keys, values, key_mask, lengths.numpy()

    def decoder_layer(self, l, x, cos, sin, mask, past_k=None, past_v=None):
        """TextDecoder.layer: x (batch, n, d) -> (x', this layer's new keys after RoPE, new values), attending to
        past_k/past_v (batch, kvHeads, past, dh) followed by the new tokens' own."""
        c = self.cfg
        p = f"model.layers.{l}"
        b, n, _ = x.shape
        h = rms_norm(x, self.w[p + ".input_layernorm.weight"], c.rmsNormEps)
        q = rotate(self.split(self.lin(h, p + ".self_attn.q_proj"), c.numHeads), cos, sin)
        k = rotate(self.split(self.lin(h, p + ".self_attn.k_proj"), c.numKvHeads), cos, sin)
        v = self.split(self.lin(h, p + ".self_attn.v_proj"), c.numKvHeads)
        keys = k if past_k is None else torch.cat([past_k, k], 2)
        vals = v if past_v is None else torch.cat([past_v, v], 2)
        scale = 1.0 / math.sqrt(c.head_dim)
        probs = torch.softmax(q @ self.repeat_kv(keys).transpose(-1, -2) * scale + mask, -1)
        attn = (probs @ self.repeat_kv(vals)).transpose(1, 2).reshape(b, n, -1)
        mid = x + self.lin(attn, p + ".self_attn.o_proj", False)
        x = mid + self.swiglu(rms_norm(mid, self.w[p + ".post_attention_layernorm.weight"], c.rmsNormEps), p + ".mlp")
        return x, k, v

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
        rows = x.shape[0]
        feats = timestep_features(t, rows, c.timeEmbedDim) if np.isscalar(t) else timestep_features_rows(t, c.timeEmbedDim)
        return self.group_velocity(group, x, feats, ctx)

    def group_velocity(self, group, x, feats, ctx):
        """velocity() from the timestep features on: tensors only, so torch.compile specialises on the group alone."""
        c = self.cfg
        ck, cv, cmask, icos, isin = ctx
        rows = x.shape[0]
        ht = self.lin(F.silu(self.lin(feats, "gen.time_embed.linear_1")), "gen.time_embed.linear_2")
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

    # ---- understanding: LatteFlow.questionPrompt, PromptBatch.of (with an image), VisionEncoder, prefill, decode
    def question_prompt(self, question: str):
        """<|im_start|><|vision_start|> image pads <|vision_end|> question <|im_end|>."""
        t = self.tok.token_to_id
        return ([self.im_start, self.vision_start] + [t("<|image_pad|>")] * self.cfg.image_tokens + [t("<|vision_end|>")]
                + self.tok.encode(question, add_special_tokens=False).ids + [t("<|im_end|>")])

    def prompt_batch(self, seqs, with_image, pad_id=None):
        """PromptBatch.of: ids (batch, n), lengths, M-RoPE positions (batch, 3, n) and each row's next position; image
        tokens sit at IMAGE_OFFSET.. at (s, s+i, s+j), text after them continues from s + grid."""
        c = self.cfg
        pad_id = self.pad_id if pad_id is None else pad_id
        batch, n = len(seqs), max(len(s) for s in seqs)
        gm = c.vision_grid // c.spatialMergeSize
        image_tokens = gm * gm if with_image else 0
        ids = np.full((batch, n), pad_id, dtype=np.int64)
        pos = np.zeros((batch, 3, n), dtype=np.int64)
        nxt = np.zeros(batch, dtype=np.int64)
        for b, seq in enumerate(seqs):
            ids[b, :len(seq)] = seq
            p = 0
            for i in range(n):
                if with_image and IMAGE_OFFSET <= i < IMAGE_OFFSET + image_tokens:
                    cell = i - IMAGE_OFFSET
                    pos[b, :, i] = (IMAGE_OFFSET, IMAGE_OFFSET + cell // gm, IMAGE_OFFSET + cell % gm)
                    if cell == image_tokens - 1:
                        p = IMAGE_OFFSET + gm
                else:
                    pos[b, :, i] = p
                    p += 1
                if i == len(seq) - 1:
                    nxt[b] = p
        return {"ids": torch.from_numpy(ids), "lengths": np.array([len(s) for s in seqs]), "positions": pos,
                "next_pos": nxt, "with_image": with_image}

    def patches(self, images: np.ndarray) -> torch.Tensor:
        """ImagePatches.patches: (batch, 3, size, size) in [0, 1] -> (batch, patches, 3*T*p*p): CLIP-normalised, the frame
        repeated over the temporal patch, patches in merge-window order."""
        c = self.cfg
        p, T, g = c.patchSize, c.temporalPatchSize, c.vision_grid
        mean = np.array(CLIP_MEAN, dtype=np.float32)[:, None, None]
        std = np.array(CLIP_STD, dtype=np.float32)[:, None, None]
        px = (images.astype(np.float32) - mean) / std
        cells = px.reshape(len(px), 3, g, p, g, p).transpose(0, 2, 4, 1, 3, 5)        # (b, gh, gw, 3, p, p)
        cells = np.repeat(cells[:, :, :, :, None], T, axis=4)                          # (b, gh, gw, 3, T, p, p)
        rows, cols = vision_order(g, g, c.spatialMergeSize)
        return torch.from_numpy(np.ascontiguousarray(cells[:, rows, cols].reshape(len(px), g * g, -1)))

    def vision(self, patches: torch.Tensor) -> torch.Tensor:
        """VisionEncoder.encode: (batch, patches, 3*T*p*p) -> (batch, imageTokens, d)."""
        c = self.cfg
        e, heads, dh = c.visionHidden, c.visionHeads, c.vision_head_dim
        b, n, _ = patches.shape
        rows, cols = vision_order(c.vision_grid, c.vision_grid, c.spatialMergeSize)
        vcos, vsin = vision_rope(rows, cols, dh)
        x = patches @ self.w["visual.patch_embed.proj.weight"].reshape(e, -1).t()
        scale = 1.0 / math.sqrt(dh)
        for i in range(c.visionDepth):
            p = f"visual.blocks.{i}"
            h = F.layer_norm(x, (e,), self.w[p + ".norm1.weight"], self.w[p + ".norm1.bias"], 1e-6)
            q, k, v = self.lin(h, p + ".attn.qkv").view(b, n, 3, heads, dh).permute(2, 0, 3, 1, 4)
            q, k = rotate(q, vcos, vsin), rotate(k, vcos, vsin)
            attn = (torch.softmax(q @ k.transpose(-1, -2) * scale, -1) @ v).transpose(1, 2).reshape(b, n, e)
            x = x + self.lin(attn, p + ".attn.proj")
            h = self.lin(F.layer_norm(x, (e,), self.w[p + ".norm2.weight"], self.w[p + ".norm2.bias"], 1e-6), p + ".mlp.fc1")
            x = x + self.lin(h * torch.sigmoid(1.702 * h), p + ".mlp.fc2")
        window = c.spatialMergeSize ** 2
        merged = F.layer_norm(x, (e,), self.w["visual.merger.ln_q.weight"], self.w["visual.merger.ln_q.bias"], 1e-6)
        merged = merged.reshape(b, -1, e * window)
        return self.lin(F.gelu(self.lin(merged, "visual.merger.mlp.0")), "visual.merger.mlp.2")

    def prefill_prompts(self, batch, patches=None, layers=None, hidden=True):
        """VisionLanguageModel.prefill: (final normed hidden states or None, keys, values) of a prompt_batch."""
        c = self.cfg
        layers = c.numLayers if layers is None else layers
        ids, lengths = batch["ids"], torch.from_numpy(batch["lengths"])
        n = ids.shape[1]
        cos, sin = mrope(batch["positions"], c)
        j = torch.arange(n)
        causal = (j[None, :] <= j[:, None])[None] & (j[None, None, :] < lengths[:, None, None])
        mask = torch.where(causal, 0.0, MASKED).to(torch.float32)[:, None]
        x = F.embedding(ids, self.w["model.embed_tokens.weight"])
        if batch["with_image"]:
            x = x.clone()
            x[:, IMAGE_OFFSET:IMAGE_OFFSET + c.image_tokens] = self.vision(patches)
        keys, values = [], []
        for l in range(layers):
            x, k, v = self.decoder_layer(l, x, cos, sin, mask)
            keys.append(k)
            values.append(v)
        h = rms_norm(x, self.w["model.norm.weight"], c.rmsNormEps) if hidden else None
        return h, keys, values

    def lm_head(self):
        return self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])

    @torch.no_grad()
    def answer_greedy(self, batch, patches, tokens):
        """VisionLanguageModel.generate, greedy with no stop token: (rows, tokens) ids, KV-cached decoding."""
        c = self.cfg
        h, keys, values = self.prefill_prompts(batch, patches)
        rows = h.shape[0]
        lengths = batch["lengths"]
        last = h[torch.arange(rows), torch.from_numpy(lengths - 1)]                     # (rows, d)
        n = batch["ids"].shape[1]
        mask = torch.where(torch.arange(n)[None, :] < torch.from_numpy(lengths)[:, None], 0.0, MASKED).to(torch.float32)[:, None, None]
        out = []
        for step in range(tokens):
            nxt = torch.argmax(last @ self.lm_head().t(), -1)                          # first maximum, as Java's pick
            out.append(nxt)
            if step == tokens - 1:
                break
            pos = np.broadcast_to((batch["next_pos"] + step)[:, None, None], (rows, 3, 1))
            cos, sin = mrope(pos, c)
            mask = torch.cat([mask, torch.zeros(rows, 1, 1, 1)], 3)
            x = F.embedding(nxt[:, None], self.w["model.embed_tokens.weight"])
            for l in range(c.numLayers):
                x, k, v = self.decoder_layer(l, x, cos, sin, mask, keys[l], values[l])
                keys[l] = torch.cat([keys[l], k], 2)
                values[l] = torch.cat([values[l], v], 2)
            last = rms_norm(x, self.w["model.norm.weight"], c.rmsNormEps)[:, 0]
        return torch.stack(out, 1)

    # ---- GenerationTrainer: one step of one expert group on a batch (Couple: the VLM frozen)
    def train_loss(self, group, seqs, t, xt, target):
        """Flow-matching loss of group on (x_t, t) against target: the context prefill (layers 0..end-1, padded with
        id 0, no gradient), then the group's velocity; mean squared error over every element."""
        c = self.cfg
        end = (group + 1) * c.layers_per_group
        with torch.no_grad():
            keys, values, key_mask, next_pos = self.prefill(seqs, layers=end, pad_id=0)
            g = c.latent_grid
            cell = np.arange(g * g)
            pos = np.stack([np.stack([np.full(g * g, s), s + cell // g, s + cell % g]) for s in next_pos])
            icos, isin = mrope(pos, c)
        v = self.velocity(group, xt, t, (keys, values, key_mask, icos, isin))
        return ((v - target) ** 2).mean()

    def gen_params(self):
        """The trained weights of a Couple model: every gen.* tensor (a step's gradient reaches its group's and the
        shared time embedder's), made leaves that require grad."""
        names = sorted(k for k in self.w if k.startswith("gen."))
        for k in names:
            self.w[k].requires_grad_(True)
        return names

    def decode(self, latents):
        """The config's codec's decode: (b, 3, size, size) in [0, 1]."""
        return self.dcae_decode(latents) if self.cfg.dc_ae else self.pixel_decode(latents)

    def dcae_decode(self, latents):
        """DcAeCodec.decode: tokens (b, h w, latentChannels), cells in raster order, are the scaled latents
        (b, latentChannels, h, w) channels-last; divided by the scaling factor, decoded, (y + 1) / 2 clipped."""
        if self.dcae is None:
            from dcae_ref import load_diffusers  # bench/, on sys.path when this runs as a script
            self.dcae = load_diffusers(self.model_dir / self.cfg.dc_ae)  # an absolute folder stays absolute
        g = self.cfg.latent_grid
        z = latents.transpose(1, 2).reshape(-1, self.cfg.latentChannels, g, g) / self.dcae.cfg["scaling_factor"]
        with torch.no_grad():
            return ((self.dcae.decoder(z) + 1) / 2).clamp(0, 1)

    def pixel_decode(self, latents):
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
        # LATTE_JAR: that jar as is, with the launcher's flags and environment, as java_bench runs it (`./latte`
        # rebuilds a stale shared jar first, e.g. while sources are being edited)
        jar = os.environ.get("LATTE_JAR")
        latte = jvm() + [f"-Dlatte.home={ROOT}", "-jar", jar] if jar else [str(ROOT / "latte")]
        cmd = latte + ["score", "--model", str(model_dir), "--in", str(src), "--out", str(out),
                       "--tensor", "latents", "--batch", str(batch or n)]
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                           env=dict(launcher_env(), **(env or {})) if jar else env)
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

    def run():  # decoded too, as in the LatteFlow.generate call Java times: a DC-AE decode is no free reshape
        peer.decode(peer.generate(prompts, seeds, steps, guidance))
    run()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
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
                       f"prefill, sampling, {'DC-AE' if peer.cfg.dc_ae else 'pixel'} decode), median of the "
                       f"{len(warm)} batches after the first of {len(lat_ms)} (one JVM), / rows",
        "ours_batch_latency_ms": [round(x, 1) for x in lat_ms],
        "torch_eager_s_per_image": round(t1, 5),
        "torch_eager_2t_s_per_image": round(t2, 5),
        "ratio": round(ours_s / t1, 3),
        "ratio_2t": round(ours_s / t2, 3),
        "max_abs_latent_diff": diff,
        "omp_num_threads": env.get("OMP_NUM_THREADS"),
        "openblas_coretype": env.get("OPENBLAS_CORETYPE") or "(chosen in the JVM from the CPU's flags: " + coretype_guess() + ")",
        "cpu_model": cpu_model(),
        "torch": torch.__version__,
        "torch_timing": f"median of {args.runs} peer.generate + peer.decode calls after 1 warm-up (noise, tokenize, "
                        f"prefill, sampling, decode)",
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
        peer.group_velocity = torch.compile(peer.group_velocity, dynamic=False)
        peer.generate(prompts, seeds, args.steps, args.guidance)
        compile_s = time.perf_counter() - t0
        return {"torch_compile_s_per_image": round(time_peer(peer, prompts, seeds, args.steps, args.guidance, 1, args.runs), 5),
                "torch_compile_warmup_s": round(compile_s, 1),
                "torch_compile_note": "group_velocity() (a group's layers from the timestep features on) compiled, "
                                      "static shapes, one graph per group; the caption prefill and the timestep "
                                      "features stay eager"}
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


# ------------------------------------------------------------------------- prefill, decode, train: EngineBench vs peer
QUESTIONS = ["what is this?", "what category is this?", "what skin tone is this?", "what is left of the red apple?"]


def launcher_env():
    """The environment the `latte` launcher gives the JVM: OMP_NUM_THREADS 1, OMP_WAIT_POLICY PASSIVE and
    MALLOC_ARENA_MAX 2, each unless already set. OPENBLAS_CORETYPE is left alone: unless it is set, the JVM chooses
    it from the CPU's flags (io.latteflow.model.nn.BlasKernels)."""
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    env.setdefault("MALLOC_ARENA_MAX", "2")
    return env


def jvm():
    """The java command and JVM flags of the `latte` launcher, up to the class path or jar."""
    java = str(Path(os.environ["JAVA_HOME"]) / "bin" / "java") if os.environ.get("JAVA_HOME") else "java"
    cache = ROOT / "target" / "native-cache"
    return [java, "-Xmx4g", f"-Dorg.bytedeco.javacpp.cachedir={cache / 'javacpp'}", f"-DDJL_CACHE_DIR={cache / 'djl'}",
            "-Doffline=true", "-Dai.djl.offline=true", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"]


def java_bench(mode, model, out_dir, extra, env):
    """Runs bench/EngineBench.java (source-file mode, with the launcher's JVM flags) on examples/target/latte.jar,
    rebuilt first when stale, or on the jar LATTE_JAR names (as is: a private copy keeps a long measurement off
    builds that replace the shared jar meanwhile); returns its JSON lines by "what"."""
    jar = Path(os.environ.get("LATTE_JAR") or ROOT / "examples/target/latte.jar")
    if not os.environ.get("LATTE_JAR"):
        r = subprocess.run([str(ROOT / "latte"), "--version"], cwd=ROOT, capture_output=True, text=True)  # builds a stale jar
        if r.returncode != 0:
            if not jar.is_file():
                raise RuntimeError(f"./latte --version failed:\n{r.stderr[-3000:]}")
            print("torch_peer: rebuilding examples/target/latte.jar failed; measuring the existing jar", file=sys.stderr)
    cmd = jvm() + ["-cp", str(jar), str(ROOT / "bench/EngineBench.java"), mode, "--model", str(model),
                   "--out", str(out_dir)] + [str(x) for x in extra]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return {j["what"]: j for j in (json.loads(l) for l in r.stdout.splitlines() if l.startswith("{"))}


def median_time(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def max_diff(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def result_line(model, what, java, torch_s, torch_runs, diff, env, compared, **extra):
    out = {"model": str(model), "what": what, "ours_s": java["ours_s"], "torch_eager_s": round(torch_s, 6),
           "ratio": round(java["ours_s"] / torch_s, 3), "max_abs_diff": diff, "compared": compared,
           "omp_num_threads": env.get("OMP_NUM_THREADS"), "torch_threads": torch.get_num_threads(),
           "openblas_coretype": env.get("OPENBLAS_CORETYPE") or "(chosen in the JVM from the CPU's flags: " + coretype_guess() + ")", "cpu_model": cpu_model(), "torch": torch.__version__}
    out.update(extra)
    out["ours_runs_s"] = java.get("ours_runs_s") or java.get("ours_full_runs_s")
    out["torch_runs_s"] = [round(x, 6) for x in torch_runs]
    out["ours_timing"] = java.get("ours_timing")
    return out


def prefill_cmd(args):
    """Caption-context prefill (and VQA prefill with images): EngineBench prefill against the peer, one line each."""
    env = launcher_env()
    torch.set_num_threads(args.threads)
    status = 0
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        java = java_bench("prefill", args.model, tmp, ["--repeats", args.repeats, "--warmup", args.warmup,
                                                       "--vqa-rows", args.vqa_rows], env)
        d = Path(tmp)
        peer = LattePeer(args.model)
        seqs = [peer.caption_context(p) for p in PROMPTS] + [peer.caption_context("")]
        ids = np.load(d / "caption_ids.npy")
        ours_ids = np.array([s + [peer.pad_id] * (ids.shape[1] - len(s)) for s in seqs])
        keys, values, _, _ = peer.prefill(seqs)
        diff = max(max_diff(torch.stack(keys), np.load(d / "caption_keys.npy")),
                   max_diff(torch.stack(values), np.load(d / "caption_values.npy")))
        t, runs = median_time(lambda: peer.prefill(seqs), args.warmup, args.repeats)
        line = result_line(args.model, "prefill_captions", java["prefill_captions"], t, runs, diff, env,
                           "every layer's keys (after RoPE) and values of the 9 contexts", rows=len(seqs),
                           tokens=int(ids.shape[1]), token_ids_equal=bool(np.array_equal(ids, ours_ids)))
        print(json.dumps(line), flush=True)
        status |= diff > args.tol or not line["token_ids_equal"]
        if "prefill_vqa" in java:
            pixels = np.load(d / "vqa_pixels.npy")
            seqs = [peer.question_prompt(QUESTIONS[b % len(QUESTIONS)]) for b in range(len(pixels))]
            batch = peer.prompt_batch(seqs, True)
            patches = peer.patches(pixels)
            h, keys, values = peer.prefill_prompts(batch, patches)
            diff = max(max_diff(h, np.load(d / "vqa_hidden.npy")),
                       max_diff(torch.stack(keys), np.load(d / "vqa_keys.npy")),
                       max_diff(torch.stack(values), np.load(d / "vqa_values.npy")))
            t, runs = median_time(lambda: peer.prefill_prompts(batch, patches), args.warmup, args.repeats)
            ids_equal = bool(np.array_equal(np.load(d / "vqa_ids.npy"), batch["ids"].numpy()))
            line = result_line(args.model, "prefill_vqa", java["prefill_vqa"], t, runs, diff, env,
                               "final normed hidden states and every layer's keys and values", rows=len(seqs),
                               tokens=int(batch["ids"].shape[1]), token_ids_equal=ids_equal)
            print(json.dumps(line), flush=True)
            status |= diff > args.tol or not ids_equal
    return int(status)


def decode_cmd(args):
    """Greedy KV-cached VQA decoding: s per generated token, the tokens asserted identical on both sides."""
    env = launcher_env()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        java = java_bench("decode", args.model, tmp, ["--repeats", args.repeats, "--warmup", args.warmup, "--rows",
                                                      args.rows, "--tokens", args.tokens], env)["decode_per_token"]
        d = Path(tmp)
        peer = LattePeer(args.model)
        pixels = np.load(d / "decode_pixels.npy")
        seqs = [peer.question_prompt(QUESTIONS[b % len(QUESTIONS)]) for b in range(len(pixels))]
        batch = peer.prompt_batch(seqs, True)
        patches = peer.patches(pixels)
        ours = peer.answer_greedy(batch, patches, args.tokens).numpy()
        theirs = np.load(d / "decode_tokens.npy")
        same = bool(np.array_equal(ours, theirs))
        full, one = [], []
        for _ in range(args.warmup):
            peer.answer_greedy(batch, patches, args.tokens)
            peer.answer_greedy(batch, patches, 1)
        for _ in range(args.repeats):                                  # interleaved, as the Java side
            t0 = time.perf_counter()
            peer.answer_greedy(batch, patches, args.tokens)
            full.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            peer.answer_greedy(batch, patches, 1)
            one.append(time.perf_counter() - t0)
        per_token = (statistics.median(full) - statistics.median(one)) / (args.tokens - 1)
        line = result_line(args.model, "decode_per_token", java, per_token, full, float(np.max(np.abs(ours - theirs))), env,
                           f"the {args.tokens} greedy token ids of each row (no stop token)", rows=len(seqs),
                           tokens=args.tokens, prompt_tokens=int(batch["ids"].shape[1]), tokens_identical=same,
                           mismatched_tokens=int((ours != theirs).sum()), ours_full_s=java["ours_full_s"],
                           ours_one_token_s=java["ours_one_token_s"], torch_full_s=round(statistics.median(full), 6),
                           torch_one_token_s=round(statistics.median(one), 6),
                           torch_timing="the same difference of medians, answer_greedy with KV cache")
        if not same:
            line["ours_tokens"], line["torch_tokens"] = theirs.tolist(), ours.tolist()
        print(json.dumps(line), flush=True)
    return 0 if same else 1


def train_captions(batch):
    """EngineBench.batch's captions: every 8th the empty one (condition dropout), the others PROMPTS in turn."""
    return ["" if i % 8 == 7 else PROMPTS[i % len(PROMPTS)] for i in range(batch)]


def train_cmd(args):
    """A generation training step (forward, backward, Adam) of GenerationTrainer against torch autograd and
    torch.optim.Adam with the same hyper-parameters; losses before and after one step on the same batch compared."""
    from safetensors.torch import load_file
    env = launcher_env()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        java = java_bench("train", args.model, tmp, ["--repeats", args.repeats, "--warmup", args.warmup, "--batch",
                                                     args.batch, "--lr", args.lr, "--group-sampling", args.group_sampling],
                          env)["train_step"]
        d = Path(tmp)
        group = java["check_group"]
        t = np.load(d / "train_t.npy")
        xt, target = torch.from_numpy(np.load(d / "train_xt.npy")), torch.from_numpy(np.load(d / "train_target.npy"))

        # the check: one step on the batch EngineBench wrote
        peer = LattePeer(args.model)
        seqs = [peer.caption_context(c) for c in train_captions(args.batch)]
        ids = np.load(d / "train_ids.npy")
        ids_equal = bool(np.array_equal(ids, np.array([s + [0] * (ids.shape[1] - len(s)) for s in seqs])))
        names = peer.gen_params()
        # ND4J's Adam adds epsilon to sqrt(v) before the bias correction (lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)),
        # torch after it: with eps / sqrt(1 - b2) the first step is the same update.
        opt = torch.optim.Adam([peer.w[n] for n in names], lr=args.lr, betas=(0.9, 0.999), eps=1e-8 / math.sqrt(1 - 0.999))
        loss0 = peer.train_loss(group, seqs, t, xt, target)
        loss0.backward()
        opt.step()
        with torch.no_grad():
            loss1 = peer.train_loss(group, seqs, t, xt, target)
        updated = load_file(str(d / "train_updated.safetensors"))
        stepped = sorted(n for n in names if peer.w[n].grad is not None)
        param_diff = max(max_diff(peer.w[n].detach(), updated[n]) for n in stepped)
        loss_diff = max(abs(loss0.item() - java["loss0"]), abs(loss1.item() - java["loss1"]))

        # the timing: GenerationTrainer.step's work per step, groups rotating
        peer = LattePeer(args.model)
        names = peer.gen_params()
        opt = torch.optim.Adam([peer.w[n] for n in names], lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
        x1 = torch.from_numpy(np.load(d / "train_x1.npy"))
        c = peer.cfg
        gen = torch.Generator().manual_seed(0)

        per_step = args.group_sampling == "per-step"
        half = c.overlap / 2 / 1000
        interval = [(g / c.groups - (half if g > 0 else 0), (g + 1) / c.groups + (half if g < c.groups - 1 else 0))
                    for g in range(c.groups)]

        def step(r):
            """GenerationTrainer.step: per-step trains group r % K on every row; per-sample deals row b to group
            (b + r) % K and weights each group's loss by its share of the batch (one backward, one Adam step)."""
            group_of = np.full(args.batch, r % c.groups) if per_step else (np.arange(args.batch) + r) % c.groups
            lo, hi = np.array([interval[g][0] for g in group_of]), np.array([interval[g][1] for g in group_of])
            tt = torch.from_numpy(lo + (hi - lo) * torch.rand(args.batch, generator=gen, dtype=torch.float64).numpy()).float()
            x0 = torch.randn(x1.shape, generator=gen)
            tb = tt[:, None, None]
            xt_, target_ = x1 * tb + x0 * (1 - tb), x1 - x0
            opt.zero_grad(set_to_none=True)
            loss = 0
            for g in sorted(set(group_of.tolist())):
                rows = np.nonzero(group_of == g)[0]
                idx = torch.from_numpy(rows)
                loss = loss + len(rows) / args.batch * peer.train_loss(
                    g, [seqs[i] for i in rows], tt[idx].double().numpy(), xt_[idx], target_[idx])
            loss.backward()
            opt.step()
            return loss.item()

        for _ in range(args.warmup):
            for g in range(c.groups if per_step else 1):
                step(g)
        runs = []
        for r in range(args.repeats):
            t0 = time.perf_counter()
            step(r)
            runs.append(time.perf_counter() - t0)
        kind = f"vanilla (K=1)" if c.groups == 1 else f"LaTtE (K={c.groups}, M={c.layers_per_group})"
        line = result_line(args.model, "train_step", java, statistics.median(runs), runs, loss_diff, env,
                           f"loss before and after one Adam step of group {group} on the same batch",
                           model_kind=f"{c.variant.lower()} {kind}", group_sampling=args.group_sampling,
                           batch=args.batch, lr=args.lr,
                           ours_loss0=java["loss0"], torch_loss0=loss0.item(), ours_loss1=java["loss1"],
                           torch_loss1=loss1.item(), max_abs_param_diff_after_step=param_diff,
                           params_stepped=len(stepped), token_ids_equal=ids_equal,
                           torch_timing=f"the same step ({args.group_sampling}): t and noise drawn, per group "
                                        f"trained the prefill of layers < its end (no grad) and its forward, one "
                                        f"backward, torch.optim.Adam; median of {args.repeats} after {args.warmup} "
                                        f"warm-up step(s){' per group' if per_step else ''}")
        print(json.dumps(line), flush=True)
    return 0 if loss_diff <= args.tol and ids_equal else 1


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
    pf = sub.add_parser("prefill", help="VLM prefill of caption contexts and of VQA prompts: both sides, JSON lines")
    pf.add_argument("--model", default=str(ROOT / "models/latte-emoji"))
    pf.add_argument("--vqa-rows", type=int, default=4, help="VQA prompts (with images) in the VQA prefill batch")
    dc = sub.add_parser("decode", help="greedy KV-cached VQA decoding, s per token: both sides, one JSON line")
    dc.add_argument("--model", default=str(ROOT / "models/latte-emoji"))
    dc.add_argument("--rows", type=int, default=1, help="VQA prompts decoded together")
    dc.add_argument("--tokens", type=int, default=32, help="tokens generated per row (no stop token)")
    tr = sub.add_parser("train", help="generation training step (forward, backward, Adam): both sides, one JSON line")
    tr.add_argument("--model", required=True, help="a Couple model directory, e.g. a `small` preset saved by SavePreset")
    tr.add_argument("--batch", type=int, default=32)
    tr.add_argument("--lr", type=float, default=1e-3)
    tr.add_argument("--group-sampling", choices=("per-step", "per-sample"), default="per-step",
                    help="per-step: one group on the whole batch (TrainingRun.Plan's default, `latte bench`); "
                         "per-sample: the batch dealt over all groups (`latte train`'s default)")
    # decode: 30 warm-up runs (960 decode steps): our per-token time falls for the first 15-20 runs while the JIT
    # compiles the replay loop (2.2 ms after 5 runs, 1.3-1.4 ms from run 20 on, emoji model, 150 runs measured)
    for q, runs, warm in ((pf, 9, 5), (dc, 15, 30), (tr, 4, 2)):
        q.add_argument("--repeats", type=int, default=runs, help="timed runs per side (median reported)")
        q.add_argument("--warmup", type=int, default=warm, help="untimed runs first (train: steps per group)")
        q.add_argument("--threads", type=int, default=1, help="torch threads (OMP_NUM_THREADS is the Java side's)")
        q.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args(argv)
    if a.cmd == "compare":
        return compare(a)
    if a.cmd == "prefill":
        return prefill_cmd(a)
    if a.cmd == "decode":
        return decode_cmd(a)
    if a.cmd == "train":
        return train_cmd(a)
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
