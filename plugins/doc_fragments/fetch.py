# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # The options of the verified fetch lifecycle, shared by every module that downloads into dest.
    DOCUMENTATION = r'''
options:
  force:
    description:
      - Download and verify again even if a verified copy is present. Always reports a change.
    type: bool
    default: false
  rehash:
    description:
      - Re-read each file already there and check its hashes even when its verification record vouches for it. A
        file found to differ is downloaded again.
      - Without this, a run with nothing to do trusts the record, which matches the file's size, modification time
        and inode. It reads no byte of the file.
    type: bool
    default: false
  lock_timeout:
    description:
      - Seconds to wait for another run that holds the lock on O(dest) before failing.
    type: float
    default: 3600
'''
