"""The `talentbrief` Jupyter kernel: this environment's Python, set up as builds run notebooks.

JupyterLab and nbval find it by the name the notebooks give; builds need none (engine.KERNEL_ARGUMENTS).
`python -m talentbrief.kernelspec` (make bootstrap, make lab) installs it under sys.prefix.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

NAME = "talentbrief"


def spec() -> dict:
    """kernel.json: ipykernel on this interpreter, charts as in builds (inline backend, PNG + alt text)."""
    from talentbrief.engine import INLINE_BACKEND, KERNEL_ARGUMENTS

    return {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", *KERNEL_ARGUMENTS],
        "display_name": "talentbrief (project venv)",
        "language": "python",
        "env": {"MPLBACKEND": INLINE_BACKEND, "PYTHONHASHSEED": "0"},
        "metadata": {"debugger": True},
    }


def install(prefix: str | None = None) -> Path:
    """Write the kernelspec where Jupyter looks under `prefix` (default: this environment); its folder."""
    folder = Path(prefix or sys.prefix, "share", "jupyter", "kernels", NAME)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(spec(), indent=1) + "\n", encoding="utf-8")
    return folder


if __name__ == "__main__":
    print(f"talentbrief: kernel {NAME!r} installed in {install()}")
