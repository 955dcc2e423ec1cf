#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Debian packages: build them (packaging/deb/build-deb.sh), install
# them with dpkg on this machine, check files, owners, modes and the keys
# (0600, fingerprint printed), that a reinstall keeps keys and a changed
# conffile, that the installed units pass `systemd-analyze verify`, that
# the installed binaries run and, started by hand with the installed
# configuration and the unit's capability bounding set (no systemd as PID 1
# in CI), deliver an event; that an upgrade over an index of an older
# schema rebuilds it from the archive (postinst runs reindex); then purge
# both and check what remains (the evidence archive, until the documented
# explicit step). Leaves the machine as it was. Root; exits 77 otherwise,
# or when a Custos installation is present (it is never touched).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/${BUILD:-build}"
me=test_packages
skip() { echo "$me: skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "installs packages, which needs root"
for t in dpkg-deb dpkg-shlibdeps systemd-analyze runuser deluser capsh; do
	command -v $t >/dev/null || skip "$t is not installed"
done
for p in custos-agent custos-collector; do
	dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q installed &&
		skip "$p is installed on this machine"
done
for d in /etc/custos /var/lib/custos /var/spool/custos; do
	[ -e $d ] && skip "$d exists on this machine"
done
getent passwd custos >/dev/null && skip "a user custos exists on this machine"

tmp=$(mktemp -d /tmp/custos-test-packages.XXXXXX)
serve_pid=""
cleanup() {
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	dpkg --purge custos-agent custos-collector >/dev/null 2>&1
	rm -rf /etc/custos /var/lib/custos /var/spool/custos "$tmp"
	getent passwd custos >/dev/null && deluser --system custos >/dev/null 2>&1
	getent group custos >/dev/null && delgroup --system custos >/dev/null 2>&1
}
trap cleanup EXIT
fail() { echo "FAIL $*"; exit 1; }
# mode_owner PATH MODE OWNER:GROUP
mode_owner() {
	got=$(stat -c '%a %U:%G' "$1" 2>/dev/null) || fail "$1 is missing"
	[ "$got" = "$2 $3" ] || fail "$1 is $got, expected $2 $3"
}

"$root/packaging/deb/build-deb.sh" "$build" "$tmp/deb" 0.0.1 >"$tmp/build.log" 2>&1 ||
	fail "build-deb.sh: $(cat "$tmp/build.log")"
deb_a=$(ls "$tmp"/deb/custos-agent_0.0.1_*.deb) || fail "no agent package"
deb_c=$(ls "$tmp"/deb/custos-collector_0.0.1_*.deb) || fail "no collector package"
for lib in libbpf1 libelf1 zlib1g libsodium23 libcbor0.8 libjansson4 libyaml-0-2; do
	dpkg-deb -f "$deb_a" Depends | grep -q "$lib" || fail "custos-agent does not depend on $lib"
done
dpkg-deb -f "$deb_c" Depends | grep -q libsqlite3-0 || fail "custos-collector does not depend on libsqlite3-0"
dpkg-deb -I "$deb_a" conffiles | grep -qx /etc/custos/agent.conf || fail "agent.conf is not a conffile"

# --- first installation ------------------------------------------------------
dpkg -i "$deb_c" >"$tmp/ic.log" 2>&1 || fail "dpkg -i collector: $(cat "$tmp/ic.log")"
dpkg -i "$deb_a" >"$tmp/ia.log" 2>&1 || fail "dpkg -i agent: $(cat "$tmp/ia.log")"
grep -q '^fingerprint:\{0,1\} [0-9 ]*$' "$tmp/ia.log" || fail "the agent's install printed no fingerprint"
grep -q '^fingerprint:\{0,1\} [0-9 ]*$' "$tmp/ic.log" || fail "the collector's install printed no fingerprint"
getent passwd custos | grep -q ':/usr/sbin/nologin$' || fail "no system user custos with nologin"
mode_owner /usr/sbin/custos-agent 755 root:root
mode_owner /usr/sbin/custos-collector 755 root:root
if [ -x "$build/custos-verify" ]; then
	mode_owner /usr/bin/custos-verify 755 root:root
	mode_owner /usr/share/man/man1/custos-verify.1.gz 644 root:root
	/usr/bin/custos-verify --help 2>&1 | grep -q '^Usage: custos-verify' || fail "custos-verify --help"
fi
mode_owner /etc/custos/agent.conf 644 root:root
mode_owner /etc/custos/collector.conf 644 root:root
mode_owner /lib/systemd/system/custos-agent.service 644 root:root
mode_owner /lib/systemd/system/custos-collector.service 644 root:root
mode_owner /usr/share/man/man8/custos-agent.8.gz 644 root:root
mode_owner /usr/share/man/man5/agent.conf.5.gz 644 root:root
mode_owner /var/lib/custos/agent 700 root:root
mode_owner /var/spool/custos 700 root:root
mode_owner /var/lib/custos/agent/host.key 600 root:root
mode_owner /var/lib/custos/collector 700 custos:custos
mode_owner /var/lib/custos/collector/collector.key 600 custos:custos
sums=$(sha256sum /var/lib/custos/agent/host.* /var/lib/custos/collector/collector.*)

# --- reinstall: keys and a changed conffile stay ------------------------------
echo "# local change" >>/etc/custos/agent.conf
dpkg -i "$deb_c" "$deb_a" >"$tmp/re.log" 2>&1 || fail "reinstall: $(cat "$tmp/re.log")"
[ "$(sha256sum /var/lib/custos/agent/host.* /var/lib/custos/collector/collector.*)" = "$sums" ] ||
	fail "a reinstall changed the keys"
grep -q 'keeping the existing host key' "$tmp/re.log" || fail "reinstall did not say it kept the host key"
grep -q '^# local change$' /etc/custos/agent.conf || fail "a reinstall lost a change to agent.conf"

# --- the installed units and binaries -----------------------------------------
systemd-analyze verify /lib/systemd/system/custos-agent.service \
	/lib/systemd/system/custos-collector.service >"$tmp/verify.log" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$tmp/verify.log")"
/usr/sbin/custos-agent --help 2>&1 | grep -q '^Usage: custos-agent' || fail "custos-agent --help"
/usr/sbin/custos-collector --help 2>&1 | grep -q '^Usage: custos-collector' || fail "custos-collector --help"

# --- started by hand, as the units would: an event reaches the collector ------
host=packages-test
chmod 0755 "$tmp"
install -m 0644 /var/lib/custos/agent/host.pub "$tmp/host.pub"
runuser -u custos -- /usr/sbin/custos-collector enroll --name $host --key "$tmp/host.pub" \
	>"$tmp/enroll.log" 2>&1 || fail "enroll: $(cat "$tmp/enroll.log")"
fp=$(sed -n 's/^fingerprint: //p' "$tmp/ia.log")
grep -qF "$fp" "$tmp/enroll.log" || fail "enroll shows another fingerprint than the install printed"
runuser -u custos -- /usr/sbin/custos-collector serve --dir /var/lib/custos/collector \
	--listen 127.0.0.1:0 2>"$tmp/serve.log" &
serve_pid=$!
port=""
for _ in $(seq 50); do
	port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/serve.log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || fail "the collector did not listen: $(cat "$tmp/serve.log")"
install -m 0644 /var/lib/custos/collector/collector.pub /etc/custos/collector.pub
# Every option the file lists, uncommented with its stated default, must parse.
sed -i -e "s/^#collector: .*/collector: 127.0.0.1:$port/" -e 's/^#\([a-z_]*: \)/\1/' \
	/etc/custos/agent.conf
# With the unit's capability bounding set and nothing more (as systemd
# would start it): the agent must run and drop to its two kept capabilities.
keep=$(sed -n 's/^CapabilityBoundingSet=//p' /lib/systemd/system/custos-agent.service |
	tr 'A-Z ' 'a-z\n')
[ -n "$keep" ] || fail "no CapabilityBoundingSet in the agent's unit"
drop=$(capsh --print | sed -n 's/^Bounding set =//p' | tr ',' '\n' | grep -vxF "$keep" | paste -sd,)
capsh --inh= --drop="$drop" -- -c \
	'exec /usr/sbin/custos-agent run --config /etc/custos/agent.conf --duration 3' \
	>"$tmp/agent.log" 2>&1 || fail "the installed agent: $(cat "$tmp/agent.log")"
grep -q 'dropping capabilities failed' "$tmp/agent.log" &&
	fail "the unit's capabilities do not let the agent drop its own: $(cat "$tmp/agent.log")"
runuser -u custos -- /usr/sbin/custos-collector timeline --host $host --kind agent_stop \
	--format jsonl >"$tmp/tl" 2>&1 || fail "timeline: $(cat "$tmp/tl")"
grep -q '"kind":"agent_stop"' "$tmp/tl" || fail "the agent's records did not reach the collector"
kill "$serve_pid" && wait "$serve_pid"
serve_pid=""

# --- an upgrade over an index of another schema rebuilds it ------------------
# (what a new collector version with a new index schema meets: serve would
# refuse the index; postinst runs reindex, the records come back from the
# archive). The version is made older by hand, as an earlier build left it.
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version=1"); c.commit()' \
	/var/lib/custos/collector/index.sqlite || fail "could not age the index"
runuser -u custos -- /usr/sbin/custos-collector hosts --dir /var/lib/custos/collector \
	>/dev/null 2>"$tmp/old.log" && fail "the aged index was not refused"
grep -q 'custos-collector reindex' "$tmp/old.log" || fail "the aged index: $(cat "$tmp/old.log")"
dpkg -i "$deb_c" >"$tmp/up.log" 2>&1 || fail "upgrade over an old index: $(cat "$tmp/up.log")"
grep -q 'older schema: rebuilding it' "$tmp/up.log" || fail "the upgrade did not rebuild: $(cat "$tmp/up.log")"
grep -q 'reindexed [1-9][0-9]* batch' "$tmp/up.log" || fail "reindex: $(cat "$tmp/up.log")"
runuser -u custos -- /usr/sbin/custos-collector timeline --host $host --kind agent_stop \
	--format jsonl >"$tmp/tl2" 2>&1 || fail "timeline after the upgrade: $(cat "$tmp/tl2")"
grep -q '"kind":"agent_stop"' "$tmp/tl2" || fail "the rebuilt index lost the agent's records"

# --- purge: the evidence stays until the explicit step -----------------------
dpkg --purge custos-agent custos-collector >"$tmp/purge.log" 2>&1 ||
	fail "purge: $(cat "$tmp/purge.log")"
for f in /usr/sbin/custos-agent /usr/sbin/custos-collector /etc/custos/agent.conf \
	/etc/custos/collector.conf /lib/systemd/system/custos-agent.service \
	/var/lib/custos/agent; do
	[ -e $f ] && fail "$f is still there after purge"
done
[ -d /var/spool/custos/acks ] || fail "purge removed the spool's receipts"
grep -q 'keeping /var/spool/custos' "$tmp/purge.log" || fail "purge did not say it kept the spool"
[ -f /var/lib/custos/collector/collector.key ] && [ -d /var/lib/custos/collector/archive ] ||
	fail "purge removed the collector's evidence"
getent passwd custos >/dev/null || fail "purge removed the owner of the evidence"
grep -q 'rm -rf /var/lib/custos/collector && deluser --system custos' "$tmp/purge.log" ||
	fail "purge did not name the explicit step"
# The documented explicit step.
rm -rf /var/lib/custos/collector && deluser --system custos >/dev/null 2>&1 ||
	fail "the explicit step failed"
getent passwd custos >/dev/null && fail "the user custos is still there"
echo "ok   packages: built, installed, keys 0600 kept on reinstall, units verify, event delivered, an old index rebuilt on upgrade, purge keeps the evidence"
