#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end, on the running kernel: custos-agent print captures a scenario
# of process events, and the JSON lines it prints must describe it exactly:
#   - ./prog "a b" c, run by a relative path from a chdir'ed directory:
#     an exec record with the absolute resolved exe path, the filename as
#     passed, argv with the space kept, argc 3, the cwd, the exe's dev/ino;
#   - a forked subshell that exits with code 3: fork and exit records;
#   - a process killed by SIGKILL: an exit record with signal 9.
# Needs root (it loads eBPF programs): exits 77 otherwise, saying why.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
agent="$root/${BUILD:-build}/custos-agent"

if [ "$(id -u)" -ne 0 ]; then
	echo "test_process: skipped: loading eBPF programs needs root"
	exit 77
fi
if [ ! -x "$agent" ]; then
	echo "test_process: $agent not built (run make)"
	exit 1
fi

work=$(mktemp -d /tmp/custos-e2e.XXXXXX)
agent_pid=""
cleanup() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

"$agent" print --duration 60 >"$work/events.jsonl" 2>"$work/agent.err" &
agent_pid=$!

i=0
until grep -qs '^custos-agent: capturing' "$work/agent.err"; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$agent_pid" 2>/dev/null; then
		echo "test_process: the agent did not start capturing within 10 s:"
		cat "$work/agent.err"
		exit 1
	fi
	sleep 0.1
done

# The scenario. prog is a copy of echo, so the exe is the file itself.
mkdir "$work/x"
cp /bin/echo "$work/x/prog" || exit 1
expect_cwd=$(cd "$work/x" && pwd -P)
(cd "$work/x" && ./prog "a b" c >/dev/null)

(exit 3) &
fork_pid=$!
wait "$fork_pid"

sleep 30 &
kill_pid=$!
i=0	# kill it once it runs sleep, so that its exec is recorded too
until [ "$(cat "/proc/$kill_pid/comm" 2>/dev/null)" = sleep ] || [ "$i" -gt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
kill -9 "$kill_pid"
wait "$kill_pid" 2>/dev/null

stat -c '%d %i' "$work/x/prog" >"$work/stat"

kill -INT "$agent_pid"
wait "$agent_pid"
rc=$?
a_pid=$agent_pid
agent_pid=""
cat "$work/agent.err"
if [ "$rc" -ne 0 ]; then
	echo "test_process: the agent exited with $rc"
	exit 1
fi

python3 - "$work/events.jsonl" "$expect_cwd" "$fork_pid" "$kill_pid" "$work/stat" "$$" "$a_pid" <<'EOF'
import json, sys

path, cwd, fork_pid, kill_pid, stat_file, shell_pid, agent_pid = sys.argv[1:]
fork_pid, kill_pid, shell_pid, agent_pid = int(fork_pid), int(kill_pid), int(shell_pid), int(agent_pid)
dev, ino = (int(v) for v in open(stat_file).read().split())
records = []
for n, line in enumerate(open(path), 1):
    try:
        records.append(json.loads(line))
    except ValueError as e:
        sys.exit(f"test_process: line {n} is not JSON ({e}): {line!r}")
failures = []

def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

execs = [r for r in records if r["kind"] == "exec" and r["filename"] == "./prog"]
check("one exec record for ./prog", len(execs) == 1)
if execs:
    e = execs[0]
    check(f"exe is the absolute path {cwd}/prog (got {e['exe']!r})",
          e["exe"] == cwd + "/prog" and e["exe_truncated"] == 0)
    check(f"argv is ['./prog', 'a b', 'c'] (got {e['argv']!r})",
          e["argv"] == ["./prog", "a b", "c"] and e["argv_truncated"] == 0)
    check(f"argc is 3 (got {e['argc']})", e["argc"] == 3)
    check(f"cwd is {cwd} (got {e['cwd']!r})", e["cwd"] == cwd and e["cwd_truncated"] == 0)
    check(f"exe dev/ino match stat ({dev}/{ino}, got {e['exe_dev']}/{e['exe_ino']})",
          e["exe_dev"] == dev and e["exe_ino"] == ino)
    check("exe mode is a regular executable file",
          e["exe_mode"] & 0o170000 == 0o100000 and e["exe_mode"] & 0o111)
    check("comm is prog", e["comm"] == "prog")
    check("start_ns <= ts_ns", 0 < e["start_ns"] <= e["ts_ns"])

def forks_of(pid):
    return [r for r in records if r["kind"] == "fork" and r["child_pid"] == pid]

def exits_of(pid):
    return [r for r in records if r["kind"] == "exit" and r["pid"] == pid]

for pid, what in ((fork_pid, "exit 3 subshell"), (kill_pid, "killed sleep")):
    f = forks_of(pid)
    check(f"fork record for the {what} (pid {pid}) from this shell",
          len(f) == 1 and f[0]["pid"] == shell_pid and f[0]["child_tid"] == pid)
x = exits_of(fork_pid)
check(f"one exit record for pid {fork_pid} with code 3, no signal",
      len(x) == 1 and x[0]["code"] == 3 and x[0]["signal"] == 0)
if x and forks_of(fork_pid):
    check("exit start_ns equals fork child_start_ns",
          x[0]["start_ns"] == forks_of(fork_pid)[0]["child_start_ns"])
x = exits_of(kill_pid)
check(f"one exit record for pid {kill_pid} with signal 9, code 0",
      len(x) == 1 and x[0]["signal"] == 9 and x[0]["code"] == 0 and x[0]["core_dumped"] == 0)
k = [r for r in records if r["kind"] == "exec" and r["pid"] == kill_pid]
check("exec record for the killed sleep with argv ['sleep', '30']",
      len(k) == 1 and k[0]["argv"] == ["sleep", "30"] and k[0]["exe"].startswith("/"))
check(f"no record from the agent itself (pid {agent_pid})",
      not [r for r in records if r["pid"] == agent_pid])
sys.exit(1 if failures else 0)
EOF
