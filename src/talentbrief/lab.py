"""JupyterLab as the analyst's workspace (`make lab`): notebooks are saved as they are committed.

Otherwise a save after Run All writes every output (PNGs: hundreds of KB) and per-run metadata into
tracked files; `jupyter_lab_config.py` makes `strip_on_save` (nbstripout) the pre-save hook.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"

# Per-run metadata JupyterLab and its extensions write; jupyterlab-myst's `user_expressions` hold a Markdown
# cell's evaluated {eval} expressions (a figure's cited HTML): outputs in all but name.
EXTRA_KEYS = ["metadata.signature", "metadata.widgets", "cell.metadata.collapsed", "cell.metadata.scrolled",
              "cell.metadata.ExecuteTime", "cell.metadata.execution", "cell.metadata.heading_collapsed",
              "cell.metadata.hidden", "cell.metadata.jupyter", "cell.metadata.user_expressions"]


def strip(content: dict) -> dict:
    """A notebook's JSON as committed: no outputs, no counts, no per-run metadata, cell ids kept."""
    import nbformat
    from nbstripout import strip_output

    nb = strip_output(nbformat.from_dict(content), keep_output=False, keep_count=False, keep_id=True,
                      extra_keys=EXTRA_KEYS)
    info = nb.metadata.get("language_info")
    if info:  # the kernel's version and CodeMirror mode change with every machine
        nb.metadata["language_info"] = {"name": info.get("name", "python")}
    return nb


def strip_on_save(model: dict, **_) -> None:
    """Jupyter's pre-save hook (`FileContentsManager.pre_save_hook`): strip notebooks in place."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        model["content"] = strip(model["content"])


def _jupyter_server_extension_points():
    return [{"module": "talentbrief.lab"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Put the project's custom.css (and, for its @import, the report's stylesheet) first in
    `static_custom_path`, the list the /custom/ handler reads at each request (not configurable)."""
    paths = serverapp.web_app.settings["static_custom_path"]
    paths[:0] = [str(TEMPLATES / "lab"), str(TEMPLATES / "talentbrief")]
