# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""MLDS package priority (_mlds_priority): a model of MLDS's prioritizer, and the plan that never flaps."""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _mlds_priority


# ---- priority: a model of MLDS's prioritizer -----------------------------------------------------

def ranking_of(*priorities):
    """Packages 1..n with the given priorities."""
    return [(index + 1, priority) for index, priority in enumerate(priorities)]


@pytest.mark.parametrize('current, asked, stored', [
    (3, 1, 2),    # research notes: asking 1 from 3 among 3 gives 2
    (3, 2, 3),    # asking 2 from 3 leaves it at 3 (re-inserted before the package with 2)
    (3, 0, 1),    # 0 is the bottom
    (1, 9, 3),    # larger than N is the top
    (1, 3, 3),
    (2, 2, 2),    # the same value: nothing moves
    (2, 1, 2),    # moving down lands one above the asked value
    (2, 0, 1),
])
def test_simulation_matches_the_documented_prioritizer(current, asked, stored):
    ranking = [(1, 3), (2, 2), (3, 1)]
    package_id = dict((priority, pid) for pid, priority in ranking)[current]
    after = _mlds_priority.simulate_priorities(ranking, package_id, asked)
    assert after[package_id] == stored
    assert sorted(after.values()) == [1, 2, 3]


def test_simulation_without_priority_moves_to_the_bottom():
    after = _mlds_priority.simulate_priorities(ranking_of(3, 2, 1), 1, None)
    assert after == {2: 3, 3: 2, 1: 1}


def test_simulation_renumbers_gaps_and_nulls():
    # PostgreSQL sorts null priorities first in DESC order, and a move goes before the first null.
    after = _mlds_priority.simulate_priorities([(1, 10), (2, None), (3, 4)], 1, 2)
    assert after == {1: 3, 2: 2, 3: 1}
    after = _mlds_priority.simulate_priorities([(1, 10), (2, 7), (3, 4)], 3, 20)
    assert after == {3: 3, 1: 2, 2: 1}


def test_simulation_breaks_ties_by_id():
    after = _mlds_priority.simulate_priorities([(5, 2), (4, 2), (3, 1)], 3, 0)
    assert after == {4: 3, 5: 2, 3: 1}


@pytest.mark.parametrize('size', [1, 2, 3, 5])
def test_plan_reaches_the_clamped_target_and_the_next_run_is_stable(size):
    """For every package and every asked value: one PUT reaches the target, the next plan sends nothing."""
    for package_id, desired in itertools.product(range(1, size + 1), range(-2, size + 4)):
        ranking = ranking_of(*range(size, 0, -1))
        current = dict(ranking)[package_id]
        target, send = _mlds_priority.plan_priority(desired, package_id, ranking)
        assert target == max(1, min(desired, size))
        if target == current:
            assert send == current
            continue
        stored = _mlds_priority.simulate_priorities(ranking, package_id, send)
        assert stored[package_id] == target, (package_id, desired, send)
        # The second run: compared as stored, no change, and the value sent back is the stored one.
        again = list(stored.items())
        assert _mlds_priority.plan_priority(desired, package_id, again) == (target, target)


def test_plan_with_non_contiguous_priorities_still_converges():
    ranking = [(1, 10), (2, 7), (3, 3)]
    target, send = _mlds_priority.plan_priority(3, 1, ranking)
    assert target == 3
    stored = _mlds_priority.simulate_priorities(ranking, 1, send)
    assert stored[1] == 3
    assert _mlds_priority.plan_priority(3, 1, list(stored.items())) == (3, 3)


def test_plan_without_a_desired_priority_sends_the_current_one():
    assert _mlds_priority.plan_priority(None, 2, ranking_of(3, 2, 1)) == (2, 2)


def test_plan_never_sends_the_current_value_for_a_move():
    # Sending the current value would be "no change" on the server.
    for desired in range(1, 6):
        target, send = _mlds_priority.plan_priority(desired, 3, ranking_of(5, 4, 3, 2, 1))
        if target != 3:
            assert send != 3


def test_priority_after_create():
    assert _mlds_priority.priority_after_create(None, ranking_of(2, 1)) == (1, False)
    assert _mlds_priority.priority_after_create(1, ranking_of(2, 1)) == (1, False)
    assert _mlds_priority.priority_after_create(0, ranking_of(2, 1)) == (1, False)
    assert _mlds_priority.priority_after_create(2, ranking_of(2, 1)) == (2, True)
    assert _mlds_priority.priority_after_create(99, ranking_of(2, 1)) == (3, True)
    assert _mlds_priority.priority_after_create(5, []) == (1, False)
