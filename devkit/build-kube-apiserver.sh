#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy into a cache outside the repository.
# Usage: build-kube-apiserver.sh VERSION CACHE_DIR   (e.g. v1.34.4 ~/.cache/ferry/kube-v1.34.4)
# The result is CACHE_DIR/bin/{kube-apiserver,etcd}; an existing complete build is reused.
# No registry ships a kube-apiserver binary, so we compile one with a wrapper module (see README).
# Progress goes to standard output as `progress: <phase>` lines (waiting for the lock, building, a step);
# everything else goes to standard error.
set -euo pipefail
version=$1
out=$2
[ -x "$out/bin/kube-apiserver" ] && [ -x "$out/bin/etcd" ] && exit 0
command -v go >/dev/null || { echo "missing prerequisite: go (install Go 1.24 or later from https://go.dev/dl)" >&2; exit 3; }
command -v flock >/dev/null || { echo "missing prerequisite: flock is not installed: install util-linux, which provides it" >&2; exit 3; }

mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
if ! flock -n 9; then
  echo "progress: waiting"
  flock 9
fi
[ -x "$out/bin/kube-apiserver" ] && [ -x "$out/bin/etcd" ] && exit 0
echo "progress: building"
exec 3>&1 1>&2

work=$(mktemp -d "$out.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
minor=${version#v1.}; minor=${minor%%.*}
staging=v0.${version#v1.}

echo "progress: resolving the modules of k8s.io/kubernetes@$version" >&3
go mod init ferry.local/kube-testbed >/dev/null 2>&1
# k8s.io/kubernetes requires its staging modules at v0.0.0: point each at the matching published tag.
gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
for m in $(awk '/^require/,/^\)/' "$gomod" | awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' | sort -u); do
  go mod edit -replace "$m=$m@$staging"
done
etcd=$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2; exit}' "$gomod")
mkdir etcd
cat > etcd/main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
echo "progress: downloading the modules" >&3
go get "k8s.io/kubernetes@$version" "go.etcd.io/etcd/server/v3@$etcd"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
mkdir -p bin
echo "progress: compiling kube-apiserver" >&3
go build -trimpath -ldflags "$ldflags" -o bin/kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
echo "progress: compiling etcd" >&3
go build -trimpath -ldflags "-s -w" -o bin/etcd ./etcd
rm -rf "$out"
mkdir -p "$out"
mv bin "$out/bin"
