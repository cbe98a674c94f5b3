"""Kaplan–Meier on a small case computed by hand."""

import pytest

from signals.survival import kaplan_meier, merge_durations


def test_kaplan_meier_matches_the_hand_computation() -> None:
    # 10 postings: (days open, closed?, how many)
    hist = [(2, True, 1), (3, True, 2), (3, False, 1), (5, True, 1), (8, True, 2), (8, False, 1), (12, False, 2)]
    # By hand, S(t) = Π over event days t_i ≤ t of (1 − d_i / n_i), n_i = postings still open at t_i:
    #   t=2:  n=10, d=1 → S = 9/10                      = 0.9
    #   t=3:  n=9,  d=2 → S = 0.9 × 7/9                 = 0.7    (the censored one at 3 leaves after)
    #   t=5:  n=6,  d=1 → S = 0.7 × 5/6                 = 0.58333
    #   t=8:  n=5,  d=2 → S = 0.58333 × 3/5             = 0.35   (one censored at 8, two at 12)
    # median: first day with S < 0.5 → 8; 75th percentile (S < 0.25) is never reached → None.
    km = kaplan_meier(hist)
    assert km.sample == 10 and km.closed == 6
    assert km.median_days == 8
    assert km.p75_days is None
    assert km.exposure_days == 2 + 6 + 3 + 5 + 16 + 8 + 24


def test_kaplan_meier_reaches_the_75th_percentile_when_most_close() -> None:
    hist = [(1, True, 2), (4, True, 3), (6, False, 1), (9, True, 4)]
    # t=1: n=10, d=2 → 0.8; t=4: n=8, d=3 → 0.8 × 5/8 = 0.5; t=9: n=4, d=4 → 0.
    # The quantile is the first day S falls *below* 1 − p (strict, the SAS convention statsmodels
    # follows): S(4) = 0.5 is not below 0.5, so the median is 9; 75th percentile: S(9) = 0 → 9.
    km = kaplan_meier(hist)
    assert (km.median_days, km.p75_days) == (9, 9)
    # one more posting closed on day 4 tips S(4) below 0.5: n=11; t=1: 9/11; t=4: 9/11 × (1 − 4/9) = 0.4545
    assert kaplan_meier([*hist, (4, True, 1)]).median_days == 4


def test_no_closed_posting_gives_no_quantile() -> None:
    km = kaplan_meier([(3, False, 5), (10, False, 2)])
    assert (km.sample, km.closed, km.median_days, km.p75_days) == (7, 0, None, None)


def test_merge_durations_adds_bins() -> None:
    merged = merge_durations([[(3, True, 1), (5, False, 2)], [(3, True, 4), (3, False, 1)]])
    assert merged == [(3, False, 1), (3, True, 5), (5, False, 2)]
    assert kaplan_meier(merged).closed == pytest.approx(5)
