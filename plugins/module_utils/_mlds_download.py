# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Downloading a release file through MLDS: what its statuses mean, and no retry on its 500s.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

from ansible_collections.terminology.releases.plugins.module_utils._download import DownloadError


def describe_download_status(status):
    if status == 401:
        return ('MLDS answered HTTP 401: the credentials were refused (check username and password), or none were '
                'given; downloads need an account')
    if status == 403:
        return ('MLDS answered HTTP 403: the account may not download this file. Its membership application for '
                'this member may not be approved, or the version is not available to it')
    if status == 404:
        return ('MLDS answered HTTP 404: the file is gone from MLDS, or from the storage MLDS fetches it from')
    if status == 500:
        return ('MLDS answered HTTP 500 to the download. MLDS reports permission failures as HTTP 500: the account is '
                'probably not approved for this member\'s releases (its membership application for the package\'s '
                'member must be accepted, and the account not deactivated or pending an invoice), or the version is '
                'not online. It was not retried')
    return 'MLDS answered HTTP %s to the download (MLDS passes on the status of the storage it fetches from)' % status


class NoRetryOn500:
    """The HttpClient as the download engine sees it, except that a 500 fails at once: for a download MLDS
    means "not allowed" by it (an affiliate not approved for the member, a version not online), and every
    attempt is audited as a download, so retrying it only inflates the member's download report."""

    def __init__(self, http, describe_status=describe_download_status):
        self.http = http
        self.policy = http.policy
        self.redact = http.redact
        self.describe = http.describe
        self._describe = describe_status

    def open(self, method, url, headers=None, stream=False, **kwargs):
        response = self.http.open(method, url, headers=headers, stream=stream, **kwargs)
        if response.status_code == 500:
            response.close()
            raise DownloadError('Download failed: %s.' % self._describe(500), status=500)
        return response
