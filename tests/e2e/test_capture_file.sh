#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end, on the running kernel: file events captured by custos-agent
# print must give absolute paths resolved in the kernel, the raw argument,
# and the syscall's result, for calls made through a relative path after
# chdir, through openat with a dirfd, through a symlink, and a bind mount in
# a private mount namespace; sensitive reads (allowed and refused) are
# recorded, ordinary reads are not; --ignore-exe drops a process's file
# events but keeps its exec.
. "$(dirname "$0")/capture_lib.sh"

mkdir -p "$work/a/b" "$work/m" "$work/m2" "$work/ign"
cp "$(command -v touch)" "$work/ign/touch"
start_agent --ignore-exe "$work/ign/"

python3 - "$work" >"$work/facts.json" <<'EOF_PY'
import ctypes, errno, json, os, struct, sys
work = sys.argv[1]
facts = {"pid": os.getpid()}
os.chdir(work + "/a")
fd = os.open("b/f1", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)   # relative, after chdir
facts["f1_fd"] = fd                         # the lowest free fd: the runner may hold 3
os.close(fd)
dfd = os.open("b", os.O_RDONLY | os.O_DIRECTORY)
fd = os.open("f2", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=dfd)      # openat with a dirfd
os.close(fd)
os.rename("b/f1", "b/f3")
os.chmod("b/f3", 0o604)
os.chown("b/f3", 1234, 5678)
os.truncate("b/f3", 10)
os.symlink("f3", "b/lnk")
fd = os.open("b/lnk", os.O_WRONLY)          # through the symlink: the real file
os.close(fd)
os.link("b/f3", "b/hard")
os.unlink("b/hard")
try:
    os.unlink("b/nonexistent")
except FileNotFoundError:
    pass
os.mkdir("c", 0o751)
os.rmdir("c")
os.unlink("f2", dir_fd=dfd)                 # unlinkat on the dirfd: the file is gone at exit
try:
    os.setxattr("b/f3", "user.custos", b"v1")
    facts["setxattr"] = 0
except OSError as e:
    facts["setxattr"] = -e.errno
try:
    os.removexattr("b/f3", "user.custos")
    facts["removexattr"] = 0
except OSError as e:
    facts["removexattr"] = -e.errno
# setxattrat/removexattrat (Linux 6.13, x86-64 463 and 466) on a dirfd.
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
val = ctypes.create_string_buffer(b"abc")
xargs = ctypes.create_string_buffer(struct.pack("<QII", ctypes.addressof(val), 3, 0))
AT_FDCWD = -100
def sc(*a):
    r = libc.syscall(*[ctypes.c_long(x) if isinstance(x, int) else x for x in a])
    return r if r >= 0 else -ctypes.get_errno()
facts["setxattrat"] = sc(463, AT_FDCWD, b"b/f3", 0, b"user.at", xargs, 16)
facts["removexattrat"] = sc(466, dfd, b"f3", 0, b"user.at")
with open("/etc/hostname") as f:            # an ordinary read: not recorded
    f.read()
json.dump(facts, sys.stdout)
EOF_PY
[ $? -eq 0 ] || { echo "test_capture_file: the scenario failed"; exit 1; }

# A bind mount and its unmount, in a private mount namespace.
unshare -m --propagation private python3 - "$work" >"$work/mount.json" <<'EOF_PY'
import ctypes, json, os, sys
work = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
MS_BIND = 4096
r1 = libc.mount((work + "/a/b").encode(), (work + "/m").encode(), None, MS_BIND, None)
r2 = libc.umount2((work + "/m").encode(), 0)
# The mount API (x86-64 numbers): a tmpfs built with fsopen, fsconfig and
# fsmount, attached by move_mount; a bind of a/b taken with open_tree.
libc.syscall.restype = ctypes.c_long
def sc(*a):
    r = libc.syscall(*[ctypes.c_long(x) if isinstance(x, int) else x for x in a])
    return r if r >= 0 else -ctypes.get_errno()
AT_FDCWD, EMPTY_PATH = -100, 4                          # MOVE_MOUNT_F_EMPTY_PATH
fs = sc(430, b"tmpfs", 1)                               # fsopen, FSOPEN_CLOEXEC
cfg = sc(431, fs, 1, b"size", b"1m", 0)                 # fsconfig, FSCONFIG_SET_STRING
create = sc(431, fs, 6, None, None, 0)                  # FSCONFIG_CMD_CREATE
mfd = sc(432, fs, 1, 4)                                 # fsmount, CLOEXEC, MOUNT_ATTR_NODEV
mv = sc(429, mfd, b"", AT_FDCWD, (work + "/m").encode(), EMPTY_PATH)
# mount_setattr (442) on it: struct mount_attr {attr_set, attr_clr,
# propagation, userns_fd}, read as far as the size argument says: 32 (its
# version 0), 16 (refused: EINVAL; only the first two fields are the
# call's), 40 (the extra zero bytes allowed; userns_fd unused without
# MOUNT_ATTR_IDMAP).
import struct
MS_PRIVATE, MS_SHARED = 1 << 18, 1 << 20
def setattr(size, *attr):
    buf = ctypes.create_string_buffer(struct.pack("<4Q", *attr) + bytes(8), 40)
    return sc(442, AT_FDCWD, (work + "/m").encode(), 0, buf, size)
sa32 = setattr(32, 0x3, 0x4, MS_PRIVATE, 0)      # RDONLY|NOSUID set, NODEV cleared
sa16 = setattr(16, 0x8, 0x0, MS_SHARED, 5)
sa40 = setattr(40, 0x8, 0x1, 0, 7)               # NOEXEC set, RDONLY cleared
tree = sc(428, AT_FDCWD, (work + "/a/b").encode(), 1 | 0o2000000)   # OPEN_TREE_CLONE|CLOEXEC
mv2 = sc(429, tree, b"", AT_FDCWD, (work + "/m2").encode(), EMPTY_PATH)
libc.umount2((work + "/m2").encode(), 0)
libc.umount2((work + "/m").encode(), 0)
json.dump({"pid": os.getpid(), "mount": r1, "umount": r2, "fsopen": fs, "fsconfig": cfg,
           "create": create, "fsmount": mfd, "move_mount": mv, "open_tree": tree,
           "move_mount2": mv2, "sa32": sa32, "sa16": sa16, "sa40": sa40}, sys.stdout)
EOF_PY
[ $? -eq 0 ] || { echo "test_capture_file: the mount scenario failed"; exit 1; }

cat /etc/shadow >/dev/null
setpriv --reuid 65534 --regid 65534 --clear-groups cat /etc/shadow >/dev/null 2>&1
"$work/ign/touch" "$work/ignored-file"

stop_agent

python3 - "$agent_out" "$work" <<'EOF_PY'
import json, os, sys
path, work = sys.argv[1:]
facts = json.load(open(work + "/facts.json"))
mnt = json.load(open(work + "/mount.json"))
records = [json.loads(l) for l in open(path)]
failures = []

def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

def find(kind, pid, **fields):
    return [r for r in records if r["kind"] == kind and r["pid"] == pid and
            all(r.get(k) == v for k, v in fields.items())]

def one(what, kind, pid, **fields):
    got = find(kind, pid, **fields)
    check(f"{what}: one {kind} record with {fields}", len(got) == 1)
    if len(got) != 1:
        near = [r for r in records if r["kind"] == kind and r["pid"] == pid]
        for r in near:
            print("     seen:", {k: r[k] for k in r if k in ("path", "path_raw", "path2", "path2_raw", "result", "flags", "mode", "size", "name", "attr_flags", "attr_clr", "propagation", "userns_fd")})
    return got[0] if got else None

p = facts["pid"]
b = work + "/a/b"
O_WRONLY, O_CREAT, O_TRUNC = 0o1, 0o100, 0o1000
r = one("relative create after chdir", "open", p, path=b + "/f1", path_raw="b/f1", result=facts["f1_fd"])
if r:
    check("open flags and mode", r["flags"] & (O_WRONLY | O_CREAT | O_TRUNC) == O_WRONLY | O_CREAT | O_TRUNC and r["mode"] == 0o640)
one("openat with dirfd", "open", p, path=b + "/f2", path_raw="f2")
one("rename, both paths", "rename", p, path=b + "/f1", path_raw="b/f1", path2=b + "/f3", path2_raw="b/f3", result=0)
one("chmod", "chmod", p, path=b + "/f3", mode=0o604, result=0)
one("chown", "chown", p, path=b + "/f3", owner_uid=1234, owner_gid=5678, result=0)
one("truncate", "truncate", p, path=b + "/f3", size=10, result=0)
one("symlink: the link and its target text", "symlink", p, path=b + "/lnk", path2_raw="f3", result=0)
one("open through a symlink gives the real file", "open", p, path=b + "/f3", path_raw="b/lnk")
one("link", "link", p, path=b + "/f3", path2=b + "/hard", result=0)
one("unlink", "unlink", p, path=b + "/hard", result=0)
one("refused unlink keeps its errno", "unlink", p, op=87, path=b + "/nonexistent", result=-2)
one("mkdir", "mkdir", p, path=work + "/a/c", mode=0o751, result=0)
one("rmdir", "rmdir", p, path=work + "/a/c", result=0)
one("unlinkat on a dirfd", "unlink", p, op=263, path=b + "/f2", path_raw="f2", result=0)
one("setxattr", "setxattr", p, path=b + "/f3", name="user.custos", size=2, result=facts["setxattr"])
one("removexattr", "removexattr", p, path=b + "/f3", name="user.custos", result=facts["removexattr"])
capturing = [l for l in open(work + "/agent.err") if l.startswith("custos-agent: capturing")][0]
if facts["setxattrat"] != -38 and "setxattrat" not in capturing:    # ENOSYS: before 6.13
    one("setxattrat", "setxattr", p, path=b + "/f3", path_raw="b/f3", name="user.at", size=3, result=facts["setxattrat"])
    one("removexattrat on a dirfd", "removexattr", p, path=b + "/f3", path_raw="f3", name="user.at", result=facts["removexattrat"])
check("an ordinary read is not recorded", not find("open", p, path="/etc/hostname"))
check("no file record has a relative path",
      all(r["path"].startswith("/") for r in records if r["kind"] in ("open", "unlink", "rename", "chmod", "chown", "truncate", "link", "symlink", "mkdir", "rmdir", "setxattr", "removexattr", "umount") and r["path"]))

q = mnt["pid"]
r = one("bind mount", "mount", q, op=165, path=b, path2=work + "/m", result=mnt["mount"])
if r:
    check("mount flags have MS_BIND", r["flags"] & 4096)
one("umount", "umount", q, op=166, path=work + "/m", result=mnt["umount"])
check("the mount API calls succeeded", all(mnt[k] >= 0 for k in
      ("fsopen", "fsconfig", "create", "fsmount", "move_mount", "open_tree", "move_mount2")))
one("fsopen", "mount", q, op=430, name="tmpfs", flags=1, path="", path_raw="", attr_flags=0, result=mnt["fsopen"])
one("fsconfig size", "mount", q, op=431, name="size", path_raw="1m", path="", flags=1, attr_flags=0, result=0)
one("fsconfig create", "mount", q, op=431, name="", path_raw="", flags=6, attr_flags=0, result=0)
one("fsmount with MOUNT_ATTR_NODEV", "mount", q, op=432, flags=1, attr_flags=4, path="", path_raw="", name="", result=mnt["fsmount"])
# At exit the moved mount is attached: its fd resolves to the mount point.
one("move_mount of the new tmpfs", "mount", q, op=429, path=work + "/m", path_raw="", path2=work + "/m",
    path2_raw=work + "/m", flags=4, attr_flags=0, result=0)
one("open_tree", "mount", q, op=428, path=b, path_raw=b, flags=1 | 0o2000000, result=mnt["open_tree"])
one("move_mount of the tree", "mount", q, op=429, path2=work + "/m2", flags=4, result=0)
check("mount_setattr: sizes 32 and 40 accepted, 16 refused (EINVAL)",
      mnt["sa32"] == 0 and mnt["sa40"] == 0 and mnt["sa16"] == -22)
one("mount_setattr, size 32", "mount", q, op=442, path=work + "/m", path_raw=work + "/m", flags=0,
    attr_flags=3, attr_clr=4, propagation=1 << 18, userns_fd=0, result=mnt["sa32"])
one("mount_setattr, size 16: the fields it covers", "mount", q, path=work + "/m", attr_flags=8,
    attr_clr=0, propagation=0, userns_fd=0, result=mnt["sa16"])
one("mount_setattr, size 40", "mount", q, path=work + "/m", attr_flags=8, attr_clr=1,
    propagation=0, userns_fd=7, result=mnt["sa40"])
check("no other mount record has mount_attr fields",
      len([r for r in records if r["kind"] == "mount" and r["pid"] == q and
           (r["attr_clr"] or r["propagation"] or r["userns_fd"])]) == 2)

cats = [x["pid"] for x in records if x["kind"] == "exec" and x["argv"] == ["cat", "/etc/shadow"]]
shadow = [x for x in records if x["kind"] == "open" and x["pid"] in cats and x["path"] == "/etc/shadow"]
check("sensitive read of /etc/shadow recorded (result >= 0)", any(x["result"] >= 0 and x["uid"] == 0 for x in shadow))
check("refused sensitive read recorded with -EACCES", any(x["result"] == -13 and x["uid"] == 65534 for x in shadow))

ign = [x for x in records if x["kind"] == "exec" and x["exe"] == work + "/ign/touch"]
check("--ignore-exe keeps the exec of the ignored program", len(ign) == 1)
check("--ignore-exe drops its file events",
      ign and not [x for x in records if x["pid"] == ign[0]["pid"] and x["kind"] == "open"])
sys.exit(1 if failures else 0)
EOF_PY
[ $? -eq 0 ] || exit 1

# Sensitive names of every length the kernel's 8-byte name loads treat
# apart (bpf/file.bpf.c sens_name): 1, 7, 8, 15, 16 and 31 bytes, and one
# longer than the 31 the key keeps. Each read of a listed name is
# recorded; a read of a name that is one byte shorter or longer is not
# (but past 31 bytes, where the key cannot tell names apart).
mkdir -p "$work/s"
names="a abcdefg abcdefgh abcdefghijklmno abcdefghijklmnop abcdefghijklmnopqrstuvwxyz01234 abcdefghijklmnopqrstuvwxyz0123456789"
set --
for n in $names; do
	echo x >"$work/s/$n"
	echo x >"$work/s/${n}Z"
	set -- "$@" --sensitive "$work/s/$n"
done
echo x >"$work/s/abcdef"
agent_out="$work/sens.jsonl"
start_agent "$@"
for n in $names; do
	cat "$work/s/$n" "$work/s/${n}Z" >/dev/null
done
cat "$work/s/abcdef" >/dev/null
stop_agent
python3 - "$agent_out" "$work" $names <<'EOF_PY'
import json, sys
path, work, names = sys.argv[1], sys.argv[2], sys.argv[3:]
seen = {r["path"] for r in map(json.loads, open(path)) if r["kind"] == "open"}
ok = True
for n in names + [n + "Z" for n in names] + ["abcdef"]:
    want = n in names or (n.endswith("Z") and len(n) > 31)
    got = f"{work}/s/{n}" in seen
    print(("ok   " if got == want else "FAIL ") + f"read of s/{n} ({len(n)} bytes) " +
          ("recorded" if want else "not recorded"))
    ok &= got == want
sys.exit(0 if ok else 1)
EOF_PY
