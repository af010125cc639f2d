# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The no-op test of the role release_sync (_in_place): a release laid out as the role leaves it is in place; each
thing the role's full path would change (current, the record's fields, the archive, a file, the unpacked tree,
an attribute, one release directory too many) makes it not in place, with a reason; no archive byte is read."""

from __future__ import annotations

import builtins
import io
import os
import zipfile

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _handoff, _in_place, _provenance, _unpack
from ansible_collections.terminology.releases.plugins.module_utils._errors import InputError

from test_provenance import ARCHIVE, make_release

DIR = ARCHIVE[:-len('.zip')]
MARKER = '.release_sync.2026-03-04'


@pytest.fixture
def layout(tmp_path):
    """<root>/clinical/<release dir> with archive, record, marker and current, all 0644/0755; returns its paths."""
    root = tmp_path / 'root'
    base = root / 'clinical'
    directory = base / DIR
    record_path, record = make_release(directory)
    (directory / MARKER).write_bytes(b'')
    os.symlink(DIR, base / 'current')
    for path in (root, base, directory):
        os.chmod(path, 0o755)
    for path in (directory / ARCHIVE, directory / MARKER, record_path):
        os.chmod(path, 0o644)
    # The record is written after the archive.
    archive_time = os.lstat(directory / ARCHIVE).st_mtime_ns
    os.utime(record_path, ns=(archive_time + 10 ** 9, archive_time + 10 ** 9))
    return {'root': root, 'base': base, 'dir': directory, 'record': record}


def expected(**changes):
    entry = {'name': 'clinical', 'release_dir': DIR, 'record': {'release_id': ARCHIVE, 'set': 'uk-edition',
                                                                'source': {'kind': 'trud', 'item': '101'}},
             'files': [MARKER], 'unpacked': False, 'keep': 2}
    entry.update(changes)
    return entry


def problems(layout, entry=None, attributes=None, record=None):
    attributes = attributes or _in_place.Attributes(mode='0644', directory_mode='0755')
    return _in_place.problems(str(layout['root']), entry or expected(), attributes, DIR,
                              layout['record'] if record is None else record)


def test_a_release_as_the_role_leaves_it_is_in_place_and_no_archive_byte_is_read(layout, monkeypatch):
    real_open = builtins.open

    def guarded_open(path, *args, **kwargs):
        assert not str(path).endswith('.zip'), 'the no-op test read the archive'
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, 'open', guarded_open)
    assert problems(layout) == []


def test_current_elsewhere_or_no_record_is_not_in_place(layout):
    attributes = _in_place.Attributes()
    assert _in_place.problems(str(layout['root']), expected(), attributes, 'other', layout['record']) == [
        'current is other, not %s' % DIR]
    assert _in_place.problems(str(layout['root']), expected(), attributes, None, None) == [
        'current is missing, not %s' % DIR]
    assert 'no readable provenance record' in _in_place.problems(str(layout['root']), expected(), attributes, DIR,
                                                                 None)[0]


@pytest.mark.parametrize('field, value, shown', [
    ('release_id', 'other.zip', "release_id 'uk_sct2cl_41.2.0_20260304000001Z.zip', not 'other.zip'"),
    ('set', None, "set 'uk-edition', not null"),
    ('source', {'kind': 'mlds'}, 'source'),
])
def test_a_record_field_that_differs_is_named(layout, field, value, shown):
    entry = expected(record={field: value})
    found = problems(layout, entry)
    assert len(found) == 1 and found[0].startswith('the provenance record has ') and shown in found[0]


def test_numbers_templated_as_text_match_and_free_keys_are_free(layout):
    assert problems(layout, expected(record={'source': {'item': 101}, 'archive': {'name': ARCHIVE}})) == []
    assert problems(layout, expected(record={'source': {'item': '101'}})) == []


def test_an_archive_resized_or_written_after_its_record_is_not_in_place(layout):
    archive = layout['dir'] / ARCHIVE
    record_time = os.lstat(_provenance.record_path(str(layout['dir']))).st_mtime_ns
    os.utime(archive, ns=(record_time + 10 ** 9, record_time + 10 ** 9))
    assert problems(layout) == ['%s changed after its provenance record was written' % archive]
    with open(archive, 'ab') as handle:
        handle.write(b'more')
    assert any('bytes; its provenance record says' in problem for problem in problems(layout))


def test_a_missing_marker_or_a_wrong_mode_owner_or_group_is_named(layout):
    os.unlink(layout['dir'] / MARKER)
    os.chmod(layout['dir'] / ARCHIVE, 0o600)
    os.chmod(layout['dir'], 0o700)
    found = problems(layout)
    assert '%s is missing' % (layout['dir'] / MARKER) in found
    assert '%s has mode 0600, not 0644' % (layout['dir'] / ARCHIVE) in found
    assert '%s has mode 0700, not 0755' % layout['dir'] in found
    other = os.getuid() + 1
    attributes = _in_place.Attributes(owner=str(other), group=str(os.getgid() + 1))
    found = problems(layout, expected(files=[]), attributes)
    assert '%s has uid %d, not %d' % (layout['root'], os.getuid(), other) in found
    assert any(problem.startswith('%s has gid' % (layout['base'] / 'current')) for problem in found)


def test_a_release_directory_over_the_retention_is_not_in_place(layout):
    (layout['base'] / 'older').mkdir()
    assert problems(layout) == []
    (layout['base'] / 'oldest').mkdir()
    assert problems(layout) == ['%s holds 3 release directories, more than 2' % layout['base']]


def test_an_unpacked_tree_must_be_complete_and_from_this_archive(layout):
    tree = layout['dir'] / 'unpacked'
    assert problems(layout, expected(unpacked=True)) == ['%s is not an unpacked tree' % tree]
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, 'w') as archive:
        archive.writestr('Snapshot/Terminology/sct2_Concept.txt', 'id\n1\n')
    source = layout['dir'].parent / 'src.zip'
    source.write_bytes(payload.getvalue())
    limits = _unpack.Limits(1 << 30, 100, 1000)
    plan = _unpack.plan(str(source), limits)
    tree.mkdir()
    _unpack.extract(str(source), plan, str(tree), limits)
    marker = _unpack.marker_for(str(source), layout['record']['archive']['sha256'], plan, limits)
    _unpack.write_marker(str(tree), marker)
    source.unlink()
    attributes = _in_place.Attributes()
    assert problems(layout, expected(unpacked=True), attributes) == []
    (tree / 'Snapshot/Terminology/sct2_Concept.txt').unlink()
    assert problems(layout, expected(unpacked=True), attributes) == [
        '%s: Snapshot/Terminology/sct2_Concept.txt is missing' % tree]
    other = dict(marker, archive=dict(marker['archive'], sha256='0' * 64))
    _unpack.write_marker(str(tree), other)
    assert problems(layout, expected(unpacked=True), attributes) == ['%s was unpacked from another archive' % tree]


def test_an_unknown_owner_or_a_mode_that_is_not_octal_is_an_input_error():
    with pytest.raises(InputError, match='there is no user no-such-user-here'):
        _in_place.Attributes(owner='no-such-user-here')
    with pytest.raises(InputError, match='there is no group no-such-group-here'):
        _in_place.Attributes(group='no-such-group-here')
    with pytest.raises(InputError, match='not an octal mode'):
        _in_place.Attributes(mode='rw-r--r--')


def test_a_hand_off_must_be_the_archive_with_its_record(layout, tmp_path):
    archive = str(layout['dir'] / ARCHIVE)
    folder = tmp_path / 'import' / 'SNOMEDCT-UK'
    folder.mkdir(parents=True)
    placed = str(folder / ARCHIVE)
    record = str(layout['dir'] / '.handoff.json')
    entry = expected(handoff={'path': placed, 'record': record})
    attributes = _in_place.Attributes()
    assert problems(layout, entry, attributes) == ['%s is not the archive handed off' % placed]
    os.link(archive, placed)
    assert problems(layout, entry, attributes) == ['%s does not record this hand-off' % record]
    with open(record, 'wb') as handle:
        handle.write(_handoff.record_bytes(archive, placed, 'link'))
    assert problems(layout, entry, attributes) == []
    # A copy of another size (or a file someone else put there) is not the hand-off.
    os.unlink(placed)
    with open(placed, 'wb') as handle:
        handle.write(b'not the archive')
    assert problems(layout, entry, attributes) == ['%s is not the archive handed off' % placed]
