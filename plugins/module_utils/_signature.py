# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Detached PGP signature checks in a throwaway GNUPGHOME, fingerprint allow-list, FCIV checksum parsing.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import os
import re
import shutil
import tempfile
import traceback
import xml.etree.ElementTree as ET

from ansible_collections.terminology.releases.plugins.module_utils._errors import InputError, ReleasesError
from ansible_collections.terminology.releases.plugins.module_utils._module import require_library

try:
    import gnupg
except ImportError:
    HAS_GNUPG = False
    GNUPG_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_GNUPG = True
    GNUPG_IMPORT_ERROR = None

_XML_DECLARATION = re.compile(br'^\s*<\?xml[^>]*\?>', re.IGNORECASE)
_FINGERPRINT = re.compile(r'^[0-9A-F]{40}$|^[0-9A-F]{64}$')
MAX_CHECKSUM_BYTES = 64 * 1024


class SignatureError(ReleasesError):
    """The signature or checksum file cannot be trusted; the text says why."""


def require_gnupg(module):
    """Fail the module unless python-gnupg can be imported."""
    require_library(module, HAS_GNUPG, 'python-gnupg', GNUPG_IMPORT_ERROR, reason='to verify PGP signatures',
                    hint='Or choose a verification mode without the signature.')


def normalise_fingerprint(value):
    fingerprint = re.sub(r'[\s:]', '', str(value)).upper()
    if fingerprint.startswith('0X'):
        fingerprint = fingerprint[2:]
    if not _FINGERPRINT.match(fingerprint):
        raise InputError('trusted_fingerprints: %r is not a full OpenPGP fingerprint (40 or 64 hexadecimal digits, '
                         'spaces allowed); a short key id cannot be trusted. Give the whole fingerprint, as '
                         '`gpg --fingerprint` prints it.' % value)
    return fingerprint


def _timestamp(value):
    try:
        moment = datetime.datetime.fromtimestamp(int(value), tz=datetime.timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return None
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def verify_detached(signature, data, public_key, trusted_fingerprints, gpg_binary='gpg'):
    """Verify a detached signature over data with only public_key known, and require a trusted signer.

    The key file comes from the same server as the data, so it proves nothing by itself: trust comes
    from the signer's fingerprint (or its primary key's) being on the allow-list.
    Returns a dict with fingerprint, primary_fingerprint, key_id and signed_at.
    """
    if shutil.which(gpg_binary) is None:
        raise SignatureError('The %r binary was not found on the host; install GnuPG (package gnupg) to verify '
                             'signatures, or choose a verification mode without the signature.' % gpg_binary)
    trusted = set(trusted_fingerprints)
    home = tempfile.mkdtemp(prefix='terminology-releases-gpg-')
    try:
        # --no-autostart: verification needs no agent, and one left running would outlive the home.
        gpg = gnupg.GPG(gpgbinary=gpg_binary, gnupghome=home, options=['--no-autostart'])
        imported = gpg.import_keys(public_key)
        if not imported.fingerprints:
            raise SignatureError('The public key file of this release holds no usable OpenPGP key.')
        sig_path = os.path.join(home, 'checksum.sig')
        with open(sig_path, 'wb') as handle:
            handle.write(signature)
        verified = gpg.verify_data(sig_path, data)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    fingerprint = (verified.fingerprint or '').upper() or None
    primary = (getattr(verified, 'pubkey_fingerprint', None) or '').upper() or None
    if not verified.valid:
        status = verified.status or 'no valid signature'
        if status == 'no public key':
            raise SignatureError('The signature was made by key ID %s, which is not the key published with this '
                                 'release (gpg: %s).' % (verified.key_id, status))
        raise SignatureError('The checksum file signature does not verify (gpg: %s). The checksum file or its '
                             'signature was altered, or the signature file is not a signature.' % status)
    if fingerprint not in trusted and primary not in trusted:
        raise SignatureError('The checksum file is signed by key %s, which is not in trusted_fingerprints (%s).'
                             % (fingerprint, ', '.join(sorted(trusted))))
    return {
        'fingerprint': fingerprint,
        'primary_fingerprint': primary or fingerprint,
        'key_id': verified.key_id,
        'signed_at': _timestamp(verified.sig_timestamp),
    }


def parse_fciv(xml_bytes, archive_name):
    """The hex digests an FCIV checksum file gives for archive_name: {'sha1': ..., 'md5': ... or None}.

    Call only on bytes whose signature has been verified. Entity and DTD tricks are refused outright.
    """
    if len(xml_bytes) > MAX_CHECKSUM_BYTES:
        raise SignatureError('The checksum file is %d bytes, more than the %d allowed.'
                             % (len(xml_bytes), MAX_CHECKSUM_BYTES))
    if b'<!DOCTYPE' in xml_bytes.upper() or b'<!ENTITY' in xml_bytes.upper():
        raise SignatureError('The checksum file declares a DTD or entities; refusing to parse it.')
    # FCIV writes an upper-case "<?XML" declaration, which XML parsers reject; drop it.
    body = _XML_DECLARATION.sub(b'', xml_bytes.lstrip(b'\xef\xbb\xbf'), count=1)
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise SignatureError('The checksum file is not well-formed XML: %s.' % exc) from None
    entries = [entry for entry in root.iter() if entry.tag.upper() == 'FILE_ENTRY']
    names = []
    for entry in entries:
        fields = dict((child.tag.upper(), (child.text or '').strip()) for child in entry)
        names.append(fields.get('NAME'))
        if (fields.get('NAME') or '').lower() == archive_name.lower():
            return {'sha1': _b64_hex(fields.get('SHA1'), 'SHA1', 20), 'md5': _b64_hex(fields.get('MD5'), 'MD5', 16)}
    raise SignatureError('The checksum file has no entry for %s (it lists %s).'
                         % (archive_name, ', '.join(repr(name) for name in names) or 'nothing'))


def _b64_hex(value, algorithm, length):
    if not value:
        if algorithm == 'SHA1':
            raise SignatureError('The checksum file entry has no SHA1 digest.')
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError('The checksum file %s digest %r is not base64.' % (algorithm, value)) from None
    if len(digest) != length:
        raise SignatureError('The checksum file %s digest decodes to %d bytes, not %d.' % (algorithm, len(digest), length))
    return binascii.hexlify(digest).decode('ascii')
