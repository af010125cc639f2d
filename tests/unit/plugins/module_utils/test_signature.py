# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Detached OpenPGP signatures over an FCIV checksum file, with real keys made by the gpg binary."""

from __future__ import annotations

import datetime
import os
import re
import tempfile

import pytest

from ansible_collections.terminology.releases.plugins.module_utils._signature import (
    HAS_GNUPG,
    SignatureError,
    normalise_fingerprint,
    verify_detached,
)

pytestmark = pytest.mark.skipif(not HAS_GNUPG, reason='python-gnupg is not installed')

CHECKSUM_XML = (b'<?XML version="1.0" encoding="utf-8"?>\r\n<FCIV>\r\n\t<FILE_ENTRY>\r\n'
                b'\t\t<name>hscorgrefdataxml_data_7.0.0_20260731000001.zip</name>\r\n'
                b'\t\t<SHA1>qZk+NkcGgWq6PiVxeFDCbJzQ2J0=</SHA1>\r\n\t</FILE_ENTRY>\r\n</FCIV>\r\n')


@pytest.fixture(scope='module')
def good_signature(gpg_keys):
    return gpg_keys.sign(CHECKSUM_XML, 'good')


def test_good_signature_from_a_trusted_key(gpg_keys, good_signature):
    fingerprint = gpg_keys.fingerprints['good']
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(days=1)
    signer = verify_detached(good_signature, CHECKSUM_XML, gpg_keys.public_key('good'), [fingerprint])
    assert signer['fingerprint'] == fingerprint
    assert signer['primary_fingerprint'] == fingerprint
    assert fingerprint.endswith(signer['key_id'])
    assert re.match(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$', signer['signed_at'])
    signed_at = datetime.datetime.strptime(signer['signed_at'], '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
    assert before <= signed_at <= datetime.datetime.now(datetime.timezone.utc)


def test_trusted_key_among_others_in_the_key_file(gpg_keys, good_signature):
    public = gpg_keys.public_key('other', 'good')
    signer = verify_detached(good_signature, CHECKSUM_XML, public, [gpg_keys.fingerprints['good']])
    assert signer['fingerprint'] == gpg_keys.fingerprints['good']


def test_good_signature_from_an_untrusted_key_names_it(gpg_keys, good_signature):
    found = gpg_keys.fingerprints['good']
    trusted = gpg_keys.fingerprints['other']
    with pytest.raises(SignatureError) as caught:
        verify_detached(good_signature, CHECKSUM_XML, gpg_keys.public_key('good'), [trusted])
    message = str(caught.value)
    assert 'signed by key %s' % found in message
    assert 'not in trusted_fingerprints' in message
    assert trusted in message


def test_attacker_publishing_their_own_key_is_refused(gpg_keys):
    # The key file travels with the release; a signature by whatever key it holds proves nothing.
    signature = gpg_keys.sign(CHECKSUM_XML, 'other')
    with pytest.raises(SignatureError, match='signed by key %s' % gpg_keys.fingerprints['other']):
        verify_detached(signature, CHECKSUM_XML, gpg_keys.public_key('other'), [gpg_keys.fingerprints['good']])


def test_signature_by_a_key_that_is_not_published_is_refused(gpg_keys):
    signature = gpg_keys.sign(CHECKSUM_XML, 'other')
    with pytest.raises(SignatureError):
        verify_detached(signature, CHECKSUM_XML, gpg_keys.public_key('good'),
                        [gpg_keys.fingerprints['good'], gpg_keys.fingerprints['other']])


def test_signature_by_a_key_that_is_not_published_says_so(gpg_keys):
    signature = gpg_keys.sign(CHECKSUM_XML, 'other')
    with pytest.raises(SignatureError) as caught:
        verify_detached(signature, CHECKSUM_XML, gpg_keys.public_key('good'),
                        [gpg_keys.fingerprints['good'], gpg_keys.fingerprints['other']])
    message = str(caught.value)
    assert 'key ID %s' % gpg_keys.fingerprints['other'][-16:] in message
    assert 'not the key published with this release' in message


def test_tampered_checksum_file_is_refused(gpg_keys, good_signature):
    tampered = CHECKSUM_XML.replace(b'qZk+', b'qZk-')
    assert len(tampered) == len(CHECKSUM_XML) and tampered != CHECKSUM_XML
    with pytest.raises(SignatureError):
        verify_detached(good_signature, tampered, gpg_keys.public_key('good'), [gpg_keys.fingerprints['good']])


def test_tampered_checksum_file_says_it_was_altered(gpg_keys, good_signature):
    tampered = CHECKSUM_XML.replace(b'qZk+', b'qZk-')
    with pytest.raises(SignatureError) as caught:
        verify_detached(good_signature, tampered, gpg_keys.public_key('good'), [gpg_keys.fingerprints['good']])
    message = str(caught.value)
    assert 'does not verify' in message
    assert 'altered' in message
    assert 'not the key published' not in message


def test_one_byte_appended_after_signing_is_refused(gpg_keys, good_signature):
    with pytest.raises(SignatureError):
        verify_detached(good_signature, CHECKSUM_XML + b' ', gpg_keys.public_key('good'), [gpg_keys.fingerprints['good']])


@pytest.mark.parametrize('signature', [
    b'',
    b'this is not a signature\n',
    b'-----BEGIN PGP SIGNATURE-----\n\nnot base64 at all\n-----END PGP SIGNATURE-----\n',
    os.urandom(64),
], ids=['empty', 'text', 'broken-armour', 'random-bytes'])
def test_not_a_signature(gpg_keys, signature):
    with pytest.raises(SignatureError, match='does not verify'):
        verify_detached(signature, CHECKSUM_XML, gpg_keys.public_key('good'), [gpg_keys.fingerprints['good']])


def test_signature_of_other_data_by_the_trusted_key_is_refused(gpg_keys):
    signature = gpg_keys.sign(b'some other checksum file', 'good')
    with pytest.raises(SignatureError):
        verify_detached(signature, CHECKSUM_XML, gpg_keys.public_key('good'), [gpg_keys.fingerprints['good']])


@pytest.mark.parametrize('public_key', [b'', b'-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n',
                                        b'<html>Not found</html>'], ids=['empty', 'empty-armour', 'html'])
def test_public_key_file_without_a_key(gpg_keys, good_signature, public_key):
    with pytest.raises(SignatureError, match='holds no usable OpenPGP key'):
        verify_detached(good_signature, CHECKSUM_XML, public_key, [gpg_keys.fingerprints['good']])


def test_subkey_signature_trusted_through_its_primary_key(gpg_keys):
    primary = gpg_keys.fingerprints['subkeyed']
    subkey = gpg_keys.signing_fingerprints['subkeyed']
    assert primary != subkey
    signature = gpg_keys.sign(CHECKSUM_XML, 'subkeyed')
    signer = verify_detached(signature, CHECKSUM_XML, gpg_keys.public_key('subkeyed'), [primary])
    assert signer['fingerprint'] == subkey
    assert signer['primary_fingerprint'] == primary


def test_subkey_signature_trusted_through_the_subkey(gpg_keys):
    subkey = gpg_keys.signing_fingerprints['subkeyed']
    signature = gpg_keys.sign(CHECKSUM_XML, 'subkeyed')
    assert verify_detached(signature, CHECKSUM_XML, gpg_keys.public_key('subkeyed'), [subkey])['fingerprint'] == subkey


def test_missing_gpg_binary_says_what_to_install(gpg_keys, good_signature):
    with pytest.raises(SignatureError, match='not found on the host; install GnuPG'):
        verify_detached(good_signature, CHECKSUM_XML, gpg_keys.public_key('good'), [gpg_keys.fingerprints['good']],
                        gpg_binary='no-such-gpg-binary')


def test_throwaway_home_is_removed(gpg_keys, good_signature, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    verify_detached(good_signature, CHECKSUM_XML, gpg_keys.public_key('good'), [gpg_keys.fingerprints['good']])
    with pytest.raises(SignatureError):
        verify_detached(b'', CHECKSUM_XML, gpg_keys.public_key('good'), [gpg_keys.fingerprints['good']])
    assert os.listdir(str(tmp_path)) == []


def test_callers_keyring_is_not_used(gpg_keys, good_signature, monkeypatch):
    # The good key is in the GNUPGHOME the test keys live in; verification must not see it.
    monkeypatch.setenv('GNUPGHOME', gpg_keys.home)
    with pytest.raises(SignatureError):
        verify_detached(good_signature, CHECKSUM_XML, gpg_keys.public_key('other'), [gpg_keys.fingerprints['good']])


# ---- normalise_fingerprint ---------------------------------------------------------------------

TRUD = '71ED5964BAE53E83556320A42BE59DADEE84BEB0'


@pytest.mark.parametrize('value', [
    TRUD,
    TRUD.lower(),
    '71ED 5964 BAE5 3E83 5563  20A4 2BE5 9DAD EE84 BEB0',
    ':'.join(TRUD[i:i + 2] for i in range(0, 40, 2)),
    '0x' + TRUD,
    '0X' + TRUD.lower(),
    '  %s\n' % TRUD,
])
def test_fingerprint_spellings(value):
    assert normalise_fingerprint(value) == TRUD


def test_v5_fingerprint_of_64_hex_digits():
    assert normalise_fingerprint('ab' * 32) == 'AB' * 32


@pytest.mark.parametrize('value', [
    'EE84BEB0',
    '2BE59DADEE84BEB0',
    '0x2BE59DADEE84BEB0',
    TRUD[:-1],
    TRUD + 'A',
    TRUD[:-1] + 'G',
    '',
    'Test <t@example.org>',
])
def test_short_or_bad_fingerprints_are_refused(value):
    with pytest.raises(ValueError, match='not a full OpenPGP fingerprint'):
        normalise_fingerprint(value)
