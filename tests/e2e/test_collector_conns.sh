#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Thousands of agent connections on one serve, and what happens at the
# open-file limit (docs/collector.md, "Connections"):
#   - started with a soft open-file limit of 1024 (systemd's default)
#     and the default --max-conns 4096, serve raises its soft limit to
#     make room and says how many connections it accepts;
#   - 3,000 connections held open at once are all accepted, and an agent
#     sending batches meanwhile gets every acknowledgement;
#   - when its limit is cut under it (prlimit) and more connections come
#     than descriptors are left, accept fails with EMFILE: serve logs it
#     once, stops watching the listener instead of spinning on it, keeps
#     serving the connections it has, and accepts again once connections
#     close (the waiting agent is then served);
#   - with a hard limit below --max-conns, serve lowers --max-conns to
#     fit and says so.
# Needs root only to raise the hard open-file limit above 3,000 (as in
# CI); exits 77 otherwise, saying why.
set -u
name=test_collector_conns
. "$(dirname "$0")/collector_lib.sh"

N=3000
if ! ulimit -Hn 8192 2>/dev/null && [ "$(ulimit -Hn)" != unlimited ] &&
	[ "$(ulimit -Hn)" -lt 8192 ]; then
	echo "$name: skipped: the hard open-file limit is $(ulimit -Hn) and cannot be raised" \
		"to hold $N connections (needs root)"
	exit 77
fi
ulimit -Sn 1024
for t in python3 prlimit; do
	command -v "$t" >/dev/null || { echo "$name: $t is needed"; exit 1; }
done

d="$work/coll"
cd "$work" || exit 1
"$coll" init --dir "$d" --name custos.test/collector >/dev/null || exit 1
"$peer" keygen "$work/web1" || exit 1
"$coll" enroll --dir "$d" --name web1 --key web1.pub >/dev/null || exit 1

# hold N: opens N connections to $port, says "held N" on stdout, keeps
# them until stdin closes. Connections the collector refuses or that wait
# in its backlog count as held: they are open on this side.
cat >hold.py <<'PY'
import resource, socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
socks = []
for _ in range(n):
    s = socket.socket()
    s.connect(("127.0.0.1", port))
    socks.append(s)
print("held", len(socks), flush=True)
sys.stdin.read()
PY
fds() { ls "/proc/$serve_pid/fd" | wc -l; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$serve_pid/stat"; }
wait_fds() {	# wait_fds MIN SECONDS: until serve holds at least MIN descriptors
	i=0
	while [ "$(fds)" -lt "$1" ] && [ "$i" -lt $(($2 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(fds)" -ge "$1" ]
}

# 1. Thousands of connections at once.
start_serve "$d" --idle-timeout 60
c="--connect 127.0.0.1:$port --collector $d/collector.pub"
check "the soft open-file limit was raised for 4096 connections" \
	grep -q "accepting up to 4096 connections (open-file limit 4160)" "$d.log"
mkfifo hold1.in
python3 hold.py "$N" "$port" <hold1.in >hold1.out 2>&1 &
hold1=$!
exec 7>hold1.in
check "$N connections accepted and held at once" wait_fds "$N" 30
"$peer" send $c --host web1.key --state web1.state --count 5 >web1.out 2>&1
check "an agent beside them: its 5 batches acknowledged" \
	[ "$(grep -c '^ack seq=' web1.out)" -eq 5 ]
exec 7>&-
wait "$hold1"
i=0
while [ "$(fds)" -gt 100 ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "... and their descriptors were freed" [ "$(fds)" -le 100 ]

# 2. The limit cut under a running serve: EMFILE.
prlimit --pid "$serve_pid" --nofile=300:300 || exit 1
mkfifo hold2.in
python3 hold.py 600 "$port" <hold2.in >hold2.out 2>&1 &
hold2=$!
exec 8>hold2.in
i=0
until grep -qs "^held 600" hold2.out || [ "$i" -gt 300 ]; do sleep 0.1; i=$((i + 1)); done
check "600 connections made (the rest wait in the backlog)" grep -q "^held 600" hold2.out
"$peer" send $c --host web1.key --state web1.state --count 2 >web1b.out 2>&1 8>&- &
late=$!
t0=$(cpu_ticks)
sleep 2
t1=$(cpu_ticks)
check "at the limit: serve holds its descriptors ($(fds) of 300)" [ "$(fds)" -ge 290 ]
check "EMFILE logged, new connections left waiting" \
	grep -q "accept: Too many open files with [0-9]* connections: new connections wait" "$d.log"
check "the enrolment reread's failure (no descriptor) logged once, not every tick" \
	[ "$(grep -c 'enrolments not reread' "$d.log")" -le 1 ]
check "no busy loop while the limit is reached ($((t1 - t0)) ticks of CPU in 2 s, at most 50)" \
	[ $((t1 - t0)) -le 50 ]
check "EMFILE logged once (log lines: $(grep -c 'accept: Too many' "$d.log"))" \
	[ "$(grep -c 'accept: Too many' "$d.log")" -eq 1 ]
exec 8>&-
wait "$hold2"
wait "$late"
check "connections closed: accepting again" grep -q "accepting connections again" "$d.log"
check "the waiting agent was served once descriptors freed: 2 acks" \
	[ "$(grep -c '^ack seq=' web1b.out)" -eq 2 ]
stop_serve
check "serve exits 0 on SIGTERM" [ "$serve_rc" -eq 0 ]

# 3. A hard limit below --max-conns.
prlimit --nofile=200:200 "$coll" serve --dir "$d" --listen 127.0.0.1:0 --max-conns 4096 \
	2>low.log &
serve_pid=$!
i=0
until grep -qs "listening on" low.log || [ "$i" -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "hard limit 200: --max-conns lowered to fit, and said" \
	grep -q -- "--max-conns 4096 lowered to 136: the open-file limit is 200" low.log
stop_serve

if [ "$fails" -ne 0 ]; then
	echo "$name: $fails check(s) failed; collector logs:"
	grep -v "closed: peer closed the connection$" "$d.log" | tail -n 40
	cat low.log
	exit 1
fi
exit 0
