#!/usr/bin/env bash
# Installs the Debian packages a target needs, or says exactly which are missing.
#   usage: scripts/bootstrap-system.sh reports|test
# Each need is checked by what the code uses (a program that runs, a library the loader finds and
# that has the symbol or version WeasyPrint asks for, a family fontconfig resolves to itself), not by
# package name, and checked again after installing.
# reports: make, python3 with venv; Pango (WeasyPrint's layout), HarfBuzz-subset >= 4.1 (fast font
#          subsetting), fontconfig with "Noto Sans" (English, regular and bold), "Noto Sans CJK SC"
#          (Chinese, regular and bold) and "DejaVu Sans Mono" (code in failure pages).
# test:    the above plus Chromium (browser tests), libatomic (the Node.js driver Playwright's Python
#          package runs: without it every browser test dies with "libatomic.so.1: cannot open") and
#          poppler-utils (pdffonts, pdftoppm), and git (the hygiene tests read what is committed).
set -euo pipefail
target=${1:-test}
case "$target" in reports|test) ;; *) echo "usage: $0 reports|test" >&2; exit 2 ;; esac

# family "fontconfig resolves it to itself", regular and bold
resolves() {
  local family=$1 got
  command -v fc-match >/dev/null 2>&1 || return 1
  for style in regular bold; do
    got=$(fc-match -f '%{family}\n' "$family:$style" 2>/dev/null) || return 1
    # fc-match lists every name of the face it picked, comma separated
    tr ',' '\n' <<<"$got" | grep -qxF "$family" || return 1
  done
}

# the library loads and has what WeasyPrint checks for (hb_version_atleast(4, 1, 0) and hb_subset)
harfbuzz_subset_ok() {
  command -v python3 >/dev/null 2>&1 || return 1
  python3 - <<'EOF' 2>/dev/null
import ctypes
hb = ctypes.CDLL("libharfbuzz.so.0")
subset = ctypes.CDLL("libharfbuzz-subset.so.0")
subset.hb_subset_or_fail  # AttributeError when the symbol is missing
raise SystemExit(0 if hb.hb_version_atleast(4, 1, 0) else 1)
EOF
}

loads() {  # a shared library the dynamic loader can open
  command -v python3 >/dev/null 2>&1 && python3 -c "import ctypes; ctypes.CDLL('$1')" 2>/dev/null
}

missing() {
  local need=()
  command -v make >/dev/null 2>&1 || need+=(make)
  python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3 python3-venv)
  loads libpango-1.0.so.0 && loads libpangoft2-1.0.so.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
  harfbuzz_subset_ok || need+=(libharfbuzz-subset0)
  command -v fc-match >/dev/null 2>&1 || need+=(fontconfig)
  resolves "Noto Sans" || need+=(fonts-noto-core)
  resolves "Noto Sans CJK SC" || need+=(fonts-noto-cjk)
  resolves "DejaVu Sans Mono" || need+=(fonts-dejavu-core)
  if [ "$target" = test ]; then
    /usr/bin/chromium --version >/dev/null 2>&1 || need+=(chromium)
    loads libatomic.so.1 || need+=(libatomic1)
    command -v git >/dev/null 2>&1 || need+=(git)  # the hygiene tests ask git what is committed
    command -v pdffonts >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
  fi
  echo "${need[*]}"
}

need=$(missing)
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: missing system packages; install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends $need" >&2
  exit 1
fi
echo "bootstrap: installing $need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # word splitting wanted: one package per word
apt-get install -y -qq --no-install-recommends $need >/dev/null
fc-cache -f >/dev/null 2>&1 || true
still=$(missing)
if [ -n "$still" ]; then
  echo "bootstrap: still missing after installing: $still" >&2
  exit 1
fi
