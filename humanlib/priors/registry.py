"""The pose priors by name: one registry that every command, job and experiment uses.

=============== ==============================================================================
name            prior (on its committed file, or the user's under ``HUMANLIB_PRIORS_DIR``)
=============== ==============================================================================
``none``        :class:`humanlib.priors.NoPrior` (no prior term)
``gmm``         SMPLify's GMM, min-over-components energy (:func:`humanlib.priors.gmm.load_gmm_prior`)
``gmm-exact``   the same GMM, exact negative log-likelihood (log-sum-exp over components)
``vposer``      :class:`humanlib.priors.vposer.VPoserPrior`: the fit optimises VPoser's latent code
``vposer-pose`` VPoser's encoder-mean energy used in pose space (:class:`PoseSpacePrior`)
``posendf``     :class:`humanlib.priors.posendf.PoseNDFPrior`
=============== ==============================================================================

Older names stay accepted (:data:`PRIOR_ALIASES`): ``gmm-min`` is ``gmm``, the name the SMPLify
jobs (``humanlib fit --prior``, ``results/smplify_ablation.json``) have always used.
"""

from __future__ import annotations

import torch

from humanlib.priors import NoPrior, PosePrior

#: Every prior name, canonical spelling.
PRIOR_NAMES: tuple[str, ...] = ("none", "gmm", "gmm-exact", "vposer", "vposer-pose", "posendf")
#: Older names, still accepted -> the canonical name they mean.
PRIOR_ALIASES: dict[str, str] = {"gmm-min": "gmm"}


class PoseSpacePrior(PosePrior):
    """Any prior used in pose space: the fit optimises the 63 axis-angle numbers and adds
    ``energy(body_pose)``, whatever parametrisation the wrapped prior would choose.

    ``"vposer-pose"`` is VPoser this way, with the energy ``||mu(theta)||^2`` of its encoder
    mean: the fit is no longer restricted to poses the decoder can produce.

    Raises:
        TypeError: ``prior`` is not a ``PosePrior``.
        ValueError: ``name`` is not a non-empty string.
    """

    def __init__(self, prior: PosePrior, name: str) -> None:
        if not isinstance(prior, PosePrior):
            raise TypeError(f"prior must be a humanlib.priors.PosePrior; got {type(prior).__name__}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        self.prior = prior
        self.name = name

    def energy(self, body_pose: torch.Tensor) -> torch.Tensor:
        return self.prior.energy(body_pose)

    def to(self, *args, **kwargs) -> PoseSpacePrior:
        if hasattr(self.prior, "to"):
            self.prior.to(*args, **kwargs)
        return self


def canonical_prior_name(name: str) -> str:
    """``name`` in its canonical spelling (an alias such as ``gmm-min`` -> ``gmm``).

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: neither a name of :data:`PRIOR_NAMES` nor an alias (the message lists them).
    """
    if not isinstance(name, str):
        raise TypeError(f"prior name must be a str, one of {', '.join(PRIOR_NAMES)}; got {type(name).__name__}")
    name = PRIOR_ALIASES.get(name, name)
    if name not in PRIOR_NAMES:
        raise ValueError(f"unknown prior {name!r}; choose from {', '.join(PRIOR_NAMES)}")
    return name


def load_prior(name: str) -> PosePrior:
    """The prior called ``name`` (see :data:`humanlib.priors.registry.PRIOR_NAMES`; aliases too) on its committed file.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: an unknown name.
        FileNotFoundError: the prior's committed GMM file or checkpoint is missing.
    """
    name = canonical_prior_name(name)
    if name == "none":
        return NoPrior()
    if name in ("gmm", "gmm-exact"):
        from humanlib.priors.gmm import load_gmm_prior

        return load_gmm_prior("exact" if name == "gmm-exact" else "min")
    if name == "posendf":
        from humanlib.priors.posendf import PoseNDFPrior

        return PoseNDFPrior()
    from humanlib.priors.vposer import VPoserPrior

    return VPoserPrior() if name == "vposer" else PoseSpacePrior(VPoserPrior(), "vposer-pose")


__all__ = ["PRIOR_ALIASES", "PRIOR_NAMES", "PoseSpacePrior", "canonical_prior_name", "load_prior"]
