"""Spare pools: the counts that size them."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from ingress_ctl.haproxy import spares
from ingress_ctl.model.policies import BackendPolicy, Balance, Policy

POLICIES = [Policy(backend=BackendPolicy(balance=balance)) for balance in Balance]


@given(st.lists(st.tuples(st.sampled_from(POLICIES), st.booleans())))
def test_policies_are_counted_as_equal_values_whether_shared_or_copied(
    drawn: list[tuple[Policy, bool]],
) -> None:
    """Counting by identity first is a shortcut: equal policies count together."""
    policies = [policy.model_copy(deep=True) if copied else policy for policy, copied in drawn]
    assert spares._count(policies) == Counter(policies)
