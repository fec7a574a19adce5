"""The committed GMM was fitted on the committed corpus (the other priors check it in their own tests)."""

import hashlib

import pytest

from humanlib.paths import ASSETS_DIR, user_amass_dir
from humanlib.priors.gmm import load_gmm


def test_committed_gmm_matches_the_committed_corpus():
    manifest = ASSETS_DIR / "corpus" / "manifest.json"
    if user_amass_dir() is not None:
        pytest.skip("HUMANLIB_AMASS_DIR is set: the committed GMM belongs to the open corpus")
    recorded = load_gmm().metadata["corpus_manifest_sha256"]
    current = hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert recorded == current, ("the corpus changed after the GMM was fitted: rerun "
                                 "`humanlib train-gmm --max-frames 50000 --max-iter 100`")
