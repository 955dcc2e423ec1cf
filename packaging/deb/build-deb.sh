#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the custos-agent and custos-collector Debian packages with
# dpkg-deb alone (no debhelper): stages each package's file tree under
# OUT/stage, writes its control file (runtime dependencies from
# dpkg-shlibdeps on the binaries), conffiles and maintainer scripts, and
# builds OUT/<name>_<version>_<arch>.deb with files owned by root.
# custos-verify goes into custos-collector when BUILD/custos-verify exists.
# Usage: build-deb.sh BUILD_DIR OUT_DIR VERSION
set -eu
build=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
version=$3
src=$(cd "$(dirname "$0")/.." && pwd)
arch=$(dpkg --print-architecture)
stage="$out/stage"
rm -rf "$stage"
mkdir -p "$stage"

# shlibs NAME BINARY...: the Depends line of BINARY's shared libraries.
shlibs() {
	name=$1
	shift
	mkdir -p "$stage/shlibs/debian"
	printf 'Source: custos\n\nPackage: %s\nArchitecture: any\n' "$name" >"$stage/shlibs/debian/control"
	(cd "$stage/shlibs" && dpkg-shlibdeps -O "$@" 2>/dev/null) |
		sed -n 's/^shlibs:Depends=//p'
}

# common NAME: the directories and files both packages have.
common() {
	root="$stage/$1"
	install -d -m 0755 "$root/DEBIAN" "$root/usr/sbin" "$root/lib/systemd/system" \
		"$root/usr/share/man/man8" "$root/usr/share/doc/$1"
	for s in postinst prerm postrm; do
		install -m 0755 "$src/deb/${1#custos-}/$s" "$root/DEBIAN/$s"
	done
	install -m 0644 "$src/systemd/$1.service" "$root/lib/systemd/system/"
	gzip -9n -c "$src/man/$1.8" >"$root/usr/share/man/man8/$1.8.gz"
	install -m 0644 "$src/../docs/operations.md" "$root/usr/share/doc/$1/"
}

# control NAME DESCRIPTION DEPENDS
control() {
	root="$stage/$1"
	size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
	cat >"$root/DEBIAN/control" <<CTL
Package: $1
Version: $version
Architecture: $arch
Maintainer: Custos developers <custos@localhost>
Section: admin
Priority: optional
Installed-Size: $size
Depends: $3
Description: $2
CTL
	find "$root" -path "$root/DEBIAN" -prune -o -type f -printf '%P\n' | sort |
		xargs -r sh -c 'cd "$0" && md5sum "$@"' "$root" >"$root/DEBIAN/md5sums"
	dpkg-deb --root-owner-group -Zxz --build "$root" "$out/${1}_${version}_${arch}.deb" >/dev/null
	echo "build-deb: $out/${1}_${version}_${arch}.deb"
}

# --- custos-agent ------------------------------------------------------------
common custos-agent
a="$stage/custos-agent"
install -m 0755 "$build/custos-agent" "$a/usr/sbin/"
install -d -m 0755 "$a/etc/custos" "$a/usr/share/man/man5"
install -m 0644 "$src/etc/agent.conf" "$a/etc/custos/agent.conf"
gzip -9n -c "$src/man/agent.conf.5" >"$a/usr/share/man/man5/agent.conf.5.gz"
echo /etc/custos/agent.conf >"$a/DEBIAN/conffiles"
control custos-agent "Custos endpoint evidence agent (eBPF)
 Records process, file and network activity with eBPF and ships it as
 signed, hash-chained, sealed batches to a Custos collector. The eBPF
 programs are built into the binary (CO-RE skeletons)." \
	"$(shlibs custos-agent "$build/custos-agent")"

# --- custos-collector --------------------------------------------------------
common custos-collector
c="$stage/custos-collector"
install -m 0755 "$build/custos-collector" "$c/usr/sbin/"
install -d -m 0755 "$c/etc/custos"
install -m 0644 "$src/etc/collector.conf" "$c/etc/custos/collector.conf"
echo /etc/custos/collector.conf >"$c/DEBIAN/conffiles"
bins="$build/custos-collector"
if [ -x "$build/custos-verify" ]; then
	install -d -m 0755 "$c/usr/bin"
	install -m 0755 "$build/custos-verify" "$c/usr/bin/"
	[ -f "$src/man/custos-verify.1" ] && install -d -m 0755 "$c/usr/share/man/man1" &&
		gzip -9n -c "$src/man/custos-verify.1" >"$c/usr/share/man/man1/custos-verify.1.gz"
	bins="$bins $build/custos-verify"
fi
# shellcheck disable=SC2086
control custos-collector "Custos evidence collector
 Receives sealed batches from Custos agents, verifies them, keeps them as
 evidence (archive and RFC 9162 custody log), indexes them (SQLite) and
 serves timelines. Runs as the unprivileged user custos." \
	"$(shlibs custos-collector $bins), adduser"
rm -rf "$stage"
