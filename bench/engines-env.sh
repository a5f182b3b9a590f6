# Sourced by bench/run.sh and bench/files-compare.sh. Under tests/integration/with-engines.mjs
# (dynalite, s3rver and Redis on loopback) it points the service at them — table and bucket named
# $1 — provisions them and sets MODE=distributed; otherwise MODE=embedded. Needs $BIN.
MODE=embedded
if [ -n "${ISVC_DYNAMODB_ENDPOINT:-}" ]; then
  MODE=distributed
  export METADATA_BACKEND=dynamodb OBJECT_BACKEND=s3 DYNAMODB_ENDPOINT=$ISVC_DYNAMODB_ENDPOINT \
    S3_ENDPOINT=$ISVC_S3_ENDPOINT S3_BUCKET_NAME=$1 DYNAMODB_TABLE_NAME=$1 \
    S3_FORCE_PATH_STYLE=true AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
  if [ -n "${ISVC_REDIS_ENDPOINT:-}" ]; then export REDIS_ENDPOINT=$ISVC_REDIS_ENDPOINT; fi
  "$BIN" provision >/dev/null
fi
