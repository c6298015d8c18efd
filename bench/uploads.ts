import crypto from 'node:crypto';
import { type GraphQLClient } from './graphql-client';

/** An image file for the benches: its name and bytes. */
export type Image = { name: string; bytes: Buffer };

/** When each phase of uploadAll ended (Date.now()). */
export interface UploadPhases {
  requestedAt: number;
  putAt: number;
  completedAt: number;
}

export /** requestImageUploads (500 at a time) → PUT (4 at a time) → completeImageUploads (1000 at a time); returns when each phase ended. */
async function uploadAll(gql: GraphQLClient, inspectionId: string, images: Image[]): Promise<UploadPhases> {
  const files = images.map((i) => ({
    filename: i.name,
    contentType: i.name.endsWith('.png') ? 'image/png' : 'image/jpeg',
    byteSize: i.bytes.length,
    sha256: crypto.createHash('sha256').update(i.bytes).digest('hex'),
  }));
  const tickets: any[] = [];
  for (let i = 0; i < files.length; i += 500) {
    tickets.push(
      ...(
        await gql.request(
          `mutation($i: ID!, $f: [UploadFileInput!]!) { requestImageUploads(inspectionId: $i, files: $f) { uploadUrl uploadHeaders image { id } } }`,
          { i: inspectionId, f: files.slice(i, i + 500) },
        )
      ).requestImageUploads,
    );
  }
  const requestedAt = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < tickets.length) {
        const k = next++;
        await fetch(tickets[k].uploadUrl, { method: 'PUT', body: images[k].bytes, headers: tickets[k].uploadHeaders });
      }
    }),
  );
  const putAt = Date.now();
  const ids = tickets.map((t) => t.image.id);
  let completedAt = 0;
  for (let i = 0; i < ids.length; i += 1000) {
    await gql.request(`mutation($ids: [ID!]!) { completeImageUploads(imageIds: $ids) { id } }`, { ids: ids.slice(i, i + 1000) });
    completedAt = Date.now();
  }
  return { requestedAt, putAt, completedAt };
}
