"""Every CLI error is one line naming the value and the fix, exit code 2 (usage) or 1; never a traceback.
Run as real subprocesses, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def sbert(*args: str, stdin: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sbert_plugins", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def one_line_error(done: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, done.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_missing_input_file(tiny_model_dir, tmp_path):
    done = sbert("encode", "--input", str(tmp_path / "nope.txt"), "--model", str(tiny_model_dir))
    one_line_error(done, 1, "nope.txt", "does not exist")


def test_non_utf8_input_file(tiny_model_dir, tmp_path):
    src = tmp_path / "latin1.txt"
    src.write_bytes("café au lait\n".encode("latin-1"))
    done = sbert("encode", "--input", str(src), "--model", str(tiny_model_dir))
    one_line_error(done, 1, "latin1.txt", "is not UTF-8", "iconv")


@pytest.mark.parametrize("content", ["", "\n  \n\t\n"])
def test_an_empty_input_file_is_an_error_not_an_empty_success(tiny_model_dir, tmp_path, content):
    """Trust issue, item 12: nothing to encode is said, with exit code 1."""
    src = tmp_path / "empty.txt"
    src.write_text(content)
    one_line_error(sbert("encode", "--input", str(src), "--model", str(tiny_model_dir)), 1, "empty.txt", "no non-blank")
    done = sbert("pairs", str(src), "--model", str(tiny_model_dir))
    one_line_error(done, 1, "has no non-blank lines")
    one_line_error(sbert("encode", "--input", "-", "--model", str(tiny_model_dir), stdin=""), 1, "standard input")


def test_unwritable_output_fails_before_any_work(tiny_model_dir, tmp_path):
    done = sbert("encode", "a dog", "--model", str(tiny_model_dir), "-o", str(tmp_path / "missing" / "out.npy"))
    one_line_error(done, 1, "output folder", "does not exist")
    (tmp_path / "ro").mkdir(mode=0o500)
    target = "/proc/version" if os.geteuid() == 0 else str(tmp_path / "ro" / "out.npy")  # root ignores mode bits
    done = sbert("encode", "a dog", "--model", str(tiny_model_dir), "-o", target)
    one_line_error(done, 1, target)


def test_cuda_without_cuda(tiny_model_dir):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    done = sbert("encode", "a dog", "--model", str(tiny_model_dir), "--device", "cuda")
    one_line_error(done, 1, "device='cuda'", "sees no CUDA device", "device='cpu'")


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["pairs", "x.txt", "--top-k", "0"], ["--top-k", "'0' is not a positive integer"]),
        (["encode", "a", "--device", "gpu0"], ["device='gpu0'", "'cuda:0'"]),
        (["encode", "a", "--dtype", "float8"], ["dtype='float8'", "choose one of"]),
        (["encode", "a", "--long-texts", "cut"], ["long_texts='cut'"]),
        (["encode", "a", "--batch-size", "0"], ["batch_size=0", "positive int"]),
        (["encode"], ["give texts as arguments or --input FILE"]),
    ],
)
def test_usage_errors_exit_2(args, fragments):
    one_line_error(sbert(*args), 2, *fragments)


def test_surrogate_input_is_named(tiny_model_dir, tmp_path):
    src = tmp_path / "s.txt"
    src.write_text("fine\n", encoding="utf-8")
    done = sbert("encode", "ok", "a \udcff b", "--model", str(tiny_model_dir))
    one_line_error(done, 1, "texts[1] contains a lone surrogate")


def test_unexpected_errors_are_one_line_too(tiny_model_dir, tmp_path):
    src = tmp_path / "folder_not_file"
    src.mkdir()
    done = sbert("pairs", str(src), "--model", str(tiny_model_dir))
    one_line_error(done, 1, "folder_not_file")
