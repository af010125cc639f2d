# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The FCIV checksum XML TRUD signs: format quirks, digests, and hostile content."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ansible_collections.terminology.releases.plugins.module_utils._signature import (
    MAX_CHECKSUM_BYTES,
    SignatureError,
    parse_fciv,
)

ARCHIVE = 'hscorgrefdataxml_data_7.0.0_20260731000001.zip'
CONTENT = b'the archive bytes'
SHA1_HEX = hashlib.sha1(CONTENT).hexdigest()
MD5_HEX = hashlib.md5(CONTENT).hexdigest()


def b64(hex_digest):
    return base64.b64encode(bytes.fromhex(hex_digest)).decode('ascii')


def fciv(*entries, prolog='<?XML version="1.0" encoding="utf-8"?>', newline='\r\n', indent='\t', bom=False):
    """An FCIV file as fciv.exe writes it: upper-case prolog, CRLF, tab indents. entries: (name, {tag: text})."""
    lines = [prolog, '<FCIV>'] if prolog else ['<FCIV>']
    for name, digests in entries:
        lines.append(indent + '<FILE_ENTRY>')
        lines.append(indent * 2 + '<name>%s</name>' % name)
        for tag, text in digests.items():
            lines.append(indent * 2 + '<%s>%s</%s>' % (tag, text, tag))
        lines.append(indent + '</FILE_ENTRY>')
    lines.append('</FCIV>')
    data = (newline.join(lines) + newline).encode('utf-8')
    return b'\xef\xbb\xbf' + data if bom else data


def entry(name=ARCHIVE, **digests):
    return (name, digests or {'SHA1': b64(SHA1_HEX)})


def test_fciv_with_upper_case_prolog_crlf_and_tabs():
    data = fciv(entry())
    assert data.startswith(b'<?XML') and b'\r\n\t\t<name>' in data
    assert parse_fciv(data, ARCHIVE) == {'sha1': SHA1_HEX, 'md5': None}


@pytest.mark.parametrize('options', [
    {'prolog': '<?xml version="1.0" encoding="utf-8"?>'},
    {'prolog': None},
    {'newline': '\n', 'indent': '  '},
    {'newline': '', 'indent': ''},
    {'bom': True},
    {'bom': True, 'prolog': '<?xml version="1.0"?>'},
], ids=['lower-case-prolog', 'no-prolog', 'lf-spaces', 'one-line', 'bom', 'bom-lower-prolog'])
def test_format_variants(options):
    assert parse_fciv(fciv(entry(), **options), ARCHIVE)['sha1'] == SHA1_HEX


def test_size_like_trud_files():
    # TRUD's item-341 checksum files are 183-196 bytes: one entry, one SHA1 element.
    assert 150 < len(fciv(entry())) < 200


def test_entry_is_matched_case_insensitively():
    assert parse_fciv(fciv(entry(name=ARCHIVE.upper())), ARCHIVE)['sha1'] == SHA1_HEX


def test_name_whitespace_is_ignored():
    data = fciv(entry()).replace(b'<name>', b'<name>\r\n\t\t\t ').replace(b'</name>', b' \r\n\t\t</name>')
    assert parse_fciv(data, ARCHIVE)['sha1'] == SHA1_HEX


def test_right_entry_among_several():
    other = hashlib.sha1(b'other').hexdigest()
    data = fciv(entry(name='other.zip', SHA1=b64(other)), entry(), entry(name='third.zip', SHA1=b64(other)))
    assert parse_fciv(data, ARCHIVE)['sha1'] == SHA1_HEX
    assert parse_fciv(data, 'other.zip')['sha1'] == other


def test_upper_case_tags_are_accepted():
    data = fciv(entry()).replace(b'<name>', b'<NAME>').replace(b'</name>', b'</NAME>')
    assert parse_fciv(data, ARCHIVE)['sha1'] == SHA1_HEX


def test_missing_entry_lists_the_names_found():
    data = fciv(entry(name='first.zip'), entry(name='second.zip'))
    with pytest.raises(SignatureError) as caught:
        parse_fciv(data, ARCHIVE)
    message = str(caught.value)
    assert 'no entry for %s' % ARCHIVE in message
    assert "'first.zip', 'second.zip'" in message


def test_no_entries_at_all():
    with pytest.raises(SignatureError, match='it lists nothing'):
        parse_fciv(b'<?XML version="1.0" encoding="utf-8"?>\r\n<FCIV>\r\n</FCIV>\r\n', ARCHIVE)


def test_optional_md5_is_returned():
    data = fciv(entry(MD5=b64(MD5_HEX), SHA1=b64(SHA1_HEX)))
    assert parse_fciv(data, ARCHIVE) == {'sha1': SHA1_HEX, 'md5': MD5_HEX}


def test_md5_only_entry_is_refused():
    with pytest.raises(SignatureError, match='has no SHA1 digest'):
        parse_fciv(fciv(entry(MD5=b64(MD5_HEX))), ARCHIVE)


def test_empty_sha1_is_refused():
    with pytest.raises(SignatureError, match='has no SHA1 digest'):
        parse_fciv(fciv(entry(SHA1='')), ARCHIVE)


def test_hex_sha1_instead_of_base64_is_refused():
    # 40 hex digits are valid base64 too, but decode to 30 bytes.
    with pytest.raises(SignatureError, match='SHA1 digest decodes to 30 bytes, not 20'):
        parse_fciv(fciv(entry(SHA1=SHA1_HEX)), ARCHIVE)


@pytest.mark.parametrize('value', ['not base64!', 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0', '****'])
def test_non_base64_sha1_is_refused(value):
    with pytest.raises(SignatureError, match='SHA1 digest .* is not base64'):
        parse_fciv(fciv(entry(SHA1=value)), ARCHIVE)


@pytest.mark.parametrize('length', [16, 19, 21, 32])
def test_wrong_length_sha1_is_refused(length):
    value = base64.b64encode(b'\x01' * length).decode('ascii')
    with pytest.raises(SignatureError, match='SHA1 digest decodes to %d bytes, not 20' % length):
        parse_fciv(fciv(entry(SHA1=value)), ARCHIVE)


def test_wrong_length_md5_is_refused():
    with pytest.raises(SignatureError, match='MD5 digest decodes to 20 bytes, not 16'):
        parse_fciv(fciv(entry(SHA1=b64(SHA1_HEX), MD5=b64(SHA1_HEX))), ARCHIVE)


BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE FCIV [\n <!ENTITY lol "lol">\n'
                  b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
                  b' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n'
                  b'<FCIV><FILE_ENTRY><name>&lol3;</name><SHA1>qZk+NkcGgWq6PiVxeFDCbJzQ2J0=</SHA1></FILE_ENTRY></FCIV>\n')
EXTERNAL_ENTITY = (b'<?xml version="1.0"?>\n<!DOCTYPE FCIV [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
                   b'<FCIV><FILE_ENTRY><name>&xxe;</name><SHA1>qZk+NkcGgWq6PiVxeFDCbJzQ2J0=</SHA1></FILE_ENTRY></FCIV>\n')
LOWER_CASE_DOCTYPE = b'<!doctype FCIV>\n<FCIV><FILE_ENTRY><name>a.zip</name><SHA1>qZk+NkcGgWq6PiVxeFDCbJzQ2J0=</SHA1></FILE_ENTRY></FCIV>'


@pytest.mark.parametrize('data', [BILLION_LAUGHS, EXTERNAL_ENTITY, LOWER_CASE_DOCTYPE], ids=['billion-laughs', 'external-entity', 'lower-doctype'])
def test_dtd_and_entities_are_refused(data):
    with pytest.raises(SignatureError, match='declares a DTD or entities'):
        parse_fciv(data, 'a.zip')


def test_oversized_file_is_refused():
    data = fciv(entry()).replace(b'</FCIV>', b' ' * MAX_CHECKSUM_BYTES + b'</FCIV>')
    with pytest.raises(SignatureError, match='more than the %d allowed' % MAX_CHECKSUM_BYTES):
        parse_fciv(data, ARCHIVE)


@pytest.mark.parametrize('data', [
    b'',
    b'<FCIV><FILE_ENTRY><name>x</name>',
    b'<html><body>404 Not Found</body>',
    b'\x00\x01\x02 binary',
    b'<?XML version="1.0"?>\r\n<FCIV></fciv>',
], ids=['empty', 'truncated', 'html', 'binary', 'mismatched-tags'])
def test_not_well_formed_xml_is_refused(data):
    with pytest.raises(SignatureError, match='not well-formed XML'):
        parse_fciv(data, ARCHIVE)
