#!/bin/sh
# System packages the project needs beyond Python: a chromium (the browser tests drive it through
# Playwright; Debian's /usr/bin/chromium unless CITYCLUSTER_CHROMIUM names another binary) and
# fonts-noto-cjk (vl-convert renders Chinese text in PNG/SVG figures with it; without it every
# glyph is an empty box). Installs what is missing with apt-get when run as root, or through
# passwordless sudo in CI (CI=true, as GitHub Actions sets it; never on a workstation without
# asking); otherwise says what is missing and how to install it, and leaves the decision to the
# caller: figure export stops with a clear message, browser tests are skipped with one (or fail,
# where CITYCLUSTER_REQUIRE_BROWSER=1). On Ubuntu, apt's chromium is a snap stub, not a browser,
# so it is never installed there: name another build with CITYCLUSTER_CHROMIUM.
set -u
missing=""
ubuntu=""
grep -qs '^ID=ubuntu' /etc/os-release && ubuntu=yes
if [ ! -x "${CITYCLUSTER_CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ -n "$ubuntu" ]; then
    echo "citycluster: no chromium at ${CITYCLUSTER_CHROMIUM:-/usr/bin/chromium}; Ubuntu's apt" \
      "package is a snap stub: set CITYCLUSTER_CHROMIUM to a Chrome or Playwright build" >&2
  else
    missing="$missing chromium"
  fi
fi
ls /usr/share/fonts/opentype/noto/*CJK* >/dev/null 2>&1 || missing="$missing fonts-noto-cjk"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then as_root=""
elif [ "${CI:-}" = true ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
else as_root="none"
fi
if [ "$as_root" != none ] && command -v apt-get >/dev/null 2>&1; then
  echo "citycluster: installing Debian packages:$missing"
  $as_root apt-get update -qq && $as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $missing >/dev/null || \
    echo "citycluster: could not install$missing (apt-get failed); see its output above" >&2
else
  echo "citycluster: missing system packages:$missing." >&2
  echo "  install them with: sudo apt-get install$missing" >&2
  echo "  (or point CITYCLUSTER_CHROMIUM at another chromium build)" >&2
fi
exit 0
