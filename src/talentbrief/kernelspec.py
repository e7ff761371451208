"""The `talentbrief` Jupyter kernel: this environment's Python, set up as builds run notebooks.

`python -m talentbrief.kernelspec` (run by `make bootstrap`/`make lab`) registers it inside the
virtualenv (`sys.prefix/share/jupyter/kernels/talentbrief`), so JupyterLab and nbval find it by the
name the notebooks' metadata gives. Builds do not need it: the engine starts this same Python with the
same arguments whatever the notebook's kernelspec says (talentbrief.engine.KERNEL_ARGUMENTS).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

NAME = "talentbrief"
DISPLAY_NAME = "talentbrief (project venv)"


def spec() -> dict:
    """kernel.json: ipykernel on this interpreter, charts as in builds (inline backend, PNG + alt text)."""
    from talentbrief.engine import INLINE_BACKEND, KERNEL_ARGUMENTS

    return {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", *KERNEL_ARGUMENTS],
        "display_name": DISPLAY_NAME,
        "language": "python",
        "env": {"MPLBACKEND": INLINE_BACKEND, "PYTHONHASHSEED": "0"},
        "metadata": {"debugger": True},
    }


def install(prefix: str | None = None) -> Path:
    """Write the kernelspec under `prefix` (default: this environment); returns its folder."""
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / NAME
        folder.mkdir()
        (folder / "kernel.json").write_text(json.dumps(spec(), indent=1) + "\n", encoding="utf-8")
        return Path(KernelSpecManager().install_kernel_spec(str(folder), NAME, prefix=prefix or sys.prefix))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m talentbrief.kernelspec", description=__doc__.split("\n")[0])
    parser.add_argument("--prefix", help="install under this prefix instead of the running environment")
    args = parser.parse_args(argv)
    print(f"talentbrief: kernel {NAME!r} installed in {install(args.prefix)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
