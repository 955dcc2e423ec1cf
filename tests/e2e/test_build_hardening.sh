#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The programs we ship are built hardened: position-independent, full RELRO
# (GNU_RELRO segment + BIND_NOW), stack protector, FORTIFY_SOURCE, and no
# executable stack. Checked on the ELF files themselves, not the Makefile.
set -u
build=${BUILD:-build}
failed=0
checked=0

check() {
	bin=$1
	hdr=$(readelf -h "$bin") && dyn=$(readelf -d "$bin") && seg=$(readelf -lW "$bin") &&
		syms=$(readelf -sW --dyn-syms "$bin") || { echo "FAIL $bin: readelf failed"; failed=1; return; }
	echo "$hdr" | grep -q 'Type:.*DYN' || { echo "FAIL $bin: not PIE"; failed=1; }
	echo "$dyn" | grep -q 'FLAGS_1.*PIE' || { echo "FAIL $bin: no PIE flag"; failed=1; }
	echo "$dyn" | grep -q 'BIND_NOW' || { echo "FAIL $bin: no BIND_NOW (partial RELRO)"; failed=1; }
	echo "$seg" | grep -q 'GNU_RELRO' || { echo "FAIL $bin: no RELRO segment"; failed=1; }
	echo "$seg" | grep 'GNU_STACK' | grep -q 'RWE' && { echo "FAIL $bin: executable stack"; failed=1; }
	echo "$syms" | grep -q '__stack_chk_fail' || { echo "FAIL $bin: no stack protector"; failed=1; }
	echo "$syms" | grep -q '__[a-z]*_chk@' || { echo "FAIL $bin: no FORTIFY_SOURCE calls"; failed=1; }
	checked=$((checked + 1))
}

for bin in "$build"/custos-*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	check "$bin"
done
if [ "$checked" -eq 0 ]; then
	echo "FAIL no programs found in $build/ (run make first)"
	exit 1
fi
[ "$failed" -eq 0 ] && echo "ok   $checked program(s) hardened: PIE, full RELRO, stack protector, FORTIFY, NX stack"
exit "$failed"
