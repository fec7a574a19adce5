"""The robustness sweep's vocabulary: one bad-input case per line, and the inventory of the API.

Every public function, class and method of ``humanlib`` (see :func:`public_api`) is named by at
least one case in a ``test_bad_inputs_*.py`` file under ``tests/``, or listed there in ``EXEMPT`` with the
reason it takes no user input; ``tests/test_bad_inputs_coverage.py`` fails otherwise. A case says
what a user did wrong and what they must get back:

* :func:`raises`: a clear exception whose message matches ``match`` (a regex that names the
  offending argument), raised by humanlib itself, never from deep inside torch or numpy;
* :func:`returns`: a well-defined result that ``check`` accepts (an empty batch in, an empty
  batch out; NaN in a pure elementwise function, NaN out, never a finite wrong number).

Each group file defines ``CASES`` (a list of these) and ``EXEMPT`` (qualified name -> reason),
and runs its cases with ``@pytest.mark.parametrize("case", CASES, ids=case_id)`` and
:func:`run_case`.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

#: Frames of these packages may not be where a user error surfaces: humanlib must check first.
_FOREIGN = ("/torch/", "/numpy/", "/scipy/", "/smplx/")


@dataclass(frozen=True)
class Case:
    target: str                      # "humanlib.rotations.quat_multiply" or "humanlib.body.BodyModel.forward"
    problem: str                     # what the user did wrong, in a few words
    call: Callable[[], object]
    error: type[BaseException] | tuple[type[BaseException], ...] | None = None
    match: str = ""
    check: Callable[[object], bool] | None = None


def raises(target: str, problem: str, call: Callable[[], object],
           error: type[BaseException] | tuple[type[BaseException], ...] = ValueError, match: str = "") -> Case:
    """``call()`` must raise ``error`` with a message matching ``match`` (searched, case-sensitive)."""
    return Case(target, problem, call, error=error, match=match)


def returns(target: str, problem: str, call: Callable[[], object], check: Callable[[object], bool]) -> Case:
    """``call()`` must return a value that ``check`` accepts."""
    return Case(target, problem, call, check=check)


def case_id(case: Case) -> str:
    return f"{case.target.removeprefix('humanlib.')}: {case.problem}"


def run_case(case: Case) -> None:
    """Run one case; fail with a readable reason."""
    if case.error is not None:
        with pytest.raises(case.error, match=case.match or None) as info:
            case.call()
        origin = traceback.extract_tb(info.tb)[-1].filename
        assert not any(part in origin.replace("\\", "/") for part in _FOREIGN), (
            f"{case.target}: the error was raised inside a dependency ({origin}), not by humanlib's own "
            f"check: {info.value}"
        )
    else:
        result = case.call()
        assert case.check is not None and case.check(result), f"{case.target}: {case.problem}: unexpected result {result!r}"


def with_env(call: Callable[[], object], **values: object) -> Callable[[], object]:
    """``call`` run with environment variables set (``None``: unset), restored afterwards."""
    def run():
        with mock.patch.dict(os.environ):
            for key, value in values.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = str(value)
            return call()
    return run


# --------------------------------------------------------------------------- the inventory


def _is_public_module(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split(".")[1:])


def public_api() -> dict[str, object]:
    """Qualified name -> object, for every public function, class and (own) method of humanlib."""
    import humanlib

    found: dict[str, object] = {}
    for info in pkgutil.walk_packages(humanlib.__path__, "humanlib."):
        if not _is_public_module(info.name):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                found[f"{module.__name__}.{name}"] = obj
            elif inspect.isclass(obj):
                found[f"{module.__name__}.{name}"] = obj
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if inspect.isfunction(member) or isinstance(member, (classmethod, staticmethod)):
                        found[f"{module.__name__}.{name}.{attr}"] = member
    return found


def is_exception(obj: object) -> bool:
    """humanlib's exception classes are raised, never called by users: nothing to sweep."""
    return inspect.isclass(obj) and issubclass(obj, Exception)


def group_files() -> list[Path]:
    """Every ``test_bad_inputs_*.py`` under tests/ (beside the tests of the package or subpackage they cover)."""
    return sorted(Path(__file__).parent.rglob("test_bad_inputs_*.py"))
