"""Start/stop extra real Elasticsearch nodes through the project's es.sh script."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ES_SCRIPT = Path(__file__).resolve().parents[1] / "integrations" / "elasticsearch" / "es.sh"


def es_url() -> str:
    url = os.environ.get("SBERT_ES_URL")
    if not url:
        pytest.skip("no Elasticsearch: set SBERT_ES_URL (integrations/run_tests.sh starts one)")
    return url


def es(*args: str, **env: str) -> None:
    done = subprocess.run(
        ["bash", str(ES_SCRIPT), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"es.sh {' '.join(args)} failed: {done.stderr[-2000:]}")
