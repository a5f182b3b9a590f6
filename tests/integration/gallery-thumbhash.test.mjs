// The gallery's ThumbHash decoder (web/gallery/app.js, thumbHashDataUrl) against npm thumbhash's
// own decoder: the same pixels, exactly, for hashes of random images with and without alpha and
// of every aspect ratio. The function is taken from the page's source and run with a stand-in
// canvas that keeps the pixels it is given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const th = await import(path.resolve(here, '../tools/node_modules/thumbhash/thumbhash.js'));

function pageDecoder() {
  const src = readFileSync(path.resolve(here, '../../web/gallery/app.js'), 'utf8');
  const start = src.indexOf('  function thumbHashDataUrl(b64) {');
  assert.ok(start > 0, 'thumbHashDataUrl is in app.js');
  const end = src.indexOf('\n  }\n', start) + 4;
  const painted = {};
  const document = {
    createElement: () => ({
      getContext: () => ({
        createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
        putImageData: (img) => { painted.image = img; },
      }),
      toDataURL: () => 'data:image/png;base64,',
    }),
  };
  const atob = (s) => Buffer.from(s, 'base64').toString('binary');
  const fn = new Function('atob', 'document', `${src.slice(start, end)}; return thumbHashDataUrl;`)(atob, document);
  return (b64) => { fn(b64); return painted.image; };
}

test('the page decodes ThumbHashes to the same pixels as npm thumbhash', () => {
  const decode = pageDecoder();
  let seed = 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let k = 0; k < 300; k++) {
    const w = 1 + Math.floor(rand() * 100), h = 1 + Math.floor(rand() * 100);
    const rgba = new Uint8Array(w * h * 4);
    const alpha = k % 3 === 0;
    for (let i = 0; i < w * h; i++) {
      const x = i % w, y = Math.floor(i / w);
      rgba.set([(x * 255) / w + rand() * 40, (y * 255) / h, rand() * 255, alpha ? (x * 255) / w : 255], i * 4);
    }
    const hash = th.rgbaToThumbHash(w, h, rgba);
    const want = th.thumbHashToRGBA(hash);
    const got = decode(Buffer.from(hash).toString('base64'));
    assert.deepEqual([got.width, got.height], [want.w, want.h], `${w}x${h}`);
    assert.deepEqual(Array.from(got.data), Array.from(want.rgba), `${w}x${h} alpha=${alpha}`);
  }
});
