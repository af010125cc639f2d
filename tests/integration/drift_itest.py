# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Release directories with provenance records, laid out as the role release_sync keeps them, for the tests of
release_drift_info and the role's report mode. The records are written by the collection's own writer
(module_utils/_provenance, importable from the staged collection), so the tests read what the role writes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ansible_collections.terminology.releases.plugins.module_utils import _provenance


def make_release(base, release_id, data=None, current=True, name=None, release_date='2026-03-04', set_name=None,
                 source=None):
    """<base>/<release dir>/<archive> with its provenance.json, and <base>/current pointing at it when current.

    release_id: a TRUD release id (the archive's file name); the directory is named without .zip, as the role
    names it. Returns the archive's path."""
    base = Path(base)
    directory = base / (release_id[:-len('.zip')] if release_id.endswith('.zip') else release_id)
    directory.mkdir(parents=True, exist_ok=True)
    data = data if data is not None else (b'PK\x03\x04' + release_id.encode() * 500)
    archive = directory / release_id
    archive.write_bytes(data)
    record = {
        'version': 1, 'collection_version': '1.0.0', 'name': name or base.name, 'set': set_name,
        'source': source or {'kind': 'trud', 'item': 101, 'release_id': release_id},
        'release_id': release_id, 'release_date': release_date,
        'archive': {'name': release_id, 'size': len(data), 'sha256': hashlib.sha256(data).hexdigest(),
                    'sha1': hashlib.sha1(data).hexdigest(), 'md5': None},
        'signature': None, 'verified': ['size', 'sha256'], 'verified_at': '2026-03-05T06:00:00Z', 'unpacked': False,
    }
    _provenance.write(_provenance.record_path(str(directory)), record)
    if current:
        link = base / 'current'
        if os.path.lexists(link):
            link.unlink()
        os.symlink(directory.name, link)
    return archive
