"""The TRUD side of the sandbox: catalogue, release-list and download routes, FCIV checksum files.

Shapes follow real TRUD responses (docsite: guide_trud.rst): Jackson-formatted JSON, `apiVersion` "1", key in every
URL (and in the 404 message), upper-case SHA-256, `.xml.asc` signature URL named `.sig`, old
`content/{PACK}/{VER}/{SUBPACK}/` URLs for old releases, every download error a 404.
"""

import base64
import calendar
import dataclasses
import datetime
import email.utils
import json
import threading
import time
import zlib
from dataclasses import dataclass
from urllib.parse import quote, unquote

from .archives import BLOCK, ArchiveSpec
from .faults import with_doctype
from .pki import PUBLIC_KEY_FILE_NAME
from .web import BytesBody, Endpoint, HttpError, Response, json_response

API_PREFIX = "/trud/api/v1"
DOWNLOAD_PREFIX = "/download/api/v1"
KINDS = ("listing", "archive", "checksum", "signature", "public_key")
PUBLIC_KEY_ID = 6
LARGE_ITEM, LARGE_DEFAULT_SIZE = 1799, 64 * BLOCK

# How each item names its archives (from real examples); `date` is YYYYMMDD.
NAME_PATTERNS = {
    101: "uk_sct2cl_{version}_{date}000001Z.zip",
    341: "hscorgrefdataxml_data_{version}_{date}000001.zip",
    24: "nhsbsa_dmd_{version}_{date}000001.zip",
    1799: "uk_sct2mo_{version}_{date}000001Z.zip",
    900: "zipslip_{version}_{date}000001.zip",
    901: "zipbomb_{version}_{date}000001.zip",
}


def jackson_dumps(value, level: int = 0) -> str:
    """JSON as TRUD's Jackson pretty printer writes it: `"key" : value`, `[ {` ... `}, {` ... `} ]`."""
    if isinstance(value, dict):
        if not value:
            return "{ }"
        pad = "  " * (level + 1)
        members = [f"{pad}{json.dumps(key, ensure_ascii=False)} : {jackson_dumps(item, level + 1)}" for key, item in value.items()]
        return "{\n" + ",\n".join(members) + "\n" + "  " * level + "}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(jackson_dumps(item, level) for item in value) + " ]"
    return json.dumps(value, ensure_ascii=False)


def _epoch(timestamp: str) -> float:
    return calendar.timegm(time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S"))


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


@dataclass
class Release:  # pylint: disable=too-many-instance-attributes
    """One release of an item, and how its files are generated and advertised."""

    item: int
    version: str
    release_date: str
    archive_file_name: str
    id: str
    name: str
    kind: str = "zip"
    size: int = BLOCK
    seed: int = 0
    url_dir: tuple = ()  # path under content/; default items/{item}
    sha256: str | None = None  # None: the real hash; "omit": no field (pre-2024 responses); else advertised as given
    size_bytes: int | None = None  # advertise this size instead of the real one
    last_modified: str | None = None  # archive timestamp; default release day 07:01:30Z
    checksum_style: str = "fciv"  # or a hostile one from CHECKSUM_STYLES, signed by the trusted key all the same

    def __post_init__(self):
        self.url_dir = tuple(self.url_dir) or ("items", str(self.item))
        self.seed = self.seed or zlib.crc32(f"{self.item}/{self.archive_file_name}".encode())

    @property
    def stem(self) -> str:
        """The archive name without `.zip`; checksum and signature names derive from it."""
        name = self.archive_file_name
        return name[:-4] if name.lower().endswith(".zip") else name

    @property
    def spec(self) -> ArchiveSpec:
        """How to generate the archive bytes."""
        # The folder inside the zip never carries path parts, even when the advertised name is hostile.
        folder = self.stem.replace("\\", "/").rsplit("/", 1)[-1].strip(".") or "release"
        return ArchiveSpec(self.kind, self.size, self.seed, folder)

    @property
    def checksum_file_name(self) -> str:
        """`trud_<stem>.xml`."""
        return f"trud_{self.stem}.xml"

    @property
    def signature_url_name(self) -> str:
        """The file name in `signatureFileUrl`."""
        return f"trud_{self.stem}.xml.asc"

    @property
    def signature_file_name(self) -> str:
        """The `signatureFileName` field."""
        return f"trud_{self.stem}.sig"  # what TRUD calls it, though it serves `.xml.asc`

    @property
    def archive_timestamp(self) -> str:
        """`archiveFileLastModifiedTimestamp` (also used for the checksum file)."""
        return self.last_modified or f"{self.release_date}T07:01:30.000Z"

    @property
    def signature_timestamp(self) -> str:
        """One second after the archive timestamp; also the signature's date."""
        return _iso(_epoch(self.archive_timestamp) + 1)


def _release(item, version, date, size, **extra) -> Release:
    """A default-catalogue release named the way its item names them."""
    compact = date.replace("-", "")
    name_date = extra.pop("name_date", compact)
    archive = extra.pop("archive_file_name", None) or NAME_PATTERNS.get(item, "item{item}_{version}_{date}000001.zip").format(
        item=item, version=version, date=name_date)
    return Release(item=item, version=version, release_date=date, archive_file_name=archive,
                   id=extra.pop("id", archive), name=extra.pop("name", f"Release {version}"), size=size, **extra)


def default_catalogue() -> dict[int, list[Release]]:
    """The catalogue documented in README.md; releases newest first."""
    return {
        101: [
            _release(101, "40.4.0", "2025-10-08", 3_000_017, name_date="20251001"),  # name date != releaseDate, as in real data
            _release(101, "40.3.0", "2025-09-03", 2_000_029),
            _release(101, "40.2.0", "2025-08-06", 1_000_003),
        ],
        341: [
            _release(341, "1.0.0", "2026-01-30", 1_500_007),
            # Old style: ODS_ id, content/ODS/... URL, same name as the newer one, re-issued days later.
            _release(341, "1.0.0", "2020-01-31", 1_200_011, id="ODS_1.0.0_20200131000001",
                     url_dir=("ODS", "1.0.0", "HSCORGREFDATAXML_DATA"), last_modified="2020-02-03T13:58:39.000Z"),
        ],
        24: [
            _release(24, "11.2.0", "2025-11-10", 1_100_009, sha256="omit"),
            _release(24, "10.2.0", "2025-08-18", 1_000_037, sha256="omit"),
        ],
        666: [_release(666, "1.0.0", "2025-06-02", 1_048_583, archive_file_name="../../evil.zip")],
        21: [],
        LARGE_ITEM: [_release(LARGE_ITEM, "41.1.0", "2025-10-15", LARGE_DEFAULT_SIZE)],
        900: [_release(900, "1.0.0", "2025-03-03", 0, kind="zip_slip")],
        901: [_release(901, "1.0.0", "2025-03-03", 0, kind="zip_bomb")],
    }


def fciv_xml(file_name: str, sha1_hex: str) -> bytes:
    """Microsoft FCIV checksum file: the archive name and base64 of its binary SHA-1, CRLF and tabs."""
    sha1 = base64.b64encode(bytes.fromhex(sha1_hex)).decode()
    lines = ['<?XML version="1.0" encoding="utf-8"?>', "<FCIV>", "\t<FILE_ENTRY>", f"\t\t<name>{file_name}</name>",
             f"\t\t<SHA1>{sha1}</SHA1>", "\t</FILE_ENTRY>", "</FCIV>"]
    return ("\r\n".join(lines) + "\r\n").encode()


def _hostile_fciv(xml: bytes, style: str) -> bytes:
    """The FCIV file with a DTD that declares entities (faults.ENTITY_DECLARATIONS). The signature alone cannot
    catch it (TRUD's key signs whatever TRUD serves)."""
    return with_doctype(xml, "FCIV", style, b"</name>", newline=b"\r\n")


CHECKSUM_STYLES = ("fciv", "entities", "external_entity")


def _tamper(xml: bytes) -> bytes:
    """Change one character of the SHA1 value, keeping the length."""
    at = xml.index(b"<SHA1>") + len(b"<SHA1>")
    return xml[:at] + (b"B" if xml[at:at + 1] == b"A" else b"A") + xml[at + 1:]


def trud_error(status: int, message: str) -> Response:
    """A TRUD error body: `httpStatus` and `message`."""
    return Response(status, BytesBody(jackson_dumps({"httpStatus": status, "message": message}).encode()))


def _not_found() -> Response:
    return trud_error(404, "NOT FOUND")


class Catalogue:
    """Items and their releases (newest first), safe to change while requests read it."""

    def __init__(self):
        self._lock = threading.Lock()
        self.items: dict[int, list[Release]] = {}
        self.reset()

    def reset(self):
        """Back to the default catalogue."""
        with self._lock:
            self.items = default_catalogue()

    def releases(self, item: int | None) -> list[Release]:
        """A snapshot of an item's releases, newest first (empty if unknown)."""
        with self._lock:
            return list(self.items.get(item, []))

    def add(self, release: Release):
        """Add a release as the newest of its item."""
        with self._lock:
            self.items.setdefault(release.item, []).insert(0, release)

    def replace_newest(self, item: int, release: Release):
        """Swap the newest release of an item."""
        with self._lock:
            self.items[item][0] = release

    def find_file(self, segments: list[str]):
        """Map a path under content/ to (file kind, release); releases are searched newest first."""
        if segments == ["public-keys", PUBLIC_KEY_FILE_NAME]:
            return "public_key", None
        folder, name = tuple(segments[:-1]), segments[-1]
        with self._lock:
            releases = [release for item in self.items.values() for release in item]
        for release in releases:
            if release.url_dir != folder:
                continue
            for kind, file_name in (("archive", release.archive_file_name), ("checksum", release.checksum_file_name),
                                    ("signature", release.signature_url_name)):
                if name == file_name:
                    return kind, release
        return None, None


RELEASE_OPTIONS = {"version", "release_date", "size", "seed", "kind", "archive_file_name", "name", "id",
                   "sha256", "size_bytes", "last_modified", "url_dir", "checksum_style"}


class TrudService:
    """Registers the TRUD routes and its control routes on the shared router."""

    kinds = KINDS

    def __init__(self, store, keyring, api_keys: list[str], disabled_key: str):
        self.store = store
        self.keyring = keyring
        self.api_keys = list(api_keys)
        self.disabled_key = disabled_key
        self.catalogue = Catalogue()

    def register(self, router):
        """Mount the TRUD API, the download area and the TRUD control routes."""
        router.add("GET", API_PREFIX + "/keys/{key}/items/{item}/releases", self.listing)
        router.add("GET", DOWNLOAD_PREFIX + "/keys/{key}/content/{path:.+}", self.download)
        router.add("POST", "/_sandbox/releases", self.control_add_release, control=True)
        router.add("PUT", "/_sandbox/items/{item}", self.control_resize, control=True)

    def reset(self):
        """Back to the default catalogue."""
        self.catalogue.reset()

    def info(self, url: str, https_url: str | None) -> dict:
        """The TRUD part of the info JSON."""
        return {
            "trud_base_url": url + API_PREFIX,
            "trud_https_base_url": https_url + API_PREFIX if https_url else None,
            "api_key": self.api_keys[0],
            "api_keys": self.api_keys,
            "disabled_key": self.disabled_key,
            "trud_fingerprint": self.keyring.trud_fingerprint,
            "wrong_fingerprint": self.keyring.wrong_fingerprint,
            "trud_public_key_path": str(self.keyring.public_key_path),
            "wrong_public_key_path": str(self.keyring.wrong_public_key_path),
        }

    # --- files -------------------------------------------------------------------------------

    def _checksum(self, release: Release) -> bytes:
        xml = fciv_xml(release.archive_file_name, self.store.digests(release.spec).sha1)
        return xml if release.checksum_style == "fciv" else _hostile_fciv(xml, release.checksum_style)

    def _signature(self, release: Release, wrong: bool = False) -> bytes:
        return self.keyring.sign(self._checksum(release), _epoch(release.signature_timestamp), wrong=wrong)

    def release_json(self, release: Release, base_url: str, key: str) -> dict:
        """A release object with exactly the fields (and order) TRUD returns."""
        content = f"{base_url}{DOWNLOAD_PREFIX}/keys/{quote(key, safe='')}/content/"
        folder = content + "/".join(quote(part, safe="") for part in release.url_dir) + "/"
        spec = release.spec
        sha256 = self.store.digests(spec).sha256 if release.sha256 is None else release.sha256
        size = self.store.size(spec) if release.size_bytes is None else release.size_bytes
        stamp = release.archive_timestamp
        doc = {
            "id": release.id,
            "name": release.name,
            "releaseDate": release.release_date,
            "archiveFileUrl": folder + quote(release.archive_file_name, safe=""),
            "archiveFileName": release.archive_file_name,
            "archiveFileSizeBytes": size,
            "archiveFileSha256": sha256,
            "archiveFileLastModifiedTimestamp": stamp,
            "checksumFileUrl": folder + quote(release.checksum_file_name, safe=""),
            "checksumFileName": release.checksum_file_name,
            "checksumFileSizeBytes": len(self._checksum(release)),
            "checksumFileLastModifiedTimestamp": stamp,
            "signatureFileUrl": folder + quote(release.signature_url_name, safe=""),
            "signatureFileName": release.signature_file_name,
            "signatureFileSizeBytes": len(self._signature(release)),
            "signatureFileLastModifiedTimestamp": release.signature_timestamp,
            "publicKeyFileUrl": content + "public-keys/" + PUBLIC_KEY_FILE_NAME,
            "publicKeyFileName": PUBLIC_KEY_FILE_NAME,
            "publicKeyFileSizeBytes": len(self.keyring.public_key),
            "publicKeyId": PUBLIC_KEY_ID,
        }
        if release.sha256 == "omit":
            del doc["archiveFileSha256"]
        return doc

    # --- routes ------------------------------------------------------------------------------

    def _key_error(self, key: str) -> Response | None:
        if key in self.api_keys:
            return None
        if key == self.disabled_key:
            return trud_error(401, "UNAUTHORIZED: API access is disabled for the requesting account.")
        return trud_error(400, "BAD REQUEST")

    def listing(self, req) -> Endpoint:
        """GET .../keys/{key}/items/{item}/releases[?latest]."""
        key, raw_item = req.params["key"], req.params["item"]
        item = int(raw_item) if raw_item.isdigit() else None

        def respond(fault=None) -> Response:
            error = self._key_error(key)
            if error:
                return error
            releases = self.catalogue.releases(item)
            if not releases:
                return trud_error(404, f"NOT FOUND: No releases found for API key {key}, item {raw_item}.")
            if "latest" in req.query:
                releases = releases[:1]
            doc = {"apiVersion": "1", "releases": [self.release_json(r, req.base_url, key) for r in releases],
                   "httpStatus": 200, "message": "OK"}
            body = jackson_dumps(doc).encode()
            if fault and fault.type == "malformed_json":
                body = body[:len(body) // 2]
            return Response(200, BytesBody(body))

        return Endpoint("listing", item, respond)

    def download(self, req) -> Endpoint:
        """GET .../download/api/v1/keys/{key}/content/...: archive, checksum, signature or public key."""
        key = req.params["key"]
        kind, release = self.catalogue.find_file([unquote(part) for part in req.params["path"].split("/")])

        def respond(fault=None) -> Response:
            if kind is None or key not in self.api_keys:
                return _not_found()
            fault_type = fault.type if fault else None
            if kind == "public_key":
                key_file = self.keyring.wrong_public_key if fault_type == "wrong_public_key" else self.keyring.public_key
                return self._file(key_file, PUBLIC_KEY_FILE_NAME, "application/octet-stream", None)
            if kind == "checksum":
                xml = self._checksum(release)
                xml = _tamper(xml) if fault_type == "tamper_checksum" else xml
                return self._file(xml, release.checksum_file_name, "application/xml", release.archive_timestamp)
            if kind == "signature":
                signature = self._signature(release, wrong=fault_type == "wrong_key_signature")
                return self._file(signature, release.signature_url_name, "application/octet-stream", release.signature_timestamp)
            response = self._file(b"", release.archive_file_name, "application/zip", release.archive_timestamp)
            response.body = self.store.body(release.spec)
            return response

        return Endpoint(kind, release.item if release else None, respond)

    @staticmethod
    def _file(data: bytes, name: str, content_type: str, stamp: str | None) -> Response:
        headers = {"Content-Disposition": f'attachment; filename="{quote(name, safe="")}"'}
        if stamp:
            headers["Last-Modified"] = email.utils.formatdate(_epoch(stamp), usegmt=True)
        return Response(200, BytesBody(data), content_type, headers, ranges=True)

    # --- control API -------------------------------------------------------------------------

    def _default_key_json(self, release: Release, req) -> Response:
        return json_response(self.release_json(release, req.base_url, self.api_keys[0]))

    def control_add_release(self, req) -> Response:
        """POST /_sandbox/releases {"item": N, "release": {...}}."""
        payload = req.json()
        options = payload.get("release") or {}
        unknown = set(options) - RELEASE_OPTIONS
        if "item" not in payload or unknown:
            raise HttpError(400, f"need 'item' and 'release'; unknown release keys: {sorted(unknown)}")
        item = int(payload["item"])
        release = self._new_release(item, options)
        self.catalogue.add(release)
        return self._default_key_json(release, req)

    def _new_release(self, item: int, options: dict) -> Release:
        known = self.catalogue.releases(item)
        version = str(options.get("version") or f"{len(known) + 1}.0.0")
        date = options.get("release_date") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        try:
            datetime.date.fromisoformat(date)
        except ValueError as exc:
            raise HttpError(400, f"release_date must be YYYY-MM-DD: {date!r}") from exc
        passed = ("archive_file_name", "id", "name", "sha256", "size_bytes", "last_modified", "kind", "seed",
                  "checksum_style")
        if options.get("checksum_style", "fciv") not in CHECKSUM_STYLES:
            raise HttpError(400, f"checksum_style must be one of {', '.join(CHECKSUM_STYLES)}")
        extra = {key: options[key] for key in passed if options.get(key) is not None}
        if "url_dir" in options:
            extra["url_dir"] = tuple(part for part in str(options["url_dir"]).split("/") if part)
        release = _release(item, version, date, int(options.get("size", BLOCK)), **extra)
        self._validate(release)
        return release

    def _validate(self, release: Release):
        try:
            release.spec.validate()
        except ValueError as exc:
            raise HttpError(400, str(exc)) from exc

    def control_resize(self, req) -> Response:
        """PUT /_sandbox/items/{N} {"size": bytes}: resize the newest release's archive."""
        item = int(req.params["item"])
        releases = self.catalogue.releases(item)
        if not releases:
            raise HttpError(404, f"item {item} has no releases")
        size = req.json().get("size")
        if not isinstance(size, int):
            raise HttpError(400, "body must be {\"size\": bytes}")
        release = dataclasses.replace(releases[0], size=size)
        self._validate(release)
        self.catalogue.replace_newest(item, release)
        return self._default_key_json(release, req)
