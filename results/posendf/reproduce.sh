#!/usr/bin/env bash
# Reproduces the Pose-NDF checkpoint and every number of notebooks/06_posendf.ipynb that is
# read from this folder. Run from the repository root. One CPU thread per job, one job at a time.
# `humanlib train-posendf` is the same as `python -m humanlib train-posendf`.
set -euo pipefail
H="${H:-.venv/bin/python -m humanlib}"
RUNS="${RUNS:-/tmp/posendf_runs}"   # large files (data.pt, last.pt) stay outside the repository

# 1. the committed checkpoint: data (20k manifold poses, 60k noisy + 20k clean, 5k val) + training
$H train-posendf --out "$RUNS/main" --steps 12000 --no-progress | tee results/posendf/train_main.log
cp "$RUNS/main/posendf.pt" humanlib/assets/priors/posendf_open.pt
cp "$RUNS/main/history.json" "$RUNS/main/curves.png" results/posendf/

# 2. its measurements (accuracy by noise level, eikonal residual, projection, diversity, timing)
$H eval-posendf --data "$RUNS/main/data.pt" --out results/posendf/metrics.json

# 3. ablations on the same data, same (shorter) schedule: eikonal on/off, correct/shifted parents
for run in "base:" "no_eikonal:--eikonal-weight 0" "shifted_parents:--shifted-parents"; do
  name="${run%%:*}"; flags="${run#*:}"
  $H train-posendf --out "$RUNS/$name" --data "$RUNS/main/data.pt" --steps 2000 --no-progress $flags
  $H eval-posendf --checkpoint "$RUNS/$name/posendf.pt" --data "$RUNS/main/data.pt" \
     --num-generate 300 --bench-poses 100 --out "results/posendf/ablation_$name.json"
done
