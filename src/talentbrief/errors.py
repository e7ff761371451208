"""One root for every error talentbrief reports to a user, each carrying its exit code (as papermill's
exceptions share PapermillException): 2 for bad input, refused before anything ran; 1 when reports
failed. Commands print an error's messages, one per line, and exit with its code (`report`)."""

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
