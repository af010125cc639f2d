# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures and helpers for the MLDS integration tests (test_mlds_*.py).

They reuse conftest.py's playbook runner (real `ansible-playbook -vvvv` runs, the result_log callback, and
the secret scan of stdout, stderr, the ansible log, the results and every file under the workspace), against
an MLDS sandbox started with a distinctive password prefix, so that the scan looks for real passwords.

A test module opts in with::

    from mlds_itest import mlds, sandbox  # noqa: F401  (fixtures; `sandbox` overrides conftest's TRUD one)

Overriding `sandbox` makes conftest's `runner` and its autouse reset (POST /_sandbox/reset: default
catalogue, default users and passwords, no faults, empty log) work on the MLDS sandbox.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from trud_itest import with_options

REPO_ROOT = Path(__file__).resolve().parents[2]
SANDBOX_CONTROL = REPO_ROOT / 'tests' / 'sandbox' / 'control.py'
COLLECTION = 'terminology.releases.'
MODULE_USER_AGENT = 'terminology.releases/'
HELPER_USER_AGENT = 'terminology-releases-mlds-itest-helper'

# Characters that change under URL-encoding (space, +, /, %, &, =, :, non-ASCII) so that the raw, quoted,
# quote_plus'd and base64 forms of every password all differ; the sandbox puts it before every default password.
PASSWORD_PREFIX = 'Mlds itest+/%&=:\u00f8~'
WRONG_PASSWORD = PASSWORD_PREFIX + 'Wrong-9c4e'
ROLES = ('admin', 'staff_se', 'staff_dk', 'affiliate', 'pending', 'member')


def _load_control():
    spec = importlib.util.spec_from_file_location('terminology_releases_sandbox_control_mlds', SANDBOX_CONTROL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_STARTED = {}


def shared_sandbox(config, tmp_path_factory, *extra_args):
    """One sandbox per distinct command line for the whole session (stopped when pytest ends)."""
    key = tuple(extra_args)
    if key not in _STARTED:
        control = _load_control()
        state = tmp_path_factory.mktemp('mlds-sandbox-state')
        started = control.Sandbox.start(state_dir=str(state),
                                        extra_args=('--mlds-password-prefix', PASSWORD_PREFIX) + key)
        config.add_cleanup(started.stop)
        _STARTED[key] = MldsSandbox(started)
    return _STARTED[key]


class MldsSandbox:
    """A running sandbox with the MLDS look-ups the tests need beside control.py's Sandbox."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.users = dict((role, sandbox.mlds_user(role)) for role in ROLES)
        for role, (_username, password) in self.users.items():
            assert password.startswith(PASSWORD_PREFIX), 'the sandbox ignored --mlds-password-prefix for %s' % role

    def __getattr__(self, name):
        return getattr(self.sandbox, name)

    @property
    def file_size_type(self):
        return self.sandbox.info['mlds']['file_size_type']

    def secrets(self):
        """Everything that must never appear in a run's output: each password, each user:password (whose base64
        is the Basic credential), the wrong password the tests try, and the common prefix on its own."""
        found = [PASSWORD_PREFIX, WRONG_PASSWORD, 'staff-se:' + WRONG_PASSWORD]
        for username, password in self.users.values():
            found += [password, '%s:%s' % (username, password)]
        return found

    def user_vars(self):
        """The credentials as playbook variables (so they never appear in the playbook itself)."""
        users = dict((role, {'username': username, 'password': password})
                     for role, (username, password) in self.users.items())
        return {'mlds_users': users, 'mlds_wrong_password': WRONG_PASSWORD}

    # -- direct HTTP (helper User-Agent, never a write) --

    def api_get(self, path, role=None):
        """(status, parsed JSON or raw bytes) of GET /api<path>, anonymously or as `role`."""
        headers = {'User-Agent': HELPER_USER_AGENT, 'Accept': 'application/json'}
        if role:
            username, password = self.users[role]
            token = base64.b64encode(('%s:%s' % (username, password)).encode('utf-8')).decode('ascii')
            headers['Authorization'] = 'Basic ' + token
        request = urllib.request.Request(self.sandbox.mlds_url + '/api' + path, headers=headers)
        try:
            with self._opener.open(request, timeout=30) as response:
                status, data = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data

    def fetch_bytes(self, url):
        """The bytes of a storage-area URL (not under /api)."""
        request = urllib.request.Request(url, headers={'User-Agent': HELPER_USER_AGENT})
        with self._opener.open(request, timeout=60) as response:
            return response.read()

    # -- the request log --

    def module_requests(self):
        """Logged requests under /api made by the collection's modules, in the order they completed."""
        return [entry for entry in self.sandbox.log() if entry['path'].startswith('/api')
                and (entry.get('headers') or {}).get('User-Agent', '').startswith(MODULE_USER_AGENT)]

    def writes(self):
        """(method, path without query, status) of every POST/PUT/DELETE under /api, whoever sent it."""
        return [(entry['method'], entry['path'].split('?')[0], entry['status']) for entry in self.sandbox.mlds_writes()]

    def download_requests(self):
        """Logged requests for .../download (any method, any status)."""
        return [entry for entry in self.sandbox.log() if entry['path'].split('?')[0].endswith('/download')]

    # -- state --

    def state_package(self, package_id):
        """The package as the control API shows it (soft-deleted ones too), or None."""
        found = [package for package in self.sandbox.mlds_state()['packages']
                 if package['releasePackageId'] == package_id]
        return found[0] if found else None

    def notifications(self):
        return self.sandbox.mlds_state()['notifications']


class Mlds:
    """Builds MLDS module tasks and runs playbooks through conftest's runner, always scanning for every password."""

    def __init__(self, runner, sandbox):
        self.runner = runner
        self.sandbox = sandbox

    @property
    def workspace(self):
        return self.runner.workspace

    def task(self, module, title, /, user='staff_se', **options):
        """A task titled `title` of terminology.releases.<module> as `user` (a role name, or None for anonymous).

        OMIT drops a default option; password=... overrides the user's password (give a Jinja expression).
        """
        args = {'url': self.sandbox.mlds_url, 'timeout': 15, 'retries': 1}
        if user:
            args['username'] = '{{ mlds_users.%s.username }}' % user
            args['password'] = '{{ mlds_users.%s.password }}' % user
        return {'name': title, COLLECTION + module: with_options(args, options)}

    def run(self, tasks, extra_vars=None, secrets=(), allow_warnings=False, **kwargs):
        """Run a playbook (conftest's runner: -vvvv, result log, secret scan for every MLDS password).

        Unless allow_warnings, no task may return a warning or deprecation: a run that works but warns is a
        finding too.
        """
        run = self.start(tasks, extra_vars=extra_vars, secrets=secrets, **kwargs).wait()
        if not allow_warnings:
            noisy = ['%s: %s' % (entry['task'], entry['result'].get('warnings') or entry['result'].get('deprecations'))
                     for entry in run.results
                     if entry['result'].get('warnings') or entry['result'].get('deprecations')]
            assert not noisy, 'unexpected warnings:\n%s\n%s' % ('\n'.join(noisy), run.describe())
        return run

    def start(self, tasks, extra_vars=None, secrets=(), **kwargs):
        """Start a playbook; the PendingRun's wait() scans it for secrets as conftest's runner does."""
        variables = self.sandbox.user_vars()
        variables.update(extra_vars or {})
        return self.runner.start(tasks, extra_vars=variables, secrets=list(self.sandbox.secrets()) + list(secrets),
                                 **kwargs)


# --- fixtures (imported by the test modules) ------------------------------------------------------------


@pytest.fixture(scope='session')
def sandbox(request, tmp_path_factory):
    """The MLDS sandbox (5.2: fileSize as a string), overriding conftest's TRUD sandbox in the MLDS modules."""
    return shared_sandbox(request.config, tmp_path_factory)


@pytest.fixture
def mlds(runner, sandbox):
    return Mlds(runner, sandbox)


@pytest.fixture
def numeric_sandbox(request, tmp_path_factory):
    """A second MLDS sandbox answering fileSize as a JSON number (MLDS 6.x-dev), reset for the test."""
    started = shared_sandbox(request.config, tmp_path_factory, '--mlds-file-size-number')
    started.reset()
    return started


def package_seed(name, versions=(), member='SE', **fields):
    spec = {'member': member, 'name': name, 'versions': list(versions)}
    spec.update(fields)
    return spec


def by_id(items, key):
    return dict((item[key], item) for item in items)
