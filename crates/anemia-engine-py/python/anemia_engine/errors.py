"""Exceptions raised by anemia_engine: one per category of the CLI's exit codes."""

from __future__ import annotations

__all__ = [
    "AnemiaEngineError",
    "UsageError",
    "InputError",
    "RulesetError",
    "ReadError",
    "EngineIOError",
    "LedgerError",
]


class AnemiaEngineError(Exception):
    """Base of every engine error.

    ``message`` is the engine's message (the one the CLI prints after ``error:``);
    ``exit_code`` is the code the CLI would exit with; ``category`` names the kind of problem.
    """

    category = "engine"
    default_exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = self.default_exit_code if exit_code is None else exit_code


class UsageError(AnemiaEngineError, ValueError):
    """A bad argument (an unknown layout, evidence mode, ...). CLI exit code 2."""

    category = "usage"
    default_exit_code = 2


class InputError(AnemiaEngineError, ValueError):
    """The input cannot be classified as given (no recognisable columns, a duplicate
    column, a long layout without ``unit`` ...), found before any row. CLI exit code 2."""

    category = "input"
    default_exit_code = 2


class RulesetError(AnemiaEngineError):
    """The ruleset directory cannot be read or is invalid. CLI exit code 2."""

    category = "ruleset"
    default_exit_code = 2


class ReadError(AnemiaEngineError):
    """The input could not be read while running. CLI exit code 1."""

    category = "read"
    default_exit_code = 1


class EngineIOError(AnemiaEngineError, OSError):
    """A file could not be opened or written. CLI exit code 1."""

    category = "io"
    default_exit_code = 1


class LedgerError(AnemiaEngineError):
    """Per-partition ledgers do not add up (a distributed run lost or repeated rows)."""

    category = "ledger"
    default_exit_code = 1
