#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kill -9 during ingest, then restart, several times, with two agents
# (collector_peer) sending a batch every 8 ms or as fast as the collector
# acknowledges, whichever is slower. A peer
# whose connection dies reconnects and resends its unacknowledged batch
# byte for byte, as an agent resends from its spool. At the end:
#   - every acknowledged batch is in the archive and the custody log, at
#     the leaf its acknowledgement named;
#   - no batch is in the archive twice, none is missing (each host's seqs
#     are exactly 0..N-1 in the log);
#   - the index agrees with the log (hosts: batches and records), and
#     `reindex` from the archive alone gives the same timelines and hosts.
set -u
name=test_collector_crash
. "$(dirname "$0")/collector_lib.sh"

N=400
d="$work/coll"
cd "$work" || exit 1
"$coll" init --dir "$d" >/dev/null || exit 1
for h in a b; do
	"$peer" keygen "$work/$h" || exit 1
	"$coll" enroll --dir "$d" --name "$h" --key "$h.pub" >/dev/null || exit 1
done

# agent H: send until N batches are acknowledged, reconnecting after a
# failure; every ack line goes to H.acks. A batch every 8 ms at most, so
# that sending outlasts the kills below however fast ingest is (unpaced,
# a faster collector took the 400 batches before the sixth kill).
agent() {
	while :; do
		next=$(grep -c '^ack seq=' "$1.acks" 2>/dev/null)
		[ "${next:-0}" -ge "$N" ] && return 0
		p=$(cat port 2>/dev/null)
		[ -n "$p" ] && "$peer" send --connect "127.0.0.1:$p" --collector "$d/collector.pub" \
			--host "$1.key" --state "$1.state" --count $((N - ${next:-0})) --records 64 --interval-ms 8 \
			>>"$1.acks" 2>>"$1.err"
		sleep 0.05
	done
}

start_serve "$d"
echo "$port" >port
agent a &
pa=$!
agent b &
pb=$!
kills=0
busy=0
for delay in 0.15 0.1 0.2 0.1 0.25 0.1 0.15 0.2; do
	sleep "$delay"
	rm -f port
	{ kill -0 "$pa" 2>/dev/null || kill -0 "$pb" 2>/dev/null; } && busy=$((busy + 1))
	kill -9 "$serve_pid"
	wait "$serve_pid" 2>/dev/null
	kills=$((kills + 1))
	start_serve "$d"
	echo "$port" >port
done
i=0
while kill -0 "$pa" 2>/dev/null || kill -0 "$pb" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 300 ]; then
		echo "$name: the agents did not finish in 30 s"
		kill "$pa" "$pb" 2>/dev/null
		break
	fi
	sleep 0.1
done
stop_serve
check "serve exits 0 after $kills kill -9 and restarts" [ "$serve_rc" -eq 0 ]
check "at least 6 of the kills hit while the agents were sending ($busy)" [ "$busy" -ge 6 ]
check "every restart served again" [ "$(grep -c 'serving ' "$d.log")" -eq $((kills + 1)) ]
echo "recovery: $(grep -c 'acknowledged again' "$d.log") batch(es) archived before a kill and" \
	"acknowledged again on resend, $(grep -c 'adopted as leaves' "$d.log") log recovery(ies)," \
	"$(grep -c 'index: caught up' "$d.log") index catch-up(s), $(grep -c 'torn' "$d.log") torn tail(s)"

"$coll" log --dir "$d" >log.txt || bad "custos-collector log"
leaves=$(grep -c '^[0-9]' log.txt)
check "custody log holds exactly 2 x $N leaves" [ "$leaves" -eq $((2 * N)) ]
check "no batch twice in the log (batch hashes unique)" \
	[ "$(awk '/^[0-9]/ {print $4}' log.txt | sort -u | wc -l)" -eq "$leaves" ]
for h in a b; do
	check "host $h: seqs 0..$((N - 1)), each once" \
		[ "$(awk -v h=$h '$2 == h {print $3}' log.txt | sort -n | uniq | tr '\n' ' ')" = \
		  "$(seq 0 $((N - 1)) | tr '\n' ' ')" ]
	missing=$(sed -n 's/^ack seq=\([0-9]*\) leaf=\([0-9]*\)$/\2 \1/p' "$h.acks" | while read -r leaf seq; do
		grep -q "^$leaf $h $seq " log.txt || echo "$leaf:$seq"
	done)
	check "host $h: every acknowledged (leaf, seq) is in the log" [ -z "$missing" ]
done
check "latest checkpoint is for the whole log" [ "$(sed -n 2p "$d/custody/checkpoint")" -eq "$leaves" ]

"$coll" hosts --dir "$d" >hosts.before
check "index: host a has $N batches and $((N * 64)) records" \
	grep -Eq "^a +enrolled .* $((N - 1)) +$N +$((N * 64)) +0 " hosts.before
check "index: host b has $N batches and $((N * 64)) records" \
	grep -Eq "^b +enrolled .* $((N - 1)) +$N +$((N * 64)) +0 " hosts.before
for h in a b; do "$coll" timeline --dir "$d" --host $h --format jsonl >"tl.$h.before"; done
"$coll" reindex --dir "$d" >/dev/null || bad "reindex"
"$coll" hosts --dir "$d" >hosts.after
check "reindex: hosts identical" cmp -s hosts.before hosts.after
for h in a b; do
	"$coll" timeline --dir "$d" --host $h --format jsonl >"tl.$h.after"
	check "reindex: timeline of $h identical ($(wc -l <"tl.$h.after") rows)" cmp -s "tl.$h.before" "tl.$h.after"
done

if [ "$fails" -ne 0 ]; then
	echo "$name: $fails check(s) failed; collector log:"
	cat "$d.log"
	exit 1
fi
exit 0
