# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SNOMED MLDS client: members, release packages, versions, files, package licence, download URL.

What MLDS objects hold is in _mlds_fields, how the modules find them in _mlds_select; how results are shaped for
output is in _mlds_output.

PRIVATE to this collection: it may change without notice.

Written against MLDS 5.2 as it really behaves (docs/docsite/rst/guide_mlds.rst), not the 2015 public docs:

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

import json
from urllib.parse import quote, urlsplit

from ansible_collections.terminology.releases.plugins.module_utils import _connection, _mlds_output, _module
from ansible_collections.terminology.releases.plugins.module_utils._http import (
    BasicAuth,
    HttpError,
    basic_redactor as make_redactor,
    basic_token,
    warn_cleartext,
    is_retryable_status,
    retry_after_seconds,
)
from ansible_collections.terminology.releases.plugins.module_utils._errors import ReleasesError

MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_LICENSE_BYTES = 256 * 1024 * 1024


class MldsError(ReleasesError):
    """An MLDS answer or object state the user must act on; the text is already free of secrets."""


def run_module(module, manager):
    """Run manager(module, redact).run() with the module runner, the account's credentials redacted everywhere."""
    redact = make_redactor(module.params['username'], module.params['password'])
    _module.run(module, lambda: manager(module, redact).run(), redact)


def connect(module, redact, purpose=None):
    """The client for a module's options. purpose: what an account is needed for; None when it is optional (the
    credentials, if given, are still checked the same way)."""
    params = module.params
    if purpose or (params['username'] and params['password'] is not None):
        require_account(params, purpose or 'read release packages', module.warn)
    return MldsClient(_connection.http_client(module, redact), params['url'], params['username'], params['password'])


class Manager:
    """What every mlds_* module shares: its options, check mode, the client and the list of actions it takes.
    A subclass sets `purpose` (what the account is needed for; None when optional) and implements run()."""

    purpose = None

    def __init__(self, module, redact):
        self.module = module
        self.params = module.params
        self.check = module.check_mode
        self.redact = redact
        self.actions = []
        self.client = connect(module, redact, self.purpose)

    def result(self, outcome, key, **fields):
        """The module result: changed, the object outcome[key] as output, the fields given, the actions taken and
        (in diff mode) the diff."""
        shown = _mlds_output.to_output(outcome[key]) if outcome[key] else None
        result = dict(fields, changed=outcome['changed'], actions=self.actions)
        result[key] = shown
        if self.module._diff:
            result['diff'] = outcome['diff']
        return result


def already_absent(key):
    """The outcome of state=absent for an object that is not there."""
    return {'changed': False, key: None, 'diff': {'before': {'state': 'absent'}, 'after': {'state': 'absent'}}}


def require_account(params, purpose, warn=None):
    """MldsError unless username and password are set; a warning when they would cross the network in clear."""
    if not params.get('username') or params.get('password') is None:
        raise MldsError('An MLDS account is needed to %s: set username and password (or MLDS_USERNAME and '
                        'MLDS_PASSWORD).' % purpose)
    if warn:
        warn_cleartext(warn, params.get('url'), 'the MLDS password')


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
    """The user-facing text for an MLDS error status."""
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
        self.url = url.rstrip('/')
        if urlsplit(self.url).path.endswith('/api'):
            # Every path below starts with /api: "/api/api/..." would answer an empty 404, read as "no such object".
            raise MldsError('url %s ends in /api: give the MLDS site root without it, as in '
                            'https://mlds.ihtsdotools.org; the modules add /api to every request.' % self.url)
        self.authenticated = bool(username) and password is not None
        if self.authenticated:
            http.session.auth = BasicAuth(basic_token(username, password))
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
        response = self.call(method, path, action, **kwargs)  # call() reads at most MAX_JSON_BYTES + 1
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

    def has_dependants(self, version_id):
        """Whether another version names this one's versionURI as its edition or derivative dependency (MLDS's own
        check, which its UI makes before taking a version offline)."""
        data = self.call_json('GET', '/api/checkVersionDependency/%s' % _int(version_id),
                              'check whether other versions depend on release version %s' % version_id)
        if not isinstance(data, bool):
            raise MldsError('MLDS answered the dependency check of release version %s with %r, not true or false.'
                            % (version_id, data))
        return data

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
