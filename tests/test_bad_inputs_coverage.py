"""The robustness sweep covers the whole public API: no public name without a bad-input case.

A new public function, class or method of humanlib fails this test until a
``test_bad_inputs_*.py`` file under ``tests/`` gives it a case (or an ``EXEMPT`` entry saying why it takes
no user input); a renamed one fails it until the case follows the rename.
"""

import importlib
import sys

from bad_inputs import Case, group_files, is_exception, public_api


def _groups():
    groups = []
    for path in group_files():
        if path.stem == "test_bad_inputs_coverage":
            continue
        if str(path.parent) not in sys.path:  # a subpackage's folder (pytest adds it only once it collected a file there)
            sys.path.insert(0, str(path.parent))
        groups.append(importlib.import_module(path.stem))
    assert len(groups) >= 16, [p.name for p in group_files()]  # every group was found
    return groups


def test_every_public_name_has_a_bad_input_case_or_a_reason():
    api = public_api()
    covered: set[str] = set()
    exempt: dict[str, str] = {}
    for group in _groups():
        assert all(isinstance(c, Case) for c in group.CASES), f"{group.__name__}: CASES holds a non-Case"
        covered |= {c.target for c in group.CASES}
        exempt.update(group.EXEMPT)
    missing = sorted(name for name, obj in api.items()
                     if name not in covered and name not in exempt and not is_exception(obj))
    assert not missing, f"{len(missing)} public names have no bad-input case and no EXEMPT reason:\n" + "\n".join(missing)


def test_cases_and_exemptions_name_real_public_names():
    api = public_api()
    for group in _groups():
        stale = sorted({c.target for c in group.CASES} - set(api)) + sorted(set(group.EXEMPT) - set(api))
        assert not stale, f"{group.__name__} names what humanlib no longer has: {stale}"
        empty = [name for name, why in group.EXEMPT.items() if len(why.split()) < 3]
        assert not empty, f"{group.__name__}: give each exemption a real reason: {empty}"
