"""What the two syndication feeds (the NCTS feed of syndication.py and MLDS's /api/feed of mlds_feed.py) share:
namespaces, the NCTS category labels, Accept and gzip handling, and the feed content faults.

A feed is rendered from entries given as plain dicts, so the link faults can change them before rendering:
`{"version": contentItemVersion, "links": [{"href", "name", "length", "sha256", "md5", ...}], ...}` where
`name` is the file name the link stands for and `length`/`sha256`/`md5` are strings or None.
"""

from urllib.parse import quote

from .faults import HOSTILE_NAMES, PaddedBody, gzipped, with_doctype
from .web import Body, BytesBody, Response

ATOM_TYPE = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
NCTS_NS = "http://ns.electronichealth.net.au/ncts/syndication/asf/extensions/1.0.0"
SCT_NS = "http://snomed.info/syndication/sct-extension/1.0.0"
PROFILE = "http://ns.electronichealth.net.au/ncts/syndication/asf/profile/1.0.0"
SCHEME = "http://ns.electronichealth.net.au/ncts/syndication/asf/scheme/1.0.0"
CATEGORY_LABELS = {  # the NCTS content types the sandbox knows (MLDS emits only the first three and OTHER)
    "SCT_RF2_SNAPSHOT": "SNOMED CT RF2 Snapshot",
    "SCT_RF2_FULL": "SNOMED CT RF2 Full",
    "SCT_RF2_ALL": "SNOMED CT RF2 All",
    "SCT_RF2_DELTA": "SNOMED CT RF2 Delta",
    "FHIR_Bundle": "FHIR Bundle",
    "FHIR_Package": "FHIR Package",
    "LOINC": "LOINC",
    "BINARY_RETRACT": "Binary Retract",
}


def accepts_atom(accept: str | None) -> bool:
    """Spring's `produces` check: no Accept header, or one media range compatible with application/atom+xml."""
    if not accept or not accept.strip():
        return True
    for media_range in accept.split(","):
        kind = media_range.split(";", 1)[0].strip().lower()
        if kind in ("*/*", "*", "application/*", "application/*+xml", ATOM_TYPE):
            return True
    return False


def _flip(hex_value: str) -> str:
    """One hex digit changed, same length and case."""
    first = hex_value[:1]
    other = {"0": "1"}.get(first.lower(), "0")
    return other + hex_value[1:]


def apply_link_fault(entries: list[dict], rule, hash_key: str):
    """wrong_hash / wrong_length / hostile_link: change the download link (the first `alternate` one, else the first)
    of the entries the rule names (param `entry`: a contentItemVersion; default every entry). The files stay right."""
    if rule is None or rule.type not in ("wrong_hash", "wrong_length", "hostile_link"):
        return
    wanted = rule.params.get("entry")
    for entry in entries:
        if (wanted is not None and entry["version"] != wanted) or not entry["links"]:
            continue
        link = next((link for link in entry["links"] if link.get("rel") == "alternate"), entry["links"][0])
        if rule.type == "wrong_hash" and link.get(hash_key):
            link[hash_key] = _flip(link[hash_key])
        elif rule.type == "wrong_length" and str(link.get("length") or "").isdigit():
            link["length"] = str(max(0, int(link["length"]) + rule.params["delta"]))
        elif rule.type == "hostile_link":
            hostile = HOSTILE_NAMES[rule.params["style"]].format(link["name"])
            link["href"] = link["href"].rsplit("/", 1)[0] + "/" + quote(hostile, safe="")


def document_body(xml: bytes, rule) -> Body:
    """The feed document, or the DTD payload / oversized padding a document fault asks for."""
    if rule and rule.type in ("xml_entities", "xml_external_entity"):
        style = "entities" if rule.type == "xml_entities" else "external_entity"
        return BytesBody(with_doctype(xml, "feed", style, b"</title>"))
    if rule and rule.type == "oversized_feed":
        end = xml.rindex(b"</feed>")
        return PaddedBody(xml[:end], xml[end:], rule.params["bytes"])
    return BytesBody(xml)


def feed_response(req, body: Body, gzip_ok: bool) -> Response:
    """An Atom document; gzipped when allowed and asked for (MLDS's GZipServletFilter on /api/*)."""
    headers = {}
    if gzip_ok and "gzip" in (req.headers.get("Accept-Encoding") or "").lower():
        body, headers = gzipped(body), {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return Response(200, body, ATOM_TYPE, headers)
