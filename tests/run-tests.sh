#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs the test suite and ends with one line: "N passed, N failed".
# Usage: run-tests.sh UNIT_BINARY... -- FUZZER... -- E2E_SCRIPT...
#   Unit binaries are cmocka programs: their "[  PASSED  ]" and
#   "[  FAILED  ]" lines are summed; a binary that dies before printing
#   them (a sanitizer report, a signal) counts as one failure.
#   Each fuzzer replays its kept corpus (tests/fuzz/corpus/NAME) and then
#   fuzzes for FUZZ_SECONDS; a crash is a failure, and its reproducer is
#   left in build/fuzz/.
#   Each e2e script passes with exit 0 and skips with exit 77 after saying
#   why; in CI (CI=true) a skip counts as a failure, because CI runs as root
#   on a kernel that loads our eBPF programs.
set -u
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { sed -n "s/^\[  $1  \] \([0-9][0-9]*\) test.*/\1/p" "$log" | tail -n 1; }

while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	echo "== $1"
	"$1" >"$log" 2>&1
	rc=$?
	cat "$log"; echo
	p=$(count PASSED); f=$(count FAILED)
	if [ -z "$p" ] && [ -z "$f" ]; then
		echo "!! $1 exited $rc without a cmocka summary: counted as 1 failure"
		failed=$((failed + 1))
		shift
		continue
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		echo "!! $1 exited $rc: counted as 1 failure"
		failed=$((failed + 1))
	fi
	shift
done
[ $# -gt 0 ] && shift

while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	fz=$1
	shift
	name=$(basename "$fz")
	kept="tests/fuzz/corpus/$name"
	work="${BUILD:-build}/fuzz/corpus-$name"
	mkdir -p "$work" "$kept"
	echo "== $fz (corpus $kept, ${FUZZ_SECONDS:-15}s)"
	if "$fz" -max_total_time="${FUZZ_SECONDS:-15}" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="${BUILD:-build}/fuzz/$name-" -print_final_stats=0 \
		"$work" "$kept" >"$log" 2>&1; then
		tail -n 2 "$log"
		passed=$((passed + 1))
	else
		cat "$log"
		echo "!! $name found a crash; reproducer in ${BUILD:-build}/fuzz/"
		failed=$((failed + 1))
	fi
done
[ $# -gt 0 ] && shift

skipped=0
sidfile=$(mktemp)
trap 'rm -f "$log" "$sidfile"' EXIT
for e2e in "$@"; do
	echo "== $e2e"
	# Own session, output to a file: a process the script leaks can
	# neither hold the runner's pipe open nor outlive its test.
	# One e2e script at a time on a machine (flock): they load BPF programs,
	# install packages and watch the whole host, so two test runs side by
	# side (two checkouts) would see each other's activity.
	flock -o /tmp/custos-e2e.lock \
		setsid -w sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$sidfile" "$e2e" >"$log" 2>&1
	rc=$?
	cat "$log"
	sid=$(cat "$sidfile")
	if [ -n "$sid" ] && pgrep -s "$sid" >/dev/null 2>&1; then
		echo "!! $e2e left processes running: $(pgrep -s "$sid" -d ' ' -l)"
		pkill -KILL -s "$sid"
	fi
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	elif [ "$rc" -eq 77 ] && [ "${CI:-}" != "true" ]; then
		echo "-- $e2e skipped (reason above)"
		skipped=$((skipped + 1))
	else
		echo "!! $e2e failed (exit $rc)"
		failed=$((failed + 1))
	fi
done

[ "$skipped" -gt 0 ] && echo "$skipped e2e test(s) skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
