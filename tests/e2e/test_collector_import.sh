#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# custos-collector import of an agent's offline file, in both layouts it
# reads: length-prefixed sealed envelopes, and BATCH frames (what
# custos-agent's offline mode writes). Checks: every batch imported once,
# in order; importing the same file again stores nothing twice; a file
# cut inside an envelope imports what precedes the cut and says where it
# stopped; a batch from an unknown host is refused with its reason; import
# refuses to run beside serve (directory lock).
set -u
name=test_collector_import
. "$(dirname "$0")/collector_lib.sh"

d="$work/coll"
cd "$work" || exit 1
"$coll" init --dir "$d" >/dev/null || exit 1
"$peer" keygen "$work/h" || exit 1
"$peer" keygen "$work/x" || exit 1
"$coll" enroll --dir "$d" --name laptop --key h.pub >/dev/null || exit 1
p="--collector $d/collector.pub --host h.key --state h.state"
"$peer" offline $p --out lp.bin --count 5 || exit 1
"$peer" offline $p --out fr.bin --count 4 --framed || exit 1

"$coll" import --dir "$d" lp.bin >lp.out 2>&1
check "length-prefixed file: imported" [ $? -eq 0 ]
check "length-prefixed file: 5 imported" grep -q '^lp.bin (length-prefixed envelopes): 5 imported, 0 already held, 0 refused$' lp.out
"$coll" import --dir "$d" fr.bin >fr.out 2>&1
check "frame file: 4 imported, seqs 5-8" grep -q '^fr.bin (BATCH frames): 4 imported, 0 already held, 0 refused$' fr.out
check "frame file: seq 8 is leaf 8" grep -q 'imported envelope 4: host laptop seq 8: leaf 8$' fr.out
"$coll" import --dir "$d" lp.bin >again.out 2>&1
check "the same file again: nothing stored twice" grep -q ': 0 imported, 5 already held, 0 refused$' again.out
check "log still 9 leaves" [ "$(stat -c %s "$d/custody/leaves")" -eq $((9 * 48)) ]

"$peer" offline $p --out cut.bin --count 3 --framed || exit 1
head -c $(($(stat -c %s cut.bin) - 100)) cut.bin >cut2.bin
"$coll" import --dir "$d" cut2.bin >cut.out 2>&1
check "cut file: fails" [ $? -ne 0 ]
check "cut file: says where it stopped" grep -q 'item 3 at offset [0-9]*: the file ends inside it' cut.out
check "cut file: the 2 whole batches imported" grep -q ': 2 imported, 0 already held, 0 refused$' cut.out

"$peer" offline --collector "$d/collector.pub" --host x.key --state x.state --out x.bin || exit 1
"$coll" import --dir "$d" x.bin >x.out 2>&1
check "unknown host: refused with its reason" grep -q 'envelope 1 at offset 0: batch refused: unknown host' x.out

start_serve "$d"
"$coll" import --dir "$d" lp.bin >locked.out 2>&1
check "import beside serve: refused" [ $? -ne 0 ]
check "import beside serve: says why" grep -q 'running custos-collector holds the directory' locked.out
stop_serve
"$coll" timeline --dir "$d" --host laptop --format csv >tl.csv
check "timeline: 11 batches x 8 records" [ "$(($(wc -l <tl.csv) - 1))" -eq 88 ]

# An inclusion proof, checked independently of the C code: the leaf is
# re-read from the archive with the layout of docs/collector.md, hashed as
# RFC 9162 says, the path folded per RFC 9162 2.1.3.2, and the root must be
# the one the signed checkpoint (size 11, written by import) commits to.
"$coll" proof --dir "$d" --leaf 6 >proof.out 2>&1
check "proof: printed" grep -q '^inclusion leaf 6 size 11$' proof.out
check "proof: verifies against the archive and the checkpoint" python3 - "$d" <<'PY'
import base64, hashlib, struct, sys
d = sys.argv[1]
lines = [l.split() for l in open("proof.out")]
vals = {}
path = []
for l in lines:
    if l[0] == "path": path.append(bytes.fromhex(l[1]))
    elif l[0] in ("leaf-hash", "root"): vals[l[0]] = bytes.fromhex(l[1])
e = open(d + "/custody/leaves", "rb").read()[6 * 48:7 * 48]
seg, off, n = struct.unpack(">IQI", e[32:])
rec = open("%s/archive/seg-%08u" % (d, seg), "rb").read()[off:off + 16 + n + 32]
assert rec[:4] == b"CSTR" and struct.unpack(">I", rec[4:8])[0] == n
leaf = hashlib.sha256(b"\0" + rec[16:16 + n]).digest()
assert leaf == rec[16 + n:] == e[:32] == vals["leaf-hash"]
fn, sn, r = 6, 10, leaf
for p in path:
    assert sn != 0
    if fn % 2 == 1 or fn == sn:
        r = hashlib.sha256(b"\1" + p + r).digest()
        if fn % 2 == 0:
            while fn % 2 == 0 and fn != 0:
                fn >>= 1; sn >>= 1
    else:
        r = hashlib.sha256(b"\1" + r + p).digest()
    fn >>= 1; sn >>= 1
assert sn == 0 and r == vals["root"]
cp = open(d + "/custody/checkpoint").read().split("\n")
assert cp[1] == "11" and base64.b64decode(cp[2]) == r
PY

if [ "$fails" -ne 0 ]; then
	echo "$name: $fails check(s) failed"
	for f in lp fr again cut x locked; do echo "--- $f"; cat "$f.out"; done
	exit 1
fi
exit 0
