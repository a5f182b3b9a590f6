// The browser gallery at / end to end, in Debian's headless Chromium driven by playwright-core:
// sign-in (a refused token, a pasted token, the dev one-click), drag-and-drop upload of several
// files with per-file progress and an API error, the thumbnail grid with infinite scroll over
// cursor pages, album and tag filters, the editor (keyboard only), a 409 showing the newer
// version, delete with confirmation. Every step is checked against the API as well. Screenshots
// go to build/artifacts/gallery-<mode>/ (ISVC_ARTIFACTS overrides).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Service, DISTRIBUTED, HAVE_TESTDATA, testImage } from './lib/server.mjs';
import { makePng } from './lib/png.mjs';
import { launchBrowser } from './lib/browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = process.env.ISVC_ARTIFACTS ||
  path.resolve(HERE, '../../build/artifacts', `gallery-${DISTRIBUTED ? 'distributed' : 'embedded'}`);
const USER = 'gallery-user';
let svc, browser, page, token, conflictId;
// Uncaught page errors, console errors (a CSP violation is one) and API answers >= 400: the page
// must run clean, and the only failed requests are the ones the tests provoke.
const problems = [];
const failures = [];

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  svc = await new Service().start();
  token = svc.token(USER);
  browser = await launchBrowser();
  page = browser.context.pages()[0] || (await browser.context.newPage());
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) failures.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
});
after(async () => {
  if (browser) await browser.close();
  assert.equal((await svc.stop()).code, 0);
});

// Whole-page shots, except with a modal dialog open (a dialog sits in the viewport).
const shot = (name, fullPage = true) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
const cards = () => page.locator('#grid > li.card');
const cardIds = () => page.$$eval('#grid > li.card', (els) => els.map((e) => e.dataset.id));
async function apiList(query = '') {
  const all = [];
  let cursor = null;
  do {
    const r = await svc.req('GET', `/images?limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`, { token });
    assert.equal(r.status, 200);
    all.push(...r.json.images);
    cursor = r.json.pagination.nextCursor;
  } while (cursor);
  return all;
}

// Photos of the shared corpus when present, generated PNGs otherwise.
function photos() {
  if (HAVE_TESTDATA) {
    return [
      ['castle.jpg', 'image/jpeg', testImage('photo_3mb.jpg')],
      ['portrait.jpg', 'image/jpeg', testImage('photo_portrait.jpg')],
      ['rotated.jpg', 'image/jpeg', testImage('photo_exif_rotated.jpg')],
    ];
  }
  return [0, 1, 2].map((i) => [`generated-${i}.png`, 'image/png', makePng(900 + i * 50, 600, { seed: i + 1 })]);
}

async function dropFiles(files) {
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    const drop = document.getElementById('drop');
    drop.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    drop.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files.map(([name, type, buf]) => ({ name, type, b64: buf.toString('base64') })));
}

test('the page is served with its CSP; a refused token shows the API error, a pasted token signs in', async () => {
  const r = await fetch(`${svc.base}/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-security-policy'), /script-src 'self'; style-src 'self'/);
  assert.match(await r.text(), /data-dev-token="on"/);

  await page.goto(`${svc.base}/`);
  await page.locator('#token').waitFor();
  await page.fill('#token', 'not.a.token');
  await page.click('#token-form button[type=submit]');
  const alert = page.locator('#alert');
  await alert.waitFor();
  const text = await page.textContent('#alert-text');
  assert.match(text, /^That token was refused\. .+ \(UNAUTHORIZED, request [A-Za-z0-9._-]+\)$/);
  assert.equal(await page.isVisible('#app'), false);

  await page.fill('#token', token);
  await page.click('#token-form button[type=submit]');
  await page.locator('#app').waitFor();
  assert.equal(await page.textContent('#who-name'), USER);
  assert.equal(await page.isVisible('#alert'), false);
  await page.locator('#empty').waitFor();
  await shot('01-signed-in-empty');
});

test('drag-and-drop upload: several files with a progress bar each, an API error on the bad one', async () => {
  const files = photos();
  await page.fill('#up-album', 'trip');
  await page.fill('#up-tags', 'castle, summer');
  await dropFiles([...files, ['notes.txt', 'text/plain', Buffer.from('these are not pixels')]]);
  await page.waitForFunction(() => document.querySelectorAll('#uploads li.done, #uploads li.failed').length === 4,
    null, { timeout: 60000 });
  const rows = await page.$$eval('#uploads li', (els) => els.map((li) => ({
    name: li.querySelector('.name').textContent,
    cls: li.className,
    state: li.querySelector('.state').textContent,
    progress: li.querySelector('progress').value,
  })));
  const failed = rows.filter((r) => r.cls === 'failed');
  assert.equal(failed.length, 1);
  assert.equal(failed[0].name, 'notes.txt');
  assert.match(failed[0].state, /^failed: .+ \(INVALID_FILE_TYPE, request [A-Za-z0-9._-]+\)$/);
  const done = rows.filter((r) => r.cls === 'done');
  assert.deepEqual(done.map((r) => r.name).sort(), files.map((f) => f[0]).sort());
  for (const r of done) assert.equal(r.progress, 100);

  // The grid shows exactly the API's images, with loaded 400×400 thumbnails.
  const listed = await apiList();
  assert.equal(listed.length, 3);
  for (const img of listed) {
    assert.equal(img.albumId, 'trip');
    assert.deepEqual(img.tags, ['castle', 'summer']);
  }
  assert.deepEqual((await cardIds()).sort(), listed.map((i) => i.id).sort());
  assert.equal(await page.textContent('#count'), '(3)');
  await page.waitForFunction(() => [...document.querySelectorAll('#grid img')].every((i) => i.complete && i.naturalWidth > 0));
  // Each card shows the smallest variant that covers its ~260 CSS px (AVIF, which Chromium
  // decodes), or the 400-px thumbnail for an image narrower than every variant.
  const shown = await page.$$eval('#grid img', (els) => els.map((i) => [i.currentSrc, i.alt]));
  for (const [src, alt] of shown) {
    assert.match(src, /\/variants\/[0-9A-Z]{26}\/320\.avif$|\/thumbnails\//, src);
    assert.match(alt, /^Untitled image uploaded \d{4}-\d\d-\d\dT/);
  }
  await shot('02-uploaded');
});

test('infinite scroll walks the cursor pages: every image exactly once, in API order', async () => {
  // 30 more images through the API: 33 in all, more than the 24 of the first page.
  // Small photos of the corpus when present (the screenshots then show photos), else PNGs.
  const small = HAVE_TESTDATA
    ? ['photo_gray.jpg', 'photo_with_gps_exif.jpg', 'photo_lossy.webp', 'palette.png'].map(testImage)
    : [];
  for (let i = 0; i < 30; i++) {
    const fields = { title: `Seed ${String(i).padStart(2, '0')}`, altText: `Test picture number ${i}` };
    if (i % 3 === 0) fields.tags = 'every-third';
    const bytes = small.length ? small[i % small.length] : makePng(300, 200, { seed: 100 + i });
    const r = await svc.upload(token, bytes, fields);
    assert.equal(r.status, 201);
  }
  await page.reload();
  await page.locator('#app').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#grid > li.card').length === 24);
  assert.equal(await page.textContent('#count'), '(33)');
  await page.locator('#sentinel').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelectorAll('#grid > li.card').length === 33);
  const api = await apiList();
  assert.deepEqual(await cardIds(), api.map((i) => i.id));
  assert.equal(await page.isVisible('#more'), false);
  // Alt text is used: the API's altText, else the title, on every thumbnail.
  const alts = await page.$$eval('#grid img', (els) => els.map((i) => i.alt));
  for (const [i, img] of api.entries()) {
    if (img.altText) assert.equal(alts[i], img.altText);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('03-grid');
});

test('album and tag filters show exactly the API\'s filtered lists', async () => {
  await page.fill('#f-tag', 'every-third');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.getElementById('count').textContent === '(10)');
  assert.deepEqual(await cardIds(), (await apiList('&tag=every-third')).map((i) => i.id));
  await page.fill('#f-tag', '');
  await page.fill('#f-album', 'trip');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.getElementById('count').textContent === '(3)');
  assert.deepEqual(await cardIds(), (await apiList('&albumId=trip')).map((i) => i.id));
  await shot('04-filter-album');
  await page.click('#f-clear');
  await page.waitForFunction(() => document.getElementById('count').textContent === '(33)');
});

test('the editor works from the keyboard alone and saves through PATCH', async () => {
  const [first] = await apiList();
  // Focus the first card's button with Tab from the filters, open it with Enter.
  await page.focus('#f-clear');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.closest('li.card')?.dataset.id), first.id);
  await page.keyboard.press('Enter');
  await page.locator('#editor[open]').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.name), 'title');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Harbour at dusk');
  await page.keyboard.press('Tab'); // description
  await page.keyboard.type('Boats, lights, a long exposure.');
  await page.keyboard.press('Tab'); // alt text
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Boats moored in a harbour at dusk');
  await page.keyboard.press('Tab'); // tags
  await page.keyboard.press('Control+A');
  await page.keyboard.type('harbour, dusk');
  await shot('05-editor', false);
  await page.keyboard.press('Enter'); // submits the form
  await page.locator('#editor[open]').waitFor({ state: 'detached' });

  const now = (await svc.req('GET', `/images/${first.id}`, { token })).json;
  assert.equal(now.title, 'Harbour at dusk');
  assert.equal(now.description, 'Boats, lights, a long exposure.');
  assert.equal(now.altText, 'Boats moored in a harbour at dusk');
  assert.deepEqual(now.tags, ['harbour', 'dusk']);
  assert.equal(now.version, first.version + 1);
  const card = page.locator(`#grid li[data-id="${first.id}"]`);
  assert.equal(await card.locator('.caption').textContent(), 'Harbour at dusk');
  assert.equal(await card.locator('img').getAttribute('alt'), 'Boats moored in a harbour at dusk');

  // Escape closes the editor without saving.
  await card.locator('button.open').click();
  await page.locator('#editor[open]').waitFor();
  await page.fill('#edit-form input[name=title]', 'not saved');
  await page.keyboard.press('Escape');
  await page.locator('#editor[open]').waitFor({ state: 'detached' });
  assert.equal((await svc.req('GET', `/images/${first.id}`, { token })).json.version, now.version);
});

test('a 409 shows the newer version; the user can save theirs over it', async () => {
  const target = (await apiList())[1];
  conflictId = target.id;
  const card = page.locator(`#grid li[data-id="${target.id}"]`);
  await card.locator('button.open').click();
  await page.locator('#editor[open]').waitFor();
  // Someone else edits the image while the editor is open.
  const other = await svc.req('PATCH', `/images/${target.id}`, { token, body: { title: 'Changed elsewhere', version: target.version } });
  assert.equal(other.status, 200);
  await page.fill('#edit-form input[name=title]', 'Mine');
  await page.click('#edit-form button[type=submit]');
  await page.locator('#conflict').waitFor();
  assert.equal(await page.textContent('#conflict-version'), String(target.version + 1));
  const values = await page.$$eval('#conflict-values dd', (els) => els.map((e) => e.textContent));
  assert.equal(values[0], 'Changed elsewhere');
  assert.equal(await page.inputValue('#edit-form input[name=title]'), 'Mine');
  await shot('06-conflict', false);
  await page.click('#conflict-mine');
  await page.locator('#editor[open]').waitFor({ state: 'detached' });
  const now = (await svc.req('GET', `/images/${target.id}`, { token })).json;
  assert.equal(now.title, 'Mine');
  assert.equal(now.version, target.version + 2);
  assert.equal(await card.locator('.caption').textContent(), 'Mine');
});

test('delete asks for confirmation; keeping it deletes nothing, confirming deletes it', async () => {
  const victim = (await apiList())[2];
  const card = page.locator(`#grid li[data-id="${victim.id}"]`);
  await card.locator('button.delete').click();
  await page.locator('#confirm[open]').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm-cancel');
  await shot('07-confirm-delete', false);
  await page.click('#confirm-cancel');
  assert.equal((await svc.req('GET', `/images/${victim.id}`, { token })).status, 200);
  await card.locator('button.delete').click();
  await page.click('#confirm-delete');
  await card.waitFor({ state: 'detached' });
  assert.equal((await svc.req('GET', `/images/${victim.id}`, { token })).status, 404);
  assert.equal(await page.textContent('#count'), '(32)');
  assert.equal((await apiList()).length, 32);
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Deleted'));
});

test('cards load AVIF variants through <picture>, the placeholder is painted first, nothing moves', async () => {
  const up = await svc.upload(token, makePng(1200, 900, { seed: 77 }), { title: 'Responsive' });
  assert.equal(up.status, 201);
  // Variant requests are held, so the page is seen while the bytes are on their way.
  let release;
  const held = new Promise((r) => { release = r; });
  const requested = [];
  await page.route('**/variants/**', async (route) => {
    requested.push(new URL(route.request().url()).pathname);
    await held;
    await route.continue().catch(() => {});  // the page may have moved on meanwhile
  });
  try {
    await page.reload();
    await page.locator('#app').waitFor();
    const img = page.locator(`#grid > li.card[data-id="${up.json.id}"] img`);
    await img.waitFor();
    for (const deadline = Date.now() + 10000; !requested.length && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(requested.length, 'the card requested a variant');
    const before = await img.boundingBox();
    const pending = await img.evaluate((el) => ({
      complete: el.complete, image: getComputedStyle(el).backgroundImage,
      color: getComputedStyle(el).backgroundColor, width: el.getAttribute('width'), height: el.getAttribute('height'),
    }));
    assert.equal(pending.complete, false);
    assert.deepEqual([pending.width, pending.height], ['1200', '900']);  // intrinsic size from the API
    assert.ok(up.json.thumbhash || up.json.dominantColor, 'the API gives a placeholder');
    if (up.json.thumbhash) assert.match(pending.image, /^url\("data:image\/png;base64,/);
    if (up.json.dominantColor) {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(up.json.dominantColor.slice(i, i + 2), 16));
      assert.equal(pending.color, `rgb(${r}, ${g}, ${b})`);
    }
    await shot('09-placeholder', false);
    release();
    await img.evaluate((el) => (el.complete && el.naturalWidth) || new Promise((r) => el.addEventListener('load', r, { once: true })));
    const loaded = await img.evaluate((el) => ({ src: el.currentSrc, image: getComputedStyle(el).backgroundImage }));
    // Chromium supports AVIF: a 260-px card at DPR 1 takes the 320-px AVIF.
    assert.match(loaded.src, new RegExp(`/variants/${up.json.id}/320\\.avif$`));
    assert.equal(loaded.image, 'none');
    assert.deepEqual(await img.boundingBox(), before, 'the card did not move or resize when the image arrived');
    assert.ok(requested.every((p) => p.endsWith('.avif')), requested.join(' '));

    // The detail view shows the image at the screen's size: 1280 CSS px wide here, so the widest
    // variant of this 1200-px image (1024), not the main image.
    await page.click(`#grid > li.card[data-id="${up.json.id}"] .open`);
    await page.locator('#editor[open]').waitFor();
    await page.click('#edit-view');
    const full = page.locator('#viewer img.full');
    await full.waitFor();
    await full.evaluate((el) => (el.complete && el.naturalWidth) || new Promise((r) => el.addEventListener('load', r, { once: true })));
    assert.match(await full.evaluate((el) => el.currentSrc), new RegExp(`/variants/${up.json.id}/1024\\.avif$`));
    const box = await full.boundingBox();
    assert.ok(box.width <= 1280 && box.height <= 900, JSON.stringify(box));
    await shot('10-viewer', false);
    await page.click('#viewer-close');
    await page.keyboard.press('Escape');
  } finally {
    release();
    await page.unroute('**/variants/**');
  }
});

test('an expired session signs out with the API\'s message; the dev one-click signs back in', async () => {
  await page.evaluate(() => sessionStorage.setItem('isvc.token', 'x.y.z'));
  await page.reload();
  await page.locator('#signin').waitFor();
  assert.match(await page.textContent('#alert-text'), /^Signed out: the service refused the token\. .+\(UNAUTHORIZED/);
  await shot('08-error');

  await page.locator('#dev-form').waitFor();
  await page.fill('#dev-user', USER);
  await page.click('#dev-form button[type=submit]');
  await page.locator('#app').waitFor();
  assert.equal(await page.textContent('#who-name'), USER);
  await page.waitForFunction(() => document.getElementById('count').textContent === '(33)');
  assert.deepEqual(problems, []);
  assert.deepEqual(failures, [
    '401 GET /images', // the refused pasted token
    '400 POST /images', // notes.txt
    '409 PATCH /images/' + conflictId,
    '401 GET /images', // the expired session
  ]);
});

test('POST /dev/token: loopback callers in dev only, strict body; off outside dev', async () => {
  const ok = await svc.req('POST', '/dev/token', { body: { userId: 'someone' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.userId, 'someone');
  assert.equal(ok.json.expiresIn, 43200);
  const mine = await svc.req('GET', '/images', { token: ok.json.token });
  assert.equal(mine.status, 200);
  assert.equal(mine.json.totalCount, 0);
  for (const body of [{}, { userId: '' }, { userId: 'a/b' }, { userId: 'x'.repeat(129) }, { userId: 'a', role: 'admin' }]) {
    const r = await svc.req('POST', '/dev/token', { body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.code, 'VALIDATION_FAILED');
  }
  assert.equal((await svc.req('GET', '/dev/token')).status, 405);
  for (const h of [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }]) {
    const r = await svc.req('POST', '/dev/token', { body: { userId: 'someone' }, headers: h });
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'NOT_AUTHORIZED');
  }

  const prod = await new Service({ STAGE: 'production' }).start();
  try {
    assert.equal((await prod.req('POST', '/dev/token', { body: { userId: 'someone' } })).status, 404);
    const html = await (await fetch(`${prod.base}/`)).text();
    assert.match(html, /data-dev-token="off"/);
    for (const asset of ['app.js', 'app.css']) {
      const r = await fetch(`${prod.base}/gallery/${asset}`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type'), asset.endsWith('.js') ? /^application\/javascript/ : /^text\/css/);
    }
    assert.equal((await prod.req('GET', '/gallery/nope.js')).status, 404);
  } finally {
    await prod.stop();
  }
});
