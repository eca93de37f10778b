#!/usr/bin/env bash
# The main job on a fresh machine: install, then find the most similar pairs among
# 10,000 STSb sentences (the paper's task) and score STSb, offline, no server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash integrations/setup.sh
export HF_HUB_OFFLINE=1
DATA="${SBERT_PLUGINS_DATA:-../shared/data}"
if [ -f "$DATA/stsb/train.tsv" ]; then
  tail -n +2 "$DATA/stsb/train.tsv" | cut -f2,3 | tr '\t' '\n' | awk 'NF && !seen[$0]++' | head -10000 > /tmp/sbert_demo_sentences.txt
else
  cp integrations/sentences.txt /tmp/sbert_demo_sentences.txt
fi
.venv/bin/sbert pairs /tmp/sbert_demo_sentences.txt --top-k 5
if [ -f "$DATA/stsb/test.tsv" ]; then .venv/bin/sbert eval-sts stsb sickr; fi
