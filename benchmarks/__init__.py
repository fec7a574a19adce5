"""Benchmarks of the course's code against the reference implementations (``python -m benchmarks.run``).

Not part of the installed ``humanlib`` package: run from a source checkout.
"""
