#!/usr/bin/env bash
# The main job on a fresh machine: install, then find the most similar pairs among
# 10,000 STSb sentences (the paper's task) and score STSb, offline, no server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash integrations/setup.sh
export HF_HUB_OFFLINE=1
SENTENCES="${TMPDIR:-/tmp}/sbert_demo_sentences.txt"
# 10,000 distinct STSb sentences when ../shared/data is there, else the small bundled file
.venv/bin/python - "$SENTENCES" <<'PY'
import shutil, sys
from sbert_plugins._evaluation import data_dir, load_sts
if data_dir() is None:
    shutil.copy("integrations/sentences.txt", sys.argv[1])
else:
    s1, s2, _ = load_sts("stsb-train")
    sentences = list(dict.fromkeys(s for pair in zip(s1, s2) for s in pair if s.strip()))[:10000]
    open(sys.argv[1], "w", encoding="utf-8").write("\n".join(sentences) + "\n")
PY
.venv/bin/sbert pairs "$SENTENCES" --top-k 5
if .venv/bin/python -c "import sys; from sbert_plugins._evaluation import data_dir; sys.exit(data_dir() is None)"; then
  .venv/bin/sbert eval-sts stsb sickr
fi
