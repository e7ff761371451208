"""The cache key changes exactly when something a report depends on changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from talentbrief import digests, hashing, load, paths, reads
from talentbrief.catalogue import ReportSpec

pytestmark = pytest.mark.quick  # in `make check`, the quick tier

HERE = Path(__file__).parent
SELECT = {"query": "select", "args": {"as_of": "2026-11-01", "programme": "vocational-skills"}}


def setup(project: Path):
    shutil.copy(HERE / "data" / "notebooks" / "hello.ipynb", project / "notebooks" / "hello.ipynb")
    return paths.get(project), ReportSpec(
        "hello-en", "notebooks/hello.ipynb", {"lang": "en", "as_of": "2026-11-01"}
    )


def built(p, spec):
    """The manifest entry of a run that read one selection (as the kernel records it)."""
    seen = {**SELECT, "sha256": reads.current(SELECT, p.root, lambda r: hashing.read_digest(r, load.load(p.root)))}
    inputs = {"notebook": digests.sha256_file(p.root / spec.notebook), "data": [seen]}
    digest, components, recorded = hashing.recorded_key(hashing.Context(p).static(spec), inputs)
    return {"input_sha256": digest, "inputs": components, "reads": recorded}


def key(p, spec, entry):
    return hashing.current_key(spec, entry, hashing.Context(p))


def test_components_are_recorded_and_the_current_key_matches(project):
    p, spec = setup(project)
    entry = built(p, spec)
    components = entry["inputs"]
    assert set(components) == {"notebook", "data", "src", "requirements.lock", "parameters"}
    assert components["notebook"] == digests.sha256_file(project / "notebooks" / "hello.ipynb")
    assert components["requirements.lock"] == digests.sha256_file(project / "requirements.lock")
    assert len(entry["input_sha256"]) == 64 and key(p, spec, entry) == entry["input_sha256"]


def test_each_input_changes_the_hash(project):
    p, spec = setup(project)
    entry = built(p, spec)
    base = key(p, spec, entry)
    changed = {}

    nb = project / "notebooks" / "hello.ipynb"
    original = nb.read_bytes()
    nb.write_bytes(original.replace(b"a number shown", b"a count shown"))
    changed["notebook"] = key(p, spec, entry)
    nb.write_bytes(original)

    other = ReportSpec(spec.id, spec.notebook, {**spec.parameters, "lang": "zh"})
    changed["parameters"] = key(p, other, entry)

    lock = project / "requirements.lock"
    lock.write_text(lock.read_text() + "extra==1.0\n")
    changed["lock"] = key(p, spec, entry)

    new_module = project / "src" / "talentbrief" / "zz_new.py"  # imported by nothing: no report can run it
    new_module.write_text("X = 1\n")
    assert key(p, spec, entry) == changed["lock"]
    words = project / "src" / "talentbrief" / "text.py"  # the report side
    words.write_text(words.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    changed["src"] = key(p, spec, entry)
    (project / "src" / "helper.py").write_text("Y = 2\n")  # a module of the analysts' own beside figures.py
    changed["src, own module"] = key(p, spec, entry)

    figures = project / "data" / "figures.csv"
    text = figures.read_text(encoding="utf-8")
    assert ",Skilled workers trained," in text  # a vocational-skills row: inside the selection
    figures.write_text(text.replace(",Skilled workers trained,", ",Skilled workers trained (revised),", 1))
    changed["data"] = key(p, spec, entry)

    assert all(v != base for v in changed.values()), changed
    assert len(set(changed.values())) == len(changed)


def test_a_row_outside_what_was_read_does_not_change_the_hash(project):
    p, spec = setup(project)
    entry = built(p, spec)
    figures = project / "data" / "figures.csv"
    text = figures.read_text(encoding="utf-8")
    assert ",Exam passes," in text  # software-exams: not read by a vocational-skills selection
    figures.write_text(text.replace(",Exam passes,", ",Exam passes (revised),", 1), encoding="utf-8")
    assert key(p, spec, entry) == entry["input_sha256"]


def test_parameter_order_does_not_matter(project):
    p, spec = setup(project)
    entry = built(p, spec)
    flipped = ReportSpec(spec.id, spec.notebook, dict(reversed(list(spec.parameters.items()))))
    assert key(p, spec, entry) == key(p, flipped, entry)


def test_caches_do_not_change_the_src_hash_but_other_files_do(project):
    p, spec = setup(project)
    entry = built(p, spec)
    base = key(p, spec, entry)
    cache = project / "src" / "talentbrief" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "x.cpython-311.pyc").write_bytes(b"\0junk")
    (project / "src" / "talentbrief.egg-info").mkdir(exist_ok=True)
    (project / "src" / "talentbrief.egg-info" / "PKG-INFO").write_text("Name: talentbrief\n")
    assert key(p, spec, entry) == base
    (project / "src" / "talentbrief" / "templates" / "logo.svg").write_text("<svg/>")
    assert key(p, spec, entry) != base  # any file under src/ may be read by the code: it counts


def test_a_run_that_recorded_nothing_is_never_up_to_date(project):
    p, spec = setup(project)
    digest, components, recorded = hashing.recorded_key(hashing.Context(p).static(spec), None)
    assert digest is None and recorded is None and "data" not in components
    assert key(p, spec, {"input_sha256": None, "reads": None}) is None
