"""MLDS wire formats: request bodies read the way Spring + Jackson read them, entities and errors written the way they write them.

Reading: `application/json` (or `+json`) only (else 415), unknown properties ignored, Jackson's scalar
coercions, a malformed body answered 400 with a plain-text message. Writing: compact JSON, Instants as
ISO strings, the custom ReleaseFileSerializer (clientDownloadUrl, downloadUrl for staff/admin only),
and Spring Boot's error JSON without `message`.
"""

import datetime
import email.message
import json
import math
import random
import re
from http import HTTPStatus

from .mlds_store import MEMBER_FIELDS, MldsError, MldsStore, Package, ReleaseFile, Version, instant
from .mlds_users import Caller

JSON_CONTENT_TYPE = re.compile(r"^\s*application/(?:json|[^;/\s]+\+json)\s*(?:;|$)", re.IGNORECASE)
ORDERS = ("shuffle", "reverse", "insertion")

# JSON property -> reader type, for each entity MLDS binds from a request body.
PACKAGE_SCHEMA = {
    "releasePackageId": "long", "createdAt": "instant", "updatedAt": "instant", "name": "string",
    "description": "string", "member": "member", "priority": "integer", "copyrights": "string",
    "releasePackageURI": "string", "releaseVersions": "list",
}
VERSION_SCHEMA = {
    "releaseVersionId": "long", "id": "string", "createdAt": "instant", "updatedAt": "instant", "lastUpdated": "instant",
    "name": "string", "description": "string", "summary": "string", "releaseType": "string", "online": "boolean",
    "publishedAt": "date", "versionURI": "string", "versionDependentURI": "string",
    "versionDependentDerivativeURI": "string", "packageType": "string", "archive": "boolean", "releaseFiles": "list",
}
FILE_SCHEMA = {
    "releaseFileId": "long", "label": "string", "createdAt": "instant", "downloadUrl": "string", "md5Hash": "string",
    "fileSize": "fileSize", "primaryFile": "boolean",
}
MEMBER_SCHEMA = {name: "string" for name in MEMBER_FIELDS} | {"memberId": "long", "createdAt": "instant",
                                                              "promotePackages": "boolean"}
JAVA_TYPES = {"string": "java.lang.String", "long": "java.lang.Long", "integer": "java.lang.Integer",
              "boolean": "boolean", "date": "java.time.LocalDate", "instant": "java.time.Instant",
              "member": "ca.intelliware.ihtsdo.mlds.domain.Member", "list": "java.util.Set"}
SCHEMAS = {"ReleasePackage": PACKAGE_SCHEMA, "ReleaseVersion": VERSION_SCHEMA, "ReleaseFile": FILE_SCHEMA}


def dumps(value) -> bytes:
    """Compact JSON as Spring's default ObjectMapper writes it (UTF-8, no escaping of non-ASCII)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def boot_error(status: int, path: str) -> bytes:
    """Spring Boot 3's DefaultErrorAttributes body (include-message=never)."""
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Http Status " + str(status)
    return dumps({"timestamp": stamp, "status": status, "error": phrase, "path": path})


def _bad(message: str) -> MldsError:
    return MldsError(400, "text", text="JSON parse error: " + message)


def _kind_of(value) -> str:
    if isinstance(value, bool):
        return "Boolean"
    return {dict: "Object", list: "Array", str: "String", int: "Integer", float: "Floating-point"}.get(type(value), "Null")


class BodyReader:
    """Binds a JSON request body to an entity's known properties, coercing scalars like Jackson."""

    def __init__(self, file_size_number: bool):
        self.file_size_number = file_size_number  # 6.x-dev: fileSize is a Long, not a String

    def entity(self, headers, body: bytes, entity: str) -> dict:
        """The known properties of `entity` (a SCHEMAS key) present in the body, coerced, in body order; raises 415 or 400."""
        content_type = headers.get("Content-Type")
        if not body.strip() and not content_type:
            raise MldsError(400, "text", text="Required request body is missing")
        if not JSON_CONTENT_TYPE.match(content_type or ""):
            raise MldsError(415, "boot", reason=f"Content-Type {content_type!r} is not supported")
        try:
            text = body.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise _bad(f"Invalid UTF-8 middle byte: {exc.reason}") from exc
        if not text:
            raise MldsError(400, "text", text="Required request body is missing")
        try:
            value = json.JSONDecoder().raw_decode(text)[0]  # like Jackson, ignore anything after the value
        except json.JSONDecodeError as exc:
            raise _bad(f"Unexpected character: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
        if value is None:
            raise MldsError(400, "text", text="Required request body is missing")
        if not isinstance(value, dict):
            raise _bad(f"Cannot deserialize value of type `ca.intelliware.ihtsdo.mlds.domain.{entity}` "
                       f"from {_kind_of(value)} value")
        return self._bind(value, SCHEMAS[entity])

    def _bind(self, value: dict, schema: dict) -> dict:
        return {name: self.coerce(schema[name], item, name) for name, item in value.items() if name in schema}

    def coerce(self, kind: str, value, name: str = "value"):  # pylint: disable=too-many-return-statements
        """One property's value as Jackson would bind it; 400 where Jackson gives up."""
        if kind == "fileSize":
            kind = "long" if self.file_size_number else "string"
        if value is None:
            return None
        if kind == "string" and not isinstance(value, (dict, list)):
            return _as_string(value)
        if kind in ("long", "integer") and not isinstance(value, (bool, dict, list)):
            return _as_integer(value, kind, name)
        if kind == "boolean" and not isinstance(value, (dict, list)):
            return _as_boolean(value, name)
        if kind == "date" and isinstance(value, str):
            return _as_date(value, name)
        if kind == "instant" and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return value  # bound but never used: MLDS sets its own timestamps
        if kind == "member" and isinstance(value, dict):
            return self._bind(value, MEMBER_SCHEMA)
        if kind == "list" and isinstance(value, list) and all(isinstance(item, dict) for item in value):
            return value  # nested versions and files are bound but ignored by every handler
        raise _bad(f"Cannot deserialize value of type `{JAVA_TYPES.get(kind, kind)}` from {_kind_of(value)} value "
                   f"(through reference chain: [\"{name}\"])")


def _as_string(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


def _as_integer(value, kind: str, name: str):
    if isinstance(value, float) and math.isfinite(value):
        return int(value)  # ACCEPT_FLOAT_AS_INT
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text == "":
        return None  # an empty String coerces to null for wrapper types
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    raise _bad(f"Cannot deserialize value of type `{JAVA_TYPES[kind]}` from String \"{value}\": not a valid "
               f"`{JAVA_TYPES[kind]}` value (through reference chain: [\"{name}\"])")


def _as_boolean(value, name: str):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if value.strip() in ("true", "True", "TRUE"):
        return True
    if value.strip() in ("false", "False", "FALSE", ""):
        return False
    raise _bad(f"Cannot deserialize value of type `boolean` from String \"{value}\": only \"true\" or \"false\" "
               f"recognized (through reference chain: [\"{name}\"])")


def _as_date(value: str, name: str):
    if value.strip() == "":
        return None
    try:
        return datetime.date.fromisoformat(value.strip()).isoformat()
    except ValueError as exc:
        raise _bad(f"Cannot deserialize value of type `java.time.LocalDate` from String \"{value}\": Failed to "
                   f"deserialize java.time.LocalDate (through reference chain: [\"{name}\"])") from exc


# --- multipart -----------------------------------------------------------------------------------


def multipart_files(content_type: str, body: bytes) -> dict:
    """Parts of a multipart/form-data body that carry a filename, by part name (Spring's MultipartFile)."""
    header = email.message.Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if not boundary:
        raise MldsError(400, "boot", reason="multipart request without a boundary")
    files = {}
    for section in body.split(b"--" + str(boundary).encode())[1:]:
        if section.startswith(b"--"):
            break  # the closing delimiter
        head, content = (section.removeprefix(b"\r\n").split(b"\r\n\r\n", 1) + [b""])[:2]
        part = email.message.Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                part[name.strip()] = value.strip()
        filename = part.get_filename()
        if filename is not None:
            files.setdefault(part.get_param("name", header="content-disposition"), {
                "filename": filename, "content_type": part.get("Content-Type"), "data": content.removesuffix(b"\r\n")})
    return files


# --- entities ------------------------------------------------------------------------------------


class Renderer:
    """Entity JSON as a given caller sees it. Sets (versions, files, the package list) come in arbitrary order."""

    def __init__(self, store: MldsStore, caller: Caller, order: str = "insertion"):
        self.store = store
        self.caller = caller
        self.order = order

    def arrange(self, items: list) -> list:
        """Java HashSets and an unsorted findAll() promise no order, so clients must not depend on one."""
        items = list(items)
        if self.order == "shuffle":
            random.shuffle(items)
        elif self.order == "reverse":
            items.reverse()
        return items

    def file(self, found: ReleaseFile) -> dict:
        """ReleaseFileSerializer."""
        version = self.store.versions[found.version_id]
        doc = {
            "releaseFileId": found.id,
            "label": found.fields["label"],
            "createdAt": instant(found.created_at),
            "clientDownloadUrl": f"/api/releasePackages/{version.package_id}/releaseVersions/{version.id}/releaseFiles/{found.id}/download",
            "md5Hash": found.fields["md5Hash"],
            "fileSize": found.fields["fileSize"],
            "primaryFile": found.fields["primaryFile"],
        }
        if self.caller.staff_or_admin:
            doc["downloadUrl"] = found.fields["downloadUrl"]
        return doc

    def version(self, version: Version) -> dict:
        """A version with its files; `updatedAt` and `lastUpdated` are the same getter twice."""
        fields = version.fields
        stamp = instant(version.last_updated)
        return {
            "releaseVersionId": version.id, "id": version.uuid, "createdAt": instant(version.created_at),
            "updatedAt": stamp, "lastUpdated": stamp, "name": fields["name"], "description": fields["description"],
            "summary": fields["summary"], "releaseType": fields["releaseType"], "online": version.online,
            "publishedAt": fields["publishedAt"], "versionURI": fields["versionURI"],
            "versionDependentURI": fields["versionDependentURI"],
            "versionDependentDerivativeURI": fields["versionDependentDerivativeURI"],
            "packageType": fields["packageType"], "archive": version.archive,
            "releaseFiles": [self.file(found) for found in self.arrange(self.store.files_of(version))],
        }

    def package(self, package: Package, versions: list[Version], member_echo: dict | None = None) -> dict:
        """A package with the given versions. `member_echo`: an admin's body member, which create/PUT answer as sent."""
        member = self.store.members[package.member_id]
        if member_echo is not None:
            member = {name: member_echo.get(name) for name in MEMBER_FIELDS}
            member["promotePackages"] = bool(member["promotePackages"])
        fields = package.fields
        return {
            "releasePackageId": package.id, "createdAt": instant(package.created_at),
            "updatedAt": instant(package.created_at),  # set when the row is created, never by PUT
            "name": fields["name"], "description": fields["description"], "member": dict(member),
            "priority": package.priority, "copyrights": fields["copyrights"],
            "releasePackageURI": fields["releasePackageURI"],
            "releaseVersions": [self.version(version) for version in self.arrange(versions)],
        }
