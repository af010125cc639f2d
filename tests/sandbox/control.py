"""Test helper: start a sandbox server in a subprocess and drive its control API.

    from tests.sandbox.control import Sandbox   # or load this file by path: it needs only the stdlib

    with Sandbox.start() as sandbox:
        sandbox.add_faults({"kind": "archive", "type": "status", "status": 503, "retry_after": 1})
        ...  # point the code under test at sandbox.trud_base_url with sandbox.api_key
        assert len(sandbox.downloads()) == 1
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

SERVER = Path(__file__).resolve().with_name("server.py")
# The sandbox is local: never send control calls through an HTTP proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class SandboxError(RuntimeError):
    """The sandbox did not start, or its control API refused a request."""


class Sandbox:
    """A running sandbox server. Create it with `Sandbox.start()`; stop it with `stop()` or `with`."""

    def __init__(self, process: subprocess.Popen, info: dict, work_dir: str):
        self.process = process
        self.info = info
        self._work_dir = work_dir

    @classmethod
    def start(cls, state_dir=None, api_keys=None, https=True, extra_args=(), timeout=30.0) -> "Sandbox":
        """Launch `server.py` and wait (at most `timeout` seconds) until it is listening."""
        work_dir = tempfile.mkdtemp(prefix="trud-sandbox-ctl-")
        info_file = os.path.join(work_dir, "info.json")
        cmd = [sys.executable, str(SERVER), "--info-file", info_file]
        if state_dir:
            cmd += ["--state-dir", str(state_dir)]
        for key in api_keys or ():
            cmd += ["--api-key", key]
        if not https:
            cmd.append("--no-https")
        cmd += list(extra_args)
        with open(os.path.join(work_dir, "server.log"), "wb") as log:
            # Output goes to a file: an unread pipe would block the server once full.
            process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)  # pylint: disable=consider-using-with
        deadline = time.monotonic() + timeout
        while not os.path.exists(info_file):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                output = Path(work_dir, "server.log").read_text(encoding="utf-8", errors="replace")[-4000:]
                shutil.rmtree(work_dir, ignore_errors=True)
                raise SandboxError(f"sandbox server did not start (exit code {process.returncode}):\n{output}")
            time.sleep(0.05)
        with open(info_file, encoding="utf-8") as handle:
            return cls(process, json.load(handle), work_dir)

    # --- info ----------------------------------------------------------------------------------

    url = property(lambda self: self.info["url"])
    https_url = property(lambda self: self.info["https_url"])
    trud_base_url = property(lambda self: self.info["trud_base_url"])
    trud_https_base_url = property(lambda self: self.info["trud_https_base_url"])
    api_key = property(lambda self: self.info["api_key"])
    disabled_key = property(lambda self: self.info["disabled_key"])
    ca_path = property(lambda self: self.info["ca_path"])
    trud_fingerprint = property(lambda self: self.info["trud_fingerprint"])
    wrong_fingerprint = property(lambda self: self.info["wrong_fingerprint"])
    state_dir = property(lambda self: self.info["state_dir"])
    mlds_url = property(lambda self: self.info["mlds"]["url"])  # the collection's MLDS `url` (the API is under /api)
    mlds_https_url = property(lambda self: self.info["mlds"]["https_url"])
    mlds_feed_url = property(lambda self: self.info["mlds"]["feed_url"])  # MLDS's /api/feed (anonymous)
    feed_url = property(lambda self: self.info["syndication"]["feed_url"])  # the NCTS feed over generated archives
    feed_https_url = property(lambda self: self.info["syndication"]["https_feed_url"])

    # --- control API ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, payload=None, timeout: float = 300.0):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + "/_sandbox/" + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise SandboxError(f"{method} /_sandbox/{path}: {exc.code} {exc.read().decode(errors='replace')}") from exc

    def reset(self):
        """Default catalogue, no faults, empty log."""
        self._call("POST", "reset")

    def add_faults(self, *rules: dict) -> list:
        """Queue fault rules (see README.md); returns all pending rules."""
        return self._call("POST", "faults", {"faults": list(rules)})["faults"]

    def faults(self) -> list:
        """Pending fault rules."""
        return self._call("GET", "faults")["faults"]

    def clear_faults(self):
        """Drop all pending fault rules."""
        self._call("DELETE", "faults")

    def add_release(self, item: int, **release) -> dict:
        """Add a release as the newest of `item`; returns its TRUD JSON (URLs carry the default key)."""
        return self._call("POST", "releases", {"item": item, "release": release})

    def resize(self, item: int, size: int) -> dict:
        """Resize the newest release's archive of `item`; hashing a large one takes a few seconds."""
        return self._call("PUT", f"items/{item}", {"size": size})

    def log(self) -> list:
        """Logged requests since the last reset or clear_log()."""
        return self._call("GET", "log")["requests"]

    def clear_log(self):
        """Empty the in-memory request log."""
        self._call("DELETE", "log")

    def downloads(self, kind: str = "archive") -> list:
        """Logged GET requests of `kind` answered 200 or 206 (HEAD requests transfer nothing)."""
        return [entry for entry in self.log()
                if entry["kind"] == kind and entry["method"] == "GET" and entry["status"] in (200, 206)]

    # --- MLDS ----------------------------------------------------------------------------------

    def mlds_reset(self):
        """MLDS only: default members, users and catalogue (faults and log untouched)."""
        self._call("POST", "mlds/reset")

    def mlds_state(self) -> dict:
        """Everything the MLDS side holds: packages (soft-deleted ones too), notifications, downloads, storage."""
        return self._call("GET", "mlds/state")

    def mlds_user(self, role: str) -> tuple[str, str]:
        """(username, password) of a user by role name (admin, staff_se, ...) or username, as it is now."""
        users = self._call("GET", "mlds/users")["users"]
        user = users.get(role) or next((u for u in users.values() if u["username"] == role), None)
        if user is None:
            raise SandboxError(f"no MLDS user {role!r}; known: {sorted(users)}")
        return user["username"], user["password"]

    def mlds_set_user(self, name: str, **changes) -> dict:
        """Change a user (password=, approved=, application=, deactivated=, roles=, member=, applications=)."""
        return self._call("PUT", "mlds/users/" + quote(name, safe=""), changes)

    def mlds_storage(self, name: str, size: int, seed: int = 0, kind: str | None = None) -> dict:
        """Register a storage object; returns {url, https_url, s3_url, md5, size, ...} to use as a file's downloadUrl."""
        return self._call("POST", "mlds/storage", {"name": name, "size": size, "seed": seed, "kind": kind})

    def mlds_seed(self, tree: dict) -> dict:
        """Write {"packages": [...]} straight into the store (see README.md); returns them as an admin sees them."""
        return self._call("POST", "mlds/seed", tree)

    def mlds_writes(self) -> list:
        """Logged POST/PUT/DELETE requests under /api (whatever their status)."""
        return [entry for entry in self.log()
                if entry["method"] in ("POST", "PUT", "DELETE") and entry["path"].startswith("/api/")]

    # --- NCTS syndication feed ------------------------------------------------------------------

    def feed_reset(self):
        """The default feed entries only (faults and log untouched)."""
        self._call("POST", "syndication/reset")

    def feed_entries(self) -> list:
        """The feed's entries: options, `href`, `length`/`sha256` as the feed says, `file_length`/`file_sha256`."""
        return self._call("GET", "syndication/entries")["entries"]

    def feed_add(self, identifier: str, version: str, **options) -> dict:
        """Append an entry (title=, size=, seed=, file_name=, category=, dependencies=, sha256=, length=, ...)."""
        return self._call("POST", "syndication/entries", {"identifier": identifier, "version": version, **options})

    def feed_set(self, entries: list) -> list:
        """Make the feed hold exactly these entries (dicts of feed_add's options); [] empties it."""
        return self._call("PUT", "syndication/entries", {"entries": list(entries)})["entries"]

    # --- lifetime ------------------------------------------------------------------------------

    def stop(self, timeout: float = 10.0):
        """Terminate the server (SIGTERM, then SIGKILL after `timeout`)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self._work_dir, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info):
        self.stop()
