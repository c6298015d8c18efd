import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';

// S3 mocked at the SDK boundary (every S3Client instance) and backed by a map, so what vigil
// PUTs it can GET back: the object store's driver (src/adapters/object-store/s3.driver.ts)
// and the A2I completion handler's read of output.json both go through it.

export interface StoredObject {
  body: Buffer;
  contentType: string | null;
}

type PutBody = Buffer | Uint8Array | string | Readable | undefined;

async function bytesOf(body: PutBody): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }
  throw new Error(`memory S3: cannot store a body of type ${Object.prototype.toString.call(body)}`);
}

const metadata = (status: number) => ({ httpStatusCode: status, requestId: 'memory-s3', attempts: 1, totalRetryDelay: 0 });

/** mockClient(S3Client) with Put/Get/Head/Delete/HeadBucket answered from memory. */
export function memoryS3() {
  const mock = mockClient(S3Client);
  const objects = new Map<string, StoredObject>();
  const id = (bucket: string | undefined, key: string | undefined) => `${bucket}/${key}`;

  const install = () => {
    mock.on(HeadBucketCommand).resolves({});
    mock.on(PutObjectCommand).callsFake(async (input: { Bucket?: string; Key?: string; Body?: PutBody; ContentType?: string }) => {
      objects.set(id(input.Bucket, input.Key), { body: await bytesOf(input.Body), contentType: input.ContentType ?? null });
      return { ETag: '"memory"' };
    });
    mock.on(GetObjectCommand).callsFake(async (input: { Bucket?: string; Key?: string }) => {
      const found = objects.get(id(input.Bucket, input.Key));
      if (!found) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: metadata(404) });
      return {
        Body: sdkStreamMixin(Readable.from([found.body])),
        ContentLength: found.body.length,
        ContentType: found.contentType ?? undefined,
      };
    });
    mock.on(HeadObjectCommand).callsFake(async (input: { Bucket?: string; Key?: string }) => {
      const found = objects.get(id(input.Bucket, input.Key));
      if (!found) throw new NotFound({ message: 'Not Found', $metadata: metadata(404) });
      return { ContentLength: found.body.length, ContentType: found.contentType ?? undefined };
    });
    mock.on(DeleteObjectCommand).callsFake(async (input: { Bucket?: string; Key?: string }) => {
      objects.delete(id(input.Bucket, input.Key));
      return {};
    });
  };
  install();

  return {
    mock,
    objects,
    put(bucket: string, key: string, body: Buffer | string, contentType: string | null = null) {
      objects.set(id(bucket, key), { body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'), contentType });
    },
    get(bucket: string, key: string): StoredObject | undefined {
      return objects.get(id(bucket, key));
    },
    /** The PutObject requests made since the last resetHistory, as sent. */
    puts() {
      return mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    },
    resetHistory() {
      mock.resetHistory();
    },
  };
}

export type MemoryS3 = ReturnType<typeof memoryS3>;
