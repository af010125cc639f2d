"""Where MLDS release files live, and how MLDS fetches them for a download (as MLDS 5.2 does).

Storage objects are generated archives (archives.py), served at `/storage/{name}?size=N&seed=S[&kind=K]`
like a plain HTTP file host (Range, ETag = MD5, Last-Modified), and reachable through `s3://bucket/{name}`
URLs. The MLDS download endpoint proxies them: an http(s) URL is fetched for real (so storage faults
and the storage log apply), an S3 URL is streamed chunked with only a Content-Disposition header.
"""

import calendar
import email.utils
import hashlib
import http.client
import json
import re
import ssl
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, unquote, urlencode, urlsplit, parse_qs

from .archives import BLOCK, ArchiveSpec, ArchiveStore
from .mlds_store import MldsError, failure
from .pki import write_atomic
from .web import Body, BytesBody, Endpoint, Response

LAST_MODIFIED = calendar.timegm((2025, 1, 20, 12, 0, 0))  # every storage object's Last-Modified
S3_HTTPS = re.compile(r"^https?://(?P<bucket>[^/]+)\.s3\.amazonaws\.com/(?P<key>.+)$", re.IGNORECASE)
S3_PLAIN = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$", re.IGNORECASE)
CONDITIONAL = ("If-Modified-Since", "If-None-Match", "If-Unmodified-Since")  # what UriDownloader forwards
COPIED = ("Cache-Control", "Content-Disposition", "ETag", "Expires", "Last-Modified")  # plus Content-Type/-Length
S3_BUCKET = "ihtsdo-mlds-sandbox"


def _not_found_xml(name: str) -> Response:
    body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
            f"<Message>The specified key does not exist.</Message><Key>{name}</Key></Error>").encode()
    return Response(404, BytesBody(body), "application/xml")


class Storage:
    """Named storage objects and their MD5s (cached in memory and in `<state>/mlds-md5.json`)."""

    def __init__(self, archives: ArchiveStore, state_dir: Path):
        self.archives = archives
        self.objects: dict[str, ArchiveSpec] = {}
        self._md5_path = state_dir / "mlds-md5.json"
        self._md5: dict[str, str] = json.loads(self._md5_path.read_text()) if self._md5_path.exists() else {}
        self._lock = threading.Lock()

    def clear(self):
        """Forget registered names (URLs with size and seed keep working)."""
        self.objects = {}

    @staticmethod
    def spec(name: str, size: int, seed: int, kind: str | None = None) -> ArchiveSpec:
        """A storage object: a zip for `.zip` names, raw bytes otherwise. Raises ValueError if impossible."""
        kind = kind or ("zip" if name.lower().endswith(".zip") else "raw")
        if kind not in ("zip", "raw"):
            raise ValueError("storage kind must be 'zip' or 'raw'")
        stem = name.replace("\\", "/").rsplit("/", 1)[-1]
        stem = (stem[:-4] if stem.lower().endswith(".zip") else stem).strip(".") or "release"
        spec = ArchiveSpec(kind, int(size), int(seed), stem)
        spec.validate()
        return spec

    def register(self, name: str, size: int, seed: int = 0, kind: str | None = None) -> ArchiveSpec:
        """Make `name` resolvable without a query (and through S3 URLs)."""
        spec = self.spec(name, size, seed, kind)
        self.objects[name] = spec
        return spec

    def lookup(self, name: str, query: dict | None = None) -> ArchiveSpec | None:
        """The object for a name (`size`/`seed`/`kind` in the query win over the registry), or None."""
        if query and "size" in query:
            return self.spec(name, int(query["size"][0]), int(query.get("seed", ["0"])[0]), query.get("kind", [None])[0])
        return self.objects.get(name) or self.objects.get(name.rsplit("/", 1)[-1])

    def md5(self, spec: ArchiveSpec) -> str:
        """Hex MD5 of the object's bytes (what MLDS files carry as md5Hash, and the storage ETag)."""
        found = self._md5.get(spec.cache_key)
        if found:
            return found
        body = self.archives.body(spec)
        digest = hashlib.md5(usedforsecurity=False)
        for chunk in body.chunks(0, body.size):
            digest.update(chunk)
        with self._lock:
            self._md5[spec.cache_key] = digest.hexdigest()
            write_atomic(self._md5_path, json.dumps(self._md5, indent=1, sort_keys=True).encode())
        return self._md5[spec.cache_key]

    @staticmethod
    def url(base_url: str, name: str, spec: ArchiveSpec) -> str:
        """A self-describing storage URL (it survives a reset, which forgets registrations)."""
        query = {"size": spec.size, "seed": spec.seed}
        if spec.kind != ("zip" if name.lower().endswith(".zip") else "raw"):
            query["kind"] = spec.kind
        return f"{base_url}/storage/{quote(name, safe='')}?{urlencode(query)}"

    def describe(self, urls: tuple, name: str, spec: ArchiveSpec) -> dict:
        """What the control API answers for a storage object."""
        http_url, https_url = urls
        return {"name": name, "url": self.url(http_url, name, spec),
                "https_url": self.url(https_url, name, spec) if https_url else None,
                "s3_url": f"s3://{S3_BUCKET}/{name}", "md5": self.md5(spec), "size": spec.size,
                "kind": spec.kind, "seed": spec.seed}

    # --- serving -------------------------------------------------------------------------------

    def serve(self, req) -> Endpoint:
        """GET /storage/{name}: a plain file host with Range, ETag and Last-Modified."""
        name = req.params["name"]

        def respond(fault=None) -> Response:  # pylint: disable=unused-argument
            try:
                spec = self.lookup(name, req.query)
            except ValueError as exc:
                return Response(400, BytesBody(str(exc).encode()), "text/plain")
            if spec is None:
                return _not_found_xml(name)
            etag = f'"{self.md5(spec)}"'
            headers = {"ETag": etag, "Last-Modified": email.utils.formatdate(LAST_MODIFIED, usegmt=True)}
            if _not_modified(req.headers, etag):
                return Response(304, BytesBody(b""), None, headers)
            content_type = "application/zip" if spec.kind == "zip" else "application/octet-stream"
            return Response(200, self.archives.body(spec), content_type, headers, ranges=True)

        return Endpoint("mlds_storage", None, respond)


def _not_modified(headers, etag: str) -> bool:
    if headers.get("If-None-Match"):
        return etag in [tag.strip() for tag in headers["If-None-Match"].split(",")] or headers["If-None-Match"].strip() == "*"
    since = headers.get("If-Modified-Since")
    if since:
        parsed = email.utils.parsedate_tz(since)
        return parsed is not None and email.utils.mktime_tz(parsed) >= LAST_MODIFIED
    return False


class UpstreamBody(Body):  # pylint: disable=too-few-public-methods
    """An upstream response streamed through; `size` None means unknown (the proxy answers chunked)."""

    def __init__(self, upstream, size: int | None):
        self.upstream = upstream
        self.known = size is not None
        self.size = size if self.known else 1 << 62

    def chunks(self, start, end):
        remaining = end - start  # always the whole body: the proxy never honours Range
        try:
            while remaining > 0:
                piece = self.upstream.read(min(BLOCK, remaining))
                if not piece:
                    if self.known:
                        raise ConnectionResetError("upstream ended early")
                    return
                remaining -= len(piece)
                yield piece
        except (http.client.HTTPException, OSError) as exc:
            raise ConnectionResetError(f"upstream failed: {exc}") from exc  # the server cuts the client off too
        finally:
            self.upstream.close()

    def close(self):
        """Release the upstream connection without reading (HEAD)."""
        self.upstream.close()


class Proxy:  # pylint: disable=too-few-public-methods
    """UriDownloader: S3 objects streamed with only Content-Disposition; other URLs fetched and relayed."""

    def __init__(self, storage: Storage):
        self.storage = storage
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # upstreams are the sandbox's own listeners or test servers
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))

    def fetch(self, url: str, req) -> Response:
        """The download response for a file's downloadUrl; failures raise MldsError."""
        match = S3_PLAIN.match(url) or S3_HTTPS.match(url)
        if match:
            return self._s3(match.group("key"))
        if not url.lower().startswith(("http://", "https://")):
            raise failure(f"Error while downloading file: unsupported URL {url!r}")
        return self._http(url, req)

    def _s3(self, key: str) -> Response:
        path, query = (key.split("?", 1) + [""])[:2]
        try:
            spec = self.storage.lookup(unquote(path), parse_qs(query) if query else None)
        except ValueError as exc:
            raise failure(f"S3 key {key!r}: {exc}") from exc
        if spec is None:
            raise MldsError(404, "boot", reason=f"S3: NoSuchKey {key!r}")
        name = unquote(path).rsplit("/", 1)[-1]
        headers = {"Content-Disposition": f"attachment;filename={name}", "Transfer-Encoding": "chunked"}
        return Response(200, self.storage.archives.body(spec), None, headers)

    def _http(self, url: str, req) -> Response:
        headers = {"User-Agent": "Apache-HttpClient/4.5.14 (Java/17.0.13)"}
        headers.update({name: req.headers[name] for name in CONDITIONAL if req.headers.get(name)})
        try:
            upstream = self._opener.open(urllib.request.Request(url, headers=headers), timeout=300)
        except urllib.error.HTTPError as exc:
            with exc:
                if exc.code == 304:
                    return Response(304, BytesBody(b""), None, _copied(exc.headers, url))
                raise MldsError(exc.code, "boot", reason=f"upstream {url} answered {exc.code}") from exc
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise failure(f"Error while downloading file: {exc}") from exc
        length = upstream.headers.get("Content-Length")
        body = UpstreamBody(upstream, int(length) if length and length.isdigit() else None)
        copied = _copied(upstream.headers, url)
        if not body.known:
            copied["Transfer-Encoding"] = "chunked"
        return Response(200, body, upstream.headers.get("Content-Type"), copied)


def _copied(upstream_headers, url: str) -> dict:
    """The upstream headers UriDownloader copies, and the Content-Disposition it adds when there is none."""
    headers = {name: upstream_headers[name] for name in COPIED if upstream_headers.get(name)}
    if "Content-Disposition" not in headers:
        name = unquote(urlsplit(url).path).rsplit("/", 1)[-1]
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return headers
