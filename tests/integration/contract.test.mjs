// The OpenAPI contract check that lib/server.mjs applies to every response of the suite can
// fail: a renamed field, an extra field, a wrong type and an undocumented status are all caught
// on real responses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Service } from './lib/server.mjs';
import { contractViolation } from './lib/contract.mjs';
import { makePng } from './lib/png.mjs';

let svc;
before(async () => { svc = await new Service().start(); });
after(async () => { assert.equal((await svc.stop()).code, 0); });

test('a renamed, extra or mistyped field, or an undocumented status, breaks the contract', async () => {
  const token = svc.token('contract-user');
  const img = (await svc.upload(token, makePng(150, 150))).json;
  const got = await svc.req('GET', `/images/${img.id}`, { token });  // checked by req() itself
  const json = 'application/json';
  const path = `/images/${img.id}`;
  assert.equal(await contractViolation('GET', path, 200, json, got.json), null);

  const { originalFilename, ...rest } = got.json;
  const renamed = await contractViolation('GET', path, 200, json, { ...rest, originalFileName: originalFilename });
  assert.match(renamed, /must have required property 'originalFilename'/);
  assert.match(renamed, /must NOT have additional properties/);
  assert.match(await contractViolation('GET', path, 200, json, { ...got.json, width: 'wide' }), /body\/width must be integer/);
  assert.match(await contractViolation('GET', path, 418, json, got.json), /status 418 not documented/);

  const list = await svc.req('GET', '/images', { token });
  const bad = { ...list.json, images: list.json.images.map(({ tags, ...r }) => r) };
  assert.match(await contractViolation('GET', '/images', 200, json, bad), /required property 'tags'/);
  const err = await svc.req('GET', '/images/01J00000000000000000000000', { token });
  const { requestId, ...noId } = err.json;
  assert.match(await contractViolation('GET', '/images/01J00000000000000000000000', 404, json, noId), /requestId/);
});
