"""The cache key changes exactly when something a report depends on changes."""

from __future__ import annotations

import shutil
from pathlib import Path

from talentbrief import hashing, paths
from talentbrief.catalogue import ReportSpec

HERE = Path(__file__).parent


def setup(project: Path):
    shutil.copy(HERE / "data" / "notebooks" / "hello.ipynb", project / "notebooks" / "hello.ipynb")
    return paths.get(project), ReportSpec(
        "hello-en", "notebooks/hello.ipynb", {"lang": "en", "as_of": "2026-11-01"}
    )


def key(p, spec):
    return hashing.input_hash(p, spec)


def test_components_are_recorded_and_hash_is_stable(project):
    p, spec = setup(project)
    digest, components = key(p, spec)
    assert set(components) == {"notebook", "data", "src", "requirements.lock", "parameters"}
    assert components["notebook"] == hashing.sha256_file(project / "notebooks" / "hello.ipynb")
    assert components["requirements.lock"] == hashing.sha256_file(project / "requirements.lock")
    assert len(digest) == 64 and key(p, spec) == (digest, components)


def test_each_input_changes_the_hash(project):
    p, spec = setup(project)
    base, _ = key(p, spec)
    changed = {}

    nb = project / "notebooks" / "hello.ipynb"
    original = nb.read_bytes()
    nb.write_bytes(original.replace(b"a number shown", b"a count shown"))
    changed["notebook"] = key(p, spec)[0]
    nb.write_bytes(original)

    changed["parameters"] = key(p, ReportSpec(spec.id, spec.notebook, {**spec.parameters, "lang": "zh"}))[0]

    lock = project / "requirements.lock"
    lock.write_text(lock.read_text() + "extra==1.0\n")
    changed["lock"] = key(p, spec)[0]

    new_module = project / "src" / "talentbrief" / "zz_new.py"
    new_module.write_text("X = 1\n")
    changed["src"] = key(p, spec)[0]

    assert all(v != base for v in changed.values()), changed
    assert len(set(changed.values())) == len(changed)


def test_parameter_order_does_not_matter(project):
    p, spec = setup(project)
    flipped = ReportSpec(spec.id, spec.notebook, dict(reversed(list(spec.parameters.items()))))
    assert key(p, spec)[0] == key(p, flipped)[0]


def test_caches_and_other_files_do_not_change_the_src_hash(project):
    p, spec = setup(project)
    base = key(p, spec)[0]
    cache = project / "src" / "talentbrief" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "x.cpython-311.pyc").write_bytes(b"\0junk")
    (project / "src" / "notes.txt").write_text("scratch")
    assert key(p, spec)[0] == base


def test_data_change_changes_the_data_component(project):
    p, spec = setup(project)
    before = key(p, spec)[1]["data"]
    figures = project / "data" / "figures.csv"
    text = figures.read_text(encoding="utf-8")
    assert ",Skilled talents trained," in text
    figures.write_text(text.replace(",Skilled talents trained,", ",Skilled talents trained (revised),", 1))
    assert key(p, spec)[1]["data"] != before
