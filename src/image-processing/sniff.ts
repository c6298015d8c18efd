export type ImageContentType = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/tiff';

/** The image type by its first bytes (never by file name or the client's claim); null when it is none vigil takes. */
export function sniffImageType(head: Uint8Array): ImageContentType | null {
  const b = (i: number) => head[i];
  const ascii = (from: number, text: string) => [...text].every((c, i) => head[from + i] === c.charCodeAt(0));
  if (head.length >= 3 && b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'image/jpeg';
  if (head.length >= 8 && b(0) === 0x89 && ascii(1, 'PNG\r\n\x1a\n')) return 'image/png';
  if (head.length >= 12 && ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  if (head.length >= 4 && ((ascii(0, 'II') && b(2) === 42 && b(3) === 0) || (ascii(0, 'MM') && b(2) === 0 && b(3) === 42)))
    return 'image/tiff';
  return null;
}
