#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Threshold rules under the real agent and the real collector (issue 6):
# custos-agent run ships to custos-collector serve --rules collector/rules
# on 127.0.0.1. Each network scenario is one python3 process in a network
# namespace of its own (unshare -n, only its lo is up), so nothing reaches
# any address outside it:
#   scan:    listeners on 3 ports, connects to 100 ports (97 refused)
#   conns:   a listener on 127.0.0.1:22 accepts 15 connections from 127.0.0.1
#            (the password-guessing proxy rule, custos_auth_connections.yml)
#   mail:    a listener on 127.0.0.1:25, 25 connections to it
#   control: 5 ports, 3 connections to :22 (from 127.0.0.2), 3 to :25
# and password guessing against a local service, with real login results:
#   guess:   6 failed `su root` as user nobody, run in parallel (pam_unix
#            makes each failure take about 2 s); libpam reports each to the
#            kernel (AUDIT_USER_AUTH res=failed): auth records
#   control: 1 failed `su daemon` as nobody (one failure: no alert)
# `incident show` tells the guessing incident with each failure it names
# as an auth line (USER_AUTH acct=root exe=/usr/bin/su res=failed).
# Each attack must raise its rule's alert (RSIT class, Budapest article,
# ATT&CK technique, every record referenced); the controls none. Then
# `triage` over the archive finds the same alerts again (no duplicates).
# Needs root (eBPF, namespaces): exits 77 otherwise, saying why.
set -u
name=test_triage_threshold
live_tools="unshare ip setpriv su"
. "$(dirname "$0")/live_lib.sh"

live_serve --rules "$root/collector/rules"
check "serve: the threshold rules load, none refused" \
	grep -q 'rules: threshold: 7 loaded, 0 refused' "$work/coll.log"
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
play conns "22" "22x15" 127.0.0.1
play mail "25" "25x25" 127.0.0.1
# su_fail ACCOUNT OUT: a failed su to ACCOUNT as nobody (a wrong password
# on stdin); OUT gets its pid and its exit status (1: refused).
su_fail() {
	echo not-the-password | sh -c 'echo $$ >"$0"; exec setpriv --reuid=65534 \
		--regid=65534 --clear-groups su "$1" -c true' "$work/$2.pid" "$1" \
		>/dev/null 2>"$work/$2.err"
	echo "$?" >>"$work/$2.pid"
}
su_pids=""
for i in 1 2 3 4 5 6; do
	su_fail root "guess$i" &
	su_pids="$su_pids $!"
done
su_fail daemon sucontrol &
wait $su_pids $!
check "scan: 3 open ports reached" grep -q 'connected 3$' "$work/scan.out"
check "conns: 15 connections accepted" grep -q 'connected 15$' "$work/conns.out"
check "guess: 6 su refused the password" \
	[ "$(for f in "$work"/guess?.pid; do sed -n 2p "$f"; done | grep -cx 1)" -eq 6 ]
check "su control: refused" [ "$(sed -n 2p "$work/sucontrol.pid")" = 1 ]
check "mail: 25 connections" grep -q 'connected 25$' "$work/mail.out"

sleep 1.5	# the last batches (batch_max_delay_ms 200)
live_stop

"$coll" alerts --dir "$C" >"$work/alerts.out" 2>&1 || fail "alerts: $(cat "$work/alerts.out")"
pid_of() { head -n 1 "$work/$1.pid"; }
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
check "conns: proxy alert, many connections to :22 (intrusion-attempts/brute-force, art. 2, T1110.001)" \
	has conns ${ID}0a intrusion-attempts/brute-force 2 T1110.001
check "conns: grouped by the source address" \
	grep -q " rule=${ID}0a pid=$(pid_of conns) .* group=\"127.0.0.1\" records=10 " "$work/alerts.out"
# The failed su processes: the alert is the fifth failure's, names five.
su_pids=$(for i in 1 2 3 4 5 6; do pid_of "guess$i"; done | tr '\n' '|')
guess_alert() {
	grep -E " rule=${ID}12 pid=(${su_pids%|}) " "$work/alerts.out" |
		grep " taxonomy=intrusion-attempts/brute-force article=2 technique=T1110.001 " |
		grep -F ' group="local acct=root exe=/usr/bin/su terminal=?" records=5 ' |
		grep -q ' refs=[0-9]*:[0-9a-f]\{64\}:[0-9]*,'
}
check "guess: password guessing alert on failed su (intrusion-attempts/brute-force, art. 2, T1110.001, 5 records, local source)" \
	guess_alert
check "guess: one password guessing alert (the sixth failure is in the fired window)" \
	[ "$(grep -c " rule=${ID}12 " "$work/alerts.out")" -eq 1 ]
check "su control: no alert for the single failure" \
	sh -c "! grep -q 'acct=daemon' '$work/alerts.out'"
check "mail: mass mailing alert (abusive-content/spam)" \
	has mail ${ID}0b abusive-content/spam none none
check "control: no alert for its process" \
	sh -c "! grep -q ' pid=$(pid_of control) ' '$work/alerts.out'"
check "control: no guessing alert for its address" \
	sh -c "! grep -q 'group=\"127.0.0.2\"' '$work/alerts.out'"
check "no flood or sweep alert (${ID}09, 0c, 0d)" \
	sh -c "! grep -q ' rule=${ID}0[9cd] ' '$work/alerts.out'"
n=$(grep -c ' records=' "$work/alerts.out")

# incident show: the story of the guessing alert's incident shows each
# record the alert names as an auth line (read from the archive: the index
# keeps no audit text), the alert in place after the fifth.
"$coll" incidents --dir "$C" >"$work/incidents.out" 2>&1 || fail "incidents: $(cat "$work/incidents.out")"
for i in $(cut -d' ' -f1 "$work/incidents.out"); do
	"$coll" incident --dir "$C" show "$i" || echo "incident show $i failed"
done >"$work/show.out" 2>&1
# auth_lines: one line of show.out per record the guessing alert names
auth_lines() {
	refs=$(grep " rule=${ID}12 " "$work/alerts.out" | sed -n 's/.* refs=\([^ ]*\).*/\1/p' |
		tr ',' ' ')
	[ "$(echo $refs | wc -w)" -eq 5 ] || return 1
	for r in $refs; do
		leaf=${r%%:*} rest=${r#*:}
		hash=${rest%%:*} idx=${rest#*:}
		h16=$(echo "$hash" | cut -c1-16)
		grep -E " pid (${su_pids%|}) su auth USER_AUTH acct=root exe=/usr/bin/su res=failed from local result [0-9]+ ref=$leaf:$h16:$idx\$" \
			"$work/show.out" | wc -l | grep -qx 1 || return 1
	done
}
check "incident show: each of the 5 failed su the guessing alert names is an auth line (USER_AUTH acct=root exe=/usr/bin/su res=failed from local)" \
	auth_lines
check "incident show: the password guessing alert in place, after the auth record it rests on" \
	sh -c "grep -B1 ' >>> ALERT .* rule=${ID}12 ' '$work/show.out' | head -n 1 |
		grep -q ' su auth USER_AUTH acct=root exe=/usr/bin/su res=failed from local '"
check "incident show: no failure" sh -c "! grep -q 'failed\$\|not read' '$work/show.out'"
# Without the archive the story is still told, each auth line saying why
# it has no text.
gi=$(grep -B 100000 " >>> ALERT .* rule=${ID}12 " "$work/show.out" | grep '^Incident ' | tail -n 1 |
	cut -d' ' -f2)
mv "$C/archive" "$C/archive.away"
"$coll" incident --dir "$C" show "$gi" >"$work/show2.out" 2>&1
check "incident show without the archive: told, exit 0, each auth line says its text was not read" \
	sh -c "[ $? -eq 0 ] && grep -q ' >>> ALERT .* rule=${ID}12 ' '$work/show2.out' &&
		[ \"\$(grep -c ' su auth (its text is in the archive: not read, ' '$work/show2.out')\" -ge 5 ]"
mv "$C/archive.away" "$C/archive"

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
echo "auth records: $("$coll" timeline --dir "$C" --host victim --kind auth --format csv | wc -l)"
tail -n 5 "$work/agent.err" "$work/coll.log"
exit 1
