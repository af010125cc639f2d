# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Desired-versus-current comparison for MLDS objects: what changes, with before/after for diff mode.

PRIVATE to this collection: it may change without notice.

The rules (how MLDS stores and returns fields: see docs/docsite/rst/guide_mlds.rst):

* Only options the user set are compared. An option left out (``None``) never causes a change, and is
  never sent as a change: the update keeps the server's value.
* Server-generated fields are never compared, even if a caller passes them: ``id`` (the version UUID,
  which MLDS 5.2 regenerates on every PUT), ``createdAt``, ``updatedAt`` and ``lastUpdated``.
* Strings, HTML included, are compared verbatim. MLDS stores them exactly as sent (no sanitiser), so
  what is written is what is read back and a second run finds no difference. ``null`` and ``""`` differ.
* ``fileSize`` is a string in MLDS 5.2 and a number in 6.x: ``"123"`` equals ``123``.
* A member is compared by its key; the caller resolves the user's key through ``/api/members`` first.
* Priority is compared as the server will store it after its renumbering; see _mlds_priority.
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
