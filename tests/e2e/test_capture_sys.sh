#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end, on the running kernel: the process kinds that share the
# syscall body, captured by custos-agent print with their results:
# setgid/setuid (allowed as root, then refused), a ptrace attach, a module
# load attempt (or, on a kernel without modules, the documented absence
# of its tracepoints), memfd_create, a refused bpf(BPF_PROG_LOAD), and
# clock_settime on an invalid clock id (so the host's clock does not move).
. "$(dirname "$0")/capture_lib.sh"

start_agent
# The ptrace target: its output goes nowhere, so that even a leaked one
# could not hold the test runner's pipe open.
sleep 30 </dev/null >/dev/null 2>&1 &
target=$!

printf '#!/bin/sh\n' >"$work/noexec.sh"	# no execute permission
chmod 644 "$work/noexec.sh"
python3 - "$target" "$work" >"$work/facts.json" <<'EOF_PY'
import ctypes, json, os, struct, sys
target, work = int(sys.argv[1]), sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def sc(*args):
    r = libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    return r if r >= 0 else -ctypes.get_errno()

facts = {"pid": os.getpid()}
facts["ptrace_attach"] = sc(101, 16, target, 0, 0)           # PTRACE_ATTACH
if facts["ptrace_attach"] == 0:
    sc(101, 17, target, 0, 0)                                 # PTRACE_DETACH
name = ctypes.create_string_buffer(b"custos-memfd")
facts["memfd"] = sc(319, name, 1)                             # memfd_create(name, MFD_CLOEXEC)
attr = ctypes.create_string_buffer(struct.pack("<IIQQIIQII16s", 1, 0, 0, 0, 0, 0, 0, 0, 0, b"custos_t"), 128)
facts["bpf"] = sc(321, 5, attr, 128)                          # BPF_PROG_LOAD with no instructions
ts = ctypes.create_string_buffer(struct.pack("<qq", 0, 0))
facts["clock"] = sc(227, 12345, ts)                           # clock_settime(12345, ...)
facts["finit_module"] = sc(313, -1, ctypes.c_char_p(b""), 0)  # bad fd: nothing is loaded
os.chdir(work)
facts["cwd"] = os.getcwd()
for key, prog in (("exec_missing", "/nonexistent/custos-prog"), ("exec_noexec", "./noexec.sh")):
    try:
        os.execv(prog, [prog, "an arg with spaces", 'a "quoted" one'])
    except OSError as e:                                      # failed attempts: still evidence
        facts[key] = -e.errno
pid = os.fork()
if pid == 0:
    r = [sc(106, 65534), sc(105, 65534), sc(105, 0)]          # setgid, setuid, then a refused setuid
    os.write(1, json.dumps(r).encode())                       # before the parent's facts
    os._exit(0)
os.waitpid(pid, 0)
facts["child"] = pid
json.dump(facts, sys.stdout)
EOF_PY
rc=$?
# An attach sends SIGSTOP; detaching before it is taken can leave the
# target stopped, where SIGTERM would wait forever: SIGKILL ends it anyway.
kill -KILL "$target" 2>/dev/null
wait "$target" 2>/dev/null
[ "$rc" -eq 0 ] || { echo "test_capture_sys: the scenario failed"; exit 1; }

stop_agent

python3 - "$agent_out" "$work" "$target" "$agent_err" <<'EOF_PY'
import json, re, sys
path, work, target, err = sys.argv[1:]
target = int(target)
text = open(work + "/facts.json").read()
m = re.match(r"(\[.*?\])(\{.*\})$", text)
child_results, f = json.loads(m.group(1)), json.loads(m.group(2))
records = [json.loads(l) for l in open(path)]
failures = []

def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

def one(what, kind, pid, **fields):
    got = [r for r in records if r["kind"] == kind and r["pid"] == pid and
           all(r.get(k) == v for k, v in fields.items())]
    check(f"{what}: one {kind} record with {fields}", len(got) == 1)
    if len(got) != 1:
        for r in records:
            if r["kind"] == kind and r["pid"] == pid:
                print("     seen:", {k: v for k, v in r.items() if k in ("result", "op", "arg0", "arg1", "arg2", "name", "uid", "euid")})

p, c = f["pid"], f["child"]
check("the child's setgid and setuid worked and setuid(0) was refused", child_results == [0, 0, -1])
one("setgid", "cred", c, op=106, arg0=65534, result=0, euid=0)
one("setuid", "cred", c, op=105, arg0=65534, result=0)
one("refused setuid back to root", "cred", c, op=105, arg0=0, result=-1, euid=65534)
one("ptrace attach", "ptrace", p, op=16, arg0=target, result=f["ptrace_attach"])
check("ptrace attach succeeded", f["ptrace_attach"] == 0)
one("memfd_create", "memfd", p, op=0, arg0=1, name="custos-memfd", result=f["memfd"])
one("refused bpf program load", "bpf", p, op=5, arg0=1, arg1=0, name="custos_t", result=f["bpf"])
check("the bpf load was refused", f["bpf"] < 0)
one("clock_settime on an invalid clock", "clock_set", p, op=227, arg0=12345, arg2=0, result=-22)
for key, prog in (("exec_missing", "/nonexistent/custos-prog"), ("exec_noexec", "./noexec.sh")):
    one(f"failed exec ({key})", "exec", p, result=f[key], filename=prog, exe="", exe_ino=0, argc=3,
        argv=[prog, "an arg with spaces", 'a "quoted" one'], argv_truncated=0, cwd=f["cwd"])
check("the failed execs failed with ENOENT and EACCES",
      (f["exec_missing"], f["exec_noexec"]) == (-2, -13))
capturing = [l for l in open(err) if l.startswith("custos-agent: capturing")][0]
if "absent:init_module,finit_module" in capturing:
    check("no module tracepoints: the absence is stated and no module record appears",
          not [r for r in records if r["kind"] == "module"] and f["finit_module"] < 0)
else:
    one("module load attempt", "module", p, op=313, result=f["finit_module"])
sys.exit(1 if failures else 0)
EOF_PY
