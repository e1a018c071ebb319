#!/usr/bin/env python3
"""Writes two complete, tiny Hugging Face Qwen2-VL folders plus end-to-end goldens (chat template ->
processor -> prompt forward pass -> greedy generate) computed by Hugging Face's own code.

Generated with torch 2.14.1 (the CUDA wheel, run on the CPU, one thread) and transformers 5.17.0,
tokenizers 0.23.2, eager attention, float32 compute. Regenerate (from the repository root, with the
venv that make_qwen2vl_fixture.py describes; the outputs are committed):

    /tmp/hfvenv/bin/python model/core/src/test/python/make_qwen2vl_folders.py

Outputs, in model/core/src/test/resources/fixtures/qwen2vl-folders/:

  tied-bf16-sharded/   a folder laid out as the hub ships Qwen/Qwen2-VL-2B-Instruct:
      config.json                    FLAT (text fields top level, rope_theta, rope_scaling {"type": "mrope"},
                                     vision_config nested with the hub's in_chans / spatial_patch_size keys),
                                     tie_word_embeddings true, torch_dtype bfloat16; written by hand
      model-0000k-of-0000K.safetensors + model.safetensors.index.json
                                     BF16, sharded by save_pretrained; OLD key layout (model.embed_tokens.*,
                                     model.layers.*, model.norm.*, visual.*), no lm_head.weight
      chat_template.json             {"chat_template": ...}
      preprocessor_config.json       min_pixels / max_pixels style
      generation_config.json         eos_token_id [<|im_end|>, <|endoftext|>]
      tokenizer.json, tokenizer_config.json
  untied-f32/          the layout transformers 5.17 itself writes:
      config.json                    NESTED (text_config / vision_config), as save_pretrained writes it
      model.safetensors              F32, one file, NEW key layout (model.language_model.*, model.visual.*,
                                     lm_head.weight: its own random tensor)
      preprocessor_config.json       size {"shortest_edge": min_pixels, "longest_edge": max_pixels} style
      generation_config.json         eos_token_id a single int (<|im_end|>)
      tokenizer.json, tokenizer_config.json (the chat template is inside it, key "chat_template")
  wide.png (48x24), odd.png (45x30), big.png (100x80)   8-bit RGB, seeded, smooth-ish
  cases.json            each case: folder, messages, images, prompt text, n, grids, generated ids, eos hit
  <case>.safetensors    all F32 (ints stored as floats), metadata "prompt":
      input_ids (1, n), pixel_values (N, 96) from the PIL ("slow") Qwen2VLImageProcessorPil,
      pixel_values_fast (N, 96) from the torchvision Qwen2VLImageProcessor, image_grid_thw (k, 3),
      position_ids (3, 1, n) from model.model.get_rope_index, logits (1, n, V) of the prompt,
      generated (1, m): only the new tokens of greedy generate(max_new_tokens=12)
  batch.safetensors     batched greedy generate (left padding) of one-image + image-in-middle in the tied
                        folder: input_ids (2, n), attention_mask (2, n), generated.0, generated.1

Weights are random as in make_qwen2vl_fixture.py (norm weights 1 + N(0, 0.2^2), biases N(0, 0.2^2),
matrices N(0, 1/fan_in), embeddings N(0, 1)) except the tied model's embeddings, N(0, 0.1^2) (see TIED_SEED).
Every golden is computed by the model as from_pretrained loads it from its folder (the tied folder's
BF16 weights upcast to float32), after checking that the folder loads to the same logits as the model
built in memory (for the tied folder: after rounding its weights to BF16).

The tokenizer is a byte-level BPE trained here (Qwen2's pre-tokenizer: the Qwen2 split regex, then
ByteLevel without regex; NFC; ByteLevel decoder) to 300 tokens on a small corpus about pictures,
followed by the special tokens. The chat template is the one the Qwen/Qwen2-VL-2B-Instruct checkpoint ships.
Model vocab = tokenizer size rounded up to a multiple of 8, so ids 308..311 exist in the model only.

What transformers 5.17 does, as seen here:
  - Qwen2VLImageProcessor is the torchvision ("fast") class; the PIL class is Qwen2VLImageProcessorPil.
    AutoProcessor(use_fast=False) picks the PIL one (backend="pil" fails: the kwarg reaches the video
    processor, which has no setter for it). Both honour min_pixels/max_pixels and size
    {shortest_edge, longest_edge}; __init__ writes min/max_pixels into the class's default size dict.
  - Qwen2VLProcessor needs a video processor; it reads the chat template from chat_template.json /
    .jinja only. One only in tokenizer_config.json reaches the tokenizer (processor.chat_template is None).
  - get_rope_index(input_ids, mm_token_type_ids, ...) needs mm_token_type_ids (the processor returns it).
  - from_pretrained loads a BF16 folder as BF16 unless dtype is given; here dtype=torch.float32.
  - safetensors writes the metadata in hash order, so regenerated files differ in bytes, not content.
"""
import json
import math
import pathlib
import shutil
import tempfile

import numpy as np
import torch
import transformers
from PIL import Image
from safetensors.numpy import save_file
from safetensors.torch import save_file as save_torch
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import (AutoProcessor, PreTrainedTokenizerFast, Qwen2VLConfig,
                          Qwen2VLForConditionalGeneration, Qwen2VLProcessor)
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor
from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

torch.set_num_threads(1)

SEED = 20250311   # images
# Model weights. With tied embeddings of std 1 the residual stream is dominated by the input token's own
# embedding, so the tied model only ever repeats its last token; std 0.1 lets the layers steer it. The two
# seeds were picked (by trying seeds in a row) so that greedy output varies and one case of each folder
# stops at an eos token inside the 12 new tokens: one-image at <|endoftext|> (the second eos of the tied
# folder's list, which also makes the batch pad one row), two-images at <|im_end|>.
TIED_SEED, UNTIED_SEED = 20250363, 20250340
TIED_EMBED_STD = 0.1
OUT = pathlib.Path(__file__).resolve().parents[1] / "resources" / "fixtures" / "qwen2vl-folders"
TIED, UNTIED = "tied-bf16-sharded", "untied-f32"

PATCH, TEMPORAL, MERGE = 4, 2, 2
MIN_PIXELS, MAX_PIXELS = 256, 4096
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
MAX_NEW = 12

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
            "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
QWEN2_SPLIT = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
               r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")

# The template of the Qwen/Qwen2-VL-2B-Instruct checkpoint (its chat_template.json), verbatim.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}"
    "Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}"
    "Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Written for this fixture: short sentences a user might say about an image.
CORPUS = [
    "You are a helpful assistant.",
    "You answer in one word.",
    "What is in this picture?",
    "What is it?",
    "What colour is it?",
    "Look at this:",
    "Which is brighter?",
    "Describe the picture.",
    "This picture and that one.",
    "The picture shows a red house beside a green field.",
    "A small dog is sitting on the grass in the picture.",
    "Which of the two pictures is brighter, the first or the second?",
    "The sky in this picture is blue and almost without clouds.",
    "Look at the colour of the car on the left.",
    "There is a cat on the window sill, it looks sleepy.",
    "Describe what the people in the picture are doing.",
    "The second image is darker than the first one.",
    "In the middle of the picture there is a tall tree.",
    "What is the colour of the boat on the water?",
    "The picture is bright, with yellow and orange light.",
    "Two children are playing with a ball near the house.",
    "Is it day or night in this picture?",
    "It is a photo of a mountain covered in snow.",
    "The wall is painted white and the door is brown.",
    "I can see three birds flying over the sea.",
    "Answer in one word: what animal is it?",
    "The image is blurry, so it is hard to tell what it is.",
    "A bowl of fruit stands on a wooden table.",
    "Which picture shows the city at night?",
    "The flowers in the garden are pink and purple.",
    "Describe the colours you see in this image.",
    "This is a drawing of a face with a big smile.",
    "The road goes up the hill and into the forest.",
    "What is written on the sign in the picture?",
    "Both pictures show the same street in different light.",
    "The brighter picture was taken at noon.",
]

CASES = [
    ("one-image", TIED, [{"role": "user", "content": [
        {"type": "image"}, {"type": "text", "text": "What is in this picture?"}]}], ["wide.png"]),
    ("image-in-middle", TIED, [{"role": "user", "content": [
        {"type": "text", "text": "Look at this:"}, {"type": "image"},
        {"type": "text", "text": "What colour is it?"}]}], ["odd.png"]),
    ("two-images", UNTIED, [{"role": "user", "content": [
        {"type": "image"}, {"type": "text", "text": "and"}, {"type": "image"},
        {"type": "text", "text": "Which is brighter?"}]}], ["wide.png", "odd.png"]),
    ("big-image", UNTIED, [{"role": "user", "content": [
        {"type": "image"}, {"type": "text", "text": "Describe the picture."}]}], ["big.png"]),
    ("system-prompt", UNTIED, [
        {"role": "system", "content": [{"type": "text", "text": "You answer in one word."}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is it?"}]}],
     ["wide.png"]),
]
IMAGES = {"wide.png": (48, 24), "odd.png": (45, 30), "big.png": (100, 80)}


# ---------------------------------------------------------------- tokenizer

def build_tokenizer():
    tok = Tokenizer(models.BPE(unk_token=None, continuing_subword_prefix="", end_of_word_suffix="",
                               fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=300, min_frequency=1, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator(CORPUS + CORPUS[:9] * 3, trainer=trainer)   # the prompts' sentences weigh more
    base = tok.get_vocab_size()
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    ids = {s: tok.token_to_id(s) for s in SPECIALS}
    assert list(ids.values()) == list(range(base, base + len(SPECIALS))), ids
    return tok, ids


def tokenizer_config(ids, with_template):
    """tokenizer_config.json as the Qwen2-VL hub checkpoints have it."""
    cfg = {
        "add_prefix_space": False,
        "added_tokens_decoder": {
            str(i): {"content": s, "lstrip": False, "normalized": False, "rstrip": False,
                     "single_word": False, "special": True} for s, i in ids.items()},
        "additional_special_tokens": [s for s in SPECIALS if s not in ("<|endoftext|>", "<|im_end|>")],
        "bos_token": None,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 512,
        "pad_token": "<|endoftext|>",
        "padding_side": "left",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }
    if with_template:
        cfg["chat_template"] = CHAT_TEMPLATE
    return cfg


# ---------------------------------------------------------------- model

def build_model(vocab, ids, tied):
    config = Qwen2VLConfig(
        text_config=dict(
            vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, hidden_act="silu", rms_norm_eps=1e-6,
            max_position_embeddings=512, use_sliding_window=False,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [1, 1, 2]},
            bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
            pad_token_id=ids["<|endoftext|>"], tie_word_embeddings=tied,
        ),
        vision_config=dict(
            depth=2, embed_dim=16, hidden_size=32, hidden_act="quick_gelu", mlp_ratio=2, num_heads=2,
            in_channels=3, patch_size=PATCH, spatial_merge_size=MERGE, temporal_patch_size=TEMPORAL,
        ),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=tied,
    )
    config._attn_implementation = "eager"
    torch.manual_seed(TIED_SEED if tied else UNTIED_SEED)
    model = Qwen2VLForConditionalGeneration(config).float().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():      # a tied lm_head.weight is listed once, as embed_tokens
            if name.endswith(("norm.weight", "norm1.weight", "norm2.weight", "ln_q.weight", "layernorm.weight")):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn_like(p))
            elif "embed_tokens" in name:
                p.copy_((TIED_EMBED_STD if tied else 1.0) * torch.randn_like(p))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn_like(p) / fan_in ** 0.5)
    same = model.lm_head.weight.data_ptr() == model.model.language_model.embed_tokens.weight.data_ptr()
    assert same == tied, "lm_head tying is not what was asked"
    return model


def flat_config(model, ids):
    """config.json in the flat layout of the Qwen2-VL hub checkpoints."""
    t, v = model.config.text_config, model.config.vision_config
    return {
        "architectures": ["Qwen2VLForConditionalGeneration"],
        "attention_dropout": 0.0,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
        "vision_token_id": ids["<|vision_pad|>"],
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "hidden_act": t.hidden_act,
        "hidden_size": t.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": t.intermediate_size,
        "max_position_embeddings": t.max_position_embeddings,
        "max_window_layers": t.num_hidden_layers,
        "model_type": "qwen2_vl",
        "num_attention_heads": t.num_attention_heads,
        "num_hidden_layers": t.num_hidden_layers,
        "num_key_value_heads": t.num_key_value_heads,
        "rms_norm_eps": t.rms_norm_eps,
        "rope_theta": t.rope_parameters["rope_theta"],
        "sliding_window": t.max_position_embeddings,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.41.2",
        "use_cache": True,
        "use_sliding_window": False,
        "vision_config": {
            "depth": v.depth, "embed_dim": v.embed_dim, "mlp_ratio": v.mlp_ratio, "num_heads": v.num_heads,
            "in_chans": v.in_channels, "hidden_size": v.hidden_size, "patch_size": v.patch_size,
            "spatial_merge_size": v.spatial_merge_size, "spatial_patch_size": v.patch_size,
            "temporal_patch_size": v.temporal_patch_size,
        },
        "rope_scaling": {"type": "mrope", "mrope_section": list(t.rope_parameters["mrope_section"])},
        "vocab_size": t.vocab_size,
    }


def load(folder):
    model, info = Qwen2VLForConditionalGeneration.from_pretrained(
        folder, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    bad = {k: v for k, v in info.items() if v and k != "error_msgs" or (k == "error_msgs" and v)}
    assert not bad, f"{folder}: loading info {bad}"
    return model.eval()


# ---------------------------------------------------------------- images and processors

def make_image(name, w, h, seed):
    rng = np.random.RandomState(seed)
    coarse = rng.randint(0, 256, size=(max(2, h // 6), max(2, w // 6), 3)).astype(np.uint8)
    smooth = np.asarray(Image.fromarray(coarse, "RGB").resize((w, h), Image.BILINEAR), dtype=np.int32)
    noisy = np.clip(smooth + rng.randint(-12, 13, size=smooth.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy, "RGB").save(OUT / name)


def image_processors():
    kw = dict(patch_size=PATCH, temporal_patch_size=TEMPORAL, merge_size=MERGE, image_mean=MEAN, image_std=STD)
    size = lambda: {"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS}   # fresh dict: __init__ mutates it
    return Qwen2VLImageProcessorPil(size=size(), **kw), Qwen2VLImageProcessor(size=size(), **kw)


def smart_resize(h, w, factor=PATCH * MERGE):
    hb, wb = round(h / factor) * factor, round(w / factor) * factor
    if hb * wb > MAX_PIXELS:
        beta = math.sqrt(h * w / MAX_PIXELS)
        hb, wb = max(factor, math.floor(h / beta / factor) * factor), max(factor, math.floor(w / beta / factor) * factor)
    elif hb * wb < MIN_PIXELS:
        beta = math.sqrt(MIN_PIXELS / (h * w))
        hb, wb = math.ceil(h * beta / factor) * factor, math.ceil(w * beta / factor) * factor
    return hb, wb


# ---------------------------------------------------------------- folders

def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def write_tied_folder(model, tok, ids):
    d = OUT / TIED
    d.mkdir()
    bf16 = Qwen2VLForConditionalGeneration(model.config).eval()
    bf16.load_state_dict(model.state_dict())
    bf16 = bf16.to(torch.bfloat16)
    with tempfile.TemporaryDirectory() as tmp:
        bf16.save_pretrained(tmp, safe_serialization=True, max_shard_size="30KB")
        shards = sorted(p.name for p in pathlib.Path(tmp).glob("model-*.safetensors"))
        assert len(shards) >= 3, shards
        for name in shards + ["model.safetensors.index.json"]:
            shutil.copy(pathlib.Path(tmp) / name, d / name)
    keys = json.loads((d / "model.safetensors.index.json").read_text())["weight_map"]
    assert "lm_head.weight" not in keys and "model.embed_tokens.weight" in keys and "visual.merger.ln_q.weight" in keys, sorted(keys)
    write_json(d / "config.json", flat_config(model, ids))
    write_json(d / "generation_config.json", {
        "bos_token_id": ids["<|endoftext|>"], "pad_token_id": ids["<|endoftext|>"], "do_sample": False,
        "eos_token_id": [ids["<|im_end|>"], ids["<|endoftext|>"]], "transformers_version": "4.41.2"})
    write_json(d / "chat_template.json", {"chat_template": CHAT_TEMPLATE})
    write_json(d / "preprocessor_config.json", {
        "min_pixels": MIN_PIXELS, "max_pixels": MAX_PIXELS, "patch_size": PATCH,
        "temporal_patch_size": TEMPORAL, "merge_size": MERGE, "image_mean": MEAN, "image_std": STD,
        "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2VLProcessor"})
    tok.save(str(d / "tokenizer.json"))
    write_json(d / "tokenizer_config.json", tokenizer_config(ids, with_template=False))
    return d


def write_untied_folder(model, tok, ids):
    d = OUT / UNTIED
    d.mkdir()
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        config = json.loads((pathlib.Path(tmp) / "config.json").read_text())
    assert "text_config" in config and "vision_config" in config, config.keys()
    write_json(d / "config.json", config)
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    assert "lm_head.weight" in state and any(k.startswith("model.language_model.") for k in state) \
        and any(k.startswith("model.visual.") for k in state), sorted(state)
    assert all(k.startswith(("model.language_model.", "model.visual.", "lm_head.")) for k in state), sorted(state)
    save_torch(state, str(d / "model.safetensors"), metadata={"format": "pt"})
    write_json(d / "generation_config.json", {
        "bos_token_id": ids["<|endoftext|>"], "pad_token_id": ids["<|endoftext|>"], "do_sample": False,
        "eos_token_id": ids["<|im_end|>"], "transformers_version": transformers.__version__})
    write_json(d / "preprocessor_config.json", {
        "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
        "image_mean": MEAN, "image_std": STD, "image_processor_type": "Qwen2VLImageProcessor",
        "merge_size": MERGE, "patch_size": PATCH, "processor_class": "Qwen2VLProcessor",
        "resample": 3, "rescale_factor": 1 / 255,
        "size": {"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS}, "temporal_patch_size": TEMPORAL})
    tok.save(str(d / "tokenizer.json"))
    write_json(d / "tokenizer_config.json", tokenizer_config(ids, with_template=True))
    return d


# ---------------------------------------------------------------- goldens

def forward_logits(model, inputs):
    with torch.no_grad():
        return model(**inputs, use_cache=False, return_dict=True).logits


def f32(t):
    return np.ascontiguousarray(t.detach().cpu().numpy() if torch.is_tensor(t) else t, dtype=np.float32)


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    tok, ids = build_tokenizer()
    vocab = -(-tok.get_vocab_size() // 8) * 8
    print("tokenizer size", tok.get_vocab_size(), "-> model vocab", vocab, "specials", ids)
    for q in ["You are a helpful assistant.", "What is in this picture?", "Which is brighter?"]:
        print("  ", repr(q), "->", tok.encode(q).tokens)

    for i, (name, (w, h)) in enumerate(IMAGES.items()):
        make_image(name, w, h, SEED + 10 + i)
    images = {name: Image.open(OUT / name).convert("RGB") for name in IMAGES}      # what Java reads

    # in-memory processor (PIL image processor: the reference) and the torchvision one
    slow_ip, fast_ip = image_processors()
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                     bos_token=None, unk_token=None)
    processor = Qwen2VLProcessor(image_processor=slow_ip, tokenizer=hf_tok, chat_template=CHAT_TEMPLATE,
                                 video_processor=Qwen2VLVideoProcessor())   # required, unused
    assert processor.image_token_id == ids["<|image_pad|>"]

    tied_mem = build_model(vocab, ids, tied=True)
    untied_mem = build_model(vocab, ids, tied=False)
    folders = {TIED: write_tied_folder(tied_mem, tok, ids), UNTIED: write_untied_folder(untied_mem, tok, ids)}

    # references for the folder checks: the tied model with its weights rounded to BF16
    tied_ref = Qwen2VLForConditionalGeneration(tied_mem.config).eval()
    tied_ref.load_state_dict({k: v.to(torch.bfloat16).float() for k, v in tied_mem.state_dict().items()})
    refs = {TIED: tied_ref, UNTIED: untied_mem}
    loaded = {f: load(d) for f, d in folders.items()}
    assert loaded[TIED].lm_head.weight.data_ptr() == loaded[TIED].model.language_model.embed_tokens.weight.data_ptr()
    assert not torch.equal(loaded[UNTIED].lm_head.weight, loaded[UNTIED].model.language_model.embed_tokens.weight)
    print("loaded generation configs:", {f: m.generation_config.eos_token_id for f, m in loaded.items()})

    # the folders as a user's processor sees them
    # 5.17's Qwen2VLImageProcessor(Pil).__init__ writes min_pixels / max_pixels into the CLASS's default size
    # dict, so the untied folder (size dict) is loaded first: its sizes are then its own, not left-overs
    order = [UNTIED, TIED]
    folder_procs = {f: AutoProcessor.from_pretrained(folders[f], use_fast=False) for f in order}
    for f, p in folder_procs.items():
        print(f, "AutoProcessor:", type(p).__name__, type(p.image_processor).__name__, type(p.tokenizer).__name__,
              "size", dict(p.image_processor.size))
        assert isinstance(p.image_processor, Qwen2VLImageProcessorPil), type(p.image_processor)
        assert p.image_processor.size["shortest_edge"] == MIN_PIXELS and p.image_processor.size["longest_edge"] == MAX_PIXELS
        # 5.17's processor reads chat_template.json / chat_template.jinja only; a template that sits only in
        # tokenizer_config.json reaches the tokenizer, not the processor (processor.chat_template is None)
        assert p.chat_template == (CHAT_TEMPLATE if f == TIED else None), (f, p.chat_template)
        assert f == TIED or p.tokenizer.chat_template == CHAT_TEMPLATE
    fast_from_folder = {f: AutoProcessor.from_pretrained(folders[f], use_fast=True).image_processor for f in order}
    for f, ip in fast_from_folder.items():
        assert isinstance(ip, Qwen2VLImageProcessor), type(ip)

    cases_json = []
    pixel_gap = {}
    for name, folder, messages, image_names in CASES:
        imgs = [images[n] for n in image_names]
        prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        fp = folder_procs[folder]
        renderer = fp if fp.chat_template is not None else fp.tokenizer
        assert renderer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) == prompt
        inputs = processor(text=[prompt], images=imgs, return_tensors="pt")
        again = folder_procs[folder](text=[prompt], images=imgs, return_tensors="pt")
        for k in inputs:
            assert torch.equal(inputs[k], again[k]), (name, k)
        fast = fast_ip(images=imgs, return_tensors="pt")
        fast2 = fast_from_folder[folder](images=imgs, return_tensors="pt")
        assert torch.equal(fast["pixel_values"], fast2["pixel_values"])
        grid = inputs["image_grid_thw"]
        assert torch.equal(grid, fast["image_grid_thw"]), (grid, fast["image_grid_thw"])
        for (gt, gh, gw), n in zip(grid.tolist(), image_names):
            w, h = IMAGES[n]
            assert [gt, gh * PATCH, gw * PATCH] == [1, *smart_resize(h, w)], (n, grid)
        # per-image gap between the PIL and the torchvision resampling
        start = 0
        for (gt, gh, gw), n in zip(grid.tolist(), image_names):
            cnt = gt * gh * gw
            gap = (inputs["pixel_values"][start:start + cnt] - fast["pixel_values"][start:start + cnt]).abs().max().item()
            pixel_gap[n] = gap
            start += cnt

        model = loaded[folder]
        logits = forward_logits(model, inputs)
        ref = forward_logits(refs[folder], inputs)
        diff = (logits - ref).abs().max().item()
        assert diff < 1e-4, (name, diff)
        position_ids, _ = model.model.get_rope_index(inputs["input_ids"], inputs["mm_token_type_ids"],
                                                     image_grid_thw=grid, attention_mask=inputs["attention_mask"])
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=MAX_NEW, do_sample=False)
        n = inputs["input_ids"].shape[1]
        new = out[:, n:]
        eos = model.generation_config.eos_token_id
        eos = set(eos if isinstance(eos, list) else [eos])
        hit = any(t in eos for t in new[0].tolist())
        tensors = {
            "input_ids": f32(inputs["input_ids"]), "pixel_values": f32(inputs["pixel_values"]),
            "pixel_values_fast": f32(fast["pixel_values"]), "image_grid_thw": f32(grid),
            "position_ids": f32(position_ids), "logits": f32(logits), "generated": f32(new),
        }
        save_file(tensors, str(OUT / f"{name}.safetensors"), metadata={
            "prompt": prompt, "folder": folder, "torch": torch.__version__, "transformers": transformers.__version__})
        cases_json.append({
            "name": name, "folder": folder, "messages": messages, "images": image_names,
            "max_new_tokens": MAX_NEW, "do_sample": False, "prompt": prompt, "n": n,
            "image_grid_thw": grid.tolist(), "generated": new[0].tolist(), "hit_eos": hit,
            "max_abs_logit_diff_vs_in_memory": diff,
        })
        print(f"{name}: n={n} grids={grid.tolist()} generated={new[0].tolist()} eos={hit} "
              f"logit diff vs in-memory {diff:.2e} text={hf_tok.decode(new[0])!r}")

    # batched greedy generate, left padding, in the tied folder
    by_name = {c["name"]: c for c in cases_json}
    pair = [c for c in CASES if c[0] in ("one-image", "image-in-middle")]
    proc = folder_procs[TIED]
    proc.tokenizer.padding_side = "left"
    prompts = [by_name[c[0]]["prompt"] for c in pair]
    batch = proc(text=prompts, images=[images[n] for c in pair for n in c[3]], padding=True, return_tensors="pt")
    assert (batch["attention_mask"][:, -1] == 1).all() and (batch["attention_mask"][:, 0] == 0).any(), "not left padded"
    with torch.no_grad():
        out = loaded[TIED].generate(**batch, max_new_tokens=MAX_NEW, do_sample=False)
    gen = out[:, batch["input_ids"].shape[1]:]
    tensors = {"input_ids": f32(batch["input_ids"]), "attention_mask": f32(batch["attention_mask"]),
               "image_grid_thw": f32(batch["image_grid_thw"])}
    batch_same = []
    for i, c in enumerate(pair):
        tensors[f"generated.{i}"] = f32(gen[i:i + 1])
        single = by_name[c[0]]["generated"]      # a row that stopped early is filled up with the pad id
        row = gen[i].tolist()
        batch_same.append(row[:len(single)] == single and all(t == ids["<|endoftext|>"] for t in row[len(single):]))
    save_file(tensors, str(OUT / "batch.safetensors"), metadata={
        "cases": json.dumps([c[0] for c in pair]), "folder": TIED, "padding_side": "left",
        "torch": torch.__version__, "transformers": transformers.__version__})
    print("batch generated:", gen.tolist(), "equal to one-by-one:", batch_same)

    write_json(OUT / "cases.json", {
        "transformers": transformers.__version__, "torch": torch.__version__,
        "vocab_size": vocab, "tokenizer_size": tok.get_vocab_size(), "special_token_ids": ids,
        "max_abs_pixel_values_minus_fast": pixel_gap,
        "batch": {"file": "batch.safetensors", "cases": [c[0] for c in pair], "padding_side": "left",
                  "generated": gen.tolist(), "equal_to_one_by_one": batch_same},
        "cases": cases_json})
    print("pixel gap (slow - fast), per image:", pixel_gap)
    total = 0
    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            total += p.stat().st_size
            print(f"  {p.relative_to(OUT)}  {p.stat().st_size}")
    print("total", total)


if __name__ == "__main__":
    main()
