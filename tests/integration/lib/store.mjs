// Behind the service's back: writes objects and image records straight into the configured stores
// (the fs directory or s3rver; SQLite through the sqlite3 CLI or dynalite over HTTP), to recreate
// what an older build could leave behind, and reads records back to see what really remains.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const HAVE_SQLITE_CLI = spawnSync('sqlite3', ['-version']).status === 0;

function distributed(svc) {
  return svc.backend.METADATA_BACKEND === 'dynamodb';
}

// Objects: s3rver accepts unsigned requests.
export async function putObject(svc, key, bytes, contentType = undefined) {
  if (svc.backend.OBJECT_BACKEND === 's3') {
    const headers = contentType ? { 'content-type': contentType } : {};
    const r = await fetch(`${svc.backend.S3_ENDPOINT}/${svc.bucket}/${key}`, { method: 'PUT', body: bytes, headers });
    assert.equal(r.status, 200);
  } else {
    const file = path.join(svc.dataDir, 'objects', key);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
}

export async function removeObject(svc, key) {
  if (svc.backend.OBJECT_BACKEND === 's3') {
    const r = await fetch(`${svc.backend.S3_ENDPOINT}/${svc.bucket}/${key}`, { method: 'DELETE' });
    assert.equal(r.status, 204);
  } else {
    rmSync(path.join(svc.dataDir, 'objects', key));
  }
}

// The object's bytes, or null when it is not there.
export async function readObject(svc, key) {
  if (svc.backend.OBJECT_BACKEND === 's3') {
    const r = await fetch(`${svc.backend.S3_ENDPOINT}/${svc.bucket}/${key}`);
    return r.status === 200 ? Buffer.from(await r.arrayBuffer()) : null;
  }
  const file = path.join(svc.dataDir, 'objects', key);
  return existsSync(file) ? readFileSync(file) : null;
}

async function dynamo(svc, op, body) {
  const r = await fetch(svc.backend.DYNAMODB_ENDPOINT, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${op}`,
      'x-amz-date': '20200101T000000Z',
      // dynalite checks the shape of the header, not the signature
      authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
    },
    body: JSON.stringify({ TableName: svc.backend.DYNAMODB_TABLE_NAME, ...body }),
  });
  const json = await r.json();
  assert.equal(r.status, 200, JSON.stringify(json));
  return json;
}

// The webhook outbox items waiting in DynamoDB (every partition), as
// { pk, orderKey, seq, id, attempts }.
export async function outboxItems(svc) {
  assert.ok(distributed(svc), 'the DynamoDB outbox');
  const out = [];
  let start;
  do {
    const r = await dynamo(svc, 'Scan', {
      FilterExpression: 'begins_with(PK, :p)', ExpressionAttributeValues: { ':p': { S: 'WHK#' } },
      ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}),
    });
    for (const it of r.Items) out.push({ pk: it.PK.S, orderKey: it.orderKey.S, seq: Number(it.seq.N), id: it.id.S, attempts: Number(it.attempts.N) });
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

// Writes an outbox item as a build before the outbox partitions wrote it: one partition per
// target, PK=WHK#{target key}.
export async function plantUnshardedEvent(svc, targetKey, e) {
  assert.ok(distributed(svc), 'the DynamoDB outbox');
  await dynamo(svc, 'PutItem', {
    Item: {
      PK: { S: `WHK#${targetKey}` }, SK: { S: `${e.orderKey}#${String(e.seq).padStart(20, '0')}#${e.id}` },
      id: { S: e.id }, type: { S: e.type }, orderKey: { S: e.orderKey }, seq: { N: String(e.seq) },
      createdMs: { N: String(e.createdMs) }, body: { S: e.body }, attempts: { N: '0' }, nextAt: { N: '0' },
      leaseUntil: { N: '0' },
    },
  });
}

function sqlite(svc, sql) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', path.join(svc.dataDir, 'metadata.db'), sql]);
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString();
}

const q = (v) => (v === null || v === undefined ? 'NULL' : `'${String(v).replaceAll("'", "''")}'`);

// Writes one image record as a build without today's checks could have stored it, counters
// included (an active record counts for its user), `state` 'active' or 'deleting'.
export async function plantRecord(svc, r, state = 'active') {
  const t = Date.parse(r.createdAt);
  if (distributed(svc)) {
    const iso = new Date(t).toISOString();
    const item = {
      PK: { S: `IMAGE#${r.id}` }, SK: { S: 'METADATA' }, id: { S: r.id }, userId: { S: r.userId },
      originalFilename: { S: r.originalFilename ?? 'legacy.jpg' }, mimeType: { S: 'image/jpeg' },
      fileSize: { N: '10' }, processedSize: { N: '10' }, thumbnailSize: { N: '0' }, width: { N: '0' }, height: { N: '0' },
      s3Key: { S: r.s3Key }, s3Bucket: { S: svc.bucket }, processingStatus: { S: 'completed' }, format: { S: 'jpeg' },
      quality: { N: '0' }, tags: { L: [] }, createdAt: { S: iso }, updatedAt: { S: iso }, uploadedAt: { S: iso },
      version: { N: '1' }, state: { S: state },
      GSI1PK: { S: `${state === 'active' ? 'USER' : 'DELETING#USER'}#${r.userId}` }, GSI1SK: { S: `UPLOADED#${iso}#${r.id}` },
    };
    if (r.thumbnailKey) item.thumbnailKey = { S: r.thumbnailKey };
    await dynamo(svc, 'PutItem', { Item: item });
    if (state !== 'active') return;
    await dynamo(svc, 'UpdateItem', {
      Key: { PK: { S: `COUNTER#USER#${r.userId}` }, SK: { S: 'ALL' } },
      UpdateExpression: 'ADD #n :one', ExpressionAttributeNames: { '#n': 'n' }, ExpressionAttributeValues: { ':one': { N: '1' } },
    });
    await dynamo(svc, 'UpdateItem', {
      Key: { PK: { S: 'COUNTER#GLOBAL' }, SK: { S: 'ALL' } },
      UpdateExpression: 'ADD #n :one, #b :ten, #d :one',
      ExpressionAttributeNames: { '#n': 'n', '#b': 'bytes', '#d': `d:${iso.slice(0, 10)}` },
      ExpressionAttributeValues: { ':one': { N: '1' }, ':ten': { N: '10' } },
    });
    return;
  }
  const active = state === 'active';
  sqlite(svc, `BEGIN;
INSERT INTO images (id, user_id, album_id, original_filename, mime_type, file_size, processed_size, thumbnail_size,
  width, height, s3_key, s3_bucket, thumbnail_key, processing_status, processing_error, format, quality, title,
  description, alt_text, tags, created_at_ms, updated_at_ms, uploaded_at_ms, version, state)
VALUES (${q(r.id)}, ${q(r.userId)}, NULL, ${q(r.originalFilename ?? 'legacy.jpg')}, 'image/jpeg', 10, 10, 0, 0, 0,
  ${q(r.s3Key)}, 'local', ${q(r.thumbnailKey)}, 'completed', NULL, 'jpeg', 0, NULL, NULL, NULL, '[]', ${t}, ${t}, ${t}, 1,
  ${active ? 0 : 1});
${active ? `INSERT INTO counters (kind, user_id, album_id, tag, n, bytes) VALUES ('g', '', '', '', 1, 10), ('u', ${q(r.userId)}, '', '', 1, 0)
  ON CONFLICT (kind, user_id, album_id, tag) DO UPDATE SET n = n + 1, bytes = bytes + excluded.bytes;` : ''}
COMMIT;`);
}

// Whether any record with this id is stored, in any state (what an erasure must leave none of).
export async function recordExists(svc, id) {
  if (distributed(svc)) {
    const r = await dynamo(svc, 'GetItem', { Key: { PK: { S: `IMAGE#${id}` }, SK: { S: 'METADATA' } }, ConsistentRead: true });
    return Boolean(r.Item);
  }
  return sqlite(svc, `SELECT count(*) FROM images WHERE id = ${q(id)}`).trim() === '1';
}

// Planting needs the sqlite3 CLI in embedded mode; skip reason or false.
export function plantSkip(svc) {
  return !distributed(svc) && !HAVE_SQLITE_CLI ? 'needs the sqlite3 command-line tool' : false;
}
