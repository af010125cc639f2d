# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SNOMED MLDS client: members, release packages, versions, files, package licence, download URL.

PRIVATE to this collection: it may change without notice.

Written against MLDS 5.2 as it really behaves (research/mlds-api.md), not the 2015 public docs:

* HTTP Basic credentials go with EVERY request: MLDS answers 401 without a WWW-Authenticate challenge,
  so a client that waits for one never authenticates. The header is added by the session's auth hook, so
  requests never replaces it with .netrc credentials and never forwards it to another host on a redirect.
* Creates answer 200 with the entity; deletes 200 with an empty body; 404 and 409 have EMPTY bodies.
* Package and version PUTs replace a fixed field list: the callers GET, merge, and PUT the whole object.
* Collections (versions, files) come in arbitrary order; everything returned here is sorted by id.

Retries. Connection errors, timeouts, 408, 429 and 5xx other than 500 are retried (``retries`` times, with
backoff and Retry-After) on GET, PUT and DELETE; POST is never retried (creates, licence uploads,
notifications and archive flags are not safe to repeat blindly). HTTP 500 is special: MLDS reports
permission failures (staff of another member, an affiliate not approved for a member) and other
deterministic faults (a missing field, a version that still has files) as 500, so retrying mostly wastes
the backoff. A 500 is therefore retried at most ONCE, and only for GET reads; a 500 on PUT, DELETE or a
download fails at once with an explanation of what MLDS usually means by it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import mimetypes
import re
from urllib.parse import quote, urlsplit

from ansible_collections.terminology.releases.plugins.module_utils import _download
from ansible_collections.terminology.releases.plugins.module_utils._http import (
    HttpError,
    Redactor,
    is_retryable_status,
    retry_after_seconds,
)
from ansible_collections.terminology.releases.plugins.module_utils._state import Field

DEFAULT_URL = 'https://mlds.ihtsdotools.org'
RELEASE_TYPES = ('online', 'offline', 'alpha/beta')
ONLINE = 'online'
OFFLINE = 'offline'
PACKAGE_TYPES = ('SCT_RF2_ALL', 'SCT_RF2_SNAPSHOT', 'SCT_RF2_FULL', 'OTHER')
MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_LICENSE_BYTES = 256 * 1024 * 1024
_MD5_RE = re.compile(r'^[0-9A-Fa-f]{32}$')
_DATE_RE = re.compile(r'^\d{4}-\d{2}-\d{2}$')
_SNAKE_RE = re.compile(r'(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])')
_URL_USERINFO_RE = re.compile(r'^([A-Za-z][A-Za-z0-9+.-]*://)[^/@?#]*@')

# Comparable options: module option name, MLDS JSON key, comparison kind (see _state).
PACKAGE_FIELDS = (
    Field('name', 'name'),
    Field('description', 'description'),
    Field('copyrights', 'copyrights'),
    Field('release_package_uri', 'releasePackageURI'),
    Field('member', 'member', 'member'),
    Field('priority', 'priority', 'priority'),
)
VERSION_FIELDS = (
    Field('name', 'name'),
    Field('description', 'description'),
    Field('summary', 'summary'),
    Field('release_type', 'releaseType'),
    Field('published_at', 'publishedAt'),
    Field('version_uri', 'versionURI'),
    Field('version_dependent_uri', 'versionDependentURI'),
    Field('version_dependent_derivative_uri', 'versionDependentDerivativeURI'),
    Field('package_type', 'packageType'),
    Field('archived', 'archive', 'bool'),
)
# The fields a version PUT copies from its body (a missing one becomes null; a missing releaseType is a 500).
VERSION_PUT_FIELDS = ('name', 'description', 'releaseType', 'publishedAt', 'summary', 'versionURI',
                      'versionDependentURI', 'versionDependentDerivativeURI', 'packageType')
FILE_FIELDS = (
    Field('label', 'label'),
    Field('download_url', 'downloadUrl'),
    Field('md5_hash', 'md5Hash'),
    Field('file_size', 'fileSize', 'size'),
    Field('primary_file', 'primaryFile', 'bool'),
)
FILE_PUT_FIELDS = ('releaseFileId', 'label', 'downloadUrl', 'md5Hash', 'fileSize', 'primaryFile')


class MldsError(Exception):
    """An MLDS answer or object state the user must act on; the text is already free of secrets."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


# ---- credentials ---------------------------------------------------------------------------------

def basic_token(username, password):
    """base64 of "username:password" in UTF-8 (Spring Security 6 decodes Basic credentials as UTF-8)."""
    return base64.b64encode(('%s:%s' % (username, password)).encode('utf-8')).decode('ascii')


def make_redactor(username, password):
    """A Redactor for the password in every form it travels in, and the whole Basic credential."""
    if not password:
        return Redactor()
    forms = [basic_token(username or '', password)]
    with contextlib.suppress(UnicodeEncodeError):
        forms.append(base64.b64encode(('%s:%s' % (username or '', password)).encode('latin-1')).decode('ascii'))
    return Redactor([password], extra_forms=forms)


class _BasicAuth:
    """requests auth hook: sets the Basic header on every request, before any challenge (there is none)."""

    def __init__(self, token):
        self._value = 'Basic ' + token

    def __call__(self, request):
        request.headers['Authorization'] = self._value
        return request

    def __repr__(self):
        return '_BasicAuth(********)'


_LOOPBACK_HOSTS = ('localhost', '127.0.0.1', '::1')


def require_account(params, purpose, warn=None):
    """MldsError unless username and password are set; a warning when they would cross the network in clear."""
    if not params.get('username') or params.get('password') is None:
        raise MldsError('An MLDS account is needed to %s: set username and password (or MLDS_USERNAME and '
                        'MLDS_PASSWORD).' % purpose)
    parts = urlsplit(params.get('url') or DEFAULT_URL)
    if warn and parts.scheme.lower() == 'http' and (parts.hostname or '') not in _LOOPBACK_HOSTS:
        warn('url uses plain http: the MLDS password crosses the network unencrypted with every request. Use https.')


# ---- output --------------------------------------------------------------------------------------

def snake_case(name):
    """releasePackageURI -> release_package_uri, md5Hash -> md5_hash, clientDownloadUrl -> client_download_url."""
    return _SNAKE_RE.sub('_', name).lower()


def mask_url_credentials(value):
    """A URL with user:password@ in it keeps the host and path but loses the credentials."""
    if isinstance(value, str) and '://' in value:
        return _URL_USERINFO_RE.sub(r'\1********@', value)
    return value


def sort_key(item, key):
    value = item.get(key) if isinstance(item, dict) else None
    return (value is None, value if isinstance(value, int) else 0, str(value))


def sort_package(package):
    """A copy of a package with its versions and their files in a stable order (by id)."""
    package = dict(package)
    versions = []
    for version in package.get('releaseVersions') or []:
        version = dict(version)
        version['releaseFiles'] = sorted(version.get('releaseFiles') or [], key=lambda f: sort_key(f, 'releaseFileId'))
        versions.append(version)
    if 'releaseVersions' in package:
        package['releaseVersions'] = sorted(versions, key=lambda v: sort_key(v, 'releaseVersionId'))
    return package


def to_output(value):
    """A server object as modules return it: snake_case keys, stable order, URL credentials masked."""
    if isinstance(value, dict):
        if 'releaseVersions' in value:
            value = sort_package(value)
        elif 'releaseFiles' in value:
            value = dict(value)
            value['releaseFiles'] = sorted(value.get('releaseFiles') or [], key=lambda f: sort_key(f, 'releaseFileId'))
        return dict((snake_case(key), to_output(item)) for key, item in value.items())
    if isinstance(value, list):
        return [to_output(item) for item in value]
    return mask_url_credentials(value)


# ---- helpers on server objects -------------------------------------------------------------------

def is_online(version):
    """releaseType "online", compared case-insensitively as MLDS does."""
    value = version.get('releaseType') if version else None
    return isinstance(value, str) and value.lower() == ONLINE


def member_key(package):
    member = package.get('member') if package else None
    return member.get('key') if isinstance(member, dict) else None


def member_ref(member):
    """The member reference MLDS needs in a body: id and key, as GET /api/members gives them."""
    return {'memberId': member.get('memberId'), 'key': member.get('key')}


def describe_package(package):
    return 'release package %s (%r, member %s)' % (package.get('releasePackageId'), package.get('name'),
                                                   member_key(package))


def describe_version(version):
    return 'version %s (%r)' % (version.get('releaseVersionId'), version.get('name'))


def sentence(text):
    """text with its first letter in upper case (str.capitalize would lower-case the rest, names included)."""
    return text[:1].upper() + text[1:]


def file_size_value(value):
    """fileSize as an int, or None when absent or not a whole number ("123" and 123 both give 123)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def valid_md5(value):
    return isinstance(value, str) and bool(_MD5_RE.match(value.strip()))


def valid_date(value):
    return isinstance(value, str) and bool(_DATE_RE.match(value))


def safe_file_name(name, source):
    """name if it is a plain file name that cannot leave the destination directory; else MldsError."""
    if not isinstance(name, str) or not name.strip():
        raise MldsError('The %s is empty, so it cannot name the downloaded file; set file_name.' % source)
    bad = ('/' in name or '\\' in name or name in ('.', '..') or name.startswith('.')
           or any(ord(char) < 32 or ord(char) == 127 for char in name) or len(name.encode('utf-8')) > 255
           or name != name.strip())
    if bad:
        raise MldsError('Refusing the %s %r as a file name: it is not a plain file name (path separators, a '
                        'leading dot, surrounding spaces, control characters or over 255 bytes). Set file_name to '
                        'choose a name.' % (source, name))
    return name


def guess_content_type(path):
    kind, _encoding = mimetypes.guess_type(path)
    return kind or 'application/octet-stream'


def file_digest(path, chunk_size=_download.CHUNK_SIZE):
    """(md5 hex, size) of a local file, streamed."""
    md5 = hashlib.md5()
    size = 0
    try:
        with open(path, 'rb') as handle:
            for block in iter(lambda: handle.read(chunk_size), b''):
                md5.update(block)
                size += len(block)
    except OSError as exc:
        raise MldsError('Cannot read %s: %s.' % (path, exc.strerror or exc)) from None
    return md5.hexdigest(), size


# ---- error texts ---------------------------------------------------------------------------------

def _boot_error(body):
    """error/message of a Spring Boot error JSON body, if it is one."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    parts = [data.get(key) for key in ('error', 'message') if isinstance(data.get(key), str) and data.get(key)]
    return ': '.join(parts) or None


def _snippet(body, limit=300):
    text = ' '.join((body or '').split())
    return text if len(text) <= limit else text[:limit] + '...'


def describe_failure(status, action, what=None, on_409=None, on_500=None, body=None, authenticated=True,
                     attempts=1):
    """The user-facing text for an MLDS error status (research/mlds-api.md sections 2.3, 6)."""
    said = _boot_error(body) if body else None
    said_text = (' MLDS said: %s.' % said) if said else ''
    if status == 400:
        return ('MLDS rejected the request to %s (HTTP 400): %s' % (action, _snippet(body) or 'no detail given'))
    if status == 401:
        if not authenticated:
            return ('MLDS needs an account to %s (HTTP 401): set username and password (or MLDS_USERNAME and '
                    'MLDS_PASSWORD).' % action)
        return ('MLDS refused the credentials to %s (HTTP 401): check username and password (or MLDS_USERNAME and '
                'MLDS_PASSWORD). Staff and admins sign in with their IMS (Crowd) account, affiliates with their '
                'e-mail address; an IMS account without an MLDS role is refused too. The credentials were sent '
                'with HTTP Basic auth on the request itself (MLDS sends no challenge).' % action)
    if status == 403:
        return ('MLDS refused to %s (HTTP 403): the account signed in but lacks the role. Managing release '
                'packages, versions, files and licences needs an MLDS staff account of the package\'s member or '
                'an admin account.%s' % (action, said_text))
    if status == 404:
        return ('MLDS found no %s (HTTP 404): it does not exist or was deleted.' % (what or 'such object'))
    if status == 405:
        return 'MLDS does not allow this request to %s (HTTP 405): is url the MLDS site root?' % action
    if status == 409:
        return ('MLDS refused to %s (HTTP 409, a state conflict): %s'
                % (action, on_409 or 'the object is in a state that forbids it, for example an online version.'))
    if status == 500:
        return ('MLDS answered HTTP 500 to %s. MLDS reports permission failures as HTTP 500: the account may not be '
                'staff of this package\'s member (or %s).%s'
                % (action, on_500 or 'the request is missing a field MLDS needs', said_text))
    if status == 415:
        return 'MLDS refused the content type of the request to %s (HTTP 415).%s' % (action, said_text)
    if 500 <= status <= 599:
        tried = (' after %d attempts' % attempts) if attempts > 1 else ''
        return ('MLDS is unavailable or failing: HTTP %s to %s%s.%s Try again later.'
                % (status, action, tried, said_text))
    return 'MLDS answered HTTP %s to %s.%s' % (status, action, said_text)


def _non_json_error(action, url, body):
    snippet = body[:80].decode('utf-8', 'replace') if isinstance(body, bytes) else str(body)[:80]
    lowered = snippet.lower()
    kind = 'an HTML page' if '<html' in lowered or '<!doctype' in lowered else 'malformed JSON'
    return MldsError('MLDS returned %s instead of JSON to %s: is url (%s) the MLDS site root, for example '
                     'https://mlds.ihtsdotools.org? (starts with %r)' % (kind, action, url, snippet))


# ---- the client ----------------------------------------------------------------------------------

class MldsClient:
    """MLDS REST calls. Every method raises MldsError (mapped status) or TransportError (no answer)."""

    def __init__(self, http, url, username=None, password=None):
        self.http = http
        self.url = (url or DEFAULT_URL).rstrip('/')
        self.authenticated = bool(username) and password is not None
        if self.authenticated:
            http.session.auth = _BasicAuth(basic_token(username, password))
        self._members = None

    def api(self, path):
        return self.url + path

    # -- transport --

    def call(self, method, path, action, what=None, expected=(200,), on_409=None, on_500=None, headers=None,
             **kwargs):
        """One API request with this module's retry rules (see the module docstring). Returns the response."""
        idempotent = method in ('GET', 'HEAD', 'PUT', 'DELETE')
        url = self.api(path)
        send_headers = {'Accept': 'application/json'}
        send_headers.update(headers or {})
        retried_500 = 0
        kwargs.setdefault('limit', MAX_JSON_BYTES)  # no answer may fill the module's memory
        while True:
            try:
                response = self.http.request(method, url, expected=tuple(expected) + (500,), headers=send_headers,
                                             idempotent=idempotent, **kwargs)
            except HttpError as exc:
                attempts = self.http.policy.retries + 1 if idempotent and is_retryable_status(exc.status or 0) else 1
                raise MldsError(describe_failure(exc.status, action, what, on_409, on_500, exc.body,
                                                 self.authenticated, attempts), status=exc.status) from None
            if response.status_code != 500 or 500 in expected:
                return response
            body = self.http.redact(response.text)
            response.close()
            if method == 'GET' and retried_500 < 1 and self.http.policy.retries > 0:
                self.http.policy.wait(0, retry_after_seconds(response.headers.get('Retry-After')))
                retried_500 += 1
                continue
            raise MldsError(describe_failure(500, action, what, on_409, on_500, body, self.authenticated),
                            status=500)

    def call_json(self, method, path, action, **kwargs):
        response = self.call(method, path, action, limit=MAX_JSON_BYTES, **kwargs)
        content = response.content
        if len(content) > MAX_JSON_BYTES:
            raise MldsError('MLDS answered more than %d bytes to %s; refusing to read further.'
                            % (MAX_JSON_BYTES, action))
        if not content.strip():
            raise MldsError('MLDS answered %s with an empty body to %s; expected JSON.'
                            % (response.status_code, action))
        try:
            return json.loads(content.decode('utf-8'))
        except ValueError:
            raise _non_json_error(action, self.url, content) from None

    def _json_object(self, data, action):
        if not isinstance(data, dict):
            raise MldsError('MLDS answered the request to %s with JSON that is not an object.' % action)
        return data

    def _json_list(self, data, action):
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise MldsError('MLDS answered the request to %s with JSON that is not a list of objects.' % action)
        return data

    # -- members --

    def members(self):
        if self._members is None:
            action = 'list the members'
            self._members = self._json_list(self.call_json('GET', '/api/members', action), action)
        return self._members

    def member(self, key):
        """The member with this key (case-insensitive), as GET /api/members gives it."""
        members = self.members()
        for member in members:
            if isinstance(member.get('key'), str) and member['key'].lower() == str(key).lower():
                return member
        keys = ' '.join(sorted(str(member.get('key')) for member in members))
        raise MldsError('MLDS has no member with key %r. Valid keys: %s.' % (key, keys))

    # -- packages --

    def packages(self):
        action = 'list the release packages'
        return self._json_list(self.call_json('GET', '/api/releasePackages', action), action)

    def package(self, package_id, missing_ok=False):
        action = 'read release package %s' % package_id
        try:
            data = self.call_json('GET', '/api/releasePackages/%s' % _int(package_id), action,
                                  what='release package with id %s' % package_id)
        except MldsError as exc:
            if missing_ok and exc.status == 404:
                return None
            raise
        return self._json_object(data, action)

    def create_package(self, body):
        action = 'create release package %r' % body.get('name')
        return self._json_object(self.call_json('POST', '/api/releasePackages', action, json=body,
                                                on_500='the member sent does not exist in MLDS'), action)

    def update_package(self, package_id, body):
        action = 'update release package %s' % package_id
        return self._json_object(self.call_json(
            'PUT', '/api/releasePackages/%s' % _int(package_id), action, json=body,
            what='release package with id %s' % package_id,
            on_500='for an admin, the body lacks the member'), action)

    def delete_package(self, package_id, on_409=None):
        self.call('DELETE', '/api/releasePackages/%s' % _int(package_id), 'delete release package %s' % package_id,
                  what='release package with id %s' % package_id,
                  on_409=on_409 or 'the package has an online version. Take its versions offline first.')

    def license(self, package_id):
        """The package's licence bytes, or None when it has none (204)."""
        response = self.call('GET', '/api/releasePackages/%s/license' % _int(package_id),
                             'read the licence of release package %s' % package_id, expected=(200, 204),
                             limit=MAX_LICENSE_BYTES,
                             what='release package with id %s' % package_id, headers={'Accept': '*/*'})
        if response.status_code == 204:
            return None
        data = response.content
        if len(data) > MAX_LICENSE_BYTES:
            raise MldsError('The licence of release package %s is larger than %d bytes.'
                            % (package_id, MAX_LICENSE_BYTES))
        return data

    def upload_license(self, package_id, file_name, data, content_type):
        # The part must carry a content type: MLDS stores it and answers a later GET with it (null -> 500).
        self.call('POST', '/api/releasePackages/%s/license' % _int(package_id),
                  'upload the licence of release package %s' % package_id,
                  what='release package with id %s' % package_id,
                  files={'file': (file_name, data, content_type)})

    # -- versions --

    def versions_path(self, package_id, version_id=None):
        path = '/api/releasePackages/%s/releaseVersions' % _int(package_id)
        return path if version_id is None else '%s/%s' % (path, _int(version_id))

    def version(self, package_id, version_id):
        action = 'read release version %s' % version_id
        return self._json_object(self.call_json(
            'GET', self.versions_path(package_id, version_id), action,
            what='release version with id %s' % version_id,
            on_500='the version is offline or alpha/beta and the account is an affiliate'), action)

    def create_version(self, package_id, body):
        action = 'create release version %r in package %s' % (body.get('name'), package_id)
        return self._json_object(self.call_json('POST', self.versions_path(package_id), action, json=body,
                                                what='release package with id %s' % package_id), action)

    def update_version(self, package_id, version_id, body):
        action = 'update release version %s' % version_id
        return self._json_object(self.call_json(
            'PUT', self.versions_path(package_id, version_id), action, json=body,
            what='release version with id %s' % version_id,
            on_500='the body lacks releaseType, which every version PUT needs'), action)

    def delete_version(self, package_id, version_id):
        self.call('DELETE', self.versions_path(package_id, version_id), 'delete release version %s' % version_id,
                  what='release version with id %s' % version_id,
                  on_409='the version is online. Take it offline first (take_offline: true).',
                  on_500='the version still has files, or its releaseType is null')

    def notify(self, package_id, version_id):
        action = 'notify the affiliates about release version %s' % version_id
        self.call('POST', self.versions_path(package_id, version_id) + '/notifications', action, json={},
                  what='release version with id %s' % version_id)

    def set_archive(self, version_id, archived):
        action = '%s release version %s' % ('archive' if archived else 'unarchive', version_id)
        self.call('POST', '/api/updateArchive/%s' % _int(version_id), action,
                  params={'isArchive': 'true' if archived else 'false'},
                  what='release version with id %s' % version_id)

    # -- files --

    def files_path(self, package_id, version_id, file_id=None):
        path = self.versions_path(package_id, version_id) + '/releaseFiles'
        return path if file_id is None else '%s/%s' % (path, _int(file_id))

    def create_file(self, package_id, version_id, body):
        action = 'create release file %r in version %s' % (body.get('label'), version_id)
        return self._json_object(self.call_json('POST', self.files_path(package_id, version_id), action, json=body,
                                                what='release version with id %s' % version_id), action)

    def update_file(self, package_id, version_id, body):
        # MLDS updates a file with a PUT on the COLLECTION url; the file id travels in the body.
        file_id = body.get('releaseFileId')
        action = 'update release file %s' % file_id
        return self._json_object(self.call_json(
            'PUT', self.files_path(package_id, version_id), action, json=body,
            what='release file with id %s in version %s' % (file_id, version_id)), action)

    def delete_file(self, package_id, version_id, file_id):
        self.call('DELETE', self.files_path(package_id, version_id, file_id), 'delete release file %s' % file_id,
                  what='release file with id %s' % file_id)

    def download_url(self, package_id, version_id, release_file):
        """The absolute URL of a file's proxied download (clientDownloadUrl, joined with url like API paths).

        Credentials are sent to it, so an absolute clientDownloadUrl must point at the same origin as url.
        """
        relative = release_file.get('clientDownloadUrl')
        if not relative:
            return self.api(self.files_path(package_id, version_id, release_file.get('releaseFileId')) + '/download')
        if '://' in relative:
            ours, theirs = urlsplit(self.url), urlsplit(relative)
            if (ours.scheme.lower(), ours.netloc.lower()) != (theirs.scheme.lower(), theirs.netloc.lower()):
                raise MldsError('MLDS gave a download URL on another host (%s://%s); refusing to send the '
                                'credentials there.' % (theirs.scheme, theirs.netloc))
            return relative
        if not relative.startswith('/'):
            relative = '/' + relative
        return self.api(relative)


def _int(value):
    """An id for a URL path: digits only, so nothing can change the path."""
    text = str(value)
    if not text.isdigit():
        raise MldsError('%r is not an MLDS id (a whole number).' % (value,))
    return quote(text, safe='')


# ---- lookups shared by the modules ---------------------------------------------------------------

def find_packages(packages, name=None, member=None):
    """Packages with this name (exact) and member key (case-insensitive), either filter optional."""
    found = []
    for package in packages:
        if name is not None and package.get('name') != name:
            continue
        if member is not None and (member_key(package) or '').lower() != member.lower():
            continue
        found.append(package)
    return found


def one_package(packages, name, member=None):
    """The single package with this name (and member), None if there is none; MldsError if ambiguous."""
    found = find_packages(packages, name=name, member=member)
    if len(found) > 1:
        listed = ', '.join('%s (member %s)' % (item.get('releasePackageId'), member_key(item)) for item in found)
        raise MldsError('%d release packages are named %r%s: ids %s. Choose one by id%s.'
                        % (len(found), name, ' in member %s' % member if member else '', listed,
                           '' if member else ' or by member'))
    return found[0] if found else None


def resolve_package(client, package, member=None):
    """A package given as an id (digits, tried first) or a name (+ member). MldsError if not found."""
    text = str(package)
    if text.isdigit():
        found = client.package(int(text), missing_ok=True)
        if found is not None:
            if member is not None and (member_key(found) or '').lower() != member.lower():
                raise MldsError('Release package %s belongs to member %s, not %s.' % (text, member_key(found), member))
            return found
    found = one_package(client.packages(), text, member)
    if found is None:
        raise MldsError('MLDS has no release package %s%r%s visible to this account. Affiliates and anonymous '
                        'callers see only packages with an online (or alpha/beta) version.'
                        % ('with id or name ' if text.isdigit() else 'named ', text,
                           ' in member %s' % member if member else ''))
    return found


def find_versions(package, version_id=None, name=None):
    found = []
    for version in package.get('releaseVersions') or []:
        if version_id is not None and str(version.get('releaseVersionId')) != str(version_id):
            continue
        if name is not None and version.get('name') != name:
            continue
        found.append(version)
    return found


def one_version(package, version_id=None, name=None):
    """The version of package with this id or name, None if absent; MldsError if the name is ambiguous."""
    found = find_versions(package, version_id=version_id, name=name)
    if len(found) > 1:
        raise MldsError('%s has %d versions named %r: ids %s. Choose one by id.'
                        % (sentence(describe_package(package)), len(found), name,
                           ', '.join(str(item.get('releaseVersionId')) for item in found)))
    return found[0] if found else None


def resolve_version(package, version):
    """A version given as an id (digits, tried first) or a name. MldsError if not found."""
    text = str(version)
    found = one_version(package, version_id=int(text)) if text.isdigit() else None
    if found is None:
        found = one_version(package, name=text)
    if found is None:
        names = ', '.join('%s (%r, %s)' % (item.get('releaseVersionId'), item.get('name'), item.get('releaseType'))
                          for item in sort_package(package).get('releaseVersions') or []) or 'none'
        raise MldsError('%s has no version %s%r visible to this account (affiliates see only online and alpha/beta '
                        'versions). Versions: %s.'
                        % (sentence(describe_package(package)), 'with id or name ' if text.isdigit() else 'named ',
                           text, names))
    return found


def one_file(version, file_id=None, label=None):
    found = []
    for release_file in version.get('releaseFiles') or []:
        if file_id is not None and str(release_file.get('releaseFileId')) != str(file_id):
            continue
        if label is not None and release_file.get('label') != label:
            continue
        found.append(release_file)
    if len(found) > 1:
        raise MldsError('%s has %d files labelled %r: ids %s. Choose one by id.'
                        % (sentence(describe_version(version)), len(found), label,
                           ', '.join(str(item.get('releaseFileId')) for item in found)))
    return found[0] if found else None


def default_file(version):
    """The version's primary file, or its only file, for a fetch that names no file."""
    files = version.get('releaseFiles') or []
    primary = [item for item in files if item.get('primaryFile') is True]
    if len(primary) == 1:
        return primary[0]
    if len(files) == 1:
        return files[0]
    listed = ', '.join('%s (%r%s)' % (item.get('releaseFileId'), item.get('label'),
                                      ', primary' if item.get('primaryFile') else '') for item in files) or 'none'
    raise MldsError('%s has %s; choose one with label or file_id. Files: %s.'
                    % (sentence(describe_version(version)),
                       'no files' if not files else 'no single primary file', listed))


# ---- request bodies ------------------------------------------------------------------------------

def package_put_body(current, member, priority):
    """The whole package for a PUT: every field as read, the member as {memberId, key}, and a priority (MLDS
    moves a package sent without one to the bottom). Versions are managed by their own endpoints."""
    body = dict((key, value) for key, value in current.items() if key != 'releaseVersions')
    body['member'] = member_ref(member)
    body['priority'] = priority
    return body


def version_put_body(current):
    """The whole version for a PUT, without the legacy `online` boolean (MLDS 5.2 guards package deletes with
    it, and a PUT never clears it) and without the files (managed by their own endpoints)."""
    body = dict((key, value) for key, value in current.items() if key not in ('online', 'releaseFiles'))
    for key in VERSION_PUT_FIELDS:
        body.setdefault(key, None)
    if not body.get('releaseType'):
        body['releaseType'] = OFFLINE  # null would be a 500 (NPE) on 5.2
    return body


def file_put_body(current):
    """The file for a PUT on the collection URL: the copied fields, with releaseFileId."""
    return dict((key, current.get(key)) for key in FILE_PUT_FIELDS)


# ---- downloads ---------------------------------------------------------------------------------

class NoRetryOn500:
    """The HttpClient as the download engine sees it, except that a 500 fails at once: for a download MLDS
    means "not allowed" by it (an affiliate not approved for the member, a version not online), and every
    attempt is audited as a download, so retrying it only inflates the member's download report."""

    def __init__(self, http, describe_status):
        self.http = http
        self.policy = http.policy
        self.redact = http.redact
        self.describe = http.describe
        self._describe = describe_status

    def open(self, method, url, headers=None, stream=False, **kwargs):
        response = self.http.open(method, url, headers=headers, stream=stream, **kwargs)
        if response.status_code == 500:
            response.close()
            raise _download.DownloadError('Download failed: %s.' % self._describe(500), status=500)
        return response
