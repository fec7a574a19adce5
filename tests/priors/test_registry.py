"""humanlib.priors.registry: one set of prior names for every command, job and experiment."""

from __future__ import annotations

import pytest

from humanlib.experiments import runner
from humanlib.fitting import jobs
from humanlib.priors import NoPrior, registry


def test_every_command_offers_registry_names_or_aliases():
    offered = set(jobs.PRIOR_NAMES) | set(runner.PRIOR_NAMES)
    assert {registry.canonical_prior_name(name) for name in offered} <= set(registry.PRIOR_NAMES)
    assert set(runner.PRIOR_NAMES) <= set(registry.PRIOR_NAMES)  # results files keep their prior names


def test_old_names_load_the_same_prior():
    assert registry.canonical_prior_name("gmm-min") == "gmm"
    assert jobs.make_prior is registry.load_prior and runner.load_prior is registry.load_prior
    assert isinstance(registry.load_prior("none"), NoPrior)
    try:
        gmm, old = registry.load_prior("gmm"), registry.load_prior("gmm-min")
    except FileNotFoundError:
        pytest.skip("the committed GMM is absent")
    assert type(gmm) is type(old) and gmm.mode == old.mode == "min"
    assert registry.load_prior("gmm-exact").mode == "exact"
