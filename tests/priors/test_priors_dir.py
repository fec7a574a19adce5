"""HUMANLIB_PRIORS_DIR: a researcher's own trained priors replace the committed ones everywhere."""

import pytest
import torch

from humanlib.priors import gmm as gm
from humanlib.priors import posendf as ndf
from humanlib.priors import vposer as vp


@pytest.fixture
def priors_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HUMANLIB_PRIORS_DIR", str(tmp_path))
    return tmp_path


def _params(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def test_default_loaders_read_the_users_priors(priors_dir):
    torch.manual_seed(3)
    mixture = gm.GaussianMixture(torch.tensor([0.25, 0.75]), torch.randn(2, 63), torch.eye(63).repeat(2, 1, 1))
    mixture.save(priors_dir / "gmm.npz")
    vposer = vp.VPoser()
    (priors_dir / "vposer").mkdir()
    vp.save_vposer(vposer, priors_dir / "vposer" / "best.pt")
    field = ndf.PoseNDF()
    (priors_dir / "posendf").mkdir()
    ndf.save_checkpoint(priors_dir / "posendf" / "posendf.pt", field)

    assert torch.allclose(gm.load_gmm().weights, torch.tensor([0.25, 0.75]))
    assert gm.load_gmm_prior().gmm.num_components == 2
    assert torch.equal(_params(vp.load_vposer()), _params(vposer))
    assert torch.equal(_params(ndf.load_posendf()), _params(field))


@pytest.mark.parametrize("kind, load", [("gmm", gm.load_gmm), ("vposer", vp.load_vposer), ("posendf", ndf.load_posendf)])
def test_a_missing_user_prior_is_an_error_never_the_open_one(priors_dir, kind, load):
    with pytest.raises(FileNotFoundError, match=f"HUMANLIB_PRIORS_DIR is set.*humanlib train-{kind} --out"):
        load()


def test_an_explicit_path_wins_over_the_setting(priors_dir):
    from humanlib.paths import asset

    assert gm.load_gmm(asset(gm.DEFAULT_GMM_ASSET)).num_components == 8
