"""MLDS sandbox state: members, release packages, versions and files, and MLDS 5.2's rules.

Behaviour follows IHTSDO/MLDS 5.2 as its source behaves (docsite: guide_mlds.rst). Operations raise
`MldsError` carrying the status and body kind MLDS would answer; `mlds.py` turns it into a response.
Nothing here locks: the service holds `MldsStore.lock` around each operation and its rendering.
"""

import datetime
import threading
import time
import uuid
from dataclasses import dataclass, field

from .mlds_users import IHTSDO, Caller

ONLINE, ALPHA_BETA = "online", "alpha/beta"
NAME_LIMIT = 255  # names are VARCHAR(255): a longer one fails in the database (500)
FIRST_ID = 1001  # one Hibernate sequence numbers packages, versions and files alike

PACKAGE_FIELDS = ("name", "description", "copyrights", "releasePackageURI")  # what a package PUT copies
VERSION_FIELDS = ("name", "description", "releaseType", "publishedAt", "summary", "versionURI",
                  "versionDependentURI", "versionDependentDerivativeURI", "packageType")  # what a version PUT copies
FILE_FIELDS = ("label", "downloadUrl", "md5Hash", "fileSize", "primaryFile")  # what a file PUT copies
MEMBER_FIELDS = ("memberId", "key", "createdAt", "name", "contactEmail", "memberOrgName", "memberOrgURL",
                 "licenseName", "licenseVersion", "staffNotificationEmail", "promotePackages")

# Member ids are not consecutive, so a client cannot get away with guessing them from the key.
_MEMBERS = (
    (1, IHTSDO, "2014-06-12T00:00:00Z", "SNOMED International", "info@snomed.example", "SNOMED International",
     "https://www.snomed.example", "SNOMED CT Affiliate License", "2024", "mlds@snomed.example", True),
    (24, "SE", "2014-08-01T09:12:44Z", "Sweden", "snomed@socialstyrelsen.example", "Socialstyrelsen",
     "https://www.socialstyrelsen.example", None, None, "release-se@socialstyrelsen.example", False),
    (8, "DK", "2014-08-01T09:12:44Z", "Denmark", None, "Sundhedsdatastyrelsen", "https://sundhedsdatastyrelsen.example",
     "Danish SNOMED CT License", "1.0", None, False),
    (31, "GB", "2015-03-30T15:40:02.5Z", "United Kingdom", "information.standards@nhs.example", "NHS England",
     "https://digital.nhs.example", None, None, "snomed-release@nhs.example", True),
)


class MldsError(Exception):
    """An MLDS failure. `kind`: "empty" (bare ResponseEntity), "boot" (Spring Boot error JSON) or "text" (a 400 message)."""

    def __init__(self, status: int, kind: str = "boot", reason: str = "", text: str = "", headers=None):
        super().__init__(reason or text or str(status))
        self.status = status
        self.kind = kind
        self.reason = reason or text
        self.text = text
        self.headers = headers or {}


def not_found(reason: str) -> MldsError:
    """404 with an empty body."""
    return MldsError(404, "empty", reason)


def conflict(reason: str) -> MldsError:
    """409 with an empty body."""
    return MldsError(409, "empty", reason)


def failure(reason: str) -> MldsError:
    """500 Boot JSON: a checker's IllegalStateException, an NPE or a database error (the reason goes to the log only)."""
    return MldsError(500, "boot", reason)


def instant(epoch: float) -> str:
    """An Instant as Jackson writes it (ISO_INSTANT: 0, 3 or 6 fraction digits; the database keeps microseconds)."""
    moment = datetime.datetime.fromtimestamp(round(epoch, 6), datetime.timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    micro = moment.microsecond
    if micro:
        text += f".{micro // 1000:03d}" if micro % 1000 == 0 else f".{micro:06d}"
    return text + "Z"


def today() -> str:
    """The LocalDate the legacy `online` setter writes into `publishedAt`."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def is_type(value, wanted: str) -> bool:
    """MLDS compares release types case-insensitively."""
    return isinstance(value, str) and value.lower() == wanted


# --- entities ------------------------------------------------------------------------------------


@dataclass
class Licence:
    """A package licence upload: bytes, part content type (may be None) and original file name."""

    filename: str | None
    content_type: str | None
    data: bytes
    last_updated: float
    creator: str | None = None


@dataclass
class Package:  # pylint: disable=too-many-instance-attributes
    """A release package; `fields` holds PACKAGE_FIELDS by their JSON names."""

    id: int
    created_at: float
    member_id: int
    fields: dict
    priority: int | None = None
    version_ids: list = field(default_factory=list)
    created_by: str | None = None
    inactive_at: float | None = None  # soft delete: hidden everywhere, rows kept
    licence: Licence | None = None


@dataclass
class Version:  # pylint: disable=too-many-instance-attributes
    """A release version; `fields` holds VERSION_FIELDS by their JSON names."""

    id: int
    package_id: int
    uuid: str
    created_at: float
    last_updated: float
    fields: dict
    online: bool = False  # legacy boolean: inert except for the package DELETE guard
    archive: bool = False
    file_ids: list = field(default_factory=list)
    created_by: str | None = None
    notifications: int = 0


@dataclass
class ReleaseFile:
    """A release file; `fields` holds FILE_FIELDS by their JSON names."""

    id: int
    version_id: int
    created_at: float
    fields: dict
    downloads: int = 0


class MldsStore:  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """Everything MLDS keeps; methods apply 5.2's rules and raise MldsError like MLDS would answer."""

    def __init__(self):
        self.lock = threading.RLock()
        self.members: dict[int, dict] = {}
        self.packages: dict[int, Package] = {}
        self.versions: dict[int, Version] = {}
        self.files: dict[int, ReleaseFile] = {}
        self.notifications: list[dict] = []
        self.downloads: list[dict] = []
        self._next_id = FIRST_ID
        self.clear()

    def clear(self):
        """Default members, nothing else."""
        self.members = {row[0]: dict(zip(MEMBER_FIELDS, row)) for row in _MEMBERS}
        self.packages, self.versions, self.files = {}, {}, {}
        self.notifications, self.downloads = [], []
        self._next_id = FIRST_ID

    def new_id(self, chosen: int | None = None) -> int:
        """The next value of the shared sequence, or `chosen` (seeding only) when it is free; the sequence then
        continues after it, as a database whose sequence was reset past imported rows would."""
        if chosen is None:
            self._next_id += 1
            return self._next_id - 1
        chosen = int(chosen)
        if chosen in self.packages or chosen in self.versions or chosen in self.files:
            raise ValueError(f"id {chosen} is taken")
        self._next_id = max(self._next_id, chosen + 1)
        return chosen

    # --- look-ups ------------------------------------------------------------------------------

    def member_by_key(self, key: str | None) -> dict | None:
        """A member by key, or None."""
        return next((member for member in self.members.values() if member["key"] == key), None)

    def member_key(self, package: Package) -> str:
        """The key of a package's member."""
        return self.members[package.member_id]["key"]

    def package(self, package_id: int) -> Package:
        """A live package (the entity's @Where hides soft-deleted ones), else 404."""
        found = self.packages.get(package_id)
        if found is None or found.inactive_at is not None:
            raise not_found(f"no release package {package_id}")
        return found

    def version(self, version_id: int) -> Version:
        """A version of a live package, else 404."""
        found = self.versions.get(version_id)
        if found is None or self.packages[found.package_id].inactive_at is not None:
            raise not_found(f"no release version {version_id}")
        return found

    def file(self, file_id: int) -> ReleaseFile:
        """A file of a live package, else 404."""
        found = self.files.get(file_id)
        if found is None or self.packages[self.versions[found.version_id].package_id].inactive_at is not None:
            raise not_found(f"no release file {file_id}")
        return found

    def live_packages(self) -> list[Package]:
        """Packages not soft-deleted, in insertion order."""
        return [package for package in self.packages.values() if package.inactive_at is None]

    def versions_of(self, package: Package) -> list[Version]:
        """A package's versions, in insertion order."""
        return [self.versions[version_id] for version_id in package.version_ids]

    def files_of(self, version: Version) -> list[ReleaseFile]:
        """A version's files, in insertion order."""
        return [self.files[file_id] for file_id in version.file_ids]

    def _check_edit(self, caller: Caller, package: Package):
        key = self.member_key(package)
        if not caller.can_edit(key):
            raise failure(f"checkCanEditReleasePackage: {caller.username} is not admin or ROLE_STAFF_{key}")

    # --- visibility ----------------------------------------------------------------------------

    def _shown_versions(self, caller: Caller, package: Package) -> list[Version]:
        """filterReleasePackageByAuthority: online versions, plus alpha/beta for ROLE_USER."""
        shown = []
        for version in self.versions_of(package):
            release_type = version.fields.get("releaseType")
            if release_type is None:
                raise failure(f"NPE: version {version.id} has a null releaseType")
            if is_type(release_type, ONLINE) or (caller.sees_alpha_beta and is_type(release_type, ALPHA_BETA)):
                shown.append(version)
        return shown

    def listing(self, caller: Caller) -> list[tuple[Package, list[Version]]]:
        """GET /api/releasePackages: everything for member/staff/admin, published packages for the others."""
        packages = self.live_packages()
        if caller.sees_offline:
            return [(package, self.versions_of(package)) for package in packages]
        result = []
        for package in packages:
            shown = self._shown_versions(caller, package)  # an NPE on any null releaseType, as in 5.2
            if any(is_type(v.fields["releaseType"], ONLINE) or is_type(v.fields["releaseType"], ALPHA_BETA)
                   for v in self.versions_of(package)):
                result.append((package, shown))
        return result

    def package_view(self, caller: Caller, package_id: int) -> tuple[Package, list[Version]]:
        """GET one package: never 404 for an unpublished one, just fewer versions."""
        package = self.package(package_id)
        if caller.sees_offline:
            return package, self.versions_of(package)
        return package, self._shown_versions(caller, package)

    def version_view(self, caller: Caller, version_id: int) -> Version:
        """GET one version: checkCanAccessReleaseVersion fails (500) for others' non-online versions."""
        version = self.version(version_id)
        release_type = version.fields.get("releaseType")
        if caller.sees_offline:
            return version
        if release_type is None:
            raise failure(f"NPE: version {version.id} has a null releaseType")
        if not is_type(release_type, ONLINE):
            raise failure(f"checkCanAccessReleaseVersion: version {version.id} is {release_type!r}")
        return version

    def file_view(self, caller: Caller, file_id: int) -> ReleaseFile:
        """GET one file: the edit check, so only admins and the owning staff."""
        found = self.file(file_id)
        self._check_edit(caller, self.packages[self.versions[found.version_id].package_id])
        return found

    def download_target(self, caller: Caller, file_id: int) -> ReleaseFile:
        """checkCanDownloadReleaseVersion; an unknown file is a RuntimeException (500), not a 404."""
        found = self.files.get(file_id)
        version = self.versions.get(found.version_id) if found else None
        if version is None or self.packages[version.package_id].inactive_at is not None:
            raise failure(f"no such file found: {file_id}")
        key = self.member_key(self.packages[version.package_id])
        release_type = version.fields.get("releaseType")
        if caller.staff_or_admin or ("ROLE_MEMBER" in caller.roles and key == IHTSDO):
            return found
        if release_type is None:
            raise failure(f"NPE: version {version.id} has a null releaseType")
        published = is_type(release_type, ONLINE) or is_type(release_type, ALPHA_BETA)
        if published and caller.good_standing and key in caller.accepted:
            return found
        raise failure(f"checkCanDownloadReleaseVersion: {caller.username} may not download {release_type!r} {key} release")

    # --- packages ------------------------------------------------------------------------------

    def _body_member(self, member: dict) -> int:
        """An admin's `member`: plain bean binding, so only a persisted memberId works."""
        member_id = member.get("memberId")
        if member_id is None:
            raise failure("TransientObjectException: member without memberId")
        if member_id not in self.members:
            raise failure(f"foreign key violation: no member {member_id}")
        return member_id

    @staticmethod
    def _check_name(fields: dict):
        if isinstance(fields.get("name"), str) and len(fields["name"]) > NAME_LIMIT:
            raise failure("value too long for type character varying(255)")

    def create_package(self, caller: Caller, body: dict) -> Package:
        """POST: staff always get their own member; admins may name one (by memberId), default IHTSDO."""
        if caller.admin and body.get("member") is not None:
            member_id = self._body_member(body["member"])
        else:
            member = self.member_by_key(caller.member)
            if member is None:
                raise failure(f"null value in column member_id: {caller.username} has no member")
            member_id = member["memberId"]
        fields = {name: body.get(name) for name in PACKAGE_FIELDS}
        self._check_name(fields)
        now = time.time()
        package = Package(self.new_id(), now, member_id, fields, created_by=caller.username)
        self.prioritize(package, 0)
        self.packages[package.id] = package
        return package

    def update_package(self, caller: Caller, package_id: int, body: dict) -> Package:
        """PUT: copies PACKAGE_FIELDS (missing -> null), member for admins, then re-ranks by `priority`."""
        package = self.package(package_id)
        self._check_edit(caller, package)
        member_id = package.member_id
        if caller.admin:
            if body.get("member") is None:
                raise failure("null value in column member_id: admin PUT without member")
            member_id = self._body_member(body["member"])
        fields = {name: body.get(name) for name in PACKAGE_FIELDS}
        self._check_name(fields)
        package.fields, package.member_id = fields, member_id
        self.prioritize(package, body.get("priority"))
        return package

    def delete_package(self, caller: Caller, package_id: int):
        """DELETE: soft; 5.2 refuses (409) only when a version has the legacy `online` boolean set."""
        package = self.package(package_id)
        self._check_edit(caller, package)
        if any(version.online for version in self.versions_of(package)):
            raise conflict(f"package {package_id} has a version with the legacy online=true")
        package.inactive_at = time.time()

    def prioritize(self, package: Package, priority: int | None):
        """ReleasePackagePrioritizer: per member, ranks N..1; a new package goes to the bottom."""
        if priority is not None and package.priority == priority:
            return
        ranked = [p for p in self.live_packages() if p.member_id == package.member_id and p is not package]
        # findByMemberOrderByPriorityDesc on PostgreSQL: NULLs first; ties in id order
        ranked.sort(key=lambda p: (p.priority is not None, -(p.priority or 0), p.id))
        index = len(ranked)
        if package.id in self.packages:  # only an existing package moves; a new one stays at the bottom
            for position, other in enumerate(ranked):
                if other.priority is None or (priority is not None and priority >= other.priority):
                    index = position
                    break
        ranked.insert(index, package)
        for position, other in enumerate(ranked):
            other.priority = len(ranked) - position

    # --- versions ------------------------------------------------------------------------------

    @staticmethod
    def _published_at(body: dict):
        """The legacy setOnline(true) fills a null publishedAt with today, in JSON key order."""
        published = None
        for key, value in body.items():
            if key == "publishedAt":
                published = value
            elif key == "online" and value and published is None:
                published = today()
        return published

    def create_version(self, caller: Caller, package_id: int, body: dict) -> Version:
        """POST: the body is the entity, so `online` and `archive` are taken as sent."""
        package = self.package(package_id)
        self._check_edit(caller, package)
        fields = {name: body.get(name) for name in VERSION_FIELDS}
        fields["publishedAt"] = self._published_at(body)
        self._check_name(fields)
        now = time.time()
        version = Version(self.new_id(), package.id, str(uuid.uuid4()), now, now, fields, online=bool(body.get("online")),
                          archive=bool(body.get("archive")), created_by=caller.username)
        self.versions[version.id] = version
        package.version_ids.append(version.id)
        return version

    def update_version(self, caller: Caller, version_id: int, body: dict) -> Version:
        """PUT: replaces VERSION_FIELDS (missing -> null), new `id` UUID; a null releaseType is an NPE (500)."""
        version = self.version(version_id)
        self._check_edit(caller, self.packages[version.package_id])
        if body.get("releaseType") is None:
            raise failure("NPE: releaseType missing from the PUT body (audit equalsIgnoreCase)")
        fields = {name: body.get(name) for name in VERSION_FIELDS}
        fields["publishedAt"] = self._published_at(body)
        self._check_name(fields)
        version.fields = fields
        version.uuid = str(uuid.uuid4())
        version.last_updated = time.time()
        return version

    def delete_version(self, caller: Caller, version_id: int):
        """DELETE: hard; 409 while online, 500 while files remain (foreign key)."""
        version = self.version(version_id)
        package = self.packages[version.package_id]
        self._check_edit(caller, package)
        release_type = version.fields.get("releaseType")
        if release_type is None:
            raise failure(f"NPE: version {version_id} has a null releaseType")
        if is_type(release_type, ONLINE):
            raise conflict(f"version {version_id} is online")
        if version.file_ids:
            raise failure(f"FK_release_file_release_version: version {version_id} still has {len(version.file_ids)} file(s)")
        package.version_ids.remove(version_id)
        del self.versions[version_id]

    def notify(self, caller: Caller, version_id: int) -> Version:
        """POST notifications: 5.2 mails the member's affiliates on every call."""
        version = self.version(version_id)
        self._check_edit(caller, self.packages[version.package_id])
        version.notifications += 1
        self.notifications.append({"time": instant(time.time()), "version": version_id, "package": version.package_id,
                                   "user": caller.username})
        return version

    def set_archive(self, caller: Caller, version_id: int, archive: bool) -> Version:
        """POST updateArchive: just the flag (5.2 filters nothing on it)."""
        version = self.version(version_id)
        self._check_edit(caller, self.packages[version.package_id])
        version.archive = archive
        return version

    def dependency(self, version_id: int) -> bool:
        """checkVersionDependency: another version (even in a deleted package) depends on this versionURI."""
        version = self.versions.get(version_id)
        uri = version.fields.get("versionURI") if version else None
        if not uri:
            return False
        for other in self.versions.values():
            deps = (other.fields.get("versionDependentURI"), other.fields.get("versionDependentDerivativeURI"))
            if other is not version and any(isinstance(dep, str) and dep.strip() == uri for dep in deps):
                return True
        return False

    # --- files ---------------------------------------------------------------------------------

    @staticmethod
    def _file_fields(body: dict) -> dict:
        fields = {name: body.get(name) for name in FILE_FIELDS}
        fields["primaryFile"] = bool(fields["primaryFile"])  # a primitive boolean: null reads as false
        return fields

    def create_file(self, caller: Caller, version_id: int, body: dict) -> ReleaseFile:
        """POST a file to the path's version."""
        version = self.version(version_id)
        self._check_edit(caller, self.packages[version.package_id])
        found = ReleaseFile(self.new_id(), version.id, time.time(), self._file_fields(body))
        self.files[found.id] = found
        version.file_ids.append(found.id)
        return found

    def update_file(self, caller: Caller, version_id: int, body: dict) -> ReleaseFile:
        """PUT on the collection URL: the file comes from body.releaseFileId, the check from the path's version."""
        version = self.version(version_id)
        self._check_edit(caller, self.packages[version.package_id])
        file_id = body.get("releaseFileId")
        if file_id is None:
            raise failure("InvalidDataAccessApiUsageException: the given id must not be null")
        found = self.file(file_id)
        found.fields = self._file_fields(body)
        return found

    def delete_file(self, caller: Caller, file_id: int):
        """DELETE: hard, no state check (files go even from online versions)."""
        found = self.file(file_id)
        version = self.versions[found.version_id]
        self._check_edit(caller, self.packages[version.package_id])
        version.file_ids.remove(file_id)
        del self.files[file_id]

    def record_download(self, caller: Caller, found: ReleaseFile, method: str, status: int):
        """The audit MLDS writes for every attempt; only GETs answered 200 count as downloads."""
        if method == "GET" and status == 200:
            found.downloads += 1
        self.downloads.append({"time": instant(time.time()), "file": found.id, "user": caller.username,
                               "method": method, "status": status})
