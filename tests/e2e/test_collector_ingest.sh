#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end over a real socket on 127.0.0.1: custos-collector serve takes
# batches from one well-behaved agent (collector_peer) on one connection
# while other connections send random bytes, truncated frames, oversized
# and bad-version headers, a batch from an unknown host, a forged
# signature, a replayed batch and a batch from a revoked host. Each is
# refused with its logged reason and closes only its own connection; the
# good agent gets every acknowledgement; a resent batch is acknowledged
# again with its leaf and not archived twice; a sequence gap is accepted
# and shown on the timeline; an idle connection is timed out; SIGTERM
# signs a final checkpoint; a peer trickling bytes is cut like a silent one. Needs no root (everything stays on loopback).
set -u
name=test_collector_ingest
. "$(dirname "$0")/collector_lib.sh"

d="$work/coll"
cd "$work" || exit 1
"$coll" init --dir "$d" --name custos.test/collector >/dev/null || exit 1
for h in web1 db1 stranger; do "$peer" keygen "$work/$h" || exit 1; done
"$coll" enroll --dir "$d" --name web1 --key web1.pub >/dev/null || exit 1
"$coll" enroll --dir "$d" --name db1 --key db1.pub >/dev/null || exit 1
start_serve "$d" --idle-timeout 2 --checkpoint-interval 1
c="--connect 127.0.0.1:$port --collector $d/collector.pub"

# The good agent: 12 batches over ~2.4 s on one connection, during the attacks.
"$peer" send $c --host web1.key --state web1.state --count 12 --interval-ms 200 >web1.out 2>&1 &
good=$!

check "random bytes: connection closed" "$peer" raw $c --random 3000
check "truncated frame: connection closed" "$peer" raw $c --truncated
check "oversized length: connection closed" "$peer" raw $c --oversized
check "bad frame version: connection closed" "$peer" raw $c --bad-version
"$peer" send $c --host stranger.key --state stranger.state >stranger.out 2>&1
check "unknown host: closed without an ack" [ $? -eq 3 ]
"$peer" send $c --host db1.key --state db1.state --count 2 >db1.out 2>&1
check "db1: two batches acknowledged" [ $? -eq 0 ]
"$peer" send $c --host db1.key --state db1.state --forge >>db1.out 2>&1
check "forged signature: closed without an ack" [ $? -eq 3 ]
"$peer" send $c --host db1.key --state db1.state --replay >>db1.out 2>&1
check "replayed seq with other content: closed without an ack" [ $? -eq 3 ]
"$peer" send $c --host db1.key --state db1.state --resend >>db1.out 2>&1
check "resent batch: acknowledged again with leaf of the first" \
	[ "$(grep -c 'ack seq=1 ' db1.out)" -eq 2 ] 
"$peer" send $c --host db1.key --state db1.state --gap 3 >>db1.out 2>&1
check "sequence gap: accepted (seq 5)" grep -q 'ack seq=5 ' db1.out
"$coll" revoke --dir "$d" --name db1 --reason "test: key lost" >/dev/null
sleep 0.6	# the collector rereads enrolments every 250 ms
"$peer" send $c --host db1.key --state db1.state >>db1.out 2>&1
check "revoked host: closed without an ack" [ $? -eq 3 ]
# Each refused batch was answered with a NACK frame giving the reason (docs/format.md 5.1).
check "unknown host: the agent got the reason" \
	grep -q 'refused error=13 (unknown host.*permanent=1 hash=[0-9a-f]\{64\} reason=batch refused: unknown host' stranger.out
check "forged signature: the agent got the reason" \
	grep -q 'refused error=12 (bad signature.*permanent=1 .*seq 2: bad signature' db1.out
check "replay: the agent got the reason" \
	grep -q 'refused error=16 (.*permanent=1 .*replay of seq 1 (next expected' db1.out
check "revoked host: the agent got the reason" \
	grep -q 'refused error=13 .*revoked host db1' db1.out
"$peer" raw $c --hold 5 >idle.out 2>&1
check "idle connection: closed by the timer" [ $? -eq 3 ]
check "trickling peer (a byte every 200 ms): closed by the timer" "$peer" raw $c --trickle 5

wait "$good"
check "good agent: every batch acknowledged while the others were refused" [ $? -eq 0 ]
check "good agent: 12 acks" [ "$(grep -c '^ack seq=' web1.out)" -eq 12 ]

sleep 1.2	# one checkpoint interval
stop_serve
check "serve exits 0 on SIGTERM" [ "$serve_rc" -eq 0 ]
log="$d.log"
for reason in "over the limit" "peer closed inside a frame" "bad frame header: unsupported format or protocol version" \
	"unknown host" "db1 (.*), seq 2: bad signature" "replay of seq 1" "revoked host db1" \
	"seq 1 resent: acknowledged again" "sequence gap.*accepted, recorded as a gap" \
	"no complete frame for 2 s (idle or too slow)"; do
	check "logged: $reason" grep -q "closed: .*$reason\|$reason" "$log"
done
check "exactly the 10 bad connections were closed with a reason" \
	[ "$(grep 'closed: ' "$log" | grep -vc 'closed: peer closed the connection$')" -eq 10 ]
check "two connections timed out (silent, trickling)" [ "$(grep -c 'no complete frame for 2 s' "$log")" -eq 2 ]

# 12 (web1) + 3 (db1: seq 0, 1, 5) leaves; the resend is not archived twice.
check "custody log holds 15 leaves" [ "$(stat -c %s "$d/custody/leaves")" -eq $((15 * 48)) ]
check "final checkpoint is for tree size 15" [ "$(sed -n 2p "$d/custody/checkpoint")" = 15 ]
check "checkpoint names the log" [ "$(sed -n 1p "$d/custody/checkpoint")" = custos.test/collector ]
"$coll" hosts --dir "$d" >hosts.out
check "hosts: web1 enrolled, 12 batches" grep -Eq '^web1 +enrolled .* 11 +12 +96 +0 ' hosts.out
check "hosts: db1 revoked, 1 gap" grep -Eq '^db1 +revoked .* 5 +3 +24 +1 ' hosts.out
"$coll" timeline --dir "$d" --host db1 >db1.tl
check "timeline of db1 shows the gap" grep -q 'chain_gap .*expected seq 2, got 5' db1.tl
check "timeline of web1: 96 records" [ "$(($("$coll" timeline --dir "$d" --host web1 --format csv | wc -l) - 1))" -eq 96 ]

if [ "$fails" -ne 0 ]; then
	echo "$name: $fails check(s) failed; collector log:"
	cat "$log"
	exit 1
fi
exit 0
