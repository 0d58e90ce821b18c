#!/usr/bin/env bash
# Retrain the shipped surrogate bundles in neuron_ann/models/ reproducibly.
# Every seed and size is on the command line and recorded in each bundle's provenance
# ('neuron-ann info neuron_ann/models/BallHH.onnx'). Data and checkpoints go to $WORK;
# an interrupted run continues where it stopped when rerun with the same arguments.
#
#   examples/train_shipped_models.sh [BallHH|PVBasket|L5PC ...]
set -euo pipefail
cd "$(dirname "$0")/.."
NEURON_ANN=${NEURON_ANN:-neuron-ann}
WORK=${WORK:-.work/models}
PROCESSES=${PROCESSES:-1}
export NEURON_ANN_TF_THREADS=${NEURON_ANN_TF_THREADS:-1}
cells=("$@")
[ ${#cells[@]} -eq 0 ] && cells=(BallHH PVBasket)

for cell in "${cells[@]}"; do
  case "$cell" in
    BallHH)   args=(--seed 1 --sim-seconds 150 --epochs 24 --dt 1.0) ;;
    PVBasket) args=(--seed 1 --sim-seconds 300 --epochs 30 --dt 1.0) ;;
    L5PC)     args=(--seed 1 --sim-seconds 600 --epochs 40 --dt 1.0) ;;
    *) echo "unknown cell $cell" >&2; exit 2 ;;
  esac
  nice -n 10 "$NEURON_ANN" train "$cell" --out "neuron_ann/models/$cell.onnx" --work-dir "$WORK/$cell" \
    --processes "$PROCESSES" --resume "${args[@]}"
  "$NEURON_ANN" validate "neuron_ann/models/$cell.onnx" --sim-seconds 20 --seed 12345 --json "$WORK/$cell.validate.json"
done
