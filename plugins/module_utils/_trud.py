# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""TRUD v1 client: list an item's releases, select one, validate and normalise its metadata.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import datetime
import json
import re
from urllib.parse import quote

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.terminology.releases.plugins.module_utils import _fs, _signature
from ansible_collections.terminology.releases.plugins.module_utils._errors import ReleasesError
from ansible_collections.terminology.releases.plugins.module_utils._http import HttpError

# The fingerprint TRUD's checksum files are signed with (see the TRUD guide in docs/docsite).
TRUD_SIGNING_FINGERPRINTS = ('71ED5964BAE53E83556320A42BE59DADEE84BEB0',)
MAX_LISTING_BYTES = 32 * 1024 * 1024
_SHA256_RE = re.compile(r'^[0-9A-Fa-f]{64}$')
_DATE_RE = re.compile(r'^\d{4}-\d{2}-\d{2}$')
# Fields every usable release has; the rest are optional (old listings lack archiveFileSha256).
REQUIRED_FIELDS = ('id', 'releaseDate', 'archiveFileUrl', 'archiveFileName', 'archiveFileSizeBytes')
SUPPORT_FILES = ('checksum', 'signature', 'publicKey')


class TrudError(ReleasesError):
    """A TRUD answer or release the user must act on; the text is already redacted."""


def listing_url(base_url, api_key, item, latest=False):
    url = '%s/keys/%s/items/%s/releases' % (base_url.rstrip('/'), quote(api_key, safe=''), int(item))
    return url + '?latest' if latest else url


def error_for_status(status, item, message):
    """What a TRUD error status means for the user (the TRUD guide lists the statuses TRUD sends)."""
    said = (' TRUD said: %r.' % message) if message else ''
    if status == 400:
        return 'TRUD rejected the API key (HTTP 400): check api_key (or TRUD_API_KEY).' + said
    if status == 401:
        return ('TRUD has disabled API access for this key (HTTP 401). TRUD disables a key when the account '
                'e-mail or password changes: copy the new key from your TRUD account page.' + said)
    if status == 404:
        return ('TRUD has no releases of item %s for this key (HTTP 404): the item number is wrong, the account is '
                'not subscribed to it, the subscription is still pending approval, or the item has no releases.%s'
                % (item, said))
    return 'TRUD answered HTTP %s for item %s.%s' % (status, item, said)


def _is_item_not_found(message):
    """TRUD's own 404 for an item says "No releases found"; any other 404 comes from somewhere else."""
    return bool(message) and 'no releases found' in message.lower()


def wrong_url_message(base_url, redacted_url):
    return ('TRUD answered HTTP 404 without its answer for an unknown item ("No releases found ..."), so the URL '
            'is probably wrong rather than the item or the key: base_url must be the API root ending in /api/v1, '
            'as in https://isd.digital.nhs.uk/trud/api/v1. base_url is %s, and the request went to %s.'
            % (base_url, redacted_url))


def _message_of(body):
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get('message'), str):
        return data['message']
    return None


def parse_listing(body, item):
    """Decode a release-list body into a list of release dicts, or raise TrudError."""
    if len(body) > MAX_LISTING_BYTES:
        raise TrudError('The TRUD listing for item %s is larger than %d bytes; refusing to parse it.'
                        % (item, MAX_LISTING_BYTES))
    try:
        data = json.loads(body)
    except ValueError:
        snippet = body[:80].decode('utf-8', 'replace') if isinstance(body, bytes) else body[:80]
        kind = 'an HTML page' if '<html' in snippet.lower() or '<!doctype' in snippet.lower() else 'malformed JSON'
        raise TrudError('TRUD returned %s instead of a JSON release list for item %s: is TRUD down or behind a '
                        'proxy? (starts with %r)' % (kind, item, snippet)) from None
    if not isinstance(data, dict) or not isinstance(data.get('releases'), list):
        raise TrudError('TRUD returned JSON without a "releases" list for item %s.' % item)
    if data.get('message', 'OK') != 'OK':
        raise TrudError('TRUD answered %r for item %s.' % (data.get('message'), item))
    releases = data['releases']
    if not all(isinstance(release, dict) for release in releases):
        raise TrudError('TRUD returned a release list for item %s with entries that are not objects.' % item)
    return releases


class TrudClient:
    def __init__(self, http, base_url, api_key):
        self.http = http
        self.base_url = base_url
        self.api_key = api_key

    def releases(self, item, latest=False):
        """Every release of an item, newest first (or only the newest), as TRUD lists them."""
        url = listing_url(self.base_url, self.api_key, item, latest)
        try:
            response = self.http.request('GET', url, headers={'Accept': 'application/json'}, limit=MAX_LISTING_BYTES)
        except HttpError as exc:
            message = self.http.redact(_message_of(exc.body or ''))
            if exc.status == 404 and not _is_item_not_found(message):
                raise TrudError(wrong_url_message(self.base_url, self.http.redact(url))) from None
            raise TrudError(error_for_status(exc.status, item, message)) from None
        try:
            return parse_listing(response.content, item)
        except TrudError as exc:
            # The texts quote TRUD's body, which may echo the key.
            raise TrudError(self.http.redact(str(exc))) from None

    def small_file(self, url, what, limit=1024 * 1024):
        return small_file(self.http, url, what, limit)


def small_file(http, url, what, limit=1024 * 1024):
    """A support file (checksum, signature, public key): small, fetched whole, size-bounded."""
    try:
        response = http.request('GET', url, limit=limit)
    except HttpError as exc:
        raise TrudError('Could not download the %s file of this release: HTTP %s.' % (what, exc.status)) from None
    data = response.content
    if len(data) > limit:
        raise TrudError('The %s file is larger than the %d bytes allowed; refusing to read further.'
                        % (what, limit))
    return data


def verify_signed_checksum(files, archive_name, trusted_fingerprints=None):
    """(signer, digests) of TRUD's checksum file {'checksum', 'signature', 'publicKey': bytes}: the signature is
    verified with the key beside it and must come from a trusted fingerprint (TRUD's own unless others are given);
    only then is the file parsed for the archive's SHA-1 (and MD5). Wherever the files were fetched from (TRUD or
    a mirror), trust rests on the signing key."""
    trusted = [_signature.normalise_fingerprint(value) for value in (trusted_fingerprints or TRUD_SIGNING_FINGERPRINTS)]
    signer = _signature.verify_detached(files['signature'], files['checksum'], files['publicKey'], trusted)
    return signer, _signature.parse_fciv(files['checksum'], archive_name)


def select_release(releases, item, release_id=None, name=None, release_date=None):
    """The one release the user asked for; newest when nothing is asked."""
    if not releases:
        raise TrudError('Item %s has no releases.' % item)
    if release_id is None and name is None and release_date is None:
        return releases[0]
    if release_id is not None:
        matches = [r for r in releases if r.get('id') == release_id or r.get('archiveFileName') == release_id]
        asked = 'release_id %r' % release_id
    elif name is not None:
        matches = [r for r in releases if r.get('name') == name]
        asked = 'release_name %r' % name
    else:
        matches = [r for r in releases if r.get('releaseDate') == release_date]
        asked = 'release_date %r' % release_date
    if not matches:
        newest = ', '.join('%s (%s)' % (r.get('id'), r.get('releaseDate')) for r in releases[:5])
        raise TrudError('Item %s has no release with %s. Newest releases: %s.' % (item, asked, newest))
    if len(matches) > 1:
        found = ', '.join('%s (%s, %s)' % (r.get('id'), r.get('name'), r.get('releaseDate')) for r in matches)
        raise TrudError('Item %s has %d releases with %s: %s. Select one by release_id.'
                        % (item, len(matches), asked, found))
    return matches[0]


def safe_file_name(name):
    """The archive's file name, if it is a plain name that cannot escape the destination directory."""
    if not isinstance(name, str) or not name:
        raise TrudError('The release has no archiveFileName.')
    return _fs.safe_file_name(name, 'archive file name from TRUD', TrudError)


def validate_release(release):
    """Check the fields the fetch relies on; raise TrudError naming the first bad one."""
    missing = [field for field in REQUIRED_FIELDS if release.get(field) in (None, '')]
    if missing:
        raise TrudError('Release %r lacks %s.' % (release.get('id'), ', '.join(missing)))
    safe_file_name(release['archiveFileName'])
    size = release['archiveFileSizeBytes']
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise TrudError('Release %r has an invalid archiveFileSizeBytes %r.' % (release['id'], size))
    sha256 = release.get('archiveFileSha256')
    if sha256 not in (None, '') and not (isinstance(sha256, str) and _SHA256_RE.match(sha256)):
        raise TrudError('Release %r has an archiveFileSha256 that is not 64 hex digits: %r.' % (release['id'], sha256))
    if not _DATE_RE.match(str(release['releaseDate'])):
        raise TrudError('Release %r has an invalid releaseDate %r.' % (release['id'], release['releaseDate']))


def expected_sha256(release):
    value = release.get('archiveFileSha256')
    return value.lower() if isinstance(value, str) and value else None


def has_signature_files(release):
    return all(release.get(kind + 'FileUrl') for kind in SUPPORT_FILES)


def normalise(release, redact):
    """snake_case metadata with every URL (which carries the API key) left out."""
    result = camel_dict_to_snake_dict(dict((key, redact.data(value)) for key, value in release.items()
                                           if not key.endswith('Url')))
    result.setdefault('archive_file_sha256', None)
    return result


def _last_sunday(year, month):
    day = datetime.date(year + month // 12, month % 12 + 1, 1) - datetime.timedelta(days=1)
    return day - datetime.timedelta(days=(day.weekday() + 1) % 7)


def uk_time(epoch):
    """UK civil time for a POSIX time: GMT, or BST from 01:00 UTC on the last Sunday of March to the
    last Sunday of October (no tz database needed on the host)."""
    utc = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).replace(tzinfo=None)
    start = datetime.datetime.combine(_last_sunday(utc.year, 3), datetime.time(1))
    end = datetime.datetime.combine(_last_sunday(utc.year, 10), datetime.time(1))
    return utc + datetime.timedelta(hours=1) if start <= utc < end else utc


def within_trud_hours(epoch):
    """TRUD asks automation to run on weekdays 09:00-18:00, or 00:00-06:00 (DESIGN section 4)."""
    local = uk_time(epoch)
    return local.hour < 6 or (local.weekday() < 5 and 9 <= local.hour < 18)
