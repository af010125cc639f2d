# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Constants and small helpers shared by the integration tests and their conftest."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import quote, quote_plus

# A distinctive key whose URL-encoded (quote, quote_plus) and base64 forms all differ from the raw one.
API_KEY = 'itest-Key+With/Odd=Chars 8d1f3c&x'
DISABLED_KEY = 'sandbox-disabled-key-000'  # the sandbox's default disabled key
# TRUD's real signing key: the default allow-list, which the sandbox cannot sign with.
TRUD_REAL_FINGERPRINT = '71ED5964BAE53E83556320A42BE59DADEE84BEB0'
FETCH = 'terminology.releases.trud_release_fetch'
INFO = 'terminology.releases.trud_release_info'
OMIT = object()  # pass as an option value to drop a default option from a task


def secret_forms(secret):
    """Every form in which a secret could travel: raw, URL-encoded (all three ways, either hex case), base64."""
    encoded = {quote(secret, safe=''), quote(secret), quote_plus(secret)}
    encoded |= {re.sub(r'%[0-9A-F]{2}', lambda match: match.group(0).lower(), form) for form in encoded}
    forms = {secret, base64.b64encode(secret.encode()).decode(), base64.urlsafe_b64encode(secret.encode()).decode()}
    return sorted(form for form in forms | encoded if form)


def sha256_file(path):
    return hash_file(path, 'sha256')


def hash_file(path, algorithm='sha256'):
    digest = hashlib.new(algorithm)
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def tree(path):
    """{relative path: description} of everything under path; files by size, mode, mtime, inode and SHA-256."""
    root = Path(path)
    found = {}
    for item in sorted(root.rglob('*')):
        name = str(item.relative_to(root))
        if item.is_symlink():
            found[name] = ('link', os.readlink(item))
        elif item.is_dir():
            found[name] = ('dir',)
        else:
            stat = item.stat()
            found[name] = ('file', stat.st_size, stat.st_mode & 0o7777, stat.st_mtime_ns, stat.st_ino, sha256_file(item))
    return found


def names(path):
    """The entries of a directory, sorted."""
    return sorted(os.listdir(path))


def ignoring_errors(task):
    """The task with ignore_errors, so that several failures can be checked in one playbook run."""
    return dict(task, ignore_errors=True)


def with_options(defaults, options):
    """The task arguments `defaults` updated with `options`; an option given as OMIT removes that argument."""
    for name, value in options.items():
        if value is OMIT:
            defaults.pop(name, None)
        else:
            defaults[name] = value
    return defaults


CALLBACK_DIR = Path(__file__).resolve().parent / 'plugins' / 'callback'


def ansible_env(collections, run_dir):
    """The environment of an ansible-playbook run under test: only PATH, HOME and LANG from outside, the collection
    under test, no colour, its log, temporary directories and result log (the result_log callback) in run_dir."""
    env = dict((name, os.environ[name]) for name in ('PATH', 'HOME', 'LANG') if name in os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collections,
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_LOCALHOST_WARNING': 'false',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
        'ANSIBLE_LOG_PATH': str(Path(run_dir) / 'ansible.log'),
        'ANSIBLE_LOCAL_TEMP': str(Path(run_dir) / 'local-tmp'),
        'ANSIBLE_REMOTE_TEMP': str(Path(run_dir) / 'remote-tmp'),
        'ANSIBLE_CALLBACK_PLUGINS': str(CALLBACK_DIR),
        'ANSIBLE_CALLBACKS_ENABLED': 'result_log',
        'TERMINOLOGY_RELEASES_RESULT_LOG': str(Path(run_dir) / 'results.jsonl'),
    })
    return env


def assert_no_secrets(workspace, run, results_text, secrets):
    """No form of any secret in the run's stdout, stderr, Ansible log or callback results, nor in the name or the
    content of any file under workspace."""
    forms = []
    for secret in secrets:
        forms.extend(secret_forms(secret))
    places = {'stdout': run.stdout, 'stderr': run.stderr, 'ansible log': run.log, 'callback results': results_text}
    hits = ['%s contains %r' % (place, form) for place, text in places.items() for form in forms if form in text]
    for path in sorted(Path(workspace).rglob('*')):
        hits.extend('file name %s contains %r' % (path, form) for form in forms if form in path.name)
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            hits.extend('%s contains %r' % (path, form) for form in forms if form.encode() in data)
    assert not hits, 'secret leaked:\n' + '\n'.join(hits) + '\n' + run.describe()


class StaticFiles(http.server.SimpleHTTPRequestHandler):
    """A plain static file server, as an operator would put in front of a published directory or a mirror's store
    (OPTIONS answered, as Snowstorm's client needs). It logs the paths it serves; a path in `corrupt` is served
    with one byte changed (a mirror that went bad)."""

    served = None
    corrupt = None

    def do_OPTIONS(self):  # pylint: disable=invalid-name
        self.send_response(204)
        self.end_headers()

    def do_GET(self):  # pylint: disable=invalid-name
        self.served.append(self.path)
        if self.path not in self.corrupt:
            super().do_GET()
            return
        data = bytearray(Path(self.translate_path(self.path)).read_bytes())
        data[len(data) // 2] ^= 0xFF
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(bytes(data))

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@contextlib.contextmanager
def serve_directory(directory):
    """(base URL ending in /, served paths, paths to corrupt) of a static web server over directory while in use."""
    served, corrupt = [], set()
    handler = type('Files', (StaticFiles,), {'served': served, 'corrupt': corrupt})
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d/' % server.server_address[1], served, corrupt
    finally:
        server.shutdown()
        server.server_close()
