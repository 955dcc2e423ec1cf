#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end, on the running kernel: authentication results captured by
# custos-agent print (auth records, kind 11). A failed su as user nobody
# (wrong password on stdin) gives exactly one auth record: libpam's
# AUDIT_USER_AUTH (1100) sent with sendto on the audit netlink socket,
# with its exact text (acct "root", exe /usr/bin/su, res=failed), the
# send's result, pid, ppid, uid/gid 65534, euid 0 (su is setuid root).
# Refused sends are recorded with their result: a user message sent with
# MSG_OOB (the netlink socket refuses it with EOPNOTSUPP before anything
# else) by sendto and by sendmsg, one with a text past the 1024-byte bound
# (text_truncated). Not recorded: a control message (AUDIT_GET), an
# AUDIT_USER_TTY message (typed input), a user message type on a route
# netlink socket, a send that names no destination. Nothing of these
# refused sends reaches the audit log.
. "$(dirname "$0")/capture_lib.sh"

for tool in setpriv su; do
	command -v "$tool" >/dev/null || { echo "$name: skipped: $tool not installed"; exit 77; }
done

start_agent

python3 - "$work" >"$work/facts.json" <<'EOF_PY'
import errno, json, os, socket, struct, subprocess, sys
facts = {"pid": os.getpid()}
# A failed su as nobody: pam_unix refuses the password (after
# pam_faildelay's pause), libpam reports the failure to the kernel.
p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                      "su", "root", "-c", "true"], stdin=subprocess.PIPE,
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, err = p.communicate(b"not-the-password\n", timeout=30)
facts.update(su_pid=p.pid, su_status=p.returncode, su_err=err.decode(errors="replace"))

def nlmsg(mtype, text):
    body = text.encode() + b"\0"
    body += b"\0" * (-len(body) % 4)
    return struct.pack("=IHHII", 16 + len(body), mtype, 0x5, 1, 0) + body	# REQUEST|ACK

def refused(call):
    try:
        call()
        return 0
    except OSError as e:
        return -e.errno

OOB = socket.MSG_OOB
au = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)	# NETLINK_AUDIT
t1 = 'op=custos-test acct="nobody" exe="/x" hostname=? addr=? terminal=? res=failed'
facts["t1"] = t1
facts["sendto"] = refused(lambda: au.sendto(nlmsg(1100, t1), OOB, (0, 0)))
t2 = 'op=custos-sendmsg acct=6E6F20626F6479 res=success'
facts["t2"] = t2
facts["sendmsg"] = refused(lambda: au.sendmsg([nlmsg(1112, t2)], [], OOB, (0, 0)))
long_text = "op=custos-long msg=" + "x" * 1500
facts["long"] = long_text
facts["long_result"] = refused(lambda: au.sendto(nlmsg(2100, long_text), OOB, (0, 0)))
# Not recorded: a control message, typed input, an unnamed destination,
# a route netlink socket.
facts["get"] = refused(lambda: au.sendto(nlmsg(1000, ""), OOB, (0, 0)))
facts["tty"] = refused(lambda: au.sendto(nlmsg(1124, "op=custos-tty data=7365637265740D"), OOB, (0, 0)))
facts["noname"] = refused(lambda: au.send(nlmsg(1100, "op=custos-noname res=failed"), OOB))
rt = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
facts["route"] = refused(lambda: rt.sendto(nlmsg(1100, "op=custos-route res=failed"), OOB, (0, 0)))
json.dump(facts, sys.stdout)
EOF_PY
[ $? -eq 0 ] || { echo "$name: the scenario failed"; exit 1; }

stop_agent

python3 - "$agent_out" "$work" <<'EOF_PY'
import json, sys
path, work = sys.argv[1:]
f = json.load(open(work + "/facts.json"))
records = [json.loads(l) for l in open(path)]
auth = [r for r in records if r["kind"] == "auth"]
failures = []

def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

def nl_len(text):
    n = len(text.encode()) + 1
    return 16 + n + (-n % 4)

SU_TEXT = ('op=PAM:authentication grantors=? acct="root" exe="/usr/bin/su" hostname=? addr=? '
           'terminal=? res=failed')
check(f"su as nobody failed (status {f['su_status']}: {f['su_err'].strip()})", f["su_status"] == 1)
su = [r for r in auth if r["pid"] == f["su_pid"]]
check(f"the failed su: exactly one auth record ({len(su)})", len(su) == 1)
if su:
    r = su[0]
    want = dict(audit_type=1100, op=44, text=SU_TEXT, text_truncated=0, result=nl_len(SU_TEXT),
                pid=f["su_pid"], tid=f["su_pid"], ppid=f["pid"], uid=65534, gid=65534, euid=0,
                comm="su")
    for k, v in want.items():
        check(f"su record: {k} = {v!r} (got {r.get(k)!r})", r.get(k) == v)

mine = [r for r in auth if r["pid"] == f["pid"]]

def one(what, **fields):
    got = [r for r in mine if all(r.get(k) == v for k, v in fields.items())]
    check(f"{what}: one auth record with {fields}", len(got) == 1)
    return got[0] if got else None

EOPNOTSUPP = -95
check("the MSG_OOB sends were refused with EOPNOTSUPP",
      all(f[k] == EOPNOTSUPP for k in ("sendto", "sendmsg", "long_result", "get", "tty",
                                       "noname", "route")))
one("refused sendto", audit_type=1100, op=44, result=EOPNOTSUPP, text=f["t1"], text_truncated=0,
    uid=0)
one("refused sendmsg", audit_type=1112, op=46, result=EOPNOTSUPP, text=f["t2"], text_truncated=0)
r = one("text past the bound", audit_type=2100, op=44, result=EOPNOTSUPP, text_truncated=1)
check("the long text keeps its first 1024 bytes",
      r is not None and r["text"] == f["long"][:1024])
check(f"nothing else recorded for the scenario's own sends ({len(mine)} auth records)",
      len(mine) == 3)
check("no control, USER_TTY, unnamed or route netlink message recorded",
      not [r for r in auth if any(s in r.get("text", "")
                                  for s in ("custos-tty", "custos-noname", "custos-route"))] and
      not [r for r in mine if r["audit_type"] in (1000, 1124)])
sys.exit(1 if failures else 0)
EOF_PY
