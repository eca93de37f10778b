#!/usr/bin/env bash
# The README's test command (CI runs exactly this): install everything; check the code (ruff lint,
# ruff format, mypy, import contracts); start real servers on 127.0.0.1; run the whole suite against
# Elasticsearch 9.x (plus a secured node), then the Elasticsearch suite again against 8.19.x with the
# 8.x client. Extra arguments go to pytest. SBERT_SKIP_ES=1 runs without Elasticsearch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== setup took ${SECONDS}s"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# evaluation data: $SBERT_DATA_DIR, else ../shared/data beside the checkout (the library never searches)
if [ -z "${SBERT_DATA_DIR:-}" ] && [ -d ../shared/data/stsb ]; then export SBERT_DATA_DIR="$(cd ../shared/data && pwd)"; fi
# Spark needs Java 17+; prefer the machine's OpenJDK 17 when JAVA_HOME is not set
if [ -z "${JAVA_HOME:-}" ] && [ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]; then
  export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi

echo "== checks: ruff, ruff format, mypy, import contracts"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports

ES=scripts/es_server.sh
ES9="${SBERT_ES9_VERSION:-9.5.4}"
ES8="${SBERT_ES8_VERSION:-8.19.7}"
if [ "${SBERT_SKIP_ES:-0}" = "1" ]; then
  .venv/bin/python -m pytest -q -rs "$@"
  exit 0
fi
trap 'bash "$ES" stop-all >/dev/null 2>&1 || true' EXIT

echo "== Elasticsearch $ES9 (client $(.venv/bin/python -c 'import elasticsearch; print(elasticsearch.__versionstr__)')): the whole suite"
export SBERT_ES_VERSION="$ES9"
bash "$ES" start
export SBERT_ES_URL="http://127.0.0.1:$(bash "$ES" port)"
set -a
eval "$(bash "$ES" secure-start)"
set +a
.venv/bin/python -m pytest -q -rs "$@"
echo "== whole suite done at ${SECONDS}s"

echo "== Elasticsearch $ES8 (client $(PYTHONPATH=.venv-es8 .venv/bin/python -c 'import elasticsearch; print(elasticsearch.__versionstr__)')): the Elasticsearch suite"
bash "$ES" stop-all
unset SBERT_ES_SECURE_URL
export SBERT_ES_VERSION="$ES8"
bash "$ES" start
PYTHONPATH=.venv-es8 .venv/bin/python -m pytest -q -rs -m elasticsearch "$@"
echo "== Elasticsearch $ES8 suite done; total ${SECONDS}s"
