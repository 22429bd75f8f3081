#!/bin/sh
# Builds the Debian package t5gw_<version>_<arch>.deb into $1 (default
# dist/) from the repository root: t5gwd and t5gwctl, the systemd unit, an
# example config. Used by `make deb`.
set -eu
out=$(realpath "${1:-dist}")
cd "$(dirname "$0")/../../.."
# A release tag v1.2.3 gives 1.2.3; otherwise 0.0.0+git<commit>.
version=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null | sed 's/^v//; s/-/+/g' || true)
[ -n "$version" ] || version="0.0.0+git$(git describe --always --dirty 2>/dev/null || echo unknown)"
version=$(echo "$version" | tr - +)
arch=$(go env GOARCH)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
mkdir -p "$root/DEBIAN" "$root/usr/sbin" "$root/usr/bin" "$root/lib/systemd/system" \
    "$root/etc/t5gw/vrfs.d" "$root/usr/share/doc/t5gw"
for cmd in t5gwd t5gwctl; do
    dest=$root/usr/bin/$cmd
    [ "$cmd" = t5gwd ] && dest=$root/usr/sbin/$cmd
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$dest" ./cmd/$cmd
done
p=cmd/t5gwd/packaging
install -m 644 $p/t5gwd.service "$root/lib/systemd/system/t5gwd.service"
install -m 644 $p/t5gw.yaml "$root/etc/t5gw/t5gw.yaml"
install -m 644 $p/blue.yaml.example "$root/etc/t5gw/vrfs.d/blue.yaml.example"
install -m 644 README.md "$root/usr/share/doc/t5gw/README.md"
sed "s/@VERSION@/$version/; s/@ARCH@/$arch/" $p/debian/control > "$root/DEBIAN/control"
install -m 644 $p/debian/conffiles "$root/DEBIAN/conffiles"
install -m 755 $p/debian/postinst $p/debian/prerm "$root/DEBIAN/"
mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/t5gw_${version}_${arch}.deb" >/dev/null
echo "$out/t5gw_${version}_${arch}.deb"
