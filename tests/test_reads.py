"""A report is keyed on what its run read (talentbrief.reads): real kernels, real builds.

Each of these failed before reads were recorded: the build then keyed a report on the rows
`scope.select` declares for its parameters, hashed before it took the lock.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest

from talentbrief import digests, paths, reads, store
from tests.support.project import rewrite_csv, run_cli

PROGRAMME = "programme-knowledge-update-en"


def add_cell(root, code: str, notebook: str = "programme.ipynb") -> None:
    path = root / "notebooks" / notebook
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(nb, path)


def set_cell(root, table: str, key: str, row_id: str, column: str, value: str) -> None:
    def change(rows):
        (row,) = [r for r in rows if r[key] == row_id]
        row[column] = value

    rewrite_csv(root / "data" / table, change)


def build(root, *ids: str) -> str:
    result = run_cli(root, "build", *ids, "--executor", "local")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def html(root, report_id: str) -> str:
    return (root / "reports" / f"{report_id}.html").read_text(encoding="utf-8")


def reads_of(root, report_id: str) -> list[dict]:
    manifest = json.loads((root / "reports" / "manifest.json").read_text(encoding="utf-8"))
    return manifest["reports"][report_id]["reads"]


def test_the_kernel_records_each_kind_of_read(project, tmp_path):
    """Loader queries and whole tables, a direct open, a listing; not the loader's own opens."""
    record = tmp_path / "reads.jsonl"
    script = textwrap.dedent(
        """
        import glob, sys
        import pandas as pd
        from talentbrief import reads
        reads.install()
        from talentbrief import load, scope
        tables = load.load()
        scope.select(tables, as_of="2026-11-01", programme="software-exams").figures
        tables.sources
        pd.read_csv("../data/programmes.csv")
        glob.glob("../data/*.csv")
        print(repr(reads.collect(sys.argv[1])))
        """
    )
    env = {"TALENTBRIEF_ROOT": str(project), "TALENTBRIEF_READS": str(record), "PYTHONPATH": str(project / "src")}
    out = subprocess.run(
        [sys.executable, "-c", script, str(record)], cwd=project / "notebooks", env=env,
        capture_output=True, text=True, check=True,
    ).stdout
    recorded = ast.literal_eval(out)
    kinds = sorted(tuple(k for k in r if k != "sha256") for r in recorded)
    assert kinds == [("args", "query"), ("dir",), ("file",), ("table",)], recorded
    by_kind = {next(k for k in r if k not in ("sha256", "args")): r for r in recorded}
    assert by_kind["query"]["args"] == {"as_of": "2026-11-01", "programme": "software-exams"}
    assert by_kind["table"]["table"] == "sources"
    assert by_kind["file"]["file"] == "data/programmes.csv"  # figures.csv was read by the loader only
    assert by_kind["dir"]["dir"] == "data"
    assert all(len(r["sha256"]) == 64 for r in recorded)


# (cell added to the programme notebook, the row it reads: table, key, id, column, new value, the read)
OUT_OF_SCOPE = {
    # issue 13's case: a figure of another programme, read through load.load()
    "whole table": (
        "from talentbrief import load\nt = load.load()\nprint(t.figures.set_index('figure_id').loc['chemnews22-exam-passes', 'label_en'])",
        ("figures.csv", "figure_id", "chemnews22-exam-passes", "label_en", "Exam passes (revised)"),
        {"table": "figures"},
    ),
    # a direct read of a CSV file
    "csv file": (
        "import pandas as pd\n"
        + "print(pd.read_csv('../data/programmes.csv').set_index('programme_id').loc['software-exams', 'name_en'])",
        ("programmes.csv", "programme_id", "software-exams", "name_en", "Software exams (renamed)"),
        {"file": "data/programmes.csv"},
    ),
}


@pytest.mark.parametrize("case", OUT_OF_SCOPE, ids=list(OUT_OF_SCOPE))
def test_a_row_read_outside_the_selection_rebuilds_the_report(project, case):
    code, (table, key, row_id, column, value), read = OUT_OF_SCOPE[case]
    add_cell(project, code)
    build(project, PROGRAMME)
    assert any(read.items() <= r.items() for r in reads_of(project, PROGRAMME))
    set_cell(project, table, key, row_id, column, value)
    assert "1 built, 0 up to date" in build(project, PROGRAMME)
    assert value in html(project, PROGRAMME)


def test_one_edited_row_rebuilds_exactly_the_reports_that_read_it(built_project, tmp_path):
    """The 6 of 22 catalogue reports whose selection holds the row, plus one that read it out of scope."""
    root = tmp_path / "project"
    shutil.copytree(built_project, root)
    shutil.copy(root / "notebooks" / "programme.ipynb", root / "notebooks" / "reader.ipynb")
    add_cell(root, "from talentbrief import load\nprint(load.load().figures.set_index('figure_id').loc['chemnews22-exam-passes', 'value'])",
             "reader.ipynb")
    entry = "\n  - id: reader\n    notebook: notebooks/reader.ipynb\n"
    entry += "    parameters: {lang: en, programme: knowledge-update}\n"  # its selection lacks the row
    catalogue = root / "reports.yml"
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + entry, encoding="utf-8")
    assert "1 built, 22 up to date" in build(root)
    set_cell(root, "figures.csv", "figure_id", "chemnews22-exam-passes", "note", "Edited note.")
    out = build(root)
    rebuilt = sorted(line.split()[0] for line in out.splitlines() if "  built  " in line)
    assert rebuilt == sorted([
        "overview-en", "overview-zh", "audit-en", "audit-zh",
        "programme-software-exams-en", "programme-software-exams-zh", "reader",
    ]), out
    assert "7 built, 16 up to date" in out


def test_a_build_that_waited_for_the_lock_records_the_data_it_ran_on(project):
    """Issue 16, defect 3: edit while a build waits, revert after it ran: the report is stale."""
    figures = project / "data" / "figures.csv"
    original = figures.read_bytes()
    row = "chemnews22-knowledge-update-participants"
    with store.build_lock(paths.get(project), wait=False):
        waiting = subprocess.Popen(
            [sys.executable, "-m", "talentbrief", "--root", str(project), "build", PROGRAMME, "--wait",
             "--executor", "local"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=project,
        )
        assert "waiting" in waiting.stderr.readline()
        set_cell(project, "figures.csv", "figure_id", row, "label_en", "Participants (edited while waiting)")
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, out + err
    assert "Participants (edited while waiting)" in html(project, PROGRAMME)
    figures.write_bytes(original)
    assert "1 built, 0 up to date" in build(project, PROGRAMME)
    assert "Participants (edited while waiting)" not in html(project, PROGRAMME)


# --- issue 23: any file of the project, wherever it lives ------------------------------------------

# (file relative to the project, first content, edited content, what the report prints of it)
PROJECT_FILES = {
    "helper module": ("notebooks/helper_mod.py", "VALUE = 'one'\n", "VALUE = 'two'\n", "HELPER {}"),
    "subfolder module": ("notebooks/lib/subfolder_mod.py", "VALUE = 'sub1'\n", "VALUE = 'sub2'\n", "SUB {}"),
    "root module": ("root_mod.py", "VALUE = 'root1'\n", "VALUE = 'root2'\n", "ROOT {}"),
    "open": ("notebooks/extra.txt", "first\n", "second\n", "EXTRA {}"),
    "pathlib": ("notebooks/lookup.txt", "alpha\n", "beta\n", "PATHLIB {}"),
    "pandas.read_csv": ("notebooks/table.csv", "v\n101\n", "v\n202\n", "PANDAS {}"),
    "symlink in data/": ("notebooks/linked_target.txt", "target1\n", "target2\n", "LINK {}"),
}
READ_CELL = """
import pathlib, sys
import pandas as pd
sys.path.insert(0, "..")
import helper_mod, root_mod
from lib import subfolder_mod
print("HELPER", helper_mod.VALUE)
print("SUB", subfolder_mod.VALUE)
print("ROOT", root_mod.VALUE)
print("EXTRA", open("extra.txt").read().strip())
print("PATHLIB", pathlib.Path("lookup.txt").read_text().strip())
print("PANDAS", pd.read_csv("table.csv")["v"][0])
print("LINK", open("../data/linked.txt").read().strip())
"""


def value_of(content: str) -> str:
    return content.strip().removeprefix("VALUE = ").strip("'").removeprefix("v\n")


def test_an_edit_to_any_project_file_a_report_read_rebuilds_it_and_no_other_edit_does(project):
    """Issue 23's reproductions and the ways an analyst reads a file; then files nobody read."""
    for name, first, _, _ in PROJECT_FILES.values():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(first, encoding="utf-8")
    (project / "data" / "linked.txt").symlink_to(project / "notebooks" / "linked_target.txt")
    (project / "notebooks" / "unread.txt").write_text("nobody reads this\n", encoding="utf-8")
    add_cell(project, READ_CELL, "overview.ipynb")
    assert "1 built, 0 up to date" in build(project, "overview-en")
    for case, (name, first, edited, shown) in PROJECT_FILES.items():
        assert shown.format(value_of(first)) in html(project, "overview-en"), case
        (project / name).write_text(edited, encoding="utf-8")
        assert "1 built, 0 up to date" in build(project, "overview-en"), case
        assert shown.format(value_of(edited)) in html(project, "overview-en"), case
    assert "0 built, 1 up to date" in build(project, "overview-en")
    for unread in ("notebooks/unread.txt", "unread_at_root.txt", "notebooks/lib/unread.py"):
        (project / unread).write_text("edited, still unread\n", encoding="utf-8")
        assert "0 built, 1 up to date" in build(project, "overview-en"), unread


def test_the_kernel_records_reads_anywhere_in_the_project_and_nothing_else(project, tmp_path):
    """Files by path as opened, absent files, module sources (also from bytecode); not writes, not src/,
    not files outside the project, not the import system's listings; a subprocess keys conservatively."""
    (project / "notebooks" / "lib").mkdir()
    (project / "notebooks" / "helper_mod.py").write_text("VALUE = 1\n", encoding="utf-8")
    (project / "notebooks" / "lib" / "subfolder_mod.py").write_text("VALUE = 2\n", encoding="utf-8")
    (project / "notebooks" / "table.csv").write_text("v\n1\n", encoding="utf-8")
    (project / "data" / "linked.csv").symlink_to(project / "notebooks" / "table.csv")
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours\n", encoding="utf-8")
    record = tmp_path / "reads.jsonl"
    script = textwrap.dedent(
        f"""
        import pathlib, subprocess, sys
        import pandas as pd
        from talentbrief import reads
        reads.install()
        import helper_mod
        from lib import subfolder_mod
        import figures
        pd.read_csv("../data/linked.csv")
        pathlib.Path("table.csv").read_text()
        try:
            open("missing.txt")
        except FileNotFoundError:
            pass
        open("written.txt", "w").write("x")
        open({str(outside)!r}).read()
        print(repr(reads.collect(sys.argv[1])))
        if len(sys.argv) > 2:
            subprocess.run(["true"])
            print(repr(reads.collect(sys.argv[1])))
        """
    )
    env = {"TALENTBRIEF_ROOT": str(project), "TALENTBRIEF_READS": str(record),
           "PYTHONPATH": str(project / "src"), "PATH": "/usr/bin:/bin"}

    def run(*extra: str) -> list:
        out = subprocess.run(
            [sys.executable, "-c", script, str(record), *extra], cwd=project / "notebooks", env=env,
            capture_output=True, text=True, check=True,
        ).stdout
        return [ast.literal_eval(line) for line in out.splitlines()]

    first = run()[0]  # the modules compiled from source here; the second run loads their bytecode
    (second, with_subprocess) = run("subprocess")
    expected = {
        "data/linked.csv": reads.current({"file": "data/linked.csv"}, project, None),
        "notebooks/helper_mod.py": None, "notebooks/lib/subfolder_mod.py": None,
        "notebooks/table.csv": None, "notebooks/missing.txt": reads.ABSENT,
    }
    for recorded in (first, second):
        files = {r["file"]: r["sha256"] for r in recorded}
        assert sorted(files) == sorted(expected), recorded
        assert files["data/linked.csv"] == files["notebooks/table.csv"] == expected["data/linked.csv"]
        assert files["notebooks/missing.txt"] == reads.ABSENT
        assert all(len(files[f]) == 64 for f in expected if f != "notebooks/missing.txt")
    assert [r for r in with_subprocess if "file" not in r] == [
        {**reads.CONSERVATIVE, "sha256": digests.conservative_hash(project)}
    ]


def test_a_manifest_read_never_reaches_outside_the_project(project, tmp_path):
    (tmp_path / "secret.txt").write_text("x", encoding="utf-8")
    for bad in ("../secret.txt", str(tmp_path / "secret.txt"), "", "data/../../secret.txt"):
        assert reads.current({"file": bad}, project, None) is None, bad
        assert reads.current({"dir": bad}, project, None) is None, bad
    assert reads.current({"file": "notebooks/none.txt"}, project, None) == reads.ABSENT
    assert reads.current({"dir": "notebooks"}, project, None) == digests.tree_hash(project / "notebooks")
