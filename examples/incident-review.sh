#!/usr/bin/env bash
# An incident review, step by step: copy the logs before touching anything,
# verify the copy, see what tampering with one line looks like to verify-log
# (file, line, reason), and read the log with chainlog extract | pino-pretty.
#
#   bash examples/incident-review.sh [out-dir]   (works in <out-dir>/incident-review, default examples/out)
#
# Exit status 0 when every step showed what it should: the untouched copy
# verifies, the tampered one breaks at the line that was changed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
base="${1:-$here/out}"
mkdir -p "$base"
work="$(cd "$base" && pwd)/incident-review"
rm -rf "$work"
mkdir -p "$work"
# npx: the verify-log, chainlog and pino-pretty installed in this workspace,
# from whatever directory we are in, and never a download. The steps name the
# package (`npx -p @chainlog/cli verify-log`) as a reviewer should: a bare
# `npx verify-log` where @chainlog/cli is not installed runs whatever the
# registry holds under that name. npx itself would do (npx --prefix "$here"
# --no-install ...); running the linked executable directly, as npx does,
# saves npm's start-up time at each step.
bin="$(cd "$here/.." && pwd)/node_modules/.bin"
npx() {
  if [ "$1" = "-p" ]; then shift 2; fi
  if [ -x "$bin/$1" ]; then "$bin/$@"; else command npx --prefix "$here" --no-install "$@"; fi
}

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

step "1. A service logs twelve payments through @chainlog/pino (1 KiB files, so the chain spans several)"
cd "$here" # to import pino from this workspace
node --input-type=module - "$work/live/app.log" <<'EOF'
import { once } from 'node:events'
import pino from 'pino'
const transport = pino.transport({ target: '@chainlog/pino', options: { file: process.argv[2], size: '1k', mkdir: true } })
await once(transport, 'ready')
const logger = pino(transport)
for (let i = 1; i <= 12; i++) logger.info({ payment: i, to: `acct-${100 + i}`, eur: i * 25 }, 'payment sent')
transport.ref()
transport.end()
await once(transport, 'close')
EOF
cd "$work"
ls live

step "2. Copy the logs before anything else, and verify the copy: this is the evidence"
show "cp -r live evidence"
cp -r live evidence
show "npx -p @chainlog/cli verify-log evidence/app.log"
npx -p @chainlog/cli verify-log evidence/app.log

step "3. Someone with write access changes one amount in app.2.log, line 2 (here, in another copy)"
cp -r evidence tampered
show "sed -i.bak '2s/\"eur\":[0-9]*/\"eur\":9999/' tampered/app.2.log"
sed -i.bak '2s/"eur":[0-9]*/"eur":9999/' tampered/app.2.log
rm tampered/app.2.log.bak
# A record is prev|line|hash: the middle field is the logged line.
before=$(sed -n 2p evidence/app.2.log | cut -d'|' -f2)
after=$(sed -n 2p tampered/app.2.log | cut -d'|' -f2)
echo "before: $before"
echo "after:  $after"
[ "$before" != "$after" ] || { echo "the edit did not change app.2.log; nothing to review" >&2; exit 1; }

step "4. verify-log names the first line that can no longer be trusted (exit status 1)"
show "npx -p @chainlog/cli verify-log tampered/app.log"
status=0
report=$(npx -p @chainlog/cli verify-log tampered/app.log) || status=$?
echo "$report"
echo "(exit status $status)"
[ "$status" -eq 1 ] || { echo "expected verify-log to exit 1 on the tampered copy" >&2; exit 1; }
grep -q "^BROKEN: the chain is broken at tampered/app.2.log:2 (HASH_MISMATCH)$" <<< "$report" ||
  { echo "expected the break at tampered/app.2.log:2 (HASH_MISMATCH)" >&2; exit 1; }

step "5. chainlog extract refuses a broken chain; --force prints every line and marks the break on stderr"
show "npx -p @chainlog/cli chainlog extract tampered/app.log"
npx -p @chainlog/cli chainlog extract tampered/app.log || echo "(exit status $?)"
show "npx -p @chainlog/cli chainlog extract --force tampered/app.log | npx pino-pretty --singleLine"
# The marks go to stderr: collect them and print them after the pretty output, so the two do not interleave.
npx -p @chainlog/cli chainlog extract --force tampered/app.log 2> marks.txt | npx pino-pretty --singleLine || true
cat marks.txt
grep -q "BROKEN at tampered/app.2.log:2 .*output line 3 is that line, unverified" marks.txt ||
  { echo "expected extract --force to mark output line 3 (tampered/app.2.log:2) as broken" >&2; exit 1; }

step "6. The evidence copy, read the same way: the original amount"
show "npx -p @chainlog/cli chainlog extract evidence/app.log | npx pino-pretty --singleLine"
npx -p @chainlog/cli chainlog extract evidence/app.log | npx pino-pretty --singleLine

step "7. The live log was never touched"
show "npx -p @chainlog/cli verify-log --quiet live/app.log && echo VALID"
npx -p @chainlog/cli verify-log --quiet live/app.log && echo VALID
