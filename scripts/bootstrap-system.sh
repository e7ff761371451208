#!/usr/bin/env bash
# Installs the Debian packages a target needs, or says exactly which are missing.
#   usage: scripts/bootstrap-system.sh reports|test
# reports: a CJK font (fonts-noto-cjk) and Pango (WeasyPrint's text layout).
# test:    the above plus Chromium (browser tests) and poppler-utils (pdffonts, pdftoppm).
set -euo pipefail
target=${1:-test}
need=()
fc-list :lang=zh 2>/dev/null | grep -qi 'noto' || need+=(fonts-noto-cjk fontconfig)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0' || need+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ "$target" = test ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v pdffonts >/dev/null 2>&1 || need+=(poppler-utils)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "bootstrap: missing system packages; install them with:" >&2
  echo "  sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
