#!/usr/bin/env bash
# The paper's two image experiments (its Fig. S2), with ANMIN, Adam and SGD:
#   1. shape decoder: a network (x, y) -> signed distance of a 128x128 star;
#   2. denoising autoencoder: 8x8 patches of a 64x64 picture with Gaussian noise 0.1.
# Writes the data, run JSONs, models, PNGs and OUTDIR/images.md (a markdown section with the
# training MSEs, PSNRs, times and image links).
#
# Usage: scripts/paper_images.sh OUTDIR [ANMIN_BIN]
#   ANMIN_BIN defaults to building target/release/anmin with cargo.
# Needs jq. The budgets below give the optimizers roughly equal training time on each task
# and keep the whole script to about 4 minutes in release mode on a 2-core machine.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 OUTDIR [ANMIN_BIN]" >&2
    exit 2
fi
out=$1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ $# -eq 2 ]]; then
    anmin=$2
else
    (cd "$repo" && cargo build --release --quiet)
    anmin=${CARGO_TARGET_DIR:-$repo/target}/release/anmin
fi
command -v jq > /dev/null || { echo "$0: needs jq to read the run JSON" >&2; exit 2; }
mkdir -p "$out"

# Shape decoder: every pixel is a training row (no test set, as in the paper).
sdf_size=128
sdf_hidden=64
sdf_anmin_iters=200
sdf_epochs=2000
# Autoencoder: trained on noise seed 0, denoised on seed 1 (a new noise draw).
dae_size=64
dae_patch=8
dae_noise=0.1
dae_hidden=64
dae_anmin_iters=75
dae_epochs=4000
test_seed=1

budget_flags() { # optimizer, ANMIN iterations, epochs
    if [[ $1 == anmin ]]; then echo "--iters $2"; else echo "--epochs $3"; fi
}
budget_text() {
    if [[ $1 == anmin ]]; then echo "$2 iterations"; else echo "$3 epochs"; fi
}
now() { date +%s.%N; }
seconds_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# Figures of a run JSON: why and when it stopped, final train MSE, best train MSE (its
# iteration), training seconds.
run_figures() {
    jq -r '[.stop_reason, .history[-1].iter, .final.train_mse, .best.train_mse, .best.iter,
            .final.time_s] | @tsv' "$1" |
        awk -F '\t' '{ printf "%s (%d) | %.4g | %.4g (%d) | %.2f", $1, $2, $3, $4, $5, $6 }'
}
# The number after `label` on stdout of render or denoise.
field() { awk -v label="$2" 'index($0, label) { sub(".*" label, ""); print $1; exit }' "$1"; }

script_start=$(now)
"$anmin" gen sdf --shape star --size "$sdf_size" --out "$out/sdf.csv"
"$anmin" gen dae --size "$dae_size" --patch "$dae_patch" --noise "$dae_noise" --seed 0 \
    --out "$out/dae.csv"

sdf_rows=""
dae_rows=""
sdf_images=""
dae_images=""
for opt in anmin adam sgd; do
    echo "shape decoder: $opt" >&2
    start=$(now)
    # shellcheck disable=SC2046 # the budget is two words on purpose
    "$anmin" train --data "$out/sdf.csv" --test-frac 0 --hidden "$sdf_hidden" \
        --optimizer "$opt" $(budget_flags "$opt" "$sdf_anmin_iters" "$sdf_epochs") --quiet \
        --out "$out/sdf-$opt.json" --save-model "$out/sdf-$opt-model.json" > /dev/null
    wall=$(seconds_since "$start")
    "$anmin" render --model "$out/sdf-$opt-model.json" --size "$sdf_size" \
        --truth "$out/sdf.csv" --out "$out/sdf-$opt.png" > "$out/sdf-$opt-render.txt"
    iou=$(field "$out/sdf-$opt-render.txt" "inside IoU")
    drawn=$(jq -r .training.iter "$out/sdf-$opt-model.json")
    sdf_rows+="| $opt | $(budget_text "$opt" "$sdf_anmin_iters" "$sdf_epochs") | $(run_figures "$out/sdf-$opt.json") | $wall | $drawn | $iou |"$'\n'
    sdf_images+="| $opt | ![$opt: predicted SDF beside the true SDF](sdf-$opt.png) |"$'\n'

    echo "denoising autoencoder: $opt" >&2
    start=$(now)
    # shellcheck disable=SC2046
    "$anmin" train --data "$out/dae.csv" --target-prefix clean_ --test-frac 0 \
        --hidden "$dae_hidden" --optimizer "$opt" \
        $(budget_flags "$opt" "$dae_anmin_iters" "$dae_epochs") --quiet \
        --out "$out/dae-$opt.json" --save-model "$out/dae-$opt-model.json" > /dev/null
    wall=$(seconds_since "$start")
    "$anmin" denoise --model "$out/dae-$opt-model.json" --size "$dae_size" \
        --noise "$dae_noise" --seed "$test_seed" --out "$out/dae-$opt.png" \
        > "$out/dae-$opt-denoise.txt"
    psnr_noisy=$(field "$out/dae-$opt-denoise.txt" "PSNR noisy vs clean:")
    psnr_denoised=$(field "$out/dae-$opt-denoise.txt" "PSNR denoised vs clean:")
    drawn=$(jq -r .training.iter "$out/dae-$opt-model.json")
    dae_rows+="| $opt | $(budget_text "$opt" "$dae_anmin_iters" "$dae_epochs") | $(run_figures "$out/dae-$opt.json") | $wall | $drawn | $psnr_noisy | $psnr_denoised |"$'\n'
    dae_images+="| $opt | ![$opt: clean, noisy and denoised picture](dae-$opt.png) |"$'\n'
done
total=$(seconds_since "$script_start")

n_patches=$(( (dae_size - dae_patch + 1) ** 2 ))
cat > "$out/images.md" <<MARKDOWN
## Image experiments (the paper's Fig. S2)

Made by \`scripts/paper_images.sh\` with $("$anmin" --version) on $(nproc) cores, $(date -u +%Y-%m-%d);
the whole script took $total s. Every optimizer starts from the same initial network (seed
0); Adam and SGD use their defaults (learning rate 1e-3, mini-batches of 32, SGD momentum
0.9). The budgets give the three optimizers roughly equal training time on each task (ANMIN
may stop earlier, when an iteration no longer lowers the loss: "converged") and keep the
script to a few minutes in release mode on 2 cores. Training
time is the run JSON's \`final.time_s\` (training work only); wall time is the whole
\`anmin train\` command, which also computes the metrics after every iteration or epoch.
Times vary from run to run with other work on the machine; the MSEs and PSNRs do not.
Adam's and SGD's mini-batch noise makes their final MSE higher than their best epoch's. The
images, IoU and PSNRs are those of the model \`--save-model\` wrote, whose iteration (from the
model file) is in the "model drawn" column.

### Shape decoder: signed distance field of a star

\`anmin gen sdf --shape star --size $sdf_size\`: $((sdf_size * sdf_size)) pixels, inputs (x, y) in
[−1, 1]², target the signed distance in the same units (negative inside). h = $sdf_hidden,
every pixel a training row (\`--test-frac 0\`). IoU compares the predicted inside (field < 0)
with the true one.

| optimizer | budget | stopped (iteration) | final train MSE | best train MSE (iteration) | training time (s) | wall time (s) | model drawn (iteration) | inside IoU |
|---|---|---|---:|---:|---:|---:|---:|---:|
${sdf_rows}
Left: the prediction; right: the truth. Blue is inside, red outside, black the zero level.

| optimizer | predicted \| true |
|---|---|
${sdf_images}
### Denoising autoencoder: ${dae_patch}×${dae_patch} patches of a ${dae_size}×${dae_size} picture

\`anmin gen dae --size $dae_size --patch $dae_patch --noise $dae_noise --seed 0\`: $n_patches patches
(stride 1), $((dae_patch * dae_patch)) noisy inputs and $((dae_patch * dae_patch)) clean
targets (\`--target-prefix clean_\`), h = $dae_hidden. The PSNRs are measured on a new
noise draw (\`anmin denoise --seed $test_seed\`); each pixel of the denoised picture is the
mean of the predictions of all the overlapping patches that cover it.

| optimizer | budget | stopped (iteration) | final train MSE | best train MSE (iteration) | training time (s) | wall time (s) | model drawn (iteration) | PSNR noisy (dB) | PSNR denoised (dB) |
|---|---|---|---:|---:|---:|---:|---:|---:|---:|
${dae_rows}
Clean, noisy (seed $test_seed) and denoised.

| optimizer | clean \| noisy \| denoised |
|---|---|
${dae_images}
MARKDOWN
echo "wrote $out/images.md ($total s)" >&2
