# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role release_sync (and its module release_unpack) in real ansible-playbook runs against the sandbox.

Every run uses a fleet of five inventory hosts (local connection, the test interpreter), each with its own
root under the test's workspace, runs at -vvvv, and is scanned for every form of the secrets it was given:
stdout, stderr, the ansible log, the callback results and every file name and file under the workspace.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from trud_itest import API_KEY, OMIT, ansible_env, assert_no_secrets, sha256_file, with_options

ROLE = 'terminology.releases.release_sync'
HOSTS = ['host%d' % number for number in range(1, 6)]
PLAYBOOK_TIMEOUT = 300
HANDLER = 'Reload the terminology server'
RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+'
                   r'rescued=(\d+)\s+ignored=(\d+)', re.M)
RECAP_FIELDS = ('ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored')
WRONG_KEY = 'itest-Wrong+Key/With=Odd Chars 71c0&y'


# --- running the role -------------------------------------------------------------------------------


class RoleRun:
    """What one ansible-playbook run of the role produced."""

    def __init__(self, rc, stdout, stderr, log, results):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.log = log
        # Role task names come as "<role> : <name>": keep the name only.
        self.results = [dict(entry, task=entry['task'].split(' : ', 1)[-1]) for entry in results]
        self.recap = dict((match.group(1), dict(zip(RECAP_FIELDS, (int(value) for value in match.groups()[1:]))))
                          for match in RECAP.finditer(stdout))

    def describe(self):
        return 'rc=%s\n--- stdout (tail) ---\n%s\n--- stderr (tail) ---\n%s' % (
            self.rc, self.stdout[-8000:], self.stderr[-3000:])

    def changed(self):
        """{host: changed count} from the PLAY RECAP."""
        return dict((host, counts['changed']) for host, counts in self.recap.items())

    def facts(self, host):
        """release_sync_result of a host, as the last task of the play showed it."""
        entries = [entry for entry in self.results if entry['task'] == 'Show the result' and entry['host'] == host]
        assert len(entries) == 1, self.describe()
        return entries[0]['result']['release_sync_result']

    def entries(self, task, status=None):
        return [entry for entry in self.results
                if entry['task'] == task and (status is None or entry['status'] == status)]

    def failures(self):
        return [entry for entry in self.results if entry['status'] == 'failed' and not entry['ignore_errors']]


class RoleRunner:
    """Writes an inventory of five local hosts and a play that applies the role, and runs it for real."""

    def __init__(self, tmp_path, collections, sandbox):
        self.sandbox = sandbox
        self.workspace = tmp_path / 'ws'  # every host root and the controller cache live here
        self.workspace.mkdir()
        self.runs = tmp_path / 'runs'
        self.runs.mkdir()
        self.collections = collections
        self.count = 0
        self.playbook_bin = str(Path(sys.executable).parent / 'ansible-playbook')
        self.cache = self.workspace / 'controller-cache'

    def root(self, host):
        return self.workspace / 'hosts' / host / 'releases'

    def base_vars(self):
        return {
            'release_sync_trud_api_key': API_KEY,
            'release_sync_trud_base_url': self.sandbox.trud_base_url,
            'release_sync_trud_trusted_fingerprints': [self.sandbox.trud_fingerprint],
            'release_sync_trud_maintenance_window_warning': False,
            'release_sync_controller_cache': str(self.cache),
            'release_sync_file_mode': '0640',
            'release_sync_directory_mode': '0750',
            'release_sync_timeout': 20,
            'release_sync_retries': 1,
            'release_sync_notify': [HANDLER],
        }

    def inventory(self):
        hosts = dict((host, {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                             'release_sync_root': str(self.root(host))}) for host in HOSTS)
        return {'fleet': {'hosts': hosts}}

    def write(self, run_dir, releases, variables, play_options=None):
        (run_dir / 'inventory.json').write_text(json.dumps(self.inventory()), encoding='utf-8')
        play = {
            'name': 'Keep the terminology releases on the fleet',
            'hosts': 'fleet',
            'gather_facts': False,
            'roles': [{'role': ROLE}],
            'tasks': [{'name': 'Show the result', 'ansible.builtin.debug': {'var': 'release_sync_result'}}],
            'handlers': [{'name': HANDLER, 'ansible.builtin.debug': {
                'msg': 'reloading for {{ release_sync_changed | join(", ") }}'}}],
        }
        play.update(play_options or {})
        (run_dir / 'playbook.yml').write_text(json.dumps([play], indent=1), encoding='utf-8')
        merged = self.base_vars()
        merged['release_sync_releases'] = releases
        with_options(merged, variables or {})  # a variable given as OMIT is not set at all
        (run_dir / 'vars.json').write_text(json.dumps(merged), encoding='utf-8')

    def env(self, run_dir):
        env = ansible_env(self.collections, run_dir)
        env.update({'ANSIBLE_PIPELINING': 'true', 'ANSIBLE_FORKS': '5'})
        return env

    def run(self, releases, variables=None, check=False, expect_failure=False, secrets=(), play=None, verbosity='-vvvv'):
        return self.start(releases, variables, check, play, verbosity).wait(expect_failure, secrets)

    def start(self, releases, variables=None, check=False, play=None, verbosity='-vvvv', limit=None):
        """Start one ansible-playbook run of the role in its own session (several may run at once); wait() on the
        result collects and checks it, collect() only collects it (a run that was killed)."""
        self.count += 1
        run_dir = self.runs / ('%02d' % self.count)
        run_dir.mkdir()
        self.write(run_dir, releases, variables, play)
        cmd = [self.playbook_bin] + ([verbosity] if verbosity else []) + [
            '-i', str(run_dir / 'inventory.json'), '-e', '@' + str(run_dir / 'vars.json'), str(run_dir / 'playbook.yml')]
        if check:
            cmd.append('--check')
        if limit:
            cmd.extend(['--limit', limit])
        # To files, not pipes: a run nobody reads from until it ends (one that is killed) must not block on output.
        with open(run_dir / 'stdout.txt', 'wb') as stdout, open(run_dir / 'stderr.txt', 'wb') as stderr:
            process = subprocess.Popen(cmd, cwd=str(run_dir), env=self.env(run_dir), stdin=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                                       stdout=stdout, stderr=stderr, start_new_session=True)
        return StartedRun(self, process, run_dir, limit)

    def scan_for_secrets(self, run, results_text, extra_secrets=()):
        """No form of a secret in the output, the log, the results, or any file name or file of the workspace."""
        assert_no_secrets(self.workspace, run, results_text, (API_KEY,) + tuple(extra_secrets))


class StartedRun:
    """An ansible-playbook run of the role that was started; wait() collects it, scans it for secrets and checks it."""

    def __init__(self, runner, process, run_dir, limit):
        self.runner = runner
        self.process = process
        self.run_dir = run_dir
        self.limit = limit

    def collect(self, secrets=()):
        """The RoleRun, however it ends (killed too), scanned for secrets."""
        try:
            self.process.wait(timeout=PLAYBOOK_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail('ansible-playbook did not finish within %d s:\n%s' % (
                PLAYBOOK_TIMEOUT, (self.run_dir / 'stdout.txt').read_text(errors='replace')[-6000:]))
        stdout = (self.run_dir / 'stdout.txt').read_text(encoding='utf-8', errors='replace')
        stderr = (self.run_dir / 'stderr.txt').read_text(encoding='utf-8', errors='replace')
        log_path, results_path = self.run_dir / 'ansible.log', self.run_dir / 'results.jsonl'
        log = log_path.read_text(encoding='utf-8', errors='replace') if log_path.exists() else ''
        results_text = results_path.read_text(encoding='utf-8', errors='replace') if results_path.exists() else ''
        run = RoleRun(self.process.returncode, stdout, stderr, log,
                      [json.loads(line) for line in results_text.splitlines() if line.strip()])
        self.runner.scan_for_secrets(run, results_text, secrets)
        return run

    def wait(self, expect_failure=False, secrets=()):
        run = self.collect(secrets)
        expected = HOSTS if not self.limit else [host for host in HOSTS if host in self.limit.split(',')]
        assert sorted(run.recap) == sorted(expected), run.describe()
        if expect_failure:
            assert run.rc != 0, 'the play was expected to fail:\n' + run.describe()
        else:
            assert run.rc == 0 and not run.failures(), run.describe()
        return run


@pytest.fixture
def role(tmp_path, ansible_collections_path, sandbox):
    return RoleRunner(tmp_path, ansible_collections_path, sandbox)


# --- helpers ----------------------------------------------------------------------------------------


def snapshot(path):
    """Everything under path: type, size, mode, mtime and link target of each entry."""
    root = Path(path)
    found = {}
    for item in sorted(root.rglob('*')):
        info = item.lstat()
        target = os.readlink(item) if item.is_symlink() else None
        found[str(item.relative_to(root))] = (stat.S_IFMT(info.st_mode), info.st_size, stat.S_IMODE(info.st_mode),
                                              info.st_mtime_ns, target)
    return found


def release_dirs(base):
    """The release directories under <root>/<name> (not current, not hidden)."""
    return sorted(entry.name for entry in base.iterdir() if entry.is_dir() and not entry.is_symlink()
                  and not entry.name.startswith('.'))


def archive_downloads(sandbox, kind='archive'):
    """GET requests of that kind the sandbox answered 200 or 206 (real downloads)."""
    return list(sandbox.downloads(kind))


def dir_name(release):
    """The release directory of a TRUD release: its id without the archive extension."""
    assert release['id'].endswith('.zip'), release['id']
    return release['id'][:-len('.zip')]


def assert_release_on_hosts(role, name, release, unpacked=False):
    """Every host has the release's archive (verified bytes, role modes), its marker, and current on it."""
    for host in HOSTS:
        base = role.root(host) / name
        directory = base / dir_name(release)
        archive = directory / release['archiveFileName']
        assert archive.is_file(), host
        assert stat.S_IMODE(archive.stat().st_mode) == 0o640
        assert stat.S_IMODE(directory.stat().st_mode) == 0o750
        assert sha256_file(archive) == release['archiveFileSha256'].lower()
        assert os.readlink(base / 'current') == dir_name(release)
        markers = [entry for entry in os.listdir(directory) if entry.startswith('.release_sync.')]
        assert markers == ['.release_sync.' + release['releaseDate']]
        if unpacked:
            tree = directory / 'unpacked'
            stem = release['archiveFileName'][:-len('.zip')]
            assert (tree / stem / 'data.bin').is_file()
            assert stat.S_IMODE((tree / stem / 'data.bin').stat().st_mode) == 0o640
            assert stat.S_IMODE((tree / stem).stat().st_mode) == 0o750
            assert json.loads((tree / '.release_unpack.json').read_text())['archive']['sha256'] == \
                release['archiveFileSha256'].lower()


def assert_result(role, run, host, name, release, changed, unpacked=False, previous=None, pruned=()):
    result = run.facts(host)[name]
    assert result['release_id'] == release['id']
    assert result['release_date'] == release['releaseDate']
    assert result['source'] == 'trud'
    assert result['changed'] is changed
    assert result['sha256'] == release['archiveFileSha256'].lower()
    assert result['verified'] == ['size', 'sha256', 'signature']
    assert result['path'] == str(role.root(host) / name / dir_name(release))
    assert result['archive'] == result['path'] + '/' + release['archiveFileName']
    assert result['current'] == str(role.root(host) / name / 'current')
    assert result['unpacked_path'] == (result['path'] + '/unpacked' if unpacked else None)
    assert result['previous_release_id'] == previous
    assert result['pruned'] == list(pruned)
    return result


def handler_hosts(run):
    return sorted(entry['host'] for entry in run.entries(HANDLER))


# --- the scenarios ----------------------------------------------------------------------------------


def test_controller_mode_fetches_once_then_moves_current_and_prunes(role, sandbox):
    """Controller mode on five hosts: one download per release, a no-op second run, an honest check run, a new
    release that moves current, and retention (keep 2) removing the oldest after the third release."""
    releases = [{'name': 'clinical', 'item': 101, 'unpack': True}]
    first_release = sandbox.release(101)

    first = role.run(releases)
    assert len(archive_downloads(sandbox)) == 1, 'controller mode must download the release exactly once'
    assert_release_on_hosts(role, 'clinical', first_release, unpacked=True)
    for host in HOSTS:
        assert_result(role, first, host, 'clinical', first_release, changed=True, unpacked=True)
        assert first.changed()[host] > 0
    assert handler_hosts(first) == HOSTS
    assert os.listdir(role.cache / 'clinical') == [dir_name(first_release)]

    sandbox.clear_log()
    before = snapshot(role.workspace)
    second = role.run(releases)
    assert second.changed() == dict((host, 0) for host in HOSTS), second.describe()
    assert archive_downloads(sandbox) == []
    assert handler_hosts(second) == []
    for host in HOSTS:
        assert_result(role, second, host, 'clinical', first_release, changed=False, unpacked=True)
    assert snapshot(role.workspace) == before

    # A new release appears: check mode reports the changes and writes nothing, anywhere.
    sandbox.add_release(101, version='41.0.0', release_date='2026-03-04', size=1_500_000)
    second_release = sandbox.release(101)
    sandbox.clear_log()
    check = role.run(releases, check=True)
    assert snapshot(role.workspace) == before, 'check mode wrote to the hosts or the controller cache'
    assert all(count > 0 for count in check.changed().values()), check.describe()
    assert archive_downloads(sandbox) == []
    for host in HOSTS:
        result = check.facts(host)['clinical']
        assert result['release_id'] == second_release['id'] and result['changed'] is True

    third = role.run(releases)
    assert len(archive_downloads(sandbox)) == 1
    assert_release_on_hosts(role, 'clinical', second_release, unpacked=True)
    for host in HOSTS:
        assert_result(role, third, host, 'clinical', second_release, changed=True, unpacked=True,
                      previous=dir_name(first_release))
        assert release_dirs(role.root(host) / 'clinical') == sorted([dir_name(first_release), dir_name(second_release)])
    assert handler_hosts(third) == HOSTS

    # The third release: current moves to it and the oldest of the three is removed (keep 2).
    sandbox.add_release(101, version='42.0.0', release_date='2026-04-01', size=1_200_000)
    third_release = sandbox.release(101)
    sandbox.clear_log()
    fourth = role.run(releases)
    assert len(archive_downloads(sandbox)) == 1
    assert_release_on_hosts(role, 'clinical', third_release, unpacked=True)
    for host in HOSTS:
        assert_result(role, fourth, host, 'clinical', third_release, changed=True, unpacked=True,
                      previous=dir_name(second_release), pruned=[dir_name(first_release)])
        assert release_dirs(role.root(host) / 'clinical') == sorted([dir_name(second_release), dir_name(third_release)])
    # The controller cache keeps only the selected release.
    assert os.listdir(role.cache / 'clinical') == [dir_name(third_release)]


def short_path_hosts(run):
    """The hosts on which the role found every release in place, so that it ran no per-release task."""
    return sorted(entry['host'] for entry in run.entries('Sync the releases not in place', 'skipped'))


def test_no_op_takes_the_short_path_and_any_difference_the_full_one(role, sandbox):
    """A run over an unchanged fleet asks one module per host and runs no per-release task; an archive whose mode,
    bytes or unpacked tree changed, or a release directory with another mode, sends that host (only) through the
    full path, which puts it right; then every host is back on the short path."""
    releases = [{'name': 'clinical', 'item': 101, 'unpack': True}]
    release = sandbox.release(101)
    role.run(releases)
    sandbox.clear_log()
    second = role.run(releases)
    assert second.changed() == dict((host, 0) for host in HOSTS), second.describe()
    assert short_path_hosts(second) == HOSTS, second.describe()
    assert second.entries('Fetch the TRUD release on the controller') == []
    for host in HOSTS:
        assert_result(role, second, host, 'clinical', release, changed=False, unpacked=True)

    def path(host, *parts):
        return role.root(host).joinpath('clinical', dir_name(release), *parts)

    archive = path('host1', release['archiveFileName'])
    os.chmod(archive, 0o600)
    size = archive.stat().st_size
    tampered = path('host2', release['archiveFileName'])
    with open(tampered, 'r+b') as handle:
        handle.write(b'X' * 64)
    assert tampered.stat().st_size == size
    unpacked = [item for item in path('host3', 'unpacked').rglob('*') if item.is_file() and not item.name.startswith('.')]
    unpacked[0].unlink()
    os.chmod(path('host4'), 0o700)

    third = role.run(releases)
    assert short_path_hosts(third) == ['host5'], third.describe()
    assert third.changed()['host5'] == 0
    assert all(third.changed()[host] > 0 for host in ('host1', 'host2', 'host3', 'host4')), third.describe()
    assert archive_downloads(sandbox) == [], 'the verified copy in the controller cache serves every repair'
    assert_release_on_hosts(role, 'clinical', release, unpacked=True)
    untouched = path('host5', release['archiveFileName'])
    assert stat.S_IMODE(archive.stat().st_mode) == stat.S_IMODE(untouched.stat().st_mode) != 0o600
    assert stat.S_IMODE(path('host4').stat().st_mode) == stat.S_IMODE(path('host5').stat().st_mode) != 0o700

    fourth = role.run(releases)
    assert fourth.changed() == dict((host, 0) for host in HOSTS), fourth.describe()
    assert short_path_hosts(fourth) == HOSTS, fourth.describe()


def test_host_mode_every_host_fetches_and_check_mode_writes_nothing(role, sandbox):
    """Host mode: a check run on empty hosts writes nothing anywhere; then each host downloads the release
    itself (five downloads); the second run changes nothing."""
    releases = [{'name': 'dmd', 'item': 24}]
    release = sandbox.release(24)  # dm+d: no SHA-256 in the listing; the fetch module computes it
    variables = {'release_sync_fetch_mode': 'host'}

    check = role.run(releases, variables, check=True)
    assert snapshot(role.workspace) == {}, 'check mode created files'
    assert all(count > 0 for count in check.changed().values()), check.describe()
    assert archive_downloads(sandbox) == []

    first = role.run(releases, variables)
    assert len(archive_downloads(sandbox)) == len(HOSTS), 'host mode downloads once per host'
    expected = sha256_file(role.root(HOSTS[0]) / 'dmd' / dir_name(release) / release['archiveFileName'])
    for host in HOSTS:
        base = role.root(host) / 'dmd'
        assert os.readlink(base / 'current') == dir_name(release)
        assert sha256_file(base / dir_name(release) / release['archiveFileName']) == expected
        result = first.facts(host)['dmd']
        assert result['changed'] is True and result['fetch_mode'] == 'host'
        assert result['sha256'] == expected and result['verified'] == ['size', 'signature']
        assert result['sha1'] and result['unpacked_path'] is None
    assert handler_hosts(first) == HOSTS

    sandbox.clear_log()
    before = snapshot(role.workspace)
    second = role.run(releases, variables)
    assert second.changed() == dict((host, 0) for host in HOSTS), second.describe()
    assert archive_downloads(sandbox) == []
    assert snapshot(role.workspace) == before
    assert handler_hosts(second) == []


def test_zip_slip_archive_is_refused_and_nothing_escapes(role, sandbox, tmp_path):
    """Item 900's archive has a member ../../evil.txt: the unpack refuses it before extracting anything, current is
    not switched, and no evil.txt exists anywhere under the test's directory."""
    run = role.run([{'name': 'hostile', 'item': 900, 'unpack': True}], expect_failure=True)
    failed = run.failures()
    assert sorted(entry['host'] for entry in failed) == HOSTS
    for entry in failed:
        assert entry['task'] == 'Unpack the archive beside it'
        assert "'../../evil.txt'" in entry['result']['msg'] and 'zip slip' in entry['result']['msg']
    assert list(tmp_path.rglob('evil.txt')) == []
    assert list(tmp_path.rglob('readme.txt')) == []
    for host in HOSTS:
        base = role.root(host) / 'hostile'
        assert not os.path.lexists(base / 'current')
        (directory,) = release_dirs(base)
        assert not any(entry.startswith('.unpacked') or entry == 'unpacked' for entry in os.listdir(base / directory))
    assert handler_hosts(run) == []


def test_zip_bomb_is_refused_by_the_size_limit_and_leaves_nothing(role, sandbox, tmp_path):
    """Item 901's archive inflates 200 kB to 200 MiB: refused by max_size from the central directory, in host mode,
    with no unpacked tree, no temporary directory and no current link left behind."""
    run = role.run([{'name': 'bomb', 'item': 901, 'unpack': True, 'unpack_max_size': '64M'}],
                   {'release_sync_fetch_mode': 'host'}, expect_failure=True)
    failed = run.failures()
    assert sorted(entry['host'] for entry in failed) == HOSTS
    for entry in failed:
        assert 'more than max_size (67108864 bytes)' in entry['result']['msg']
        assert 'refused before extracting anything' in entry['result']['msg']
    assert list(tmp_path.rglob('bomb.bin')) == []
    for host in HOSTS:
        base = role.root(host) / 'bomb'
        assert not os.path.lexists(base / 'current')
        (directory,) = release_dirs(base)
        archive = directory + '.zip'
        assert sorted(os.listdir(base / directory)) == sorted(
            ['.%s.verified.json' % archive, archive]), 'only the verified archive may remain'


def test_failed_fetch_reports_the_error_without_the_key(role, sandbox):
    """A wrong key: the no_log task's failure is explained by the module's (redacted) message, and neither key
    appears anywhere, even at -vvvv."""
    run = role.run([{'name': 'clinical', 'item': 101}], {'release_sync_trud_api_key': WRONG_KEY},
                   expect_failure=True, secrets=(WRONG_KEY,))
    failed = run.failures()
    assert sorted(entry['host'] for entry in failed) == HOSTS
    for entry in failed:
        assert entry['task'] == 'Check the selected release'
        assert entry['result']['msg'].startswith('Release clinical (TRUD item 101): ')
        assert 'HTTP 400' in entry['result']['msg'] or 'BAD REQUEST' in entry['result']['msg'].upper()
    assert 'censored' in run.stdout  # the module's own failure stays hidden by no_log
    assert not role.cache.exists()
    assert all(os.listdir(role.root(host)) == [] for host in HOSTS), 'no release directory may be created'


def test_release_directory_is_named_without_the_archive_extension(role, sandbox):
    """A release directory is named by the release id without .zip (it holds the .zip), so that tools which glob
    *.zip (Snowstorm's watch folder) do not take it for an archive; current points at it."""
    release = sandbox.release(24)
    run = role.run([{'name': 'dmd', 'item': 24}], {'release_sync_fetch_mode': 'host'}, secrets=())
    for host in HOSTS:
        base = role.root(host) / 'dmd'
        assert sorted(path.name for path in base.glob('*.zip')) == []
        directory = base / release['id'][:-len('.zip')]
        assert (directory / release['archiveFileName']).is_file()
        assert os.readlink(base / 'current') == directory.name
        assert run.facts(host)['dmd']['release_id'] == release['id']
        assert run.facts(host)['dmd']['path'] == str(directory)


def test_credentials_and_endpoints_from_module_defaults(role, sandbox):
    """The play's module_defaults for the collection's groups give the credentials and the endpoints: the role
    passes none of its own (none set, no TRUD_API_KEY or MLDS_* in the environment) and syncs a TRUD and an MLDS
    release; the key and the password appear nowhere."""
    sandbox.mlds_reset()
    username, password = sandbox.mlds_user('affiliate')
    sandbox.mlds_seed({'packages': [{'member': 'SE', 'name': 'SNOMED CT Swedish Extension', 'versions': [{
        'name': '2026-03-01', 'releaseType': 'online', 'publishedAt': '2026-03-01', 'files': [
            {'label': MLDS_ARCHIVE, 'primaryFile': True,
             'storage': {'name': 'se/' + MLDS_ARCHIVE, 'size': 300_000, 'seed': 4713, 'url_style': 's3'}}]}]}]})
    play = {'module_defaults': {
        'group/terminology.releases.trud': {'api_key': '{{ demo_trud_key }}', 'base_url': sandbox.trud_base_url},
        'group/terminology.releases.mlds': {'url': sandbox.mlds_url, 'username': username,
                                            'password': '{{ demo_mlds_password }}'},
    }}
    variables = {'release_sync_trud_api_key': OMIT, 'release_sync_trud_base_url': OMIT,
                 'demo_trud_key': API_KEY, 'demo_mlds_password': password}
    releases = [{'name': 'clinical', 'item': 101},
                {'name': 'se', 'source': 'mlds', 'package': 'SNOMED CT Swedish Extension', 'member': 'SE',
                 'version': '2026-03-01'}]
    run = role.run(releases, variables, play=play, secrets=(password,))
    for host in HOSTS:
        facts = run.facts(host)
        assert facts['clinical']['release_id'] == sandbox.release(101)['id'] and facts['clinical']['changed'] is True
        assert facts['se']['release_id'] == '2026-03-01' and facts['se']['verified'] == ['size', 'md5']
        assert (role.root(host) / 'se' / '2026-03-01' / MLDS_ARCHIVE).is_file()


def test_a_number_as_a_mode_is_refused_with_a_clear_message(role, sandbox):
    """release_sync_file_mode: 644 (a YAML int) would be mode 01204: the role refuses it, naming the variable and
    the quoted form to use, before anything is created."""
    run = role.run([{'name': 'clinical', 'item': 101}], {'release_sync_file_mode': 644}, expect_failure=True)
    failed = run.failures()
    assert sorted(entry['host'] for entry in failed) == HOSTS
    for entry in failed:
        message = entry['result']['msg']
        assert message.startswith('release_sync_file_mode must be an octal mode written as a quoted string'), message
        assert 'not the number 644' in message and '"0644"' in message
    assert archive_downloads(sandbox) == []
    assert not any(role.root(host).exists() for host in HOSTS)


def test_each_failed_check_has_its_own_short_message(role, sandbox):
    """release_sync_retain: 0 and a misspelled key: each is reported in its own sentence naming the variable, the
    entry and the value, and nothing else (no list of every condition, no argument-spec dump)."""
    releases = [{'name': 'clinical', 'item': 101, 'unpak': True}, {'name': 'se', 'source': 'mlds', 'package': 'X'}]
    run = role.run(releases, {'release_sync_retain': 0}, expect_failure=True, verbosity=None)
    failed = run.failures()
    assert sorted(entry['host'] for entry in failed) == HOSTS
    for entry in failed:
        assert entry['task'] == "Check the role's variables and releases"
        assert entry['result']['msg'] == (
            'release_sync_retain must be at least 1, not 0. '
            'release_sync_releases[0] (clinical) has the unknown key unpak; a trud release takes name, source, '
            'unpack, unpack_max_size, unpack_max_ratio, retain, layout, code_system, item, release_id, release_name, '
            'release_date, verify. '
            'release_sync_releases[1] (se): an mlds release needs version.')
        assert 'argument_spec_data' not in entry['result']
    fatal = [line for line in run.stdout.splitlines() if line.startswith('fatal:')]
    assert len(fatal) == len(HOSTS) and all(len(line) < 600 for line in fatal), run.describe()
    assert 'release_sync_root' not in run.stdout and 'argument_spec' not in run.stdout
    assert not any(role.root(host).exists() for host in HOSTS)


def test_every_path_the_role_writes_under_must_be_absolute_and_not_the_root(role, sandbox):
    """The root, the mirror's store and Snowstorm's import folder given as "/", "//" and a relative path: each is
    refused in its own sentence before anything is fetched or written."""
    releases = [{'name': 'clinical', 'item': 101, 'layout': 'snowstorm', 'code_system': 'SNOMEDCT-UK'}]
    run = role.run(releases, {'release_sync_root': '/', 'release_sync_fetch_mode': 'mirror',
                              'release_sync_mirror_host': 'host1', 'release_sync_mirror_url': 'http://mirror.invalid/',
                              'release_sync_mirror_store': '//', 'release_sync_snowstorm_path': 'import'},
                   expect_failure=True, verbosity=None)
    failed = run.failures()
    assert sorted(entry['host'] for entry in failed) == HOSTS
    for entry in failed:
        assert entry['result']['msg'] == (
            'release_sync_root must be an absolute path other than /, not "/". '
            'release_sync_mirror_store must be an absolute path other than /, not "//". '
            "release_sync_snowstorm_path must be the absolute path of Snowstorm's release import folder (its "
            'release.storage.local.path) for the releases in the snowstorm layout, not "import".'), entry['result']['msg']
    assert archive_downloads(sandbox) == []
    assert not any(role.root(host).exists() for host in HOSTS)


def test_a_run_without_diff_shows_no_diff(role, sandbox):
    """The role does not force diff mode on any task: a run without --diff prints no diff, and the result still
    names the release current pointed to before."""
    sandbox.add_release(101, version='41.0.0', release_date='2026-03-04', size=1_000_000)
    new, old = sandbox.release(101), sandbox.release(101, 1)
    role.run([{'name': 'clinical', 'item': 101, 'release_id': old['id']}], verbosity=None)
    run = role.run([{'name': 'clinical', 'item': 101}], verbosity=None)
    assert '--- before' not in run.stdout and '+++ after' not in run.stdout, run.describe()
    for host in HOSTS:
        result = run.facts(host)['clinical']
        assert result['release_id'] == new['id'] and result['current_changed'] is True
        assert result['previous_release_id'] == dir_name(old)


# --- MLDS -------------------------------------------------------------------------------------------

MLDS_ARCHIVE = 'SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip'


def seed_mlds_extension(sandbox):
    """An SE extension on the sandbox's MLDS that the affiliate is approved for: (releases, role variables with the
    affiliate's credentials, password, the archive's MLDS file entry, release id)."""
    sandbox.mlds_reset()
    username, password = sandbox.mlds_user('affiliate')
    seeded = sandbox.mlds_seed({'packages': [{'member': 'SE', 'name': 'SNOMED CT Swedish Extension', 'versions': [{
        'name': '2026-03-01 (production)', 'releaseType': 'online', 'publishedAt': '2026-03-01',
        'files': [
            {'label': MLDS_ARCHIVE, 'primaryFile': True,
             'storage': {'name': 'se/' + MLDS_ARCHIVE, 'size': 1_200_000, 'seed': 4711, 'kind': 'zip',
                         'url_style': 's3'}},
            {'label': 'Release notes.pdf', 'primaryFile': False,
             'storage': {'name': 'se/notes.pdf', 'size': 3000, 'seed': 4712}},
        ]}]}]})
    version = seeded['packages'][0]['releaseVersions'][0]
    archive = [item for item in version['releaseFiles'] if item['label'] == MLDS_ARCHIVE][0]
    releases = [{'name': 'se-extension', 'source': 'mlds', 'package': 'SNOMED CT Swedish Extension', 'member': 'SE',
                 'version': '2026-03-01 (production)', 'unpack': True}]
    variables = {'release_sync_mlds_url': sandbox.mlds_url, 'release_sync_mlds_username': username,
                 'release_sync_mlds_password': password}
    return releases, variables, password, archive, '2026-03-01_production_'


def test_mlds_release_for_an_affiliate_fetched_once_and_unpacked(role, sandbox):
    """An MLDS release (an SE extension the affiliate is approved for) through the role in controller mode: one
    download through MLDS for five hosts, verified by MD5, unpacked, current switched; the second run is a no-op."""
    releases, variables, password, archive, release_id = seed_mlds_extension(sandbox)

    first = role.run(releases, variables, secrets=(password,))
    assert len(archive_downloads(sandbox, 'mlds_download')) == 1
    for host in HOSTS:
        base = role.root(host) / 'se-extension'
        assert os.readlink(base / 'current') == release_id
        path = base / release_id / MLDS_ARCHIVE
        assert path.is_file() and path.stat().st_size == 1_200_000
        assert zipfile.is_zipfile(path)
        assert (base / release_id / 'unpacked' / '.release_unpack.json').is_file()
        result = first.facts(host)['se-extension']
        assert result['source'] == 'mlds' and result['release_id'] == release_id
        assert result['release_date'] == '2026-03-01' and result['changed'] is True
        assert result['md5'] == archive['md5Hash'] and result['verified'] == ['size', 'md5']
        assert result['sha256'] == sha256_file(path)

    sandbox.clear_log()
    second = role.run(releases, variables, secrets=(password,))
    assert second.changed() == dict((host, 0) for host in HOSTS), second.describe()
    assert archive_downloads(sandbox, 'mlds_download') == []


# --- release_unpack on its own ----------------------------------------------------------------------


def build_archives(directory):
    good = directory / 'good.zip'
    with zipfile.ZipFile(good, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr('Snapshot/Terminology/sct2_Concept.txt', 'id\teffectiveTime\n' * 2000)
        archive.writestr('Snapshot/Refset/', '')
        archive.writestr('Snapshot/Refset/der2_Refset.txt', os.urandom(5000))
        archive.writestr('Readme.txt', 'release notes\n')
    link = directory / 'link.zip'
    member = zipfile.ZipInfo('Snapshot/passwd')
    member.create_system = 3
    member.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(link, 'w') as archive:
        archive.writestr('Snapshot/readme.txt', 'x')
        archive.writestr(member, '/etc/passwd')
    absolute = directory / 'absolute.zip'
    with zipfile.ZipFile(absolute, 'w') as archive:
        archive.writestr('/tmp/evil-absolute.txt', 'x')
    ratio = directory / 'ratio.zip'
    with zipfile.ZipFile(ratio, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr('zeros.bin', b'\0' * (8 << 20))
    # A member whose central directory claims fewer bytes than its data inflates to.
    lying = directory / 'lying.zip'
    with zipfile.ZipFile(lying, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr('data.bin', os.urandom(1 << 16) * 4)
    data = bytearray(lying.read_bytes())
    central = data.rfind(b'PK\x01\x02')
    data[central + 24:central + 28] = (1000).to_bytes(4, 'little')
    lying.write_bytes(bytes(data))
    return good, link, absolute, ratio, lying


def test_release_unpack_module(role, tmp_path):
    """release_unpack alone on one host: unpack, no-op, repair, check mode, and refusals that leave nothing."""
    archives = tmp_path / 'archives'
    archives.mkdir()
    good, link, absolute, ratio, lying = build_archives(archives)
    target = role.workspace / 'unpack'
    target.mkdir()
    (target / 'foreign').mkdir()
    (target / 'foreign' / 'keep.txt').write_text('not from an archive\n')
    run_dir = role.runs / 'unpack'
    run_dir.mkdir()

    def task(name, src, dest, **options):
        args = dict(src=str(src), dest=str(target / dest), mode='0640', directory_mode='0750')
        args.update(options)
        entry = {'name': name, 'terminology.releases.release_unpack': args, 'register': 'out'}
        return entry

    def refuse(name, src, dest, **options):
        return dict(task(name, src, dest, **options), ignore_errors=True)

    tasks = [
        dict(task('check first', good, 'good'), check_mode=True),
        task('unpack', good, 'good', sha256=sha256_file(good)),
        task('again', good, 'good', sha256=sha256_file(good)),
        {'name': 'damage', 'ansible.builtin.file': {'path': str(target / 'good' / 'Readme.txt'), 'state': 'absent'}},
        dict(task('check repair', good, 'good'), check_mode=True),
        task('repair', good, 'good'),
        refuse('symlink', link, 'link'),
        refuse('absolute', absolute, 'absolute'),
        refuse('ratio', ratio, 'ratio'),
        refuse('lying', lying, 'lying'),
        refuse('wrong sha256', good, 'other', sha256='0' * 64),
        refuse('foreign directory', good, 'foreign'),
    ]
    play = [{'name': 'release_unpack', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]
    (run_dir / 'playbook.yml').write_text(json.dumps(play), encoding='utf-8')
    env = role.env(run_dir)
    process = subprocess.run([role.playbook_bin, '-v', str(run_dir / 'playbook.yml')], cwd=str(run_dir), env=env,
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT,
                             check=False)
    results = dict((entry['task'], entry['result']) for entry in
                   (json.loads(line) for line in (run_dir / 'results.jsonl').read_text().splitlines()))
    assert process.returncode == 0, process.stdout[-6000:]

    assert results['check first']['changed'] is True and results['check first']['reason'] == 'absent'
    first = results['unpack']
    assert first['changed'] is True and first['extracted'] is True
    assert first['file_count'] == 3 and first['directory_count'] == 3
    assert first['total_size'] == len('id\teffectiveTime\n') * 2000 + 5000 + len('release notes\n')
    tree = target / 'good'
    assert (tree / 'Snapshot' / 'Terminology' / 'sct2_Concept.txt').read_text() == 'id\teffectiveTime\n' * 2000
    assert stat.S_IMODE((tree / 'Readme.txt').stat().st_mode) == 0o640
    assert stat.S_IMODE((tree / 'Snapshot' / 'Refset').stat().st_mode) == 0o750
    assert results['again']['changed'] is False and results['again']['extracted'] is False
    assert results['check repair']['changed'] is True and results['check repair']['reason'] == 'tree damaged'
    assert results['repair']['changed'] is True and (tree / 'Readme.txt').read_text() == 'release notes\n'

    assert 'symbolic link' in results['symlink']['msg']
    assert 'absolute path' in results['absolute']['msg']
    assert 'max_ratio' in results['ratio']['msg'] and 'zip bomb' in results['ratio']['msg']
    assert 'more than the 1000 bytes the central directory declares' in results['lying']['msg']
    assert 'does not have the SHA-256' in results['wrong sha256']['msg']
    assert 'was not made by release_unpack' in results['foreign directory']['msg']
    assert (target / 'foreign' / 'keep.txt').read_text() == 'not from an archive\n'
    # Refused archives leave nothing: no destination, no temporary directory.
    assert sorted(os.listdir(target)) == ['foreign', 'good']
    assert not Path('/tmp/evil-absolute.txt').exists()
