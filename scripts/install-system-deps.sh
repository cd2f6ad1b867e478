#!/usr/bin/env bash
# Installs the Debian packages the project needs, for one purpose:
#
#   install-system-deps.sh demo   what `make demo` needs: DejaVu fonts for PDFs with Kazakh text.
#   install-system-deps.sh test   (the default) what `make test` needs on top: xmlsec1 for the
#       interoperability tests, libxmlsec1 for the xmlsec wheel of the dev extra, the PostgreSQL
#       server binaries for tests/procedure/test_store_postgres.py (it starts a throwaway cluster;
#       not a server to run), curl (the non-Python client of tests/service/test_curl.py),
#       redis-server (the task queue's broker that the workers' tests and the scale drill start as
#       throwaway servers) and prometheus for promtool (checks the ops kit's alert rules in
#       tests/service/test_ops_kit.py), chromium and chromium-driver (the headless browser the
#       portal's tests in tests/simulators/portal/ drive), poppler-utils (pdftotext and pdffonts:
#       an independent reader of the PDFs in tests/procedure/test_pdf_poppler.py); none of them is
#       a server to run.
set -euo pipefail
purpose="${1:-test}"
case "$purpose" in
  demo|test) ;;
  *) echo "usage: $0 [demo|test]" >&2; exit 2 ;;
esac
need=()
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ "$purpose" = test ]; then
  command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)
  dpkg -s libxmlsec1-openssl >/dev/null 2>&1 || need+=(libxmlsec1-openssl)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)
  command -v promtool >/dev/null 2>&1 || need+=(prometheus)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
  command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing Debian packages for $purpose: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
