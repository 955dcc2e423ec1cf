#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# custos-collector enroll --list FILE: a list of hosts enrolled in one run
# (each host's fingerprint lines printed, one signed event-log entry per
# host, chained after the single-host enrolments); lists with a wrong line
# (bad name, missing or malformed key file, a name or key twice in the
# list, a host already enrolled) refused whole with the file and line
# named and nothing written; then serve accepts batches from a host of
# the list and refuses a host of a refused list. Needs no root.
set -u
name=test_collector_enroll
. "$(dirname "$0")/collector_lib.sh"

d="$work/coll"
cd "$work" || exit 1
"$coll" init --dir "$d" --name custos.test/enroll >/dev/null || exit 1
mkdir keys || exit 1
for h in old h1 h2 h3 h4 x1; do "$peer" keygen "$work/keys/$h" || exit 1; done
"$coll" enroll --dir "$d" --name old --key keys/old.pub >/dev/null || exit 1
ev="$d/custody/events.jsonl"

# Relative key paths are taken from the list's own directory.
cat >keys/fleet.list <<'EOF'
# provisioning batch 1
h1 h1.pub
	h2   h2.pub   # rack 2

h3 h3.pub
EOF
echo "h4 $work/keys/h4.pub" >>keys/fleet.list
cd / || exit 1
"$coll" enroll --dir "$d" --list "$work/keys/fleet.list" >"$work/list.out" 2>"$work/list.err"
check "list of four: exit 0" [ $? -eq 0 ]
cd "$work" || exit 1
check "list of four: four hosts printed, in order" \
	[ "$(grep '^enrolled ' list.out | tr '\n' ' ')" = "enrolled h1 enrolled h2 enrolled h3 enrolled h4 " ]
check "list: each host's fingerprint, as enroll prints it" \
	[ "$(grep -c '^fingerprint [0-9]\{5\}\( [0-9]\{5\}\)\{7\}$' list.out)" -eq 4 ]
check "list: host ids printed" [ "$(grep -c '^host id [0-9a-f]\{64\}$' list.out)" -eq 4 ]
check "event log: init, old, four enrolments" [ "$(wc -l <"$ev")" -eq 6 ]
check "event log: the list's entries chained after old's (seq 2..5)" \
	[ "$(grep -c '"action":"enroll".*"seq":[2-5],' "$ev")" -eq 4 ]
check "event log: h3's entry holds its key and fingerprint" \
	grep -q "\"action\":\"enroll\".*\"fingerprint\":\"$(sed -n 's/^fingerprint //p' list.out | sed -n 3p)\".*\"name\":\"h3\"" "$ev"
"$coll" enroll --dir "$d" --name x1 --key keys/x1.pub >x1.out
check "single-host form unchanged: enrol x1 after the list" \
	sh -c "[ $? -eq 0 ] && grep -q '^enrolled x1$' x1.out && [ \$(wc -l <'$ev') -eq 7 ]"
"$peer" keygen "$work/keys/y1" || exit 1
"$peer" keygen "$work/keys/y2" || exit 1
head -c 100 /dev/urandom >keys/junk.pub
cp "$ev" events.before

# refused LIST DESCRIPTION PATTERN: enroll --list LIST fails, names the
# line, writes nothing.
refused() {
	"$coll" enroll --dir "$d" --list "$1" >refused.out 2>refused.err
	rc=$?
	check "$2: exit 1" [ "$rc" -eq 1 ]
	check "$2: the line named" grep -q "$3" refused.err
	check "$2: says nothing enrolled" grep -q 'nothing enrolled' refused.err
	check "$2: nothing printed on stdout" [ ! -s refused.out ]
	check "$2: the event log unchanged" cmp -s "$ev" events.before
}
printf 'y1 y1.pub\nbad/name y2.pub\n' >keys/l1
refused keys/l1 "bad name" "keys/l1: line 2: 'bad/name' is not a host name"
printf 'y1 y1.pub\ny2 missing.pub\n' >keys/l2
refused keys/l2 "missing key file" "keys/l2: line 2: key file keys/missing.pub"
printf 'y1 y1.pub\n\n# c\ny2 junk.pub\n' >keys/l3
refused keys/l3 "malformed key file" "keys/l3: line 4: key file keys/junk.pub"
printf 'y1 y1.pub\ny2 y2.pub\ny1 y2.pub\n' >keys/l4
refused keys/l4 "name twice in the list" "keys/l4: line 3: this host name is also on line 1 (y1)"
printf 'y1 y1.pub\ny2 y1.pub\n' >keys/l5
refused keys/l5 "key twice in the list" "keys/l5: line 2: this key is also on line 1 (y1)"
printf 'y1 y1.pub\nh2 y2.pub\n' >keys/l6
refused keys/l6 "name already enrolled" "keys/l6: line 2: a host named 'h2' is already enrolled"
printf 'y1 y1.pub\ny2 h3.pub\n' >keys/l7
refused keys/l7 "key already enrolled" "keys/l7: line 2: this key is already enrolled as 'h3'"
printf 'y1 y1.pub\ny2\n' >keys/l8
refused keys/l8 "one field" "keys/l8: line 2: expected NAME KEYFILE"
printf '# nothing\n\n' >keys/l9
refused keys/l9 "empty list" "keys/l9: no host in the list"
printf 'y1 y1.pub extra\n' >keys/l10
refused keys/l10 "three fields" "keys/l10: line 1: expected NAME KEYFILE"
printf 'bad/1 y1.pub\ny2 y2.pub\nbad/2 y2.pub\n' >keys/l11
"$coll" enroll --dir "$d" --list keys/l11 >/dev/null 2>refused.err
check "several wrong lines: every one reported" \
	[ "$(grep -c 'keys/l11: line [13]: .* is not a host name' refused.err)" -eq 2 ]
check "several wrong lines: counted" grep -q 'keys/l11: 2 problems: nothing enrolled' refused.err
"$coll" enroll --dir "$d" --list keys/nonexistent >/dev/null 2>refused.err
check "missing list: exit 1, named" sh -c "[ $? -eq 1 ] && grep -q 'keys/nonexistent: cannot open the list' refused.err"
"$coll" enroll --dir "$d" --list keys/l1 --name y1 >/dev/null 2>&1
check "--list with --name: usage, exit 2" [ $? -eq 2 ]

# serve: a host of the list is accepted; y1 (only in refused lists) is not.
start_serve "$d"
c="--connect 127.0.0.1:$port --collector $d/collector.pub"
"$peer" send $c --host keys/h3.key --state h3.state --count 3 >h3.out 2>&1
check "serve: h3 (from the list) gets 3 acks" sh -c "[ $? -eq 0 ] && [ \$(grep -c '^ack seq=' h3.out) -eq 3 ]"
"$peer" send $c --host keys/h1.key --state h1.state --count 1 >h1.out 2>&1
check "serve: h1 (from the list) gets its ack" [ $? -eq 0 ]
"$peer" send $c --host keys/y1.key --state y1.state >y1.out 2>&1
check "serve: y1 (refused lists only) is an unknown host" [ $? -eq 3 ]
stop_serve
check "serve exits 0" [ "$serve_rc" -eq 0 ]
check "serve: 4 accepted" grep -q '4 accepted' "$d.log"
"$coll" hosts --dir "$d" >hosts.out 2>&1
check "hosts: h3 and h1 listed" sh -c 'grep -q "h3" hosts.out && grep -q "h1" hosts.out'

# Races: eight enrolments of one name (eight keys) and then eight revokes
# of it, each eight at once. The name and the revoked state are checked
# again under the event log's lock, so exactly one of each appends and
# the log still replays (a second entry would make every later command,
# and serve, refuse the log).
for i in 1 2 3 4 5 6 7 8; do "$peer" keygen "$work/keys/r$i" || exit 1; done
for i in 1 2 3 4 5 6 7 8; do
	"$coll" enroll --dir "$d" --name racer --key "keys/r$i.pub" >"race$i.out" 2>&1 &
done
wait
check "eight enrolments of one name at once: exactly one enrolled" \
	[ "$(cat race?.out | grep -c '^enrolled racer$')" -eq 1 ]
check "the seven others: refused as already enrolled" \
	[ "$(cat race?.out | grep -c "a host named 'racer' is already enrolled")" -eq 7 ]
for i in 1 2 3 4 5 6 7 8; do
	"$coll" revoke --dir "$d" --name racer --reason race >"rev$i.out" 2>&1 &
done
wait
check "eight revokes at once: exactly one revoked" \
	[ "$(cat rev?.out | grep -c '^revoked racer$')" -eq 1 ]
check "the seven others: already revoked" [ "$(cat rev?.out | grep -c 'already revoked')" -eq 7 ]
"$coll" hosts --dir "$d" >hosts2.out 2>&1
check "the event log still replays after the races (hosts reads it)" [ $? -eq 0 ]

if [ "$fails" -ne 0 ]; then
	echo "$name: $fails check(s) failed; collector log:"
	cat "$d.log" 2>/dev/null
	exit 1
fi
exit 0
