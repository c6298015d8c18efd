import { type S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import { type Config } from '../../config/config';
import { LocalObjectStore } from './local.driver';
import { type ObjectStoreHandle } from './object-store.port';

export type { ObjectStoreHandle } from './object-store.port';

/**
 * The one place that picks the object store adapter from configuration. The S3 driver, and with it the
 * AWS SDK, is loaded only when OBJECT_STORE=s3 (the AWS clients would otherwise hold about 26 MB).
 */
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
  const { s3ObjectStoreHandle } = require('./s3.driver') as typeof import('./s3.driver');
  return s3ObjectStoreHandle(config, injected.s3Client);
}
