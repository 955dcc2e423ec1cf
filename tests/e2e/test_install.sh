#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make install` into a staging directory (DESTDIR): programs, library and
# headers, the systemd units with their paths rewritten to PREFIX, the
# configuration files and the man pages, with their modes; a second
# install keeps a configuration file the operator changed and puts the new
# default beside it (.dist). Needs no root: nothing outside the staging
# directory is written.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
me=test_install
tmp=$(mktemp -d /tmp/custos-test-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "$me: FAIL: $*"; exit 1; }
stage="$tmp/root"
prefix=/opt/custos

inst() {
	# -o all: the suite has built everything; this checks the install step.
	make -s -C "$root" -o all install BUILD="${BUILD:-build}" DESTDIR="$stage" PREFIX=$prefix \
		>"$tmp/install.log" 2>&1 || fail "make install: $(cat "$tmp/install.log")"
}
mode() { [ "$(stat -c %a "$stage$1" 2>/dev/null)" = "$2" ] || fail "$1: mode $(stat -c %a "$stage$1" 2>&1), expected $2"; }

inst
mode $prefix/sbin/custos-agent 755
mode $prefix/sbin/custos-collector 755
mode $prefix/bin/custos-verify 755
mode $prefix/lib/libcustos.a 644
mode $prefix/include/custos/record.h 644
mode /etc/custos/agent.conf 644
mode /etc/custos/collector.conf 644
for u in custos-agent custos-collector; do
	mode /lib/systemd/system/$u.service 644
	grep -q "^ExecStart=$prefix/sbin/$u " "$stage/lib/systemd/system/$u.service" ||
		fail "$u.service does not start $prefix/sbin/$u"
	grep -q "/usr/sbin/" "$stage/lib/systemd/system/$u.service" &&
		fail "$u.service still names /usr/sbin"
done
for page in man1/custos-verify.1 man5/agent.conf.5 man8/custos-agent.8 man8/custos-collector.8; do
	mode $prefix/share/man/$page 644
done
"$stage$prefix/sbin/custos-agent" --help 2>&1 | grep -q '^Usage: custos-agent' ||
	fail "the installed custos-agent does not run"
echo "ok   files, modes, units rewritten to $prefix"

echo "collector: 127.0.0.1:7411  # changed by the operator" >>"$stage/etc/custos/agent.conf"
sum=$(sha256sum <"$stage/etc/custos/agent.conf")
inst
[ "$(sha256sum <"$stage/etc/custos/agent.conf")" = "$sum" ] || fail "reinstall overwrote agent.conf"
cmp -s "$root/packaging/etc/agent.conf" "$stage/etc/custos/agent.conf.dist" ||
	fail "reinstall did not put the new default beside it as agent.conf.dist"
grep -q "kept $stage/etc/custos/agent.conf" "$tmp/install.log" || fail "reinstall did not say it kept agent.conf"
echo "ok   reinstall keeps the operator's configuration, new default as .dist"
echo "$me: all passed"
