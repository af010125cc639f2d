# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # TLS, timeout and retry options shared by every module that talks to a service.
    DOCUMENTATION = r'''
options:
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate. Turning this off is insecure and gives a warning.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to trust for the server's certificate instead of the system store.
    type: path
  timeout:
    description:
      - Seconds to wait for a connection or for the next bytes of an answer (not for a whole download).
    type: float
    default: 60
  retries:
    description:
      - How many times to retry a request after a connection error, a timeout, or an HTTP 408, 429 or 5xx
        answer, with exponential backoff that honours C(Retry-After). Other errors are not retried.
    type: int
    default: 3
'''
