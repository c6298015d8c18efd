import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey, ObjectNotFoundError, type ObjectStore } from './object-store.port';

// A key's extension says its type when it is one of these; only other objects need a sidecar file.
const TYPE_BY_EXTENSION: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.tif': 'image/tiff',
  '.json': 'application/json',
  '.jsonl': 'application/jsonl',
  // Data-lake files: a sidecar beside them would be read as data by whoever copies the folder to S3 for Athena.
  '.parquet': 'application/vnd.apache.parquet',
};
const FOLDERS_KEPT = 1024;
const typeOf = (key: string): string | undefined => TYPE_BY_EXTENSION[path.extname(key)];

/**
 * Objects as files under one folder. A write goes to a temporary file first and is renamed into
 * place, so a reader never sees half an object and a crash leaves no partial one behind.
 */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;

  /** Folders made (or being made) by this store, at most FOLDERS_KEPT of them. */
  private readonly folders = new Map<string, Promise<void>>();

  constructor(private readonly root: string) {}

  private file(key: string): string {
    assertValidKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Buffer | Readable, options: { contentType: string }): Promise<void> {
    const target = this.file(key);
    const folder = path.dirname(target);
    if (!Buffer.isBuffer(body)) {
      await fs.promises.mkdir(folder, { recursive: true });
      return this.write(target, body, options.contentType, key);
    }
    await this.folder(folder);
    try {
      await this.write(target, body, options.contentType, key);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The folder went away behind this store's back: make it again, once.
      this.folders.delete(folder);
      await this.folder(folder);
      await this.write(target, body, options.contentType, key);
    }
  }

  private async write(target: string, body: Buffer | Readable, contentType: string, key: string): Promise<void> {
    const temp = `${target}.${crypto.randomBytes(6).toString('hex')}.partial`;
    try {
      // A buffer in one write: a stream costs several more trips through the thread pool per object.
      if (Buffer.isBuffer(body)) await fs.promises.writeFile(temp, body, { flag: 'wx' });
      else await pipeline(body, fs.createWriteStream(temp, { flags: 'wx' }));
      if (typeOf(key) !== contentType) {
        await fs.promises.writeFile(`${temp}.type`, contentType);
        await fs.promises.rename(`${temp}.type`, `${target}.type`);
      }
      await fs.promises.rename(temp, target);
    } catch (err) {
      await fs.promises.rm(temp, { force: true });
      await fs.promises.rm(`${temp}.type`, { force: true });
      throw err;
    }
  }

  /** Makes a folder once: an image's derivatives share theirs, and each write would otherwise ask again. */
  private folder(folder: string): Promise<void> {
    const known = this.folders.get(folder);
    if (known) return known;
    if (this.folders.size >= FOLDERS_KEPT) this.folders.clear();
    const made = fs.promises.mkdir(folder, { recursive: true }).then(
      () => undefined,
      (err: unknown) => {
        this.folders.delete(folder);
        throw err;
      },
    );
    this.folders.set(folder, made);
    return made;
  }

  async get(key: string): Promise<Readable> {
    const file = this.file(key);
    try {
      const handle = await fs.promises.open(file, 'r');
      return handle.createReadStream();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async head(key: string): Promise<{ bytes: number; contentType: string | null } | null> {
    const file = this.file(key);
    try {
      const stat = await fs.promises.stat(file);
      const contentType = await fs.promises.readFile(`${file}.type`, 'utf8').catch(() => typeOf(key) ?? null);
      return { bytes: stat.size, contentType };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.file(key);
    await fs.promises.rm(file, { force: true });
    await fs.promises.rm(`${file}.type`, { force: true });
  }
}
