"""The `sbert` command on the tiny model (and MiniLM for eval-sts)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from sbert_plugins._cli.main import main


def test_encode_to_npy_and_jsonl(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "e.npy"
    assert main(["encode", "a dog", "red car", "--model", str(tiny_model_dir), "-o", str(out)]) == 0
    assert np.load(out).shape == (2, 32)
    src = tmp_path / "in.txt"
    src.write_text("a dog\n\nred car\n")
    jsonl = tmp_path / "e.jsonl"
    assert main(["encode", "-i", str(src), "--model", str(tiny_model_dir), "-o", str(jsonl)]) == 0
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["text"] for r in rows] == ["a dog", "red car"] and len(rows[0]["embedding"]) == 32
    assert "skipped 1 blank line" in capsys.readouterr().err


def test_pairs_and_search(tiny_model_dir, tmp_path, capsys):
    src = tmp_path / "s.txt"
    src.write_text("a dog\na dog runs\nred car\nthe red car\n")
    assert main(["pairs", str(src), "--top-k", "2", "--model", str(tiny_model_dir)]) == 0
    out = capsys.readouterr()
    assert len(out.out.strip().splitlines()) == 2 and "total" in out.err
    assert main(["search", "--corpus", str(src), "dog", "--model", str(tiny_model_dir), "--top-k", "1"]) == 0
    assert "query: dog" in capsys.readouterr().out


def test_missing_model_is_an_error_not_a_traceback(tmp_path, capsys):
    assert main(["encode", "x", "--model", str(tmp_path / "missing")]) == 1
    assert "error: cannot find model" in capsys.readouterr().err


def test_plugins_lists_builtin(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "builtin" in out and "mean_sqrt_len" in out and "elasticsearch" in out


def test_python_dash_m(tiny_model_dir):
    done = subprocess.run(
        [sys.executable, "-m", "sbert_plugins", "encode", "a dog", "--model", str(tiny_model_dir)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["embedding"]) == 32


@pytest.mark.data
def test_eval_sts_prints_table(minilm, data_dir, capsys):
    assert (
        main(["eval-sts", "stsb", "--model", "all-MiniLM-L6-v2", "--dtype", "float32"]) == 0
    )  # an exact reproduction: float32
    assert "82.03" in capsys.readouterr().out


@pytest.mark.data
def test_bench_runs_fp32_then_bf16_in_one_process(tiny_model_dir, data_dir):
    # a fresh process without the test suite's oneDNN cap: the CLI must set it before fp32 runs
    env = {k: v for k, v in __import__("os").environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sbert_plugins",
            "bench",
            "--n",
            "50",
            "--model",
            str(tiny_model_dir),
            "--dtypes",
            "float32",
            "bfloat16",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "float32" in done.stdout and "bfloat16" in done.stdout


def test_every_command_prints_its_help_with_every_encode_option(capsys):
    """Help texts go through %-formatting: a stray '%' in an option's help would crash ``--help``."""
    from sbert_plugins import OPTIONS
    from sbert_plugins._cli.main import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, command in commands.items():
        with pytest.raises(SystemExit) as done:
            main([name, "--help"])
        assert done.value.code == 0, name
        text = capsys.readouterr().out
        if any(a.dest == "dtype" for a in command._actions):  # the commands that take the encode options
            assert all("--" + option.replace("_", "-") in text for option in OPTIONS), name
    assert main(["encode", "x", "--compile", "--model", "unused-missing"]) == 1  # the flag parses
