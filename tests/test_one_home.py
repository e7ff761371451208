"""One home for every sentence: no sentence of eight or more words is both in src/ and in a notebook.

A sentence that lives twice drifts: fixing one copy leaves the other stale. Words a report prints come
either from a notebook (its narrative, titles, captions) or from the library and the files beside the
data, never from both. Chinese has no spaces, so each Han character counts as a word.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MIN_WORDS = 8
_TOKEN = re.compile(r"[A-Za-z0-9’'-]+|[\u4e00-\u9fff]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；;])")

pytestmark = pytest.mark.quick


def sentences(text: str) -> set[tuple[str, ...]]:
    """The sentences of a text as lower-case word tuples, those of at least MIN_WORDS words only."""
    text = re.sub(r"\{[a-z]+\}`[^`]*`|\{[\w.]*\}", " ", text)  # roles and placeholders are not words
    found = set()
    for part in _SENTENCE_END.split(text):
        words = tuple(w.lower() for w in _TOKEN.findall(part))
        if len(words) >= MIN_WORDS:
            found.add(words)
    return found


def _strings(source: str) -> list[str]:
    return [n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def library_sentences(root: Path) -> dict[tuple[str, ...], str]:
    """Sentence → the src/ file it is in: Python string literals and template text."""
    found = {}
    for path in sorted((root / "src").rglob("*")):
        if path.suffix == ".py":
            texts = _strings(path.read_text(encoding="utf-8"))
        elif path.suffix in (".j2", ".yml", ".yaml", ".json", ".txt"):
            texts = [path.read_text(encoding="utf-8")]
        else:
            continue
        for text in texts:
            for sentence in sentences(text):
                found.setdefault(sentence, str(path.relative_to(root)))
    return found


def notebook_sentences(root: Path) -> dict[tuple[str, ...], str]:
    """Sentence → "notebook: cell N": Markdown cells, and the string literals of code cells."""
    found = {}
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        for n, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"], start=1):
            source = "".join(cell["source"])
            texts = [source] if cell["cell_type"] == "markdown" else _strings(source)
            for text in texts:
                for sentence in sentences(text):
                    found.setdefault(sentence, f"{path.relative_to(root)}: cell {n}")
    return found


def twice(root: Path) -> list[str]:
    library = library_sentences(root)
    return [f"{where} and {library[s]}: {' '.join(s)!r}" for s, where in notebook_sentences(root).items()
            if s in library]


def test_no_sentence_is_both_in_src_and_in_a_notebook():
    assert twice(ROOT) == []


def test_a_sentence_copied_from_src_into_a_notebook_is_found(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "src" / "words.py").write_text(
        'CAVEAT = ("Person-times count every training attended, so a person trained twice counts twice. "\n'
        '          "短句。人次按参加培训的次数计算，同一人参加两次计为两人次。")\n', encoding="utf-8")
    cells = [{"cell_type": "markdown", "source": ["Intro.\n", ("Person-times count every training attended, so a "
                                                  "person trained twice counts twice.\n")]},
             {"cell_type": "code", "source": ['title = {"zh": "人次按参加培训的次数计算，同一人参加两次计为两人次。"}']},
             {"cell_type": "markdown", "source": ["短句。"]}]
    (tmp_path / "notebooks" / "nb.ipynb").write_text(json.dumps({"cells": cells}), encoding="utf-8")
    found = twice(tmp_path)
    assert len(found) == 2
    assert found[0].startswith("notebooks/nb.ipynb: cell 1 and src/words.py: 'person-times count every")
    assert found[1].startswith("notebooks/nb.ipynb: cell 2 and src/words.py")
