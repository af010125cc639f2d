"""MLDS control API under /_sandbox/mlds (reset, state, users, storage, seed) and the default catalogue.

Seeding writes straight into the store, bypassing MLDS's rules, so tests can start from states the API
cannot reach (a null releaseType, the legacy `online` boolean, a wrong md5Hash, a soft-deleted package).
"""

import base64
import datetime
import time
import uuid
from urllib.parse import quote

from .archives import BLOCK
from .mlds_store import FILE_FIELDS, PACKAGE_FIELDS, VERSION_FIELDS, Licence, MldsError, Package, ReleaseFile, Version, instant
from .mlds_users import IHTSDO, Caller, User
from .mlds_storage import S3_BUCKET
from .mlds_wire import Renderer
from .web import HttpError, json_response

CONTROL = "/_sandbox/mlds"
SEEDER = Caller("seed", frozenset({"ROLE_ADMIN", "ROLE_STAFF"}))  # renders like an admin: downloadUrl included
USER_KEYS = {"username", "password", "roles", "member", "deactivated", "applications", "approved", "application"}

_LICENCE_PDF = (b"%PDF-1.4\n% SNOMED CT Affiliate Licence Agreement (sandbox stand-in)\n"
                b"1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
INTERNATIONAL = "international/SnomedCT_InternationalRF2_PRODUCTION_{}T120000Z.zip"
DEFAULT_CATALOGUE = [{
    "member": IHTSDO, "name": "SNOMED CT International Edition",
    "description": "<p>The <strong>International Edition</strong> of SNOMED CT, in RF2.</p>",
    "copyrights": "© 2025 International Health Terminology Standards Development Organisation",
    "releasePackageURI": "http://snomed.info/sct/900000000000207008",
    "createdAt": "2024-12-18T10:15:30.12Z", "createdBy": "admin",
    "licence": {"filename": "SNOMED_CT_Affiliate_Licence_Agreement.pdf", "content_type": "application/pdf",
                "base64": base64.b64encode(_LICENCE_PDF).decode(), "last_updated": "2024-12-18T10:20:00Z"},
    "versions": [
        {"name": "International Edition 2025-01-01", "releaseType": "online", "publishedAt": "2025-01-01",
         "summary": "January 2025 International Edition", "description": "<p>Monthly release.</p>",
         "versionURI": "http://snomed.info/sct/900000000000207008/version/20250101", "packageType": "SCT_RF2_ALL",
         "createdAt": "2024-12-19T08:00:00.5Z",
         "files": [
             {"label": "SNOMED CT International Edition RF2", "primaryFile": True,
              "storage": {"name": INTERNATIONAL.format("20250101"), "size": 2 * BLOCK + 4099, "seed": 20250101, "url_style": "s3"}},
             {"label": "Release notes", "primaryFile": False,
              "storage": {"name": "international/release-notes-20250101.pdf", "size": 65537, "seed": 20250102,
                          "url_style": "s3-https"}},
         ]},
        {"name": "International Edition 2025-02-01 (beta)", "releaseType": "alpha/beta", "publishedAt": "2025-02-01",
         "summary": "Beta of the February 2025 International Edition", "description": "<p>For testing only.</p>",
         "versionURI": "http://snomed.info/sct/900000000000207008/version/20250201", "packageType": "SCT_RF2_ALL",
         "createdAt": "2025-01-15T16:42:07.25Z",
         "files": [{"label": "SNOMED CT International Edition RF2 (beta)", "primaryFile": True,
                    "storage": {"name": INTERNATIONAL.format("20250201"), "size": BLOCK + 17, "seed": 20250201,
                                "url_style": "s3"}}]},
        {"name": "International Edition 2025-03-01", "releaseType": "offline", "packageType": "SCT_RF2_ALL",
         "summary": "Staging", "createdAt": "2025-02-20T11:00:00Z"},
    ],
}]


def register(router, service):
    """Mount the MLDS control routes."""
    def add(method, path, handler):
        router.add(method, CONTROL + path, handler, control=True)
    add("POST", "/reset", lambda req: _done(service.reset))
    add("GET", "/state", lambda req: json_response(state(service)))
    add("GET", "/users", lambda req: json_response({"users": {role: user.to_json() for role, user in service.users.items()}}))
    add("PUT", "/users/{name}", lambda req: json_response(set_user(service, req.params["name"], req.json())))
    add("POST", "/storage", lambda req: json_response(add_storage(service, req.json())))
    add("POST", "/seed", lambda req: json_response(seed(service, req.json())))


def _done(action):
    action()
    return json_response({"ok": True})


def seed_defaults(service):
    """The default catalogue of README.md (S3-style URLs, so no listener address is needed)."""
    for spec in DEFAULT_CATALOGUE:
        _seed_package(service, spec)


def _epoch(value) -> float:
    if value is None:
        return time.time()
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


# --- users ---------------------------------------------------------------------------------------


def set_user(service, name: str, changes: dict) -> dict:
    """PUT /_sandbox/mlds/users/{role or username}: change a user, or create one given password and roles."""
    unknown = set(changes) - USER_KEYS
    if unknown:
        raise HttpError(400, f"unknown user keys {sorted(unknown)}; known: {sorted(USER_KEYS)}")
    role = next((role for role, user in service.users.items() if name in (role, user.username)), None)
    if role is None:
        if not {"password", "roles"} <= set(changes):
            raise HttpError(404, f"no user {name!r}; give 'password' and 'roles' to create one")
        role = name
        service.users[role] = User(changes.get("username", name), changes["password"], (), changes.get("member", IHTSDO))
    user = service.users[role]
    for key in ("username", "password", "member"):
        if key in changes:
            setattr(user, key, str(changes[key]))
    if "roles" in changes:
        user.roles = tuple(str(item) for item in changes["roles"])
    if "deactivated" in changes:
        user.deactivated = bool(changes["deactivated"])
    if "applications" in changes:
        user.applications = [{"member": app["member"], "type": app.get("type", "PRIMARY"), "approved": bool(app.get("approved"))}
                             for app in changes["applications"]]
    if "approved" in changes:
        _approve(user, changes.get("application", user.member), bool(changes["approved"]))
    return {"role": role, **user.to_json()}


def _approve(user: User, member: str, approved: bool):
    """Set the approval of the user's application for `member` (a new one is PRIMARY for the home member)."""
    for application in user.applications:
        if application["member"] == member:
            application["approved"] = approved
            return
    kind = "PRIMARY" if member == user.member else "EXTENSION"
    user.applications.append({"member": member, "type": kind, "approved": approved})


# --- storage and seeding -------------------------------------------------------------------------


def add_storage(service, body: dict) -> dict:
    """POST /_sandbox/mlds/storage {name, size, seed, kind}: register an object, answer its URLs, md5 and size."""
    if not body.get("name"):
        raise HttpError(400, 'body must be {"name": ..., "size": bytes, "seed": N}')
    spec = service.storage.register(str(body["name"]), int(body.get("size", BLOCK)), int(body.get("seed", 0)), body.get("kind"))
    return service.storage.describe(service.urls, str(body["name"]), spec)


def seed(service, tree: dict) -> dict:
    """POST /_sandbox/mlds/seed {"packages": [...]}: answers the seeded packages as an admin sees them.

    Not atomic: a bad entry leaves the entries before it in place.
    """
    packages = tree.get("packages")
    if not isinstance(packages, list):
        raise HttpError(400, 'body must be {"packages": [package, ...]}')
    store = service.store
    with store.lock:
        seeded = [_seed_package(service, spec) for spec in packages]
        view = Renderer(store, SEEDER)
        return {"packages": [view.package(package, store.versions_of(package)) for package in seeded]}


def _seed_package(service, spec: dict) -> Package:
    store = service.store
    if "releasePackageId" in spec:
        package = store.packages.get(int(spec["releasePackageId"]))
        if package is None:
            raise HttpError(404, f"no release package {spec['releasePackageId']}")
    else:
        member = spec.get("member", IHTSDO)
        found = store.members.get(member) if isinstance(member, int) else store.member_by_key(member)
        if found is None:
            raise HttpError(400, f"unknown member {member!r}")
        package = Package(_new_id(store, spec), _epoch(spec.get("createdAt")), found["memberId"],
                          {name: spec.get(name) for name in PACKAGE_FIELDS}, created_by=spec.get("createdBy", "seed"))
        if spec.get("priority") is None:
            store.prioritize(package, 0)
        else:
            package.priority = int(spec["priority"])  # verbatim, so tests can start from an uneven ranking
        store.packages[package.id] = package
    if spec.get("licence"):
        package.licence = _licence(spec["licence"])
    for version_spec in spec.get("versions", []):
        _seed_version(service, package, version_spec)
    if spec.get("deleted"):
        package.inactive_at = time.time()
    return package


def _new_id(store, spec: dict) -> int:
    """The id a seeded object asks for (`seedId`, so that documentation examples can use fixed ids), or the next."""
    try:
        return store.new_id(spec.get("seedId"))
    except ValueError as exc:
        raise HttpError(400, str(exc)) from exc


def _licence(spec: dict) -> Licence:
    data = base64.b64decode(spec["base64"]) if "base64" in spec else str(spec.get("text", "")).encode()
    return Licence(spec.get("filename"), spec.get("content_type"), data, _epoch(spec.get("last_updated")), "seed")


def _seed_version(service, package: Package, spec: dict):
    store = service.store
    if "releaseVersionId" in spec:
        version = store.versions.get(int(spec["releaseVersionId"]))
        if version is None:
            raise HttpError(404, f"no release version {spec['releaseVersionId']}")
    else:
        fields = {name: spec.get(name) for name in VERSION_FIELDS}
        fields["releaseType"] = spec.get("releaseType", "offline")  # give "releaseType": null for the NPE cases
        created = _epoch(spec.get("createdAt"))
        version = Version(_new_id(store, spec), package.id, spec.get("id") or str(uuid.uuid4()), created,
                          _epoch(spec["lastUpdated"]) if spec.get("lastUpdated") else created, fields,
                          online=bool(spec.get("online")), archive=bool(spec.get("archive")),
                          created_by=spec.get("createdBy", "seed"))
        store.versions[version.id] = version
        package.version_ids.append(version.id)
    for file_spec in spec.get("files", []):
        _seed_file(service, version, file_spec)


def _seed_file(service, version: Version, spec: dict):
    store = service.store
    fields = {name: spec.get(name) for name in FILE_FIELDS}
    if spec.get("storage"):
        fields.update({key: value for key, value in _storage_defaults(service, spec["storage"]).items() if key not in spec})
    try:
        fields["fileSize"] = service.reader.coerce("fileSize", fields["fileSize"], "fileSize")
    except MldsError as exc:
        raise HttpError(400, exc.text) from exc
    fields["primaryFile"] = bool(fields["primaryFile"])
    created = _epoch(spec["createdAt"]) if spec.get("createdAt") else version.created_at
    found = ReleaseFile(_new_id(store, spec), version.id, created, fields)
    store.files[found.id] = found
    version.file_ids.append(found.id)


def _storage_defaults(service, storage: dict) -> dict:
    """downloadUrl, md5Hash and fileSize of a storage object; url_style http, https, s3 or s3-https."""
    name = str(storage["name"])
    spec = service.storage.register(name, int(storage.get("size", BLOCK)), int(storage.get("seed", 0)), storage.get("kind"))
    http_url, https_url = service.urls
    style = storage.get("url_style", "http")
    urls = {"http": lambda: service.storage.url(http_url, name, spec),
            "https": lambda: service.storage.url(https_url, name, spec) if https_url else None,
            "s3": lambda: f"s3://{S3_BUCKET}/{name}",
            "s3-https": lambda: f"https://{S3_BUCKET}.s3.amazonaws.com/{quote(name)}"}
    if style not in urls or urls[style]() is None:
        raise HttpError(400, f"url_style must be one of {sorted(urls)} (https needs the HTTPS listener)")
    return {"downloadUrl": urls[style](), "md5Hash": service.storage.md5(spec), "fileSize": spec.size}


# --- state ---------------------------------------------------------------------------------------


def state(service) -> dict:
    """GET /_sandbox/mlds/state: everything, soft-deleted packages included, in insertion order."""
    store = service.store
    with store.lock:
        view = Renderer(store, SEEDER)
        return {
            "packages": [_package_state(store, view, package) for package in store.packages.values()],
            "members": [dict(member) for member in store.members.values()],
            "notifications": list(store.notifications),
            "downloads": list(store.downloads),
            "download_counts": {str(found.id): found.downloads for found in store.files.values()},
            "storage": {name: {"size": spec.size, "seed": spec.seed, "kind": spec.kind}
                        for name, spec in service.storage.objects.items()},
        }


def _package_state(store, view: Renderer, package: Package) -> dict:
    versions = store.versions_of(package)
    doc = view.package(package, versions)
    doc["deleted"] = package.inactive_at is not None
    doc["deletedAt"] = instant(package.inactive_at) if package.inactive_at else None
    doc["createdBy"] = package.created_by
    licence = package.licence
    doc["licence"] = None if licence is None else {
        "filename": licence.filename, "content_type": licence.content_type, "size": len(licence.data),
        "last_updated": instant(licence.last_updated), "uploaded_by": licence.creator}
    for version_doc, version in zip(doc["releaseVersions"], versions):
        version_doc.update(createdBy=version.created_by, notifications=version.notifications)
        for file_doc, found in zip(version_doc["releaseFiles"], store.files_of(version)):
            file_doc["downloads"] = found.downloads
    return doc
