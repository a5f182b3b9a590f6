// Reads a WebP container: chunk list, canvas dimensions and flags. Independent of libvips.
export function inspectWebp(buf) {
  if (buf.length < 20 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WEBP')
    throw new Error('not a WebP file');
  const chunks = [];
  let width = 0, height = 0, alpha = false, animated = false;
  for (let p = 12; p + 8 <= buf.length;) {
    const id = buf.toString('ascii', p, p + 4);
    const len = buf.readUInt32LE(p + 4);
    const d = p + 8;
    chunks.push(id);
    if (id === 'VP8X') {
      const flags = buf[d];
      alpha = alpha || (flags & 0x10) !== 0;
      animated = (flags & 0x02) !== 0;
      width = 1 + buf.readUIntLE(d + 4, 3);
      height = 1 + buf.readUIntLE(d + 7, 3);
    } else if (id === 'VP8 ' && !width) {
      // key frame: 3-byte tag, start code 9d 01 2a, then 14-bit width/height
      width = buf.readUInt16LE(d + 6) & 0x3fff;
      height = buf.readUInt16LE(d + 8) & 0x3fff;
    } else if (id === 'VP8L' && !width) {
      const bits = buf.readUInt32LE(d + 1);
      width = (bits & 0x3fff) + 1;
      height = ((bits >> 14) & 0x3fff) + 1;
      alpha = alpha || ((bits >> 28) & 1) === 1;
    } else if (id === 'ALPH') {
      alpha = true;
    }
    p = d + len + (len & 1);
  }
  return { width, height, alpha, animated, chunks };
}
