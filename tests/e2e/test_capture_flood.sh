#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# End to end, on the running kernel: a flood of 200,000 write-intent opens
# through a small ring buffer. Every open is either delivered or counted
# lost: delivered + lost = generated, exactly. The flood runs alone in a
# cgroup of its own and --ignore-cgroup drops the root cgroup, so no other
# process on the host adds opens to the count.
. "$(dirname "$0")/capture_lib.sh"

N=200000
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$cg2" ] || ! command -v cc >/dev/null; then
	echo "test_capture_flood: skipped: needs a cgroup2 mount and a C compiler"
	exit 77
fi
if [ "$(sed -n 's/^0:://p' /proc/self/cgroup)" != "/" ]; then
	echo "test_capture_flood: skipped: the test must start in the root cgroup"
	exit 77
fi
cg="$cg2/custos-flood-$$"
mkdir "$cg" || exit 1
trap 'cleanup; rmdir "$cg" 2>/dev/null' EXIT
root_id=$(stat -c %i "$cg2")

cat >"$work/flood.c" <<'EOF_C'
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	long n = strtol(argv[1], NULL, 10);
	for (long i = 0; i < n; i++) {
		int fd = open(argv[2], O_WRONLY | O_CREAT, 0600);
		if (fd < 0)
			return 1;
		close(fd);
	}
	return 0;
}
EOF_C
cc -O2 -o "$work/flood" "$work/flood.c" || exit 1

start_agent --ringbuf-kb 64 --ignore-cgroup "$root_id" --sensitive /nonexistent-custos-path
# The shell joins the cgroup (its redirection is opened before it moves)
# and becomes the flood: only the flood's opens come from that cgroup.
sh -c "echo \$\$ >'$cg/cgroup.procs' && exec '$work/flood' $N '$work/target'" ||
	{ echo "test_capture_flood: the flood failed"; exit 1; }
stop_agent

python3 - "$agent_out" "$agent_err" "$N" <<'EOF_PY'
import json, re, sys
out, err, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
delivered = sum(1 for l in open(out) if json.loads(l)["kind"] == "open")
m = re.search(r"^custos-agent: kind open: printed (\d+), lost (\d+)$", open(err).read(), re.M)
printed, lost = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
print(f"generated {n}, delivered {delivered}, lost {lost}")
ok = m and printed == delivered and delivered + lost == n
print(("ok   " if ok else "FAIL ") + "delivered + lost = generated")
sys.exit(0 if ok else 1)
EOF_PY
