import { type Logger } from 'pino';
import { type PrismaClient } from '../generated/prisma/client';
import { type ScreenDetector, type ScreenResult } from '../adapters/detectors/detector.port';
import { type JudgedPicture } from '../image-processing/store-derivatives';
import { type RunModelVersions } from './run-model-versions';
import { heldDetectorImage } from './pictures';

export interface ScreenAheadOptions {
  /** Pictures being screened ahead at once; an image that would pass this is left for its run to screen. */
  maxPending: number;
  /** Verdicts kept for the runs to take; when this many are kept, images are left to their runs to screen. */
  maxKept: number;
  /** How long a verdict no run has taken is kept (an inspection whose uploads never all arrive has no run). */
  keptMs: number;
}

// What an image's device type and a device type's screen version are, asked once per this long.
const DEVICE_TYPE_MS = 30_000;
const VERSION_MS = 5_000;

interface Early {
  /** The model version that screened the picture: a run that pinned another screens it itself. */
  version: string;
  result: ScreenResult;
}

/**
 * Stage 1 started when an image becomes READY rather than when its run reaches it: the run of an inspection starts
 * once its last upload has arrived, and until then the model's thread waits while the uploads are checked. The
 * screen's verdict is kept under the picture's key, with the model version that gave it; the run's screen step takes
 * it when its pinned version is that one, and screens the picture itself otherwise (a model deployed in between, a
 * verdict dropped or failed). Nothing is written here: the run records the detection, its cost and its route as
 * before, so a result is the same whether it was judged ahead or not. Only for the built-in screen on the local
 * engine, whose steps run in this process and whose extra work costs CPU, not money (see the composition root).
 */
export class ScreenAhead {
  /** By picture key, oldest first. */
  private readonly kept = new Map<string, { early: Promise<Early | null>; at: number }>();
  private readonly deviceTypes: Remembered<string | null> = new Map();
  private readonly versions: Remembered<string | null> = new Map();
  private pending = 0;
  private closed = false;

  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      screen: ScreenDetector;
      versions: Pick<RunModelVersions, 'current'>;
      log: Logger;
    },
    private readonly options: ScreenAheadOptions,
  ) {}

  /** Pictures being screened ahead now (for tests and metrics). */
  get inFlight(): number {
    return this.pending;
  }

  /** Starts screening the pictures of a READY image of an inspection; returns at once and never throws. */
  start(image: { id: string; inspectionId: string | null }, pictures: JudgedPicture[]): void {
    const { inspectionId } = image;
    if (this.closed || !inspectionId || !pictures.length || this.pending + pictures.length > this.options.maxPending) return;
    // Full: the oldest verdicts are kept for the runs that will take them (dropping them would screen their pictures
    // twice); this image is left to its run, unless verdicts no run took have expired.
    if (this.kept.size + pictures.length > this.options.maxKept) this.expire();
    if (this.kept.size + pictures.length > this.options.maxKept) return;
    this.pending += pictures.length;
    const version = this.deviceType(inspectionId).then((type) => (type === null ? null : this.version(type).then((v) => ({ type, v }))));
    for (const picture of pictures) {
      const early = version
        .then(async (found) => {
          if (!found?.v || this.closed) return null;
          const result = await this.deps.screen.screen(heldDetectorImage({ id: image.id, deviceType: found.type }, picture, found.v));
          return { version: found.v, result };
        })
        .catch((err: unknown) => {
          // The run screens the picture itself, and meets the same failure there, where it is recorded.
          this.deps.log.debug({ err, imageId: image.id, key: picture.key }, 'screening ahead failed; the run will screen the picture');
          return null;
        })
        .finally(() => {
          this.pending -= 1;
        });
      this.keep(picture.key, early);
    }
  }

  /**
   * The verdict screened ahead for this picture with this model version, once (it is forgotten as it is taken);
   * undefined when there is none to wait for, null when the one there was failed or used another version.
   */
  take(key: string, version: string): Promise<ScreenResult | null> | undefined {
    const kept = this.kept.get(key);
    if (!kept) return undefined;
    this.kept.delete(key);
    return kept.early.then((e) => (e && e.version === version ? e.result : null));
  }

  /** Starts nothing more, and waits for the screening under way (what has not reached the model gives up at once). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.kept.values()].map((k) => k.early));
  }

  private keep(key: string, early: Promise<Early | null>): void {
    this.kept.delete(key);
    this.kept.set(key, { early, at: Date.now() });
  }

  /** Drops the verdicts kept longer than `keptMs`. */
  private expire(): void {
    const oldest = Date.now() - this.options.keptMs;
    for (const [key, { at }] of this.kept) {
      if (at > oldest) break;
      this.kept.delete(key);
    }
  }

  private deviceType(inspectionId: string): Promise<string | null> {
    return remembered(this.deviceTypes, inspectionId, DEVICE_TYPE_MS, async () => {
      const inspection = await this.deps.prisma.inspection.findUnique({
        where: { id: inspectionId },
        select: { device: { select: { type: true } } },
      });
      return inspection?.device.type ?? null;
    });
  }

  private version(deviceType: string): Promise<string | null> {
    return remembered(this.versions, deviceType, VERSION_MS, async () => (await this.deps.versions.current(deviceType)).screen);
  }
}

type Remembered<T> = Map<string, { promise: Promise<T>; at: number }>;

/** A value asked for at most once per `ms` per key (a failed ask is forgotten at once); at most 1,000 keys. */
function remembered<T>(cache: Remembered<T>, key: string, ms: number, ask: () => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  const now = Date.now();
  if (hit && now - hit.at < ms) return hit.promise;
  const promise = ask();
  cache.delete(key);
  cache.set(key, { promise, at: now });
  promise.catch(() => {
    if (cache.get(key)?.promise === promise) cache.delete(key);
  });
  while (cache.size > 1000) cache.delete(cache.keys().next().value!);
  return promise;
}
