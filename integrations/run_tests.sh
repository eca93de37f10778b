#!/usr/bin/env bash
# Install everything, start a real Elasticsearch on 127.0.0.1, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash integrations/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
ES_SCRIPT=integrations/elasticsearch/es.sh
if [ -f "$ES_SCRIPT" ] && [ "${SBERT_SKIP_ES:-0}" != "1" ]; then
  bash "$ES_SCRIPT" start
  trap 'bash "$ES_SCRIPT" stop || true' EXIT
  export SBERT_ES_URL="http://127.0.0.1:$(bash "$ES_SCRIPT" port)"
fi
.venv/bin/python -m pytest -q -rs "$@"
