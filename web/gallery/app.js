// The browser gallery served at / (plain static files, no build step). It speaks only the public
// API of openapi/openapi.yaml with a bearer token held in this tab's sessionStorage.
'use strict';

(() => {
  const PAGE = 24;
  const PARALLEL_UPLOADS = 2;
  const $ = (id) => document.getElementById(id);

  const state = {
    token: sessionStorage.getItem('isvc.token') || '',
    filters: { albumId: '', tag: '' },
    cursor: null,
    hasMore: false,
    loading: false,
    generation: 0, // bumps when the list restarts, so late pages of an old list are dropped
    editing: null, // the image object the editor was opened with
    deleting: null,
  };

  // ---- API ---------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      const message = (body && body.message) || `HTTP ${status}`;
      super(message);
      this.status = status;
      this.body = body || {};
      this.code = this.body.code || '';
    }
    // One line a person can act on: the API's message, its code and the request id to quote.
    describe() {
      let text = this.message;
      if (this.code === 'RATE_LIMIT_EXCEEDED' && this.body.retryAfter)
        text += ` Try again in ${this.body.retryAfter} s.`;
      if (this.code) text += ` (${this.code}`;
      if (this.body.requestId) text += `${this.code ? ', ' : ' ('}request ${this.body.requestId}`;
      if (this.code || this.body.requestId) text += ')';
      return text;
    }
  }

  async function parseBody(res) {
    const text = await res.text();
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      return { message: text.slice(0, 200) };
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, { message: `The service cannot be reached (${e.message}).` });
    }
    const data = await parseBody(res);
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  // Errors everywhere go through here: a 401 means the token is no good any more.
  function report(err) {
    if (err instanceof ApiError && err.status === 401 && state.token) {
      signOut();
      showAlert(`Signed out: the service refused the token. ${err.describe()}`);
      return;
    }
    showAlert(err instanceof ApiError ? err.describe() : String(err.message || err));
  }

  // ---- messages ----------------------------------------------------------------------------

  function showAlert(text) {
    $('alert-text').textContent = text;
    $('alert').hidden = false;
  }
  function clearAlert() {
    $('alert').hidden = true;
    $('alert-text').textContent = '';
  }
  function announce(text) {
    $('status').textContent = text;
  }

  // ---- sign-in -----------------------------------------------------------------------------

  function tokenSubject(token) {
    try {
      const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const json = decodeURIComponent(
        Array.from(atob(payload), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''),
      );
      return JSON.parse(json).sub || '';
    } catch {
      return '';
    }
  }

  async function signIn(token) {
    clearAlert();
    state.token = token.trim();
    try {
      await api('GET', 'images?limit=1'); // proves the token before showing the gallery
    } catch (err) {
      state.token = '';
      if (err instanceof ApiError && err.status === 401) {
        showAlert(`That token was refused. ${err.describe()}`);
      } else {
        report(err);
      }
      return;
    }
    sessionStorage.setItem('isvc.token', state.token);
    showGallery();
  }

  function signOut() {
    state.token = '';
    sessionStorage.removeItem('isvc.token');
    $('who').hidden = true;
    $('app').hidden = true;
    $('signin').hidden = false;
    $('grid').replaceChildren();
    $('uploads').replaceChildren();
    $('token').value = '';
  }

  function showGallery() {
    $('signin').hidden = true;
    $('app').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = tokenSubject(state.token) || 'unknown user';
    restartList();
    $('choose').focus();
  }

  // ---- the grid ----------------------------------------------------------------------------

  function listQuery() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (state.filters.albumId) q.set('albumId', state.filters.albumId);
    if (state.filters.tag) q.set('tag', state.filters.tag);
    if (state.cursor) q.set('cursor', state.cursor);
    return `images?${q}`;
  }

  // ---- Responsive images and placeholders ----------------------------------------------------

  // A ThumbHash (base64, as the API returns it) rendered to a small PNG data URL: the blurred
  // preview painted behind an image while it loads. The hash holds a DCT of luminance (L), two
  // colour-difference channels (P: yellow-blue, Q: red-green) and optionally alpha, at a few
  // coefficients each; here they are summed back over a 32-pixel grid.
  function thumbHashDataUrl(b64) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    if (bytes.length < 5) return null;
    const h24 = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16);
    const h16 = bytes[3] | (bytes[4] << 8);
    const alpha = (h24 >> 23) & 1;
    const landscape = (h16 >> 15) & 1;
    const lCount = alpha ? 5 : 7;
    // The luminance grid's sides as encoded (their ratio is the image's aspect ratio); at least
    // 3 terms a side are stored.
    const sx = landscape ? lCount : h16 & 7;
    const sy = landscape ? h16 & 7 : lCount;
    const lx = Math.max(3, sx);
    const ly = Math.max(3, sy);
    let nibble = 0;
    const start = alpha ? 6 : 5;
    const next = () => ((bytes[start + (nibble >> 1)] >> ((nibble++ & 1) * 4)) & 15) / 7.5 - 1;
    // The AC coefficients of an nx × ny triangle (cx·ny < nx·(ny − cy)), without the DC term.
    const channel = (nx, ny, scale) => {
      const terms = [];
      for (let cy = 0; cy < ny; cy++)
        for (let cx = cy ? 0 : 1; cx * ny < nx * (ny - cy); cx++) terms.push([cx, cy, next() * scale]);
      return terms;
    };
    const L = { dc: (h24 & 63) / 63, ac: channel(lx, ly, ((h24 >> 18) & 31) / 31) };
    const P = { dc: ((h24 >> 6) & 63) / 31.5 - 1, ac: channel(3, 3, (((h16 >> 3) & 63) / 63) * 1.25) };
    const Q = { dc: ((h24 >> 12) & 63) / 31.5 - 1, ac: channel(3, 3, (((h16 >> 9) & 63) / 63) * 1.25) };
    const A = alpha ? { dc: (bytes[5] & 15) / 15, ac: channel(5, 5, (bytes[5] >> 4) / 15) } : null;
    const ratio = sx / sy;
    const w = Math.round(ratio > 1 ? 32 : 32 * ratio);
    const h = Math.round(ratio > 1 ? 32 / ratio : 32);
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    const out = ctx.createImageData(w, h);
    const at = (c, x, y) =>
      c.ac.reduce((v, [cx, cy, f]) => v + f * Math.cos((Math.PI / w) * (x + 0.5) * cx) *
        Math.cos((Math.PI / h) * (y + 0.5) * cy) * 2, c.dc);
    const clamp = (v) => Math.trunc(255 * Math.max(0, Math.min(1, v)));
    for (let y = 0, i = 0; y < h; y++) {
      for (let x = 0; x < w; x++, i += 4) {
        const l = at(L, x, y), p = at(P, x, y), q = at(Q, x, y);
        const b = l - (2 / 3) * p;
        const r = (3 * l - b + q) / 2;
        out.data.set([clamp(r), clamp(r - q), clamp(b), A ? clamp(at(A, x, y)) : 255], i);
      }
    }
    ctx.putImageData(out, 0, 0);
    return canvas.toDataURL('image/png');
  }

  // <picture> with the image's AVIF and WebP variants (the browser picks format and width from
  // `sizes`), its intrinsic size so the box never moves, and a placeholder painted until the
  // image has loaded: the ThumbHash, or the dominant colour.
  function picture(img, { sizes, fallback, className = '' }) {
    const pic = document.createElement('picture');
    if (img.srcset && img.srcset.avif) {
      const source = document.createElement('source');
      source.type = 'image/avif';
      source.srcset = img.srcset.avif;
      source.sizes = sizes;
      pic.append(source);
    }
    const el = document.createElement('img');
    if (className) el.className = className;
    if (img.srcset && img.srcset.webp) {
      el.srcset = img.srcset.webp;
      el.sizes = sizes;
    }
    el.src = fallback;
    el.alt = altOf(img);
    el.loading = 'lazy';
    el.decoding = 'async';
    if (img.width && img.height) {
      el.width = img.width;
      el.height = img.height;
    }
    let painted = null;
    try {
      painted = img.thumbhash ? thumbHashDataUrl(img.thumbhash) : null;
    } catch {
      painted = null;  // an unreadable hash: the colour, or nothing
    }
    if (painted) el.style.backgroundImage = `url("${painted}")`;
    if (img.dominantColor) el.style.backgroundColor = img.dominantColor;
    if (painted || img.dominantColor) el.classList.add('placeholder');
    el.addEventListener(
      'load',
      () => {
        el.style.backgroundImage = '';
        el.style.backgroundColor = '';
        el.classList.add('loaded');
      },
      { once: true },
    );
    pic.append(el);
    return pic;
  }

  function altOf(img) {
    return img.altText || img.title || `Untitled image uploaded ${img.uploadedAt || ''}`.trim();
  }

  function card(img) {
    const li = document.createElement('li');
    li.className = 'card';
    li.dataset.id = img.id;
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'open';
    open.setAttribute('aria-label', `Edit ${img.title || 'untitled image'}`);
    // Cards are square crops about 200-260 CSS px wide (two columns on a phone).
    const pic = picture(img, {
      sizes: '(max-width: 480px) 50vw, 260px',
      fallback: img.thumbnailUrl || img.imageUrl,
    });
    const caption = document.createElement('span');
    caption.className = 'caption';
    caption.textContent = img.title || 'Untitled';
    open.append(pic, caption);
    open.addEventListener('click', () => openEditor(img.id));
    const tags = document.createElement('span');
    tags.className = 'tags';
    tags.textContent = [img.albumId ? `album ${img.albumId}` : '', ...(img.tags || []).map((t) => `#${t}`)]
      .filter(Boolean)
      .join(' ');
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'delete danger';
    del.textContent = 'Delete';
    del.setAttribute('aria-label', `Delete ${img.title || 'untitled image'}`);
    del.addEventListener('click', () => confirmDelete(img));
    li.append(open, tags, del);
    return li;
  }

  function setCount(n) {
    state.total = n;
    $('count').textContent = `(${n})`;
    $('empty').hidden = n !== 0;
  }

  function restartList() {
    state.generation++;
    state.cursor = null;
    state.hasMore = false;
    state.loading = false;
    $('grid').replaceChildren();
    loadMore();
  }

  async function loadMore() {
    if (state.loading || !state.token) return;
    const gen = state.generation;
    state.loading = true;
    $('more').hidden = true;
    try {
      const page = await api('GET', listQuery());
      if (gen !== state.generation) return;
      const grid = $('grid');
      for (const img of page.images) {
        if (!grid.querySelector(`[data-id="${CSS.escape(img.id)}"]`)) grid.append(card(img));
      }
      state.cursor = page.pagination.nextCursor;
      state.hasMore = page.pagination.hasMore;
      setCount(page.totalCount);
      $('more').hidden = !state.hasMore;
    } catch (err) {
      if (gen === state.generation) report(err);
    } finally {
      if (gen === state.generation) state.loading = false;
    }
    // A tall screen may show the sentinel again straight away: keep filling it.
    if (gen === state.generation && state.hasMore && sentinelVisible()) loadMore();
  }

  function sentinelVisible() {
    const r = $('sentinel').getBoundingClientRect();
    return r.top < window.innerHeight + 200;
  }

  // ---- uploads -----------------------------------------------------------------------------

  const queue = [];
  let running = 0;

  function splitTags(text) {
    return text
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  }

  function addFiles(files) {
    clearAlert();
    for (const file of files) {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = file.name;
      const bar = document.createElement('progress');
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute('aria-label', `Upload progress of ${file.name}`);
      const status = document.createElement('span');
      status.className = 'state';
      status.textContent = 'waiting';
      li.append(name, bar, status);
      $('uploads').prepend(li);
      queue.push({ file, li, bar, status, album: $('up-album').value.trim(), tags: splitTags($('up-tags').value) });
    }
    pump();
  }

  function pump() {
    while (running < PARALLEL_UPLOADS && queue.length) {
      running++;
      upload(queue.shift()).finally(() => {
        running--;
        pump();
      });
    }
  }

  function upload(job) {
    return new Promise((resolve) => {
      const form = new FormData();
      form.append('file', job.file, job.file.name);
      if (job.album) form.append('albumId', job.album);
      if (job.tags.length) form.append('tags', JSON.stringify(job.tags));
      const xhr = new XMLHttpRequest();
      xhr.open('POST', 'images');
      xhr.setRequestHeader('Authorization', `Bearer ${state.token}`);
      xhr.setRequestHeader('Accept', 'application/json');
      // A retried request (the browser's or the user's) never creates a second image.
      xhr.setRequestHeader('Idempotency-Key', crypto.randomUUID());
      job.status.textContent = 'uploading';
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) job.bar.value = Math.round((e.loaded / e.total) * 100);
      };
      xhr.upload.onload = () => {
        job.bar.value = 100;
        job.status.textContent = 'processing';
      };
      xhr.onload = () => {
        let body = null;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          body = { message: xhr.responseText.slice(0, 200) };
        }
        if (xhr.status === 201 || xhr.status === 200) {
          job.li.classList.add('done');
          job.status.textContent = 'done';
          announce(`Uploaded ${job.file.name}`);
          added(body);
        } else {
          const err = new ApiError(xhr.status, body);
          job.li.classList.add('failed');
          job.status.textContent = `failed: ${err.describe()}`;
          job.bar.value = 0;
          if (xhr.status === 401) report(err);
          else announce(`Upload of ${job.file.name} failed: ${err.message}`);
        }
        resolve();
      };
      xhr.onerror = () => {
        job.li.classList.add('failed');
        job.status.textContent = 'failed: the service cannot be reached';
        resolve();
      };
      xhr.send(form);
    });
  }

  // A new image goes to the top of the grid when it matches the filters (newest first).
  function added(img) {
    if (!img || !img.id) return;
    const f = state.filters;
    if (f.albumId && img.albumId !== f.albumId) return;
    if (f.tag && !(img.tags || []).includes(f.tag)) return;
    if ($('grid').querySelector(`[data-id="${CSS.escape(img.id)}"]`)) return;
    $('grid').prepend(card(img));
    setCount((state.total || 0) + 1);
  }

  // ---- editor ------------------------------------------------------------------------------

  const FIELDS = ['title', 'description', 'altText', 'tags', 'albumId'];

  function formValue(name) {
    const v = $('edit-form').elements[name].value;
    return name === 'tags' ? splitTags(v) : v.trim();
  }

  function fill(img) {
    const els = $('edit-form').elements;
    els.title.value = img.title || '';
    els.description.value = img.description || '';
    els.altText.value = img.altText || '';
    els.tags.value = (img.tags || []).join(', ');
    els.albumId.value = img.albumId || '';
    $('edit-preview').src = img.thumbnailUrl || img.imageUrl;
    $('edit-preview').alt = altOf(img);
    $('edit-view').hidden = !img.imageUrl;
    $('edit-meta').textContent =
      `${img.originalFilename || ''} · ${img.width}×${img.height} · version ${img.version}`;
  }

  // The detail view: the image at the screen's size (the variant the viewport needs, never the
  // 2048-px main image on a phone), letterboxed inside the window.
  function openViewer(img) {
    const body = $('viewer-body');
    body.replaceChildren(
      picture(img, { sizes: '100vw', fallback: img.imageUrl, className: 'full' }),
    );
    $('viewer').showModal();
  }

  async function openEditor(id) {
    clearAlert();
    let img;
    try {
      img = await api('GET', `images/${encodeURIComponent(id)}`);
    } catch (err) {
      report(err);
      return;
    }
    state.editing = img;
    $('conflict').hidden = true;
    $('edit-error').hidden = true;
    fill(img);
    $('editor').showModal();
    $('edit-form').elements.title.focus();
  }

  // The fields whose form value differs from `base`, as a PATCH body.
  function changes(base) {
    const body = {};
    for (const f of FIELDS) {
      const v = formValue(f);
      if (f === 'tags') {
        if (JSON.stringify(v) !== JSON.stringify(base.tags || [])) body.tags = v;
      } else if (f === 'albumId') {
        if (v !== (base.albumId || '')) body.albumId = v === '' ? null : v;
      } else if (v !== (base[f] || '')) {
        body[f] = v;
      }
    }
    return body;
  }

  async function save(version) {
    const img = state.editing;
    const body = changes(img);
    if (Object.keys(body).length === 0) {
      $('editor').close();
      return;
    }
    body.version = version;
    $('edit-error').hidden = true;
    try {
      const updated = await api('PATCH', `images/${encodeURIComponent(img.id)}`, body);
      replaceCard(updated);
      $('editor').close();
      announce(`Saved ${updated.title || 'the image'} (version ${updated.version})`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'VERSION_MISMATCH') {
        await showConflict(img.id);
      } else if (err instanceof ApiError && err.status === 401) {
        $('editor').close();
        report(err);
      } else {
        $('edit-error').textContent = err instanceof ApiError ? err.describe() : String(err);
        $('edit-error').hidden = false;
      }
    }
  }

  async function showConflict(id) {
    let newer;
    try {
      newer = await api('GET', `images/${encodeURIComponent(id)}`);
    } catch (err) {
      $('edit-error').textContent = err instanceof ApiError ? err.describe() : String(err);
      $('edit-error').hidden = false;
      return;
    }
    state.newer = newer;
    $('conflict-version').textContent = String(newer.version);
    const dl = $('conflict-values');
    dl.replaceChildren();
    const labels = { title: 'Title', description: 'Description', altText: 'Alt text', tags: 'Tags', albumId: 'Album' };
    for (const f of FIELDS) {
      const dt = document.createElement('dt');
      dt.textContent = labels[f];
      const dd = document.createElement('dd');
      const v = f === 'tags' ? (newer.tags || []).join(', ') : newer[f];
      dd.textContent = v ? String(v) : '—';
      dl.append(dt, dd);
    }
    $('conflict').hidden = false;
    replaceCard(newer);
    $('conflict-theirs').focus();
  }

  function replaceCard(img) {
    const old = $('grid').querySelector(`[data-id="${CSS.escape(img.id)}"]`);
    if (old) old.replaceWith(card(img));
  }

  // ---- delete ------------------------------------------------------------------------------

  function confirmDelete(img) {
    state.deleting = img;
    $('confirm-text').textContent =
      `“${img.title || 'Untitled'}” and its thumbnail will be removed for good.`;
    $('confirm').showModal();
    $('confirm-cancel').focus();
  }

  async function doDelete() {
    const img = state.deleting;
    $('confirm').close();
    if ($('editor').open) $('editor').close();
    try {
      await api('DELETE', `images/${encodeURIComponent(img.id)}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'IMAGE_NOT_FOUND')) {
        report(err);
        return;
      }
    }
    const el = $('grid').querySelector(`[data-id="${CSS.escape(img.id)}"]`);
    if (el) {
      el.remove();
      setCount(Math.max(0, (state.total || 1) - 1));
    }
    announce(`Deleted ${img.title || 'the image'}`);
    $('grid').focus();
  }

  // ---- wiring ------------------------------------------------------------------------------

  function wire() {
    $('token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      signIn($('token').value);
    });
    if (document.body.dataset.devToken === 'on') {
      $('dev-form').hidden = false;
      $('dev-form').addEventListener('submit', async (e) => {
        e.preventDefault();
        clearAlert();
        try {
          const res = await api('POST', 'dev/token', { userId: $('dev-user').value.trim() });
          await signIn(res.token);
        } catch (err) {
          report(err);
        }
      });
    }
    $('sign-out').addEventListener('click', signOut);
    $('alert-close').addEventListener('click', clearAlert);

    const input = $('file-input');
    $('choose').addEventListener('click', () => input.click());
    input.addEventListener('change', () => {
      addFiles(Array.from(input.files));
      input.value = '';
    });
    const drop = $('drop');
    drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      addFiles(Array.from(e.dataTransfer.files));
    });

    $('filters').addEventListener('submit', (e) => {
      e.preventDefault();
      state.filters = { albumId: $('f-album').value.trim(), tag: $('f-tag').value.trim() };
      restartList();
    });
    $('f-clear').addEventListener('click', () => {
      $('f-album').value = '';
      $('f-tag').value = '';
      state.filters = { albumId: '', tag: '' };
      restartList();
    });
    $('more').addEventListener('click', loadMore);
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && state.hasMore) loadMore();
    }, { rootMargin: '200px' }).observe($('sentinel'));

    $('edit-form').addEventListener('submit', (e) => {
      e.preventDefault();
      save(state.editing.version);
    });
    $('edit-cancel').addEventListener('click', () => $('editor').close());
    $('edit-view').addEventListener('click', () => state.editing && openViewer(state.editing));
    $('viewer-close').addEventListener('click', () => $('viewer').close());
    $('edit-delete').addEventListener('click', () => confirmDelete(state.editing));
    $('conflict-theirs').addEventListener('click', () => {
      state.editing = state.newer;
      fill(state.newer);
      $('conflict').hidden = true;
      $('edit-form').elements.title.focus();
    });
    $('conflict-mine').addEventListener('click', () => {
      // Keep the form's values, based on the newer version: only what differs from it is sent.
      state.editing = state.newer;
      $('conflict').hidden = true;
      save(state.newer.version);
    });
    $('confirm-delete').addEventListener('click', doDelete);
    $('confirm-cancel').addEventListener('click', () => $('confirm').close());

    if (state.token) showGallery();
    else $('token').focus();
  }

  wire();
})();
