"""Typed errors the user can act on.

Anything the user can fix (a bad URL, wrong credentials, an untrusted certificate, a missing
project) is raised as a :class:`UserFacingError` with a message and a hint. Everything else is a
bug: it is logged with its traceback and shown as "internal error".
"""

from __future__ import annotations

# CLI exit codes (DESIGN §7).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_REMOTE = 3


class UserFacingError(Exception):
    """An error with a message and a hint for the user.

    ``field`` names the form field at fault, when there is one, so the GUI can show the message
    beside it. ``exit_code`` is what the CLI exits with when this error ends a command.
    """

    exit_code = EXIT_FAILED

    def __init__(self, message: str, hint: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ConfigError(UserFacingError):
    """Bad usage or configuration: a field value, a missing name, an unknown option."""

    exit_code = EXIT_CONFIG


class RemoteError(UserFacingError):
    """The server could not be reached, or refused our credentials. ``status`` is the HTTP status
    behind it (0 when there was no answer)."""

    exit_code = EXIT_REMOTE

    def __init__(self, message: str, hint: str = "", *, field: str | None = None, status: int = 0) -> None:
        super().__init__(message, hint, field=field)
        self.status = status


class AuthError(RemoteError):
    """The server refused the credentials (401) or the permissions (403)."""


class CancelledError(Exception):
    """Raised inside a job when the user cancelled it."""
