"""Run inside the warm kernel: `baseline` once after it starts, `reset` before every notebook. The engine
sends this file's source, so it imports nothing of ours: any project's kernel can run it."""

import contextlib
import gc
import importlib
import importlib.util
import os
import sys
import types
import warnings


def baseline(preload: tuple[str, ...], root: str, max_memory: int | None) -> None:
    """Import the heavy libraries, then keep the state `reset` restores in a module of its own
    (sys.modules survives %reset)."""
    sys.modules.setdefault("rfc3987_syntax", None)  # as talentbrief/__init__ does: 1-3 s we never need
    for name in preload:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    base = types.ModuleType("_talentbrief_baseline")
    base.root, base.roots = root, {root}
    base.sys_path, base.environ, base.warnings = list(sys.path), dict(os.environ), list(warnings.filters)
    sys.modules[base.__name__] = base
    if max_memory:  # after the imports, so the cap only bounds what notebooks allocate
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    gc.collect()
    gc.freeze()  # long-lived: later collections (every %reset runs one) skip what was imported above


def reset(root: str, reads: str) -> None:
    """Make the kernel what a fresh one started for `root` would be, charts set up as engine.INLINE_SETUP
    does; record what the next notebook reads in the file `reads`."""
    from IPython import get_ipython

    base = sys.modules["_talentbrief_baseline"]
    ip = get_ipython()
    ip.reset(new_session=False)  # what %reset -f does, minus a second full gc pass
    ip.execution_count = 1
    base.roots.add(root)  # every project this kernel served: their modules must all go
    prefixes = {sys.prefix, sys.exec_prefix, sys.base_prefix}
    installed = tuple({os.path.join(q, "") for p in prefixes for q in (p, os.path.realpath(p))})
    project = tuple(os.path.join(r, "") for r in base.roots)
    src_dirs = tuple(os.path.join(r, "src", "") for r in base.roots)
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if not file.startswith(project) or file.startswith(installed):
            continue  # only src/, a helper beside the notebooks, ...; not a venv kept in the project
        del sys.modules[name]
        if not file.startswith(src_dirs):  # a helper saved twice in a second at one size: its stale
            with contextlib.suppress(OSError, ValueError, NotImplementedError):  # bytecode would win
                os.unlink(importlib.util.cache_from_source(file))

    def reroot(p: str) -> str:
        return root + p[len(base.root):] if p == base.root or p.startswith(base.root + os.sep) else p

    sys.path[:] = [reroot(p) for p in base.sys_path]
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    os.environ.clear()
    os.environ.update(base.environ, TALENTBRIEF_ROOT=root, TALENTBRIEF_READS=reads)
    if "_talentbrief_reads" in sys.modules:  # else (a project without talentbrief.reads) nothing is recorded
        sys.modules["_talentbrief_reads"].begin()
    python_path = base.environ["PYTHONPATH"].split(os.pathsep)
    os.environ["PYTHONPATH"] = os.pathsep.join(reroot(p) for p in python_path)
    os.chdir(os.path.join(root, "notebooks"))
    warnings.filters[:] = base.warnings
    warnings._filters_mutated()
    if "matplotlib" in sys.modules:
        import matplotlib.pyplot

        matplotlib.pyplot.close("all")
        matplotlib.rc_file_defaults()
    if "pandas" in sys.modules:
        import pandas

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pandas.reset_option("all")
    if importlib.util.find_spec("figures") is not None:
        import figures

        figures.setup_inline()
