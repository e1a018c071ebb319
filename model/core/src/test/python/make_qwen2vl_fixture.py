#!/usr/bin/env python3
"""Writes the Qwen2-VL parity fixture for Qwen2VlParityTest: a tiny random Hugging Face
Qwen2VLForConditionalGeneration, an image, and what HF's own modeling code computes from them.

Generated with torch 2.14.1 (the CUDA wheel, run on the CPU) and transformers 5.17.0, float32,
eager attention. Regenerate (from the repository root; the outputs are committed, so this is needed
only when the fixture changes; the install is ~3 GB, see shared/SPIKE-NOTES.md "PyTorch and Hugging
Face transformers on the CPU" for the mirror flags):

    python3 -m venv /tmp/hfvenv
    /tmp/hfvenv/bin/pip install --no-deps torch==2.14.1 torchvision==0.29.1
    /tmp/hfvenv/bin/pip install filelock typing-extensions setuptools sympy networkx jinja2 fsspec \
        "cuda-toolkit[cublas,cudart,cufft,cufile,cupti,curand,cusolver,cusparse,nvjitlink,nvrtc,nvtx]==13.0.3" \
        nvidia-cudnn-cu13==9.24.0.43 nvidia-cusparselt-cu13==0.8.1 nvidia-nccl-cu13==2.30.7 nvidia-nvshmem-cu13==3.4.5
    /tmp/hfvenv/bin/pip install transformers==5.17.0 safetensors pillow numpy tokenizers
    /tmp/hfvenv/bin/python model/core/src/test/python/make_qwen2vl_fixture.py

The model mirrors this LatteConfig (what the Java test builds):
    vocabSize 64, hiddenSize 32, numLayers 2, numHeads 4, numKvHeads 2, intermediateSize 64,
    ropeTheta 10000, rmsNormEps 1e-6 (head dim 8 -> M-RoPE sections [1, 1, 2]),
    visionDepth 2, visionHidden 16, visionHeads 2, visionMlpRatio 2, patchSize 4,
    temporalPatchSize 2, spatialMergeSize 2, imageSize 32 (8x8 patches -> 16 image tokens, merged grid 4).
Vision width 16 (not 32) and patch 4 (not 14) keep the fixture under 200 KB.
Every weight is random, including biases and norm weights (norm weights 1 + N(0, 0.2^2), biases
N(0, 0.2^2), matrices N(0, 1/fan_in), embeddings N(0, 1)), so every path is exercised.
Special token ids: <|endoftext|> 58, <|im_start|> 59, <|im_end|> 60, <|vision_start|> 61,
<|vision_end|> 62, <|image_pad|> 63 (video_token_id 57, unused).

Outputs, in model/core/src/test/resources/fixtures/qwen2vl/:
  config.json        the HF config as save_pretrained writes it (nested text_config/vision_config)
  model.safetensors  the HF state dict as save_pretrained writes it. transformers 5.17 writes the
                     OLD key layout: model.embed_tokens.*, model.layers.*, model.norm.*, visual.*;
                     no lm_head.weight (tied to model.embed_tokens.weight)
  image.png          the 32x32 8-bit RGB image (seeded random pixels)
  expected.safetensors (all F32):
    input_ids          (1, n) token ids as floats
    pixel_values       (64, 96) Qwen2VLImageProcessor output (do_resize False), merge-window order
    image_grid_thw     (1, 3) as floats: [1, 8, 8]
    position_ids       (3, 1, n) M-RoPE positions from model.model.get_rope_index, as floats
    image_embeds       (16, 32) vision tower output (after the patch merger)
    layer_input.0      (1, n, 32) hidden states entering decoder layer 0: the embeddings with the image spliced in
    layer_output.L     (1, n, 32) hidden states leaving decoder layer L (before the final norm)
    key.L, value.L     (1, 2, n, 8) layer L's cached keys (after RoPE) and values
    last_hidden_state  (1, n, 32) after the final RMSNorm
    logits             (1, n, 64)
"""
import json
import pathlib
import shutil
import tempfile

import numpy as np
import torch
import transformers
from PIL import Image
from safetensors.numpy import save_file
from safetensors import safe_open
from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration
from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

SEED = 20240917
OUT = pathlib.Path(__file__).resolve().parents[1] / "resources" / "fixtures" / "qwen2vl"

EOT, IM_START, IM_END, VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD = 58, 59, 60, 61, 62, 63, 57
PATCH, TEMPORAL, MERGE, IMAGE = 4, 2, 2, 32
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]


def build_model():
    config = Qwen2VLConfig(
        text_config=dict(
            vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, hidden_act="silu", rms_norm_eps=1e-6,
            max_position_embeddings=128, use_sliding_window=False,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [1, 1, 2]},
            bos_token_id=EOT, eos_token_id=IM_END, pad_token_id=EOT, tie_word_embeddings=True,
        ),
        vision_config=dict(
            depth=2, embed_dim=16, hidden_size=32, hidden_act="quick_gelu", mlp_ratio=2, num_heads=2,
            in_channels=3, patch_size=PATCH, spatial_merge_size=MERGE, temporal_patch_size=TEMPORAL,
        ),
        image_token_id=IMAGE_PAD, video_token_id=VIDEO_PAD,
        vision_start_token_id=VISION_START, vision_end_token_id=VISION_END,
        tie_word_embeddings=True,
    )
    config._attn_implementation = "eager"
    config.text_config._attn_implementation = "eager"
    config.vision_config._attn_implementation = "eager"
    torch.manual_seed(SEED)
    model = Qwen2VLForConditionalGeneration(config).float().eval()
    assert model.config.text_config.rope_parameters["mrope_section"] == [1, 1, 2], model.config.text_config.rope_parameters
    with torch.no_grad():
        for name, p in model.named_parameters():      # tied lm_head.weight is listed once, as embed_tokens
            if name.endswith(("norm.weight", "norm1.weight", "norm2.weight", "ln_q.weight", "layernorm.weight")):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn_like(p))
            elif "embed_tokens" in name:
                p.copy_(torch.randn_like(p))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn_like(p) / fan_in ** 0.5)
    assert model.lm_head.weight.data_ptr() == model.model.language_model.embed_tokens.weight.data_ptr(), "lm_head not tied"
    return model


def make_image():
    rng = np.random.RandomState(SEED)
    pixels = rng.randint(0, 256, size=(IMAGE, IMAGE, 3), dtype=np.uint8)
    return Image.fromarray(pixels, mode="RGB")


def reference_patches(image):
    """The processor's layout, reproduced by hand: CLIP normalisation, temporal repeat, merge-window order."""
    x = np.asarray(image, dtype=np.float64).transpose(2, 0, 1) / 255.0
    x = (x - np.array(MEAN)[:, None, None]) / np.array(STD)[:, None, None]
    g = IMAGE // PATCH
    x = x.reshape(3, g // MERGE, MERGE, PATCH, g // MERGE, MERGE, PATCH)
    x = x.transpose(1, 4, 2, 5, 0, 3, 6)                      # (hb, wb, mh, mw, C, py, px)
    x = np.repeat(x[:, :, :, :, :, None], TEMPORAL, axis=5)     # (hb, wb, mh, mw, C, T, py, px)
    return x.reshape(g * g, 3 * TEMPORAL * PATCH * PATCH)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    model = build_model()
    image = make_image()
    image.save(OUT / "image.png")
    image = Image.open(OUT / "image.png").convert("RGB")      # what Java reads

    processor = Qwen2VLImageProcessor(do_resize=False, patch_size=PATCH, temporal_patch_size=TEMPORAL,
                                      merge_size=MERGE, image_mean=MEAN, image_std=STD)
    feats = processor(images=[image], return_tensors="pt")
    pixel_values, grid = feats["pixel_values"].float(), feats["image_grid_thw"]
    assert grid.tolist() == [[1, IMAGE // PATCH, IMAGE // PATCH]], grid
    by_hand = reference_patches(image)
    assert np.abs(pixel_values.numpy() - by_hand).max() < 1e-5, "processor layout differs from the documented one"

    image_tokens = (IMAGE // PATCH // MERGE) ** 2
    question = [5, 17, 42, 8, 33]
    ids = [IM_START, VISION_START] + [IMAGE_PAD] * image_tokens + [VISION_END] + question + [IM_END]
    input_ids = torch.tensor([ids], dtype=torch.long)
    mm_token_type_ids = (input_ids == IMAGE_PAD).int()
    attention_mask = torch.ones_like(input_ids)

    position_ids, _ = model.model.get_rope_index(input_ids, mm_token_type_ids=mm_token_type_ids,
                                                 image_grid_thw=grid, attention_mask=attention_mask)

    captured = {}
    hooks = []
    for l, layer in enumerate(model.model.language_model.layers):
        hooks.append(layer.register_forward_hook(
            lambda mod, args, kwargs, out, l=l: captured.update({
                f"layer_input.{l}": (args[0] if args else kwargs["hidden_states"]).detach().clone(),
                f"layer_output.{l}": (out[0] if isinstance(out, tuple) else out).detach().clone()}),
            with_kwargs=True))
    with torch.no_grad():
        image_embeds = model.model.get_image_features(pixel_values, grid).pooler_output[0]
        out = model(input_ids=input_ids, attention_mask=attention_mask, pixel_values=pixel_values,
                    image_grid_thw=grid, mm_token_type_ids=mm_token_type_ids, use_cache=True,
                    output_hidden_states=True, return_dict=True)
        base = model.model(input_ids=input_ids, attention_mask=attention_mask, pixel_values=pixel_values,
                           image_grid_thw=grid, mm_token_type_ids=mm_token_type_ids, use_cache=False, return_dict=True)
    for h in hooks:
        h.remove()
    last = base.last_hidden_state
    logits = out.logits
    assert torch.allclose(logits, last @ model.model.language_model.embed_tokens.weight.T, atol=1e-5)
    assert torch.allclose(last, model.model.language_model.norm(captured["layer_output.1"]), atol=1e-6)

    expected = {
        "input_ids": input_ids.float().numpy(),
        "pixel_values": pixel_values.numpy(),
        "image_grid_thw": grid.float().numpy(),
        "position_ids": position_ids.float().numpy(),
        "image_embeds": image_embeds.numpy(),
        "last_hidden_state": last.numpy(),
        "logits": logits.numpy(),
    }
    for name, t in captured.items():
        if name.startswith("layer_output.") or name == "layer_input.0":   # layer_input.L+1 == layer_output.L
            expected[name] = t.numpy()
    cache = out.past_key_values
    for l in range(model.config.text_config.num_hidden_layers):
        layer = cache.layers[l]
        expected[f"key.{l}"] = layer.keys.numpy()
        expected[f"value.{l}"] = layer.values.numpy()
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in expected.items()},
              str(OUT / "expected.safetensors"),
              metadata={"torch": torch.__version__, "transformers": transformers.__version__, "seed": str(SEED)})

    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        shutil.copy(pathlib.Path(tmp) / "model.safetensors", OUT / "model.safetensors")
        shutil.copy(pathlib.Path(tmp) / "config.json", OUT / "config.json")

    with safe_open(str(OUT / "model.safetensors"), "np") as f:
        keys = sorted(f.keys())
    print("state dict keys (%d):" % len(keys))
    for k in keys:
        print("  ", k)
    print("position_ids:", position_ids[:, 0].tolist())
    print("sizes:", {p.name: p.stat().st_size for p in sorted(OUT.iterdir())},
          "total", sum(p.stat().st_size for p in OUT.iterdir()))
    print("torch", torch.__version__, "transformers", transformers.__version__)


if __name__ == "__main__":
    main()
