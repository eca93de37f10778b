"""Every Python code block in README.md and docs/*.md runs as written (blocks of one page share a
namespace, in order). A page says what it needs in a comment: <!-- doc-test: quality elasticsearch -->."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
NEEDS = re.compile(r"<!-- doc-test: ([a-z ]+) -->")


def _blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


def _check_needs(page: Path, request: pytest.FixtureRequest) -> None:
    found = NEEDS.search(page.read_text(encoding="utf-8"))
    for need in found.group(1).split() if found else []:
        if need == "quality":
            request.getfixturevalue("minilm")
        elif need == "data":
            request.getfixturevalue("data_dir")
        elif need == "elasticsearch" and not os.environ.get("SBERT_ES_URL"):
            pytest.skip("no Elasticsearch (SBERT_ES_URL)")
        elif need == "spark":
            request.getfixturevalue("spark")
        elif need == "hub":
            request.getfixturevalue("doc_hub")
        elif need not in ("quality", "data", "elasticsearch", "spark", "hub"):
            raise AssertionError(f"{page.name}: unknown doc-test need {need!r}")


def _param(page: Path):
    found = NEEDS.search(page.read_text(encoding="utf-8"))
    needs = found.group(1).split() if found else []
    marks = [getattr(pytest.mark, n) for n in needs if n in ("elasticsearch", "spark", "quality", "data")]
    return pytest.param(page, marks=marks, id=page.name)


@pytest.fixture()
def doc_hub(monkeypatch, tmp_path, tiny_model_dir):
    """The Hub models the docs name, served by a fake Hub on 127.0.0.1 (tiny random weights: the pages
    check what loading does, not what the vectors mean)."""
    from fake_hub import FakeHub, fake_hub_env

    with FakeHub() as hub:
        fake_hub_env(monkeypatch, hub, tmp_path / "hub")
        hub.add_repo("BAAI/bge-small-en-v1.5", tiny_model_dir, tags=["v1.5"])  # a folder's files
        yield hub


@pytest.mark.parametrize("page", [_param(p) for p in PAGES if _blocks(p)])
def test_python_blocks_run_as_written(page, request, tmp_path, monkeypatch):
    _check_needs(page, request)
    monkeypatch.chdir(tmp_path)
    shutil.copy(ROOT / "examples" / "sentences.txt", tmp_path / "sentences.txt")
    runs = 2 if "re-run" in page.read_text(encoding="utf-8") else 1  # pages that promise re-runs are run twice
    for _ in range(runs):
        namespace: dict = {"__name__": "__doc__"}
        for number, block in enumerate(_blocks(page), start=1):
            exec(compile(block, f"{page.name} (python block {number})", "exec"), namespace)


def test_every_page_with_code_is_checked():
    assert {p.name for p in PAGES if _blocks(p)} >= {"README.md", "api.md"}
