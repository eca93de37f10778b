#!/usr/bin/env bash
# The main job on a fresh machine: install, then find the most similar pairs among
# 10,000 STSb sentences (the paper's task) and score STSb, offline, no server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
# evaluation data: $SBERT_DATA_DIR, else ../shared/data beside the checkout (the library never searches)
if [ -z "${SBERT_DATA_DIR:-}" ] && [ -d ../shared/data/stsb ]; then export SBERT_DATA_DIR="$(cd ../shared/data && pwd)"; fi
SENTENCES="${TMPDIR:-/tmp}/sbert_demo_sentences.txt"
# 10,000 distinct STSb sentences when the data is there, else the small bundled file
.venv/bin/python - "$SENTENCES" <<'PY'
import shutil, sys
from sbert_plugins import SbertPluginsError, load_sts
try:
    s1, s2, _ = load_sts("stsb-train")
except SbertPluginsError:
    shutil.copy("examples/sentences.txt", sys.argv[1])
else:
    sentences = list(dict.fromkeys(s for pair in zip(s1, s2) for s in pair if s.strip()))[:10000]
    open(sys.argv[1], "w", encoding="utf-8").write("\n".join(sentences) + "\n")
PY
.venv/bin/sbert pairs "$SENTENCES" --top-k 5
if [ -n "${SBERT_DATA_DIR:-}" ]; then
  .venv/bin/sbert eval-sts stsb sickr
fi
