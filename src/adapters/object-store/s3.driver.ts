import { type Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  NotFound,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type Config } from '../../config/config';
import { isTransientAwsError } from '../aws-errors';
import {
  assertValidKey,
  ObjectNotFoundError,
  ObjectStoreUnavailableError,
  type ObjectStore,
  type ObjectStoreHandle,
  type PresignedUpload,
  type Presigner,
} from './object-store.port';

export interface S3ObjectStoreOptions {
  bucket: string;
  /** An S3 client to use (tests pass a mocked one); otherwise one is built from clientConfig. */
  client?: S3Client;
  clientConfig?: S3ClientConfig;
}

const isMissing = (err: unknown) =>
  err instanceof NoSuchKey ||
  err instanceof NotFound ||
  (err as { name?: string }).name === 'NotFound' ||
  (err as { name?: string }).name === 'NoSuchKey';

/** Objects in one S3 bucket (or any S3-compatible store with an endpoint and path-style addressing). */
export class S3ObjectStore implements ObjectStore, Presigner {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.client = options.client ?? new S3Client(options.clientConfig ?? {});
  }

  async put(key: string, body: Buffer | Readable, options: { contentType: string }): Promise<void> {
    assertValidKey(key);
    await this.send('PutObject', (s3) =>
      s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: options.contentType })),
    );
  }

  async get(key: string): Promise<Readable> {
    assertValidKey(key);
    try {
      const res = await this.send('GetObject', (s3) => s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
      return res.Body as Readable;
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async head(key: string): Promise<{ bytes: number; contentType: string | null } | null> {
    assertValidKey(key);
    try {
      const res = await this.send('HeadObject', (s3) => s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      return { bytes: res.ContentLength ?? 0, contentType: res.ContentType ?? null };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.send('DeleteObject', (s3) => s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  /**
   * One S3 call. The SDK has already retried it (3 attempts); a failure that may still pass later (5xx,
   * SlowDown, throttling, a dropped connection) becomes ObjectStoreUnavailableError, which the workflows retry.
   */
  private async send<T>(action: string, call: (client: S3Client) => Promise<T>): Promise<T> {
    try {
      return await call(this.client);
    } catch (err) {
      if (!isTransientAwsError(err)) throw err;
      const e = err as { name?: string; message?: string };
      const said = `${e.name ?? 'Error'}: ${e.message ?? ''}`;
      throw new ObjectStoreUnavailableError(`s3:${action} on bucket ${this.bucket} failed for now (${said})`, { cause: err });
    }
  }

  /** A PUT URL whose signature covers the content type and length, so the client cannot send anything else. */
  async presignPut(key: string, options: { contentType: string; bytes: number; expiresInSeconds: number }): Promise<PresignedUpload> {
    assertValidKey(key);
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: options.contentType, ContentLength: options.bytes });
    const url = await getSignedUrl(this.client, command, {
      expiresIn: options.expiresInSeconds,
      signableHeaders: new Set(['content-type', 'content-length']),
    });
    return {
      url,
      method: 'PUT',
      headers: { 'content-type': options.contentType, 'content-length': String(options.bytes) },
      expiresAt: new Date(Date.now() + options.expiresInSeconds * 1000),
    };
  }

  async presignGet(key: string, options: { expiresInSeconds: number }): Promise<{ url: string; expiresAt: Date }> {
    assertValidKey(key);
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: options.expiresInSeconds,
    });
    return { url, expiresAt: new Date(Date.now() + options.expiresInSeconds * 1000) };
  }
}

type S3Config = Extract<Config['objectStore'], { kind: 's3' }>;

/**
 * The S3 client's settings. Checksums only where S3 requires them: since SDK 3.729 a client adds a CRC32
 * to every PutObject, and a presigned PUT has no body yet, so its URL would carry the CRC32 of nothing
 * (`x-amz-checksum-crc32=AAAAAA==`) and S3 would refuse every upload made with it (BadDigest).
 */
export const s3ClientConfig = (config: S3Config): S3ClientConfig => ({
  region: config.region,
  endpoint: config.endpoint,
  forcePathStyle: config.forcePathStyle,
  requestChecksumCalculation: 'WHEN_REQUIRED',
});

/** OBJECT_STORE=s3: the store, ready when its bucket answers HeadBucket. */
export function s3ObjectStoreHandle(config: S3Config, injected?: S3Client): ObjectStoreHandle {
  const client = injected ?? new S3Client(s3ClientConfig(config));
  return {
    store: new S3ObjectStore({ bucket: config.bucket, client }),
    ready: async () => {
      try {
        await client.send(new HeadBucketCommand({ Bucket: config.bucket }));
      } catch (err) {
        throw new Error(bucketProblem(err, config.bucket), { cause: err });
      }
    },
  };
}

/** HeadBucket answers without a body, so the SDK's own message is "UnknownError": say what the status means. */
function bucketProblem(err: unknown, bucket: string): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (status === 404 || e.name === 'NotFound' || e.name === 'NoSuchBucket') return `bucket "${bucket}" does not exist (S3_BUCKET)`;
  if (status === 403 || e.name === 'Forbidden' || e.name === 'AccessDenied') {
    return `access to bucket "${bucket}" is denied: vigil's IAM role needs s3:ListBucket on it`;
  }
  if (status === 301 || e.name === 'PermanentRedirect') return `bucket "${bucket}" is in another region than S3_REGION`;
  const said = e.message && e.message !== 'UnknownError' ? `: ${e.message}` : '';
  return `bucket "${bucket}" did not answer (${e.name ?? 'Error'}${status ? `, HTTP ${status}` : ''})${said}`;
}
