"""humanlib: the library of the Human Distribution course."""

__version__ = "0.1.0"
