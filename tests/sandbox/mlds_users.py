"""MLDS sandbox logins: the default users, and the authorities a request runs with (`Caller`).

Remote (IMS/Crowd) users get ROLE_USER besides their mapped roles (AuthorityConverter); affiliates are
local users whose accepted membership applications decide what they may download.
"""

from dataclasses import dataclass, field

IHTSDO = "IHTSDO"

# role name in the info JSON -> username, password (before --mlds-password-prefix), authorities, member, applications
DEFAULT_USERS = {
    "admin": ("admin", "sbx-Admin-7c1e9f2a", ("ROLE_ADMIN", IHTSDO, "ROLE_USER"), IHTSDO, ()),
    "staff_se": ("staff-se", "sbx-StaffSE-3b8d61e0", ("ROLE_STAFF", "ROLE_STAFF_SE", "ROLE_USER"), "SE", ()),
    "staff_dk": ("staff-dk", "sbx-StaffDK-94a2c7d5", ("ROLE_STAFF", "ROLE_STAFF_DK", "ROLE_USER"), "DK", ()),
    "affiliate": ("affiliate@example.org", "sbx-Affiliate-5e07b3c8", ("ROLE_USER",), "SE", (("SE", "PRIMARY", True),)),
    "pending": ("pending@example.org", "sbx-Pending-d16f0a49", ("ROLE_USER",), "SE", (("SE", "PRIMARY", False),)),
    "member": ("member-user", "sbx-Member-2f8e6b1d", ("ROLE_MEMBER", "ROLE_MEMBER_IHTSDO", "ROLE_USER"), IHTSDO, ()),
}


@dataclass(frozen=True)
class Caller:
    """Who a request runs as: the authorities Spring Security would hold, plus what the checkers look up."""

    username: str | None = None
    roles: frozenset = frozenset({"ROLE_ANONYMOUS"})
    member: str | None = None  # getMemberAssociatedWithUser: the member staff create packages for
    accepted: frozenset = frozenset()  # member keys of accepted membership applications
    good_standing: bool = True  # not deactivated, deregistered or pending an invoice

    @property
    def admin(self) -> bool:
        """ROLE_ADMIN."""
        return "ROLE_ADMIN" in self.roles

    @property
    def staff_or_admin(self) -> bool:
        """Sees raw download URLs, downloads anything."""
        return bool(self.roles & {"ROLE_STAFF", "ROLE_ADMIN"})

    @property
    def sees_offline(self) -> bool:
        """shouldSeeOfflinePackages: member, staff or admin."""
        return bool(self.roles & {"ROLE_MEMBER", "ROLE_STAFF", "ROLE_ADMIN"})

    @property
    def sees_alpha_beta(self) -> bool:
        """shouldSeeAlphaBetaPackages: any ROLE_USER."""
        return "ROLE_USER" in self.roles

    def can_edit(self, member_key: str) -> bool:
        """checkCanEditReleasePackage: admin, or staff of the package's member."""
        return self.admin or f"ROLE_STAFF_{member_key}" in self.roles


ANONYMOUS = Caller()


@dataclass
class User:
    """A login: remote (IMS/Crowd) staff, admin and member users, or a local affiliate."""

    username: str
    password: str
    roles: tuple
    member: str
    applications: list = field(default_factory=list)  # [{"member": "SE", "type": "PRIMARY", "approved": True}]
    deactivated: bool = False

    def caller(self) -> Caller:
        """The authorities and affiliate standing this user's requests run with."""
        accepted = set()
        if "ROLE_USER" in self.roles:
            for application in self.applications:
                if application.get("approved"):
                    accepted.add(application["member"])
                    if application.get("type", "PRIMARY") == "PRIMARY":  # a primary application also grants IHTSDO
                        accepted.add(IHTSDO)
        return Caller(self.username, frozenset(self.roles), self.member, frozenset(accepted), not self.deactivated)

    def to_json(self) -> dict:
        """The user as the control API shows it (with the password: the control API is for tests)."""
        return {"username": self.username, "password": self.password, "roles": list(self.roles), "member": self.member,
                "applications": [dict(app) for app in self.applications], "deactivated": self.deactivated}


def default_users(prefix: str) -> dict[str, User]:
    """The users of README.md, passwords prefixed with --mlds-password-prefix."""
    users = {}
    for role, (username, password, roles, member, applications) in DEFAULT_USERS.items():
        apps = [{"member": key, "type": kind, "approved": approved} for key, kind, approved in applications]
        users[role] = User(username, prefix + password, roles, member, apps)
    return users
