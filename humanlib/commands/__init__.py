"""The command line's jobs: one module per ``humanlib`` subcommand (or family of subcommands).

Each module defines ``add_subcommand(subparsers)``, which registers its parser(s) and sets
``func`` to a handler that checks the user's files, calls the library, prints and returns the
exit status; :mod:`humanlib.cli` assembles them (``SUBCOMMAND_MODULES``). This package sits on
top of the library: no module of humanlib outside it imports it or :mod:`humanlib.cli`.
"""
