#!/usr/bin/env bash
# Reproduces the Pose-NDF checkpoint and every number of notebooks/06_posendf.ipynb that is
# read from this folder. Run from the repository root. One CPU thread per job.
# `humanlib train-posendf` is the same as `python -m humanlib train-posendf`.
set -euo pipefail
H="${H:-.venv/bin/python -m humanlib}"
RUNS="${RUNS:-/tmp/posendf_runs}"   # large files (data.pt ~0.5 GB, last.pt) stay outside the repository

# 1. the committed checkpoint. Manifold: every train frame and its left-right mirror (212,106 poses).
#    Data: 1,000,000 noisy poses whose distance to their source is half-normal (NRDF's scheme,
#    --noise distance) + 200,000 clean ones, labelled by the exact nearest manifold pose (k = 1,
#    the talk's distance); 5,000 held-out noisy poses from the val split. Early stopping on val.
#    Eikonal weight 1.0, chosen on val (see README.md): 0.1 (the default) and lr 1e-4 were also tried.
$H train-posendf --out "$RUNS/main" --data "$RUNS/data_distance.pt" --noise distance --num-manifold 0 --mirror \
   --num-noisy 1000000 --num-clean 200000 --num-val 5000 --steps 20000 --batch-size 512 --val-every 500 \
   --patience 8 --eikonal-weight 1.0 --no-progress | tee results/posendf/train_main.log
cp "$RUNS/main/posendf.pt" humanlib/assets/priors/posendf_open.pt
cp "$RUNS/main/history.json" "$RUNS/main/curves.png" results/posendf/

# 2. its measurements: accuracy on the sigma-noise held-out set (Pose-NDF's noise levels, whatever
#    the training noise) and on training samples, eikonal residual, projection of noisy held-out
#    and random poses by Pose-NDF's and NRDF's step, diversity, timing
$H eval-posendf --data "$RUNS/data_distance.pt" --out results/posendf/metrics.json

# 3. ablations on the same data, same (shorter) schedule: eikonal weight 1 / 0 / 0.1, correct/shifted parents
for run in "base:" "no_eikonal:--eikonal-weight 0" "eikonal_0.1:--eikonal-weight 0.1" "shifted_parents:--shifted-parents"; do
  name="${run%%:*}"; flags="${run#*:}"
  $H train-posendf --out "$RUNS/$name" --data "$RUNS/data_distance.pt" --noise distance --num-manifold 0 --mirror \
     --num-noisy 1000000 --num-clean 200000 --num-val 5000 --steps 2000 --batch-size 512 --val-every 500 \
     --eikonal-weight 1.0 --no-progress $flags
  $H eval-posendf --checkpoint "$RUNS/$name/posendf.pt" --data "$RUNS/data_distance.pt" \
     --num-generate 300 --bench-poses 100 --out "results/posendf/ablation_$name.json"
done

# 4. the two noise schemes at the same size (240,000 samples each, same steps): Pose-NDF's
#    Gaussian noise on quaternions against NRDF's half-normal distance
for noise in sigma distance; do
  $H train-posendf --out "$RUNS/noise_$noise" --data "$RUNS/data_${noise}_small.pt" --noise $noise --num-manifold 0 --mirror \
     --num-noisy 200000 --num-clean 40000 --num-val 5000 --steps 10000 --batch-size 512 --val-every 500 --patience 8 \
     --eikonal-weight 1.0 --no-progress
  $H eval-posendf --checkpoint "$RUNS/noise_$noise/posendf.pt" --data "$RUNS/data_${noise}_small.pt" \
     --num-generate 300 --bench-poses 100 --out "results/posendf/noise_$noise.json"
done
