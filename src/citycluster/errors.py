"""One base for everything citycluster refuses, so a caller can catch it in one place.

Each kind keeps the built-in exception it always was (``ValueError``, ``KeyError``,
``RuntimeError``) as a second base, so existing ``except`` clauses keep working. The command
line turns any :class:`CityclusterError` into its message and ``exit_code``; a traceback from
``citycluster`` therefore always means a bug.
"""

from __future__ import annotations


class CityclusterError(Exception):
    """Something a person must act on; the message says what and where."""

    #: The process exit status the command line uses for this kind.
    exit_code: int = 1

    def __str__(self) -> str:  # KeyError subclasses would otherwise print their message quoted
        return str(self.args[0]) if self.args else self.__class__.__name__


class InputError(CityclusterError, ValueError):
    """Input data or a declaration that cannot be used (files, contracts, units)."""


class UsageError(CityclusterError, ValueError):
    """A parameter, step name or model specification the run cannot accept."""

    exit_code = 2


class LookupFailed(CityclusterError, KeyError):
    """A name that is not declared (a dataset, a sample, a figure)."""

    exit_code = 2


class EnvironmentProblem(CityclusterError, RuntimeError):
    """The machine lacks something the run needs (a font, the repository)."""
