# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""UK civil time without a tz database, and the hours TRUD asks automation to use."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.terminology.releases.plugins.module_utils._trud import uk_time, within_trud_hours


def epoch(*args):
    """POSIX time of a UTC date and time."""
    return datetime.datetime(*args, tzinfo=datetime.timezone.utc).timestamp()


@pytest.mark.parametrize('utc, expected', [
    # 2025: BST from Sunday 30 March 01:00 UTC to Sunday 26 October 01:00 UTC.
    ((2025, 3, 30, 0, 59, 59), (2025, 3, 30, 0, 59, 59)),
    ((2025, 3, 30, 1, 0, 0), (2025, 3, 30, 2, 0, 0)),
    ((2025, 10, 26, 0, 59, 59), (2025, 10, 26, 1, 59, 59)),
    ((2025, 10, 26, 1, 0, 0), (2025, 10, 26, 1, 0, 0)),
    # 2024: 31 March and 27 October (both the last day of the month is a Sunday, and not).
    ((2024, 3, 31, 0, 30, 0), (2024, 3, 31, 0, 30, 0)),
    ((2024, 3, 31, 1, 30, 0), (2024, 3, 31, 2, 30, 0)),
    ((2024, 10, 27, 0, 30, 0), (2024, 10, 27, 1, 30, 0)),
    ((2024, 10, 27, 1, 30, 0), (2024, 10, 27, 1, 30, 0)),
    # The Sunday before the change is not the last Sunday.
    ((2025, 3, 23, 12, 0, 0), (2025, 3, 23, 12, 0, 0)),
    ((2025, 10, 19, 12, 0, 0), (2025, 10, 19, 13, 0, 0)),
    # Deep winter and summer; New Year's Eve in UTC stays in its year.
    ((2026, 1, 15, 12, 0, 0), (2026, 1, 15, 12, 0, 0)),
    ((2026, 7, 15, 23, 30, 0), (2026, 7, 16, 0, 30, 0)),
    ((2026, 12, 31, 23, 59, 0), (2026, 12, 31, 23, 59, 0)),
])
def test_uk_time_at_the_clock_changes(utc, expected):
    assert uk_time(epoch(*utc)) == datetime.datetime(*expected)


def test_uk_time_agrees_with_the_tz_database():
    zoneinfo = pytest.importorskip('zoneinfo')
    try:
        zone = zoneinfo.ZoneInfo('Europe/London')
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip('No tz database entry for Europe/London on this host.')
    start = epoch(2023, 1, 1)
    for step in range(0, 4 * 366 * 24 * 2):
        moment = start + step * 1800
        expected = datetime.datetime.fromtimestamp(moment, tz=zone).replace(tzinfo=None)
        assert uk_time(moment) == expected, moment


@pytest.mark.parametrize('moment, allowed', [
    # Monday 13 January 2025: GMT, so UK time is UTC.
    (epoch(2025, 1, 13, 9, 0), True),
    (epoch(2025, 1, 13, 17, 59), True),
    (epoch(2025, 1, 13, 18, 0), False),
    (epoch(2025, 1, 13, 8, 59), False),
    (epoch(2025, 1, 13, 6, 0), False),
    (epoch(2025, 1, 13, 5, 59), True),
    (epoch(2025, 1, 13, 0, 0), True),
    (epoch(2025, 1, 13, 23, 59), False),
    # Friday afternoon and evening.
    (epoch(2025, 1, 17, 15, 0), True),
    (epoch(2025, 1, 17, 20, 0), False),
    # Saturday and Sunday: the working-day window is closed, the night window is open.
    (epoch(2025, 1, 18, 10, 0), False),
    (epoch(2025, 1, 19, 15, 0), False),
    (epoch(2025, 1, 18, 3, 0), True),
    (epoch(2025, 1, 19, 5, 30), True),
])
def test_within_trud_hours_winter(moment, allowed):
    assert within_trud_hours(moment) is allowed


@pytest.mark.parametrize('utc, allowed', [
    # Summer (BST): 08:30 UTC is 09:30 in the UK; in winter the same UTC time is 08:30.
    ((2025, 7, 14, 8, 30), True),
    ((2025, 1, 13, 8, 30), False),
    # 05:30 UTC is 06:30 BST (closed) but 05:30 GMT (open).
    ((2025, 7, 14, 5, 30), False),
    ((2025, 1, 13, 5, 30), True),
    # 17:30 UTC is 18:30 BST (closed) but 17:30 GMT (open).
    ((2025, 7, 14, 17, 30), False),
    ((2025, 1, 13, 17, 30), True),
    # 23:30 UTC on a summer Sunday is 00:30 on Monday in the UK (open).
    ((2025, 7, 13, 23, 30), True),
])
def test_within_trud_hours_follows_bst(utc, allowed):
    assert within_trud_hours(epoch(*utc)) is allowed
