"""The root of every error a user must fix, carrying its exit code: 2 bad input, 1 a report failed."""

from __future__ import annotations

from typing import TextIO


class TalentbriefError(Exception):
    """Something the user must fix; `.messages` says what, one line each."""

    exit_code = 2

    def __init__(self, messages: str | list[str]):
        self.messages = [messages] if isinstance(messages, str) else [str(m) for m in messages]
        super().__init__("\n".join(self.messages))


def report(error: TalentbriefError, err: TextIO, prefix: str = "") -> int:
    """Print the error's messages to `err` and give its exit code."""
    for message in error.messages:
        print(f"{prefix}{message}", file=err)
    return error.exit_code
