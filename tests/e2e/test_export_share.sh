#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The second part of export (docs/export.md): case.jsonld (CASE/UCO
# JSON-LD well-formed: JSON with @context, every node with @id and @type,
# ids unique, every reference resolving; the classes used), the agent's
# receipts in custody/receipts/ checked by custos-verify (and a tampered or
# misplaced one caught), the CSIRT profile (STIX 2.1: each object's
# required properties, the TLP 2.0 marking on every object; MISP event; no
# raw home path, user name or internal address from the evidence unless
# --no-pseudonymise; the key outside both), custos-verify on the tar
# itself, and tars with path traversal, a symlink, a duplicate name or an
# oversized member refused; progress only on a terminal.
set -u
name=test_export_share
. "$(dirname "$0")/collector_lib.sh"
verify="$root/${BUILD:-build}/custos-verify"
[ -x "$verify" ] || { echo "$name: $verify not built (run make)"; exit 1; }

d="$work/coll"
cd "$work" || exit 1
"$coll" init --dir "$d" >/dev/null || exit 1
"$peer" keygen h || exit 1
"$coll" enroll --dir "$d" --name laptop --key h.pub >/dev/null || exit 1
mkdir rules acks
cat >rules/cat.yml <<'EOF'
title: cat was run (test rule)
id: 5b0e4a52-4f3e-4d7e-9a39-0c1f2d3e4f50
status: test
level: medium
custos_taxonomy: information-gathering/scanner
custos_budapest_article: '2'
custos_attack_technique: T1005
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        Image|endswith: /cat
    condition: selection
EOF
start_serve "$d" --rules "$work/rules"
p="--connect 127.0.0.1:$port --collector $d/collector.pub --host h.key --state h.state --acks acks"
"$peer" send $p --count 2 >send1.out || { echo "send failed"; exit 1; }
# The second host's batches carry a failed ssh login of alice from an
# internal address (auth records, USER_AUTH) in place of their heartbeats.
authtext='op=PAM:authentication grantors=? acct="alice" exe="/usr/sbin/sshd" hostname=192.168.1.20 addr=192.168.1.20 terminal=ssh res=failed'
"$peer" send $p --count 2 --path /home/alice/.ssh/id_rsa --auth "$authtext" >send2.out ||
	{ echo "send failed"; exit 1; }
stop_serve
check "peer: 4 acks kept as receipts" [ "$(ls acks | wc -l)" -eq 4 ]

ex() {	# ex OUT [OPTIONS...]
	out=$1
	shift
	"$coll" export --dir "$d" --case CASE-9 --host laptop --from 2025-11-22T00:00:00Z \
		--to 2025-11-22T01:00:00Z --reason "credential theft" --legal-basis "warrant 3/2025" \
		--requester "CSIRT-GOV" "$@" --out "$out"
}
ex "$work/b" --receipts acks --profile csirt --tlp amber+strict >export.out 2>&1
check "export with receipts and the CSIRT profile: succeeds" [ $? -eq 0 ]
check "export: 4 receipts kept" grep -q '^export: 4 receipts of exported batches kept' export.out
check "export: no progress line when stderr is not a terminal" sh -c '! grep -q "batches in the log read" export.out'
check "export: case.jsonld and receipts in the signed manifest" python3 -c '
import json,sys; f=[x["path"] for x in json.load(open("b/manifest.json"))["files"]]
sys.exit(not ("case.jsonld" in f and sum(p.startswith("custody/receipts/leaf-") for p in f)==4))'

# case.jsonld: JSON-LD well-formedness and the CASE/UCO classes used.
cat >case_check.py <<'EOF'
import json, re, sys
doc = json.load(open(sys.argv[1]))
ctx = doc.get("@context")
assert isinstance(ctx, dict) and isinstance(doc.get("@graph"), list), "no @context or @graph"
for p in ("case-investigation", "uco-core", "uco-observable", "uco-action", "uco-tool"):
    assert ctx.get(p, "").startswith("https://ontology."), "prefix " + p
nodes, refs = {}, []
def walk(x, top=False):
    if isinstance(x, dict):
        if "@value" in x:
            assert set(x) == {"@type", "@value"}, x
            return
        if set(x) == {"@id"}:
            refs.append(x["@id"]); return
        assert "@id" in x and "@type" in x, "node without @id/@type: %r" % (x,)
        assert x["@id"] not in nodes, "duplicate id " + x["@id"]
        nodes[x["@id"]] = x
        for k, v in x.items():
            if not k.startswith("@"):
                assert ":" in k and k.split(":")[0] in ctx, "property %s without prefix" % k
                walk(v)
    elif isinstance(x, list):
        for v in x: walk(v)
    for t in ([] if not isinstance(x, dict) else [x.get("@type")]):
        pass
walk(doc["@graph"])
for r in refs:
    assert r in nodes, "dangling reference " + r
types = {}
for n in nodes.values():
    t = n["@type"]
    assert t.split(":")[0] in ctx, "type %s without prefix" % t
    types.setdefault(t, []).append(n)
need = ["case-investigation:Investigation", "case-investigation:InvestigativeAction",
        "case-investigation:ProvenanceRecord", "case-investigation:Authorization",
        "uco-tool:Tool", "uco-identity:Identity", "uco-observable:Process",
        "uco-observable:File", "uco-observable:NetworkConnection", "uco-types:Hash",
        "uco-observable:ProcessFacet", "uco-observable:FileFacet",
        "uco-observable:NetworkConnectionFacet", "uco-observable:ContentDataFacet"]
for t in need:
    assert t in types, "no " + t
inv = types["case-investigation:Investigation"][0]
assert inv["uco-core:name"] == "CASE-9" and inv["uco-core:description"] == "credential theft"
auth = nodes[inv["case-investigation:relevantAuthorization"]["@id"]]
assert auth["case-investigation:authorizationIdentifier"] == "warrant 3/2025"
names = sorted(a["uco-core:name"] for a in types["case-investigation:InvestigativeAction"])
assert names == ["collected", "exported", "preserved"], names
for a in types["case-investigation:InvestigativeAction"]:
    tool = nodes[a["uco-action:instrument"]["@id"]]
    assert tool["@type"] == "uco-tool:Tool" and tool["uco-tool:version"], tool
    assert a["uco-action:performer"]["@id"] in nodes
ex = [p for p in types["case-investigation:ProvenanceRecord"] if "-E" in p["case-investigation:exhibitNumber"]]
man = {f["path"]: f["sha256"] for f in json.load(open(sys.argv[2]))["files"]}
assert len(ex) == sum(1 for p in man if p.startswith("evidence/")), "one exhibit per evidence file"
for p in ex:
    f = nodes[p["uco-core:object"][0]["@id"]]
    path = [x for x in f["uco-core:hasFacet"] if x["@type"] == "uco-observable:FileFacet"][0]["uco-observable:filePath"]
    cd = [x for x in f["uco-core:hasFacet"] if x["@type"] == "uco-observable:ContentDataFacet"][0]
    assert cd["uco-observable:hash"][0]["uco-types:hashValue"]["@value"] == man[path], path
# Authentication attempts: an Action on the account, its result as status.
att = [a for a in types.get("uco-action:Action", []) if a["uco-core:name"] == "authentication attempt"]
assert len(att) == 4, "one attempt per auth record (4, each of its own process): %d" % len(att)
for a in att:
    assert a["uco-action:actionStatus"] == {"@type": "uco-vocabulary:ActionStatusTypeVocab", "@value": "Fail"}, a
    acct = nodes[a["uco-action:object"][0]["@id"]]
    assert acct["@type"] == "uco-observable:UNIXAccount", acct
    f = {x["@type"]: x for x in acct["uco-core:hasFacet"]}
    assert f["uco-observable:DigitalAccountFacet"]["uco-observable:accountLogin"] == "alice", f
    assert f["uco-observable:AccountFacet"]["uco-observable:accountType"] == "unix", f
    exe = nodes[a["uco-action:instrument"][0]["@id"]]
    fp = [x for x in exe["uco-core:hasFacet"] if x["@type"] == "uco-observable:FileFacet"][0]
    assert fp["uco-observable:filePath"] == "/usr/sbin/sshd", fp
    assert a["uco-action:startTime"]["@type"] == "xsd:dateTime"
    d = a["uco-core:description"]
    assert d.startswith("auth USER_AUTH PAM:authentication attempt for account alice by /usr/sbin/sshd from 192.168.1.20: result failed on host laptop by pid "), d
    assert re.search(r" \(evidence leaf \d+, record [37]\)$", d), d
assert len(types["uco-observable:UNIXAccount"]) == 1, "one account node per host and name"
print("case.jsonld: %d nodes, %d references, %d classes" % (len(nodes), len(refs), len(types)))
EOF
check "case.jsonld: well-formed JSON-LD, CASE/UCO classes, exhibits with the manifest's SHA-256" \
	python3 case_check.py b/case.jsonld b/manifest.json

"$verify" b --collector-key "$d/collector.pub" >v.out 2>&1
check "verify: the bundle with receipts verifies" [ $? -eq 0 ]
check "verify: the 4 receipts are checked" grep -q 'ok    4 agent receipts' v.out

# The CSIRT profile.
cat >stix_check.py <<'EOF'
import json, re, sys
b = json.load(open(sys.argv[1]))
tlp = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"	# TLP:AMBER+STRICT
assert b["type"] == "bundle" and re.fullmatch(r"bundle--[0-9a-f-]{36}", b["id"])
uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
ts = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"
sdo = {"identity": ["name"], "observed-data": ["first_observed", "last_observed", "number_observed", "object_refs"],
       "indicator": ["pattern", "pattern_type", "valid_from"], "sighting": ["sighting_of_ref"],
       "note": ["content", "object_refs"]}
sco = {"process": [], "file": ["name"], "directory": ["path"], "ipv4-addr": ["value"],
       "ipv6-addr": ["value"], "network-traffic": ["protocols"], "user-account": []}
ids = {o["id"] for o in b["objects"]}
seen = {}
for o in b["objects"]:
    t = o["type"]
    seen[t] = seen.get(t, 0) + 1
    assert o["spec_version"] == "2.1", o
    assert re.fullmatch(t + "--" + (uuid if t != "marking-definition" else r"[0-9a-f-]{36}"), o["id"]), o["id"]
    if t == "marking-definition":
        assert o["id"] == tlp and o["name"] == "TLP:AMBER+STRICT" and re.fullmatch(ts, o["created"])
        ext = o["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]
        assert ext == {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}
        continue
    assert o["object_marking_refs"] == [tlp], "no TLP marking on " + o["id"]
    if t in sdo:
        assert re.fullmatch(ts, o["created"]) and re.fullmatch(ts, o["modified"]), o
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["created"]), "created in ms"
        for p in sdo[t]:
            assert p in o, "%s without %s" % (t, p)
    else:
        assert t in sco, "unexpected type " + t
        for p in sco[t]:
            assert p in o, "%s without %s" % (t, p)
        assert "created" not in o
    for k, v in o.items():
        if k.endswith("_ref"):
            assert v in ids, "dangling %s %s" % (k, v)
        if k.endswith("_refs"):
            for r in v:
                assert r in ids, "dangling %s %s" % (k, r)
    if t == "observed-data":
        assert 1 <= o["number_observed"] and o["object_refs"]
    if t == "indicator":
        assert o["pattern_type"] == "stix" and o["pattern"].startswith("[")
for t in ("marking-definition", "identity", "observed-data", "indicator", "sighting", "process",
          "file", "network-traffic", "ipv4-addr", "user-account", "note"):
    assert t in seen, "no " + t
# The attempts: the account (pseudonymised as its /home directory is),
# the source address, a note each stating the attempt and its record.
byid = {o["id"]: o for o in b["objects"]}
accts = [o for o in b["objects"] if o["type"] == "user-account" and "account_login" in o]
assert len(accts) == 1 and accts[0]["account_type"] == "unix", accts
login = accts[0]["account_login"]
notes = [o for o in b["objects"] if o["type"] == "note"]
assert len(notes) == 4, notes
for n in notes:
    assert n["abstract"] == "authentication attempt: failed", n
    assert n["object_refs"][0] == accts[0]["id"], n
    src = byid[n["object_refs"][1]]
    assert src["type"] == "ipv4-addr", src
    assert n["content"].startswith("USER_AUTH PAM:authentication attempt for account %s by /usr/sbin/sshd from %s on host laptop at " % (login, src["value"])), n
    assert re.search(r": result failed \(evidence leaf \d+, record [37]\)$", n["content"]), n
    od = [o for o in b["objects"] if o["type"] == "observed-data"][0]
    assert accts[0]["id"] in od["object_refs"] and src["id"] in od["object_refs"], od
m = json.load(open(sys.argv[2]))["Event"]
assert m["Tag"] == [{"name": "tlp:amber+strict"}] and m["Attribute"], m
for a in m["Attribute"]:
    assert re.fullmatch(uuid, a["uuid"]) and a["type"] and a["category"] and a["value"], a
tu = [a for a in m["Attribute"] if a["type"] == "target-user"]
assert [a["value"] for a in tu] == [login] and tu[0]["category"] == "Targeting data", tu
assert tu[0]["comment"] == "USER_AUTH authentication attempt on host laptop: result failed", tu
ips = [a["value"] for a in m["Attribute"] if a["type"] == "ip-src"]
assert ips == [byid[notes[0]["object_refs"][1]]["value"]], ips
print("stix: %s" % seen)
EOF
check "csirt: STIX 2.1 objects with their required properties and the TLP 2.0 marking; MISP event" \
	python3 stix_check.py b-csirt/stix-bundle.json b-csirt/misp-event.json
check "csirt: the evidence has the raw values (home path, internal address)" \
	sh -c 'grep -q "/home/alice/.ssh/id_rsa" b/timeline.jsonl && grep -q "10.0.0.1" b/timeline.jsonl'
check "csirt: no raw home path, user name or internal address in the shared files" \
	sh -c '! grep -rlE "alice|10\.0\.0\.1|\"user_id\": \"1000\"" b-csirt'
check "csirt: pseudonyms in their place" \
	sh -c 'grep -q "\"path\": \"/home/u-[0-9a-f]\{16\}/.ssh\"" b-csirt/stix-bundle.json &&
		grep -q "/home/u-[0-9a-f]\{16\}/.ssh/id_rsa" b-csirt/misp-event.json &&
		grep -q "\"user_id\": \"user-[0-9a-f]\{32\}\"" b-csirt/stix-bundle.json &&
		grep -q "\"value\": \"10\.[0-9.]*\"" b-csirt/stix-bundle.json'
check "csirt: the key is beside, 0600, in neither the bundle nor the shared directory" \
	sh -c '[ "$(stat -c %a b-csirt.key)" = 600 ] && ! grep -rqF "$(cat b-csirt.key)" b b-csirt'
check "csirt: an alert became an indicator and a sighting" \
	grep -q '"pattern": "\[process:image_ref.name = '"'"'cat'"'"'\]"' b-csirt/stix-bundle.json

# The same key gives the same pseudonyms; --no-pseudonymise shares raw values.
ex "$work/k" --profile csirt --pseudonym-key b-csirt.key >/dev/null 2>&1
check "csirt: the same key gives the same pseudonyms" sh -c \
	'[ "$(grep -o "/home/u-[0-9a-f]*" b-csirt/misp-event.json | sort -u)" = "$(grep -o "/home/u-[0-9a-f]*" k-csirt/misp-event.json | sort -u)" ]'
check "csirt: no key file written when one is given" [ ! -e k-csirt.key ]
ex "$work/r" --profile csirt --no-pseudonymise >/dev/null 2>&1
check "csirt: --no-pseudonymise shares the raw values" \
	sh -c 'grep -q "/home/alice/.ssh/id_rsa" r-csirt/misp-event.json && grep -q "10.0.0.1" r-csirt/stix-bundle.json &&
		grep -q "\"account_login\": \"alice\"" r-csirt/stix-bundle.json &&
		grep -q "\"value\": \"192.168.1.20\"" r-csirt/misp-event.json'
# The documented construction (docs/export.md, test vector): the key
# 00 01 .. 1f; python's BLAKE2b computes the pseudonyms independently.
python3 -c 'print(bytes(range(32)).hex())' >vec.key
ex "$work/vec" --profile csirt --pseudonym-key vec.key >/dev/null 2>&1
check "csirt: pseudonyms follow the documented construction (test vector)" python3 -c '
import hashlib, json, sys
k = bytes(range(32))
def t(c, v): return hashlib.blake2b(b"custos-pseudonym-v1\0" + c.encode() + b"\0" + v.encode(), key=k, digest_size=16).hexdigest()
h, u, i = t("home", "alice"), t("user", "1000"), bytes.fromhex(t("ipv4", "10.0.0.1"))
assert (h[:16], "user-" + u, "10.%d.%d.%d" % (i[0], i[1], i[2])) == ("714ee77f76e0f3e5", "user-1fa7f8c9d350cb85e25c714b8ee33bc3", "10.210.213.66")
s = open("vec-csirt/stix-bundle.json").read() + open("vec-csirt/misp-event.json").read()
a = bytes.fromhex(t("ipv4", "192.168.1.20"))
for want in ("/home/u-" + h[:16] + "/.ssh", "\"user-" + u + "\"", "\"10.%d.%d.%d\"" % (i[0], i[1], i[2]),
             "\"account_login\": \"u-" + h[:16] + "\"", "\"value\": \"10.%d.%d.%d\"" % (a[0], a[1], a[2])):
    assert want in s, want
'
ex "$work/bad" --no-pseudonymise >/dev/null 2>&1
check "export: --no-pseudonymise without --profile csirt is misuse (exit 2)" [ $? -eq 2 ]
# The CSIRT profile runs before the custody entry, the manifest and the
# tar: when it fails (an unreadable pseudonym key) the export fails with
# exit 1 and leaves no signed bundle, no tar and no export event.
printf 'not a key\n' >bad.key
ev_before=$(grep -c '"action":"export"' "$d/custody/events.jsonl")
ex "$work/badkey" --profile csirt --pseudonym-key bad.key >badkey.out 2>&1
check "csirt: a bad pseudonym key fails the export (exit 1), named" \
	sh -c "[ $? -eq 1 ] && grep -q 'pseudonym key bad.key' badkey.out"
check "csirt: ... before anything is signed: no manifest.sig, no tar, no export event" \
	sh -c "[ ! -e badkey/manifest.sig ] && [ ! -e badkey.tar ] &&
		[ \$(grep -c '\"action\":\"export\"' '$d/custody/events.jsonl') -eq $ev_before ]"

# Progress on a terminal (script(1) gives the export a pty).
if command -v script >/dev/null 2>&1; then
	script -qec "$coll export --dir $d --case CASE-9 --host laptop --from 0 --to 1900000000 \
		--reason r --legal-basis l --requester q --out $work/tty" tty.out >/dev/null 2>&1
	check "export: progress on a terminal" grep -q 'batches in the log read, 4 exported' tty.out
fi

# custos-verify reads the tar; hostile archives are refused. Its unpacked
# copies go to a directory of this test's own, so that the checks that
# nothing is left behind cannot see another program's (fuzz_tar and
# bench_export make custos-verify.* directories in /tmp too).
TMPDIR="$work/verify-tmp"
export TMPDIR
mkdir -p "$TMPDIR" || exit 1
"$verify" b.tar "$d/collector.pub" >vt.out 2>&1
check "verify: the tar verifies (custos-verify BUNDLE.tar KEY)" [ $? -eq 0 ]
check "verify: the tar report names the archive" grep -q '^custos-verify: bundle b.tar (tar archive' vt.out
check "verify: nothing left of the unpacked copy" sh -c '! ls "${TMPDIR:-/tmp}" | grep -q "^custos-verify\."'
cat >evil.py <<'EOF'
import io, sys, tarfile
src = tarfile.open("b.tar")
members = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()]
def write(name, extra):
    with tarfile.open(name, "w", format=tarfile.GNU_FORMAT) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
        extra(t)
def add(t, n, data=b"x", kind=tarfile.REGTYPE, link=""):
    i = tarfile.TarInfo(n); i.type = kind; i.linkname = link
    i.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
write("evil-traversal.tar", lambda t: add(t, "b/../../etc/evil"))
write("evil-symlink.tar", lambda t: add(t, "b/keys/link.pub", kind=tarfile.SYMTYPE, link="/etc/passwd"))
write("evil-dup.tar", lambda t: add(t, "b/timeline.csv"))
# oversized: a member whose size field exceeds what the archive holds
raw = bytearray(open("b.tar", "rb").read())
h = raw[0:512]
off = 512 * 1
for m, data in members:
    pass
i = tarfile.TarInfo("b/huge.bin"); i.size = 1 << 33
hdr = bytearray(i.tobuf(format=tarfile.GNU_FORMAT))
end = len(raw)
while raw[end - 512:end] == bytes(512):
    end -= 512
open("evil-big.tar", "wb").write(bytes(raw[:end]) + bytes(hdr) + b"x" * 512 + bytes(1024))
EOF
python3 evil.py || echo "evil.py failed"
refused() {	# refused TAR WHAT
	"$verify" "$1" "$d/collector.pub" >"$1.out" 2>&1
	rc=$?
	check "verify: $1 refused (exit 1)" [ $rc -eq 1 ]
	check "verify: $1: says why ($2)" grep -q "archive refused: .*$2" "$1.out"
}
refused evil-traversal.tar 'path traversal refused'
refused evil-symlink.tar 'a symbolic link: refused'
refused evil-dup.tar 'a second member of the same name'
refused evil-big.tar 'oversized member'
check "verify: a refused archive leaves nothing behind" sh -c '! ls "${TMPDIR:-/tmp}" | grep -q "^custos-verify\."'

# Receipts tampered with: a flipped byte, a receipt moved to another leaf.
cp -a b t-flip
f=$(ls t-flip/custody/receipts | head -1)
printf '\377' | dd of="t-flip/custody/receipts/$f" bs=1 seek=40 conv=notrunc 2>/dev/null
"$verify" t-flip --collector-key "$d/collector.pub" --all >t-flip.out 2>&1
check "receipts: a flipped byte fails, named" sh -c "[ $? -eq 1 ] && grep -q 'custody/receipts/$f: receipt signature' t-flip.out"
cp -a b t-move
set -- $(ls t-move/custody/receipts)
cp "t-move/custody/receipts/$1" "t-move/custody/receipts/$2"
"$verify" t-move --collector-key "$d/collector.pub" --all >t-move.out 2>&1
check "receipts: a receipt of another batch fails, named" sh -c "[ $? -eq 1 ] && grep -q 'custody/receipts/$2 (leaf [0-9]*): receipt: the acknowledgement is for leaf' t-move.out"

echo "$name: $fails failed"
[ "$fails" -eq 0 ]
