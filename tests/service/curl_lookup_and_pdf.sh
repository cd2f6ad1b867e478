#!/bin/sh
# What a system in any language does with the service: curl looks up a BIN and downloads a licence PDF.
# Environment: SERVICE_URL, API_KEY, BIN, LICENCE, OUT (a directory). Exits non-zero on any surprise.
set -eu

curl -fsS -H "X-API-Key: $API_KEY" -H "X-Request-ID: curl-lookup" \
     -o "$OUT/lookup.json" "$SERVICE_URL/api/v1/legal-entities/$BIN"
grep -q '"kind":"found"' "$OUT/lookup.json"

curl -fsS -H "X-API-Key: $API_KEY" -o "$OUT/licence.pdf" "$SERVICE_URL/api/v1/licences/$LICENCE/pdf"
[ "$(head -c 5 "$OUT/licence.pdf")" = "%PDF-" ]

# without the key: 401 and a JSON error with its code
code=$(curl -sS -o "$OUT/refused.json" -w '%{http_code}' "$SERVICE_URL/api/v1/legal-entities/$BIN")
[ "$code" = 401 ] || { echo "expected 401 without a key, got $code" >&2; exit 1; }
grep -q '"code":"EGOV601"' "$OUT/refused.json"

echo "curl: lookup and licence PDF ok"
