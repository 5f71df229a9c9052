#!/bin/bash
# npm test in a fresh clone of this repository's HEAD while two busy loops keep both cores loaded (issue 24:
# the suite must pass on a busy CI machine). The clone goes beside this checkout, so ../shared resolves as here.
# Usage: scripts/test-under-load.sh [run-name]   -> ../enose-loadrun-<name>/, log in ../enose-loadrun-<name>.log
set -u
NAME=${1:-1}
HERE=$(cd "$(dirname "$0")/.." && pwd)
DIR="$HERE/../enose-loadrun-$NAME"
LOG="$HERE/../enose-loadrun-$NAME.log"
rm -rf "$DIR" && git clone -q "$HERE" "$DIR" && cd "$DIR" || exit 9
git log --oneline -1 > "$LOG"
npm ci --no-audit --no-fund >> "$LOG" 2>&1 || exit 9
( while :; do :; done ) & B1=$!
( while :; do :; done ) & B2=$!
trap 'kill $B1 $B2 2>/dev/null' EXIT
START=$(date +%s)
npm test >> "$LOG" 2>&1
RC=$?
echo "npm test rc=$RC wall=$(( $(date +%s) - START ))s" | tee -a "$LOG"
exit $RC
