#!/usr/bin/env bash
# `make run`: start the service on the embedded defaults and print how to use it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/release/image-service
export HOST=${HOST:-127.0.0.1} PORT=${PORT:-8080} DATA_DIR=${DATA_DIR:-./data} STAGE=${STAGE:-dev}
mkdir -p "$DATA_DIR"
TOKEN=$("$BIN" token --user dev-user --ttl 12h)
ADMIN=$("$BIN" token --user dev-admin --role admin --ttl 12h)
SERVICE=$("$BIN" token --user legacy-api --role service --ttl 12h)
BASE="http://$HOST:$PORT"
PHOTO=../shared/testdata/images/photo_3mb.jpg
[ -f "$PHOTO" ] || PHOTO=path/to/photo.jpg
cat <<TXT

image-service on $BASE  (STAGE=$STAGE, data in $DATA_DIR, Ctrl-C to stop)

  Gallery:     $BASE/   (paste the token below, or one click: STAGE=dev)
  Swagger UI:  $BASE/swagger

  export TOKEN=$TOKEN
  # admin: $ADMIN
  # service (legacy import): $SERVICE

  curl -s $BASE/health
  curl -s -H "Authorization: Bearer \$TOKEN" -F file=@$PHOTO -F title=Castle -F tags=castle -F tags=medieval $BASE/images
  curl -s -H "Authorization: Bearer \$TOKEN" "$BASE/images?limit=20"
  curl -s -H "Authorization: Bearer \$TOKEN" $BASE/images/<id>
  curl -s -X PATCH -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"title":"New title","version":1}' $BASE/images/<id>
  curl -s -X DELETE -H "Authorization: Bearer \$TOKEN" $BASE/images/<id>
  curl -sI $BASE/files/images/dev-user/<id>.webp
  # direct upload: start, PUT the bytes to uploadUrl, complete
  curl -s -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"filename":"photo.jpg","contentType":"image/jpeg","contentLength":123456}' $BASE/images/uploads
  curl -s -T $PHOTO -H 'Content-Type: image/jpeg' "<uploadUrl>"
  curl -s -X POST -H "Authorization: Bearer \$TOKEN" $BASE/images/uploads/<uploadId>/complete
  # legacy import (service role): see docs/migration.md
  curl -s -H "Authorization: Bearer <service token>" -H 'Content-Type: application/json' -d '{"id":"0bd4c5f4-5b7e-4c0e-9d8e-9a3f2c1b0a99","userId":"dev-user","s3Key":"gallery/x.jpg","originalFilename":"x.jpg","mimeType":"image/jpeg","fileSize":1,"createdAt":"2024-01-01T00:00:00Z"}' $BASE/images
  curl -s $BASE/metrics
  curl -s $BASE/api-docs

More tokens: $BIN token --user <id> [--role user|admin|service] [--ttl 1h]

TXT
exec "$BIN" serve
