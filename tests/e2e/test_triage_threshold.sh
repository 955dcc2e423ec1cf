#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Threshold rules under the real agent and the real collector (issue 6):
# custos-agent run ships to custos-collector serve --rules collector/rules
# on 127.0.0.1. Each scenario is one python3 process in a network
# namespace of its own (unshare -n, only its lo is up), so nothing reaches
# any address outside it:
#   scan:    listeners on 3 ports, connects to 100 ports (97 refused)
#   guess:   a listener on 127.0.0.1:22 accepts 15 connections from 127.0.0.1
#   mail:    a listener on 127.0.0.1:25, 25 connections to it
#   control: 5 ports, 3 connections to :22 (from 127.0.0.2), 3 to :25
# Each attack must raise its rule's alert (RSIT class, Budapest article,
# ATT&CK technique, every record referenced); the control none. Then
# `triage` over the archive finds the same alerts again (no duplicates).
# Needs root (eBPF, namespaces): exits 77 otherwise, saying why.
set -u
name=test_triage_threshold
live_tools="unshare ip"
. "$(dirname "$0")/live_lib.sh"

live_serve --rules "$root/collector/rules"
check "serve: the threshold rules load, none refused" \
	grep -q 'rules: threshold: 6 loaded, 0 refused' "$work/coll.log"
check "serve: the sequence rules load, none refused" \
	grep -q 'rules: sequence: 3 loaded, 0 refused' "$work/coll.log"
live_agent

# One python3 program plays every scenario: listen on PORTS (accepting in
# a thread), then connect N times to the ports of TARGETS from SRC.
cat >"$work/play.py" <<'PY'
import os, socket, sys, threading, time
pidfile, listen, targets, src = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
open(pidfile, "w").write(str(os.getpid()))
def serve(s):
    while True:
        try:
            c, _ = s.accept()
            c.close()
        except OSError:
            return
socks = []
for p in filter(None, listen.split(",")):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(p)))
    s.listen(128)
    socks.append(s)
    threading.Thread(target=serve, args=(s,), daemon=True).start()
done = 0
for t in targets.split(","):
    port, n = (t.split("x") + ["1"])[:2]
    for _ in range(int(n)):
        c = socket.socket()
        c.bind((src, 0))
        c.settimeout(1)
        try:
            c.connect(("127.0.0.1", int(port)))
            done += 1
        except OSError:
            pass
        c.close()
time.sleep(0.3)
print("connected", done)
PY
# play NAME LISTEN TARGETS SRC: in a network namespace of its own
play() {
	unshare -n sh -c 'ip link set lo up || exit 1; exec "$0" "$@"' \
		"$py" "$work/play.py" "$work/$1.pid" "$2" "$3" "$4" >"$work/$1.out" 2>&1 ||
		fail "scenario $1 failed: $(cat "$work/$1.out")"
}

ports=$(seq -s, 2001 2100)
play control "2001,22,25" "2001,2002,2003,2004,2005,22x3,25x3" 127.0.0.2
play scan "2010,2050,2090" "$ports" 127.0.0.1
play guess "22" "22x15" 127.0.0.1
play mail "25" "25x25" 127.0.0.1
check "scan: 3 open ports reached" grep -q 'connected 3$' "$work/scan.out"
check "guess: 15 connections accepted" grep -q 'connected 15$' "$work/guess.out"
check "mail: 25 connections" grep -q 'connected 25$' "$work/mail.out"

sleep 1.5	# the last batches (batch_max_delay_ms 200)
live_stop

"$coll" alerts --dir "$C" >"$work/alerts.out" 2>&1 || fail "alerts: $(cat "$work/alerts.out")"
pid_of() { cat "$work/$1.pid"; }
# has NAME RULE_ID TAXONOMY ARTICLE TECHNIQUE: an alert of the rule for
# the scenario's process, classified, with every record referenced
has() {
	grep " rule=$2 pid=$(pid_of "$1") " "$work/alerts.out" |
		grep " taxonomy=$3 article=$4 technique=$5 " |
		grep -q ' records=[0-9]* refs=[0-9]*:[0-9a-f]\{64\}:[0-9]*,'
}
ID=7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a00
check "scan: port scan alert (information-gathering/scanner, art. 2, T1046)" \
	has scan ${ID}08 information-gathering/scanner 2 T1046
check "scan: at least 20 distinct ports referenced" \
	grep -q " rule=${ID}08 pid=$(pid_of scan) .* records=20 refs=\([0-9]*:[0-9a-f]*:[0-9]*,\)\{19\}[0-9]" \
	"$work/alerts.out"
check "guess: password guessing alert (intrusion-attempts/brute-force, art. 2, T1110.001)" \
	has guess ${ID}0a intrusion-attempts/brute-force 2 T1110.001
check "guess: grouped by the source address" \
	grep -q " rule=${ID}0a pid=$(pid_of guess) .* group=\"127.0.0.1\" records=10 " "$work/alerts.out"
check "mail: mass mailing alert (abusive-content/spam)" \
	has mail ${ID}0b abusive-content/spam none none
check "control: no alert for its process" \
	sh -c "! grep -q ' pid=$(pid_of control) ' '$work/alerts.out'"
check "control: no guessing alert for its address" \
	sh -c "! grep -q 'group=\"127.0.0.2\"' '$work/alerts.out'"
check "no flood or sweep alert (${ID}09, 0c, 0d)" \
	sh -c "! grep -q ' rule=${ID}0[9cd] ' '$work/alerts.out'"
n=$(grep -c ' records=' "$work/alerts.out")

"$coll" triage --dir "$C" --rules "$root/collector/rules" >"$work/triage.out" 2>&1
check "triage over the archive: runs" [ $? -eq 0 ]
"$coll" alerts --dir "$C" >"$work/alerts2.out" 2>&1
check "triage over the archive: the same $n threshold alerts, no duplicates" \
	[ "$(grep -c ' records=' "$work/alerts2.out")" -eq "$n" ]

[ "$fails" -eq 0 ] && echo "$name: all passed" && exit 0
echo "$name: $fails failure(s)"
cat "$work/alerts.out"
"$coll" hosts --dir "$C"
echo "connect records: $("$coll" timeline --dir "$C" --host victim --kind connect --format csv | wc -l)"
tail -n 5 "$work/agent.err" "$work/coll.log"
exit 1
