#!/usr/bin/env bash
# Fetches the portal's NCALayer client, the public npm package ncalayer-js-client (MIT), and copies its
# one browser file into simulators/portal/static/ unchanged, with its licence. The file is committed; run this to
# take another version, then update VERSION and the digest in tests/simulators/portal/test_vendored.py.
set -euo pipefail
VERSION="${1:-1.5.6}"
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "ncalayer-js-client@${VERSION}" >/dev/null && tar xzf "ncalayer-js-client-${VERSION}.tgz")
cp "$tmp/package/ncalayer-client.js" simulators/portal/static/ncalayer-client.js
cp "$tmp/package/LICENSE" simulators/portal/static/ncalayer-client.LICENSE
sha256sum simulators/portal/static/ncalayer-client.js
