"""`talentbrief` command line: each subcommand lives in the module that does its work.

Exit codes: 0 success, 1 a report failed to build, 2 bad input (data, catalogue, parameters, usage);
`diff` has its own: 0 no difference, 1 differences, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from talentbrief import errors

# The modules whose register(subparsers) adds their commands (build: build and list), each setting `func`.
COMMANDS = ("validate_command", "build", "params", "doctor", "preview", "diff")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="talentbrief", description=__doc__.splitlines()[0])
    parser.add_argument("--root", help="project folder (default: found from the working directory)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMANDS:
        importlib.import_module(f"talentbrief.{module_name}").register(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except errors.TalentbriefError as exc:  # one root, each error with its exit code
        return errors.report(exc, sys.stderr, prefix="talentbrief: ")
    except BrokenPipeError:  # e.g. `talentbrief list | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("talentbrief: interrupted", file=sys.stderr)
        return 130

