#!/bin/bash
# The floors at link level: every dk_ function a room's archive calls must be
# defined in that room or in a room below it (cmake/rooms.cmake). Includes
# are checked by the compiler; this catches calls through the public headers,
# which every room can see. Also: every symbol a room exports carries the dk_
# prefix (protoc-c's generated onnx__ code aside), so none can collide with a
# user's.
#   check_rooms.sh MANIFEST   (lines "NAME ARCHIVE BELOW...", see dk_rooms_manifest)
set -u
manifest=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
while read -r name file below; do
    nm -g --defined-only "$file" | awk 'NF == 3 && $2 ~ /[TDBRVW]/ {print $3}' | sort -u > "$tmp/$name.def"
    nm -u "$file" | awk '{print $NF}' | grep '^dk_' | sort -u > "$tmp/$name.use"
done < "$manifest"
fail=0
while read -r name file below; do
    missing=$(sort -u "$tmp/$name.def" $(for b in $below; do echo "$tmp/$b.def"; done) | comm -23 "$tmp/$name.use" -)
    for sym in $missing; do
        owner=$(grep -lx -- "$sym" "$tmp"/*.def | sed 's|.*/||; s|\.def$||' | tr '\n' ' ')
        echo "FAIL: room '$name' calls $sym, defined in '${owner:-nowhere}', which is not below it (${below:-nothing})"
        fail=1
    done
    [ -z "$missing" ] && echo "ok: $name ($(wc -l < "$tmp/$name.use") dk_ functions used) calls only itself and ${below:-nothing}"
done < "$manifest"
# (__odr_asan.X: AddressSanitizer's one-definition-rule marker for global X)
unprefixed=$(cat "$tmp"/*.def | sed 's/^__odr_asan\.//' | grep -v '^dk_\|^onnx__' | sort -u)
if [ -n "$unprefixed" ]; then
    echo "FAIL: exported symbols without the dk_ prefix:" $unprefixed
    fail=1
else
    echo "ok: every exported symbol starts with dk_ (or is protoc-c's onnx__ code)"
fi
exit $fail
