"""A local, read-only Hugging Face Hub for tests: olah serving git work trees on 127.0.0.1.

``LocalHub(mirrors)`` serves ``mirrors/models/<org>/<name>`` and ``mirrors/datasets/<org>/<name>`` (git work trees,
branch ``main``, files committed; ``git_commit_folder`` makes one of a plain folder) through olah's offline mirror
mode, in a uvicorn subprocess of its own. Child processes reach it through ``hub_env(hub.endpoint, home)``, so that
``from_pretrained("org/name")``, ``hf_hub_download`` and ``load_dataset("org/name", config)`` work by repo id with no
internet at all. See ``../shared/notes/hf-stack.md``, "A Hub-compatible server for tests: olah".

A thin ASGI middleware closes the two gaps between olah's offline mirror mode and the Hub:

* repo info without a revision (``GET /api/<models|datasets>/<org>/<name>``, used by ``HfFileSystem`` and so by
  ``load_dataset`` without ``revision=``) is answered 401 by olah; it is rewritten to ``.../revision/main``;
* a missing file or folder (``/resolve/``, ``/tree/``) is answered 401 "repository not found" by olah (a GET of a
  missing file even 500, from an uncaught KeyError), where the Hub answers 404 with ``X-Error-Code: EntryNotFound``;
  transformers probes optional files (``added_tokens.json``, ...) and reads a 401 as "not a valid model
  identifier". Such answers become that 404, with an empty body. A missing repo stays 401 (RepositoryNotFound).
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["LocalHub", "git_commit_folder", "hub_env"]

# The server process: olah's ASGI app behind the middleware, on a socket the parent bound (its fd is argv[1]);
# it exits when its parent (pid argv[2]) is gone.
# Self-contained: it needs olah and uvicorn importable, nothing from this repository.
_SERVER_SCRIPT = r"""
import os
import re
import socket
import sys
import threading
import time

if "OLAH_CONFIG" not in os.environ:  # olah.server reads its configuration at import time
    sys.exit("OLAH_CONFIG is not set")

import uvicorn
from olah.server import app as olah_app

REPO_INFO = re.compile(r"^/api/(models|datasets)/([^/]+)/([^/]+)/?$")


async def app(scope, receive, send):
    if scope["type"] != "http":  # lifespan: olah's own startup/shutdown
        await olah_app(scope, receive, send)
        return
    path = scope["path"]
    match = REPO_INFO.match(path)
    if match and scope["method"] in ("GET", "HEAD"):
        path = "/api/{}/{}/{}/revision/main".format(*match.groups())
        scope = dict(scope, path=path, raw_path=path.encode())
    if "/resolve/" not in path and "/tree/" not in path:
        await olah_app(scope, receive, send)
        return

    not_found = False
    held = None  # a 500 answer, held back: olah answers a GET of a missing file with a KeyError

    async def entry_not_found():
        headers = [(b"content-length", b"0"), (b"x-error-code", b"EntryNotFound")]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def send_entry_not_found(message):
        nonlocal not_found, held
        if message["type"] == "http.response.start" and message["status"] == 401:
            not_found = True
            await entry_not_found()
        elif message["type"] == "http.response.start" and message["status"] == 500:
            held = [message]
        elif not_found:
            pass  # the 401's body
        elif held is not None:
            held.append(message)
        else:
            await send(message)

    try:
        await olah_app(scope, receive, send_entry_not_found)
    except KeyError:  # GitPython's "Blob or Tree named ... not found", after the 500 was sent (and held)
        if held is None:
            raise
        await entry_not_found()
        return
    except BaseException:
        for message in held or ():
            await send(message)
        raise
    for message in held or ():
        await send(message)


def exit_with_parent(parent):  # a test run killed outright must not leave its server behind
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


threading.Thread(target=exit_with_parent, args=(int(sys.argv[2]),), daemon=True).start()
sock = socket.socket(fileno=int(sys.argv[1]))
config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
uvicorn.Server(config).run(sockets=[sock])
"""

_CONFIG_TEMPLATE = """\
[basic]
host = "127.0.0.1"
port = {port}
mirrors-path = [{mirrors}]
repos-path = {repos}
# never used in offline mode; a closed local port, so that nothing could reach the real Hub anyway
hf-scheme = "http"
hf-netloc = "127.0.0.1:9"
hf-lfs-netloc = "127.0.0.1:9"
mirror-scheme = "http"
mirror-netloc = "127.0.0.1:{port}"
mirror-lfs-netloc = "127.0.0.1:{port}"
metadata-cache-ttl = 0

[accessibility]
offline = true
"""


def _toml_string(value: str | Path) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class LocalHub:
    """olah serving the git work trees under ``mirrors`` on ``endpoint`` (``http://127.0.0.1:<port>``), read-only.

    A context manager: ``__enter__`` starts the server and waits (at most ``timeout`` seconds) until it answers,
    raising ``RuntimeError`` with the tail of its log if it dies or does not answer in time; ``__exit__`` stops it
    and removes its temporary folder (configuration, olah's cache and logs).
    """

    def __init__(self, mirrors: Path, *, timeout: float = 60.0) -> None:
        self.mirrors = Path(mirrors).resolve()
        self.timeout = timeout
        self.port: int | None = None
        self.endpoint: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._tmp: Path | None = None
        self._log: Path | None = None

    def __enter__(self) -> LocalHub:
        if self._process is not None:
            raise RuntimeError("LocalHub is already running")
        if not self.mirrors.is_dir():
            raise FileNotFoundError(f"mirrors folder not found: {self.mirrors}")
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _start(self) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="localhub-"))
        (self._tmp / "repos").mkdir()
        (self._tmp / "logs").mkdir()
        script = self._tmp / "server.py"
        script.write_text(_SERVER_SCRIPT)
        self._log = self._tmp / "server.log"

        # Bound here and handed over, so no other process can take the port between choosing and serving it.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
            config = self._tmp / "olah.toml"
            config.write_text(
                _CONFIG_TEMPLATE.format(
                    port=self.port,
                    mirrors=_toml_string(self.mirrors),
                    repos=_toml_string(self._tmp / "repos"),
                )
            )
            env = dict(os.environ)
            env.update(OLAH_CONFIG=str(config), OLAH_LOG_PATH=str(self._tmp / "logs"), PYTHONUNBUFFERED="1")
            with open(self._log, "wb") as log:
                self._process = subprocess.Popen(
                    [sys.executable, str(script), str(sock.fileno()), str(os.getpid())],
                    pass_fds=(sock.fileno(),),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self._tmp,
                    env=env,
                )
        finally:
            sock.close()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"the hub server exited with code {self._process.returncode} before answering:\n"
                    + self._log_tail()
                )
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    conn.request("GET", "/api/models/localhub-probe/none/revision/main")
                    conn.getresponse().read()
                    return  # any HTTP answer: the app is serving
                finally:
                    conn.close()
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the hub server did not answer within {self.timeout} s:\n" + self._log_tail()
                )
            time.sleep(0.1)

    def _log_tail(self, chars: int = 4000) -> str:
        try:
            return self._log.read_text(errors="replace")[-chars:]
        except (OSError, AttributeError):
            return "(no server log)"

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        "git",
        "-c",
        "user.name=LocalHub tests",
        "-c",
        "user.email=localhub@localhost",
        "-c",
        "commit.gpgsign=false",
        "-c",
        "core.autocrlf=false",
        "-C",
        str(folder),
        *args,
    ]
    return subprocess.run(command, check=True, capture_output=True, text=True)


def git_commit_folder(folder: Path) -> None:
    """Make ``folder`` a git repository whose branch ``main`` has everything in it committed.

    A plain folder gets its own repository (even inside another work tree); an existing repository gets its changes
    committed on ``main`` (switched to, carrying the changes, when another branch is checked out). No LFS.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    if not (folder / ".git").exists():
        _git(folder, "init", "-q")
    if _has_head(folder):
        if _git(folder, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip() != "main":
            _git(folder, "checkout", "-q", "-B", "main")  # keeps uncommitted changes, committed below
        _git(folder, "add", "-A")
        if _git(folder, "status", "--porcelain").stdout.strip():
            _git(folder, "commit", "-q", "-m", "LocalHub test commit")
    else:  # a new repository, or one without commits yet
        _git(folder, "symbolic-ref", "HEAD", "refs/heads/main")
        _git(folder, "add", "-A")
        _git(folder, "commit", "-q", "--allow-empty", "-m", "LocalHub test commit")


def _has_head(folder: Path) -> bool:
    result = subprocess.run(
        ["git", "-C", str(folder), "rev-parse", "--verify", "-q", "HEAD"], capture_output=True, check=False
    )
    return result.returncode == 0


_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")
# set, these would point a child past its HF_HOME (a shared cache, a real token)
_HOME_OVERRIDES = (
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_DATASETS_CACHE",
    "HF_XET_CACHE",
    "HF_ASSETS_CACHE",
    "HF_MODULES_CACHE",
    "TRANSFORMERS_CACHE",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_TOKEN_PATH",
)


def hub_env(endpoint: str, home: Path) -> dict[str, str]:
    """The environment for a child process that uses the hub at ``endpoint``, with ``home`` as its ``HF_HOME``.

    A copy of ``os.environ`` with the offline switches and the cache/token overrides removed, telemetry off, short
    timeouts (a local server answers at once or not at all) and 127.0.0.1 exempt from any proxy.
    """
    env = {k: v for k, v in os.environ.items() if k not in _OFFLINE_VARIABLES + _HOME_OVERRIDES}
    env.update(
        HF_ENDPOINT=endpoint.rstrip("/"),
        HF_HOME=str(home),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_HUB_DISABLE_IMPLICIT_TOKEN="1",
        HF_HUB_ETAG_TIMEOUT="10",
        HF_HUB_DOWNLOAD_TIMEOUT="30",
    )
    for name in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in env.get(name, "").split(",") if h]
        env[name] = ",".join(hosts + [h for h in ("127.0.0.1", "localhost") if h not in hosts])
    return env
