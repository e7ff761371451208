# JupyterLab for this project (`make lab` passes it with --config): the whole project is the
# workspace, the notebooks open first, and notebooks are saved without outputs (talentbrief.lab).
# jupyterlab-myst renders {eval} in Markdown cells; jupyterlab-celltagsclasses and talentbrief.lab's
# custom.css label the lang-en / lang-zh cells (docs/authoring.md, "In JupyterLab").
from pathlib import Path

c = get_config()  # noqa: F821  (Jupyter's config loader defines it)
c.ServerApp.root_dir = str(Path(__file__).resolve().parent)
c.ServerApp.ip = "127.0.0.1"
c.LabApp.default_url = "/lab/tree/notebooks"
c.FileContentsManager.pre_save_hook = "talentbrief.lab.strip_on_save"
c.ServerApp.jpserver_extensions.update({"talentbrief.lab": True})  # serves src/talentbrief/templates/lab/custom.css
c.LabApp.custom_css = True
c.ServerApp.allow_root = True  # CI and containers run as root; the server only listens on 127.0.0.1, with a token
