"""`import sbert_plugins` must not import any host library (nor torch)."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_light():
    code = (
        "import sys, sbert_plugins; "
        "print(sorted(m for m in ('spacy', 'sklearn', 'elasticsearch', 'torch', 'transformers') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_public_names_resolve():
    import sbert_plugins

    for name in sbert_plugins.__all__:
        assert getattr(sbert_plugins, name) is not None


def test_cli_parser_and_name_resolution_do_not_import_torch():
    # the CLI caps oneDNN for bf16 after parsing and before torch loads (sbert_plugins/_cpu.py)
    code = (
        "import sys; from sbert_plugins._cli.main import build_parser; build_parser(); "
        "from sbert_plugins import resolve_model; resolve_model('.'); print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stdout + done.stderr
