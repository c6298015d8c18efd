import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
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
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { createObjectStore } from '../../../src/adapters/object-store/object-store.factory';
import { ObjectNotFoundError, ObjectStoreUnavailableError } from '../../../src/adapters/object-store/object-store.port';
import { S3ObjectStore, s3ClientConfig } from '../../../src/adapters/object-store/s3.driver';
import { loadConfig } from '../../../src/config/config';

const credentials = { accessKeyId: 'AKIAVIGILTEST', secretAccessKey: 'vigil-test-secret' };
const client = new S3Client({ region: 'eu-west-1', credentials });
const s3 = mockClient(client);
const store = new S3ObjectStore({ bucket: 'vigil-images', client });

beforeEach(() => s3.reset());

describe('the S3 object store', () => {
  it('puts an object with its content type', async () => {
    s3.on(PutObjectCommand).resolves({});
    const body = Buffer.from('jpeg');
    await store.put('images/ab/abc.jpg', body, { contentType: 'image/jpeg' });
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'vigil-images',
      Key: 'images/ab/abc.jpg',
      Body: body,
      ContentType: 'image/jpeg',
    });
  });

  it('reads an object and maps a missing one to ObjectNotFoundError', async () => {
    s3.on(GetObjectCommand, { Bucket: 'vigil-images', Key: 'a/present' }).resolves({
      Body: Readable.from([Buffer.from('bytes')]) as never,
    });
    s3.on(GetObjectCommand, { Bucket: 'vigil-images', Key: 'a/missing' }).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    expect(await text(await store.get('a/present'))).toBe('bytes');
    await expect(store.get('a/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('describes an object, or answers null when S3 says NotFound', async () => {
    s3.on(HeadObjectCommand, { Bucket: 'vigil-images', Key: 'a/present' }).resolves({ ContentLength: 1234, ContentType: 'image/png' });
    s3.on(HeadObjectCommand, { Bucket: 'vigil-images', Key: 'a/missing' }).rejects(new NotFound({ message: 'not found', $metadata: {} }));
    expect(await store.head('a/present')).toEqual({ bytes: 1234, contentType: 'image/png' });
    expect(await store.head('a/missing')).toBeNull();
  });

  it('passes other S3 failures on', async () => {
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    await expect(store.head('a/b')).rejects.toThrow('Access Denied');
  });

  it('says a failure that may pass later (SlowDown, 5xx, a dropped connection) is transient, so the workflows retry it', async () => {
    const slowDown = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    s3.on(GetObjectCommand).rejects(slowDown);
    const failure = await store.get('images/ab/abc.jpg').catch((err: Error) => err);
    expect(failure).toBeInstanceOf(ObjectStoreUnavailableError);
    expect(failure).toMatchObject({
      name: 'Vigil.TransientError',
      message: 's3:GetObject on bucket vigil-images failed for now (SlowDown: Please reduce your request rate.)',
      cause: slowDown,
    });
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await expect(store.put('a/b', Buffer.from('x'), { contentType: 'text/plain' })).rejects.toMatchObject({ name: 'Vigil.TransientError' });
    s3.on(HeadObjectCommand).rejects(Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError' }));
    await expect(store.head('a/b')).rejects.toMatchObject({ name: 'Vigil.TransientError' });
  });

  it('deletes an object', async () => {
    s3.on(DeleteObjectCommand).resolves({});
    await store.delete('a/b');
    expect(s3).toHaveReceivedCommandWith(DeleteObjectCommand, { Bucket: 'vigil-images', Key: 'a/b' });
  });

  it('refuses a key vigil would never make, without calling S3', async () => {
    await expect(store.put('../secrets', Buffer.from('x'), { contentType: 'text/plain' })).rejects.toThrow('invalid object key');
    expect(s3.calls()).toHaveLength(0);
  });

  it('presigns a PUT whose signature covers the content type and length', async () => {
    const upload = await store.presignPut('uploads/0190/abc', { contentType: 'image/jpeg', bytes: 52_000, expiresInSeconds: 900 });
    const url = new URL(upload.url);
    expect(url.host).toBe('vigil-images.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/uploads/0190/abc');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIAVIGILTEST\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
    expect(upload.headers).toEqual({ 'content-type': 'image/jpeg', 'content-length': '52000' });
    expect(upload.expiresAt.getTime()).toBeGreaterThan(Date.now() + 890_000);
    expect(s3.calls()).toHaveLength(0);
  });

  it('presigns a PUT without a checksum of the body it does not have yet (S3 would refuse the upload)', async () => {
    const config = loadConfig({ OBJECT_STORE: 's3', S3_BUCKET: 'vigil-images', S3_REGION: 'eu-west-1' }).objectStore;
    if (config.kind !== 's3') throw new Error('expected the S3 store');
    const signer = new S3ObjectStore({ bucket: 'vigil-images', client: new S3Client({ ...s3ClientConfig(config), credentials }) });
    const { url } = await signer.presignPut('uploads/0190/abc', { contentType: 'image/jpeg', bytes: 52_000, expiresInSeconds: 900 });
    const params = [...new URL(url).searchParams.keys()].map((k) => k.toLowerCase());
    // A client with the SDK's defaults signs x-amz-checksum-crc32=AAAAAA== (the CRC32 of nothing) into the URL.
    expect(params).not.toContain('x-amz-checksum-crc32');
    expect(params).not.toContain('x-amz-sdk-checksum-algorithm');
    expect(params).toContain('x-amz-signature');
  });

  it('presigns a GET', async () => {
    const { url } = await store.presignGet('images/ab/abc.jpg', { expiresInSeconds: 300 });
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('300');
    expect(new URL(url).pathname).toBe('/images/ab/abc.jpg');
  });
});

describe('choosing the object store', () => {
  it('uses a local folder under DATA_DIR by default', () => {
    const config = loadConfig({ DATA_DIR: '/srv/vigil' });
    expect(config.objectStore).toEqual({ kind: 'local', root: '/srv/vigil/objects' });
    expect(createObjectStore(config.objectStore).store.kind).toBe('local');
  });

  it('needs a bucket for S3 and says so', () => {
    expect(() => loadConfig({ OBJECT_STORE: 's3' })).toThrow('S3_BUCKET="": required when OBJECT_STORE=s3');
  });

  it('addresses an S3-compatible endpoint path-style', async () => {
    const config = loadConfig({ OBJECT_STORE: 's3', S3_BUCKET: 'vigil', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_REGION: 'local' });
    expect(config.objectStore).toEqual({
      kind: 's3',
      bucket: 'vigil',
      region: 'local',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
    });
    const compatible = new S3Client({ region: 'local', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, credentials });
    const handle = createObjectStore(config.objectStore, { s3Client: compatible });
    const { url } = await (handle.store as S3ObjectStore).presignGet('images/x', { expiresInSeconds: 60 });
    expect(url.startsWith('http://127.0.0.1:9000/vigil/images/x?')).toBe(true);
  });

  it('is ready when the bucket answers HeadBucket', async () => {
    s3.on(HeadBucketCommand).resolves({});
    const config = loadConfig({ OBJECT_STORE: 's3', S3_BUCKET: 'vigil-images' });
    await createObjectStore(config.objectStore, { s3Client: client }).ready();
    expect(s3).toHaveReceivedCommandWith(HeadBucketCommand, { Bucket: 'vigil-images' });
  });

  it.each([
    [404, 'NotFound', 'bucket "vigil-images" does not exist (S3_BUCKET)'],
    [403, 'Forbidden', 'access to bucket "vigil-images" is denied: vigil\'s IAM role needs s3:ListBucket on it'],
    [301, 'PermanentRedirect', 'bucket "vigil-images" is in another region than S3_REGION'],
    [500, 'InternalError', 'bucket "vigil-images" did not answer (InternalError, HTTP 500)'],
  ])('says what HeadBucket %s means instead of "UnknownError"', async (status, name, message) => {
    // HeadBucket has no body: the SDK names the error by status and its message is "UnknownError".
    const err = Object.assign(new NotFound({ message: 'UnknownError', $metadata: { httpStatusCode: status } }), { name });
    s3.on(HeadBucketCommand).rejects(err);
    const config = loadConfig({ OBJECT_STORE: 's3', S3_BUCKET: 'vigil-images' });
    await expect(createObjectStore(config.objectStore, { s3Client: client }).ready()).rejects.toThrow(message);
  });
});
