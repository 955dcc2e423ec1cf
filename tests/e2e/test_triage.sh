#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Triage in the collector (issue 6): rules written here run over the
# archive on demand (`triage --rules DIR`) and as batches are indexed
# (`serve --rules DIR`); `alerts` lists each alert with its references
# (leaf, batch hash, record index); a rerun adds no duplicates; a refused
# rule is named with its reason; --from after the evidence finds nothing;
# triage runs beside a running serve (with or without its own rules)
# without duplicates.
set -u
name=test_triage
. "$(dirname "$0")/collector_lib.sh"

d="$work/coll"
cd "$work" || exit 1
mkdir rules
# collector_peer's records: pid P execs /usr/bin/cat, then P connects to 192.0.2.7:443.
cat >rules/cat_out.yml <<'YML'
title: cat connects out (test rule)
id: test-cat-out
level: high
custos_taxonomy: intrusions/test
logsource:
  product: linux
  category: network_connection
detection:
  sel:
    Image|endswith: /cat
    DestinationIp|cidr: 192.0.2.0/24
    DestinationPort: 443
    Initiated: 'true'
  condition: sel
YML
cat >rules/never.yml <<'YML'
title: never fires (test rule)
id: test-never
logsource:
  product: linux
  category: process_creation
detection:
  sel:
    Image|endswith: /nonexistent
  condition: sel
YML
cat >rules/dns.yml <<'YML'
title: refused (test rule)
logsource:
  product: linux
  category: dns_query
detection:
  sel:
    QueryName: x
  condition: sel
YML
"$coll" init --dir "$d" >/dev/null || exit 1
"$peer" keygen "$work/h" || exit 1
"$coll" enroll --dir "$d" --name laptop --key h.pub >/dev/null || exit 1
p="--collector $d/collector.pub --host h.key --state h.state"
"$peer" offline $p --out a.bin --count 3 || exit 1
"$coll" import --dir "$d" a.bin >/dev/null 2>&1 || exit 1

"$coll" triage --dir "$d" --rules rules >t1.out 2>&1
check "triage: runs" [ $? -eq 0 ]
check "triage: the refused rule is named with its reason" \
	grep -q "rules/dns.yml (other): refused: logsource category 'dns_query' is not supported" t1.out
check "triage: counts per category" grep -q 'network_connection: 1 loaded, 0 refused' t1.out
n=$("$coll" timeline --dir "$d" --host laptop --kind connect --format csv | tail -n +2 | wc -l)
check "triage: one alert per connect record ($n)" grep -q "^triage: 3 batch(es), .* $n alert(s)$" t1.out
"$coll" alerts --dir "$d" --host laptop >al1.out 2>&1
check "alerts: $n listed" [ "$(grep -c 'test-cat-out' al1.out)" -eq "$n" ]
check "alerts: image, taxonomy and references" \
	grep -q 'high "cat connects out (test rule)" rule=test-cat-out pid=[0-9]* image=/usr/bin/cat taxonomy=intrusions/test article=- technique=- ref=0:[0-9a-f]\{64\}:2$' al1.out
"$coll" triage --dir "$d" --rules rules >/dev/null 2>&1
"$coll" alerts --dir "$d" >al2.out 2>&1
check "triage again: no duplicates" [ "$(wc -l <al2.out)" -eq "$n" ]
"$coll" triage --dir "$d" --rules rules --from 2100-01-01T00:00:00Z >t3.out 2>&1
check "--from after the evidence: nothing in range" grep -q '0 record(s) in range, 0 alert(s)' t3.out
"$coll" alerts --dir "$d" --host nobody >/dev/null 2>&1
check "alerts: unknown host fails" [ $? -ne 0 ]
"$coll" triage --dir "$d" >/dev/null 2>&1
check "triage without --rules: usage (exit 2)" [ $? -eq 2 ]

# triage beside a running serve: serve without rules indexes two batches
# (leaves 3 and 4), then triage adds their alerts through its own SQLite
# connection while serve keeps running; reruns add nothing.
start_serve "$d"
"$peer" send --connect "127.0.0.1:$port" $p --count 2 >send.out 2>&1
check "send: acknowledged" [ $? -eq 0 ]
"$coll" alerts --dir "$d" >al3.out 2>&1
check "serve without rules: no alert for the new leaves" sh -c '! grep -q "ref=[34]:" al3.out'
"$coll" triage --dir "$d" --rules rules >live.out 2>&1
check "triage beside serve: runs" [ $? -eq 0 ]
check "triage beside serve: says so" grep -q 'a collector is running: reading the archive beside it' live.out
check "triage beside serve: every leaf read" grep -q '^triage: 5 batch(es)' live.out
"$coll" alerts --dir "$d" >al4.out 2>&1
check "triage beside serve: leaf 3's alerts" grep -q 'ref=3:' al4.out
check "triage beside serve: leaf 4's alerts" grep -q 'ref=4:' al4.out
"$coll" triage --dir "$d" --rules rules >/dev/null 2>&1
"$coll" alerts --dir "$d" >al5.out 2>&1
check "triage beside serve again: no duplicates" cmp -s al4.out al5.out
n=$("$coll" timeline --dir "$d" --host laptop --kind connect --format csv | tail -n +2 | wc -l)
check "triage beside serve: one alert per connect of leaves 0-4 ($n)" \
	[ "$(grep -c 'test-cat-out' al5.out)" -eq "$n" ]
"$peer" send --connect "127.0.0.1:$port" $p --count 1 >send2.out 2>&1
check "serve still ingests after triage" [ $? -eq 0 ]
stop_serve

# streaming (serve --rules) and triage beside it overlap without duplicates
start_serve "$d" --rules rules
"$peer" send --connect "127.0.0.1:$port" $p --count 2 >send3.out 2>&1
check "send: acknowledged" [ $? -eq 0 ]
"$coll" alerts --dir "$d" >al6.out 2>&1
check "streaming: the new batches' alerts are in the index" grep -q 'ref=7:' al6.out
check "streaming: leaf 6 too" grep -q 'ref=6:' al6.out
"$coll" triage --dir "$d" --rules rules >live2.out 2>&1
check "triage beside streaming serve: runs" [ $? -eq 0 ]
"$coll" alerts --dir "$d" >al7.out 2>&1
check "triage beside streaming serve: adds leaf 5's alerts" grep -q 'ref=5:' al7.out
dups=$(sed 's/.* rule=\([^ ]*\) .* ref=\([0-9]*:[0-9a-f]*:[0-9]*\).*/\1 \2/' al7.out | sort | uniq -d | wc -l)
check "triage beside streaming serve: no alert twice" [ "$dups" -eq 0 ]
stop_serve
m=$("$coll" timeline --dir "$d" --host laptop --kind connect --format csv | tail -n +2 | wc -l)
check "every connect has its one alert ($m)" [ "$(grep -c 'test-cat-out' al7.out)" -eq "$m" ]

[ "$fails" -eq 0 ] && echo "$name: all passed" && exit 0
echo "$name: $fails failure(s)"
exit 1
