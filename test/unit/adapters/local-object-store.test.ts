import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { LocalObjectStore } from '../../../src/adapters/object-store/local.driver';
import { ObjectNotFoundError } from '../../../src/adapters/object-store/object-store.port';

let root: string;
let store: LocalObjectStore;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-objects-'));
  store = new LocalObjectStore(root);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('the local object store', () => {
  it('stores, describes, reads and deletes an object', async () => {
    await store.put('images/ab/abcdef.jpg', Buffer.from('jpeg bytes'), { contentType: 'image/jpeg' });
    expect(await store.head('images/ab/abcdef.jpg')).toEqual({ bytes: 10, contentType: 'image/jpeg' });
    expect(await text(await store.get('images/ab/abcdef.jpg'))).toBe('jpeg bytes');
    await store.delete('images/ab/abcdef.jpg');
    expect(await store.head('images/ab/abcdef.jpg')).toBeNull();
    await expect(store.get('images/ab/abcdef.jpg')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await store.delete('images/ab/abcdef.jpg'); // deleting twice is fine
  });

  it('knows the type of a key with a known extension without a sidecar file, and keeps any other type', async () => {
    await store.put('derived/x/thumbnail.jpg', Buffer.from('j'), { contentType: 'image/jpeg' });
    await store.put('uploads/x', Buffer.from('p'), { contentType: 'image/png' });
    await store.put('odd/name.jpg', Buffer.from('t'), { contentType: 'image/tiff' });
    expect(await store.head('derived/x/thumbnail.jpg')).toEqual({ bytes: 1, contentType: 'image/jpeg' });
    expect(fs.existsSync(path.join(root, 'derived/x/thumbnail.jpg.type'))).toBe(false);
    expect(await store.head('uploads/x')).toEqual({ bytes: 1, contentType: 'image/png' });
    expect(await store.head('odd/name.jpg')).toEqual({ bytes: 1, contentType: 'image/tiff' });
  });

  it('accepts a stream and replaces an object whole', async () => {
    await store.put('a/b', Readable.from(['one ', 'two']), { contentType: 'text/plain' });
    await store.put('a/b', Buffer.from('three'), { contentType: 'text/plain' });
    expect(await text(await store.get('a/b'))).toBe('three');
  });

  it('leaves nothing behind when the body fails half-way', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024));
        this.destroy(new Error('connection lost'));
      },
    });
    await expect(store.put('images/broken', failing, { contentType: 'image/png' })).rejects.toThrow('connection lost');
    expect(await store.head('images/broken')).toBeNull();
    const left = fs.readdirSync(path.join(root, 'images'));
    expect(left).toEqual([]);
  });

  it('makes a folder once for writes that share it, and again when it was removed behind its back', async () => {
    const mkdir = jest.spyOn(fs.promises, 'mkdir');
    try {
      await Promise.all(
        ['a', 'b', 'c'].map((name) => store.put(`derived/img1/${name}.jpg`, Buffer.from(name), { contentType: 'image/jpeg' })),
      );
      expect(mkdir.mock.calls.filter(([dir]) => String(dir).endsWith(path.join('derived', 'img1')))).toHaveLength(1);
      fs.rmSync(path.join(root, 'derived'), { recursive: true });
      await store.put('derived/img1/d.jpg', Buffer.from('d'), { contentType: 'image/jpeg' });
      expect(await text(await store.get('derived/img1/d.jpg'))).toBe('d');
      expect(fs.readdirSync(path.join(root, 'derived/img1'))).toEqual(['d.jpg']);
    } finally {
      mkdir.mockRestore();
    }
  });

  it.each(['../etc/passwd', '/etc/passwd', 'images/../../x', 'Images/UPPER', 'a//b', '', 'a/./b', 'x'.repeat(501)])(
    'refuses the key %j before touching the disk',
    async (key) => {
      await expect(store.put(key, Buffer.from('x'), { contentType: 'text/plain' })).rejects.toThrow('invalid object key');
      await expect(store.head(key)).rejects.toThrow('invalid object key');
      expect(fs.readdirSync(root)).toEqual([]);
    },
  );
});
