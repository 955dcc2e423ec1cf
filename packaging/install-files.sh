#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The part of `make install` that is not a build product: the systemd
# units (their /usr/sbin paths rewritten to PREFIX/sbin), the default
# configuration files and the man pages. A configuration file that is
# already there is the operator's and is left as it is (said on stdout),
# as dpkg does with conffiles; the new default is put beside it as
# FILE.dist so the operator can compare.
# Usage: install-files.sh DESTDIR PREFIX SYSCONFDIR UNITDIR
set -eu
[ $# -eq 4 ] || { echo "usage: $0 DESTDIR PREFIX SYSCONFDIR UNITDIR" >&2; exit 2; }
dest=$1 prefix=$2 etc=$3 units=$4
src=$(cd "$(dirname "$0")" && pwd)

install -d -m 0755 "$dest$units" "$dest$etc/custos" \
	"$dest$prefix/share/man/man1" "$dest$prefix/share/man/man5" "$dest$prefix/share/man/man8"
for unit in "$src"/systemd/*.service; do
	sed -e "s#/usr/sbin/#$prefix/sbin/#g" -e "s#/etc/custos/#$etc/custos/#g" \
		"$unit" >"$dest$units/${unit##*/}.tmp"
	chmod 0644 "$dest$units/${unit##*/}.tmp"
	mv "$dest$units/${unit##*/}.tmp" "$dest$units/${unit##*/}"
done

# config SOURCE TARGET: install unless the operator already has one.
config() {
	if [ -e "$2" ]; then
		install -m 0644 "$1" "$2.dist"
		echo "install: kept $2 (the new default is $2.dist)"
	else
		install -m 0644 "$1" "$2"
	fi
}
config "$src/etc/agent.conf" "$dest$etc/custos/agent.conf"
config "$src/etc/collector.conf" "$dest$etc/custos/collector.conf"

for page in "$src"/man/*.[158]; do
	section=${page##*.}
	install -m 0644 "$page" "$dest$prefix/share/man/man$section/"
done
