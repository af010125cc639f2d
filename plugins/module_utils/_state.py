# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Desired-versus-current comparison for MLDS objects: what changes, with before/after for diff mode.

PRIVATE to this collection: it may change without notice.

The rules (research/mlds-api.md sections 3 and 8.1):

* Only options the user set are compared. An option left out (``None``) never causes a change, and is
  never sent as a change: the update keeps the server's value.
* Server-generated fields are never compared, even if a caller passes them: ``id`` (the version UUID,
  which MLDS 5.2 regenerates on every PUT), ``createdAt``, ``updatedAt`` and ``lastUpdated``.
* Strings, HTML included, are compared verbatim. MLDS stores them exactly as sent (no sanitiser), so
  what is written is what is read back and a second run finds no difference. ``null`` and ``""`` differ.
* ``fileSize`` is a string in MLDS 5.2 and a number in 6.x: ``"123"`` equals ``123``.
* A member is compared by its key; the caller resolves the user's key through ``/api/members`` first.
* Priority is compared as the server will store it after its renumbering; see ``plan_priority``.
"""

from __future__ import annotations

# Fields MLDS generates itself; comparing them would report a change on every run.
IGNORED_FIELDS = frozenset(('id', 'createdAt', 'updatedAt', 'lastUpdated'))

KINDS = ('str', 'int', 'bool', 'size', 'member', 'priority')


class Field:
    """One comparable option: the module option name, the server's JSON key, and how to compare it."""

    __slots__ = ('option', 'key', 'kind')

    def __init__(self, option, key, kind='str'):
        if kind not in KINDS:
            raise ValueError('unknown field kind %r' % kind)
        self.option = option
        self.key = key
        self.kind = kind

    def __repr__(self):
        return 'Field(%r, %r, %r)' % (self.option, self.key, self.kind)


def normalise(kind, value):
    """The form in which two values of a kind are compared."""
    if value is None:
        return None
    if kind == 'size':
        if isinstance(value, bool):
            return ('not a size', value)  # True must not equal 1
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return value
    if kind == 'member':
        return value.get('key') if isinstance(value, dict) else value
    return value


def same(kind, desired, current):
    return normalise(kind, desired) == normalise(kind, current)


def shown(kind, value):
    """How a value appears in a diff: a member by its key, everything else as it is."""
    if kind == 'member':
        return normalise(kind, value)
    return value


class Differences:
    """The changed fields of one object, in the order found, with before and after values (option names)."""

    def __init__(self):
        self._changes = []

    def add(self, option, before, after):
        self._changes.append((option, before, after))

    def __bool__(self):
        return bool(self._changes)

    def __len__(self):
        return len(self._changes)

    def __contains__(self, option):
        return any(name == option for name, _before, _after in self._changes)

    @property
    def names(self):
        return [name for name, _before, _after in self._changes]

    def before(self):
        return dict((name, before) for name, before, _after in self._changes)

    def after(self):
        return dict((name, after) for name, _before, after in self._changes)

    def get(self, option):
        for name, before, after in self._changes:
            if name == option:
                return before, after
        raise KeyError(option)

    def diff(self):
        return {'before': self.before(), 'after': self.after()}


def compare(fields, desired, current, differences=None):
    """Record in differences (returned) every set option whose value differs from the current object.

    desired maps option names to the user's values (None = not set); current is the server's JSON object,
    or None when the object does not exist yet (every set option is then a change from None).
    """
    differences = Differences() if differences is None else differences
    current = current or {}
    for field in fields:
        if field.key in IGNORED_FIELDS or field.kind == 'priority':
            continue
        wanted = desired.get(field.option)
        if wanted is None:
            continue
        have = current.get(field.key)
        if not same(field.kind, wanted, have):
            differences.add(field.option, shown(field.kind, have), wanted)
    return differences


def merge(fields, desired, current):
    """A copy of current with the user's set options written into their JSON keys (for a whole-object PUT).

    Priority and member are left to the caller: they need the server's ranking and the member's id.
    """
    body = dict(current or {})
    for field in fields:
        if field.key in IGNORED_FIELDS or field.kind in ('priority', 'member'):
            continue
        wanted = desired.get(field.option)
        if wanted is not None:
            body[field.key] = wanted
    return body


# ---- priority ------------------------------------------------------------------------------------
#
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
