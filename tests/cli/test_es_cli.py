"""`sbert es create|ingest|search|count|delete` against the suite's real Elasticsearch."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("elasticsearch", reason="elasticsearch extra not installed")
from support import es_url

from sbert_plugins._cli.main import main

pytestmark = pytest.mark.elasticsearch


@pytest.fixture()
def index(index_name):
    return index_name


def test_create_ingest_search_count_delete(index, tiny_model_dir, tmp_path, capsys):
    common = ["--url", es_url(), "--model", str(tiny_model_dir)]
    assert main(["es", "create", index, *common]) == 0
    docs = tmp_path / "docs.jsonl"
    docs.write_text(
        "\n".join(
            json.dumps(d)
            for d in [
                {"id": "a", "text": "the dog runs", "lang": "en"},
                {"id": "b", "text": "a red car", "lang": "en"},
                {"id": "c", "text": "the cat is happy", "lang": "de"},
            ]
        )
        + "\n"
    )
    assert main(["es", "ingest", index, str(docs), *common]) == 0
    assert "3 indexed, 0 failed" in capsys.readouterr().err
    assert main(["es", "search", index, "the dog", "--k", "1", *common]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["id"] == "a"
    assert main(["es", "count", index, "--filter", "lang=en", *common]) == 0
    assert capsys.readouterr().out.strip() == "2"
    assert main(["es", "delete", index, "--ids", "a", *common]) == 0
    assert main(["es", "count", index, *common]) == 0 and capsys.readouterr().out.strip() == "2"


@pytest.mark.parametrize("element", ["byte", "bit"])
def test_create_a_byte_or_bit_index_and_search_it(index, tiny_model_dir, tmp_path, capsys, element):
    common = ["--url", es_url(), "--model", str(tiny_model_dir)]
    texts = tmp_path / "texts.txt"
    texts.write_text("the dog runs\na red car\nthe cat is happy\n")
    assert main(["es", "create", index, "--element-type", element, "--calibration", str(texts), *common]) == 0
    assert main(["es", "ingest", index, str(texts), *common]) == 0
    assert main(["es", "search", index, "a red car", "--k", "1", *common]) == 0
    hit = json.loads(capsys.readouterr().out.splitlines()[0])
    assert hit["source"]["text"] == "a red car" and hit["score"] == pytest.approx(1.0, abs=1e-5)  # float rescored


def test_ingest_with_failures_exits_1_and_writes_them(index, tiny_model_dir, tmp_path):
    common = ["--url", es_url(), "--model", str(tiny_model_dir)]
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": "ok", "text": "fine"}\n{"id": "empty", "text": "  "}\nnot json\n')
    failures = tmp_path / "failed.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "sbert_plugins", "es", "create", index, *common],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "sbert_plugins", "es", "ingest", index, str(docs), *common, "--failures", str(failures)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1 and "1 indexed, 2 failed" in done.stderr and "Traceback" not in done.stderr
    rows = [json.loads(line) for line in failures.read_text().splitlines()]
    assert [r["kind"] for r in rows] == ["invalid", "invalid"] and "invalid JSON" in rows[1]["id"]
