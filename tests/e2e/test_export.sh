#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# custos-collector export and custos-verify (docs/export.md): a collector
# fed by the test's own batches (two hosts, one sequence gap) exports a
# case, also beside a running collector; the bundle and its tar verify,
# as an ordinary user; then copies of
# the bundle are tampered with, each in one way, and custos-verify must
# fail naming the file and the check (the first failure, and with --all
# the deeper check behind the manifest's): a flipped byte in a batch, a
# dropped batch, two batches swapped, an edited timeline line, a removed
# custody log entry, a replaced host key, a batch of another host swapped
# in, a manifest signed by another collector key; and files added.
set -u
name=test_export
. "$(dirname "$0")/collector_lib.sh"
verify="$root/${BUILD:-build}/custos-verify"
[ -x "$verify" ] || { echo "$name: $verify not built (run make)"; exit 1; }

d="$work/coll"
cd "$work" || exit 1
"$coll" init --dir "$d" >/dev/null || exit 1
"$peer" keygen h || exit 1
"$peer" keygen x || exit 1
"$coll" enroll --dir "$d" --name laptop --key h.pub >/dev/null || exit 1
"$coll" enroll --dir "$d" --name server --key x.pub >/dev/null || exit 1
p="--collector $d/collector.pub --host h.key --state h.state"
"$peer" offline $p --out a.bin --count 3 || exit 1	# laptop seq 0-2
"$peer" offline $p --out lost.bin --count 1 || exit 1	# seq 3: never delivered
"$peer" offline $p --out b.bin --count 2 || exit 1	# seq 4-5
"$peer" offline --collector "$d/collector.pub" --host x.key --state x.state --out x.bin \
	--count 2 || exit 1
for f in a.bin x.bin b.bin; do
	"$coll" import --dir "$d" "$f" >/dev/null 2>&1 || { echo "import $f failed"; exit 1; }
done

ex() {	# ex OUT HOST...: export case CASE-7 of the hosts to OUT
	out=$1
	shift
	hs=""
	for h in "$@"; do hs="$hs --host $h"; done
	"$coll" export --dir "$d" --case CASE-7 $hs --from 2025-11-22T00:00:00Z \
		--to 2025-11-22T01:00:00Z --reason "suspected exfiltration" \
		--legal-basis "court order 12/2025" --requester "J. Doe" --out "$out"
}
ex "$work/b1" laptop >export.out 2>&1
check "export: succeeds" [ $? -eq 0 ]
check "export: 5 batches of laptop" grep -q '^export: case CASE-7: 5 batches' export.out
check "export: tar beside the directory" [ -s "$work/b1.tar" ]
check "export: evidence is the archived bytes (leaf 0 = first batch)" \
	[ "$(ls b1/evidence | tr '\n' ' ')" = "leaf-00000000.batch leaf-00000001.batch leaf-00000002.batch leaf-00000005.batch leaf-00000006.batch " ]
check "export: covered range stated (seq 0 to 5)" \
	python3 -c 'import json,sys; c=json.load(open("b1/manifest.json"))["covered"]["laptop"]; sys.exit(not (c["first_seq"]==0 and c["last_seq"]==5 and c["batches"]==5))'
check "export: gaps.json names the missing seq 3" \
	python3 -c 'import json,sys; g=json.load(open("b1/gaps.json"))["gaps"]; sys.exit(not any(x["type"]=="sequence_gap" and x["after_seq"]==2 and x["before_seq"]==4 for x in g))'
check "export: timeline.jsonl is Timesketch-ready (message, datetime, timestamp_desc)" \
	python3 -c 'import json,sys; L=[json.loads(l) for l in open("b1/timeline.jsonl")]; sys.exit(not (len(L)==40 and all("message" in r and "datetime" in r and "timestamp_desc" in r for r in L)))'
check "export: recorded in the custody log" grep -q '"action":"export".*"case":"CASE-7"' "$d/custody/events.jsonl"

"$verify" b1 --collector-key "$d/collector.pub" >v.out 2>&1
check "verify: the bundle verifies" [ $? -eq 0 ]
check "verify: says so" grep -q '^RESULT: VERIFIED' v.out
check "verify: reports the gap" grep -q 'gap   host laptop: batches 3 to 3 are not in the bundle' v.out

# Beside a running collector: proves against the tree head it signed.
start_serve "$d"
ex "$work/blive" laptop >live.out 2>&1
check "export beside serve: succeeds" [ $? -eq 0 ]
check "export beside serve: says which tree head" grep -q 'proving against its latest signed tree head' live.out
"$verify" blive --collector-key "$d/collector.pub" >vlive.out 2>&1
check "export beside serve: the bundle verifies" [ $? -eq 0 ]
stop_serve

mkdir untar && tar -C untar -xf b1.tar
check "tar: holds exactly the directory" diff -r b1 untar/b1
if [ "$(id -u)" -eq 0 ]; then
	chmod 755 "$work" untar
	cp "$d/collector.pub" untar/collector.pub && chmod 644 untar/collector.pub
	setpriv --reuid=65534 --regid=65534 --clear-groups "$verify" untar/b1 \
		--collector-key untar/collector.pub >nobody.out 2>&1
	check "verify: runs as an ordinary user (nobody) on the unpacked tar" [ $? -eq 0 ]
fi

# tamper NAME WANT_FIRST WANT_ALL: runs on a copy t-NAME prepared by the
# caller; the first FAIL line must match WANT_FIRST, --all must print
# WANT_ALL too, and both runs must exit 1.
tamper() {
	"$verify" "t-$1" --collector-key "$d/collector.pub" >"t-$1.out" 2>&1
	rc=$?
	"$verify" "t-$1" --collector-key "$d/collector.pub" --all >"t-$1.all" 2>&1
	rca=$?
	check "$1: fails (exit 1)" [ $rc -eq 1 ] && [ $rca -eq 1 ]
	check "$1: first failure named" sh -c "grep -m1 FAIL 't-$1.out' | grep -q -- '$2'"
	check "$1: --all names the deeper check" grep -q -- "$3" "t-$1.all"
}
copy() { rm -rf "t-$1"; cp -a b1 "t-$1"; }

copy flip
printf '\377' | dd of=t-flip/evidence/leaf-00000001.batch bs=1 seek=200 conv=notrunc 2>/dev/null
tamper flip 'evidence/leaf-00000001.batch: manifest SHA-256' \
	'evidence/leaf-00000001.batch (leaf 1, host laptop, seq 1): leaf hash'

copy drop
rm t-drop/evidence/leaf-00000002.batch
tamper drop 'evidence/leaf-00000002.batch: manifest: listed in the manifest but missing' \
	'evidence/leaf-00000002.batch (leaf 2, host laptop, seq 2): batch: missing'

copy reorder
mv t-reorder/evidence/leaf-00000000.batch t-reorder/tmp
mv t-reorder/evidence/leaf-00000001.batch t-reorder/evidence/leaf-00000000.batch
mv t-reorder/tmp t-reorder/evidence/leaf-00000001.batch
tamper reorder 'evidence/leaf-00000000.batch: manifest' \
	'evidence/leaf-00000000.batch (leaf 0, host laptop, seq 0): leaf hash'

copy timeline
sed -i '3s/"pid":[0-9]*/"pid":4242/' t-timeline/timeline.jsonl
tamper timeline 'timeline.jsonl: manifest SHA-256' \
	'timeline.jsonl: derived from the batches: line 3 differs'

copy events
sed -i '2d' t-events/custody/events.jsonl
tamper events 'custody/events.jsonl: manifest' \
	'custody/events.jsonl line 2: custody log hash chain'

copy key
cp x.pub t-key/keys/laptop.pub
tamper key 'keys/laptop.pub: manifest SHA-256' \
	'keys/laptop.pub: host key: not the key enrolled for'

ex "$work/bx" server >/dev/null 2>&1 || exit 1
copy swap
cp bx/evidence/leaf-00000003.batch t-swap/evidence/leaf-00000002.batch
tamper swap 'evidence/leaf-00000002.batch: manifest' \
	'evidence/leaf-00000002.batch (leaf 2, host laptop, seq 2): batch host: the batch was signed by another host'

# A second collector with the same host exports the same case: its
# manifest is signed by another collector key.
d2="$work/coll2"
"$coll" init --dir "$d2" >/dev/null || exit 1
"$coll" enroll --dir "$d2" --name laptop --key h.pub >/dev/null || exit 1
"$peer" offline --collector "$d2/collector.pub" --host h.key --state h2.state --out c2.bin \
	--count 1 || exit 1
"$coll" import --dir "$d2" c2.bin >/dev/null 2>&1 || exit 1
d_save=$d
d=$d2
ex "$work/b2" laptop >/dev/null 2>&1 || exit 1
d=$d_save
copy resign
cp b2/manifest.json b2/manifest.sig t-resign/
tamper resign 'manifest.sig: manifest signature: manifest.json is not signed by the collector key given' \
	'manifest.sig: manifest signature'

# An evidence file without an inclusion proof: the manifest check names
# it first; the proofs check names it too (it alone would catch a faulty
# exporter listing such a file in a signed manifest).
copy orphan
cp t-orphan/evidence/leaf-00000000.batch t-orphan/evidence/leaf-00000099.batch
tamper orphan 'evidence/leaf-00000099.batch: manifest: present in the bundle but not listed' \
	'evidence/leaf-00000099.batch: proofs: an evidence file that custody/proofs.json does not list'

copy extra
mkdir t-extra/more && echo hi >t-extra/more/note.txt && echo hi >t-extra/keys/note.txt
tamper extra 'more: manifest: a directory the bundle layout does not have' \
	'keys/note.txt: manifest: present in the bundle but not listed'

echo "$name: $fails failed"
[ "$fails" -eq 0 ]
