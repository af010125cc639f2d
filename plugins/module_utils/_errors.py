# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one error family: every error whose text is written for the user descends from ReleasesError.

The module runner (_module.run) fails with the message of any ReleasesError, plus the result fields it carries;
any other exception is a bug and is reported with a traceback. So a check that refuses the user's input raises a
ReleasesError (InputError when nothing more specific fits), never a bare ValueError.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations


class ReleasesError(Exception):
    """An error the user must act on; its text is already free of secrets.

    status: the HTTP status behind it, if any. result: extra fields for the failed task's result.
    """

    def __init__(self, message, status=None, **result):
        super().__init__(message)
        self.status = status
        self.result = result


class InputError(ReleasesError, ValueError):
    """A module option has a value that cannot be used; the text names the option and what to do."""
