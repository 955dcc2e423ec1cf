#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Triage in the collector (issue 6): rules written here run over the
# archive on demand (`triage --rules DIR`) and as batches are indexed
# (`serve --rules DIR`); `alerts` lists each alert with its references
# (leaf, batch hash, record index); a rerun adds no duplicates; a refused
# rule is named with its reason; --from after the evidence finds nothing.
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

start_serve "$d" --rules rules
"$coll" triage --dir "$d" --rules rules >locked.out 2>&1
check "triage beside serve: refused" [ $? -ne 0 ]
"$peer" send --connect "127.0.0.1:$port" $p --count 2 >send.out 2>&1
check "send: acknowledged" [ $? -eq 0 ]
stop_serve
"$coll" alerts --dir "$d" >al3.out 2>&1
check "streaming: the new batches' alerts are in the index" grep -q 'ref=4:' al3.out
check "streaming: leaf 3 too" grep -q 'ref=3:' al3.out

[ "$fails" -eq 0 ] && echo "$name: all passed" && exit 0
echo "$name: $fails failure(s)"
exit 1
