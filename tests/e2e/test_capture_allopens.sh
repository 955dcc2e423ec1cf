#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end, on the running kernel: `custos-agent print --all-opens`
# records every open that succeeded or was refused, read-only ones too,
# on a mount other than the root file system's (a tmpfs mounted in a
# private mount namespace) and on the root's (/etc/hostname), with its
# exact fields; a read that failed otherwise (ENOENT) is left out. The
# same calls under the default configuration record none of these reads
# (the write open, recorded by both, shows that the agent was capturing).
. "$(dirname "$0")/capture_lib.sh"

mkdir -p "$work/t"
# The scenario, run once per agent: in a private mount namespace, a tmpfs
# on $work/t; a file written there (write open), read back (openat and
# open, read-only), a read of a file that does not exist, a read of a
# mode-0600 file refused to nobody, and a read of /etc/hostname; and a
# file below directories whose names have every length the path walk's
# 8-byte copies treat apart (bpf/path.bpf.h custos_copy_name: 1, 7-9,
# 15-17, 39-41 around the dentry's 40-byte inline name, 255), opened by
# its name alone on a dirfd, so its path is the kernel's walk.
scenario() {
	unshare -m --propagation private sh -c '
		mount -t tmpfs -o size=1m custos-e2e "$1/t" || exit 1
		echo secret >"$1/t/private" && chmod 600 "$1/t/private" || exit 1
		python3 - "$1" >"$2" <<"EOF_PY" || exit 1
import ctypes, json, os, sys
work = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sc(*a):
    r = libc.syscall(*[ctypes.c_long(x) if isinstance(x, int) else x for x in a])
    return r if r >= 0 else -ctypes.get_errno()
AT_FDCWD, O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC = -100, 0, 1, 0o100, 0o1000
f = work + "/t/f"
facts = {"pid": os.getpid()}
facts["write"] = sc(257, AT_FDCWD, f.encode(), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
os.close(facts["write"])
os.chdir(work + "/t")
facts["read_at"] = sc(257, AT_FDCWD, b"f", O_RDONLY, 0)     # openat, relative
facts["read_open"] = sc(2, f.encode(), O_RDONLY, 0)         # open(2)
facts["hostname"] = sc(257, AT_FDCWD, b"/etc/hostname", O_RDONLY, 0)
facts["missing"] = sc(257, AT_FDCWD, b"nonexistent", O_RDONLY, 0)
names = [c * n for c, n in zip("abcdefghijklm", (1, 7, 8, 9, 15, 16, 17, 39, 40, 41, 255, 2, 3))]
deep = work + "/t/" + "/".join(names)
os.makedirs(deep)
open(deep + "/g", "w").close()
dfd = os.open(deep, os.O_RDONLY | os.O_DIRECTORY)
facts["deep"] = deep + "/g"
facts["read_deep"] = sc(257, dfd, b"g", O_RDONLY, 0)
for k in ("read_at", "read_open", "hostname", "read_deep"):
    os.close(facts[k])
json.dump(facts, sys.stdout)
EOF_PY
		setpriv --reuid 65534 --regid 65534 --clear-groups cat "$1/t/private" \
			>/dev/null 2>&1
		umount "$1/t"' sh "$work" "$1"
}

# A read from a cgroup v2 group of its own: the header's cgroup_id must be
# that group's id (its directory's inode number), read by plain loads.
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
cg=""
if [ -n "$cg2" ] && mkdir "$cg2/custos-allopens-$$" 2>/dev/null; then
	cg="$cg2/custos-allopens-$$"
	trap 'rmdir "$cg" 2>/dev/null; cleanup' EXIT
fi

start_agent --all-opens
scenario "$work/all.json" || { echo "$name: the scenario failed"; exit 1; }
if [ -n "$cg" ]; then
	sh -c "echo \$\$ >'$cg/cgroup.procs' && exec cat /etc/hostname" >/dev/null ||
		{ echo "$name: the read in cgroup $cg failed"; exit 1; }
	echo "$(stat -c %i "$cg") $(stat -c %i "$cg2$(sed -n 's/^0:://p' /proc/self/cgroup)")" \
		>"$work/cgroup.id"
else
	echo "$name: no cgroup2 mount (or no room for a group): the cgroup id is not checked"
fi
stop_agent
mv "$agent_out" "$work/all.jsonl"
grep -q '^custos-agent: capturing.* all-opens' "$agent_err" ||
	{ echo "$name: the capturing line does not say all-opens"; exit 1; }
mv "$agent_err" "$work/all.err"	# start_agent waits for a new capturing line

start_agent
scenario "$work/default.json" || { echo "$name: the scenario failed"; exit 1; }
stop_agent
mv "$agent_out" "$work/default.jsonl"

python3 - "$work" <<'EOF_PY'
import json, sys
work = sys.argv[1]
failures = []

def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

def load(run):
    return json.load(open(f"{work}/{run}.json")), [json.loads(l) for l in open(f"{work}/{run}.jsonl")]

def opens(records, pid, **fields):
    return [r for r in records if r["kind"] == "open" and r["pid"] == pid and
            all(r.get(k) == v for k, v in fields.items())]

f = work + "/t/f"
private = work + "/t/private"
for run, all_opens in (("all", True), ("default", False)):
    facts, records = load(run)
    p = facts["pid"]
    check(f"{run}: the scenario's calls succeeded (missing: ENOENT)",
          min(facts[k] for k in ("write", "read_at", "read_open", "hostname", "read_deep")) >= 0 and
          facts["missing"] == -2)
    check(f"{run}: the write open on the tmpfs is recorded",
          len(opens(records, p, op=257, path=f, path_raw=f, flags=0o1101, mode=0o644,
                    result=facts["write"], uid=0)) == 1)
    reads = [
        ("read-only openat on the tmpfs, relative", dict(op=257, path=f, path_raw="f", flags=0, mode=0, result=facts["read_at"], uid=0)),
        ("read-only open(2) on the tmpfs", dict(op=2, path=f, path_raw=f, flags=0, mode=0, result=facts["read_open"], uid=0)),
        ("read-only open of /etc/hostname", dict(op=257, path="/etc/hostname", path_raw="/etc/hostname", flags=0, mode=0, result=facts["hostname"], uid=0)),
        ("read-only openat on a dirfd below names of 1-255 bytes", dict(op=257, path=facts["deep"], path_raw="g", path_truncated=0, flags=0, mode=0, result=facts["read_deep"], uid=0)),
    ]
    for what, fields in reads:
        got = opens(records, p, **fields)
        want = 1 if all_opens else 0
        check(f"{run}: {what}: {want} record(s) with {fields}", len(got) == want)
        if len(got) != want:
            for r in opens(records, p):
                print("     seen:", {k: r[k] for k in ("op", "path", "path_raw", "flags", "mode", "result")})
    check(f"{run}: the read that failed with ENOENT is not recorded",
          not opens(records, p, path_raw="nonexistent"))
    cats = [x["pid"] for x in records if x["kind"] == "exec" and x["result"] == 0 and x["argv"] == ["cat", private]]
    refused = [x for x in records if x["kind"] == "open" and x["pid"] in cats]
    check(f"{run}: the exec of the refused reader is recorded", len(cats) == 1)
    if all_opens:
        check(f"{run}: the refused read is recorded with -EACCES and its path",
              [(x["path"], x["result"], x["uid"], x["flags"] & 3) for x in refused if x["path_raw"] == private]
              == [(private, -13, 65534, 0)])
    else:
        check(f"{run}: the refused read of a file on no sensitive list is not recorded",
              not [x for x in refused if x["path_raw"] == private])
try:
    cg, own = map(int, open(work + "/cgroup.id").read().split())
except FileNotFoundError:
    cg = None
if cg is not None:
    facts, records = load("all")
    cats = [x["pid"] for x in records if x["kind"] == "exec" and x["result"] == 0 and x["argv"] == ["cat", "/etc/hostname"]]
    got = [x["cgroup_id"] for x in records if x["kind"] == "open" and x["pid"] in cats and x["path"] == "/etc/hostname"]
    check(f"the read in a cgroup of its own has its cgroup_id {cg}", got == [cg])
    check(f"the scenario's reads have the test's own cgroup's id {own}",
          {r["cgroup_id"] for r in opens(records, facts["pid"])} == {own})
sys.exit(1 if failures else 0)
EOF_PY
