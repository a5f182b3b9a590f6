// Pictures ({ width, height, data: RGBA bytes }) and their comparison: upright views through an
// EXIF orientation, box-filtered shrinking, and cell-by-cell differences that tell a rotated,
// mirrored, tinted or different picture from WebP's compression noise.

// Where a stored pixel lands when the picture is shown upright for EXIF orientation `o`.
function upright(o, w, h) {
  switch (o) {
    case 2: return (x, y) => [w - 1 - x, y];
    case 3: return (x, y) => [w - 1 - x, h - 1 - y];
    case 4: return (x, y) => [x, h - 1 - y];
    case 5: return (x, y) => [y, x];
    case 6: return (x, y) => [h - 1 - y, x];
    case 7: return (x, y) => [h - 1 - y, w - 1 - x];
    case 8: return (x, y) => [y, w - 1 - x];
    default: return (x, y) => [x, y];
  }
}

// A picture seen through EXIF orientation `orientation` and then cropped to `crop` ({ x, y,
// width, height } in upright coordinates), without copying its pixels.
export function view(img, { orientation = 1, crop = null } = {}) {
  const base = img.img ? img : { img, orientation: 1, crop: null };
  if (base.orientation !== 1 || base.crop) throw new Error('views do not nest');
  const swap = orientation >= 5;
  const W = swap ? img.height : img.width, H = swap ? img.width : img.height;
  return { img, orientation, crop: crop || { x: 0, y: 0, width: W, height: H }, width: crop ? crop.width : W, height: crop ? crop.height : H };
}

// The upright picture of pixels stored with EXIF orientation `o`, as a new image.
export function orient(img, o) {
  const v = view(img, { orientation: o });
  const map = upright(o, img.width, img.height);
  const data = new Uint8Array(v.width * v.height * 4);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const [ux, uy] = map(x, y);
      const s = (y * img.width + x) * 4;
      data.set(img.data.subarray(s, s + 4), (uy * v.width + ux) * 4);
    }
  }
  return { width: v.width, height: v.height, data };
}

// A box-filtered copy no larger than `max` on either side (colour weighted by alpha): cell means
// stay the same, and comparing many orientations of a 12 MP photo stays cheap.
export function shrink(img, max = 1024) {
  const k = Math.ceil(Math.max(img.width, img.height) / max);
  if (k <= 1) return img;
  const W = Math.ceil(img.width / k), H = Math.ceil(img.height / k);
  const sums = new Float64Array(W * H * 5);
  for (let y = 0; y < img.height; y++) {
    const row = Math.floor(y / k) * W;
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * 4, a = img.data[o + 3], c = (row + Math.floor(x / k)) * 5;
      for (let i = 0; i < 3; i++) sums[c + i] += img.data[o + i] * a;
      sums[c + 3] += a;
      sums[c + 4]++;
    }
  }
  const data = new Uint8Array(W * H * 4);
  for (let i = 0; i < W * H; i++) {
    const a = sums[i * 5 + 3];
    for (let c = 0; c < 3; c++) data[i * 4 + c] = a ? Math.round(sums[i * 5 + c] / a) : 0;
    data[i * 4 + 3] = Math.round(a / sums[i * 5 + 4]);
  }
  return { width: W, height: H, data };
}

// The largest centred square of a picture (what a 400x400 cover crop keeps).
export function centreSquare(pic) {
  const v = pic.img ? pic : view(pic);
  const s = Math.min(v.width, v.height);
  return { ...v, width: s, height: s, crop: { x: v.crop.x + Math.floor((v.width - s) / 2), y: v.crop.y + Math.floor((v.height - s) / 2), width: s, height: s } };
}

// Mean premultiplied colour and alpha of each of n×n cells of a picture (an image or a view):
// insensitive to resampling and compression noise, sensitive to rotation, mirroring, tints and
// wrong content.
export function grid(pic, n = 32) {
  const v = pic.img ? pic : view(pic);
  const { img, crop } = v;
  const map = upright(v.orientation, img.width, img.height);
  const cells = new Float64Array(n * n * 4), counts = new Float64Array(n * n);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const [ux, uy] = map(x, y);
      const cx = ux - crop.x, cy = uy - crop.y;
      if (cx < 0 || cy < 0 || cx >= crop.width || cy >= crop.height) continue;
      const c = Math.floor((cy * n) / crop.height) * n + Math.floor((cx * n) / crop.width);
      const o = (y * img.width + x) * 4, a = img.data[o + 3];
      for (let k = 0; k < 3; k++) cells[c * 4 + k] += (img.data[o + k] * a) / 255;
      cells[c * 4 + 3] += a;
      counts[c]++;
    }
  }
  return cells.map((val, i) => val / counts[i >> 2]);
}

// { colour: mean |difference| of the cells' premultiplied colour, alpha: same for alpha,
//   tint: the largest difference of a channel's mean over the whole picture }.
export function difference(a, b, n = 32) {
  n = Math.min(n, a.width, a.height, b.width, b.height);
  const ga = grid(a, n), gb = grid(b, n);
  let colour = 0, alpha = 0;
  const mean = [0, 0, 0];
  for (let i = 0; i < ga.length; i++) {
    const d = ga[i] - gb[i];
    if (i % 4 === 3) alpha += Math.abs(d);
    else {
      colour += Math.abs(d);
      mean[i % 4] += d;
    }
  }
  const cells = n * n;
  const r = (v) => Math.round(v * 100) / 100;
  return { colour: r(colour / (3 * cells)), alpha: r(alpha / cells), tint: r(Math.max(...mean.map((m) => Math.abs(m / cells)))) };
}

export function hasRealAlpha(pic) {
  const { data } = pic.img ? pic.img : pic;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return true;
  return false;
}
