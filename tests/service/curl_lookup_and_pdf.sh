#!/bin/sh
# What a system in any language does with the service, with curl and a POSIX shell only: look up a
# BIN, start a licensing flow, follow it to its licence and download the licence PDF.
# Environment: SERVICE_URL, API_KEY, BIN, APPLICATION (a JSON file: the flow's request), OUT (a
# directory), FLOW_TIMEOUT (seconds, default 90). Exits non-zero on any surprise.
set -eu

curl -fsS -H "X-API-Key: $API_KEY" -H "X-Request-ID: curl-lookup" \
     -o "$OUT/lookup.json" "$SERVICE_URL/api/v1/legal-entities/$BIN"
grep -q '"kind":"found"' "$OUT/lookup.json"

# start the flow: 202 and its id
printf '{"application": ' > "$OUT/start.json"
cat "$APPLICATION" >> "$OUT/start.json"
printf '}' >> "$OUT/start.json"
code=$(curl -sS -o "$OUT/started.json" -w '%{http_code}' -H "X-API-Key: $API_KEY" \
            -H 'Content-Type: application/json' --data-binary @"$OUT/start.json" "$SERVICE_URL/api/v1/flows")
[ "$code" = 202 ] || { echo "start: expected 202, got $code: $(cat "$OUT/started.json")" >&2; exit 1; }
flow=$(sed -n 's/.*"flow_id":"\([^"]*\)".*/\1/p' "$OUT/started.json")
[ -n "$flow" ] || { echo "no flow_id in $(cat "$OUT/started.json")" >&2; exit 1; }

# follow it until it ends
waited=0
while :; do
    curl -fsS -H "X-API-Key: $API_KEY" -o "$OUT/flow.json" "$SERVICE_URL/api/v1/flows/$flow"
    status=$(sed -n 's/.*"diagram_number":[0-9]*,"status":"\([a-z]*\)".*/\1/p' "$OUT/flow.json")
    case "$status" in
        completed) break ;;
        running|failed) ;;
        *) echo "flow $flow: status '$status': $(cat "$OUT/flow.json")" >&2; exit 1 ;;
    esac
    waited=$((waited + 1))
    [ "$waited" -le "$(( ${FLOW_TIMEOUT:-90} * 2 ))" ] || { echo "flow $flow did not complete" >&2; exit 1; }
    sleep 0.5
done
licence=$(sed -n 's/.*"licence_number":"\([^"]*\)".*/\1/p' "$OUT/flow.json")
[ -n "$licence" ] || { echo "flow $flow completed without a licence number" >&2; exit 1; }
echo "$licence" > "$OUT/licence-number.txt"

curl -fsS -H "X-API-Key: $API_KEY" -o "$OUT/licence.pdf" "$SERVICE_URL/api/v1/licences/$licence/pdf"
[ "$(head -c 5 "$OUT/licence.pdf")" = "%PDF-" ]

# without the key: 401 and a JSON error with its code
code=$(curl -sS -o "$OUT/refused.json" -w '%{http_code}' "$SERVICE_URL/api/v1/flows/$flow")
[ "$code" = 401 ] || { echo "expected 401 without a key, got $code" >&2; exit 1; }
grep -q '"code":"EGOV601"' "$OUT/refused.json"

echo "curl: lookup, flow $flow to licence $licence and its PDF ok"
