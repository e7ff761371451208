"""talentbrief: curated figures on China's talent-training programmes, turned into briefings."""

__version__ = "0.1.0"

import sys as _sys

# jsonschema (pulled in by frictionless and nbformat) imports rfc3987_syntax when installed, which
# compiles a grammar at import time (1-3 s per process). We never validate "iri" formats: skip it.
_sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
