"""Small HTTP building blocks shared by the sandbox services (TRUD now, MLDS later).

Nothing here knows about sockets: the server turns a routed `Endpoint` into bytes on the wire.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping
from urllib.parse import parse_qs, unquote, urlsplit


class Body:  # pylint: disable=too-few-public-methods
    """A response body of known size that can be produced from any offset (for Range)."""

    size = 0

    def chunks(self, start: int, end: int) -> Iterator[bytes | memoryview]:
        """Yield consecutive pieces covering [start, end).

        A yielded memoryview may be reused by the next iteration: consume it before asking for more.
        """
        raise NotImplementedError


class BytesBody(Body):  # pylint: disable=too-few-public-methods
    """A body held in memory."""

    def __init__(self, data: bytes = b""):
        self.data = bytes(data)
        self.size = len(self.data)

    def chunks(self, start, end):
        if start < end:
            yield memoryview(self.data)[start:end]


@dataclass
class Response:
    """What a route answers. `ranges` marks a download: Accept-Ranges, Range and Content-Range apply."""

    status: int = 200
    body: Body = field(default_factory=BytesBody)
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)
    ranges: bool = False


@dataclass
class Endpoint:
    """A resolved service request: `kind` and `item` select fault rules and label the log.

    `respond` builds the response; it receives the fault rule taken for this request (or None) so that
    content faults (wrong signature, tampered checksum, truncated JSON) can be applied by the service.
    `log_extra` is merged into the request's log entry (e.g. MLDS's auth_user, mlds_reason).
    """

    kind: str | None
    item: int | None
    respond: Callable[..., Response]
    log_extra: dict = field(default_factory=dict)


@dataclass
class Request:
    """An incoming request, reduced to what routes need."""

    method: str
    target: str  # raw request target: path and query, still percent-encoded
    headers: Mapping  # the server passes http.client.HTTPMessage: look-ups ignore case
    scheme: str
    host: str
    body: bytes = b""
    params: dict = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The path part of the target, still percent-encoded."""
        return urlsplit(self.target).path

    @property
    def query(self) -> dict:
        """Query parameters; a bare `?latest` gives {'latest': ['']}."""
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    @property
    def base_url(self) -> str:
        """Scheme and authority the client used, so URLs we hand out lead back to the same listener."""
        return f"{self.scheme}://{self.host}"

    def json(self):
        """The request body parsed as JSON; an empty body is an empty object."""
        if not self.body.strip():
            return {}
        return json.loads(self.body)


class HttpError(Exception):
    """Raised by control routes to answer with an error status and message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


_PLACEHOLDER = re.compile(r"\{(\w+)(?::([^}]+))?\}")


def _compile(pattern: str) -> re.Pattern:
    """`/items/{item}/x` or `/c/{rest:.+}` -> anchored regex with named groups (matched on the raw path)."""
    parts, pos = [], 0
    for match in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(pattern[pos:match.start()]))
        parts.append(f"(?P<{match.group(1)}>{match.group(2) or '[^/]+'})")
        pos = match.end()
    parts.append(re.escape(pattern[pos:]))
    return re.compile("^" + "".join(parts) + "$")


@dataclass
class Route:
    """A registered route."""

    pattern: str
    methods: frozenset
    regex: re.Pattern
    handler: Callable
    control: bool


class Router:
    """Maps (method, path) to a handler. Services register their routes on one shared router.

    Handlers of service routes return an `Endpoint`; control routes (`control=True`) return a
    `Response` directly and are neither logged nor subject to faults. Plain `{name}` parameters
    are percent-decoded; a `{name:regex}` parameter is passed raw, so a catch-all over several
    segments can tell `/` from `%2F`.
    """

    def __init__(self):
        self.routes: list[Route] = []

    def add(self, methods, pattern: str, handler: Callable, control: bool = False):
        """Register `handler` for `methods` (GET implies HEAD) on `pattern`."""
        methods = frozenset(m.upper() for m in ([methods] if isinstance(methods, str) else methods))
        if "GET" in methods:
            methods |= {"HEAD"}
        self.routes.append(Route(pattern, methods, _compile(pattern), handler, control))

    def match(self, method: str, path: str):
        """Return (route, params), or (None, status) with 404 or 405."""
        allowed = False
        for route in self.routes:
            found = route.regex.match(path)
            if not found:
                continue
            if method in route.methods:
                raw = {name for name, regex in _PLACEHOLDER.findall(route.pattern) if regex}
                return route, {k: v if k in raw else unquote(v) for k, v in found.groupdict().items()}
            allowed = True
        return None, (405 if allowed else 404)


def parse_range(header: str | None, size: int):  # pylint: disable=too-many-return-statements
    """Parse a single-range `Range` header.

    Returns (start, end_exclusive), the string "unsatisfiable", or None when the header is absent,
    malformed or asks for several ranges (all of which RFC 9110 lets a server ignore).
    """
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # suffix range: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    end = min(size, int(last) + 1) if last else size
    return start, end


def json_response(obj, status: int = 200) -> Response:
    """Compact JSON for the control API."""
    return Response(status, BytesBody(json.dumps(obj).encode() + b"\n"))
