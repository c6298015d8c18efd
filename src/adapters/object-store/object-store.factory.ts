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
    ready: async () => void (await client.send(new HeadBucketCommand({ Bucket: config.bucket }))),
  };
}
