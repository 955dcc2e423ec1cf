#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The README's first command ends in `make demo`: run the same script for a
# few seconds and check that the scripted activity reached the collector's
# timeline (the hidden script's rename and the /etc/shadow read) and was
# triaged (an alert for the /etc/shadow read, in an incident that
# `incident show` tells at the end), that the
# agent's stop record was delivered, and that nothing is left running.
# Needs root (eBPF): exits 77 otherwise, saying why.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/${BUILD:-build}"
if [ "$(id -u)" -ne 0 ]; then
	echo "test_demo: skipped: the demo loads eBPF programs, which needs root"
	exit 77
fi
out=$(mktemp /tmp/custos-test-demo.XXXXXX)
trap 'rm -f "$out"; [ -n "${dir:-}" ] && rm -rf "$dir"' EXIT
fail() { echo "FAIL $*"; grep -v ' exec \| exit \| fork ' "$out" | tail -n 30; exit 1; }

"$root/packaging/demo.sh" "$build" 8 >"$out" 2>&1 || fail "demo.sh exited with $?"
dir=$(sed -n 's/^Remove it all with: rm -rf //p' "$out")
[ -d "$dir" ] || fail "the demo did not say where its directory is"
grep -q ' rename .*/drop/tool\.sh ' "$out" || fail "the scripted rename is not in the live timeline"
grep -q ' open /etc/shadow by cat ' "$out" || fail "the /etc/shadow read is not in the live timeline"
grep -q '^ALERT .*shadow' "$out" || fail "no live alert for the /etc/shadow read"
grep -q '^inc-[0-9]*-[0-9]* .* classes=.*information-content-security' "$out" ||
	fail "the incident list does not show the /etc/shadow read's incident"
grep -q '>>> ALERT .*class=information-content-security/unauthorised-information-access' "$out" ||
	fail "incident show does not tell the /etc/shadow alert in place"
grep -q 'collector and agent are no longer running' "$out" || fail "no stop message"
pgrep -f "$dir" >/dev/null && fail "processes of the demo are still running: $(pgrep -af "$dir")"
"$build/custos-collector" timeline --dir "$dir/collector" --host "$(hostname)" --kind agent_stop \
	--format jsonl >"$out.stop" 2>&1 || fail "timeline after the demo: $(cat "$out.stop")"
grep -q '"kind":"agent_stop"' "$out.stop" || { rm -f "$out.stop"; fail "the agent's stop record did not reach the collector"; }
rm -f "$out.stop"
echo "ok   demo: scripted activity in the live timeline, stop record delivered, nothing left running"
