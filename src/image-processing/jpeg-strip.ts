// libvips cannot copy a JPEG without decoding and re-encoding it. For a photo that needs no
// rotation, resizing or colour conversion, dropping the metadata segments gives the same pixels
// as the original at no encoding cost (and no generation loss). Segments are walked by the
// JPEG syntax (ITU T.81 B.1), not searched for by byte patterns.

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP0 = 0xe0;
const APP14 = 0xee; // Adobe: how to read the colour components; carries nothing about the photo
const APP15 = 0xef;
const COM = 0xfe;

const standalone = (m: number) => m === 0x01 || (m >= 0xd0 && m <= 0xd7);
/** EXIF, XMP, ICC, MPF, maker notes, IPTC, comments: everything that describes rather than encodes. */
const isMetadata = (m: number) => (m > APP0 && m <= APP15 && m !== APP14) || m === COM;

/**
 * The JPEG without its metadata segments and without anything after its end-of-image marker
 * (phones append preview and depth images there). Null when the file does not parse as a
 * JPEG: the caller re-encodes instead.
 */
export function stripJpegMetadata(jpeg: Buffer): Buffer | null {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) return null;
  const kept: Buffer[] = [jpeg.subarray(0, 2)];
  let pos = 2;
  let inScan = false;
  while (pos < jpeg.length) {
    if (inScan) {
      // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte), a restart marker, or the next marker.
      const start = pos;
      while (pos < jpeg.length) {
        if (jpeg[pos] === 0xff && pos + 1 < jpeg.length) {
          const next = jpeg[pos + 1];
          if (next === 0x00 || standalone(next)) {
            pos += 2;
            continue;
          }
          if (next === 0xff) {
            pos += 1;
            continue;
          }
          break;
        }
        pos += 1;
      }
      kept.push(jpeg.subarray(start, pos));
      inScan = false;
      continue;
    }
    if (jpeg[pos] !== 0xff) return null;
    while (pos < jpeg.length && jpeg[pos] === 0xff && jpeg[pos + 1] === 0xff) pos += 1; // fill bytes
    if (pos + 1 >= jpeg.length) return null;
    const marker = jpeg[pos + 1];
    if (marker === EOI) {
      kept.push(jpeg.subarray(pos, pos + 2));
      return Buffer.concat(kept);
    }
    if (standalone(marker)) {
      kept.push(jpeg.subarray(pos, pos + 2));
      pos += 2;
      continue;
    }
    if (pos + 4 > jpeg.length) return null;
    const end = pos + 2 + jpeg.readUInt16BE(pos + 2);
    if (end > jpeg.length || end < pos + 4) return null;
    if (!isMetadata(marker)) kept.push(jpeg.subarray(pos, end));
    pos = end;
    if (marker === SOS) inScan = true;
  }
  return null; // no end-of-image marker: truncated
}
