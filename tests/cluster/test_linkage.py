"""Repair's average linkage, in which an undated report takes its group's date."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.cluster.hierarchy import fcluster, linkage

from polystory.cluster.linkage import cut_path, group_average_linkage, linkage_path
from polystory.cluster.similarity import DATE_CONFLICT_FACTOR, date_conflict
from polystory.models import PartialDate


def _same_partition(a, b) -> bool:
    return len(set(zip(a, b))) == len(set(a)) == len(set(b))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 30), seed=st.integers(0, 10_000), threshold=st.floats(0.05, 0.95),
       dated=st.booleans())
def test_with_one_date_for_all_it_is_plain_average_linkage(n, seed, threshold, dated):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3))
    p = np.exp(-((x[:, None] - x[None]) ** 2).sum(-1) * rng.uniform(1, 10))
    day = PartialDate(2023, 3, 2) if dated else None
    want = fcluster(linkage(1 - p[np.triu_indices(n, 1)], method="average"), 1 - threshold,
                    criterion="distance")
    got = group_average_linkage(p, [day] * n, threshold, date_conflict, DATE_CONFLICT_FACTOR)
    assert _same_partition(want, got)
    # the path cut at any threshold above its floor is that threshold's clustering
    path = linkage_path(p, [day] * n, date_conflict, DATE_CONFLICT_FACTOR, floor=0.05)
    assert _same_partition(cut_path(path, n, threshold), got)


def test_undated_reports_do_not_bridge_two_dated_happenings():
    # two dated reports two years apart and undated reports close to both: pairwise,
    # only one pair of the four conflicts, and plain average linkage makes one event
    p = np.array([[1.0, 0.9, 0.9, 0.6, 0.6],
                  [0.9, 1.0, 0.9, 0.6, 0.6],
                  [0.9, 0.9, 1.0, 0.9, 0.9],
                  [0.6, 0.6, 0.9, 1.0, 0.9],
                  [0.6, 0.6, 0.9, 0.9, 1.0]])
    dates = [PartialDate(2022, 5, 28), None, None, None, PartialDate(2024, 6, 1)]
    plain = fcluster(linkage(1 - p[np.triu_indices(5, 1)], method="average"), 0.5, criterion="distance")
    assert len(set(plain)) == 1
    got = group_average_linkage(p, dates, 0.5, date_conflict, DATE_CONFLICT_FACTOR)
    assert got[0] != got[4]
    assert got.tolist() == [0, 0, 0, 1, 1]
