"""A PyTorch reference of DC-AE (Deep Compression Autoencoder, arXiv:2410.10733), written for issue 20 from a
reading of diffusers' ``AutoencoderDC`` (autoencoder_dc.py, SanaMultiscaleLinearAttention and its processor,
GLUMBConv, RMSNorm) and MIT Han Lab's ``efficientvit`` DC-AE (models/efficientvit/dc_ae.py, models/nn/ops.py), not
copied from either. The Java codec (io.latteflow.model.latent.DcAeCodec) is checked against it.

What it is
    ``DcAe(cfg)``: encoder and decoder from a diffusers-style config dict (the keys of AutoencoderDC's config.json).
    Module and parameter names are diffusers', so ``state_dict()`` is the diffusers layout; ``to_original`` renames
    (and re-fuses q/k/v, 1x1 convs as 4-D) into the efficientvit layout, the inverse of diffusers'
    scripts/convert_dcae_to_diffusers.py, which ``check_conversion`` replays to prove it.
    Images enter in [-1, 1] (efficientvit's demos normalise with mean 0.5, std 0.5); latents are raw (unscaled).

Commands (from the repository root, torch 2.13.0 CPU in target/bench-venv)
    target/bench-venv/bin/python bench/dcae_ref.py fixtures        # rewrites model/core/src/test/resources/fixtures/dcae
    target/bench-venv/bin/python bench/dcae_ref.py full --out target/dcae-f32c32   # random f32c32, diffusers layout
    target/bench-venv/bin/python bench/dcae_ref.py time --model target/dcae-f32c32 --size 256   # one JSON line

Layouts written
    diffusers: config.json (AutoencoderDC's keys) + diffusion_pytorch_model.safetensors.
    original:  config.json + model.safetensors with efficientvit's keys. The published original checkpoints' config.json
               is only {"model_name": "dc-ae-f32c32-in-1.0"} (PyTorchModelHubMixin); the architecture then comes from
               efficientvit's presets. For models that are no preset (the fixtures), config.json also holds
               efficientvit's DCAEConfig fields (in_channels, latent_channels, scaling_factor, encoder{...}, decoder{...}).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "model/core/src/test/resources/fixtures/dcae"

# --------------------------------------------------------------------------------------------------------------
# configuration

DEFAULTS = {  # AutoencoderDC's defaults
    "in_channels": 3, "latent_channels": 32, "attention_head_dim": 32,
    "encoder_block_types": "ResBlock", "decoder_block_types": "ResBlock",
    "encoder_block_out_channels": [128, 256, 512, 512, 1024, 1024],
    "decoder_block_out_channels": [128, 256, 512, 512, 1024, 1024],
    "encoder_layers_per_block": [2, 2, 2, 3, 3, 3], "decoder_layers_per_block": [3, 3, 3, 3, 3, 3],
    "encoder_qkv_multiscales": [[], [], [], [5], [5], [5]], "decoder_qkv_multiscales": [[], [], [], [5], [5], [5]],
    "upsample_block_type": "pixel_shuffle", "downsample_block_type": "pixel_unshuffle",
    "decoder_norm_types": "rms_norm", "decoder_act_fns": "silu",
    "encoder_out_shortcut": True, "decoder_in_shortcut": True, "decoder_conv_act_fn": "relu", "scaling_factor": 1.0,
}

# dc-ae-f32c32-in-1.0 as diffusers' conversion script configures it (efficientvit's dc_ae_f32c32 preset)
F32C32_IN = dict(DEFAULTS, **{
    "latent_channels": 32,
    "encoder_block_types": ["ResBlock"] * 3 + ["EfficientViTBlock"] * 3,
    "decoder_block_types": ["ResBlock"] * 3 + ["EfficientViTBlock"] * 3,
    "encoder_block_out_channels": [128, 256, 512, 512, 1024, 1024],
    "decoder_block_out_channels": [128, 256, 512, 512, 1024, 1024],
    "encoder_layers_per_block": [0, 4, 8, 2, 2, 2], "decoder_layers_per_block": [0, 5, 10, 2, 2, 2],
    "encoder_qkv_multiscales": [[]] * 6, "decoder_qkv_multiscales": [[]] * 6,
    "decoder_norm_types": ["batch_norm"] * 3 + ["rms_norm"] * 3, "decoder_act_fns": ["relu"] * 3 + ["silu"] * 3,
    "scaling_factor": 0.3189,
})


def per_stage(value, n):
    return list(value) if isinstance(value, (list, tuple)) else [value] * n


# --------------------------------------------------------------------------------------------------------------
# building blocks (names as in diffusers, so state_dict() is its layout)

def activation(name):
    return {"relu": nn.ReLU(), "silu": nn.SiLU()}[name]


class ChannelRMSNorm(nn.Module):
    """RMSNorm over the channel axis of NCHW, eps 1e-5, with weight and bias (diffusers' RMSNorm(bias=True) applied
    channels-last; efficientvit's TritonRMSNorm2d)."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        x = x.movedim(1, -1)
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight + self.bias
        return x.movedim(-1, 1)


def norm2d(kind, channels):
    if kind == "rms_norm":
        return ChannelRMSNorm(channels)
    if kind == "batch_norm":
        return nn.BatchNorm2d(channels, eps=1e-5)
    raise ValueError(kind)


class ResBlock(nn.Module):
    def __init__(self, c, norm, act):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1)
        self.nonlinearity = activation(act)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.norm = norm2d(norm, c)

    def forward(self, x):
        return x + self.norm(self.conv2(self.nonlinearity(self.conv1(x))))


class MultiscaleProjection(nn.Module):
    def __init__(self, channels, groups, k):
        super().__init__()
        self.proj_in = nn.Conv2d(channels, channels, k, padding=k // 2, groups=channels, bias=False)
        self.proj_out = nn.Conv2d(channels, channels, 1, groups=groups, bias=False)

    def forward(self, x):
        return self.proj_out(self.proj_in(x))


class LinearAttention(nn.Module):
    """ReLU linear attention with multi-scale q/k/v. q/k/v rows are one fused projection split in thirds, and a
    head is a run of 3*dim consecutive channels of that projection read as (q, k, v): efficientvit's layout, which
    the diffusers names to_q/to_k/to_v only split."""

    def __init__(self, c, dim, scales, norm):
        super().__init__()
        self.dim = dim
        heads = c // dim
        inner = heads * dim
        self.to_q = nn.Linear(c, inner, bias=False)
        self.to_k = nn.Linear(c, inner, bias=False)
        self.to_v = nn.Linear(c, inner, bias=False)
        self.to_qkv_multiscale = nn.ModuleList(MultiscaleProjection(3 * inner, 3 * heads, k) for k in scales)
        self.to_out = nn.Linear(inner * (1 + len(scales)), c, bias=False)
        self.norm_out = norm2d(norm, c)

    def forward(self, x):
        b, _, h, w = x.shape
        t = x.movedim(1, -1)
        qkv = torch.cat([self.to_q(t), self.to_k(t), self.to_v(t)], dim=-1).movedim(-1, 1)
        qkv = torch.cat([qkv] + [m(qkv) for m in self.to_qkv_multiscale], dim=1)
        qkv = qkv.reshape(b, -1, 3 * self.dim, h * w)
        q, k, v = F.relu(qkv[:, :, :self.dim]), F.relu(qkv[:, :, self.dim:2 * self.dim]), qkv[:, :, 2 * self.dim:]
        if h * w > self.dim:   # linear form: (v;1) k^T q, then divide by the ones row
            vk = torch.matmul(F.pad(v, (0, 0, 0, 1), value=1.0), k.transpose(-1, -2))
            out = torch.matmul(vk, q)
            out = out[:, :, :-1] / (out[:, :, -1:] + 1e-15)
        else:                  # quadratic form, as both sources switch to for small maps; same value
            att = torch.matmul(k.transpose(-1, -2), q)
            att = att / (att.sum(dim=2, keepdim=True) + 1e-15)
            out = torch.matmul(v, att)
        out = self.to_out(out.reshape(b, -1, h, w).movedim(1, -1)).movedim(-1, 1)
        return x + self.norm_out(out)


class GLUMBConv(nn.Module):
    def __init__(self, c, expand=4):
        super().__init__()
        hidden = int(expand * c)
        self.conv_inverted = nn.Conv2d(c, 2 * hidden, 1)
        self.conv_depth = nn.Conv2d(2 * hidden, 2 * hidden, 3, 1, 1, groups=2 * hidden)
        self.conv_point = nn.Conv2d(hidden, c, 1, bias=False)
        self.norm = ChannelRMSNorm(c)

    def forward(self, x):
        y = self.conv_depth(F.silu(self.conv_inverted(x)))
        y, gate = y.chunk(2, dim=1)
        return x + self.norm(self.conv_point(y * F.silu(gate)))


class EfficientViTBlock(nn.Module):
    def __init__(self, c, dim, scales, norm):
        super().__init__()
        self.attn = LinearAttention(c, dim, scales, norm)
        self.conv_out = GLUMBConv(c)

    def forward(self, x):
        return self.conv_out(self.attn(x))


class Down(nn.Module):
    """Halves the side: a 3x3 conv then pixel-unshuffle (or a stride-2 conv), plus optionally the shortcut that
    pixel-unshuffles the input and averages groups of consecutive channels."""

    def __init__(self, cin, cout, unshuffle, shortcut):
        super().__init__()
        self.unshuffle, self.shortcut, self.cout = unshuffle, shortcut, cout
        self.conv = nn.Conv2d(cin, cout // 4 if unshuffle else cout, 3, 1 if unshuffle else 2, 1)

    def forward(self, x):
        y = self.conv(x)
        if self.unshuffle:
            y = F.pixel_unshuffle(y, 2)
        if self.shortcut:
            s = F.pixel_unshuffle(x, 2)
            y = y + s.reshape(s.shape[0], self.cout, -1, *s.shape[2:]).mean(dim=2)
        return y


class Up(nn.Module):
    """Doubles the side: a 3x3 conv then pixel-shuffle (or nearest upsampling then the conv), plus optionally the
    shortcut that repeats each channel (repeat_interleave) then pixel-shuffles."""

    def __init__(self, cin, cout, interpolate, shortcut):
        super().__init__()
        self.interpolate, self.shortcut = interpolate, shortcut
        self.repeats = cout * 4 // cin
        self.conv = nn.Conv2d(cin, cout if interpolate else cout * 4, 3, 1, 1)

    def forward(self, x):
        y = self.conv(F.interpolate(x, scale_factor=2, mode="nearest")) if self.interpolate else F.pixel_shuffle(self.conv(x), 2)
        if self.shortcut:
            y = y + F.pixel_shuffle(x.repeat_interleave(self.repeats, dim=1), 2)
        return y


def block(kind, c, dim, norm, act, scales):
    if kind == "ResBlock":
        return ResBlock(c, norm, act)
    if kind == "EfficientViTBlock":
        return EfficientViTBlock(c, dim, scales, norm)
    raise ValueError(kind)


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        widths, depths = cfg["encoder_block_out_channels"], cfg["encoder_layers_per_block"]
        n = len(widths)
        kinds = per_stage(cfg["encoder_block_types"], n)
        unshuffle = cfg["downsample_block_type"] == "pixel_unshuffle"
        first = widths[0] if depths[0] > 0 else widths[1]
        self.conv_in = nn.Conv2d(cfg["in_channels"], first, 3, 1, 1) if depths[0] > 0 else Down(cfg["in_channels"], first, unshuffle, False)
        stages = []
        for i in range(n):
            mods = [block(kinds[i], widths[i], cfg["attention_head_dim"], "rms_norm", "silu", cfg["encoder_qkv_multiscales"][i])
                    for _ in range(depths[i])]
            if i < n - 1 and depths[i] > 0:
                mods.append(Down(widths[i], widths[i + 1], unshuffle, True))
            stages.append(nn.Sequential(*mods))
        self.down_blocks = nn.ModuleList(stages)
        self.conv_out = nn.Conv2d(widths[-1], cfg["latent_channels"], 3, 1, 1)
        self.out_shortcut = cfg["encoder_out_shortcut"]
        self.latent = cfg["latent_channels"]

    def forward(self, x):
        x = self.conv_in(x)
        for s in self.down_blocks:
            x = s(x)
        y = self.conv_out(x)
        if self.out_shortcut:
            y = y + x.reshape(x.shape[0], self.latent, -1, *x.shape[2:]).mean(dim=2)
        return y


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        widths, depths = cfg["decoder_block_out_channels"], cfg["decoder_layers_per_block"]
        n = len(widths)
        kinds = per_stage(cfg["decoder_block_types"], n)
        norms, acts = per_stage(cfg["decoder_norm_types"], n), per_stage(cfg["decoder_act_fns"], n)
        interpolate = cfg["upsample_block_type"] == "interpolate"
        self.conv_in = nn.Conv2d(cfg["latent_channels"], widths[-1], 3, 1, 1)
        self.in_shortcut = cfg["decoder_in_shortcut"]
        self.repeats = widths[-1] // cfg["latent_channels"]
        stages = [None] * n
        for i in reversed(range(n)):
            mods = []
            if i < n - 1 and depths[i] > 0:
                mods.append(Up(widths[i + 1], widths[i], interpolate, True))
            mods += [block(kinds[i], widths[i], cfg["attention_head_dim"], norms[i], acts[i], cfg["decoder_qkv_multiscales"][i])
                     for _ in range(depths[i])]
            stages[i] = nn.Sequential(*mods)
        self.up_blocks = nn.ModuleList(stages)
        last = widths[0] if depths[0] > 0 else widths[1]
        self.norm_out = ChannelRMSNorm(last)
        self.conv_act = activation(cfg["decoder_conv_act_fn"])
        self.conv_out = nn.Conv2d(last, cfg["in_channels"], 3, 1, 1) if depths[0] > 0 else Up(last, cfg["in_channels"], interpolate, False)

    def forward(self, z):
        x = self.conv_in(z)
        if self.in_shortcut:
            x = x + z.repeat_interleave(self.repeats, dim=1)
        for s in reversed(self.up_blocks):
            x = s(x)
        return self.conv_out(self.conv_act(self.norm_out(x)))


class DcAe(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(DEFAULTS, **cfg)
        self.encoder = Encoder(self.cfg)
        self.decoder = Decoder(self.cfg)


# --------------------------------------------------------------------------------------------------------------
# the original (efficientvit) key layout

ORIG_NORM = {"rms_norm": "trms2d", "batch_norm": "bn2d"}
ORIG_BLOCK = {"ResBlock": "ResBlock", "EfficientViTBlock": {(): "EViT_GLU", (5,): "EViTS5_GLU"}}


def to_original(sd, cfg):
    """diffusers-layout state dict -> efficientvit layout (names, fused qkv, 4-D 1x1 convs)."""
    cfg = dict(DEFAULTS, **cfg)
    out = {}

    def blk(dst, src, kind):
        if kind == "ResBlock":
            out[f"{dst}.main.conv1.conv.weight"] = sd[f"{src}.conv1.weight"]
            out[f"{dst}.main.conv1.conv.bias"] = sd[f"{src}.conv1.bias"]
            out[f"{dst}.main.conv2.conv.weight"] = sd[f"{src}.conv2.weight"]
            for k, v in sd.items():
                if k.startswith(f"{src}.norm."):
                    out[f"{dst}.main.conv2.norm.{k.rsplit('.', 1)[1]}"] = v
            return
        a, g = f"{dst}.context_module.main", f"{dst}.local_module.main"
        qkv = torch.cat([sd[f"{src}.attn.to_{x}.weight"] for x in "qkv"], 0)
        out[f"{a}.qkv.conv.weight"] = qkv[:, :, None, None]
        s = 0
        while f"{src}.attn.to_qkv_multiscale.{s}.proj_in.weight" in sd:
            out[f"{a}.aggreg.{s}.0.weight"] = sd[f"{src}.attn.to_qkv_multiscale.{s}.proj_in.weight"]
            out[f"{a}.aggreg.{s}.1.weight"] = sd[f"{src}.attn.to_qkv_multiscale.{s}.proj_out.weight"]
            s += 1
        out[f"{a}.proj.conv.weight"] = sd[f"{src}.attn.to_out.weight"][:, :, None, None]
        for k, v in sd.items():
            if k.startswith(f"{src}.attn.norm_out."):
                out[f"{a}.proj.norm.{k.rsplit('.', 1)[1]}"] = v
        for x, y in (("conv_inverted", "inverted_conv.conv"), ("conv_depth", "depth_conv.conv")):
            out[f"{g}.{y}.weight"] = sd[f"{src}.conv_out.{x}.weight"]
            out[f"{g}.{y}.bias"] = sd[f"{src}.conv_out.{x}.bias"]
        out[f"{g}.point_conv.conv.weight"] = sd[f"{src}.conv_out.conv_point.weight"]
        out[f"{g}.point_conv.norm.weight"] = sd[f"{src}.conv_out.norm.weight"]
        out[f"{g}.point_conv.norm.bias"] = sd[f"{src}.conv_out.norm.bias"]

    def conv(dst, src):
        for p in ("weight", "bias"):
            if f"{src}.{p}" in sd:
                out[f"{dst}.{p}"] = sd[f"{src}.{p}"]

    unshuffle = cfg["downsample_block_type"] == "pixel_unshuffle"
    interpolate = cfg["upsample_block_type"] == "interpolate"
    for side in ("encoder", "decoder"):
        widths, depths = cfg[f"{side}_block_out_channels"], cfg[f"{side}_layers_per_block"]
        n = len(widths)
        kinds = per_stage(cfg[f"{side}_block_types"], n)
        for i in range(n):
            j0 = 1 if side == "decoder" and i < n - 1 and depths[i] > 0 else 0
            if j0:   # upsample: ResidualBlock(ConvPixelShuffle / InterpolateConv(ConvLayer))
                conv(f"decoder.stages.{i}.op_list.0.main.conv.conv", f"decoder.up_blocks.{i}.0.conv")
            for j in range(depths[i]):
                blk(f"{side}.stages.{i}.op_list.{j0 + j}", f"{side}.{'down' if side == 'encoder' else 'up'}_blocks.{i}.{j0 + j}", kinds[i])
            if side == "encoder" and i < n - 1 and depths[i] > 0:
                d = depths[i]
                conv(f"encoder.stages.{i}.op_list.{d}.main.conv{'.conv' if unshuffle else ''}", f"encoder.down_blocks.{i}.{d}.conv")
        if side == "encoder":
            if depths[0] > 0:
                conv("encoder.project_in.conv", "encoder.conv_in")
            else:
                conv(f"encoder.project_in.conv{'.conv' if unshuffle else ''}", "encoder.conv_in.conv")
            conv("encoder.project_out.main.op_list.0.conv", "encoder.conv_out")
        else:
            conv("decoder.project_in.main.conv", "decoder.conv_in")
            conv("decoder.project_out.op_list.0", "decoder.norm_out")
            if depths[0] > 0:
                conv("decoder.project_out.op_list.2.conv", "decoder.conv_out")
            else:
                conv("decoder.project_out.op_list.2.conv.conv", "decoder.conv_out.conv")
    placed = {id(v) for v in out.values()}
    fused = (".to_q.", ".to_k.", ".to_v.", ".to_out.")
    left = [k for k, v in sd.items() if id(v) not in placed and not any(f in k for f in fused)]
    assert not left, f"not mapped to the original layout: {left}"
    return out


def original_config(cfg, name):
    """efficientvit's DCAEConfig fields for cfg (only what its dc_ae.py reads)."""
    cfg = dict(DEFAULTS, **cfg)

    def side(s):
        n = len(cfg[f"{s}_block_out_channels"])
        kinds = per_stage(cfg[f"{s}_block_types"], n)
        scales = cfg[f"{s}_qkv_multiscales"]
        bt = [ORIG_BLOCK["ResBlock"] if k == "ResBlock" else ORIG_BLOCK[k][tuple(scales[i])] for i, k in enumerate(kinds)]
        d = {"width_list": list(cfg[f"{s}_block_out_channels"]), "depth_list": list(cfg[f"{s}_layers_per_block"]), "block_type": bt}
        if s == "encoder":
            d.update(norm="trms2d", act="silu", out_shortcut="averaging" if cfg["encoder_out_shortcut"] else None,
                     downsample_block_type="ConvPixelUnshuffle" if cfg["downsample_block_type"] == "pixel_unshuffle" else "Conv")
        else:
            d.update(norm=[ORIG_NORM[x] for x in per_stage(cfg["decoder_norm_types"], n)], act=per_stage(cfg["decoder_act_fns"], n),
                     in_shortcut="duplicating" if cfg["decoder_in_shortcut"] else None, out_norm="trms2d", out_act=cfg["decoder_conv_act_fn"],
                     upsample_block_type="InterpolateConv" if cfg["upsample_block_type"] == "interpolate" else "ConvPixelShuffle")
        return d

    # attention_head_dim: efficientvit fixes it at 32; written (and read by DcAeConfig.fromOriginal) for small models
    return {"model_name": name, "in_channels": cfg["in_channels"], "latent_channels": cfg["latent_channels"],
            "attention_head_dim": cfg["attention_head_dim"],
            "scaling_factor": cfg["scaling_factor"], "encoder": side("encoder"), "decoder": side("decoder")}


def check_conversion(orig, diff, first_stage_empty):
    """Replays diffusers' conversion (its rename table applied in order, then the qkv split and the 1x1 squeeze),
    written out here from the script's documented rules, on the original keys: it must give the diffusers keys. The
    script maps project_in/project_out to conv_in.conv/conv_out.conv for the f32c32/f64c128/f128c512 configs (first
    stage empty: they are down/up blocks) and to conv_in/conv_out for the others."""
    rules = [("main.", ""), ("op_list.", ""), ("context_module", "attn"), ("local_module", "conv_out"),
             ("aggreg.0.0", "to_qkv_multiscale.0.proj_in"), ("aggreg.0.1", "to_qkv_multiscale.0.proj_out"),
             ("depth_conv.conv", "conv_depth"), ("inverted_conv.conv", "conv_inverted"), ("point_conv.conv", "conv_point"),
             ("point_conv.norm", "norm"), ("conv.conv.", "conv."), ("conv1.conv", "conv1"), ("conv2.conv", "conv2"),
             ("conv2.norm", "norm"), ("proj.norm", "norm_out"), ("encoder.project_in.conv", "encoder.conv_in.conv" if first_stage_empty else "encoder.conv_in"),
             ("encoder.project_out.0.conv", "encoder.conv_out"), ("encoder.stages", "encoder.down_blocks"),
             ("decoder.project_in.conv", "decoder.conv_in"), ("decoder.project_out.0", "decoder.norm_out"),
             ("decoder.project_out.2.conv", "decoder.conv_out.conv" if first_stage_empty else "decoder.conv_out"), ("decoder.stages", "decoder.up_blocks")]
    got = {}
    for k, v in orig.items():
        for a, b in rules:
            k = k.replace(a, b)
        if k.endswith(".qkv.conv.weight"):
            p = k[: -len(".qkv.conv.weight")]
            for name, part in zip(("to_q", "to_k", "to_v"), v.chunk(3, 0)):
                got[f"{p}.{name}.weight"] = part.squeeze()
        elif k.endswith(".proj.conv.weight"):
            got[k[: -len(".proj.conv.weight")] + ".to_out.weight"] = v.squeeze()
        else:
            got[k] = v
    assert set(got) == set(diff), f"conversion mismatch: {sorted(set(got) ^ set(diff))[:8]}"
    for k in got:
        assert torch.equal(got[k], diff[k]), k


# --------------------------------------------------------------------------------------------------------------
# random weights, saving, golden outputs

def randomise(model, seed, bf16=False):
    """Every parameter and batch-norm statistic random and O(1)-scaled, so no path is an identity. bf16: round
    every value to bfloat16 (so a BF16 file holds exactly the model's values)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            fan_in = p[0].numel() if p.dim() > 1 else 1
            if name.endswith("norm.weight") or name.endswith("norm_out.weight"):
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / (fan_in ** 0.5) * (1.0 if p.dim() > 1 else 0.2))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.2 * torch.randn(b.shape, generator=g))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))
        if bf16:
            for t in list(model.parameters()) + [b for n, b in model.named_buffers() if b.is_floating_point()]:
                t.copy_(t.to(torch.bfloat16).to(torch.float32))
    return model.eval()


def save_diffusers(model, out, dtype=torch.float32):
    from safetensors.torch import save_file
    out.mkdir(parents=True, exist_ok=True)
    cfg = dict(model.cfg, _class_name="AutoencoderDC", _diffusers_version="0.32.0.dev0")
    (out / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    sd = {k: (v.to(dtype) if v.is_floating_point() else v).contiguous() for k, v in model.state_dict().items()}
    save_file(sd, str(out / "diffusion_pytorch_model.safetensors"), metadata={"format": "pt"})


def save_original(model, out, name, dtype=torch.float32):
    from safetensors.torch import save_file
    out.mkdir(parents=True, exist_ok=True)
    sd = model.state_dict()
    orig = to_original(sd, model.cfg)
    check_conversion(orig, sd, model.cfg["encoder_layers_per_block"][0] == 0)
    (out / "config.json").write_text(json.dumps(original_config(model.cfg, name), indent=2) + "\n")
    save_file({k: (v.to(dtype) if v.is_floating_point() else v).contiguous() for k, v in orig.items()},
              str(out / "model.safetensors"), metadata={"format": "pt"})


# Tiny models for the fixtures. A: f32c32's shape of config in miniature (first stage empty: conv_in is a
# pixel-unshuffle down block without shortcut, conv_out a pixel-shuffle up block; ResBlock stages with batch norm and
# ReLU in the decoder, an EfficientViT stage with RMS norm and SiLU, no multi-scale). B: every stage populated
# (plain conv_in/conv_out), a multi-scale (5x5) EfficientViT stage in both encoder and decoder, two heads; on an
# 8x8 input its last stage is 2x2, where both sources switch to the quadratic form of the attention.
TINY_A = {
    "in_channels": 3, "latent_channels": 4, "attention_head_dim": 4,
    "encoder_block_types": ["ResBlock", "ResBlock", "EfficientViTBlock"],
    "decoder_block_types": ["ResBlock", "ResBlock", "EfficientViTBlock"],
    "encoder_block_out_channels": [4, 8, 16], "decoder_block_out_channels": [4, 8, 16],
    "encoder_layers_per_block": [0, 1, 1], "decoder_layers_per_block": [0, 2, 1],
    "encoder_qkv_multiscales": [[], [], []], "decoder_qkv_multiscales": [[], [], []],
    "decoder_norm_types": ["batch_norm", "batch_norm", "rms_norm"], "decoder_act_fns": ["relu", "relu", "silu"],
    "scaling_factor": 0.5,
}
TINY_B = {
    "in_channels": 3, "latent_channels": 4, "attention_head_dim": 8,
    "encoder_block_types": ["ResBlock", "EfficientViTBlock", "EfficientViTBlock"],
    "decoder_block_types": ["ResBlock", "EfficientViTBlock", "EfficientViTBlock"],
    "encoder_block_out_channels": [4, 8, 16], "decoder_block_out_channels": [4, 8, 16],
    "encoder_layers_per_block": [1, 1, 1], "decoder_layers_per_block": [1, 1, 1],
    "encoder_qkv_multiscales": [[], [5], [5]], "decoder_qkv_multiscales": [[], [5], [5]],
    "decoder_norm_types": ["batch_norm", "rms_norm", "rms_norm"], "decoder_act_fns": ["relu", "silu", "silu"],
    "scaling_factor": 0.25,
}

# C: the Sana-style sampling (stride-2 conv down, nearest-upsample-then-conv up; downsample_block_type "Conv",
# upsample_block_type "interpolate"), also for conv_in/conv_out of an empty first stage, with a 5x5 multi-scale
# EfficientViT stage of two heads.
TINY_C = {
    "in_channels": 3, "latent_channels": 4, "attention_head_dim": 4,
    "encoder_block_types": ["ResBlock", "ResBlock", "EfficientViTBlock"],
    "decoder_block_types": ["ResBlock", "ResBlock", "EfficientViTBlock"],
    "encoder_block_out_channels": [4, 8, 8], "decoder_block_out_channels": [4, 8, 8],
    "encoder_layers_per_block": [0, 1, 1], "decoder_layers_per_block": [0, 1, 1],
    "encoder_qkv_multiscales": [[], [], [5]], "decoder_qkv_multiscales": [[], [], [5]],
    "downsample_block_type": "Conv", "upsample_block_type": "interpolate",
    "decoder_norm_types": ["batch_norm", "batch_norm", "rms_norm"], "decoder_act_fns": ["relu", "relu", "silu"],
    "scaling_factor": 0.75,
}


def golden(model, size, batch, seed):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(batch, 3, size, size, generator=g)
    with torch.no_grad():
        latents = model.encoder(images * 2 - 1)
        s = model.cfg["scaling_factor"]
        tokens = (latents * s).flatten(2).transpose(1, 2).contiguous()
        decoded = model.decoder(tokens.transpose(1, 2).reshape(latents.shape) / s)
        recon = ((decoded + 1) / 2).clamp(0, 1)
    return {"images": images, "latents": latents.contiguous(), "tokens": tokens, "decoded": decoded.contiguous(),
            "reconstruction": recon.contiguous()}


def cmd_fixtures(_args):
    from safetensors.torch import save_file
    torch.manual_seed(0)
    for name, cfg, size, seed in (("tiny-a", TINY_A, 16, 1), ("tiny-b", TINY_B, 8, 2), ("tiny-c", TINY_C, 16, 3)):
        model = randomise(DcAe(cfg), seed, bf16=True)
        base = FIXTURES / name
        save_diffusers(model, base / "diffusers")                         # F32
        save_original(model, base / "original", f"{name}-1.0", torch.bfloat16)  # BF16: the same values
        save_file(golden(model, size, 2, 100 + seed), str(base / "golden.safetensors"), metadata={"format": "pt"})
        print(name, sum(p.numel() for p in model.parameters()), "parameters")


def cmd_full(args):
    torch.manual_seed(0)
    model = randomise(DcAe(F32C32_IN), 0)
    save_diffusers(model, Path(args.out))
    print(json.dumps({"out": args.out, "parameters": sum(p.numel() for p in model.parameters())}))


def load_diffusers(folder):
    from safetensors.torch import load_file
    cfg = json.loads((Path(folder) / "config.json").read_text())
    cfg = {k: v for k, v in cfg.items() if not k.startswith("_")}
    model = DcAe(cfg)
    model.load_state_dict(load_file(str(Path(folder) / "diffusion_pytorch_model.safetensors")))
    return model.eval()


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024


def cmd_time(args):
    torch.set_num_threads(args.threads)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    model = load_diffusers(args.model)
    load_s = time.perf_counter() - t0
    s = model.cfg["scaling_factor"]
    g = torch.Generator().manual_seed(0)
    img = torch.rand(1, 3, args.size, args.size, generator=g)
    enc, dec, enc_cpu, dec_cpu = [], [], [], []   # wall and this thread's CPU time (one torch thread: the caller's)
    with torch.no_grad():
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.thread_time()
            z = model.encoder(img * 2 - 1) * s
            enc.append(time.perf_counter() - t0)
            enc_cpu.append(time.thread_time() - c0)
            t0, c0 = time.perf_counter(), time.thread_time()
            y = model.decoder(z / s)
            dec.append(time.perf_counter() - t0)
            dec_cpu.append(time.thread_time() - c0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.save:
        from safetensors.torch import save_file
        save_file({"images": img, "tokens": z.flatten(2).transpose(1, 2).contiguous(), "decoded": y.contiguous()}, args.save)
    print(json.dumps({"side": "torch", "torch": torch.__version__, "threads": args.threads, "size": args.size,
                      "load_s": round(load_s, 3), "encode_s": [round(x, 3) for x in enc], "decode_s": [round(x, 3) for x in dec],
                      "encode_cpu_s": [round(x, 3) for x in enc_cpu], "decode_cpu_s": [round(x, 3) for x in dec_cpu],
                      "rss_before_mb": round(rss0), "peak_rss_mb": round(peak), "latent_shape": list(z.shape)}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fixtures")
    p = sub.add_parser("full")
    p.add_argument("--out", required=True)
    p = sub.add_parser("time")
    p.add_argument("--model", required=True)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--save", help="write the image, tokens and decoded output here (safetensors)")
    args = ap.parse_args()
    {"fixtures": cmd_fixtures, "full": cmd_full, "time": cmd_time}[args.cmd](args)


if __name__ == "__main__":
    main()
