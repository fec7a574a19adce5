"""Bad inputs to humanlib.provenance (the command, commit, machine and data fingerprints of results files).

poses_fingerprint's and corpus_fingerprint's cases stay with the tests of the jobs that record
them (tests/priors/test_bad_inputs_vposer_gmm.py, tests/experiments/test_bad_inputs_experiments.py).
"""

from __future__ import annotations

import argparse

import pytest
from bad_inputs import case_id, raises, returns, run_case, with_env

from humanlib import provenance as pv

P = "humanlib.provenance."

CASES = [
    returns(P + "command_line", "no arguments: the default", lambda: pv.command_line([], default="humanlib train-gmm"),
            lambda s: s == "humanlib train-gmm"),
    returns(P + "command_line", "an argument with a space is quoted", lambda: pv.command_line(["fit", "my keypoints.npz"]),
            lambda s: s == "humanlib fit 'my keypoints.npz'"),
    raises(P + "command_from_args", "a dict instead of parsed arguments", lambda: pv.command_from_args({"out": "x"}, "fit"),
           TypeError, "vars"),
    returns(P + "command_from_args", "flags off and unset options are left out",
            lambda: pv.command_from_args(argparse.Namespace(out="r", quiet=False, data=None, mirror=True), "train-posendf"),
            lambda s: s == "humanlib train-posendf --out r --mirror"),
    returns(P + "corpus_source", "a user's AMASS folder is named",
            with_env(pv.corpus_source, HUMANLIB_AMASS_DIR="/somewhere/amass"), lambda s: s == "AMASS at /somewhere/amass"),
    returns(P + "corpus_manifest_sha256", "the committed manifest's hash or 'unknown'", pv.corpus_manifest_sha256,
            lambda s: s == "unknown" or (len(s) == 64 and int(s, 16) >= 0)),
]

EXEMPT: dict[str, str] = {}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input(case):
    run_case(case)
