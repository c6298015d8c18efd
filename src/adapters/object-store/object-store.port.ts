import { type Readable } from 'node:stream';

/** What vigil needs from the one place images live. Keys are made by vigil, never from user file names. */
/** An object store with its readiness check, as the factory builds it. */
export interface ObjectStoreHandle {
  store: ObjectStore;
  /** Returns normally when the store can be written to (for /readyz). */
  ready(): Promise<void>;
}

export interface ObjectStore {
  readonly kind: 'local' | 's3';
  put(key: string, body: Buffer | Readable, options: { contentType: string }): Promise<void>;
  get(key: string): Promise<Readable>;
  /** Size and type of a stored object, or null when there is none. */
  head(key: string): Promise<{ bytes: number; contentType: string | null } | null>;
  /** Removing a missing object is not an error. */
  delete(key: string): Promise<void>;
}

/** Where a client may upload one object directly, bypassing vigil's GraphQL API. */
export interface PresignedUpload {
  url: string;
  method: 'PUT';
  /** Headers the client must send exactly. */
  headers: Record<string, string>;
  expiresAt: Date;
}

/** Stores that can let clients upload and download directly with signed URLs. */
export interface Presigner {
  presignPut(key: string, options: { contentType: string; bytes: number; expiresInSeconds: number }): Promise<PresignedUpload>;
  presignGet(key: string, options: { expiresInSeconds: number }): Promise<{ url: string; expiresAt: Date }>;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no object at ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

/** The store did not answer or asked to slow down: the workflow's Retry on Vigil.TransientError runs the step again after a wait. */
export class ObjectStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Vigil.TransientError';
  }
}

// "=" names Hive-style partition folders (datalake/<table>/dt=2026-12-02/).
const KEY = /^[a-z0-9][a-z0-9._=-]*(\/[a-z0-9][a-z0-9._=-]*)*$/;

/** Keys are lowercase path segments vigil builds (ids, hashes); anything else is a bug, not input. */
export function assertValidKey(key: string): void {
  if (key.length > 500 || !KEY.test(key) || key.split('/').some((s) => s === '..' || s === '.')) {
    throw new Error(`invalid object key ${JSON.stringify(key.slice(0, 100))}`);
  }
}
