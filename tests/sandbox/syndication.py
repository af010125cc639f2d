"""An NCTS / HL7 "Terminology Syndication Feed" over generated archives: the feed at /syndication/feed.xml (also
/syndication/feed, the path Snowstorm asks for) and its files under /syndication/files/.

The feed follows the NCTS Atom Syndication Format profile 1.0.0 with SNOMED's `sct:` extension: Atom as the default
namespace, `ncts:atomSyndicationFormatProfile`, per entry one category in the NCTS scheme, one `alternate` link with
`length` and `ncts:sha256Hash` (lower-case hex), `ncts:contentItemIdentifier`, `ncts:contentItemVersion` and, for
extensions, `sct:packageDependency`. The same entries always give the same bytes (no clock in it), unlike MLDS's.
"""

import dataclasses
import email.utils
import threading
import uuid
import zlib
from dataclasses import dataclass
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from .archives import BLOCK, ArchiveSpec
from .feeds import (ATOM_NS, ATOM_TYPE, CATEGORY_LABELS, NCTS_NS, PROFILE, SCHEME, SCT_NS, apply_link_fault,
                    document_body, feed_response)
from .web import BytesBody, Endpoint, HttpError, Response, json_response

PREFIX = "/syndication"
FEED_PATHS = (PREFIX + "/feed.xml", PREFIX + "/feed")
FILES = PREFIX + "/files/"
CONTROL = "/_sandbox/syndication"
KINDS = ("syndication_feed", "syndication_file")
FEED_ID = "urn:uuid:0b6f4f3e-5d55-4c8e-9a57-5a9d2f1c7e01"
FEED_TITLE = "Terminology releases sandbox syndication feed"
EMPTY_UPDATED = "2025-01-01T00:00:00Z"  # the feed's <updated> when it has no entries
LAST_MODIFIED = email.utils.formatdate(1735689600, usegmt=True)  # every file's Last-Modified (2025-01-01)
ENTRY_OPTIONS = {"identifier", "version", "title", "size", "seed", "file_name", "category", "dependencies",
                 "derivative_dependencies", "kind", "summary", "published", "updated", "sha256", "length",
                 "link_type", "author"}


@dataclass
class FeedEntry:  # pylint: disable=too-many-instance-attributes
    """One content item version and the generated archive its link points at."""

    number: int  # 1, 2, ...: fault rules' and the log's `item` for this entry's file
    identifier: str
    version: str
    title: str
    file_name: str
    size: int = BLOCK
    seed: int = 0
    kind: str = "zip"
    category: str = "SCT_RF2_ALL"
    dependencies: tuple = ()  # versioned URIs, as sct:editionDependency
    derivative_dependencies: tuple = ()  # as sct:derivativeDependency
    summary: str | None = None
    published: str | None = None  # YYYY-MM-DD; default from a .../version/YYYYMMDD version, else 2025-01-01
    updated: str | None = None  # RFC 3339; default the published day at 07:01:30Z
    sha256: str | None = None  # advertise this instead of the real hash
    length: int | None = None  # advertise this instead of the real size
    link_type: str = "application/zip"
    author: str = "Terminology releases sandbox"

    def __post_init__(self):
        self.seed = self.seed or zlib.crc32(self.file_name.encode())
        self.dependencies, self.derivative_dependencies = tuple(self.dependencies), tuple(self.derivative_dependencies)
        if self.published is None:
            tail = self.version.rsplit("/", 1)[-1]
            self.published = f"{tail[:4]}-{tail[4:6]}-{tail[6:]}" if len(tail) == 8 and tail.isdigit() else "2025-01-01"
        self.updated = self.updated or f"{self.published}T07:01:30Z"

    @property
    def spec(self) -> ArchiveSpec:
        """How to generate the file; the folder inside the zip never carries path parts, even for a hostile name."""
        stem = self.file_name.replace("\\", "/").rsplit("/", 1)[-1]
        stem = (stem[:-4] if stem.lower().endswith(".zip") else stem).strip(".") or "release"
        return ArchiveSpec(self.kind, self.size, self.seed, stem)

    @property
    def entry_id(self) -> str:
        """Stable per content item version."""
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, self.version)}"


def _entry(number, identifier, version, title, file_name, size, **extra) -> FeedEntry:
    return FeedEntry(number, identifier, version, title, file_name, size, **extra)


INTERNATIONAL, UK_CLINICAL = "http://snomed.info/sct/900000000000207008", "http://snomed.info/sct/83821000000107"
UK_DRUG = "http://snomed.info/sct/999000011000001104"


def default_entries() -> list[FeedEntry]:
    """The default feed documented in README.md."""
    return [
        _entry(1, INTERNATIONAL, INTERNATIONAL + "/version/20250101", "SNOMED CT International Edition-20250101",
               "SnomedCT_InternationalRF2_PRODUCTION_20250101T120000Z.zip", 2 * BLOCK + 4099,
               summary="January 2025 International Edition"),
        _entry(2, UK_CLINICAL, UK_CLINICAL + "/version/20250903", "SNOMED CT UK Clinical Edition-40.3.0",
               "uk_sct2cl_40.3.0_20250903000001Z.zip", 2_000_029, summary="UK Clinical Edition 40.3.0"),
        _entry(3, UK_CLINICAL, UK_CLINICAL + "/version/20251001", "SNOMED CT UK Clinical Edition-40.4.0",
               "uk_sct2cl_40.4.0_20251001000001Z.zip", 3_000_017, summary="UK Clinical Edition 40.4.0"),
        _entry(4, UK_DRUG, UK_DRUG + "/version/20251001", "SNOMED CT UK Drug Extension-41.0.0",
               "uk_sct2dr_41.0.0_20251001000001Z.zip", BLOCK + 7, category="SCT_RF2_SNAPSHOT",
               summary="UK Drug Extension 41.0.0", dependencies=(UK_CLINICAL + "/version/20251001",)),
    ]


class SyndicationService:
    """Registers the feed, its files and the /_sandbox/syndication control routes."""

    kinds = KINDS

    def __init__(self, archives):
        self.archives = archives
        self._lock = threading.Lock()
        self.entries: list[FeedEntry] = []
        self.reset()

    def register(self, router):
        """Mount the feed, the files and the control routes."""
        for path in FEED_PATHS:
            router.add("GET", path, self.feed)
        router.add("GET", FILES + "{name}", self.file)
        router.add("POST", CONTROL + "/reset", lambda req: self._done(self.reset), control=True)
        router.add("GET", CONTROL + "/entries", self.control_list, control=True)
        router.add("POST", CONTROL + "/entries", self.control_add, control=True)
        router.add("PUT", CONTROL + "/entries", self.control_replace, control=True)

    def reset(self):
        """Back to the default entries."""
        with self._lock:
            self.entries = default_entries()

    def info(self, url: str, https_url: str | None) -> dict:
        """The `syndication` part of the info JSON."""
        return {"syndication": {"feed_url": url + FEED_PATHS[0],
                                "https_feed_url": https_url + FEED_PATHS[0] if https_url else None}}

    def _snapshot(self) -> list[FeedEntry]:
        with self._lock:
            return list(self.entries)

    # --- the feed --------------------------------------------------------------------------------

    def link(self, entry: FeedEntry, base_url: str) -> dict:
        """The entry's link as the feed shows it (advertised values win over the real ones)."""
        real = self.archives.digests(entry.spec)
        return {"rel": "alternate", "type": entry.link_type, "href": base_url + FILES + quote(entry.file_name, safe=""),
                "name": entry.file_name, "length": str(real.size if entry.length is None else entry.length),
                "sha256": real.sha256.lower() if entry.sha256 is None else entry.sha256}

    @staticmethod
    def _entry_xml(entry: FeedEntry, link: dict) -> str:
        label = CATEGORY_LABELS.get(entry.category, entry.category)
        out = ["  <entry>", f"    <id>{entry.entry_id}</id>", f"    <title>{escape(entry.title)}</title>"]
        if entry.summary is not None:
            out.append(f"    <summary>{escape(entry.summary)}</summary>")
        out += [f"    <author><name>{escape(entry.author)}</name></author>",
                f"    <published>{escape(entry.published)}T00:00:00Z</published>", f"    <updated>{escape(entry.updated)}</updated>",
                f"    <category term={quoteattr(entry.category)} label={quoteattr(label)} scheme=\"{SCHEME}\"/>",
                f"    <link rel=\"alternate\" type={quoteattr(link['type'])} href={quoteattr(link['href'])}"
                f" length={quoteattr(link['length'])} ncts:sha256Hash={quoteattr(link['sha256'])}/>",
                f"    <ncts:contentItemIdentifier>{escape(entry.identifier)}</ncts:contentItemIdentifier>",
                f"    <ncts:contentItemVersion>{escape(entry.version)}</ncts:contentItemVersion>"]
        if entry.dependencies or entry.derivative_dependencies:
            out.append("    <sct:packageDependency>")
            out += [f"      <sct:editionDependency>{escape(uri)}</sct:editionDependency>" for uri in entry.dependencies]
            out += [f"      <sct:derivativeDependency>{escape(uri)}</sct:derivativeDependency>"
                    for uri in entry.derivative_dependencies]
            out.append("    </sct:packageDependency>")
        out.append("  </entry>")
        return "\n".join(out) + "\n"

    def render(self, base_url: str, rule=None) -> bytes:
        """The feed document (link faults applied; document faults are applied by the caller)."""
        entries = self._snapshot()
        links = [{**self.link(entry, base_url), "version": entry.version} for entry in entries]
        faulted = [{"version": link["version"], "links": [link]} for link in links]
        apply_link_fault(faulted, rule, "sha256")
        updated = max((entry.updated for entry in entries), default=EMPTY_UPDATED)
        head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<feed xmlns="{ATOM_NS}" xmlns:ncts="{NCTS_NS}" xmlns:sct="{SCT_NS}">\n'
                f"  <id>{FEED_ID}</id>\n  <title>{FEED_TITLE}</title>\n  <updated>{updated}</updated>\n"
                "  <generator>terminology.releases sandbox</generator>\n"
                f'  <link rel="self" type="{ATOM_TYPE}" href={quoteattr(base_url + FEED_PATHS[0])}/>\n'
                f"  <ncts:atomSyndicationFormatProfile>{PROFILE}</ncts:atomSyndicationFormatProfile>\n")
        body = "".join(self._entry_xml(entry, link) for entry, link in zip(entries, links))
        return (head + body + "</feed>\n").encode("utf-8")

    def feed(self, req) -> Endpoint:
        """GET the feed (no authentication, never gzipped: a static file host)."""
        def respond(fault=None) -> Response:
            return feed_response(req, document_body(self.render(req.base_url, fault), fault), gzip_ok=False)
        return Endpoint("syndication_feed", None, respond)

    def file(self, req) -> Endpoint:
        """GET a file by its (percent-decoded) name; a name with directory parts also finds the file by its last
        part, so a client that follows a hostile link gets bytes and the test sees where it put them."""
        name = req.params["name"]
        entries = self._snapshot()
        found = next((entry for entry in entries if entry.file_name == name), None)
        if found is None:
            base = name.replace("\\", "/").rsplit("/", 1)[-1]
            found = next((entry for entry in entries if entry.file_name.replace("\\", "/").rsplit("/", 1)[-1] == base), None)

        def respond(fault=None) -> Response:  # pylint: disable=unused-argument
            if found is None:
                return Response(404, BytesBody(b"Not Found\n"), "text/plain")
            headers = {"Content-Disposition": f'attachment; filename="{quote(found.file_name, safe="")}"',
                       "Last-Modified": LAST_MODIFIED}
            content_type = "application/zip" if found.kind != "raw" else "application/octet-stream"
            return Response(200, self.archives.body(found.spec), content_type, headers, ranges=True)

        return Endpoint("syndication_file", found.number if found else None, respond,
                        {"feed_entry": found.version if found else None})

    # --- control ---------------------------------------------------------------------------------

    @staticmethod
    def _done(action) -> Response:
        action()
        return json_response({"ok": True})

    def describe(self, entry: FeedEntry, base_url: str) -> dict:
        """An entry as the control API answers it: its options, its link as the feed shows it, and the file's truth."""
        real = self.archives.digests(entry.spec)
        link = self.link(entry, base_url)
        doc = dataclasses.asdict(entry)
        doc.update(dependencies=list(entry.dependencies), derivative_dependencies=list(entry.derivative_dependencies),
                   href=link["href"], length=int(link["length"]) if link["length"].isdigit() else link["length"],
                   sha256=link["sha256"], file_length=real.size, file_sha256=real.sha256.lower())
        return doc

    def control_list(self, req) -> Response:
        """GET /_sandbox/syndication/entries."""
        return json_response({"entries": [self.describe(entry, req.base_url) for entry in self._snapshot()]})

    def _new_entry(self, options: dict, number: int) -> FeedEntry:
        if not isinstance(options, dict):
            raise HttpError(400, "an entry must be an object")
        unknown = set(options) - ENTRY_OPTIONS
        missing = {"identifier", "version"} - set(options)
        if unknown or missing:
            raise HttpError(400, f"unknown entry keys {sorted(unknown)}, missing {sorted(missing)}; "
                                 f"known: {sorted(ENTRY_OPTIONS)}")
        given = {key: value for key, value in options.items() if value is not None}
        given.setdefault("title", given["version"])
        given.setdefault("file_name", f"entry{number}_{given['version'].rsplit('/', 1)[-1]}.zip")
        for key in ("size", "seed", "length"):
            if key in given:
                given[key] = int(given[key])
        for key in ("dependencies", "derivative_dependencies"):
            given[key] = tuple(str(uri) for uri in given.get(key, ()))
        entry = FeedEntry(number, **given)
        try:
            entry.spec.validate()
        except ValueError as exc:
            raise HttpError(400, str(exc)) from exc
        return entry

    def control_add(self, req) -> Response:
        """POST /_sandbox/syndication/entries {entry}: appended (a repeated version is kept: readers must cope)."""
        with self._lock:
            entry = self._new_entry(req.json(), max((e.number for e in self.entries), default=0) + 1)
            self.entries.append(entry)
        return json_response(self.describe(entry, req.base_url))

    def control_replace(self, req) -> Response:
        """PUT /_sandbox/syndication/entries {"entries": [...]}: the feed holds exactly these (all or nothing)."""
        given = req.json().get("entries")
        if not isinstance(given, list):
            raise HttpError(400, 'body must be {"entries": [entry, ...]}')
        entries = [self._new_entry(options, number) for number, options in enumerate(given, 1)]
        with self._lock:
            self.entries = entries
        return json_response({"entries": [self.describe(entry, req.base_url) for entry in entries]})
