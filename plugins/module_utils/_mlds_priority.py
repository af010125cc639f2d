# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""MLDS package priority: the server renumbers a member's packages on every PUT, so the value to send is chosen by
simulating that renumbering (the rule is below).

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations


# MLDS keeps the priorities of one member's packages as a ranking N..1 (N = top). A PUT that carries the
# package's current priority changes nothing. A PUT with another value p takes the package out of the
# member's list (sorted by priority, highest first, nulls first as PostgreSQL sorts them), puts it back before
# the first package whose priority is null or <= p, then renumbers the whole list N..1. So asking for 1 from 3 among 3 packages gives 2, and
# asking for 2 from 3 gives 3 again: comparing the asked value with the stored one would report a change on
# every run. A PUT without a priority moves the package to the bottom, so every update sends one.
#
# The rule implemented here: the user's priority is the rank the package should END UP with. It is clamped to
# 1..N (0 or less means the bottom, more than N means the top), compared with the stored value, and, when
# they differ, the value to send is chosen by simulating the server's renumbering so that the stored result is
# that rank. After one run the stored value equals the clamped target, so the next run sees no change.


def _ranking_key(entry):
    # The repository's findByMemberOrderByPriorityDesc: highest first, and on PostgreSQL a null priority first
    # (NULLS FIRST is the default for DESC); ties in id order.
    package_id, priority = entry
    return (priority is not None, -(priority or 0), (0, package_id) if isinstance(package_id, int) else (1, str(package_id)))


def simulate_priorities(ranking, package_id, asked):
    """The member's priorities after a PUT asking `asked` for package_id, as MLDS's prioritizer stores them.

    ranking is a list of (package id, priority) for every package of the member, including package_id.
    Returns {package id: priority}.
    """
    entries = list(ranking)
    current = dict(entries).get(package_id)
    if asked is not None and asked == current:
        return dict(entries)
    others = sorted([entry for entry in entries if entry[0] != package_id], key=_ranking_key)
    # Before the first package with a null priority or one <= asked; none: the bottom (so no priority in the
    # body means the bottom, unless a null-priority package is in the way).
    position = len(others)
    for index, (_other, priority) in enumerate(others):
        if priority is None or (asked is not None and priority <= asked):
            position = index
            break
    order = [other for other, _priority in others]
    order.insert(position, package_id)
    total = len(order)
    return dict((other, total - index) for index, other in enumerate(order))


def clamp_priority(desired, total):
    return max(1, min(int(desired), max(1, total)))


def plan_priority(desired, package_id, ranking):
    """(target, send): the priority the package will have, and the value to put in the PUT body.

    desired None keeps the current priority (send it back unchanged). When the target equals the current
    stored value, send is the current value, which the server treats as "no change".
    """
    entries = list(ranking)
    current = dict(entries).get(package_id)
    if desired is None:
        return current, current
    target = clamp_priority(desired, len(entries))
    if target == current:
        return current, current
    highest = max([priority for _other, priority in entries if priority is not None] + [len(entries)])
    candidates = [target, target - 1] + list(range(0, highest + 2))
    for candidate in candidates:
        if candidate == current:
            continue
        if simulate_priorities(entries, package_id, candidate).get(package_id) == target:
            return target, candidate
    # Not reachable with a well-formed ranking; report what sending the target would give.
    return simulate_priorities(entries, package_id, target).get(package_id), target


def priority_after_create(desired, ranking_without_new):
    """The priority a new package ends with: MLDS creates it at the bottom (1), then a PUT moves it.

    Returns (target, needs_put).
    """
    total = len(list(ranking_without_new)) + 1
    if desired is None:
        return 1, False
    target = clamp_priority(desired, total)
    return target, target != 1
