# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Constants and small helpers shared by the integration tests and their conftest."""

from __future__ import annotations

import base64
import hashlib
import os
import re
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
