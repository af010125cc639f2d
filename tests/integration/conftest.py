# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Integration test fixtures: one TRUD sandbox per session, and real `ansible-playbook` runs against it.

Every playbook run goes through `run_playbook`, which also scans everything the run produced for the
API key (see `Runner.scan_for_secrets`): no test can forget the secret check.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from hardening import OUTCOMES_ENV, outcome_table
from trud_itest import API_KEY, DISABLED_KEY, FETCH, INFO, ansible_env, assert_no_secrets, with_options

INTEGRATION_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEGRATION_DIR.parents[1]
SANDBOX_CONTROL = REPO_ROOT / 'tests' / 'sandbox' / 'control.py'
MODULE_USER_AGENT = 'terminology.releases/'
HELPER_USER_AGENT = 'terminology-releases-itest-helper'
PLAYBOOK_TIMEOUT = 300


def _load_sandbox_control():
    spec = importlib.util.spec_from_file_location('terminology_releases_sandbox_control', SANDBOX_CONTROL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the hardening suite's outcome table -----------------------------------------------------------


def pytest_configure(config):
    """In the controlling process (not in an xdist worker), a file the workers append outcomes to; workers
    inherit the variable, since they start after configuration."""
    if not hasattr(config, 'workerinput') and OUTCOMES_ENV not in os.environ:
        handle, path = tempfile.mkstemp(prefix='hardening-outcomes-', suffix='.jsonl')
        os.close(handle)
        os.environ[OUTCOMES_ENV] = path
        config.add_cleanup(lambda: os.unlink(path) if os.path.exists(path) else None)


def pytest_terminal_summary(terminalreporter):
    for line in outcome_table(os.environ.get(OUTCOMES_ENV)):
        terminalreporter.write_line(line)


# --- the collection -------------------------------------------------------------------------------


def collections_path():
    path = os.environ.get('TERMINOLOGY_RELEASES_COLLECTIONS_PATH') or str(REPO_ROOT / '.build')
    return os.path.abspath(path)


@pytest.fixture(scope='session')
def ansible_collections_path():
    path = collections_path()
    collection = Path(path, 'ansible_collections', 'terminology', 'releases')
    if not (collection / 'galaxy.yml').is_file() or not (collection / 'plugins' / 'modules').is_dir():
        pytest.fail('The collection terminology.releases was not found at %s. Run scripts/stage.sh first (it copies the '
                    'collection to <repo>/.build/ansible_collections/terminology/releases), or set '
                    'TERMINOLOGY_RELEASES_COLLECTIONS_PATH to a directory holding ansible_collections/terminology/releases.'
                    % collection, pytrace=False)
    return path


# --- the sandbox ----------------------------------------------------------------------------------


class SandboxHelper:
    """The session's sandbox, with the few look-ups the tests need beside the control API."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __getattr__(self, name):
        return getattr(self.sandbox, name)

    def listing(self, item, key=API_KEY):
        """The release list exactly as the sandbox serves it (fetched with a helper User-Agent)."""
        url = '%s/keys/%s/items/%s/releases' % (self.sandbox.trud_base_url, quote(key, safe=''), item)
        request = urllib.request.Request(url, headers={'User-Agent': HELPER_USER_AGENT})
        with self._opener.open(request, timeout=60) as response:
            return json.loads(response.read())['releases']

    def release(self, item, index=0):
        return self.listing(item)[index]

    def module_requests(self, kind=None):
        """Logged requests made by the collection's modules (not by this helper), oldest first."""
        entries = [entry for entry in self.sandbox.log()
                   if (entry.get('headers') or {}).get('User-Agent', '').startswith(MODULE_USER_AGENT)]
        entries.sort(key=lambda entry: entry['time'])
        return [entry for entry in entries if kind is None or entry['kind'] == kind]

    def archive_gets(self):
        """GET requests for archives made by the modules, whatever their status."""
        return [entry for entry in self.module_requests('archive') if entry['method'] == 'GET']

    def wait_for_archive_gets(self, count, timeout=10.0):
        """The sandbox logs a request once its response is finished (a stalled one late): wait for them."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.archive_gets()
            if len(entries) >= count or time.monotonic() > deadline:
                return entries
            time.sleep(0.1)


@pytest.fixture(scope='session')
def sandbox(tmp_path_factory):
    control = _load_sandbox_control()
    state = tmp_path_factory.mktemp('sandbox-state')
    started = control.Sandbox.start(state_dir=str(state), api_keys=[API_KEY])
    try:
        assert started.api_key == API_KEY
        assert started.disabled_key == DISABLED_KEY
        yield SandboxHelper(started)
    finally:
        started.stop()


@pytest.fixture(autouse=True)
def _reset_sandbox(request):
    """Default catalogue, no faults, empty log before every test that uses the sandbox."""
    if 'sandbox' in request.fixturenames:
        request.getfixturevalue('sandbox').reset()


# --- playbook runs --------------------------------------------------------------------------------


class PlaybookRun:
    """What one ansible-playbook run produced."""

    def __init__(self, rc, stdout, stderr, log, results, run_dir):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.log = log
        self.results = results
        self.run_dir = run_dir

    @property
    def output(self):
        return self.stdout + self.stderr

    def entry(self, task):
        matches = [entry for entry in self.results if entry['task'] == task]
        assert len(matches) == 1, 'expected one result for task %r, got %d:\n%s' % (task, len(matches), self.describe())
        return matches[0]

    def result(self, task='fetch'):
        return self.entry(task)['result']

    def failed(self, task=None):
        """The result of the failed task (the only failed one, or the one named)."""
        failed = [entry for entry in self.results if entry['status'] == 'failed' and task in (None, entry['task'])]
        assert len(failed) == 1, 'expected exactly one failed task%s:\n%s' % (
            '' if task is None else ' named %r' % task, self.describe())
        return failed[0]['result']

    def failure_message(self, task=None):
        """The msg of the failed task, which must be a handled error, not a crash."""
        result = self.failed(task)
        msg = result.get('msg', '')
        assert msg, 'failed without a message: %r' % (result,)
        assert not msg.startswith('Unexpected '), 'the module crashed instead of failing clearly: %s' % msg
        assert 'MODULE FAILURE' not in msg and 'Traceback' not in msg, msg
        assert 'Traceback' not in str(result.get('exception', '')), 'the module failed with a traceback: %s' % msg
        return msg

    def warnings(self, task='fetch'):
        """The warnings a task returned."""
        return [str(warning) for warning in self.result(task).get('warnings') or []]

    def describe(self):
        return 'rc=%s\n--- results ---\n%s\n--- stdout (tail) ---\n%s\n--- stderr (tail) ---\n%s' % (
            self.rc, json.dumps(self.results, indent=1)[-6000:], self.stdout[-6000:], self.stderr[-3000:])


class PendingRun:
    """An ansible-playbook process that has been started; `wait()` collects it."""

    def __init__(self, runner, process, paths, expect_failure, extra_secrets):
        self.runner = runner
        self.process = process
        self.paths = paths
        self.expect_failure = expect_failure
        self.extra_secrets = extra_secrets

    def collect(self, stdout, stderr):
        """The PlaybookRun of the ended process (however it ended), scanned for secrets; nothing else judged."""
        log = self.paths['log'].read_text(encoding='utf-8', errors='replace') if self.paths['log'].exists() else ''
        results_text = (self.paths['results'].read_text(encoding='utf-8', errors='replace')
                        if self.paths['results'].exists() else '')
        results = [json.loads(line) for line in results_text.splitlines() if line.strip()]
        run = PlaybookRun(self.process.returncode, stdout, stderr, log, results, self.paths['dir'])
        self.runner.scan_for_secrets(run, results_text, self.extra_secrets)
        return run

    def wait(self):
        try:
            stdout, stderr = self.process.communicate(timeout=PLAYBOOK_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, stderr = self.process.communicate()
            pytest.fail('ansible-playbook did not finish within %d s:\n%s' % (PLAYBOOK_TIMEOUT, stdout[-6000:]))
        run = self.collect(stdout, stderr)
        failed = [entry for entry in run.results if entry['status'] in ('failed', 'unreachable')]
        if self.expect_failure:
            assert failed, 'a task was expected to fail:\n' + run.describe()
            if not all(entry.get('ignore_errors') for entry in failed):
                assert run.rc != 0, 'the playbook was expected to fail:\n' + run.describe()
        else:
            assert run.rc == 0, 'the playbook failed:\n' + run.describe()
            assert not failed, run.describe()
        return run


class Runner:
    """Builds one-play playbooks and runs them with ansible-playbook, as real subprocesses."""

    def __init__(self, tmp_path, collections, sandbox):
        self.tmp_path = tmp_path
        self.workspace = tmp_path / 'ws'  # every directory a playbook writes to lives here (and is scanned)
        self.workspace.mkdir()
        self.runs_dir = tmp_path / 'runs'
        self.runs_dir.mkdir()
        self.collections = collections
        self.sandbox = sandbox
        self.count = 0
        self.playbook_bin = str(Path(sys.executable).parent / 'ansible-playbook')

    def env(self, run_dir, extra):
        env = ansible_env(self.collections, run_dir)
        env.update({
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': 'false',
            'PYTHONDONTWRITEBYTECODE': '1',  # no __pycache__ beside the callback plugin
        })
        for name, value in (extra or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = str(value)
        return env

    def start(self, tasks, extra_vars=None, check=False, diff=False, env=None, expect_failure=False,
              play=None, secrets=(), preexec_fn=None, start_new_session=False):
        run_dir = self.new_run_dir()
        play_doc = {'name': 'integration test', 'hosts': 'localhost', 'gather_facts': False, 'tasks': list(tasks)}
        play_doc.update(play or {})
        playbook = run_dir / 'playbook.yml'
        playbook.write_text(json.dumps([play_doc], indent=2), encoding='utf-8')  # JSON is YAML
        variables = {'trud_api_key': API_KEY}
        variables.update(extra_vars or {})
        return self.start_playbook(playbook, run_dir=run_dir, extra_vars=variables, check=check, diff=diff, env=env,
                                   expect_failure=expect_failure, secrets=secrets, preexec_fn=preexec_fn,
                                   start_new_session=start_new_session)

    def new_run_dir(self):
        self.count += 1
        run_dir = self.runs_dir / ('%02d' % self.count)
        run_dir.mkdir()
        return run_dir

    def start_playbook(self, playbook, inventory=None, run_dir=None, extra_vars=None, check=False, diff=False,
                       env=None, expect_failure=False, secrets=(), preexec_fn=None, start_new_session=False):
        """Run a playbook file as it is (with an inventory file, or localhost only), like `start`."""
        run_dir = run_dir or self.new_run_dir()
        vars_file = run_dir / 'vars.json'
        vars_file.write_text(json.dumps(extra_vars or {}), encoding='utf-8')
        paths = {'dir': run_dir, 'results': run_dir / 'results.jsonl', 'log': run_dir / 'ansible.log'}
        cmd = [self.playbook_bin, '-vvvv', '-e', '@' + str(vars_file), str(playbook)]
        if inventory:
            cmd[1:1] = ['-i', str(inventory)]
        if check:
            cmd.append('--check')
        if diff:
            cmd.append('--diff')
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            cmd, cwd=str(run_dir), env=self.env(run_dir, env),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors='replace',
            preexec_fn=preexec_fn, start_new_session=start_new_session)  # pylint: disable=subprocess-popen-preexec-fn
        return PendingRun(self, process, paths, expect_failure, list(secrets))

    def run(self, tasks, **kwargs):
        return self.start(tasks, **kwargs).wait()

    def run_playbook_file(self, playbook, **kwargs):
        return self.start_playbook(playbook, **kwargs).wait()

    def scan_for_secrets(self, run, results_text, extra_secrets=()):
        """No form of the API key (or of another secret the test used) anywhere the run left a trace."""
        assert_no_secrets(self.workspace, run, results_text, [API_KEY] + list(extra_secrets))


@pytest.fixture
def runner(tmp_path, ansible_collections_path, sandbox):
    return Runner(tmp_path, ansible_collections_path, sandbox)


@pytest.fixture
def run_playbook(runner):
    """run_playbook(tasks, extra_vars=None, check=False, diff=False, env=None, expect_failure=False, play=None,
    secrets=()) -> PlaybookRun."""
    return runner.run


@pytest.fixture
def workspace(runner):
    return runner.workspace


@pytest.fixture
def dest(workspace):
    path = workspace / 'dest'
    path.mkdir()
    return path


@pytest.fixture
def fetch_task(sandbox, dest):
    """fetch_task(name='fetch', **options): a trud_release_fetch task against the sandbox (OMIT drops an option)."""
    def build(name='fetch', **options):
        args = {
            'api_key': '{{ trud_api_key }}',
            'base_url': sandbox.trud_base_url,
            'item': 101,
            'dest': str(dest),
            'trusted_fingerprints': [sandbox.trud_fingerprint],
            'maintenance_window_warning': False,
            'timeout': 10,
            'retries': 1,
        }
        return {'name': name, FETCH: with_options(args, options)}
    return build


@pytest.fixture
def info_task(sandbox):
    """info_task(name='info', **options): a trud_release_info task against the sandbox."""
    def build(name='info', **options):
        args = {'api_key': '{{ trud_api_key }}', 'base_url': sandbox.trud_base_url, 'item': 101, 'timeout': 10,
                'retries': 1}
        return {'name': name, INFO: with_options(args, options)}
    return build
