# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""trud_release_fetch options: support files, file attributes, force, rehash, module_defaults, environment
fallbacks, the maintenance window warning, and concurrent runs."""

from __future__ import annotations

import base64
import datetime
import grp
import json
import os
import pwd
import stat
import subprocess

from trud_itest import API_KEY, OMIT, hash_file, names, sha256_file, tree

PUBLIC_KEY_NAME = 'trud-public-key-2013-04-01.pgp'


def record_name(release):
    return '.%s.verified.json' % release['archiveFileName']


def gpg_verify(tmp_path, signature, data, public_key):
    """Verify like a TRUD user would, with gpg in a throwaway home; returns the VALIDSIG fingerprint."""
    home = tmp_path / 'gnupg'
    home.mkdir(mode=0o700)
    subprocess.run(['gpg', '--batch', '--homedir', str(home), '--import', str(public_key)], check=True,
                   capture_output=True)
    status = subprocess.run(['gpg', '--batch', '--homedir', str(home), '--status-fd', '1', '--verify', str(signature),
                             str(data)], check=True, capture_output=True, text=True).stdout
    return [line.split()[2] for line in status.splitlines() if line.startswith('[GNUPG:] VALIDSIG ')][0]


def test_keep_support_files(run_playbook, fetch_task, sandbox, dest, tmp_path):
    release = sandbox.release(101)
    stem = release['archiveFileName'][:-len('.zip')]
    run_playbook([fetch_task()])
    sandbox.clear_log()

    # Asked for later, the support files are added without downloading the archive again.
    result = run_playbook([fetch_task(keep_support_files=True)]).result()
    assert result['changed'] is True
    assert result['downloaded'] is False
    checksum, signature, public_key = (dest / ('trud_%s.xml' % stem), dest / ('trud_%s.xml.asc' % stem),
                                       dest / PUBLIC_KEY_NAME)
    assert result['support_files'] == [str(checksum), str(signature), str(public_key)]
    assert sandbox.module_requests('archive') == []

    archive = dest / release['archiveFileName']
    sha1_b64 = base64.b64encode(bytes.fromhex(hash_file(archive, 'sha1'))).decode()
    assert ('<SHA1>%s</SHA1>' % sha1_b64).encode() in checksum.read_bytes()
    assert ('<name>%s</name>' % release['archiveFileName']).encode() in checksum.read_bytes()
    assert signature.read_bytes().startswith(b'-----BEGIN PGP SIGNATURE-----')
    with open(sandbox.info['trud_public_key_path'], 'rb') as handle:
        assert public_key.read_bytes() == handle.read()
    # Someone else can verify the archive later from what was kept.
    assert gpg_verify(tmp_path, signature, checksum, public_key) == sandbox.trud_fingerprint

    before = tree(dest)
    sandbox.clear_log()
    result = run_playbook([fetch_task(keep_support_files=True)]).result()
    assert result['changed'] is False
    assert result['support_files'] == [str(checksum), str(signature), str(public_key)]
    assert tree(dest) == before
    assert sandbox.module_requests('archive') == []


def test_check_mode_predicts_support_files(run_playbook, fetch_task, sandbox, workspace, dest):
    run_playbook([fetch_task()])
    before = tree(workspace)
    predicted = run_playbook([fetch_task(keep_support_files=True)], check=True).result()
    assert tree(workspace) == before, 'check mode wrote something'
    actual = run_playbook([fetch_task(keep_support_files=True)]).result()
    assert actual['changed'] is True
    assert predicted['changed'] is actual['changed'], 'check mode did not predict the change'


def test_mode_owner_group(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    path = dest / release['archiveFileName']
    owner = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name

    result = run_playbook([fetch_task(mode='0640', owner=owner, group=group)]).result()
    assert result['changed'] is True and result['downloaded'] is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert (path.stat().st_uid, path.stat().st_gid) == (os.getuid(), os.getgid())
    assert (result['mode'], result['owner'], result['group']) == ('0640', owner, group)
    inode = path.stat().st_ino
    sandbox.clear_log()

    run = run_playbook([fetch_task('0600', mode='0600', owner=owner, group=group),
                        fetch_task('0600 again', mode='0600', owner=owner, group=group)])
    assert run.result('0600')['changed'] is True
    assert run.result('0600')['downloaded'] is False
    assert run.result('0600 again')['changed'] is False
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_ino == inode, 'the file was replaced instead of changed'
    assert sandbox.module_requests('archive') == []
    assert sha256_file(path) == release['archiveFileSha256'].lower()


def test_diff_shows_a_mode_change(run_playbook, fetch_task, sandbox, dest):
    run_playbook([fetch_task(mode='0644')])
    run = run_playbook([fetch_task(mode='0600')], diff=True)
    result = run.result()
    assert result['changed'] is True
    assert result['diff']['before'] != result['diff']['after'], result['diff']
    assert '0600' in json.dumps(result['diff'])


def test_force_downloads_again(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    run_playbook([fetch_task()])
    sandbox.clear_log()
    result = run_playbook([fetch_task(force=True)]).result()
    assert result['changed'] is True
    assert result['downloaded'] is True
    assert result['bytes_transferred'] == release['archiveFileSizeBytes']
    assert len(sandbox.archive_gets()) == 1
    assert sha256_file(dest / release['archiveFileName']) == release['archiveFileSha256'].lower()


def test_rehash_reads_the_file_not_the_archive(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    run_playbook([fetch_task()])
    before = tree(dest)
    sandbox.clear_log()
    result = run_playbook([fetch_task(rehash=True)]).result()
    assert result['changed'] is False
    assert result['downloaded'] is False
    assert result['sha256'] == release['archiveFileSha256'].lower()
    assert sandbox.module_requests('archive') == []
    after = tree(dest)
    assert after[release['archiveFileName']] == before[release['archiveFileName']]
    # The file was re-read and found good, so its verification record was written afresh.
    assert after[record_name(release)][4] != before[record_name(release)][4]


def test_rehash_repairs_a_file_corrupted_in_place(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    path = dest / release['archiveFileName']
    run_playbook([fetch_task()])
    # Same size, same mtime, same inode, one byte different: only a re-hash can tell.
    stat_before = path.stat()
    with open(path, 'r+b') as handle:
        handle.seek(1_234_567)
        byte = handle.read(1)
        handle.seek(1_234_567)
        handle.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
    assert path.stat().st_mtime_ns == stat_before.st_mtime_ns
    assert sha256_file(path) != release['archiveFileSha256'].lower()
    sandbox.clear_log()

    run = run_playbook([fetch_task('trusting the record'), fetch_task('rehash', rehash=True)])
    assert run.result('trusting the record')['changed'] is False  # documented: a no-op run trusts the record
    result = run.result('rehash')
    assert result['changed'] is True
    assert result['downloaded'] is True
    assert sha256_file(path) == release['archiveFileSha256'].lower()
    assert len(sandbox.archive_gets()) == 1


def test_module_defaults_group(run_playbook, fetch_task, info_task, sandbox, dest):
    release = sandbox.release(101)
    defaults = {'group/terminology.releases.trud': {'api_key': '{{ trud_api_key }}', 'base_url': sandbox.trud_base_url}}
    run = run_playbook([{
        'name': 'with module_defaults',
        'module_defaults': defaults,
        'block': [info_task(latest=True, api_key=OMIT, base_url=OMIT), fetch_task(api_key=OMIT, base_url=OMIT)],
    }])
    assert run.result('info')['releases'][0]['id'] == release['id']
    assert run.result()['changed'] is True
    assert sha256_file(dest / release['archiveFileName']) == release['archiveFileSha256'].lower()
    assert len(sandbox.archive_gets()) == 1


def test_environment_fallbacks(run_playbook, fetch_task, info_task, sandbox, dest):
    release = sandbox.release(101)
    run = run_playbook([info_task(latest=True, api_key=OMIT, base_url=OMIT), fetch_task(api_key=OMIT, base_url=OMIT)],
                       env={'TRUD_API_KEY': API_KEY, 'TRUD_BASE_URL': sandbox.trud_base_url})
    assert run.result('info')['releases'][0]['id'] == release['id']
    assert run.result()['changed'] is True
    assert sha256_file(dest / release['archiveFileName']) == release['archiveFileSha256'].lower()
    assert len(sandbox.archive_gets()) == 1


def outside_trud_hours(moment):
    """Independent oracle: TRUD's preferred hours are weekdays 09:00-18:00 and every day 00:00-06:00, UK time."""
    try:
        from zoneinfo import ZoneInfo  # pylint: disable=import-outside-toplevel
        local = moment.astimezone(ZoneInfo('Europe/London'))
    except Exception:  # pylint: disable=broad-except
        return None  # no time zone database here
    return not (local.hour < 6 or (local.weekday() < 5 and 9 <= local.hour < 18))


def test_maintenance_window_warning_is_accepted(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    outside_before = outside_trud_hours(datetime.datetime.now(datetime.timezone.utc))
    run = run_playbook([fetch_task(maintenance_window_warning=True)])
    outside_after = outside_trud_hours(datetime.datetime.now(datetime.timezone.utc))
    assert run.result()['changed'] is True
    assert sha256_file(dest / release['archiveFileName']) == release['archiveFileSha256'].lower()
    warned = any('outside the hours' in warning for warning in run.warnings())
    if outside_before is not None and outside_before == outside_after:
        assert warned == outside_before, (outside_before, run.warnings())


def test_concurrent_runs_download_once(runner, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    # Slow the one download down so that the other run certainly waits for the lock meanwhile.
    sandbox.add_faults({'kind': 'archive', 'type': 'stall', 'seconds': 2, 'after_bytes': 100_000})
    first = runner.start([fetch_task()])
    second = runner.start([fetch_task()])
    results = [first.wait().result(), second.wait().result()]

    assert sorted(result['changed'] for result in results) == [False, True]
    assert sorted(result['downloaded'] for result in results) == [False, True]
    assert len(sandbox.wait_for_archive_gets(1)) == 1
    assert len(sandbox.archive_gets()) == 1, 'the archive was downloaded twice'
    assert sha256_file(dest / release['archiveFileName']) == release['archiveFileSha256'].lower()
    assert names(dest) == sorted([release['archiveFileName'], record_name(release)])
    assert all(result['sha256'] == release['archiveFileSha256'].lower() for result in results)


def test_a_release_without_sha256_warns_only_when_it_is_downloaded(run_playbook, fetch_task, sandbox, dest):
    """Nightly jobs that alert on warnings stay quiet on a no-op run; the run that downloads says what was checked."""
    sandbox.sandbox.add_release(101, size=1_000_003, sha256='omit')
    first = run_playbook([dict(fetch_task('check'), check_mode=True), fetch_task()])
    for task in ('check', 'fetch'):
        assert first.result(task)['downloaded'] is True
        assert any('offers no sha256' in warning and 'verify: signature' in warning
                   for warning in first.warnings(task)), first.warnings(task)
    again = run_playbook([fetch_task(), dict(fetch_task('check'), check_mode=True)])
    for task in ('fetch', 'check'):
        assert again.result(task)['changed'] is False
        assert again.warnings(task) == [], again.warnings(task)
    acknowledged = run_playbook([fetch_task(verify='signature', force=True)])
    assert acknowledged.result()['verified'] == ['size', 'signature']
    assert not [warning for warning in acknowledged.warnings() if 'sha256' in warning], acknowledged.warnings()
