"""The MLDS side of the sandbox: MLDS 5.2's release-package REST API under /api.

Shapes and rules follow IHTSDO/MLDS 5.2 as its source behaves (docsite: guide_mlds.rst): pre-emptive HTTP Basic with no
WWW-Authenticate challenge, 200 on create, empty 404/409 bodies, Spring Boot error JSON for 401/403/
500, permission-checker failures as 500, the 5.2 state rules (mlds_store.py) and wire formats
(mlds_wire.py), and downloads proxied from the storage area (mlds_storage.py). Control routes live
in mlds_control.py.
"""

import base64
import binascii
import email.utils
import gzip
import hmac
import time
from dataclasses import dataclass

from . import mlds_control, mlds_feed
from .feeds import ATOM_TYPE, accepts_atom, feed_response
from .mlds_store import Licence, MldsError, MldsStore, failure
from .mlds_users import ANONYMOUS, Caller, default_users
from .mlds_storage import Proxy, Storage
from .mlds_wire import BodyReader, Renderer, boot_error, dumps, multipart_files
from .web import BytesBody, Endpoint, Response, Router

API = "/api"
PACKAGES = API + "/releasePackages"
PACKAGE = PACKAGES + "/{package}"
VERSIONS = PACKAGE + "/releaseVersions"
VERSION = VERSIONS + "/{version}"
FILES = VERSION + "/releaseFiles"
FILE = FILES + "/{file}"
KINDS = ("mlds_api", "mlds_license", "mlds_download", "mlds_storage", "mlds_feed")

# @RolesAllowed sets (None: @PermitAll)
AUTHENTICATED = frozenset({"ROLE_USER", "ROLE_MEMBER", "ROLE_STAFF", "ROLE_ADMIN"})
WITH_ANONYMOUS = AUTHENTICATED | {"ROLE_ANONYMOUS"}
STAFF_OR_ADMIN = frozenset({"ROLE_STAFF", "ROLE_ADMIN"})
TRUE_WORDS, FALSE_WORDS = ("true", "on", "yes", "1"), ("false", "off", "no", "0")  # Spring's StringToBooleanConverter


@dataclass(frozen=True)
class ApiRoute:
    """One MLDS mapping: who may call it (@RolesAllowed), the action, its fault/log kind and what the body binds to."""

    method: str
    pattern: str
    roles: frozenset | None
    action: str
    kind: str = "mlds_api"
    body: str | None = None  # an entity name (mlds_wire.SCHEMAS) or "multipart"


ROUTES = (
    ApiRoute("GET", API + "/members", None, "members"),
    ApiRoute("GET", PACKAGES, None, "list_packages"),
    ApiRoute("POST", PACKAGES, STAFF_OR_ADMIN, "create_package", body="ReleasePackage"),
    ApiRoute("GET", PACKAGE, WITH_ANONYMOUS, "get_package"),
    ApiRoute("PUT", PACKAGE, STAFF_OR_ADMIN, "update_package", body="ReleasePackage"),
    ApiRoute("DELETE", PACKAGE, STAFF_OR_ADMIN, "delete_package"),
    ApiRoute("GET", PACKAGE + "/license", None, "get_license", "mlds_license"),
    ApiRoute("POST", PACKAGE + "/license", STAFF_OR_ADMIN, "upload_license", "mlds_license", body="multipart"),
    ApiRoute("POST", VERSIONS, STAFF_OR_ADMIN, "create_version", body="ReleaseVersion"),
    ApiRoute("GET", VERSION, AUTHENTICATED, "get_version"),
    ApiRoute("PUT", VERSION, STAFF_OR_ADMIN, "update_version", body="ReleaseVersion"),
    ApiRoute("DELETE", VERSION, STAFF_OR_ADMIN, "delete_version"),
    ApiRoute("POST", VERSION + "/notifications", STAFF_OR_ADMIN, "notify"),
    ApiRoute("POST", FILES, STAFF_OR_ADMIN, "create_file", body="ReleaseFile"),
    ApiRoute("PUT", FILES, STAFF_OR_ADMIN, "update_file", body="ReleaseFile"),  # the file update is on the collection URL
    ApiRoute("GET", FILE, AUTHENTICATED, "get_file"),
    ApiRoute("DELETE", FILE, STAFF_OR_ADMIN, "delete_file"),
    ApiRoute("GET", FILE + "/download", AUTHENTICATED, "download", "mlds_download"),
    ApiRoute("GET", API + "/checkVersionDependency/{version}", STAFF_OR_ADMIN, "check_dependency"),
    ApiRoute("POST", API + "/updateArchive/{version}", STAFF_OR_ADMIN, "update_archive"),
    ApiRoute("GET", API + "/feed", None, "feed", "mlds_feed"),  # no @RolesAllowed, /api/** permitted: anonymous
)


@dataclass
class MldsOptions:
    """Command-line choices: password prefix, 6.x-dev numeric fileSize, order of JSON sets."""

    password_prefix: str = ""
    file_size_number: bool = False
    set_order: str = "shuffle"


@dataclass
class Call:
    """A request that got past authentication, binding and the role check."""

    req: object
    caller: Caller
    ids: dict
    body: dict | None
    fault: object = None  # the fault rule taken for this request (content faults: the feed)


def empty(status: int, headers=None) -> Response:
    """A bare ResponseEntity: no body, no Content-Type."""
    return Response(status, BytesBody(b""), None, headers or {})


def _path_ids(params: dict) -> dict:
    """Path variables are `long`s: anything else is a 400 (MethodArgumentTypeMismatchException)."""
    ids = {}
    for name, value in params.items():
        try:
            ids[name] = int(value)
        except ValueError as exc:
            raise MldsError(400, "boot", reason=f"path variable {name}={value!r} is not a long") from exc
    return ids


def _fault_item(params: dict) -> int | None:
    """Fault rules' `item` is the innermost id in the path (file, else version, else package)."""
    for name in ("file", "version", "package"):
        if str(params.get(name, "")).isdigit():
            return int(params[name])
    return None


def _check_roles(roles, caller: Caller):
    """@RolesAllowed: anonymous callers get the entry point's 401, others AccessDenied's 403."""
    if roles is None or caller.roles & roles:
        return
    if caller.username is None:
        raise MldsError(401, "boot", reason="anonymous caller on a protected endpoint")
    raise MldsError(403, "boot", reason=f"{caller.username} lacks {sorted(roles)}")


def _form_data_disposition(filename: str | None) -> str:
    """Spring's HttpHeaders.setContentDispositionFormData("file", filename)."""
    if filename is None:
        return 'form-data; name="file"'
    escaped = filename.replace("\\", "\\\\").replace('"', '\\"')
    return f'form-data; name="file"; filename="{escaped}"'


class MldsService:  # pylint: disable=too-many-public-methods,too-many-instance-attributes
    """Registers MLDS's API, the storage area and the MLDS control routes on the shared router."""

    kinds = KINDS

    def __init__(self, archives, state_dir, options: MldsOptions | None = None):
        self.options = options or MldsOptions()
        self.store = MldsStore()
        self.storage = Storage(archives, state_dir)
        self.proxy = Proxy(self.storage)
        self.reader = BodyReader(self.options.file_size_number)
        self.users = default_users(self.options.password_prefix)
        self.urls = ("http://127.0.0.1", None)  # replaced by info() once the listeners are bound
        self.api_router = Router()  # MLDS's own mappings, to tell 404 from 405 like Spring does
        self.reset()

    def register(self, router):
        """Mount /api, /storage and /_sandbox/mlds."""
        for route in ROUTES:
            for target in (router, self.api_router):
                target.add(route.method, route.pattern, self._handler(route))
        router.add(("GET", "POST", "PUT", "DELETE", "PATCH"), API + "{rest:(?:/.*)?}", self._unmapped)
        router.add("GET", "/storage/{name}", self.storage.serve)
        mlds_control.register(router, self)

    def reset(self):
        """Default members, users and catalogue; registered storage names forgotten."""
        with self.store.lock:
            self.store.clear()
            self.storage.clear()
            self.users = default_users(self.options.password_prefix)
            mlds_control.seed_defaults(self)

    def info(self, url: str, https_url: str | None) -> dict:
        """The `mlds` part of the info JSON (called once the listeners are bound)."""
        self.urls = (url, https_url)
        users = {role: {"username": user.username, "password": user.password, "roles": list(user.roles),
                        "member": user.member} for role, user in self.users.items()}
        return {"mlds": {
            "url": url, "https_url": https_url, "api_url": url + API, "feed_url": url + API + "/feed", "users": users,
            "members": {member["key"]: member["memberId"] for member in self.store.members.values()},
            "file_size_type": "number" if self.options.file_size_number else "string",
            "set_order": self.options.set_order,
        }}

    # --- request pipeline --------------------------------------------------------------------

    def _authenticate(self, req, extra: dict) -> Caller | None:
        """Spring's BasicAuthenticationFilter: no or non-Basic header -> anonymous; bad credentials -> None (401)."""
        extra["auth_user"] = None
        scheme, token = ((req.headers.get("Authorization") or "").strip().split(" ", 1) + [""])[:2]
        if scheme.lower() != "basic":
            return ANONYMOUS
        try:
            username, sep, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            username, sep, password = "", "", ""
        user = self.find_user(username) if sep else None
        if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
            # The tried name is logged only if it is a real login: a mistyped one might be a password.
            extra["auth_failed"] = user.username if user else "<unknown user>"
            return None
        extra["auth_user"] = user.username
        return user.caller()

    def find_user(self, login: str):
        """A user by login; affiliates' e-mail logins ignore case (findByLoginIgnoreCase)."""
        for user in self.users.values():
            if login == user.username or ("@" in login and login.lower() == user.username.lower()):
                return user
        return None

    def _handler(self, route: ApiRoute):
        def handle(req) -> Endpoint:
            extra = {}
            caller = self._authenticate(req, extra)
            return Endpoint(route.kind, _fault_item(req.params),
                            lambda fault=None: self._respond(route, req, caller, extra, fault), extra)
        return handle

    def _respond(self, route: ApiRoute, req, caller: Caller | None, extra: dict,  # pylint: disable=too-many-arguments
                 fault=None) -> Response:
        """Spring's order: security filter (401), argument binding (400/415), @RolesAllowed (401/403), the handler."""
        try:
            if caller is None:
                raise MldsError(401, "boot", reason="bad credentials")
            ids = _path_ids(req.params)
            body = self._bind(route, req)
            _check_roles(route.roles, caller)
            call = Call(req, caller, ids, body, fault)
            if route.action == "download":
                return self.download(call)  # streams outside the lock
            with self.store.lock:
                return getattr(self, route.action)(call)
        except MldsError as exc:
            extra["mlds_reason"] = exc.reason
            return self.error_response(exc, req)

    def _bind(self, route: ApiRoute, req):
        if route.body == "multipart":
            content_type = req.headers.get("Content-Type") or ""
            if not content_type.lower().startswith("multipart/"):
                raise MldsError(415, "boot", reason=f"licence upload needs multipart/*, not {content_type!r}")
            return multipart_files(content_type, req.body)
        if route.body:
            return self.reader.entity(req.headers, req.body, route.body)
        if route.action == "update_archive":
            return {"isArchive": self._archive_param(req)}
        return None

    @staticmethod
    def _archive_param(req) -> bool:
        values = req.query.get("isArchive")
        if not values:
            raise MldsError(400, "boot", reason="Required request parameter 'isArchive' is not present")
        word = values[0].strip().lower()
        if word == "":
            raise failure("Optional boolean parameter 'isArchive' is present but cannot be translated into a null value")
        if word not in TRUE_WORDS + FALSE_WORDS:
            raise MldsError(400, "boot", reason=f"isArchive={values[0]!r} is not a boolean")
        return word in TRUE_WORDS

    @staticmethod
    def error_response(exc: MldsError, req) -> Response:
        """Empty body, plain-text 400 (labelled JSON: the mapping produces application/json), or Boot error JSON."""
        if exc.kind == "empty":
            return empty(exc.status, exc.headers)
        if exc.kind == "text":
            return Response(exc.status, BytesBody(exc.text.encode()), "application/json", dict(exc.headers))
        return Response(exc.status, BytesBody(boot_error(exc.status, req.path)), "application/json", dict(exc.headers))

    def _unmapped(self, req) -> Endpoint:
        """Anything else under /api: Boot's 404, or 405 with Allow when only the method is wrong."""
        extra = {}
        caller = self._authenticate(req, extra)

        def respond(fault=None) -> Response:  # pylint: disable=unused-argument
            if caller is None:
                return self.error_response(MldsError(401, "boot"), req)
            status = self.api_router.match(req.method, req.path)[1]
            allowed = sorted({m for r in self.api_router.routes if r.regex.match(req.path) for m in r.methods})
            headers = {"Allow": ", ".join(allowed)} if status == 405 else {}
            return self.error_response(MldsError(status, "boot", headers=headers), req)

        return Endpoint("mlds_api", None, respond, extra)

    def _json(self, req, value, status: int = 200) -> Response:
        """Entity JSON; gzipped when the client accepts it (GZipServletFilter on /api/*, never on downloads)."""
        data, headers = dumps(value), {}
        if "gzip" in (req.headers.get("Accept-Encoding") or "").lower():
            data, headers = gzip.compress(data, mtime=0), {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return Response(status, BytesBody(data), "application/json", headers)

    def renderer(self, caller: Caller) -> Renderer:
        """Entity JSON as `caller` sees it, sets in the configured order."""
        return Renderer(self.store, caller, self.options.set_order)

    # --- packages ----------------------------------------------------------------------------

    def members(self, call: Call) -> Response:
        """GET /api/members: every member, full objects."""
        return self._json(call.req, [dict(member) for member in self.store.members.values()])

    def list_packages(self, call: Call) -> Response:
        """GET /api/releasePackages."""
        view = self.renderer(call.caller)
        return self._json(call.req, [view.package(p, versions) for p, versions in view.arrange(self.store.listing(call.caller))])

    def get_package(self, call: Call) -> Response:
        """GET one package, versions filtered for the caller."""
        package, versions = self.store.package_view(call.caller, call.ids["package"])
        return self._json(call.req, self.renderer(call.caller).package(package, versions))

    def _echo(self, call: Call):
        """An admin's body member is answered as sent (the entity keeps the unmanaged Member instance)."""
        return call.body.get("member") if call.caller.admin else None

    def create_package(self, call: Call) -> Response:
        """POST: 200 with the new package (no Location)."""
        package = self.store.create_package(call.caller, call.body)
        return self._json(call.req, self.renderer(call.caller).package(package, [], self._echo(call)))

    def update_package(self, call: Call) -> Response:
        """PUT: see MldsStore.update_package."""
        package = self.store.update_package(call.caller, call.ids["package"], call.body)
        versions = self.store.versions_of(package)
        return self._json(call.req, self.renderer(call.caller).package(package, versions, self._echo(call)))

    def delete_package(self, call: Call) -> Response:
        """DELETE: soft, 200 empty."""
        self.store.delete_package(call.caller, call.ids["package"])
        return empty(200)

    def get_license(self, call: Call) -> Response:
        """GET licence: 204 none, 304 if not modified since, else the bytes as form-data."""
        licence = self.store.package(call.ids["package"]).licence
        if licence is None:
            return empty(204)
        since = call.req.headers.get("If-Modified-Since")
        if since:
            parsed = email.utils.parsedate_tz(since)
            if parsed is None:
                raise failure(f"IllegalArgumentException: cannot parse If-Modified-Since {since!r}")
            if int(licence.last_updated) <= email.utils.mktime_tz(parsed):
                return empty(304)
        if not licence.content_type or "/" not in licence.content_type:
            raise failure(f"InvalidMediaTypeException: licence content type {licence.content_type!r}")
        headers = {"Content-Disposition": _form_data_disposition(licence.filename),
                   "Last-Modified": email.utils.formatdate(licence.last_updated, usegmt=True)}
        return Response(200, BytesBody(licence.data), licence.content_type, headers)

    def upload_license(self, call: Call) -> Response:
        """POST licence (multipart part `file`): any staff may upload; no part or an empty one changes nothing."""
        package = self.store.package(call.ids["package"])
        part = call.body.get("file")
        if part and part["data"]:
            package.licence = Licence(part["filename"], part["content_type"], part["data"], time.time(), call.caller.username)
        return empty(200)

    # --- feed --------------------------------------------------------------------------------

    def feed(self, call: Call) -> Response:
        """GET /api/feed (mlds_feed.py); 406 when Accept excludes application/atom+xml (Spring's `produces`)."""
        if not accepts_atom(call.req.headers.get("Accept")):
            raise MldsError(406, "empty", reason=f"Accept {call.req.headers.get('Accept')!r} excludes {ATOM_TYPE}")
        body = mlds_feed.render(self.store, call.req.base_url, self.renderer(ANONYMOUS).arrange, call.fault)
        return feed_response(call.req, body, gzip_ok=True)

    # --- versions ----------------------------------------------------------------------------

    def _version_json(self, call: Call, version) -> Response:
        return self._json(call.req, self.renderer(call.caller).version(version))

    def create_version(self, call: Call) -> Response:
        """POST a version to the path's package."""
        return self._version_json(call, self.store.create_version(call.caller, call.ids["package"], call.body))

    def get_version(self, call: Call) -> Response:
        """GET one version (the package id in the path is ignored)."""
        return self._version_json(call, self.store.version_view(call.caller, call.ids["version"]))

    def update_version(self, call: Call) -> Response:
        """PUT: see MldsStore.update_version."""
        return self._version_json(call, self.store.update_version(call.caller, call.ids["version"], call.body))

    def delete_version(self, call: Call) -> Response:
        """DELETE: hard, 200 empty."""
        self.store.delete_version(call.caller, call.ids["version"])
        return empty(200)

    def notify(self, call: Call) -> Response:
        """POST notifications (body ignored): counted on every call."""
        return self._version_json(call, self.store.notify(call.caller, call.ids["version"]))

    def update_archive(self, call: Call) -> Response:
        """POST /api/updateArchive/{id}?isArchive=..."""
        return self._version_json(call, self.store.set_archive(call.caller, call.ids["version"], call.body["isArchive"]))

    def check_dependency(self, call: Call) -> Response:
        """GET /api/checkVersionDependency/{id}: a bare boolean."""
        return self._json(call.req, self.store.dependency(call.ids["version"]))

    # --- files -------------------------------------------------------------------------------

    def _file_json(self, call: Call, found) -> Response:
        return self._json(call.req, self.renderer(call.caller).file(found))

    def create_file(self, call: Call) -> Response:
        """POST a file to the path's version."""
        return self._file_json(call, self.store.create_file(call.caller, call.ids["version"], call.body))

    def update_file(self, call: Call) -> Response:
        """PUT on the collection URL, file id from the body."""
        return self._file_json(call, self.store.update_file(call.caller, call.ids["version"], call.body))

    def get_file(self, call: Call) -> Response:
        """GET one file: admins and the owning staff only."""
        return self._file_json(call, self.store.file_view(call.caller, call.ids["file"]))

    def delete_file(self, call: Call) -> Response:
        """DELETE: hard, 200 empty."""
        self.store.delete_file(call.caller, call.ids["file"])
        return empty(200)

    def download(self, call: Call) -> Response:
        """GET .../download: checkCanDownloadReleaseVersion, then the proxied bytes (Range ignored, never gzipped)."""
        with self.store.lock:
            found = self.store.download_target(call.caller, call.ids["file"])
            url = found.fields["downloadUrl"]
        method = call.req.method
        try:
            if url is None:
                raise failure(f"NPE: file {found.id} has no downloadUrl")
            response = self.proxy.fetch(url, call.req)
        except MldsError as exc:
            with self.store.lock:
                self.store.record_download(call.caller, found, method, exc.status)
            raise
        with self.store.lock:
            self.store.record_download(call.caller, found, method, response.status)
        if method == "HEAD" and hasattr(response.body, "close"):
            response.body.close()
        return response
