#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The collector's input budget across connections (docs/protocol.md 5,
# serve --max-buffered): with room for one frame of 100,000 bytes, a
# first peer announces such a frame and sends half of it; a second peer
# sends a whole frame of the same size, which must wait (the collector
# logs the pause and does not read it) until the first frame completes;
# then it is read and handled (both are refused as sealed envelopes that
# do not open, each with its NACK), and a good agent is served as usual.
# A budget smaller than one frame is a usage error. Needs no root.
set -u
name=test_collector_budget
. "$(dirname "$0")/collector_lib.sh"

if ! command -v python3 >/dev/null; then
	echo "$name: python3 is needed for the raw peers"
	exit 77
fi
d="$work/coll"
cd "$work" || exit 1
"$coll" init --dir "$d" --name custos.test/collector >/dev/null || exit 1
"$peer" keygen "$work/web1" || exit 1
"$coll" enroll --dir "$d" --name web1 --key web1.pub >/dev/null || exit 1

"$coll" serve --dir "$d" --listen 127.0.0.1:0 --max-frame 100000 --max-buffered 100007 \
	2>usage.err
check "a budget under one frame: usage error" [ $? -eq 2 ]
check "a budget under one frame: says why" grep -q 'less than one frame' usage.err

start_serve "$d" --max-frame 100000 --max-buffered 150000 --idle-timeout 30

# peer.py PORT MODE: first = header + half, wait for "go" file, then the
# rest; second = the whole frame at once. Each prints the frame types it
# got back (3 = NACK) once the collector closes.
cat >peer.py <<'EOF'
import os, socket, struct, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
body = b"\x55" * 100000
head = struct.pack(">BBHI", 1, 1, 0, len(body))
if mode == "first":
    s.sendall(head + body[:50000])
    while not os.path.exists("go"):
        time.sleep(0.05)
    s.sendall(body[50000:])
else:
    s.sendall(head + body)
got = b""
s.settimeout(20)
while True:
    b = s.recv(4096)
    if not b:
        break
    got += b
types = []
while len(got) >= 8:
    n = struct.unpack(">I", got[4:8])[0]
    types.append(got[1])
    got = got[8 + n:]
print("frames", " ".join(str(t) for t in types))
EOF
python3 peer.py "$port" first >first.out 2>&1 &
first=$!
sleep 0.5
python3 peer.py "$port" second >second.out 2>&1 &
second=$!
sleep 1
check "the second frame waits for the budget (logged)" \
	grep -q 'paused: a frame of 100008 bytes waits for the input budget (100008 of 150000' "$d.log"
check "and is not handled while it waits" [ "$(grep -c 'sealed envelope refused' "$d.log")" -eq 0 ]
touch go
wait "$first"
wait "$second"
check "the first frame completes: refused with a NACK" grep -q '^frames 3$' first.out
check "the second resumes after it: refused with a NACK" grep -q '^frames 3$' second.out
check "resumed (logged)" grep -q ': resumed$' "$d.log"
check "both handled" [ "$(grep -c 'sealed envelope refused' "$d.log")" -eq 2 ]
"$peer" send --connect "127.0.0.1:$port" --collector "$d/collector.pub" --host web1.key \
	--state web1.state --count 3 >web1.out 2>&1
check "a good agent is served after that" [ "$(grep -c '^ack seq=' web1.out)" -eq 3 ]
stop_serve
check "serve exits 0 on SIGTERM" [ "$serve_rc" -eq 0 ]
[ "$fails" -eq 0 ] || { cat "$d.log"; exit 1; }
exit 0
