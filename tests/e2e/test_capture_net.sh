#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end, on the running kernel: network events captured by
# custos-agent print, with exact addresses, ports (host order) and
# results: bind, listen, connect and accept on 127.0.0.1; a refused
# connect to ::1; UDP destinations by sendto and sendmsg; a unix socket's
# bind and connect; a send on a connected UDP socket is not a "send".
. "$(dirname "$0")/capture_lib.sh"

start_agent

python3 - "$work" >"$work/facts.json" <<'EOF_PY'
import json, os, socket, sys
work = sys.argv[1]
facts = {"pid": os.getpid()}
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(5)
port = srv.getsockname()[1]
cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
cli.connect(("127.0.0.1", port))
conn, peer = srv.accept()
facts.update(port=port, client_port=peer[1], accepted_fd=conn.fileno())
# A port on ::1 nobody listens on: take one, close it, connect.
tmp = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
tmp.bind(("::1", 0))
closed = tmp.getsockname()[1]
tmp.close()
c6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
try:
    c6.connect(("::1", closed))
    facts["refused"] = 0
except ConnectionRefusedError:
    facts["refused"] = -111
facts["closed_port"] = closed
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"x", ("127.0.0.1", 9))
u.sendmsg([b"y"], [], 0, ("127.0.0.1", 7))
# sendmmsg (no Python wrapper): three messages to three ports, one call.
import ctypes, struct
libc = ctypes.CDLL(None, use_errno=True)
keep = []
vec = ctypes.create_string_buffer(64 * 3)
for i, port in enumerate((10001, 10002, 10003)):
    sa = ctypes.create_string_buffer(struct.pack("!HH4s8x", 0, port, socket.inet_aton("127.0.0.1")))
    sa[0:2] = struct.pack("<H", socket.AF_INET)
    data = ctypes.create_string_buffer(b"m")
    iov = ctypes.create_string_buffer(struct.pack("<QQ", ctypes.addressof(data), 1))
    keep += [sa, data, iov]
    struct.pack_into("<QI4xQQQQi4xI4x", vec, 64 * i, ctypes.addressof(sa), 16,
                     ctypes.addressof(iov), 1, 0, 0, 0, 0)
facts["sendmmsg"] = libc.sendmmsg(u.fileno(), vec, 3, 0)
uc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
uc.connect(("127.0.0.1", 19))
uc.send(b"z")
un = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
un.bind(work + "/sock")
un.listen(1)
uncli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
uncli.connect(work + "/sock")
json.dump(facts, sys.stdout)
EOF_PY
[ $? -eq 0 ] || { echo "test_capture_net: the scenario failed"; exit 1; }

stop_agent

python3 - "$agent_out" "$work" <<'EOF_PY'
import json, sys
path, work = sys.argv[1:]
f = json.load(open(work + "/facts.json"))
records = [json.loads(l) for l in open(path)]
failures = []

def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

def one(what, kind, **fields):
    got = [r for r in records if r["kind"] == kind and r["pid"] == f["pid"] and
           all(r.get(k) == v for k, v in fields.items())]
    check(f"{what}: one {kind} record with {fields}", len(got) == 1)
    if len(got) != 1:
        for r in records:
            if r["kind"] == kind and r["pid"] == f["pid"]:
                print("     seen:", {k: v for k, v in r.items() if k in ("result", "family", "sock_type", "local_addr", "local_port", "remote_addr", "remote_port", "backlog", "op")})
    return got[0] if got else None

AF_INET, AF_INET6, AF_UNIX, STREAM, DGRAM = 2, 10, 1, 1, 2
P = f["port"]
one("bind 127.0.0.1", "bind", family=AF_INET, sock_type=STREAM, local_addr="127.0.0.1", result=0)
one("listen", "listen", family=AF_INET, local_addr="127.0.0.1", local_port=P, backlog=5, result=0)
one("connect 127.0.0.1", "connect", family=AF_INET, remote_addr="127.0.0.1", remote_port=P, result=0,
    local_port=f["client_port"])
one("accept", "accept", family=AF_INET, local_addr="127.0.0.1", local_port=P, remote_addr="127.0.0.1",
    remote_port=f["client_port"], result=f["accepted_fd"])
check("the ::1 connect was refused", f["refused"] == -111)
one("refused connect to ::1", "connect", family=AF_INET6, remote_addr="::1", remote_port=f["closed_port"],
    result=-111)
one("UDP sendto", "send", family=AF_INET, sock_type=DGRAM, remote_addr="127.0.0.1", remote_port=9, op=44, result=1)
one("UDP sendmsg", "send", family=AF_INET, sock_type=DGRAM, remote_addr="127.0.0.1", remote_port=7, op=46, result=1)
for port in (10001, 10002, 10003):
    one(f"UDP sendmmsg, message to {port}", "send", family=AF_INET, sock_type=DGRAM,
        remote_addr="127.0.0.1", remote_port=port, op=307, result=f["sendmmsg"])
check("sendmmsg sent 3 messages", f["sendmmsg"] == 3)
check("a connected UDP send is not a send record",
      not [r for r in records if r["kind"] == "send" and r["pid"] == f["pid"] and r["remote_port"] == 19])
one("UDP connect", "connect", family=AF_INET, sock_type=DGRAM, remote_addr="127.0.0.1", remote_port=19, result=0)
sock = work + "/sock"
one("unix bind", "bind", family=AF_UNIX, local_addr=sock, result=0)
one("unix listen", "listen", family=AF_UNIX, local_addr=sock, backlog=1, result=0)
one("unix connect", "connect", family=AF_UNIX, remote_addr=sock, result=0)
sys.exit(1 if failures else 0)
EOF_PY
