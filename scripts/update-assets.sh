#!/usr/bin/env bash
# Re-fetches the console's third-party files from npm, with their licenses:
#   console/static/vendor/htmx.min.js   htmx.org (0BSD)
#   console/static/vendor/pico.min.css  @picocss/pico (MIT)
#   console/testdata/axe.min.js         axe-core (MPL-2.0), injected by the browser tests only
# Usage: scripts/update-assets.sh [htmx-version] [pico-version] [axe-version]
set -euo pipefail
cd "$(dirname "$0")/.."
htmx=${1:-2.0.11} pico=${2:-2.1.1} axe=${3:-4.14.1}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "htmx.org@$htmx" "@picocss/pico@$pico" "axe-core@$axe" >/dev/null)
for f in "$tmp"/*.tgz; do d="${f%.tgz}"; mkdir -p "$d"; tar xzf "$f" -C "$d"; done
v=console/static/vendor
cp "$tmp"/htmx.org-*/package/dist/htmx.min.js "$v/htmx.min.js"
cp "$tmp"/htmx.org-*/package/LICENSE "$v/htmx.LICENSE"
cp "$tmp"/picocss-pico-*/package/css/pico.min.css "$v/pico.min.css"
cp "$tmp"/picocss-pico-*/package/LICENSE.md "$v/pico.LICENSE.md"
cp "$tmp"/axe-core-*/package/axe.min.js console/testdata/axe.min.js
cp "$tmp"/axe-core-*/package/LICENSE console/testdata/axe.LICENSE
echo "htmx $htmx, Pico $pico, axe-core $axe"
