#!/usr/bin/env bash
# Reproduces docs/RESULTS.md: trains every run of the report (skipping finished ones, resuming interrupted ones),
# measures each model once (skipping measurements already in docs/results/*.json), then renders the report.
# Usage: docs/results/reproduce.sh   (SAMPLES_TABLES / SAMPLES_CURVES override the report's 1000 / 500 images)
# A run or a measurement that is stopped halfway is picked up where it stopped by running the script again.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
cd "$ROOT"
LATTE="$ROOT/latte"
R=docs/results
export LATTE_JAVA_OPTS="${LATTE_JAVA_OPTS:--Xmx3g -Dorg.bytedeco.javacpp.maxbytes=3g -Dorg.bytedeco.javacpp.maxphysicalbytes=7g}"

# Every Fashion-MNIST run: small preset (L = 8, d = 128), batch 64, lr 1e-3, EMA 0.999, seed 0.
COMMON=(--data fashion --preset small --batch 64 --lr 1e-3 --ema 0.999 --seed 0 --checkpoint-every 250 --snapshot-every 1000)
train() {  # name, steps, extra options...
  local name="$1" steps="$2"; shift 2
  local out="runs/$name"
  if [[ -f "$out/model.safetensors" ]]; then return; fi
  local resume=()
  [[ -d "$out/checkpoint" ]] && resume=(--resume)
  "$LATTE" train "${COMMON[@]}" --steps "$steps" --out "$out" "${resume[@]}" "$@"
}
measure() {  # json name, model dir, extra eval options...
  local json="$R/$1.json" model="$2"; shift 2
  [[ -f "$json" ]] && return
  "$LATTE" eval fashion --model "$model" --samples "$N" --json "$json" "$@"
}

# The runs below trained one expert group per step on the whole batch (--group-sampling per-step), as the
# trainer did before per-sample group sampling (the paper's joint training of all groups) became the default.
# The shipped model: LaTtE Couple, K = 4 groups of M = 2 layers, residual attention on; snapshots for Figure 3.
train fashion-couple 4000 --variant couple --group-sampling per-step --snapshot-every 250
# Every comparison runs 1000 steps (the paper's "equal training steps") against the shipped run's 1000-step snapshot,
# which is bit-for-bit what a 1000-step run saves (batches, noise and timesteps depend only on seed and step).
train fashion-vanilla-couple 1000 --variant couple --group-sampling per-step --groups 1 --no-residual-attention --snapshot-every 250
train fashion-no-residual 1000 --variant couple --group-sampling per-step --no-residual-attention
train fashion-k8 1000 --variant couple --group-sampling per-step --groups 8
train fashion-k2 1000 --variant couple --group-sampling per-step --groups 2
train fashion-blend 1000 --variant blend --group-sampling per-step
train fashion-vanilla-blend 1000 --variant blend --group-sampling per-step --groups 1 --no-residual-attention --snapshot-every 250
# LaTtE Couple with every group trained on its share of each batch (the default now), snapshots for Figure 3.
train fashion-couple-per-sample 1000 --variant couple --group-sampling per-sample --snapshot-every 250
train fashion-no-residual-per-sample 1000 --variant couple --group-sampling per-sample --no-residual-attention
train fashion-k8-per-sample 1000 --variant couple --group-sampling per-sample --groups 8
train fashion-blend-per-sample 1000 --variant blend --group-sampling per-sample
# The same run stopped at 500 steps (bit-for-bit its 500-step state), for Table 1 at 500 steps.
train fashion-blend-per-sample-500 500 --variant blend --group-sampling per-sample

# The sample counts the report uses (the CPU's budget): tables 1000 images, curves and sweeps 500.
T=${SAMPLES_TABLES:-1000}; C=${SAMPLES_CURVES:-500}
STEP1000=runs/fashion-couple/snapshots/step-1000
N=$T measure table1-latte-couple-1000 "$STEP1000" --tag "table1=LaTtE Couple, one group per step" --tag train_step=1000
N=$T measure table1-vanilla-couple runs/fashion-vanilla-couple --tag "table1=Vanilla Couple" --tag train_step=1000
N=$T measure table1-latte-blend runs/fashion-blend --tag "table1=LaTtE Blend, one group per step" --tag train_step=1000
N=$T measure table1-vanilla-blend runs/fashion-vanilla-blend --tag "table1=Vanilla Blend" --tag train_step=1000
N=$T measure table1-latte-couple-per-sample runs/fashion-couple-per-sample --tag "table1=LaTtE Couple" --tag train_step=1000
N=$T measure table1-latte-blend-per-sample runs/fashion-blend-per-sample --tag "table1=LaTtE Blend" --tag train_step=1000
N=$T measure table1-latte-couple-shipped runs/fashion-couple --tag "table1=LaTtE Couple, one group per step (shipped model)" --tag train_step=4000 --real
# Table 1 at 500 steps: all four methods (Vanilla Blend, at about 9 s a step here, is measured at its 500-step snapshot).
N=$T measure table1-500-latte-couple runs/fashion-couple-per-sample/snapshots/step-500 --tag "table1=LaTtE Couple" --tag train_step=500
N=$T measure table1-500-vanilla-couple runs/fashion-vanilla-couple/snapshots/step-500 --tag "table1=Vanilla Couple" --tag train_step=500
N=$T measure table1-500-latte-blend runs/fashion-blend-per-sample-500 --tag "table1=LaTtE Blend" --tag train_step=500
N=$T measure table1-500-vanilla-blend runs/fashion-vanilla-blend/snapshots/step-500 --tag "table1=Vanilla Blend" --tag train_step=500
for s in 250 500 750 1000 2000 3000; do
  N=$C measure "fig3-latte-$s" "runs/fashion-couple/snapshots/step-$s" --tag "curve=LaTtE, one group per step" --tag train_step=$s
done
N=$C measure fig3-latte-4000 runs/fashion-couple --tag "curve=LaTtE, one group per step" --tag train_step=4000
for s in 250 500 750; do
  N=$C measure "fig3-vanilla-$s" "runs/fashion-vanilla-couple/snapshots/step-$s" --tag curve=Vanilla --tag train_step=$s
done
N=$C measure fig3-vanilla-1000 runs/fashion-vanilla-couple --tag curve=Vanilla --tag train_step=1000
for s in 250 500 750; do
  N=$C measure "fig3-latte-per-sample-$s" "runs/fashion-couple-per-sample/snapshots/step-$s" --tag curve=LaTtE --tag train_step=$s
done
N=$C measure fig3-latte-per-sample-1000 runs/fashion-couple-per-sample --tag curve=LaTtE --tag train_step=1000
N=$T measure ablation-k4 "$STEP1000" --tag ablation=groups --tag "label=K = 4 (LaTtE Couple)" --tag train_step=1000
N=$T measure ablation-k1 runs/fashion-vanilla-couple --tag ablation=groups --tag "label=K = 1 (Vanilla Couple)" --tag train_step=1000
N=$T measure ablation-k8 runs/fashion-k8 --tag ablation=groups --tag "label=K = 8"
N=$T measure ablation-k2 runs/fashion-k2 --tag ablation=groups --tag "label=K = 2"
N=$T measure ablation-residual-on "$STEP1000" --tag ablation=residual --tag "label=on (LaTtE Couple)" --tag train_step=1000
N=$T measure ablation-residual-off runs/fashion-no-residual --tag ablation=residual --tag "label=off"
N=$T measure ablation-per-sample-k8 runs/fashion-k8-per-sample --tag ablation=groups-per-sample --tag "label=K = 8" --tag train_step=1000
N=$T measure ablation-per-sample-k4 runs/fashion-couple-per-sample --tag ablation=groups-per-sample --tag "label=K = 4 (LaTtE Couple)" --tag train_step=1000
N=$T measure ablation-per-sample-k1 runs/fashion-vanilla-couple --tag ablation=groups-per-sample --tag "label=K = 1 (Vanilla Couple)" --tag train_step=1000
N=$T measure ablation-per-sample-residual-off runs/fashion-no-residual-per-sample --tag ablation=residual-per-sample --tag "label=off" --tag train_step=1000
N=$T measure ablation-per-sample-residual-on runs/fashion-couple-per-sample --tag ablation=residual-per-sample --tag "label=on (LaTtE Couple)" --tag train_step=1000
for s in 5 10 20 40; do
  N=$C measure "fig4-steps-$s" runs/fashion-couple --steps $s --tag sweep=steps
done
for g in 1 2 3 5 7; do
  N=$C measure "fig4-cfg-$g" runs/fashion-couple --cfg $g --tag sweep=cfg
done
# Emoji, first round (the 28x28 pixel model shipped before issue 20, both styles): a vocabulary of the whole caption
# and question corpus (2,188 words), 2000 understanding steps, then Couple generation. The VLM is frozen while
# generation trains, so its answers are the same at any point of the generation stage. About 3 h 40 min of one core.
if [[ ! -f runs/emoji/model.safetensors ]]; then
  resume=(); [[ -d runs/emoji/checkpoint ]] && resume=(--resume)
  "$LATTE" train --data emoji --preset small --vocab 2200 --understanding-steps 2000 --steps 12000 --batch 32 --lr 7e-4 \
    --ema 0.999 --seed 0 --checkpoint-every 250 --out runs/emoji "${resume[@]}"
fi
# The 28x28 model was this run's step-11500 checkpoint (what --steps 11500 saves), exported in F16 with `latte export
# --checkpoint`; its rows (emoji-shipped-*.json) were measured on it then (`git show 44dbedd:models/latte-emoji/TRAINING.md`).
for split in train held-out; do
  [[ -f "$R/emoji-vocab-$split.json" ]] || "$LATTE" eval emoji --model runs/emoji --split $split --generate 0 \
    --json "$R/emoji-vocab-$split.json" --tag "label=vocabulary 2,188 words, 2000 understanding steps"
done

# Emoji at 64x64 (issue 20; the shipped models/latte-emoji): a small DC-AE trained on both styles, then the model in
# its latent space: 12,000 understanding steps (names), the Couple copy of the trained VLM, and 12,000 generation steps
# with every group in every step, as three runs (a finished run keeps no checkpoint; the next starts from its EMA
# weights with --init). models/latte-emoji/TRAINING.md says how the runs went. About 4 h (codec) and 5 h (model) of one core.
EMOJI=(--data emoji --batch 32 --lr 7e-4 --ema 0.999 --checkpoint-every 250)
emoji_train() {  # out, --init model or -, options...
  local out="$1" init="$2"; shift 2
  [[ -f "$out/model.safetensors" ]] && return
  if [[ -d "$out/checkpoint" ]]; then "$LATTE" train "${EMOJI[@]}" --out "$out" --resume "$@"
  elif [[ $init != - ]]; then "$LATTE" train "${EMOJI[@]}" --out "$out" --init "$init" "$@"
  else "$LATTE" train "${EMOJI[@]}" --out "$out" "$@"; fi
}
codec_resume=(); [[ -f runs/codec-f8c16/state.json ]] && codec_resume=(--resume)
[[ -f runs/codec-f8c16/report.json ]] || "$LATTE" train-codec --architecture dc-ae-f8c16-small --size 64 --steps 2500 --batch 32 \
  --lr 1e-3 --seed 0 --out runs/codec-f8c16 "${codec_resume[@]}"
emoji_train runs/emoji64 - --preset small --vocab 2200 --codec runs/codec-f8c16/codec --gen-image-size 64 \
  --understanding-steps 12000 --steps 6000 --seed 0 --snapshot-every 2000
emoji_train runs/emoji64-g2 runs/emoji64 --understanding-steps 0 --steps 2000 --seed 1
emoji_train runs/emoji64-g3 runs/emoji64-g2 --understanding-steps 0 --steps 4000 --seed 2 --snapshot-every 2000
[[ -f models/latte-emoji/model.safetensors ]] || "$LATTE" export --model runs/emoji64-g3 --out models/latte-emoji
# codec-channels-step-300.json and codec-f8c16-curve.json measure snapshots of the codec runs with `latte eval codec`
# (models/dc-ae-emoji-f8c16/TRAINING.md); the shipped codec:
[[ -f "$R/codec-f8c16-shipped.json" ]] || "$LATTE" eval codec models/dc-ae-emoji-f8c16 --json "$R/codec-f8c16-shipped.json" \
  --tag "label=models/dc-ae-emoji-f8c16 (step 2,500, shipped)" > /dev/null
judged() {  # json name, model, label, extra eval options...
  local json="$R/$1.json" model="$2" label="$3"; shift 3
  [[ -f "$json" ]] || "$LATTE" eval emoji --model "$model" --split train --questions 0 --canvases 0 --generate 0 --judged 500 \
    --json "$json" --tag "label=$label" "$@" > /dev/null
}
judged emoji64-judge-gen02000 runs/emoji64/snapshots/step-2000 "64x64, generation step 2,000" --judged 300
judged emoji64-judge-gen06000 runs/emoji64 "64x64, generation step 6,000"
judged emoji64-judge-gen08000 runs/emoji64-g2 "64x64, generation step 8,000"
judged emoji64-judge-gen10000 runs/emoji64-g3/snapshots/step-2000 "64x64, generation step 10,000"
for s in 3 6; do judged "emoji64-judge-gen12000-cfg$s" runs/emoji64-g3 "64x64, generation step 12,000, guidance $s" --cfg $s; done
for sc in 20:4.5 20:6 20:9 40:3 40:6; do   # the guidance and step sweep, at generation step 8,000
  judged "emoji64-judge-gen08000-s${sc%:*}-cfg${sc#*:}" runs/emoji64-g2 "64x64, generation step 8,000" --steps "${sc%:*}" --cfg "${sc#*:}"
done

mkdir -p "$R/grids"
for split in train held-out; do
  [[ -f "$R/emoji-64-$split.json" ]] || "$LATTE" eval emoji --model models/latte-emoji --split $split --questions 3000 \
    --generate $([[ $split == train ]] && echo 0 || echo 200) --judged $([[ $split == train ]] && echo 500 || echo 0) \
    --grid "$R/grids/emoji-$split.png" --json "$R/emoji-64-$split.json" --tag "label=shipped model, 64x64 (issue 20)" > /dev/null
done
[[ -f "$R/grids/fashion-latte-couple.png" ]] || "$LATTE" eval fashion --model runs/fashion-couple --samples 20 --grid "$R/grids/fashion-latte-couple.png" > /dev/null

"$LATTE" results
