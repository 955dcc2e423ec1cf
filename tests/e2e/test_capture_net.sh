#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end, on the running kernel: network events captured by
# custos-agent print, with exact addresses, ports (host order) and
# results: bind, listen, connect and accept on 127.0.0.1; a refused
# connect to ::1; UDP destinations by sendto and sendmsg; a unix socket's
# bind and connect; a send on a connected UDP socket is not a "send".
# socket records: AF_PACKET (raw, and datagram with SOCK_NONBLOCK), raw
# IPv4 and IPv6, the audit netlink socket, with family, type, protocol,
# flags and result; an unprivileged (uid 65534) AF_PACKET socket refused
# with -EPERM; ordinary TCP, UDP, unix and route netlink sockets are not
# recorded.
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
# Sockets of forensic interest (socket records), in a network namespace
# of their own would change nothing: creating them captures nothing.
ETH_P_ALL, ETH_P_IP = 0x0003, 0x0800
pk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
pd = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK, socket.htons(ETH_P_IP))
r4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
au = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)	# NETLINK_AUDIT
rt = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)	# NETLINK_ROUTE: not recorded
facts.update(packet_fd=pk.fileno(), packet_dgram_fd=pd.fileno(), raw4_fd=r4.fileno(),
             raw6_fd=r6.fileno(), audit_fd=au.fileno())
# Refused: the same AF_PACKET socket as uid/gid 65534 (no CAP_NET_RAW).
rd, wr = os.pipe()
child = os.fork()
if child == 0:
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        err = 0
    except OSError as e:
        err = e.errno
    os.write(wr, str(err).encode())
    os._exit(0)
os.close(wr)
facts["refused_errno"] = int(os.read(rd, 16) or b"-1")
os.waitpid(child, 0)
facts["refused_pid"] = child
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

# socket records: exact family, type (flags apart), protocol (as passed:
# AF_PACKET's is the ethertype in network byte order), flags, result.
# Python asks for SOCK_CLOEXEC on every socket.
AF_NETLINK, AF_PACKET, RAW, CLOEXEC, NONBLOCK = 16, 17, 3, 0o2000000, 0o4000
one("AF_PACKET raw socket", "socket", family=AF_PACKET, sock_type=RAW, protocol=0x0300,
    sock_flags=CLOEXEC, result=f["packet_fd"])
one("AF_PACKET datagram socket, non-blocking", "socket", family=AF_PACKET, sock_type=DGRAM,
    protocol=0x0008, sock_flags=CLOEXEC | NONBLOCK, result=f["packet_dgram_fd"])
one("raw IPv4 socket", "socket", family=AF_INET, sock_type=RAW, protocol=1, sock_flags=CLOEXEC,
    result=f["raw4_fd"])
one("raw IPv6 socket", "socket", family=AF_INET6, sock_type=RAW, protocol=58, sock_flags=CLOEXEC,
    result=f["raw6_fd"])
one("audit netlink socket", "socket", family=AF_NETLINK, sock_type=RAW, protocol=9,
    sock_flags=CLOEXEC, result=f["audit_fd"])
check("the unprivileged AF_PACKET socket was refused with EPERM", f["refused_errno"] == 1)
got = [r for r in records if r["kind"] == "socket" and r["pid"] == f["refused_pid"]]
check("refused AF_PACKET socket: one record, uid 65534, result -1 (EPERM)",
      len(got) == 1 and got[0]["uid"] == 65534 and got[0]["euid"] == 65534 and
      got[0]["family"] == AF_PACKET and got[0]["sock_type"] == RAW and
      got[0]["protocol"] == 0x0300 and got[0]["result"] == -1)
mine = [r for r in records if r["kind"] == "socket" and r["pid"] == f["pid"]]
check(f"no socket record for TCP, UDP, unix or route netlink sockets ({len(mine)} recorded)",
      len(mine) == 5)
for r in mine:
    check(f"socket record {r['family']}/{r['sock_type']} has no address",
          "local_addr" not in r and "remote_addr" not in r)
sys.exit(1 if failures else 0)
EOF_PY
