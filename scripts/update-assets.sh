#!/usr/bin/env bash
# Re-fetches the third-party files Roster embeds from npm, exactly at the versions below, with
# their licenses:
#   console/static/vendor/htmx.min.js   htmx.org (0BSD)
#   console/static/vendor/pico.min.css  @picocss/pico (MIT)
#   console/testdata/axe.min.js         axe-core (MPL-2.0), injected by the browser tests only
#   api/docs/redoc.standalone.js        redoc (MIT), the /docs renderer; its version is recorded
#                                       in api/docs/redoc.version (checked by TestDocsRenderer)
# Usage: scripts/update-assets.sh [htmx-version] [pico-version] [axe-version] [redoc-version]
set -euo pipefail
cd "$(dirname "$0")/.."
htmx=${1:-2.0.11} pico=${2:-2.1.1} axe=${3:-4.14.1} redoc=${4:-$(cat api/docs/redoc.version)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "htmx.org@$htmx" "@picocss/pico@$pico" "axe-core@$axe" "redoc@$redoc" >/dev/null)
for f in "$tmp"/*.tgz; do d="${f%.tgz}"; mkdir -p "$d"; tar xzf "$f" -C "$d"; done
v=console/static/vendor
cp "$tmp"/htmx.org-*/package/dist/htmx.min.js "$v/htmx.min.js"
cp "$tmp"/htmx.org-*/package/LICENSE "$v/htmx.LICENSE"
cp "$tmp"/picocss-pico-*/package/css/pico.min.css "$v/pico.min.css"
cp "$tmp"/picocss-pico-*/package/LICENSE.md "$v/pico.LICENSE.md"
cp "$tmp"/axe-core-*/package/axe.min.js console/testdata/axe.min.js
cp "$tmp"/axe-core-*/package/LICENSE console/testdata/axe.LICENSE
cp "$tmp"/redoc-"$redoc"/package/bundles/redoc.standalone.js api/docs/redoc.standalone.js
cp "$tmp"/redoc-"$redoc"/package/bundles/redoc.standalone.js.LICENSE.txt api/docs/redoc.standalone.js.LICENSE.txt
cp "$tmp"/redoc-"$redoc"/package/LICENSE api/docs/redoc.LICENSE
echo "$redoc" > api/docs/redoc.version
echo "htmx $htmx, Pico $pico, axe-core $axe, Redoc $redoc"
