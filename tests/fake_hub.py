"""A stdlib-only fake Hugging Face Hub on 127.0.0.1 for the real ``huggingface_hub`` client (checked: 2.4.0).

Serves in-memory repos (models, datasets, spaces; several commits, branches, tags) on the routes the client uses:
``GET /api/{type}s/{repo}[/revision/{rev}]`` (``model_info``/``repo_info``; ``?blobs`` adds sizes and LFS info),
``GET /api/{type}s/{repo}/tree/{rev}[/{path}]`` (``list_repo_tree``/``list_repo_files``, ``?recursive=true``) and
``HEAD``/``GET /[{type}s/]{repo}/resolve/{rev}/{file}`` (``X-Repo-Commit``, ``ETag`` = git blob sha1, or sha256 plus
``X-Linked-Etag``/``X-Linked-Size`` for LFS files; ``Range`` gives 206). ``{rev}`` is a branch, a tag (both may be
URL-quoted, e.g. ``refs%2Fpr%2F1``), a full sha or a unique prefix of 7+ hex digits. Errors carry ``X-Error-Code``
and ``X-Error-Message``, mapped by the client to: RepoNotFound (404; 401 for a private repo without a token)
-> ``RepositoryNotFoundError``; RevisionNotFound (404) -> ``RevisionNotFoundError``; EntryNotFound (404, with
``X-Repo-Commit``) -> ``RemoteEntryNotFoundError`` (an ``EntryNotFoundError``); GatedRepo (401 without a token, 403
with a wrong one) -> ``GatedRepoError`` (a ``RepositoryNotFoundError`` subclass). Like the Hub, a gated repo shows
its info and tree to anyone and its files only to ``Authorization: Bearer <token>``; a private repo hides all.
``hub.down = True`` closes the port: ``model_info`` raises ``httpx2.ConnectError``; snapshot_download and
hf_hub_download serve cached files, else raise ``LocalEntryNotFoundError``. ``hub.fail_status = 503`` answers all
with that status (``HfHubHTTPError``; downloads fall back the same way). An uncached ``hf_hub_download`` and
``list_repo_tree`` first retry with ``time.sleep`` backoff (1+2+4+8+8 s), which ``fake_hub_env`` makes instant.

Endpoint and offline mode after ``import huggingface_hub`` (what ``fake_hub_env``/``set_hub_offline`` patch):
``huggingface_hub.constants`` copies ``HF_ENDPOINT``, ``HF_HUB_OFFLINE``, ``HF_HOME``... once, at import, so the
environment variables only reach subprocesses. In-process, patch ``constants.ENDPOINT`` and
``constants.HUGGINGFACE_CO_URL_TEMPLATE`` (``hf_hub_url`` formats the template), ``hf_api.api.endpoint`` (the
``HfApi`` behind ``huggingface_hub.model_info``, ``list_repo_files``...: it copied the endpoint when created),
``constants.HF_HUB_OFFLINE`` (``is_offline_mode()``, which transformers 5 also calls, reads it each call), the cache
and token paths, and ``constants.HF_HUB_DISABLE_TELEMETRY``: with telemetry on, the first request's headers make
the client fetch ``{constants.ENDPOINT}/api/agent-harnesses`` whatever ``endpoint=`` says. So ``endpoint=`` on
``HfApi``/``hf_hub_download``/``snapshot_download`` covers their own requests only. In offline mode the client
raises ``OfflineModeIsEnabled`` (or serves the cache) before opening any socket: the hub logs nothing.

Usage (``fake_hub_env`` needs the started hub, for its URL)::

    @pytest.fixture
    def hub(monkeypatch, tmp_path):
        with FakeHub() as hub:
            fake_hub_env(monkeypatch, hub, tmp_path)  # returns the HF_HUB_CACHE folder
            yield hub

    sha = hub.add_repo("acme/tiny", {"config.json": b"{}", "modeling.py": b"..."})
    snapshot_download("acme/tiny", ignore_patterns=["*.py"])
    assert "modeling.py" not in hub.fetched()
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5", ".msgpack", ".ckpt", ".gguf", ".model", ".npz")
Files = Mapping[str, bytes | str] | Path | str  # path in repo -> content, or a folder on disk
Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Request:
    """One request the hub received; ``filename``/``revision`` are set for ``/resolve/`` requests."""

    method: str
    path: str  # unquoted, without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    client: str
    repo_id: str | None = None
    revision: str | None = None
    filename: str | None = None


@dataclass
class _Repo:
    gated: bool | str
    private: bool
    tokens: set[str]
    commits: dict[str, tuple[dict[str, bytes], str]] = field(default_factory=dict)  # sha -> (files, date)
    refs: dict[str, str] = field(default_factory=dict)  # branch or tag -> sha


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _load(files: Files) -> dict[str, bytes]:
    if isinstance(files, (str, Path)):
        root = Path(files)
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    return {k: v.encode() if isinstance(v, str) else bytes(v) for k, v in files.items()}


class FakeHub:
    """In-memory Hub on 127.0.0.1; use as a context manager (or ``start()``/``stop()``)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.fail_status: int | None = None
        self._repos: dict[str, _Repo] = {}
        self._lock = threading.Lock()
        self._port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def add_repo(
        self,
        repo_id: str,
        files: Files,
        *,
        repo_type: str = "model",
        branch: str = "main",
        tags: Iterable[str] = (),
        gated: bool | str = False,
        private: bool = False,
        token: str | Iterable[str] | None = None,
    ) -> str:
        """Create a repo whose first commit holds ``files`` (a dict or a folder); returns the commit sha.

        ``gated`` is False, True (= "auto") or "auto"/"manual"; ``token``: the token(s) granted access.
        """
        tokens = {token} if isinstance(token, str) else set(token or ())
        with self._lock:
            self._repos[f"{repo_type}s/{repo_id}"] = _Repo("auto" if gated is True else gated, private, tokens)
        return self.add_commit(repo_id, files, repo_type=repo_type, branch=branch, tags=tags)

    def add_commit(
        self, repo_id: str, files: Files, *, repo_type: str = "model", branch: str = "main", tags: Iterable[str] = ()
    ) -> str:
        """Add a commit whose tree is exactly ``files`` on ``branch`` (created if new); returns its sha."""
        repo, content = self._repos[f"{repo_type}s/{repo_id}"], _load(files)
        with self._lock:
            seed = f"{repo_type}/{repo_id}|{repo.refs.get(branch)}|{len(repo.commits)}|"
            sha = hashlib.sha1((seed + "|".join(f"{k}:{_git_oid(v)}" for k, v in sorted(content.items()))).encode())
            date = f"2024-01-01T00:{len(repo.commits) // 60:02d}:{len(repo.commits) % 60:02d}.000Z"
            repo.commits[sha.hexdigest()] = (content, date)
            for ref in (branch, *tags):
                repo.refs[ref] = sha.hexdigest()
        return sha.hexdigest()

    def files(self, repo_id: str, revision: str = "main", *, repo_type: str = "model") -> dict[str, bytes]:
        """A copy of the files of ``repo_id`` at ``revision``."""
        repo = self._repos[f"{repo_type}s/{repo_id}"]
        return dict(repo.commits[self._resolve(repo, revision) or revision][0])

    @staticmethod
    def _resolve(repo: _Repo, revision: str) -> str | None:
        if revision in repo.refs:
            return repo.refs[revision]
        found = [sha for sha in repo.commits if len(revision) >= 7 and sha.startswith(revision.lower())]
        return found[0] if len(found) == 1 else None

    @property
    def url(self) -> str:
        """The endpoint, e.g. ``http://127.0.0.1:41234`` (the port is kept across ``down`` toggles)."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def down(self) -> bool:
        """True while the port is closed (clients get connection refused)."""
        return self._server is None

    @down.setter
    def down(self, value: bool) -> None:
        if value and self._server is not None:
            self.stop()
        elif not value and self._server is None:
            self.start()

    def start(self) -> FakeHub:
        """Listen (again) and serve in a daemon thread."""
        if self._server is None:
            server = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
            server.hub = self  # type: ignore[attr-defined]
            self._port = server.server_address[1]
            self._server, self._thread = server, threading.Thread(target=server.serve_forever, args=(0.05,))
            self._thread.daemon = True
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fetched(self, method: str | None = None) -> list[str]:
        """Filenames of the ``/resolve/`` requests (optionally only ``"GET"`` or ``"HEAD"`` ones)."""
        return [r.filename for r in self.requests if r.filename and method in (None, r.method)]

    def _answer(self, req: Request, raw_path: str) -> Reply:
        segs = [unquote(s) for s in raw_path.split("/")[1:]]  # unquote per segment: refs%2Fpr%2F1 is one
        if self.fail_status is not None:
            return _error(self.fail_status, "", "Fake hub failure")
        if segs[:2] == ["api", "agent-harnesses"]:
            return _ok({"standardEnvVars": [], "harnesses": {}})
        if segs[0] == "api" and len(segs) > 2 and segs[1] in ("models", "datasets", "spaces"):
            kind, rest = segs[1], segs[2:]
            n = 2 if len(rest) > 1 and rest[1] not in ("revision", "tree") else 1
            repo_id, sub = "/".join(rest[:n]), rest[n:]
        else:
            kind = f"{segs[0][:-1]}s" if segs[0] in ("datasets", "spaces") else "models"
            rest = segs[1:] if kind != "models" else segs
            i = next((i for i in (1, 2) if len(rest) > i + 1 and rest[i] == "resolve"), None)
            if i is None:
                return _error(404, "", "Unknown route")
            repo_id, sub = "/".join(rest[:i]), rest[i:]
        if sub and sub[0] not in ("revision", "tree", "resolve"):
            return _error(404, "", "Unknown route")
        req.repo_id = repo_id
        repo = self._repos.get(f"{kind}/{repo_id}")
        token = req.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if repo is None or (repo.private and token not in repo.tokens):
            return _error(401 if repo and not token else 404, "RepoNotFound", "Repository not found")
        revision = sub[1] if len(sub) > 1 else "main"
        if sub and sub[0] == "resolve":
            req.revision, req.filename = revision, "/".join(sub[2:])
            if repo.gated and token not in repo.tokens:
                return _error(403 if token else 401, "GatedRepo", f"Access to model {repo_id} is restricted.")
        sha = self._resolve(repo, revision)
        if sha is None:
            return _error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        files, date = repo.commits[sha]
        if not sub or sub[0] == "revision":
            return _ok(_info(repo_id, repo, sha, files, date, "blobs" in req.query))
        if sub[0] == "tree":
            tree = _tree(files, "/".join(sub[2:]), req.query.get("recursive", ["false"])[0] == "true")
            return _ok(tree) if tree is not None else _error(404, "EntryNotFound", "Entry not found", sha)
        if req.filename not in files:
            return _error(404, "EntryNotFound", "Entry not found", sha)
        return _file(files[req.filename], req.filename, sha, req.headers.get("range"))


def _ok(data: Any) -> Reply:
    return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()


def _error(status: int, code: str, message: str, sha: str | None = None) -> Reply:
    headers = {"Content-Type": "application/json", "X-Error-Message": message}
    headers |= ({"X-Error-Code": code} if code else {}) | ({"X-Repo-Commit": sha} if sha else {})
    return status, headers, json.dumps({"error": message}).encode()


def _lfs(path: str, data: bytes) -> dict[str, Any] | None:
    if not path.endswith(LFS_SUFFIXES) and len(data) < 10_000_000:
        return None
    return {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}


def _info(repo_id: str, repo: _Repo, sha: str, files: dict[str, bytes], date: str, blobs: bool) -> dict[str, Any]:
    siblings = []
    for path, data in sorted(files.items()):
        sibling: dict[str, Any] = {"rfilename": path}
        if blobs:
            sibling.update(size=len(data), blobId=_git_oid(data))
            if lfs := _lfs(path, data):
                sibling["lfs"] = {"sha256": lfs["oid"], "size": lfs["size"], "pointerSize": lfs["pointerSize"]}
        siblings.append(sibling)
    return {
        **{"_id": sha[:24], "id": repo_id, "modelId": repo_id, "author": repo_id.partition("/")[0], "sha": sha},
        **{"lastModified": date, "createdAt": "2024-01-01T00:00:00.000Z", "private": repo.private},
        **{"gated": repo.gated, "disabled": False, "downloads": 0, "likes": 0, "tags": [], "siblings": siblings},
    }


def _tree(files: dict[str, bytes], prefix: str, recursive: bool) -> list[dict[str, Any]] | None:
    base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    under = {p: d for p, d in files.items() if p.startswith(base)}
    if base and not under:
        return None
    rel = [p[len(base) :].split("/") for p in under]
    dirs = {base + "/".join(parts[:i]) for parts in rel for i in range(1, len(parts))}
    depth = base.count("/")
    entries: list[dict[str, Any]] = [
        {"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d}
        for d in sorted(dirs)
        if recursive or d.count("/") == depth
    ]
    for path, data in sorted(under.items()):
        if recursive or path.count("/") == depth:
            entry = {"type": "file", "oid": _git_oid(data), "size": len(data), "path": path}
            entries.append({**entry, "lfs": lfs} if (lfs := _lfs(path, data)) else entry)
    return entries


def _file(data: bytes, path: str, sha: str, range_header: str | None) -> Reply:
    lfs = _lfs(path, data)
    etag = lfs["oid"] if lfs else _git_oid(data)
    headers = {"X-Repo-Commit": sha, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"}
    headers["Content-Type"] = "application/octet-stream"
    if lfs:
        headers.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(data))})
    if not range_header:
        return 200, headers, data
    start_s, _, end_s = range_header.removeprefix("bytes=").partition("-")
    start = int(start_s) if start_s else max(len(data) - int(end_s), 0)
    end = int(end_s) if start_s and end_s else len(data) - 1
    if start >= len(data) or end < start:
        return 416, {**headers, "Content-Range": f"bytes */{len(data)}"}, b""
    end = min(end, len(data) - 1)
    return 206, {**headers, "Content-Range": f"bytes {start}-{end}/{len(data)}"}, data[start : end + 1]


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.0 handler: one request per connection, so stopping the hub never waits on idle keep-alives."""

    server: Any

    def _handle(self) -> None:
        hub: FakeHub = self.server.hub
        parts = urlsplit(self.path)
        req = Request(self.command, unquote(parts.path), parse_qs(parts.query), {}, self.client_address[0])
        req.headers = {k.lower(): v for k, v in self.headers.items()}
        with hub._lock:
            hub.requests.append(req)
            status, headers, body = hub._answer(req, parts.path)
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


def set_hub_offline(monkeypatch: Any, offline: bool = True) -> None:
    """Switch ``huggingface_hub`` offline mode in this process (and in subprocesses started afterwards)."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1" if offline else "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)


def fake_hub_env(
    monkeypatch: Any, hub: FakeHub, tmp_path: Path, *, offline: bool = False, fast_retries: bool = True
) -> Path:
    """Point ``huggingface_hub`` (this process and subprocesses) at ``hub`` with a fresh HF_HOME; returns its cache.

    Sets HF_ENDPOINT/HF_HOME/HF_HUB_CACHE/HF_HUB_DISABLE_TELEMETRY/NO_PROXY, removes HF_TOKEN, patches the
    import-time copies in ``huggingface_hub.constants`` and ``hf_api.api``, and drops the shared HTTP client.
    ``fast_retries`` makes the client's retry backoff (``utils._http.time.sleep``, up to 23 s a call) a no-op.
    """
    from huggingface_hub import constants, hf_api
    from huggingface_hub.utils import _http

    home = tmp_path / "hf_home"
    values = {"HF_HOME": str(home), "HF_HUB_CACHE": str(home / "hub"), "HF_ASSETS_CACHE": str(home / "assets")}
    values |= {"HF_XET_CACHE": str(home / "xet"), "HF_TOKEN_PATH": str(home / "token")}
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_HUB_CACHE", "HUGGINGFACE_CO_STAGING"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**values, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_TELEMETRY": "1"}.items():
        monkeypatch.setenv(name, value)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, ",".join(filter(None, ["127.0.0.1", "localhost", os.environ.get(name)])))
    patches: dict[str, Any] = {
        **values,
        "HUGGINGFACE_HUB_CACHE": values["HF_HUB_CACHE"],
        "HF_HUB_DISABLE_TELEMETRY": True,
    }
    patches |= {"HF_STORED_TOKENS_PATH": str(home / "stored_tokens"), "ENDPOINT": hub.url}
    patches |= {"AGENT_HARNESSES_PATH": str(home / ".agent_harnesses.json")}
    patches["HUGGINGFACE_CO_URL_TEMPLATE"] = hub.url + "/{repo_id}/resolve/{revision}/{filename}"
    for name, value in patches.items():
        monkeypatch.setattr(constants, name, value)
    monkeypatch.setattr(hf_api.api, "endpoint", hub.url)
    if fast_retries:
        monkeypatch.setattr(_http, "time", SimpleNamespace(sleep=lambda _seconds: None))  # _http uses time.sleep only
    set_hub_offline(monkeypatch, offline)
    _http.close_session()  # the next call builds a client that sees NO_PROXY
    return home / "hub"
