"""Writes the fixture notebooks for tests/test_render.py, test_engine.py, test_executor.py.

Run it after editing (`.venv/bin/python tests/data/render/make_fixtures.py`); the .ipynb files are
committed so the tests read exactly what is reviewed here.
"""

import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

CHART = """\
import io

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import HTML, Image, display

display(
    HTML(f"<h1>{title}</h1><p class='as-of'>{as_of}</p>"),
    metadata={"talentbrief": {"title": title, "lang": lang, "as_of": as_of}},
)
"""

PLOT = """\
matplotlib.rcParams["svg.hashsalt"] = "talentbrief"
matplotlib.rcParams["font.family"] = ["Noto Sans CJK SC", "DejaVu Sans"]
df = pd.DataFrame({"year": [2019, 2020, 2021, 2022], "value": [3, 5, 4, 7 + offset]})
fig, ax = plt.subplots(figsize=(5, 2.5))
sns.barplot(data=df, x="year", y="value", ax=ax, color="#1f5f8b")
ax.set_title(title)
svg = io.StringIO()
fig.savefig(svg, format="svg", metadata={"Date": None})
png = io.BytesIO()
fig.savefig(png, format="png", dpi=60, metadata={"Software": None})
plt.close(fig)
display(HTML(f"<figure class='tb-chart'>{svg.getvalue()}</figure>"))
display(Image(png.getvalue()))
"""

TABLE = """\
print("total", int(df["value"].sum()))
df.set_index("year")
"""


def chart(title="Programme overview", lang="en", as_of="2024-06-30"):
    params = new_code_cell(
        f"title = {json.dumps(title, ensure_ascii=False)}\nlang = {json.dumps(lang)}\n"
        f"as_of = {json.dumps(as_of)}\noffset = 0"
    )
    params.metadata["tags"] = ["parameters"]
    return new_notebook(
        cells=[
            new_markdown_cell("# Fixture: a chart\nThis markdown stays in the report."),
            params,
            new_code_cell(CHART),
            new_code_cell(PLOT),
            new_code_cell(TABLE),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def failing():
    nb = chart(title="Failing")
    nb.cells.insert(4, new_code_cell('raise ValueError("programme total does not add up")'))
    return nb


def leak():
    """Notebook A: changes everything a later notebook could notice."""
    return new_notebook(
        cells=[
            new_code_cell("""\
import os
import sys
import warnings

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import tbprobe

leaked = 42
tbprobe.STATE.append("dirty")
matplotlib.rcParams["font.size"] = 31
pd.set_option("display.max_rows", 3)
plt.figure()
os.environ["TB_LEAK"] = "1"
sys.path.append("/leaked")
warnings.simplefilter("error")
os.chdir("/")
print("A ran")
""")
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def probe():
    """Notebook B: reports what it can see of the kernel's state."""
    params = new_code_cell('label = "probe"')
    params.metadata["tags"] = ["parameters"]
    return new_notebook(
        cells=[
            params,
            new_code_cell("""\
import os
import sys
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import tbprobe

state = {
    "label": label,
    "leaked": "leaked" in globals(),
    "tbprobe": list(tbprobe.STATE),
    "font.size": matplotlib.rcParams["font.size"],
    "max_rows": pd.get_option("display.max_rows"),
    "figures": len(plt.get_fignums()),
    "TB_LEAK": os.environ.get("TB_LEAK"),
    "leaked_path": "/leaked" in sys.path,
    "warnings": [(f[0], f[2].__name__) for f in warnings.filters],
    "cwd": os.path.relpath(os.getcwd(), os.environ["TALENTBRIEF_ROOT"]),
    "src_first": Path(tbprobe.__file__).parent == Path(os.environ["TALENTBRIEF_ROOT"]) / "src",
    "mpl_backend": matplotlib.get_backend(),
    "hashseed": os.environ.get("PYTHONHASHSEED"),
    "hash": hash("talentbrief"),
}
print(sorted(state.items()))
"""),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def killer():
    """Kills the process that started its kernel: a worker dying mid-report."""
    return new_notebook(
        cells=[new_code_cell("import os\nimport signal\n\nos.kill(os.getppid(), signal.SIGKILL)")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def hog():
    """Runs into a limit, by `mode`: sleeps (timeout), prints 5 MB, reserves 2 GB (untouched), dies."""
    params = new_code_cell('mode = "sleep"  # one of: sleep, print, alloc, die')
    params.metadata["tags"] = ["parameters"]
    return new_notebook(
        cells=[
            new_markdown_cell("A notebook that runs into the build's limits."),
            params,
            new_code_cell(
                """
import os
import signal
import time

import numpy as np

if mode == "sleep":
    for _ in range(120):
        time.sleep(0.5)
elif mode == "print":
    for _ in range(50):
        print("x" * 100_000)
elif mode == "alloc":
    block = np.empty(2 * 1024**3, dtype=np.uint8)
elif mode == "die":
    os.kill(os.getpid(), signal.SIGKILL)
"""
            ),
            new_code_cell('print("after")'),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


if __name__ == "__main__":
    for name, nb in {
        "chart": chart(),
        "failing": failing(),
        "leak": leak(),
        "probe": probe(),
        "killer": killer(),
        "hog": hog(),
    }.items():
        nbformat.validate(nb)
        for i, cell in enumerate(nb.cells):
            cell.id = f"{name}-{i}"
            cell.source = cell.source.strip()
        nbformat.write(nb, HERE / f"{name}.ipynb")
    (HERE / "tbprobe.py").write_text(
        '"""A project module: its state must not survive between reports."""\n\nSTATE = []\n'
    )
