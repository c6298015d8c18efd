import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import { type Config } from '../../config/config';
import { LocalObjectStore } from './local.driver';
import { type ObjectStore } from './object-store.port';
import { S3ObjectStore } from './s3.driver';

export interface ObjectStoreHandle {
  store: ObjectStore;
  /** Returns normally when the store can be written to (for /readyz). */
  ready(): Promise<void>;
}

/** The one place that picks the object store adapter from configuration. */
export function createObjectStore(config: Config['objectStore'], injected: { s3Client?: S3Client } = {}): ObjectStoreHandle {
  if (config.kind === 'local') {
    return {
      store: new LocalObjectStore(config.root),
      async ready() {
        await fs.promises.mkdir(config.root, { recursive: true });
        await fs.promises.access(config.root, fs.constants.W_OK);
      },
    };
  }
  const client =
    injected.s3Client ?? new S3Client({ region: config.region, endpoint: config.endpoint, forcePathStyle: config.forcePathStyle });
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
