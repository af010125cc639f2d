"""Fault rules: tests queue them through the control API, requests consume them in order."""

import json
import threading
import zlib
from dataclasses import dataclass, field
from http import HTTPStatus

from .web import Body, BytesBody, Response

# Faults the HTTP layer applies itself, whatever the service.
STATUS_TYPES = ("status", "html_error", "oversized_json")
TRANSPORT_TYPES = ("drop_after", "stall", "corrupt_byte", "ignore_range")
# The two syndication feed documents: the sandbox's NCTS feed and MLDS's /api/feed.
FEED_KINDS = ("syndication_feed", "mlds_feed")
# Faults that change content; only the kinds named here serve them (the first is the default).
CONTENT_TYPES = {
    "wrong_key_signature": ("signature",),
    "tamper_checksum": ("checksum",),
    "malformed_json": ("listing",),
    "wrong_public_key": ("public_key",),
    "wrong_hash": FEED_KINDS,
    "wrong_length": FEED_KINDS,
    "hostile_link": FEED_KINDS,
    "xml_entities": FEED_KINDS,
    "xml_external_entity": FEED_KINDS,
    "oversized_feed": FEED_KINDS,
}
TYPES = STATUS_TYPES + TRANSPORT_TYPES + tuple(CONTENT_TYPES)
HOSTILE_NAMES = {"traversal": "../{}", "absolute": "/tmp/{}", "backslash": "..\\{}"}  # hostile_link styles

HTML_ERROR_PAGE = (
    "<html><body><h1>Service Unavailable</h1>"
    "<p>The server is temporarily unable to service your request. Please try again later.</p>"
    "</body></html>\n"
)


OVERSIZED_JSON_BYTES = 80 * 1024 * 1024
OVERSIZED_FEED_BYTES = 17 * 1024 * 1024  # just over the 16 MiB a feed reader should accept

# DTD payloads for XML documents: an entity-expansion bomb (&h; is 10**8 characters), or an external entity
# reading a local file. A parser that honours either is the vulnerability.
ENTITY_DECLARATIONS = {
    "entities": '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
                '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
                '<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">',
    "external_entity": '<!ENTITY h SYSTEM "file:///etc/passwd">',
}


def with_doctype(xml: bytes, root: str, style: str, anchor: bytes, newline: bytes = b"\n") -> bytes:
    """`xml` with a DOCTYPE declaring the `style` entities after its XML declaration, and `&h;` put before the
    first `anchor` (a closing tag), so that parsing the document expands the entity."""
    end = xml.index(b"?>") + 2
    doctype = f"<!DOCTYPE {root} [{ENTITY_DECLARATIONS[style]}]>".encode()
    return xml[:end] + newline + doctype + xml[end:].replace(anchor, b"&h;" + anchor, 1)


class PaddedBody(Body):  # pylint: disable=too-few-public-methods
    """`head`, then spaces, then `tail`: a valid document of `size` bytes, generated as it is sent (never held in
    memory)."""

    def __init__(self, head: bytes, tail: bytes, size: int):
        self.head, self.tail = head, tail
        self.size = max(size, len(head) + len(tail))
        self._spaces = b" " * (1 << 20)

    def chunks(self, start, end):
        padding_end = self.size - len(self.tail)
        position = start
        while position < end:
            if position < len(self.head):
                piece = self.head[position:min(end, len(self.head))]
            elif position < padding_end:
                piece = self._spaces[:min(end, padding_end, position + len(self._spaces)) - position]
            else:
                piece = self.tail[position - padding_end:end - padding_end]
            yield piece
            position += len(piece)


def padded_json(size: int) -> PaddedBody:
    """A valid JSON document of `size` bytes, mostly whitespace."""
    return PaddedBody(b'{"releases": [', b"]}", size)


def gzipped(body: Body) -> BytesBody:
    """The body gzip-compressed piece by piece (a padded 17 MiB feed never sits in memory uncompressed)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip framing, mtime 0
    parts = [compressor.compress(bytes(chunk)) for chunk in body.chunks(0, body.size)]
    return BytesBody(b"".join(parts) + compressor.flush())


class FaultError(ValueError):
    """A rule that cannot be accepted."""


@dataclass
class Rule:
    """One queued fault: what it matches, how often, and its type-specific parameters."""

    type: str
    kind: str = "any"
    item: int | None = None
    method: str | None = None
    times: int = 1
    params: dict = field(default_factory=dict)

    def matches(self, kind: str, item: int | None, method: str) -> bool:
        """Whether this rule applies to a request of that kind, item and method."""
        return (
            self.times != 0
            and self.kind in ("any", kind)
            and (self.type not in CONTENT_TYPES or kind in CONTENT_TYPES[self.type])
            and (self.item is None or self.item == item)
            and (self.method is None or self.method == method)
        )

    def to_json(self) -> dict:
        """The rule as the control API shows it (remaining `times`)."""
        return {"type": self.type, "kind": self.kind, "item": self.item, "method": self.method,
                "times": self.times, **self.params}


def _number(params: dict, name: str, default=None, cast=int, minimum=0):
    value = params.get(name, default)
    if value is None:
        raise FaultError(f"fault parameter {name!r} is required")
    try:
        value = cast(value)
    except (TypeError, ValueError) as exc:
        raise FaultError(f"fault parameter {name!r} must be a number") from exc
    if value < minimum:
        raise FaultError(f"fault parameter {name!r} must be >= {minimum}")
    return value


def _check_params(kind_of: str, params: dict) -> dict:
    """Validate and normalise the type-specific parameters."""
    checks = {
        "status": lambda p: {**p, "status": _number(p, "status", minimum=100)},
        "html_error": lambda p: {**p, "status": _number(p, "status", 200, minimum=100)},
        "oversized_json": lambda p: {**p, "status": _number(p, "status", 200, minimum=100),
                                     "bytes": _number(p, "bytes", OVERSIZED_JSON_BYTES, minimum=16)},
        "drop_after": lambda p: {**p, "bytes": _number(p, "bytes")},
        "stall": lambda p: {**p, "seconds": _number(p, "seconds", cast=float),
                            "after_bytes": _number(p, "after_bytes", 0)},
        "corrupt_byte": lambda p: {**p, "offset": _number(p, "offset")},
        "wrong_length": lambda p: {**p, "delta": _number(p, "delta", 1, minimum=-(1 << 62))},
        "oversized_feed": lambda p: {**p, "bytes": _number(p, "bytes", OVERSIZED_FEED_BYTES, minimum=16)},
        "hostile_link": _hostile_style,
    }
    params = checks.get(kind_of, dict)(params)
    if "retry_after" in params:
        params["retry_after"] = _number(params, "retry_after")
    if not isinstance(params.get("headers", {}), dict):
        raise FaultError("fault parameter 'headers' must be an object")
    return params


def _hostile_style(params: dict) -> dict:
    style = params.get("style", "traversal")
    if style not in HOSTILE_NAMES:
        raise FaultError(f"fault parameter 'style' must be one of {', '.join(HOSTILE_NAMES)}")
    return {**params, "style": style}


def parse_rule(raw: dict, kinds) -> Rule:
    """Build a Rule from its JSON form; `kinds` are the request kinds the services know."""
    if not isinstance(raw, dict):
        raise FaultError("a fault rule must be an object")
    raw = dict(raw)
    type_ = raw.pop("type", None)
    if type_ not in TYPES:
        raise FaultError(f"unknown fault type {type_!r}; known: {', '.join(TYPES)}")
    served_by = CONTENT_TYPES.get(type_, ("any",))
    kind = raw.pop("kind", None) or (served_by[0] if len(served_by) == 1 else "any")  # "any": each kind it serves
    if kind != "any" and kind not in kinds:
        raise FaultError(f"unknown kind {kind!r}; known: any, {', '.join(sorted(kinds))}")
    if type_ in CONTENT_TYPES and kind not in ("any",) + CONTENT_TYPES[type_]:
        raise FaultError(f"fault {type_!r} only applies to kind {' or '.join(map(repr, CONTENT_TYPES[type_]))}")
    item = raw.pop("item", None)
    method = raw.pop("method", None)
    times = raw.pop("times", 1)
    try:
        item = None if item is None else int(item)
        times = int(times)
    except (TypeError, ValueError) as exc:
        raise FaultError("'item' and 'times' must be integers") from exc
    if times == 0 or times < -1:
        raise FaultError("'times' must be a positive count or -1 (forever)")
    return Rule(type_, kind, item, method.upper() if method else None, times, _check_params(type_, raw))


class FaultBook:
    """Thread-safe ordered list of pending rules."""

    def __init__(self):
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self.kinds: set[str] = set()

    def add(self, raw_rules) -> list[Rule]:
        """Validate all rules, then append them in order."""
        rules = [parse_rule(raw, self.kinds) for raw in raw_rules]  # all or nothing
        with self._lock:
            self._rules.extend(rules)
        return rules

    def clear(self):
        """Forget all pending rules."""
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[dict]:
        """Rules not yet used up, in order."""
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def take(self, kind: str, item: int | None, method: str) -> Rule | None:
        """Consume one use of the first rule matching this request."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(kind, item, method):
                    if rule.times > 0:
                        rule.times -= 1
                    if rule.times == 0:
                        self._rules.remove(rule)
                    return rule
        return None


def status_response(rule: Rule) -> Response:
    """The response a `status` or `html_error` rule puts in place of the real one."""
    params = rule.params
    status = params["status"]
    headers = {str(name): str(value) for name, value in params.get("headers", {}).items()}
    if "retry_after" in params:
        headers["Retry-After"] = str(params["retry_after"])
    if rule.type == "html_error":
        return Response(status, BytesBody(HTML_ERROR_PAGE.encode()), "text/html; charset=utf-8", headers)
    if rule.type == "oversized_json":
        return Response(status, padded_json(params["bytes"]), "application/json", headers)
    if "body" in params:
        body = str(params["body"]).encode()
        content_type = params.get("content_type", "text/plain; charset=utf-8")
    else:
        try:
            phrase = HTTPStatus(status).phrase.upper()
        except ValueError:
            phrase = "ERROR"
        body = json.dumps({"httpStatus": status, "message": phrase}).encode()
        content_type = params.get("content_type", "application/json")
    return Response(status, BytesBody(body), content_type, headers)
