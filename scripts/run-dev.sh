#!/usr/bin/env bash
# `make run`: start the service on the embedded defaults and print how to use it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/release/image-service
export HOST=${HOST:-127.0.0.1} PORT=${PORT:-8080} DATA_DIR=${DATA_DIR:-./data} STAGE=${STAGE:-dev}
mkdir -p "$DATA_DIR"
TOKEN=$("$BIN" token --user dev-user --ttl 12h)
ADMIN=$("$BIN" token --user dev-admin --role admin --ttl 12h)
BASE="http://$HOST:$PORT"
PHOTO=../shared/testdata/images/photo_3mb.jpg
[ -f "$PHOTO" ] || PHOTO=path/to/photo.jpg
cat <<TXT

image-service on $BASE  (STAGE=$STAGE, data in $DATA_DIR, Ctrl-C to stop)

  export TOKEN=$TOKEN
  # admin: $ADMIN

  curl -s $BASE/health
  curl -s -H "Authorization: Bearer \$TOKEN" -F file=@$PHOTO -F title=Castle -F tags=castle -F tags=medieval $BASE/images
  curl -s -H "Authorization: Bearer \$TOKEN" "$BASE/images?limit=20"
  curl -s -H "Authorization: Bearer \$TOKEN" $BASE/images/<id>
  curl -s -X PATCH -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"title":"New title","version":1}' $BASE/images/<id>
  curl -s -X DELETE -H "Authorization: Bearer \$TOKEN" $BASE/images/<id>
  curl -sI $BASE/files/images/dev-user/<id>.webp
  curl -s $BASE/metrics
  curl -s $BASE/api-docs

More tokens: $BIN token --user <id> [--role user|admin|service] [--ttl 1h]

TXT
exec "$BIN" serve
