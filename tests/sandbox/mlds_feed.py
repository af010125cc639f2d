"""MLDS 5.2's syndication feed, GET /api/feed, rendered as AtomFeedService/AtomEntryImpl render it.

What appears is what ReleaseVersionRepository.listAtomFeed selects: one row per file of a version whose releaseType is
`online` (MySQL compares case-insensitively), whose package has a releasePackageURI and which has a versionURI (NULL and
'' both fail `<> ''`; MySQL ignores trailing spaces there). Versions without files never appear; neither the
`archive` flag nor the package's soft delete is tested. Rows are grouped into one entry per version, in HashMap
order; every value is appended raw (no XML escaping) and a Java null prints as `null`.
"""

import time

from .feeds import CATEGORY_LABELS, NCTS_NS, PROFILE, SCHEME, SCT_NS, apply_link_fault, document_body
from .mlds_store import ONLINE, MldsStore, is_type

# Production MLDS's feed settings (atom.feed.*), as its live feed shows them.
TITLE = "SNOMED International MLDS Terminology Release Syndication Feed"
FEED_ID = "urn:uuid:5c26c3ca-c21c-476e-b0a4-096679529f2e"
GENERATOR = "SNOMED International"
MLDS_CATEGORIES = ("SCT_RF2_SNAPSHOT", "SCT_RF2_FULL", "SCT_RF2_ALL")  # anything else is OTHER


def _s(value) -> str:
    """Java's String.valueOf / StringBuilder.append."""
    return "null" if value is None else str(value)


def _blank(value) -> bool:
    """Fails `column <> ''` in MySQL: NULL, or empty once trailing spaces are ignored (PAD SPACE collations)."""
    return value is None or str(value).rstrip(" ") == ""


def _set(value) -> bool:
    """AtomEntryImpl's test for optional values: not null, not empty, not the text "null"."""
    return value is not None and str(value) != "" and str(value) != "null"


def _stamp(epoch: float) -> str:
    """`yyyy-MM-dd'T'HH:mm:ss'Z'` in the JVM zone (the sandbox's MLDS runs in UTC, so the Z is right)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def entries(store: MldsStore, base_url: str, arrange) -> list[dict]:
    """One dict per published version (see the module docstring); `arrange` orders entries and links."""
    found = []
    for version in store.versions.values():
        package = store.packages[version.package_id]
        files = store.files_of(version)
        if not (is_type(version.fields.get("releaseType"), ONLINE) and files
                and not _blank(package.fields.get("releasePackageURI")) and not _blank(version.fields.get("versionURI"))):
            continue
        member = store.members[package.member_id]
        name, version_name = package.fields.get("name"), version.fields.get("name")
        links = []
        for item in arrange(files):
            url, size, md5 = item.fields.get("downloadUrl"), item.fields.get("fileSize"), item.fields.get("md5Hash")
            described = _set(size) and _set(md5)
            links.append({
                "rel": "alternate" if item.fields.get("primaryFile") else "related",
                "type": "application/" + _s(url).rsplit(".", 1)[-1],  # everything after the last dot of the URL
                "href": f"{base_url}/api/releasePackages/{package.id}/releaseVersions/{version.id}/releaseFiles/{item.id}/download",
                "name": _s(url).split("?", 1)[0].rsplit("/", 1)[-1],
                "length": _s(size) if described else None, "md5": _s(md5) if described else None})
        found.append({
            "title": "null" if name is None or version_name is None else f"{name}-{version_name}",  # SQL CONCAT
            "links": links, "package_type": version.fields.get("packageType"),
            "author": (member.get("memberOrgName"), member.get("memberOrgURL"), member.get("contactEmail")),
            "id": version.uuid, "rights": package.fields.get("copyrights"), "updated": _stamp(version.last_updated),
            "published": version.fields.get("publishedAt"), "summary": version.fields.get("summary"),
            "identifier": package.fields.get("releasePackageURI"), "version": version.fields.get("versionURI"),
            "edition": version.fields.get("versionDependentURI"),
            "derivative": version.fields.get("versionDependentDerivativeURI"),
        })
    return arrange(found)


def _entry_xml(entry: dict) -> str:
    out = ["    <entry>\n", f"        <title>{_s(entry['title'])}</title>\n"]
    for link in entry["links"]:
        extra = f' length="{link["length"]}" sct:md5Hash="{link["md5"]}"' if link["length"] is not None else ""
        out.append(f'        <link rel="{link["rel"]}" type="{link["type"]}" href="{link["href"]}"{extra} />\n')
    term = entry["package_type"] if entry["package_type"] in MLDS_CATEGORIES else "OTHER"
    label = CATEGORY_LABELS.get(term, "Other Package")
    out.append(f'        <category term="{term}" label="{label}" scheme="{SCHEME}" />\n')
    name, uri, email = (_s(value) for value in entry["author"])
    out += ["        <author>\n", f"            <name>{name}</name>\n", f"            <uri>{uri}</uri>\n",
            f"            <email>{email}</email>\n", "        </author>\n",
            f"        <id>urn:uuid:{entry['id']}</id>\n", f"        <rights>{_s(entry['rights'])}</rights>\n",
            f"        <updated>{entry['updated']}</updated>\n",
            f"        <published>{_s(entry['published'])}T00:00:00Z</published>\n",
            f"        <summary>{_s(entry['summary'])}</summary>\n",
            f"        <ncts:contentItemIdentifier>{_s(entry['identifier'])}</ncts:contentItemIdentifier>\n",
            f"        <ncts:contentItemVersion>{_s(entry['version'])}</ncts:contentItemVersion>\n"]
    if _set(entry["edition"]):  # a derivative dependency without an edition one is dropped
        out += ["        <sct:packageDependency>\n",
                f"            <sct:editionDependency>{entry['edition']}</sct:editionDependency>\n"]
        if _set(entry["derivative"]):
            out.append(f"            <sct:derivativeDependency>{entry['derivative']}</sct:derivativeDependency>\n")
        out.append("        </sct:packageDependency>\n")
    out.append("    </entry>\n")
    return "".join(out)


def render(store: MldsStore, base_url: str, arrange, rule=None):
    """The feed as a response body (faults applied); the caller holds the store lock."""
    found = entries(store, base_url, arrange)
    apply_link_fault(found, rule, "md5")  # MLDS links carry only md5
    head = ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:ncts="{NCTS_NS}" xmlns:sct="{SCT_NS}">\n'
            f"    <title>{TITLE}</title>\n"
            f'    <link rel="alternate" type="application/atom+xml" href="{PROFILE}" />\n'  # the profile, not the feed
            f"    <id>{FEED_ID}</id>\n"
            f"    <generator>{GENERATOR}</generator>\n"
            f"    <updated>{_stamp(time.time())}</updated>\n"
            f"    <ncts:atomSyndicationFormatProfile>{PROFILE}</ncts:atomSyndicationFormatProfile>\n")
    xml = head + "".join(_entry_xml(entry) for entry in found) + "</feed>"  # no trailing newline
    return document_body(xml.encode("utf-8"), rule)
