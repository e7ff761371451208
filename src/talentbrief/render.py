"""One report, start to finish, in this process: papermill → nbconvert HTML → WeasyPrint PDF.

`run_job(job, root)` needs only the job and the project folder (maybe a dask task's copy); it writes nothing
into reports/."""

from __future__ import annotations

import copy
import functools
import logging
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import nbformat

from talentbrief import engine, fonts, narrative, params, reaper
from talentbrief.jobs import Job, JobFailure, Outputs

TEMPLATE = "talentbrief"
PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLESHEETS = ("base.css", "report.css")  # base: page/type/print (render); report: components (briefing)


def templates_dir(root: Path | None) -> Path:
    """The project's own templates when it has them (so a changed report.css counts), else ours."""
    if root is not None:
        own = Path(root) / "src" / "talentbrief" / "templates"
        if (own / TEMPLATE / "index.html.j2").is_file():
            return own
    return PACKAGE_TEMPLATES


def base_css(root: Path | None = None) -> Path:
    """The stylesheet whose font stacks the page is given (the project's own templates when it has them)."""
    return templates_dir(root) / TEMPLATE / "base.css"


def stylesheets(root: Path | None) -> list[str]:
    folder = templates_dir(root) / TEMPLATE
    return [(folder / name).read_text(encoding="utf-8") for name in STYLESHEETS if (folder / name).is_file()]


# -- metadata ---------------------------------------------------------------------------------------
def report_meta(nb: Any, job: Job) -> dict[str, str]:
    """title, lang, as_of from the header's display metadata (Markdown outputs use the key, not a title)."""
    metas = (o.get("metadata", {}).get("talentbrief") for cell in nb.cells for o in cell.get("outputs", ()))
    found = next((meta for meta in metas if isinstance(meta, dict) and "title" in meta), {})
    params = job.parameters
    return {"title": str(found.get("title") or job.report_id),
            "lang": str(found.get("lang") or params.get("lang") or "en"),
            "as_of": str(found.get("as_of") or params.get("as_of") or "")}


def html_lang(lang: str) -> str:
    """nbconvert and <html lang> get a bare language code: 'zh-CN' → 'zh'."""
    code = lang.replace("_", "-").split("-")[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else "en"


# -- HTML -----------------------------------------------------------------------------------------
@functools.cache
def _exporter(basedir: str, failed: bool, thread: int):
    """nbconvert's exporter, one per thread: outputs only, or (a failed notebook) inputs too."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[basedir], exclude_input=not failed,
                        exclude_input_prompt=not failed, exclude_output_prompt=True, anchor_link_text="")


def _tagged(cell, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", ())


def stable_ids(nb: Any) -> Any:
    """Replace cell ids with their position: papermill gives the injected cell a random one."""
    for i, cell in enumerate(nb.cells):
        if "id" in cell:
            cell["id"] = f"cell-{i}"
    return nb


# Boilerplate of standalone SVG files (matplotlib's) that means nothing inline in HTML5 but puts
# URLs into the page: XML prolog, DOCTYPE, namespace declarations, RDF metadata.
_SVG_BOILERPLATE = re.compile(r"<\?xml[^>]*\?>\s*|(?i:<!DOCTYPE svg[^>]*>\s*)"
                              r'|\s+xmlns(?::xlink)?="http://www\.w3\.org/(?:2000/svg|1999/xlink)"'
                              r"|(?is:<metadata>\s*<rdf:rdf.*?</metadata>\s*)")


def strip_svg_boilerplate(html: str) -> str:
    return _SVG_BOILERPLATE.sub("", html)


def report_view(nb: Any) -> Any:
    """The notebook as readers see it: no stderr (warnings carry kernel temp paths and pids), no cells
    in the other language, no output the page cannot show (`unshown_outputs` reports those)."""
    view = copy.deepcopy(nb)
    view.cells = [c for c in view.cells if not _tagged(c, narrative.OMIT_TAG)]
    for cell in view.cells:
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if _shown(o)]
    return view


def _shown(output) -> bool:
    if output.get("output_type") == "stream":
        return output.get("name") != "stderr"
    if output.get("output_type") in ("display_data", "execute_result"):
        return any(m in output.get("data", {}) for m in SHOWN)
    return True


# What the page template shows (see index.html.j2); an output with none of these is reported, not dropped.
SHOWN = ("text/html", "text/markdown", "image/png", "image/jpeg", "image/svg+xml", "text/plain")
RICH_FALLBACK = re.compile(r"^<(?:Figure size|matplotlib\.|IPython\.core\.display\.)")


def unshown_outputs(nb: Any, notebook: str) -> list[str]:
    """A line per output the page cannot show as JupyterLab does: an unknown type, no alt text, only text."""
    found = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", ()):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            data, meta = output.get("data", {}), output.get("metadata", {})
            shown = [m for m in SHOWN if m in data]
            where = f"{notebook}: cell {_cell_number(nb, i)}"
            if not shown:
                found.append(f"{where}: output of type {', '.join(sorted(data)) or 'none'} cannot be shown; left out")
            elif shown == ["text/plain"] and RICH_FALLBACK.match(str(data["text/plain"])):
                found.append(f"{where}: {str(data['text/plain'])[:60]!r} is shown as text only (display a "
                             "Figure with figures.use_style(lang) set up, or plt.show())")
            elif shown[0] in ("image/png", "image/jpeg") and not str(meta.get(shown[0], {}).get("alt", "")).strip():
                found.append(f"{where}: image without alt text (use figures.describe(fig, alt=...))")
    return found


def export_html(nb: Any, *, title: str, lang: str, as_of: str, root: Path | None = None,
                failed: bool = False) -> str:
    """The report page: outputs only (a failed notebook: inputs too), CSS inline, no URL, notes numbered."""
    from talentbrief import text, trace

    code = html_lang(lang)
    words = code if code in text.LANGS else "en"  # our words' language ("As of ..." in the running header)
    page = {"title": title, "lang": code, "as_of": as_of, "stylesheets": stylesheets(root), "failed": failed,
            "as_of_text": text.plain("as_of", words, date=text.format_date(as_of, words)) if as_of else ""}
    resources = {"metadata": {"name": title}, "talentbrief": page}
    nb = report_view(nb) if not failed else narrative.as_written(copy.deepcopy(nb))
    exporter = _exporter(str(templates_dir(root)), failed, threading.get_ident())
    body, _ = exporter.from_notebook_node(stable_ids(nb), resources)
    body = strip_svg_boilerplate(body)
    # a report's footnotes are numbered here, in page order, whatever order its cells ran in; the
    # failure page shows the notebook as it ran (markers unnumbered, notes hidden beside them)
    return body if failed else trace.assemble_notes(body, words)


def failure_html(executed: bytes, *, title: str) -> bytes:
    """A failed notebook as a page with its code, outputs and traceback, for reports/_failed/."""
    nb = nbformat.reads(executed.decode("utf-8"), as_version=4)
    return export_html(nb, title=title, lang="en", as_of="", failed=True).encode("utf-8")


# -- PDF ------------------------------------------------------------------------------------------
# Slow or wrong fallbacks met in this process (fontTools subsetting, a font stack falling through):
# every job's Outputs carry them and the build warns once, instead of WeasyPrint once per font per report.
FALLBACKS: set[str] = set()
_checked_fonts: set[Path] = set()  # project roots whose font stacks this process checked


def _weasyprint_log(record: logging.LogRecord) -> bool:
    """WeasyPrint's warnings, less noise on matplotlib's SVG styles and the fontTools fallback (FALLBACKS)."""
    if str(record.msg).startswith("Using fontTools instead of HarfBuzz-Subset"):
        FALLBACKS.add(fonts.SLOW_SUBSET)
        return False
    return not str(record.msg).startswith("Ignored `")


@functools.cache
def _font_config(thread: int):
    """WeasyPrint's font configuration, one per thread; the first also filters WeasyPrint's log."""
    from weasyprint.text.fonts import FontConfiguration

    log = logging.getLogger("weasyprint")
    if _weasyprint_log not in log.filters:
        log.addFilter(_weasyprint_log)
    return FontConfiguration()


def html_to_pdf(html: str) -> bytes:
    """A4 PDF of the page; only data: URLs are fetched, so the PDF never touches the network."""
    from weasyprint import HTML, URLFetcher

    document = HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols={"data"}))
    return document.write_pdf(font_config=_font_config(threading.get_ident()))


def warm_up(root: Path | None = None) -> None:
    """Load nbconvert's templates (the project's own), WeasyPrint and the fonts (Latin, CJK) beforehand."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("warm 预热")])
    html_to_pdf(export_html(nb, title="warm", lang="zh", as_of="", root=root))


# -- one job --------------------------------------------------------------------------------------
def _cell_number(nb: Any, index: int) -> int:
    """1-based position of executed cell `index` in the source notebook (minus papermill's cell)."""
    injected = sum(_tagged(c, "injected-parameters") for c in nb.cells[:index])
    return index - injected + 1


def _run_notebook(job: Job, root: Path) -> tuple[Any, bytes]:
    from papermill.exceptions import PapermillExecutionError

    with tempfile.TemporaryDirectory(prefix=engine.scratch_prefix("run")) as tmp:
        out = Path(tmp) / "executed.ipynb"
        lang = str(job.parameters.get("lang") or params.default(root / job.notebook, "lang") or "en")

        def prepare(source: bytes) -> bytes:
            nb = narrative.prepare(nbformat.reads(source.decode("utf-8"), as_version=4), lang)
            return nbformat.writes(nb).encode("utf-8")

        try:
            nb = engine.execute(root / job.notebook, dict(job.parameters), root, out, job.limits, prepare)
        except PapermillExecutionError as e:
            cell, executed = e.cell_index, None
            if out.exists():
                failed_nb = nbformat.read(out, as_version=4)
                # papermill inserts error-marker cells before raising; find the failing cell by index
                failed_nb.cells = [c for c in failed_nb.cells if not _tagged(c, "papermill-error-cell-tag")]
                cell = _cell_number(failed_nb, e.cell_index)
                executed = nbformat.writes(number_as_written(failed_nb)).encode("utf-8")
            message = f"cell {cell} raised {e.ename}: {e.evalue}"
            if e.ename == "MemoryError" and job.limits.max_memory:
                message += f" (over the memory cap of {job.limits.max_memory:g} MB)"
            raise JobFailure(job.report_id, message, cell=cell, executed=executed) from None
        except engine.Aborted as e:
            cell = None if e.cell_index is None else _cell_number(e.nb, e.cell_index)
            executed = nbformat.writes(number_as_written(e.nb)).encode("utf-8")
            where = f"cell {cell}" if cell is not None else "before the first cell"
            raise JobFailure(job.report_id, f"{where}: {e.why}", cell=cell, executed=executed) from None
        except Exception as e:  # kernel died, timeout, bad notebook JSON...
            raise JobFailure(job.report_id, f"execution failed: {type(e).__name__}: {e}") from e
    stable_ids(nb)
    return nb, nbformat.writes(nb).encode("utf-8")


def number_as_written(nb: Any) -> Any:
    """Counts become positions in the analyst's notebook (Markdown counted, papermill's cell not): "cell 9" in
    a message is In [9] on the failure page and in JupyterLab."""
    position = 0
    for cell in nb.cells:
        if _tagged(cell, "injected-parameters"):
            cell["execution_count"] = None
            continue
        position += 1
        if cell.get("cell_type") != "code":
            continue
        count = position if cell.get("execution_count") is not None else None
        cell["execution_count"] = count
        for output in cell.get("outputs", ()):
            if "execution_count" in output:
                output["execution_count"] = count
    return nb


def run_job(job: Job, root: Path) -> Outputs:
    """Execute and render one report; raise JobFailure naming the cell when the notebook raises."""
    root = Path(root).resolve()
    if "pdf" in job.formats and root not in _checked_fonts:
        _checked_fonts.add(root)
        FALLBACKS.update(fonts.fallbacks(base_css(root)))
    started = time.perf_counter()
    try:
        nb, executed = _run_notebook(job, root)
    finally:  # whatever its cells started ends when it finishes or fails
        reaper.end_strays(engine.kernel_pids())
    meta = report_meta(nb, job)
    try:
        html = export_html(nb, root=root, **meta)
        pdf = html_to_pdf(html) if "pdf" in job.formats else None
    except Exception as e:
        raise JobFailure(job.report_id, f"rendering failed: {type(e).__name__}: {e}",
                         executed=executed) from e
    return Outputs(report_id=job.report_id, html=html.encode("utf-8") if "html" in job.formats else None,
                   pdf=pdf, executed=executed, duration_s=round(time.perf_counter() - started, 3),
                   fallbacks=tuple(sorted(FALLBACKS)), unshown=tuple(unshown_outputs(nb, job.notebook)),
                   inputs=engine.inputs(nb), **meta)
