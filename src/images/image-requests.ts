import { v7 as uuidv7 } from 'uuid';
import { type Image, type PrismaClient } from '../generated/prisma/client';
import { DeviceMatch } from '../generated/prisma/enums';

// An upload's key ends as its type: an object store that knows types by extension needs no note of it.
const EXTENSIONS: Record<string, string> = { 'image/jpeg': '.jpg', 'image/png': '.png', 'image/webp': '.webp', 'image/tiff': '.tif' };

/** A file of a requestImageUploads call that passed its checks, with the display name it keeps. */
export interface RequestedFile {
  sha256: string;
  contentType: string;
  byteSize: number;
  filename: string;
}

/** The image each requested file belongs to, by sha256; `found`: it existed before this call. */
export type ImagesBySha = Map<string, { image: Image; found: boolean }>;

/**
 * The images of a request's files in three statements at most, whatever their number: those the
 * inspection or survey already has (by sha256), the others created together, and any created
 * meanwhile by a request racing this one read back. The same sha256 twice in one call is one image,
 * described by its first file.
 */
export async function findOrCreateImages(
  prisma: PrismaClient,
  target: { inspectionId: string } | { surveyId: string },
  files: RequestedFile[],
): Promise<ImagesBySha> {
  const bySha = new Map<string, RequestedFile>();
  for (const f of files) if (!bySha.has(f.sha256)) bySha.set(f.sha256, f);
  const found: ImagesBySha = new Map();
  if (bySha.size === 0) return found;
  const ofTarget = (shas: string[]) => ({ ...target, sha256: { in: shas } });
  for (const image of await prisma.image.findMany({ where: ofTarget([...bySha.keys()]) })) found.set(image.sha256, { image, found: true });
  // Ids in the order of the request (time-ordered, as the schema's uuid(7) default: an inspection's images, created in one
  // statement at one time, list in the order they were asked for); rows in one order for every request, because two
  // requests inserting the same rows in different orders would deadlock.
  const missing = [...bySha.values()]
    .filter((f) => !found.has(f.sha256))
    .map((f) => ({ f, id: uuidv7() }))
    .sort((a, b) => (a.f.sha256 < b.f.sha256 ? -1 : a.f.sha256 > b.f.sha256 ? 1 : 0));
  if (missing.length === 0) return found;
  const created = await prisma.image.createManyAndReturn({
    data: missing.map(({ f, id }) => {
      return {
        id,
        ...target,
        deviceMatch: 'surveyId' in target ? DeviceMatch.PENDING : null,
        objectKey: `uploads/${id}${EXTENSIONS[f.contentType] ?? ''}`,
        sha256: f.sha256,
        contentType: f.contentType,
        bytes: f.byteSize,
        filename: f.filename,
      };
    }),
    // The same file requested twice at once: the other request's row stands, and both get it.
    skipDuplicates: true,
  });
  for (const image of created) found.set(image.sha256, { image, found: false });
  const raced = missing.filter(({ f }) => !found.has(f.sha256)).map(({ f }) => f.sha256);
  if (raced.length)
    for (const image of await prisma.image.findMany({ where: ofTarget(raced) })) found.set(image.sha256, { image, found: true });
  return found;
}
