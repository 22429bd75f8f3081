#!/bin/sh
# Builds t5gwd against GoBGP with the patches of docs/upstream/series applied,
# in order, to a copy of the released module: `make bench-upstream` measures it
# side by side with the released build. Usage: upstream-t5gwd.sh OUT
set -eu
out=$1
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
go mod download github.com/osrg/gobgp/v4
version=$(go list -m -f '{{.Version}}' github.com/osrg/gobgp/v4)
src=$(go list -m -f '{{.Dir}}' github.com/osrg/gobgp/v4)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src" "$work/gobgp"
chmod -R u+w "$work/gobgp"
grep -v '^#' docs/upstream/series | while read -r p; do
	[ -n "$p" ] || continue
	(cd "$work/gobgp" && git apply "$repo/docs/upstream/$p") || { echo "$p does not apply to GoBGP $version" >&2; exit 1; }
done
cp go.mod "$work/go.mod"
cp go.sum "$work/go.sum"
echo "replace github.com/osrg/gobgp/v4 => $work/gobgp" >> "$work/go.mod"
go build -modfile="$work/go.mod" -o "$out" ./cmd/t5gwd
echo "$out: t5gwd on GoBGP $version with $(grep -vc '^#' docs/upstream/series) patches"
