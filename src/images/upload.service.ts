import crypto from 'node:crypto';
import path from 'node:path';
import { finished, Transform, type Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import pLimit from 'p-limit';
import { type Image, type PrismaClient } from '../generated/prisma/client';
import { DeviceMatch, ImageStatus, RejectionReason } from '../generated/prisma/enums';
import { ObjectNotFoundError, type ObjectStore, type Presigner } from '../adapters/object-store/object-store.port';
import { DomainError, ErrorCode, notFound } from '../common/errors';
import { findOrCreateImages } from './image-requests';
import { type DerivativeOptions, type ImageLimits, processImage } from '../image-processing/image-processor';
import { ImageRejected } from '../image-processing/rejection';
import { judgedPictures, type JudgedPicture, storeDerivatives } from '../image-processing/store-derivatives';
import { signToken, TokenError, verifyToken } from '../uploads/signed-token';

export const ACCEPTED_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/tiff'];
const SHA256 = /^[0-9a-f]{64}$/;
// How Node reports a body cut short: the client went away, or its socket was closed for idling.
const INTERRUPTED = ['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED'];
// Transport failures can be retried with the same bytes; a verdict on the content cannot.
const RETRYABLE: RejectionReason[] = [RejectionReason.NOT_UPLOADED, RejectionReason.SIZE_MISMATCH, RejectionReason.CHECKSUM_MISMATCH];
// While a PUT body streams, its image's updated_at is refreshed this often; an UPLOADING image not refreshed for
// UPLOAD_STALE_MS lost its upload with its process (a live client that idles is cut off after 60 s and handed back).
const UPLOAD_HEARTBEAT_MS = 30_000;
export const UPLOAD_STALE_MS = 3 * 60_000;
/** Images of one completeImageUploads call checked and derived at once (see complete). */
const COMPLETE_CONCURRENCY = 2;
const isStale = (image: Image, now = Date.now()) =>
  image.status === ImageStatus.UPLOADING && now - image.updatedAt.getTime() > UPLOAD_STALE_MS;

export interface UploadFile {
  filename: string;
  contentType: string;
  byteSize: number;
  sha256: string;
}

export interface UploadTicket {
  filename: string;
  image: Image | null;
  upload: { url: string; method: 'PUT'; headers: Record<string, string>; expiresAt: Date } | null;
  problem: { code: string; field: string; message: string } | null;
}

export interface UploadOptions {
  limits: ImageLimits;
  derivatives: DerivativeOptions;
  urlTtlSeconds: number;
  signingSecret: string;
  /** Where clients reach this service, for vigil's own upload and download links. */
  baseUrl: () => string;
}

/** Where uploaded images go: an inspection of one device, or a survey whose images find their device by GPS. */
export type UploadTarget = { inspectionId: string } | { surveyId: string };

/** Told of each image a completion made READY and placed, with the pictures a detector judges; returns at once. */
export type ReadyListener = (image: Image, pictures: JudgedPicture[]) => void;

/** Places a READY survey image with its device (see SurveyService). */
export interface ImagePlacer {
  place(image: Image): Promise<Image>;
}

interface UploadClaim {
  img: string;
  len: number;
  typ: string;
}

export class UploadError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A display name only: the last path segment, without control characters. Keys never come from it. */
function displayName(filename: string): string {
  const base = path.posix.basename(filename.replace(/\\/g, '/'));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this strips.
  return base.replace(/[\u0000-\u001f\u007f]/g, '').trim() || 'unnamed';
}

/** Passes at most `limit` bytes and fails the stream beyond them; `passed` counts what went through. */
function capped(limit: number): Transform & { passed: () => number } {
  let seen = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > limit ? new UploadError(413, 'SIZE_MISMATCH', `the upload is larger than the ${limit} bytes announced`) : null, chunk);
    },
  });
  return Object.assign(stream, { passed: () => seen });
}

export class UploadService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly store: ObjectStore & Partial<Presigner>,
    private readonly options: UploadOptions,
    private readonly placer: ImagePlacer,
  ) {}

  private readyListener: ReadyListener | null = null;
  /** Whom to tell of each image a completion makes READY (one listener; the composition root sets it). */
  onReady(listener: ReadyListener): void {
    this.readyListener = listener;
  }

  private check(file: UploadFile): UploadTicket['problem'] {
    const bad = (field: string, code: string, message: string) => ({ field, code, message });
    if (typeof file.filename !== 'string' || file.filename.length === 0)
      return bad('filename', ErrorCode.BAD_USER_INPUT, 'filename: must not be empty');
    if (file.filename.length > 255)
      return bad('filename', ErrorCode.BAD_USER_INPUT, `filename: at most 255 characters (got ${file.filename.length})`);
    if (!SHA256.test(file.sha256)) return bad('sha256', ErrorCode.BAD_USER_INPUT, 'sha256: expected 64 lowercase hex digits');
    if (!ACCEPTED_TYPES.includes(file.contentType)) {
      return bad('contentType', RejectionReason.UNSUPPORTED_TYPE, `contentType: expected one of ${ACCEPTED_TYPES.join(', ')}`);
    }
    if (!Number.isInteger(file.byteSize) || file.byteSize <= 0)
      return bad('byteSize', RejectionReason.EMPTY, 'byteSize: must be a positive whole number');
    if (file.byteSize > this.options.limits.maxBytes) {
      return bad('byteSize', RejectionReason.TOO_LARGE, `byteSize: at most ${this.options.limits.maxBytes} bytes are accepted`);
    }
    return null;
  }

  /** Registers the files of an inspection or survey and says where to upload each; bad entries are reported, the others go ahead. */
  async request(target: UploadTarget, files: UploadFile[]): Promise<UploadTicket[]> {
    if (files.length > 1000) throw new DomainError(ErrorCode.BAD_USER_INPUT, 'files: at most 1000 per call', { field: 'files' });
    if ('inspectionId' in target) {
      if (!(await this.prisma.inspection.findUnique({ where: { id: target.inspectionId } })))
        throw notFound('Inspection', target.inspectionId);
    } else if (!(await this.prisma.survey.findUnique({ where: { id: target.surveyId } }))) {
      throw notFound('Survey', target.surveyId);
    }
    const problems = files.map((file) => this.check(file));
    const images = await findOrCreateImages(
      this.prisma,
      target,
      files.filter((_f, k) => !problems[k]).map((f) => ({ ...f, filename: displayName(f.filename) })),
    );
    const tickets: UploadTicket[] = [];
    for (const [k, file] of files.entries()) {
      const problem = problems[k];
      if (problem) {
        tickets.push({ filename: String(file.filename).slice(0, 255), image: null, upload: null, problem });
        continue;
      }
      const entry = images.get(file.sha256);
      // Created by a racing request and gone before it could be read back: its inspection or survey was deleted.
      if (!entry) throw 'inspectionId' in target ? notFound('Inspection', target.inspectionId) : notFound('Survey', target.surveyId);
      // Once per image, however often its file is listed.
      if (entry.found) Object.assign(entry, { image: await this.reopen(entry.image, file), found: false });
      const image = entry.image;
      tickets.push({
        filename: image.filename ?? displayName(file.filename),
        image,
        upload: image.status === ImageStatus.PENDING_UPLOAD ? await this.uploadTarget(image) : null,
        problem: null,
      });
    }
    return tickets;
  }

  /** An image requested again: an upload abandoned mid-body, or refused for its transport, gets a new link. */
  private async reopen(existing: Image, file: UploadFile): Promise<Image> {
    if (isStale(existing)) {
      await this.prisma.image.updateMany({
        where: { id: existing.id, status: ImageStatus.UPLOADING, updatedAt: existing.updatedAt },
        data: { status: ImageStatus.PENDING_UPLOAD },
      });
      return this.prisma.image.findUniqueOrThrow({ where: { id: existing.id } });
    }
    if (existing.status === ImageStatus.REJECTED && existing.rejectionReason && RETRYABLE.includes(existing.rejectionReason)) {
      return this.prisma.image.update({
        where: { id: existing.id },
        data: {
          status: ImageStatus.PENDING_UPLOAD,
          rejectionReason: null,
          rejectionMessage: null,
          bytes: file.byteSize,
          contentType: file.contentType,
        },
      });
    }
    return existing;
  }

  private async uploadTarget(image: Image): Promise<NonNullable<UploadTicket['upload']>> {
    const ttl = this.options.urlTtlSeconds;
    if (this.store.presignPut) {
      return this.store.presignPut(image.objectKey, { contentType: image.contentType, bytes: image.bytes, expiresInSeconds: ttl });
    }
    const expiresAt = new Date(Date.now() + ttl * 1000);
    const token = signToken<UploadClaim>(
      { img: image.id, len: image.bytes, typ: image.contentType },
      this.options.signingSecret,
      expiresAt,
    );
    return {
      url: `${this.options.baseUrl()}/uploads/${token}`,
      method: 'PUT',
      headers: { 'content-type': image.contentType, 'content-length': String(image.bytes) },
      expiresAt,
    };
  }

  /** PUT /uploads/<token> on the local store: signed, expiring, single-use and size-limited. */
  async receive(token: string, body: Readable, headers: { contentType?: string; contentLength?: string }): Promise<Image> {
    const claim = this.verify<UploadClaim>(token);
    if (typeof claim.img !== 'string' || typeof claim.len !== 'number' || typeof claim.typ !== 'string') {
      throw new UploadError(403, 'WRONG_LINK', 'this is a download link; upload with the link from requestImageUploads');
    }
    if (headers.contentLength !== String(claim.len)) {
      throw new UploadError(400, 'SIZE_MISMATCH', `content-length must be ${claim.len}, as announced`);
    }
    if ((headers.contentType ?? '').split(';')[0].trim() !== claim.typ) {
      throw new UploadError(400, 'CONTENT_TYPE_MISMATCH', `content-type must be ${claim.typ}, as announced`);
    }
    // Taking the image out of PENDING_UPLOAD first makes the link single-use, even for two PUTs at once. While the
    // body streams the image is UPLOADING, which no run takes and no completion judges; it becomes UPLOADED only once
    // every byte is stored, and any upload that does not finish hands the image back, so the link is spent only by a
    // complete one.
    const [image] = await this.prisma.image.updateManyAndReturn({
      where: { id: claim.img, status: ImageStatus.PENDING_UPLOAD },
      data: { status: ImageStatus.UPLOADING, updatedAt: new Date() },
    });
    if (!image) throw new UploadError(409, 'ALREADY_USED', 'this link was already used; request a new upload for the file');
    // A live upload keeps its claim fresh; one whose process died stops, and is recognised as abandoned (see isStale).
    const heartbeat = setInterval(() => {
      this.prisma.image
        .updateMany({ where: { id: image.id, status: ImageStatus.UPLOADING }, data: { updatedAt: new Date() } })
        .catch(() => undefined);
    }, UPLOAD_HEARTBEAT_MS);
    heartbeat.unref();
    try {
      // .pipe() alone would leave the store waiting forever when the client goes away mid-body; passing the
      // abort on lets it close and remove its temporary file. (pipeline() would also cut the reply on our own errors.)
      const limited = body.pipe(capped(claim.len));
      finished(body, (err) => err && limited.destroy(err));
      await this.store.put(image.objectKey, limited, { contentType: claim.typ });
      // Every byte that passed is stored: the store's put resolves only once all of them are.
      if (limited.passed() !== claim.len)
        throw new UploadError(400, 'SIZE_MISMATCH', `received ${limited.passed()} bytes, ${claim.len} were announced`);
      clearInterval(heartbeat);
      const arrived = await this.prisma.image.updateMany({
        where: { id: image.id, status: ImageStatus.UPLOADING },
        data: { status: ImageStatus.UPLOADED },
      });
      // Only if the claim was taken for abandoned meanwhile (this process stalled past UPLOAD_STALE_MS): the bytes are not kept.
      if (arrived.count === 0) {
        await this.store.delete(image.objectKey);
        throw new UploadError(409, 'ALREADY_USED', 'this upload took too long and was given up; request a new upload for the file');
      }
      return { ...image, status: ImageStatus.UPLOADED };
    } catch (err) {
      clearInterval(heartbeat);
      if (err instanceof UploadError && err.code === 'ALREADY_USED') throw err;
      try {
        await this.store.delete(image.objectKey);
      } finally {
        await this.prisma.image.updateMany({
          where: { id: image.id, status: ImageStatus.UPLOADING },
          data: { status: ImageStatus.PENDING_UPLOAD },
        });
      }
      if (INTERRUPTED.includes((err as NodeJS.ErrnoException).code ?? '')) {
        throw new UploadError(400, 'INTERRUPTED', 'the upload stopped before all bytes arrived; send the file again with the same link');
      }
      throw err;
    }
  }

  private verify<T extends object>(token: string): Partial<T> {
    try {
      return verifyToken<Partial<T>>(token, this.options.signingSecret);
    } catch (err) {
      if (err instanceof TokenError) throw new UploadError(err.kind === 'EXPIRED' ? 410 : 403, err.kind, err.message);
      throw err;
    }
  }

  /**
   * Checks each uploaded object and makes its derivatives; every image ends READY or REJECTED, except one whose bytes
   * are still arriving (UPLOADING), which is returned as it is. Repeating is harmless.
   */
  async complete(imageIds: string[]): Promise<Image[]> {
    if (imageIds.length > 1000) throw new DomainError(ErrorCode.BAD_USER_INPUT, 'imageIds: at most 1000 per call', { field: 'imageIds' });
    const images = await this.prisma.image.findMany({ where: { id: { in: imageIds } } });
    const missing = imageIds.find((id) => !images.some((i) => i.id === id));
    if (missing) throw notFound('Image', missing);
    // Two at a time (sharp's work on libuv's threads overlaps the other's reads and writes); a repeated id once.
    const limit = pLimit(COMPLETE_CONCURRENCY);
    const byId = new Map(images.map((i) => [i.id, limit(() => this.completeOne(i))]));
    return Promise.all(imageIds.map((id) => byId.get(id)!)).catch((err) => {
      limit.clearQueue(); // as one at a time stopped at a failure: images not yet started are left for the next call
      throw err;
    });
  }

  private async completeOne(image: Image): Promise<Image> {
    // A survey image READY but not yet placed (say, the server stopped in between) is placed now.
    if (image.status === ImageStatus.READY) return image.deviceMatch === DeviceMatch.PENDING ? this.placer.place(image) : image;
    if (image.status === ImageStatus.REJECTED) return image;
    // Bytes still arriving: nothing to check yet; complete again once the PUT has answered. An upload abandoned by a
    // process that stopped mid-body is given up (the file can be requested again).
    if (image.status === ImageStatus.UPLOADING) {
      if (!isStale(image)) return image;
      const given = await this.prisma.image.updateMany({
        where: { id: image.id, status: ImageStatus.UPLOADING, updatedAt: image.updatedAt },
        data: {
          status: ImageStatus.REJECTED,
          rejectionReason: RejectionReason.NOT_UPLOADED,
          rejectionMessage: 'the upload stopped before all bytes arrived; request the file again',
        },
      });
      if (given.count > 0) await this.store.delete(image.objectKey);
      return this.prisma.image.findUniqueOrThrow({ where: { id: image.id } });
    }
    // Only from the status this check read: a PUT that claimed the image meanwhile keeps it, and its bytes.
    const reject = async (reason: RejectionReason, message: string) => {
      const rejected = await this.prisma.image.updateMany({
        where: { id: image.id, status: image.status },
        data: { status: ImageStatus.REJECTED, rejectionReason: reason, rejectionMessage: message.slice(0, 500) },
      });
      if (rejected.count > 0) await this.store.delete(image.objectKey);
      return this.prisma.image.findUniqueOrThrow({ where: { id: image.id } });
    };
    // Read whole rather than asked about first: a presigned PUT or vigil's own is bound to the announced length.
    const bytes = await this.store.get(image.objectKey).then(buffer, (err: unknown) => {
      if (err instanceof ObjectNotFoundError) return null;
      throw err;
    });
    if (!bytes) return reject(RejectionReason.NOT_UPLOADED, 'no file was uploaded for this image');
    if (bytes.length !== image.bytes)
      return reject(RejectionReason.SIZE_MISMATCH, `${bytes.length} bytes arrived, ${image.bytes} were announced`);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== image.sha256) return reject(RejectionReason.CHECKSUM_MISMATCH, 'the uploaded bytes do not match the announced sha256');
    try {
      const { facts, derivatives } = await processImage(bytes, this.options.limits, this.options.derivatives);
      const stored = await storeDerivatives(this.store, image.id, derivatives);
      // The tiles and READY together or neither; an image without tiles is one statement, no transaction.
      const markReady = async (tx: Pick<PrismaClient, 'image' | 'imageTile'>) => {
        if (stored.tiles.length)
          await tx.imageTile.createMany({
            data: stored.tiles.map(({ key, ...rect }) => ({ ...rect, imageId: image.id, objectKey: key })),
            skipDuplicates: true,
          });
        // Only from the status this check read: two completions at once (a run's and the client's) make one READY.
        const [made] = await tx.image.updateManyAndReturn({
          where: { id: image.id, status: image.status },
          data: {
            status: ImageStatus.READY,
            contentType: facts.contentType,
            width: facts.width,
            height: facts.height,
            capturedAt: facts.capturedAt,
            latitude: facts.latitude,
            longitude: facts.longitude,
            altitude: facts.altitude,
            camera: facts.camera,
            normalizedKey: stored.normalizedKey,
            thumbnailKey: stored.thumbnailKey,
          },
        });
        return { made: !!made, image: made ?? (await tx.image.findUniqueOrThrow({ where: { id: image.id } })) };
      };
      const ready = stored.tiles.length ? await this.prisma.$transaction((tx) => markReady(tx)) : await markReady(this.prisma);
      const placed = ready.made ? await this.placer.place(ready.image) : null;
      if (placed) this.readyListener?.(placed, judgedPictures(stored, derivatives));
      return placed ?? ready.image;
    } catch (err) {
      if (err instanceof ImageRejected) return reject(err.reason as RejectionReason, err.message);
      throw err;
    }
  }

  /** A short-lived link to one of an image's objects. */
  async downloadUrl(key: string): Promise<string> {
    const ttl = this.options.urlTtlSeconds;
    if (this.store.presignGet) return (await this.store.presignGet(key, { expiresInSeconds: ttl })).url;
    const token = signToken({ key }, this.options.signingSecret, new Date(Date.now() + ttl * 1000));
    return `${this.options.baseUrl()}/objects/${token}`;
  }

  /** GET /objects/<token> on the local store. */
  async open(token: string): Promise<{ body: Readable; contentType: string | null; bytes: number }> {
    const { key } = this.verify<{ key: string }>(token);
    if (typeof key !== 'string') throw new UploadError(403, 'WRONG_LINK', 'this is an upload link; it cannot be used to download');
    const head = await this.store.head(key);
    if (!head) throw new UploadError(404, 'NOT_FOUND', 'the object no longer exists');
    return { body: await this.store.get(key), contentType: head.contentType, bytes: head.bytes };
  }
}
