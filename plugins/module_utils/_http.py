# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP session, timeouts, bounded retries with Retry-After, error mapping and redaction.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import time
import traceback
from urllib.parse import quote, quote_plus, urlsplit

from ansible_collections.terminology.releases.plugins.module_utils._errors import ReleasesError

try:
    import requests
    import urllib3
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

REDACTED = '********'
USER_AGENT = 'terminology.releases/1.0 (Ansible collection)'
# Statuses worth another try: the request may succeed unchanged later.
RETRY_STATUSES = frozenset((408, 429))
MAX_BACKOFF_SECONDS = 30.0
MAX_RETRY_AFTER_SECONDS = 120.0
# An error answer is only quoted (redacted, shortened) in a message: this much of it is plenty.
MAX_ERROR_BODY_BYTES = 64 * 1024
READ_CHUNK_BYTES = 1024 * 1024


class Redactor:
    """Remove secrets, in every form they travel in, from any text before it leaves the module."""

    def __init__(self, secrets=(), extra_forms=()):
        forms = set()
        for secret in secrets:
            if not secret:
                continue
            secret = str(secret)
            forms.update((secret, quote(secret, safe=''), quote_plus(secret), quote(secret)))
            forms.add(base64.b64encode(secret.encode('utf-8')).decode('ascii'))
        forms.update(form for form in extra_forms if form)
        # Longest first, so that a form containing another is replaced whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def add(self, *forms):
        return Redactor(extra_forms=list(self._forms) + [form for form in forms if form])

    def __call__(self, value):
        if value is None:
            return None
        text = value if isinstance(value, str) else str(value)
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return text

    def data(self, value):
        """Redact every string inside a JSON-like structure."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return dict((self(key), self.data(item)) for key, item in value.items())
        if isinstance(value, (list, tuple)):
            return [self.data(item) for item in value]
        return value


def basic_token(username, password):
    """base64 of "username:password" in UTF-8 (Spring Security 6 decodes Basic credentials as UTF-8)."""
    return base64.b64encode(('%s:%s' % (username, password)).encode('utf-8')).decode('ascii')


def basic_redactor(username, password):
    """A Redactor for a Basic-auth password in every form it travels in, and the whole Basic credential."""
    if not password:
        return Redactor()
    forms = [basic_token(username or '', password)]
    with contextlib.suppress(UnicodeEncodeError):
        forms.append(base64.b64encode(('%s:%s' % (username or '', password)).encode('latin-1')).decode('ascii'))
    return Redactor([password], extra_forms=forms)


class BasicAuth:
    """requests auth hook: sets the Basic header on every request, before any challenge (MLDS sends none).

    Set as the session's auth, requests never replaces it with .netrc credentials and never forwards it to another
    host on a redirect."""

    def __init__(self, token, origin=None):
        self._value = 'Basic ' + token
        # (scheme, host, port) the credentials may go to; None: every request of the session (one service's client).
        self._origin = origin

    def __call__(self, request):
        if self._origin is None or origin_of(request.url) == self._origin:
            request.headers['Authorization'] = self._value
        return request

    def __repr__(self):
        return 'BasicAuth(********)'


def origin_of(url):
    """(scheme, host, port) of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or '').lower(), parts.port or {'http': 80, 'https': 443}.get(scheme)


_LOOPBACK_HOSTS = ('localhost', '127.0.0.1', '::1')


def is_cleartext(url):
    """Whether url is plain http to a host other than this one: credentials sent there cross the network in clear."""
    parts = urlsplit(url or '')
    return parts.scheme.lower() == 'http' and (parts.hostname or '') not in _LOOPBACK_HOSTS


def warn_cleartext(warn, url, whose='the password'):
    """Warn (with warn, e.g. module.warn) when credentials would go to url in clear."""
    if is_cleartext(url):
        warn('url uses plain http: %s crosses the network unencrypted with every request. Use https.' % whose)


class HttpError(ReleasesError):
    """The server answered with a status the caller did not accept."""

    def __init__(self, message, status=None, body=None, headers=None):
        super().__init__(message, status)
        self.body = body
        self.headers = headers or {}


class TransportError(ReleasesError):
    """No usable answer: connection refused or reset, timeout, TLS failure."""


class TlsError(TransportError):
    """The server's certificate was refused: retrying cannot help."""


def retry_after_seconds(value, now=None):
    """Seconds asked for by a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def is_retryable_status(status):
    return status in RETRY_STATUSES or 500 <= status <= 599


class RetryPolicy:
    """Bounded retries with exponential backoff that honours Retry-After (capped)."""

    def __init__(self, retries=3, backoff=1.0, sleep=time.sleep):
        self.retries = max(0, int(retries))
        self.backoff = max(0.0, float(backoff))
        self._sleep = sleep

    def delay(self, attempt, retry_after=None):
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER_SECONDS)
        return min(self.backoff * (2 ** attempt), MAX_BACKOFF_SECONDS)

    def wait(self, attempt, retry_after=None):
        self._sleep(self.delay(attempt, retry_after))


def read_bounded(response, limit):
    """The response body, but never more than limit + 1 bytes of it.

    A caller that finds more than `limit` bytes refuses the answer; reading no further keeps a broken or hostile
    server from filling the module's memory. Open the request with stream=True, or the whole body is already read.
    """
    data = bytearray()
    try:
        for chunk in response.iter_content(READ_CHUNK_BYTES):
            data += chunk
            if len(data) > limit:
                del data[limit + 1:]
                break
    finally:
        response.close()
    return bytes(data)


def transient_exceptions():
    """Exceptions that mean the connection failed or broke, worth retrying on idempotent requests."""
    return (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError, OSError)


class HttpClient:
    """A requests session with the collection's timeouts, TLS settings, retries and redaction."""

    def __init__(self, timeout=60, retries=3, validate_certs=True, ca_path=None, redact=None,
                 auth=None, backoff=1.0, sleep=time.sleep):
        self.timeout = timeout
        self.policy = RetryPolicy(retries, backoff, sleep)
        self.redact = redact or Redactor()
        self.session = requests.Session()
        self.session.headers['User-Agent'] = USER_AGENT
        # Identity: byte ranges must address the file itself, not a compressed stream.
        self.session.headers['Accept-Encoding'] = 'identity'
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE override a session-level setting,
        # which would silently replace the user's ca_path.
        self.verify = ca_path if ca_path else bool(validate_certs)
        if not validate_certs and not ca_path:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        if auth:
            self.session.auth = auth

    def open(self, method, url, headers=None, stream=False, **kwargs):
        """One attempt, no status check. Transport failures become TransportError, redacted."""
        try:
            return self.session.request(method, url, headers=headers, stream=stream, verify=self.verify,
                                        timeout=self.timeout, allow_redirects=True, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise TlsError('TLS verification failed for %s: %s. Set ca_path to a CA bundle that signs the server '
                           'certificate, or (not recommended) validate_certs: false.'
                           % (self.redact(url), self._reason(exc))) from None
        except transient_exceptions() as exc:
            raise TransportError('%s %s failed: %s' % (method, self.redact(url), self._reason(exc))) from None
        except requests.exceptions.RequestException as exc:
            raise TransportError('%s %s failed: %s' % (method, self.redact(url), self._reason(exc))) from None

    def request(self, method, url, expected=(200,), headers=None, idempotent=True, limit=None, **kwargs):
        """Send with retries (idempotent requests only) and return a response whose status is expected.

        Other statuses raise HttpError carrying the status and the (redacted) body for the caller to map.
        With `limit`, the body is read within the retries but never beyond limit + 1 bytes (see read_bounded):
        response.content holds what was read, and a caller refuses more than `limit`.
        """
        attempt = 0
        while True:
            try:
                response = self.open(method, url, headers=headers, stream=limit is not None, **kwargs)
                if limit is not None and response.status_code in expected:
                    body = self._read(method, url, response, limit)
                    # requests' own cache of the body: .content now answers without reading the socket again.
                    response._content, response._content_consumed = body, True  # pylint: disable=protected-access
            except TransportError as exc:
                if not idempotent or attempt >= self.policy.retries or isinstance(exc, TlsError):
                    raise
                self.policy.wait(attempt)
                attempt += 1
                continue
            if response.status_code in expected:
                return response
            if idempotent and is_retryable_status(response.status_code) and attempt < self.policy.retries:
                response.close()
                self.policy.wait(attempt, retry_after_seconds(response.headers.get('Retry-After')))
                attempt += 1
                continue
            raise self.error_for(method, url, response)

    def _read(self, method, url, response, limit):
        try:
            return read_bounded(response, limit)
        except transient_exceptions() as exc:
            raise TransportError('%s %s failed while reading the answer: %s'
                                 % (method, self.redact(url), self._reason(exc))) from None

    def error_for(self, method, url, response):
        try:
            body = read_bounded(response, MAX_ERROR_BODY_BYTES).decode(response.encoding or 'utf-8', 'replace')
        except Exception:  # pylint: disable=broad-except
            body = ''
        body = self.redact(body)
        message = '%s %s answered HTTP %s' % (method, self.redact(url), response.status_code)
        return HttpError(message, status=response.status_code, body=body, headers=dict(response.headers))

    def describe(self, exc):
        """A transport exception as text for a message, redacted."""
        return self._reason(exc)

    def _reason(self, exc):
        # Library exceptions embed the URL, and so the TRUD key: redact the whole text.
        return self.redact('%s: %s' % (type(exc).__name__, exc))

    def close(self):
        self.session.close()
