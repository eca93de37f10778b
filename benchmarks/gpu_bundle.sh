#!/usr/bin/env bash
# What the GPU machine needs and cannot download: a float16 safetensors copy of all-MiniLM-L6-v2
# (~45 MB; loads as float32/float16/bfloat16 there) and the STSb files, in .gpu/ (git-ignored).
# Then: device run with carry [".gpu"]: python benchmarks/gpu.py --bundle .gpu
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${SBERT_DATA_DIR:-../shared/data}"
rm -rf .gpu && mkdir -p .gpu/data/stsb
cp "$DATA"/stsb/{train,dev,test}.tsv .gpu/data/stsb/
.venv/bin/python - <<'PY'
import torch
from sbert_plugins import SentenceEncoder
encoder = SentenceEncoder("all-MiniLM-L6-v2", device="cpu", dtype="float32")
encoder.transformer.auto_model.to(torch.float16)
encoder.save(".gpu/model")
PY
du -sh .gpu
