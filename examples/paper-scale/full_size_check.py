#!/usr/bin/env python3
"""The real Qwen2-VL-2B-Instruct network, random weights, through Hugging Face and through `latte ask`.

No model hub is reachable where this project is built, so the real checkpoint cannot be downloaded; this builds
Qwen2VLForConditionalGeneration from the Qwen/Qwen2-VL-2B-Instruct config (the numbers below are that
checkpoint's config.json, preprocessor_config.json and generation_config.json), fills it with random weights the
way transformers initialises it, and saves it the way the hub ships it: sharded BF16 safetensors with an index,
flat config, chat_template.json. Its tokenizer is a small byte-level BPE (the real one is not obtainable) whose
special tokens carry the real ids (151643 ...). Run through examples/paper-scale/full-size-check.sh.

    full_size_check.py make   --out DIR                  writes the folder and a test image
    full_size_check.py hf     --model DIR --image PNG --question Q --max-new-tokens N --json OUT
    full_size_check.py report --hf J --latte J --hf-time T --latte-time T
"""
import argparse
import json
import pathlib
import sys
import time

# The checkpoint's added tokens 151643..151656, in id order (the Rust tokenizer numbers added tokens after the vocab).
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
            "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
            "<|image_pad|>", "<|video_pad|>"]
SPECIAL_IDS = {s: 151643 + i for i, s in enumerate(SPECIALS)}

# Qwen/Qwen2-VL-2B-Instruct config.json (flat, as on the hub).
CONFIG = {
    "architectures": ["Qwen2VLForConditionalGeneration"], "attention_dropout": 0.0,
    "bos_token_id": 151643, "eos_token_id": 151645, "vision_start_token_id": 151652,
    "vision_end_token_id": 151653, "vision_token_id": 151654, "image_token_id": 151655, "video_token_id": 151656,
    "hidden_act": "silu", "hidden_size": 1536, "initializer_range": 0.02, "intermediate_size": 8960,
    "max_position_embeddings": 32768, "max_window_layers": 28, "model_type": "qwen2_vl",
    "num_attention_heads": 12, "num_hidden_layers": 28, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": True, "torch_dtype": "bfloat16",
    "use_cache": True, "use_sliding_window": False,
    "vision_config": {"depth": 32, "embed_dim": 1280, "mlp_ratio": 4, "num_heads": 16, "in_chans": 3,
                      "hidden_size": 1536, "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14,
                      "temporal_patch_size": 2},
    "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
    "vocab_size": 151936,
}
PREPROCESSOR = {
    "min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14, "temporal_patch_size": 2, "merge_size": 2,
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
    "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2VLProcessor",
}
GENERATION = {"bos_token_id": 151643, "pad_token_id": 151643, "do_sample": False, "eos_token_id": [151645, 151643]}


def make(out):
    import numpy as np
    import torch
    from PIL import Image
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "model" / "src" / "test" / "python"))
    import make_qwen2vl_folders as tiny                      # its tokenizer and the checkpoint's chat template

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tok, ids = tiny.build_tokenizer()
    doc = json.loads(tok.to_str())
    # Unreachable filler entries (no merge produces them) stretch the small BPE vocab to the real one's 151643 entries,
    # so that the special tokens get the checkpoint's real ids.
    vocab = doc["model"]["vocab"]
    base = len(vocab)
    for i in range(base, SPECIAL_IDS["<|endoftext|>"]):
        vocab["<unused_%d>" % i] = i
    template = dict(doc["added_tokens"][0])
    doc["added_tokens"] = [dict(template, id=i, content=s) for s, i in SPECIAL_IDS.items()]
    (out / "tokenizer.json").write_text(json.dumps(doc, ensure_ascii=False))
    from tokenizers import Tokenizer
    check = Tokenizer.from_file(str(out / "tokenizer.json")).encode("<|im_start|>user<|image_pad|>").ids
    assert check[0] == 151644 and check[-1] == 151655, check
    tcfg = tiny.tokenizer_config(SPECIAL_IDS, with_template=False)     # all 14, or transformers renumbers them
    tcfg["model_max_length"] = 32768
    (out / "tokenizer_config.json").write_text(json.dumps(tcfg, indent=2))
    (out / "chat_template.json").write_text(json.dumps({"chat_template": tiny.CHAT_TEMPLATE}, indent=2))
    (out / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR, indent=2))
    (out / "generation_config.json").write_text(json.dumps(GENERATION, indent=2))

    if (out / "model.safetensors.index.json").exists():
        print(json.dumps({"weights": "kept", "tokenizer": "rewritten"}))
        return
    torch.manual_seed(0)
    start = time.time()
    config = Qwen2VLConfig(**{k: v for k, v in CONFIG.items() if k != "architectures"})
    model = Qwen2VLForConditionalGeneration(config).to(torch.bfloat16).eval()
    built = time.time() - start
    model.save_pretrained(out, safe_serialization=True, max_shard_size="1GB")
    (out / "config.json").write_text(json.dumps(CONFIG, indent=2))     # the hub's flat config, not 5.17's nested one
    rng = np.random.RandomState(0)
    small = rng.randint(0, 256, size=(6, 8, 3), dtype=np.uint8)
    Image.fromarray(small).resize((448, 336), Image.BICUBIC).save(out.parent / "test-image.png")
    print(json.dumps({"built_s": round(built, 1), "saved_s": round(time.time() - start - built, 1),
                      "params": sum(p.numel() for p in model.parameters())}))


def hf(model_dir, image, question, max_new_tokens, json_out):
    import torch
    from PIL import Image
    from transformers import AutoProcessor, Qwen2VLForConditionalGeneration
    start = time.time()
    model = Qwen2VLForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32).eval()
    processor = AutoProcessor.from_pretrained(model_dir, use_fast=False)
    load = time.time() - start
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[prompt], images=[Image.open(image).convert("RGB")], return_tensors="pt")
    n = inputs["input_ids"].shape[1]
    with torch.no_grad():
        model.generate(**inputs, max_new_tokens=1, do_sample=False)          # warm-up, as latte ask --timing does
        t0 = time.time()
        model.generate(**inputs, max_new_tokens=1, do_sample=False)
        first = time.time() - t0
        t0 = time.time()
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        total = time.time() - t0
    new = out[0, n:].tolist()
    result = {"engine": "transformers " + __import__("transformers").__version__ + ", torch " + torch.__version__,
              "threads": torch.get_num_threads(), "prompt_tokens": n, "load_s": load, "prefill_s": first,
              "total_s": total, "new_tokens": len(new), "ids": new,
              "per_token_s": (total - first) / max(1, len(new) - 1)}
    pathlib.Path(json_out).write_text(json.dumps(result))
    print(json.dumps(result))


def peak_rss_gb(time_file):
    for line in pathlib.Path(time_file).read_text().splitlines():
        if "Maximum resident set size" in line:
            return int(line.split(":")[1]) / 1024 / 1024
    return float("nan")


def report(hf_json, latte_json, hf_time, latte_time):
    h, j = json.loads(pathlib.Path(hf_json).read_text()), json.loads(pathlib.Path(latte_json).read_text())
    eos = {151645, 151643}
    hf_ids = [t for t in h["ids"]]
    if hf_ids and hf_ids[-1] in eos:
        hf_ids = hf_ids[:-1]
    same = hf_ids == j["ids"]
    rows = [("load (s)", h["load_s"], j["load_s"]), ("prefill: first token (s)", h["prefill_s"], j["prefill_s"]),
            ("per generated token (s)", h["per_token_s"], j["per_token_s"]),
            ("peak RSS (GB)", peak_rss_gb(hf_time), peak_rss_gb(latte_time))]
    print("| | Hugging Face (%s, %d threads) | latte ask |" % (h["engine"], h["threads"]))
    print("|---|---|---|")
    for name, a, b in rows:
        print("| %s | %.2f | %.2f |" % (name, a, b))
    print("| prompt tokens / new tokens | %d / %d | %d / %d |" % (h["prompt_tokens"], len(hf_ids), j["prompt_tokens"], len(j["ids"])))
    print("| same greedy tokens | %s | |" % same)
    print(json.dumps({"same_tokens": same, "hf": h, "latte": j, "hf_peak_rss_gb": peak_rss_gb(hf_time),
                      "latte_peak_rss_gb": peak_rss_gb(latte_time)}))
    return 0 if same else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make"); m.add_argument("--out", required=True)
    r = sub.add_parser("hf")
    for a in ("--model", "--image", "--question", "--json"):
        r.add_argument(a, required=True)
    r.add_argument("--max-new-tokens", type=int, default=16)
    r.add_argument("--threads", type=int, default=2)
    q = sub.add_parser("report")
    for a in ("--hf", "--latte", "--hf-time", "--latte-time"):
        q.add_argument(a, required=True)
    args = p.parse_args()
    if args.cmd == "make":
        make(args.out)
    elif args.cmd == "hf":
        import torch
        torch.set_num_threads(args.threads)
        hf(args.model, args.image, args.question, args.max_new_tokens, args.json)
    else:
        sys.exit(report(args.hf, args.latte, args.hf_time, args.latte_time))


if __name__ == "__main__":
    main()
