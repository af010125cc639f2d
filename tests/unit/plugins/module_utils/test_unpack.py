# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Safe zip extraction: every refusal of _unpack (zip slip, zip bombs, lying and corrupt archives), on hostile
archives built here, and a good archive extracted byte for byte.

zipfile writes the well-formed part; what it will not write (encryption flags, lying sizes, wrong CRCs, overlapping
members) is patched into the bytes with struct afterwards.
"""

from __future__ import annotations

import errno
import os
import random
import re
import resource
import signal
import stat
import struct
import warnings
import zipfile

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _fs
from ansible_collections.terminology.releases.plugins.module_utils._unpack import (
    Limits,
    UnpackError,
    UnsafeArchiveError,
    check_free_space,
    directory_lock,
    extract,
    install,
    make_temp,
    member_kind,
    member_parts,
    plan,
    remove_leftovers,
    tree_state,
)

MIB = 1024 * 1024
ROOMY = Limits(max_size=64 * MIB, max_ratio=100, max_files=100)
OLD_TREE = {'old.txt': b'the previous release'}

# zipfile's structures (its structCentralDir and structFileHeader), and where the fields patched here lie.
CENTRAL = struct.Struct('<4s4B4HL2L5H2L')
LOCAL = struct.Struct('<4s2B4HL2L2H')
CENTRAL_FIELDS = {
    'flag_bits': (8, '<H'),
    'compress_type': (10, '<H'),
    'CRC': (16, '<L'),
    'compress_size': (20, '<L'),
    'file_size': (24, '<L'),
    'header_offset': (42, '<L'),
}


# --- building and patching archives --------------------------------------------------------------


@pytest.fixture
def src(tmp_path):
    return str(tmp_path / 'release.zip')


@pytest.fixture
def dest(tmp_path):
    return str(tmp_path / 'unpacked')


def build(path, *members, compression=zipfile.ZIP_DEFLATED):
    """A zip of members: (name or ZipInfo, bytes). Duplicate names are allowed (zipfile only warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        with zipfile.ZipFile(path, 'w', compression) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return path


def unix_member(name, mode):
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def infos(path):
    with zipfile.ZipFile(path) as archive:
        return archive.infolist()


def central_records(path):
    """Offsets of the central directory records, in archive order."""
    with zipfile.ZipFile(path) as archive:
        offset, count = archive.start_dir, len(archive.infolist())
    with open(path, 'rb') as handle:
        data = handle.read()
    records = []
    while len(records) < count:
        fields = CENTRAL.unpack_from(data, offset)
        assert fields[0] == b'PK\x01\x02'
        records.append(offset)
        offset += CENTRAL.size + fields[12] + fields[13] + fields[14]
    return records


def patch_central(path, index, **fields):
    """Overwrite fields of member index's central directory record (the only sizes _unpack believes)."""
    record = central_records(path)[index]
    with open(path, 'r+b') as handle:
        for name, value in fields.items():
            where, fmt = CENTRAL_FIELDS[name]
            handle.seek(record + where)
            handle.write(struct.pack(fmt, value))


def data_offset(path, index):
    header_offset = infos(path)[index].header_offset
    with open(path, 'rb') as handle:
        handle.seek(header_offset)
        fields = LOCAL.unpack(handle.read(LOCAL.size))
    return header_offset + LOCAL.size + fields[10] + fields[11]


def overwrite(path, offset, data):
    with open(path, 'r+b') as handle:
        handle.seek(offset)
        handle.write(data)


def listing(top):
    """Every path under top, relative, with file contents: the whole state a refusal must not change."""
    found = {}
    for directory, dirs, files in os.walk(top):
        for name in dirs:
            found[os.path.relpath(os.path.join(directory, name), top) + '/'] = None
        for name in files:
            with open(os.path.join(directory, name), 'rb') as handle:
                found[os.path.relpath(os.path.join(directory, name), top)] = handle.read()
    return found


def assert_refusal(info, cls, pattern):
    """The exact class (not a subclass or parent) and the part of the message the user needs."""
    assert info.type is cls, '%s: %s' % (info.type.__name__, info.value)
    assert re.search(pattern, str(info.value)), str(info.value)


def refused_by_plan(src, limits, cls, pattern):
    """plan refuses the archive; nothing is written anywhere."""
    top = os.path.dirname(src)
    before = listing(top)
    with pytest.raises(UnpackError) as info:
        plan(src, limits)
    assert_refusal(info, cls, pattern)
    assert listing(top) == before
    return str(info.value)


def write_tree(root, files):
    os.mkdir(root)
    for name, data in files.items():
        with open(os.path.join(root, name), 'wb') as handle:
            handle.write(data)


def refused_while_extracting(src, dest, limits, cls, pattern, extract_limits=None):
    """The archive passes plan and is refused while its bytes are inflated, into a temp directory beside dest as
    the module does. The previous tree at dest is untouched, and remove_leftovers (the next run's clean-up) leaves
    only the archive and that tree. Returns {path: size} of what was in the temp directory at the refusal."""
    write_tree(dest, OLD_TREE)
    parent = os.path.dirname(dest)
    before = listing(parent)
    planned = plan(src, limits)
    temp = make_temp(dest)
    with pytest.raises(UnpackError) as info:
        extract(src, planned, temp, extract_limits or limits)
    assert_refusal(info, cls, pattern)
    sizes = {path: len(data) for path, data in listing(temp).items() if data is not None}
    assert listing(dest) == OLD_TREE
    remove_leftovers(dest)
    assert listing(parent) == before
    return sizes


def extracted(src, dest, limits=ROOMY):
    planned = plan(src, limits)
    temp = make_temp(dest)
    extract(src, planned, temp, limits)
    install(temp, dest)
    return planned


# --- a good archive --------------------------------------------------------------------------------


def test_good_archive_extracts_with_the_right_bytes(src, dest):
    rng = random.Random(7)
    members = {
        'README.txt': b'Release notes\n',
        'data/incompressible.bin': rng.randbytes(MIB + MIB // 2),  # several reads of the archive
        'data/zeros.bin': bytes(MIB // 2),  # compresses 500:1, exempt as too small to be a bomb
        'empty.txt': b'',
        'a/b/c/deep.txt': 'd\u00e9j\u00e0 vu'.encode('utf-8'),
        'a/./b//dots.txt': b'normalised path',
        'donn\u00e9es/\u00e9t\u00e9.txt': b'a UTF-8 name',
    }
    with zipfile.ZipFile(src, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr('docs/', b'')
        archive.writestr(zipfile.ZipInfo('README.txt'), members['README.txt'])  # stored
        for name, data in members.items():
            if name != 'README.txt':
                archive.writestr(name, data)
    write_tree(dest, OLD_TREE)
    planned = extracted(src, dest)
    expected = {name.replace('/./', '/').replace('//', '/'): data for name, data in members.items()}
    expected.update({'a/': None, 'a/b/': None, 'a/b/c/': None, 'data/': None, 'docs/': None, 'donn\u00e9es/': None})
    assert listing(dest) == expected
    assert planned.directories == ['a', 'data', 'docs', 'donn\u00e9es', 'a/b', 'a/b/c']
    assert planned.total_size == sum(len(data) for data in members.values())
    assert sorted(os.listdir(os.path.dirname(dest))) == ['release.zip', 'unpacked']


def test_limits_are_inclusive(src, dest):
    build(src, ('a.txt', b'x' * 60), ('b.txt', b'y' * 60), ('c/', b''))
    extracted(src, dest, Limits(max_size=120, max_ratio=100, max_files=3))
    assert listing(dest) == {'a.txt': b'x' * 60, 'b.txt': b'y' * 60, 'c/': None}


# --- member names: zip slip and friends --------------------------------------------------------------

HOSTILE_NAMES = [
    ('/etc/cron.d/evil', r"Member '/etc/cron.d/evil' has an absolute path"),
    ('//server/share/evil', r'has an absolute path'),
    ('C:/Windows/evil.dll', r"Member 'C:/Windows/evil.dll' has an absolute path"),
    ('c:evil.txt', r'has an absolute path'),
    ('../evil.txt', r"Member '../evil.txt' has a parent directory \(\.\.\) component: .*outside the destination "
                    r'\(zip slip\)'),
    ('a/../../evil.txt', r'parent directory \(\.\.\) component'),
    ('a/..', r'parent directory \(\.\.\) component'),
    ('..\\..\\evil.txt', r"has a backslash in its name \(a Windows path separator\)"),
    ('dir\\file.txt', r'has a backslash in its name'),
    ('evil\nname.txt', r"Member 'evil\\nname.txt' has control characters in its name"),
    ('\x1b[31mred.txt', r'has control characters in its name'),
    ('del\x7f.txt', r'has control characters in its name'),
    ('./', r"Member './' has an empty name"),
    ('.', r'has an empty name'),
    ('a' * 256, r'has a path component longer than 255 bytes'),
    ('d/' + '\u00e9' * 128, r'has a path component longer than 255 bytes'),  # 128 characters, 256 bytes
    ('.release_unpack.json', r'has the name of the unpack record this module keeps'),
    ('./.release_unpack.json', r'has the name of the unpack record this module keeps'),
]


@pytest.mark.parametrize('name, pattern', HOSTILE_NAMES, ids=[repr(pair[0])[:30] for pair in HOSTILE_NAMES])
def test_hostile_member_name_is_refused(src, name, pattern):
    build(src, ('fine.txt', b'fine'), (name, b'evil'))
    refused_by_plan(src, ROOMY, UnsafeArchiveError, pattern)


@pytest.mark.parametrize('name, pattern', [('nul\x00byte', 'control characters'), ('', 'empty name'),
                                           ('///', 'absolute path')])
def test_member_parts_refuses_names_zipfile_cannot_carry(name, pattern):
    with pytest.raises(UnsafeArchiveError, match=pattern):
        member_parts(name)


@pytest.mark.parametrize('name, parts', [
    ('a.txt', ('a.txt',)),
    ('dir/', ('dir',)),
    ('a/./b//c.txt', ('a', 'b', 'c.txt')),
    ('..a/b..', ('..a', 'b..')),
    ('sub/.release_unpack.json', ('sub', '.release_unpack.json')),
    ('a' * 255, ('a' * 255,)),
    ('1:2.txt', ('1:2.txt',)),
    ('\u00e9t\u00e9.txt', ('\u00e9t\u00e9.txt',)),
])
def test_member_parts_accepts_ordinary_names(name, parts):
    assert member_parts(name) == parts


# --- member types ------------------------------------------------------------------------------------


@pytest.mark.parametrize('create_system, mode, name, kind', [
    (3, stat.S_IFREG | 0o644, 'f', 'file'),
    (3, 0, 'f', 'file'),  # no mode recorded
    (3, stat.S_IFDIR | 0o755, 'd', 'dir'),
    (3, 0, 'd/', 'dir'),
    (0, 0x10, 'd', 'dir'),  # the MS-DOS directory attribute
    (3, stat.S_IFLNK | 0o777, 'l', 'symlink'),
    (3, stat.S_IFIFO | 0o644, 'p', 'special'),
    (3, stat.S_IFCHR | 0o644, 'c', 'special'),
    (3, stat.S_IFBLK | 0o644, 'b', 'special'),
    (3, stat.S_IFSOCK | 0o644, 's', 'special'),
    (0, (stat.S_IFLNK | 0o777) << 16, 'f', 'file'),  # not a Unix archive: the high bits mean nothing
])
def test_member_kind(create_system, mode, name, kind):
    info = zipfile.ZipInfo(name)
    info.create_system = create_system
    info.external_attr = mode << 16 if create_system == 3 else mode
    assert member_kind(info) == kind


def test_symlink_member_is_refused(src):
    build(src, ('fine.txt', b'fine'), (unix_member('link', stat.S_IFLNK | 0o777), b'/etc/passwd'))
    refused_by_plan(src, ROOMY, UnsafeArchiveError, r"Member 'link' is a symbolic link; links are refused")


@pytest.mark.parametrize('mode', [stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFSOCK])
def test_special_member_is_refused(src, mode):
    build(src, (unix_member('node', mode | 0o644), b''))
    refused_by_plan(src, ROOMY, UnsafeArchiveError, r"Member 'node' is a device, pipe or socket")


def test_encrypted_member_is_refused(src):
    build(src, ('fine.txt', b'fine'), ('secret.txt', b'not really encrypted'))
    patch_central(src, 1, flag_bits=infos(src)[1].flag_bits | 0x1)
    refused_by_plan(src, ROOMY, UnsafeArchiveError, r"Member 'secret.txt' is encrypted")


@pytest.mark.parametrize('first, second', [
    ('a.txt', 'a.txt'),
    ('a/b.txt', 'a/./b.txt'),
    ('a/b.txt', 'a//b.txt'),
    ('a.txt', './a.txt'),
    ('d/', 'd'),  # a directory and a file
    ('d/', 'd/'),
])
def test_duplicate_member_is_refused(src, first, second):
    build(src, (first, b'one'), (second, b'two'))
    refused_by_plan(src, ROOMY, UnsafeArchiveError, r'Member %s appears more than once' % re.escape(repr(second)))


@pytest.mark.parametrize('members', [('a', 'a/b.txt'), ('a/b.txt', 'a'), ('a', 'a/b/')])
def test_file_with_members_inside_it_is_refused(src, members):
    build(src, *[(name, b'x') for name in members])
    refused_by_plan(src, ROOMY, UnsafeArchiveError, r"Member 'a' is a file, but other members put files inside it")


def test_unsupported_compression_method_is_refused(src):
    packed = zipfile.ZipInfo('packed.txt')
    packed.compress_type = zipfile.ZIP_BZIP2
    build(src, ('fine.txt', b'fine'), (packed, b'bzip2 data' * 10))
    refused_by_plan(src, ROOMY, UnpackError,
                    r"Member 'packed\.txt' uses compression method 12; only stored and deflate are supported")


def test_directory_entry_may_have_any_compression_method(src, dest):
    # Nothing is inflated for a directory, so its method does not matter (some archivers record deflate or worse).
    directory = zipfile.ZipInfo('docs/')
    directory.compress_type = zipfile.ZIP_BZIP2
    build(src, (directory, b''), ('docs/a.txt', b'a'))
    extracted(src, dest)
    assert listing(dest) == {'docs/': None, 'docs/a.txt': b'a'}


def test_not_a_zip_is_refused(src):
    with open(src, 'wb') as handle:
        handle.write(b'<html>Service unavailable</html>')
    refused_by_plan(src, ROOMY, UnpackError, r'release\.zip is not a valid zip archive: File is not a zip file')


def test_truncated_archive_is_refused(src):
    build(src, ('a.txt', b'a' * 1000), compression=zipfile.ZIP_STORED)
    with open(src, 'r+b') as handle:
        handle.truncate(500)
    refused_by_plan(src, ROOMY, UnpackError, r'is not a valid zip archive')


def test_missing_archive_is_refused(src):
    with pytest.raises(UnpackError) as info:
        plan(src, ROOMY)
    assert_refusal(info, UnpackError, r'Cannot read .*release\.zip: No such file or directory')


# --- limits judged from the central directory -----------------------------------------------------


def test_too_many_members_are_refused(src):
    build(src, ('a.txt', b'a'), ('b.txt', b'b'), ('c/', b''))
    refused_by_plan(src, Limits(max_size=MIB, max_ratio=100, max_files=2), UnsafeArchiveError,
                    r'The archive has 3 members, more than max_files \(2\)')


def test_total_size_over_max_size_is_refused(src):
    build(src, ('a.txt', b'x' * 60), ('b.txt', b'y' * 61))
    refused_by_plan(src, Limits(max_size=120, max_ratio=100, max_files=10), UnsafeArchiveError,
                    r'The archive would unpack to 121 bytes \(121 bytes\), more than max_size \(120 bytes\); it was '
                    r'refused before extracting anything')


def test_bomb_over_max_size_is_refused(src):
    build(src, ('bomb.bin', bytes(3 * MIB)))
    refused_by_plan(src, Limits(max_size=2 * MIB, max_ratio=10000, max_files=10), UnsafeArchiveError,
                    r'would unpack to 3\.0 MiB \(3145728 bytes\), more than max_size \(2097152 bytes\)')


def test_member_ratio_over_max_ratio_is_refused(src):
    build(src, ('notes.txt', b'notes'), ('bomb.bin', bytes(2 * MIB)))
    compressed = infos(src)[1].compress_size
    refused_by_plan(src, ROOMY, UnsafeArchiveError,
                    r"Member 'bomb\.bin' would unpack to 2097152 bytes from %d \(ratio \d+:1\), more than max_ratio "
                    r'\(100:1\): a zip bomb' % compressed)


def test_archive_ratio_over_max_ratio_is_refused(src):
    # Each member is below the per-member exemption; together they are a 2 MiB bomb.
    build(src, *[('part%d.bin' % number, bytes(MIB // 2)) for number in range(4)])
    refused_by_plan(src, ROOMY, UnsafeArchiveError,
                    r'The archive would unpack to 2097152 bytes from \d+ \(ratio \d+:1\), more than max_ratio '
                    r'\(100:1\): a zip bomb')


def test_small_member_is_exempt_from_the_ratio(src, dest):
    build(src, ('zeros.bin', bytes(MIB - 1)))
    extracted(src, dest, Limits(max_size=MIB, max_ratio=2, max_files=1))
    assert listing(dest) == {'zeros.bin': bytes(MIB - 1)}


# --- the layout: local headers and overlapping members ----------------------------------------------


def test_member_overlapping_the_next_member_is_refused(src):
    build(src, ('a.txt', b'a' * 100), ('b.txt', b'b' * 100), compression=zipfile.ZIP_STORED)
    patch_central(src, 0, compress_size=101, file_size=101)
    refused_by_plan(src, ROOMY, UnsafeArchiveError,
                    r"Member 'a\.txt' overlaps the next member or the central directory: overlapping members are a zip "
                    r'bomb technique')


def test_member_overlapping_the_central_directory_is_refused(src):
    build(src, ('a.txt', b'a' * 100), ('b.txt', b'b' * 100), compression=zipfile.ZIP_STORED)
    patch_central(src, 1, compress_size=101, file_size=101)
    refused_by_plan(src, ROOMY, UnsafeArchiveError,
                    r"Member 'b\.txt' overlaps the next member or the central directory")


def test_two_members_sharing_one_local_header_are_refused(src):
    # The overlap bomb's core: several central records pointing at one compressed kernel.
    build(src, ('a.bin', bytes(1000)), ('b.bin', bytes(1000)))
    patch_central(src, 1, header_offset=0)
    refused_by_plan(src, ROOMY, UnsafeArchiveError,
                    r"Member 'b\.bin' is named 'a\.bin' in its local header: the archive is inconsistent")


def test_local_header_naming_another_member_is_refused(src):
    build(src, ('good.txt', b'x'))
    overwrite(src, LOCAL.size, b'evil.txt')
    refused_by_plan(src, ROOMY, UnsafeArchiveError, r"Member 'good\.txt' is named 'evil\.txt' in its local header")


def test_missing_local_header_is_refused(src):
    build(src, ('a.txt', b'x'), ('b.txt', b'y'))
    overwrite(src, infos(src)[1].header_offset, b'XX')
    refused_by_plan(src, ROOMY, UnsafeArchiveError,
                    r"Member 'b\.txt' has no valid local header at offset %d" % infos(src)[1].header_offset)


def test_local_header_outside_the_archive_is_refused(src):
    build(src, ('a.txt', b'x'))
    patch_central(src, 0, header_offset=10 ** 6)
    refused_by_plan(src, ROOMY, UnsafeArchiveError, r"Member 'a\.txt' has no valid local header at offset 1000000")


# --- caught while inflating: the central directory lies, or the data is corrupt ------------------------


def test_member_inflating_past_its_declared_size_is_stopped(src, dest):
    build(src, ('notes.txt', b'notes'), ('bomb.bin', bytes(4 * MIB)))
    patch_central(src, 1, file_size=4096)  # small enough to pass every check of plan
    sizes = refused_while_extracting(src, dest, ROOMY, UnsafeArchiveError,
                                     r"Member 'bomb\.bin' inflates to more than the 4096 bytes the central directory "
                                     r'declares; extraction was stopped and nothing was kept')
    assert sizes['bomb.bin'] <= 4096  # the excess never reached the disk


def test_stored_member_longer_than_declared_is_stopped(src, dest):
    build(src, ('a.txt', b'a' * 100), compression=zipfile.ZIP_STORED)
    patch_central(src, 0, file_size=10)
    refused_while_extracting(src, dest, ROOMY, UnsafeArchiveError,
                             r"Member 'a\.txt' inflates to more than the 10 bytes the central directory declares")


def test_member_shorter_than_declared_is_refused(src, dest):
    build(src, ('a.txt', b'a' * 100))
    patch_central(src, 0, file_size=200)
    refused_while_extracting(src, dest, ROOMY, UnsafeArchiveError,
                             r"Member 'a\.txt' inflates to 100 bytes, not the 200 the central directory declares")


def test_member_inflating_faster_than_max_ratio_is_stopped(src, dest):
    # 5 MiB of zeros then 2 MiB of noise: 7 MiB from about 2 MiB passes plan at max_ratio 4, but the first MiB
    # read holds all the zeros and inflates to about 6 MiB, more than 1 MiB + 4 x 1 MiB.
    build(src, ('front.bin', bytes(5 * MIB) + random.Random(3).randbytes(2 * MIB)))
    limits = Limits(max_size=64 * MIB, max_ratio=4, max_files=10)
    sizes = refused_while_extracting(src, dest, limits, UnsafeArchiveError,
                                     r"Member 'front\.bin' inflates at more than max_ratio \(4:1\); extraction was "
                                     r'stopped and nothing was kept')
    assert sizes['front.bin'] <= 5 * MIB


def test_extraction_stops_at_max_size(src, dest):
    # plan's total stops this first under the same limits; extract counts again on its own (given tighter limits
    # here to show it).
    build(src, ('a.txt', b'a' * 80), ('b.txt', b'b' * 80))
    refused_while_extracting(src, dest, ROOMY, UnsafeArchiveError,
                             r'Extraction passed max_size \(100 bytes\); it was stopped and nothing was kept',
                             extract_limits=Limits(max_size=100, max_ratio=100, max_files=10))


def test_crc_mismatch_is_refused(src, dest):
    build(src, ('fine.txt', b'fine'), ('a.txt', b'the data' * 10))
    patch_central(src, 1, CRC=infos(src)[1].CRC ^ 0xFFFFFFFF)
    refused_while_extracting(src, dest, ROOMY, UnpackError,
                             r"Member 'a\.txt' fails its CRC-32 check: the archive is corrupt")


def test_truncated_deflate_stream_is_refused(src, dest):
    text = b''.join(b'line %d of the release notes\n' % number for number in range(5000))
    build(src, ('notes.txt', text))
    patch_central(src, 0, compress_size=infos(src)[0].compress_size // 2)
    refused_while_extracting(src, dest, ROOMY, UnpackError,
                             r"Member 'notes\.txt' is truncated: its deflate stream does not end")


def test_corrupt_deflate_stream_is_refused(src, dest):
    build(src, ('notes.txt', b'release notes ' * 100))
    overwrite(src, data_offset(src, 0), b'\xff')  # a final block of the invalid type 3
    refused_while_extracting(src, dest, ROOMY, UnpackError,
                             r"Member 'notes\.txt' is corrupt: .*invalid block type")


def test_archive_cut_short_after_plan_is_refused(src, dest, fork_child):
    build(src, ('a.txt', b'a' * 1000), compression=zipfile.ZIP_STORED)
    write_tree(dest, OLD_TREE)
    planned = plan(src, ROOMY)
    with open(src, 'r+b') as handle:  # replaced underneath by a shorter file
        handle.truncate(planned.files[0].data_offset + 10)
    temp = make_temp(dest)
    # In a child: without the check, the read loop would never end.
    outcome = fork_child(lambda: extract(src, planned, temp, ROOMY)).result(timeout=30)
    assert outcome == {'raised': 'UnpackError', 'message': "The archive ends inside member 'a.txt'."}
    assert listing(dest) == OLD_TREE
    remove_leftovers(dest)
    assert sorted(os.listdir(os.path.dirname(dest))) == ['release.zip', 'unpacked']


def test_file_size_limit_while_extracting_is_refused(src, dest, fork_child):
    build(src, ('data.bin', random.Random(5).randbytes(MIB)))
    planned = plan(src, ROOMY)
    temp = make_temp(dest)

    def child():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (MIB // 4, MIB // 4))
        extract(src, planned, temp, ROOMY)

    outcome = fork_child(child).result()
    assert outcome.get('raised') == 'UnpackError', outcome
    assert outcome['message'].startswith('No space left while unpacking (File too large); nothing was kept.')
    remove_leftovers(dest)
    assert os.listdir(os.path.dirname(dest)) == ['release.zip']


def test_other_write_errors_are_not_called_disk_full(src, dest, monkeypatch):
    def broken_disk(fd, data):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    build(src, ('a.txt', b'a'))
    planned = plan(src, ROOMY)
    monkeypatch.setattr(_fs, 'write_all', broken_disk)
    with pytest.raises(OSError) as info:
        extract(src, planned, make_temp(dest), ROOMY)
    assert info.value.errno == errno.EIO


# --- the rest of the extraction's refusals -------------------------------------------------------------


def test_free_space_check(tmp_path):
    check_free_space(str(tmp_path), 1)
    with pytest.raises(UnpackError) as info:
        check_free_space(str(tmp_path), 2 ** 60)
    assert_refusal(info, UnpackError, r'Unpacking needs 1048576\.0 TiB \(%d bytes\) in %s, but only .* is available; '
                                      r'nothing was extracted' % (2 ** 60, re.escape(str(tmp_path))))


def test_held_lock_is_refused_with_unpack_error(tmp_path, fork_child):
    directory = str(tmp_path)

    def child():
        with directory_lock(directory, timeout=0.2):
            return 'locked'

    with directory_lock(directory):
        outcome = fork_child(child).result()
    assert outcome == {'raised': 'UnpackError',
                       'message': 'Another run has held the lock on %s for more than 0.2 seconds.' % directory}


def test_leftovers_of_other_trees_are_kept(tmp_path, dest):
    os.mkdir(str(tmp_path / '.unpacked.x1.unpacking'))
    os.mkdir(str(tmp_path / '.unpacked.x2.old'))
    os.mkdir(str(tmp_path / '.other.x3.unpacking'))
    os.mkdir(str(tmp_path / '.unpacked.x4.keep'))
    remove_leftovers(dest)
    assert sorted(os.listdir(str(tmp_path))) == ['.other.x3.unpacking', '.unpacked.x4.keep']


def test_tree_state_names_the_first_reason_to_unpack_again(tmp_path):
    """No record, a record of another archive, a damaged tree, and an intact one: the rule release_unpack's rerun
    and the role's no-op check share."""
    tree = tmp_path / 'unpacked'
    (tree / 'Snapshot').mkdir(parents=True)
    (tree / 'Snapshot' / 'concepts.txt').write_bytes(b'12345')
    marker = {'archive': {'sha256': 'a' * 64}, 'directories': ['Snapshot'], 'files': [['Snapshot/concepts.txt', 5]]}
    assert tree_state(str(tree), None, 'a' * 64) == ('no record', [])
    assert tree_state(str(tree), marker, 'b' * 64) == ('archive changed', [])
    assert tree_state(str(tree), marker, 'a' * 64) == (None, [])
    (tree / 'Snapshot' / 'concepts.txt').write_bytes(b'123')
    assert tree_state(str(tree), marker, 'a' * 64) == ('tree damaged', ['Snapshot/concepts.txt has 3 bytes, not 5'])
