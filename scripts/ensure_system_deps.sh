#!/bin/sh
# System packages the project needs beyond Python: Debian's chromium (the browser tests drive it
# through Playwright) and fonts-noto-cjk (vl-convert renders Chinese text in PNG/SVG figures with
# it; without it every glyph is an empty box). Installs what is missing when run as root with
# apt-get; otherwise says what is missing and how to install it, and leaves the decision to the
# caller: figure export stops with a clear message, browser tests are skipped with one.
set -u
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
ls /usr/share/fonts/opentype/noto/*CJK* >/dev/null 2>&1 || missing="$missing fonts-noto-cjk"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "citycluster: installing Debian packages:$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $missing >/dev/null || \
    echo "citycluster: could not install$missing (apt-get failed); see its output above" >&2
else
  echo "citycluster: missing system packages:$missing." >&2
  echo "  install them with: sudo apt-get install$missing" >&2
fi
exit 0
