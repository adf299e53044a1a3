#!/usr/bin/env bash
# Installs libchdb.so, the embedded ClickHouse engine haoqi loads at run time, where haoqi looks
# first: ${HAOQI_HOME:-$HOME/.haoqi}/lib/libchdb.so. It comes from the npm registry package
# @chdb/lib-linux-x64-gnu (ClickHouse 26.7); both the tarball and the library are checked
# against pinned sha256 sums. Re-running it is cheap: an installed library with the right sum is
# left alone.
#
#   deploy/install-libchdb.sh            # install for this user
#   HAOQI_HOME=/opt/haoqi deploy/install-libchdb.sh
#
# haoqi's search order: $HAOQI_LIBCHDB (a file; when set, the only place looked at),
# $HAOQI_HOME/lib/libchdb.so (default ~/.haoqi/lib), libchdb.so next to the haoqi binary,
# /usr/local/lib/libchdb.so, /usr/lib/libchdb.so.
set -euo pipefail

VERSION="26.7.3-stable.1"
PACKAGE="@chdb/lib-linux-x64-gnu@${VERSION}"
TARBALL="chdb-lib-linux-x64-gnu-${VERSION}.tgz"
TARBALL_SHA256="c0d32b129e988f2b9a9a31c9141aecf5e1e2453f9a079efc4d36ab8e3f92b2ad"
LIB_SHA256="36ad4e999882821ef13cf2d0f52c93f48e6ee1b4498b35a201c23ce4b8d15bf5"

dest_dir="${HAOQI_HOME:-${HOME}/.haoqi}/lib"
dest="${dest_dir}/libchdb.so"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-libchdb: this package is for Linux x86_64, not $(uname -s)-$(uname -m)" >&2
  exit 1
fi

if [ -f "$dest" ] && echo "${LIB_SHA256}  ${dest}" | sha256sum --check --status; then
  echo "libchdb ${VERSION} already installed at ${dest}"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-libchdb: npm is needed to fetch ${PACKAGE} from the npm registry" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetching ${PACKAGE} (about 180 MB) ..."
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
echo "${TARBALL_SHA256}  ${work}/${TARBALL}" | sha256sum --check --quiet
tar -xzf "${work}/${TARBALL}" -C "$work" package/libchdb.so
echo "${LIB_SHA256}  ${work}/package/libchdb.so" | sha256sum --check --quiet

mkdir -p "$dest_dir"
install -m 0644 "${work}/package/libchdb.so" "${dest}.partial"
mv -f "${dest}.partial" "$dest"
echo "installed libchdb ${VERSION} at ${dest}"
