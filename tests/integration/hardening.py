# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Machinery of the hardening suite (test_hardening.py): the scenario registry, the rules every outcome is
judged by, and the scenario -> outcome table that conftest prints at the end of the run.

Every scenario is a real ansible-playbook run (conftest's runner: -vvvv, every output, the ansible log, the
result JSON and every file written scanned for the TRUD key and every MLDS password in all their forms). A
scenario either recovers (the file is there and correct, nothing else is left) or is refused with a clear
message (no traceback, no crash); after a refusal the destination holds no unverified file, a good file that
was already there is untouched, and the only thing left behind is a resumable partial, which the next run
must then use.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from trud_itest import FETCH, sha256_file, tree

OUTCOMES_ENV = 'TERMINOLOGY_RELEASES_HARDENING_OUTCOMES'
ITEM = 101  # its newest release: 3,000,017 bytes
HELPER_USER_AGENT = 'terminology-releases-hardening-helper'


@dataclasses.dataclass
class Scenario:
    name: str  # the id in the table and in docs/docsite/rst/guide_security.rst
    area: str
    what: str
    expect: str  # 'recovers' or 'refused'
    function: object


SCENARIOS = []


def scenario(name, area, what, expect):
    """Register a scenario function(h) -> evidence text; the test runs it and records the outcome."""
    assert expect in ('recovers', 'refused')

    def register(function):
        assert name not in [known.name for known in SCENARIOS], 'duplicate scenario %s' % name
        SCENARIOS.append(Scenario(name, area, what, expect, function))
        return function
    return register


def record(case, index, total, outcome, evidence):
    path = os.environ.get(OUTCOMES_ENV)
    if path:
        with open(path, 'a', encoding='utf-8') as handle:
            handle.write(json.dumps({'name': case.name, 'index': index, 'total': total, 'area': case.area,
                                     'what': case.what, 'expect': case.expect, 'outcome': outcome,
                                     'evidence': evidence}) + '\n')


def outcome_table(path):
    """The table conftest prints, from the rows the workers recorded (the controlling process of an xdist run
    never imports the test module, so the rows carry everything)."""
    rows = {}
    if path and os.path.exists(path):
        with open(path, encoding='utf-8') as handle:
            for line in handle:
                row = json.loads(line)
                rows[row['name']] = row
    if not rows:
        return []
    rows = sorted(rows.values(), key=lambda row: row['index'])
    header = {'name': 'scenario', 'expect': 'expected', 'outcome': 'outcome', 'evidence': 'evidence'}
    widths = dict((key, max(len(row[key]) for row in rows + [header])) for key in ('name', 'expect', 'outcome'))
    lines = ['', 'Hardening suite: scenario -> outcome (every run at -vvvv, scanned for every secret)', '']
    for row in [header] + rows:
        lines.append('  '.join(row[key].ljust(widths[key]) for key in ('name', 'expect', 'outcome'))
                     + '  ' + short(row['evidence']))
    bad = [row['name'] for row in rows if row['outcome'] != row['expect']]
    total = rows[0]['total']
    lines.append('')
    lines.append('%d of %d scenarios ran, %d as expected%s' % (
        len(rows), total, len(rows) - len(bad), '; NOT as expected: ' + ', '.join(bad) if bad else ''))
    return lines


def short(text, limit=110):
    text = ' '.join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + '...'


class Hardening:
    """One scenario's view of the runner and the sandbox, with the judges."""

    def __init__(self, runner, sandbox, mlds, good):
        self.runner = runner
        self.sandbox = sandbox  # conftest's SandboxHelper (TRUD look-ups)
        self.mlds = mlds  # mlds_itest.MldsSandbox on the same server (users, secrets)
        self.good = good  # {'release': ..., 'path': Path of a verified copy of the newest release of ITEM}
        self.workspace = runner.workspace

    # --- tasks and runs -------------------------------------------------------------------------

    def fetch_task(self, name, dest, **options):
        args = {
            'api_key': '{{ trud_api_key }}', 'base_url': self.sandbox.trud_base_url, 'item': ITEM, 'dest': str(dest),
            'trusted_fingerprints': [self.sandbox.trud_fingerprint], 'maintenance_window_warning': False,
            'timeout': 10, 'retries': 1,
        }
        args.update(options)
        return {'name': name, FETCH: args}

    def start(self, tasks, **kwargs):
        variables = self.mlds.user_vars()
        variables.update(kwargs.pop('extra_vars', None) or {})
        return self.runner.start(tasks, extra_vars=variables, secrets=self.mlds.secrets(), **kwargs)

    def run(self, tasks, **kwargs):
        return self.start(tasks, **kwargs).wait()

    # --- destinations -----------------------------------------------------------------------------

    def destinations(self):
        """(empty, kept): a new directory, and one holding a good copy of the release that a forced fetch
        must leave alone when it fails."""
        empty = self.workspace / 'empty'
        kept = self.workspace / 'kept'
        empty.mkdir()
        kept.mkdir()
        shutil.copy2(self.good['path'], kept / self.good['release']['archiveFileName'])
        return empty, kept

    def refusing_tasks(self, empty, kept, **options):
        """A first fetch into `empty` and a forced one over the good copy in `kept`, both allowed to fail."""
        return [dict(self.fetch_task('first fetch', empty, **options), ignore_errors=True),
                dict(self.fetch_task('forced over a good file', kept, force=True, **options), ignore_errors=True)]

    # --- judges ---------------------------------------------------------------------------------

    def recovered(self, result, dest, release=None, verified=('size', 'sha256', 'signature')):
        """The file is there, correct and reported; nothing else is left in dest but its record."""
        release = release or self.good['release']
        name = release['archiveFileName']
        path = Path(dest) / name
        assert path.is_file(), 'no file after the run: %s' % sorted(os.listdir(dest))
        assert path.stat().st_size == release['archiveFileSizeBytes']
        if release.get('archiveFileSha256'):
            assert sha256_file(path) == release['archiveFileSha256'].lower(), 'the file is not the release'
        assert result['changed'] is True and result.get('verified') == list(verified), result
        assert sorted(os.listdir(dest)) == sorted([name, '.%s.verified.json' % name]), \
            'something besides the file and its record was left: %s' % sorted(os.listdir(dest))

    def refused(self, run, task, pattern, dest, kept_before=None, resumable=False):
        """The task failed clearly (message matching pattern, no traceback); dest holds no unverified file under
        the release's name, only a resumable partial when allowed (a prefix of the real file); a good file that was
        there (kept_before, a tree() snapshot) is untouched. Returns the message."""
        msg = run.failure_message(task)
        assert re.search(pattern, msg), 'unexpected message for %r: %s' % (task, msg)
        name = self.good['release']['archiveFileName']
        entries = set(os.listdir(dest))
        partials = sorted(entry for entry in entries if entry.endswith('.part'))
        if kept_before is not None:
            now = tree(dest)
            for entry in partials:
                now.pop(entry, None)
            assert now == kept_before, 'the good file that was already there was changed'
        else:
            assert name not in entries, 'an unverified file was installed under the release name'
            assert not [entry for entry in entries if entry.endswith('.verified.json')], 'a record was written'
        if resumable:
            assert len(partials) == 1, 'expected one resumable partial, found %s' % sorted(entries)
            self.assert_prefix(Path(dest) / partials[0])
        else:
            assert partials == [], 'a partial was left although nothing can resume it: %s' % partials
        others = entries - set(partials) - ({name, '.%s.verified.json' % name} if kept_before is not None else set())
        assert not others, 'files left behind: %s' % sorted(others)
        return msg

    def assert_prefix(self, partial):
        data = partial.read_bytes()
        assert data, 'an empty partial was kept'
        with open(self.good['path'], 'rb') as handle:
            assert handle.read(len(data)) == data, 'the kept partial is not a prefix of the real file'

    def resumes(self, dest, kept_bytes):
        """The next run (no fault) resumes the partial: one GET from exactly where it ended, a correct file."""
        self.sandbox.clear_faults()
        self.sandbox.clear_log()
        result = self.run([self.fetch_task('next run', dest)]).result('next run')
        self.recovered(result, dest)
        gets = self.sandbox.archive_gets()
        assert [entry['range'] for entry in gets] == ['bytes=%d-' % kept_bytes], gets
        assert result['bytes_resumed'] == kept_bytes
        return 'next run resumed at byte %d (%d bytes fetched)' % (kept_bytes, result['bytes_transferred'])


def fetch_good_copy(sandbox, directory):
    """A verified copy of ITEM's newest release, fetched directly (helper User-Agent, not logged as a module's)."""
    release = sandbox.release(ITEM)
    url = release['archiveFileUrl']
    path = Path(directory) / release['archiveFileName']
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={'User-Agent': HELPER_USER_AGENT})
    with opener.open(request, timeout=60) as response, open(path, 'wb') as handle:
        shutil.copyfileobj(response, handle, 1 << 20)
    assert sha256_file(path) == release['archiveFileSha256'].lower()
    return {'release': release, 'path': path}


@contextlib.contextmanager
def read_only(path):
    """Make a directory read-only for the runs inside the block: a read-only bind mount when running as root
    (root ignores permission bits), permission bits otherwise."""
    if os.geteuid() != 0:
        mode = os.stat(path).st_mode
        os.chmod(path, 0o555)
        try:
            yield 'mode 0555'
        finally:
            os.chmod(path, mode)
        return
    mounted = subprocess.run(['mount', '--bind', str(path), str(path)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip('running as root, and a read-only bind mount is not possible here: %s' % mounted.stderr.strip())
    try:
        remount = subprocess.run(['mount', '-o', 'remount,ro,bind', str(path)], capture_output=True, text=True,
                                 check=False)
        if remount.returncode != 0:
            pytest.skip('cannot remount read-only here: %s' % remount.stderr.strip())
        yield 'a read-only bind mount'
    finally:
        subprocess.run(['umount', str(path)], capture_output=True, check=False)
