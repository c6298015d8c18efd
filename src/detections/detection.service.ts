import { type Logger } from 'pino';
import { type Detection, type PrismaClient } from '../generated/prisma/client';
import { DetectionStage, ImageOutcome, ImageStatus, type ReviewReason } from '../generated/prisma/enums';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { type InspectDetector, type InspectRegion, type ScreenDetector } from '../adapters/detectors/detector.port';
import { anomalyDetectedEvent, type EventBus } from '../adapters/event-bus/event-bus.port';
import { type UploadService } from '../images/upload.service';
import { notFound } from '../common/errors';
import { WHOLE_IMAGE } from '../common/box';
import { type ReviewQueue } from '../reviews/review-queue.service';
import { ActiveLearningService } from '../reviews/active-learning.service';
import { DEFAULT_LEARNING_BUDGET } from '../reviews/active-learning';
import { imageToJudge } from './image-to-judge';
import { type PinnedVersions, RunModelVersions } from './run-model-versions';
import { ScreenAhead, type ScreenAheadOptions } from './screen-ahead';
import { type JudgedPicture } from '../image-processing/store-derivatives';
import { detectionOnce, type FinalOutcome, type JudgedDetection } from './detection-once';
import { clamp01, detectorImage, type ImageWithDevice, picturesOf, round, toImageBox, uncertaintyOf } from './pictures';
import { anomalyEvent, WebhookEventType, webhookEvents } from '../webhooks/outbox';

export { toImageBox };

export type { PinnedVersions };

export type ScreenRoute = 'CLEAR' | 'FLAGGED' | 'COLD_START';
export type InspectRoute = 'NORMAL' | 'ANOMALY' | 'UNCERTAIN' | 'COLD_START';

export interface DetectionDeps {
  prisma: PrismaClient;
  store: ObjectStore;
  /** The S3 bucket when the store is S3, so detectors that can read S3 are given the location instead of bytes. */
  bucket: string | null;
  uploads: UploadService;
  screen: ScreenDetector;
  inspect: InspectDetector;
  /** US dollars per call, by detector name. */
  prices: Record<string, number>;
  reviews: ReviewQueue;
  /** Picks confident verdicts for review at the end of a run; built from `reviews` when not given. */
  learning?: ActiveLearningService;
  events: EventBus;
  log: Logger;
  /** Screen images as they become READY, before their run reaches them (see ScreenAhead); null or absent: never. */
  screenAhead?: ScreenAheadOptions | null;
}

/**
 * The detection workflow's steps for one image: preprocess, screen, inspect, record anomalies,
 * ask for review. Each step is idempotent: detections are unique per (image, stage, model
 * version), anomalies per (detection, region), review tasks per (image, reason), outcomes per
 * (run, image). A replayed step finds what the first attempt wrote and does not call a detector
 * (or pay) again.
 */
export class DetectionService {
  private readonly learning: ActiveLearningService;
  private readonly versions: RunModelVersions;
  private readonly ahead: ScreenAhead | null;

  constructor(private readonly deps: DetectionDeps) {
    this.versions = new RunModelVersions(deps);
    this.ahead = deps.screenAhead ? new ScreenAhead({ ...deps, versions: this.versions }, deps.screenAhead) : null;
    this.learning =
      deps.learning ??
      new ActiveLearningService({
        prisma: deps.prisma,
        tasks: deps.reviews,
        budget: deps.reviews.settings.learning ?? DEFAULT_LEARNING_BUDGET,
        log: deps.log,
      });
  }

  /**
   * Images whose bytes are stored but were not checked (e.g. the server stopped in between) are checked now. A run never
   * takes an image whose body is still streaming (UPLOADING), so this never judges an upload in flight.
   */
  async preprocess(runId: string, imageId: string): Promise<{ imageId: string; ready: boolean }> {
    let image = await this.image(imageId);
    if (image.status === ImageStatus.UPLOADED) [image] = (await this.deps.uploads.complete([imageId])) as [ImageWithDevice];
    const ready = image.status === ImageStatus.READY && !!image.normalizedKey;
    if (!ready) await this.recordOutcome(this.deps.prisma, runId, imageId, ImageOutcome.SKIPPED, {});
    return { imageId, ready };
  }

  /** Stops screening ahead and waits for what is under way (before the backbone closes). */
  async close(): Promise<void> {
    await this.ahead?.close();
  }

  /** An image just became READY: its pictures are screened now if screening ahead is on (see ScreenAhead). */
  screenAhead(image: { id: string; inspectionId: string | null }, pictures: JudgedPicture[]): void {
    this.ahead?.start(image, pictures);
  }

  async screen(runId: string, imageId: string): Promise<{ imageId: string; route: ScreenRoute }> {
    const { image, detections } = await this.judging(imageId, [DetectionStage.SCREEN]);
    const version = (await this.pinned(runId, image.deviceType)).screen;
    if (!version) return { imageId, route: 'COLD_START' };
    const { detection, outcomeRecorded } = await this.once(
      imageId,
      DetectionStage.SCREEN,
      version,
      detections,
      async () => {
        const pictures = picturesOf(image);
        const judged = [];
        for (const picture of pictures) {
          const early = await this.ahead?.take(picture.key, version);
          judged.push({
            picture,
            result: early ?? (await this.deps.screen.screen(await detectorImage(this.deps, image, picture, version))),
          });
        }
        const flagged = judged.filter((j) => j.result.flagged);
        const confidence = flagged.length
          ? Math.max(...flagged.map((j) => j.result.confidence))
          : Math.min(...judged.map((j) => j.result.confidence));
        return {
          detector: this.deps.screen.name,
          modelVersion: judged[0]?.result.modelVersion ?? version,
          isAnomalous: flagged.length > 0,
          confidence: round(confidence),
          calls: pictures.length,
          costUsd: pictures.length * this.price(this.deps.screen.name),
          inspectAllCostUsd: pictures.length * this.price(this.deps.inspect.name),
          result: {
            flaggedTiles: flagged.map((j) => j.picture.index),
            pictures: judged.map((j) => ({
              tile: j.picture.index,
              flagged: j.result.flagged,
              confidence: j.result.confidence,
              labels: j.result.labels.map((l) => ({ ...l, boxes: l.boxes.map((b) => toImageBox(b, j.picture.frame)) })),
              raw: j.result.raw,
            })),
          },
        };
      },
      runId,
      (judged) =>
        judged.isAnomalous ? null : { outcome: ImageOutcome.CLEAR, screenModelVersion: judged.modelVersion, inspectModelVersion: null },
    );
    if (!detection.isAnomalous) {
      if (!outcomeRecorded)
        await this.recordOutcome(this.deps.prisma, runId, imageId, ImageOutcome.CLEAR, { screenModelVersion: detection.modelVersion });
      await this.sampleForQa(image, detection);
      return { imageId, route: 'CLEAR' };
    }
    return { imageId, route: 'FLAGGED' };
  }

  /** Stage 2; `via` reads another detector's answers at another price (a Batch Transform job's, with its cost shared per picture). */
  async inspect(
    runId: string,
    imageId: string,
    via: { detector: InspectDetector; pricePerCall: number } = {
      detector: this.deps.inspect,
      pricePerCall: this.price(this.deps.inspect.name),
    },
  ): Promise<{ imageId: string; route: InspectRoute }> {
    const { image, detections } = await this.judging(imageId, [DetectionStage.SCREEN, DetectionStage.INSPECT]);
    const version = (await this.pinned(runId, image.deviceType)).inspect;
    if (!version) return { imageId, route: 'COLD_START' };
    // The latest screen detection (they come newest first).
    const screen = detections.find((d) => d.stage === DetectionStage.SCREEN) ?? null;
    const flaggedTiles = (screen?.result as { flaggedTiles?: (number | null)[] } | null)?.flaggedTiles ?? null;
    const { detection, outcomeRecorded } = await this.once(
      imageId,
      DetectionStage.INSPECT,
      version,
      detections.filter((d) => d.stage === DetectionStage.INSPECT),
      async () => {
        const pictures = picturesOf(image).filter((p) => !flaggedTiles || flaggedTiles.includes(p.index));
        const judged = [];
        for (const picture of pictures)
          judged.push({ picture, result: await via.detector.inspect(await detectorImage(this.deps, image, picture, version)) });
        const sure = judged.filter((j) => j.result.isAnomalous && !j.result.uncertain);
        const unsure = judged.filter((j) => j.result.uncertain);
        const route: InspectRoute = sure.length ? 'ANOMALY' : unsure.length ? 'UNCERTAIN' : 'NORMAL';
        const deciding = route === 'ANOMALY' ? sure : route === 'UNCERTAIN' ? unsure : judged;
        const confidence =
          route === 'ANOMALY'
            ? Math.max(...deciding.map((j) => j.result.confidence))
            : Math.min(...deciding.map((j) => j.result.confidence));
        const regions: InspectRegion[] = judged
          .filter((j) => j.result.isAnomalous)
          .flatMap((j) => j.result.regions.map((r) => ({ ...r, box: toImageBox(r.box, j.picture.frame) })));
        return {
          detector: via.detector.name,
          modelVersion: judged[0]?.result.modelVersion ?? version,
          isAnomalous: route === 'ANOMALY' || (route === 'UNCERTAIN' && unsure.some((j) => j.result.isAnomalous)),
          confidence: round(confidence),
          calls: pictures.length,
          costUsd: pictures.length * via.pricePerCall,
          inspectAllCostUsd: 0,
          result: {
            route,
            uncertain: route === 'UNCERTAIN',
            regions,
            pictures: judged.map((j) => ({
              tile: j.picture.index,
              frame: j.picture.frame,
              isAnomalous: j.result.isAnomalous,
              uncertain: j.result.uncertain,
              confidence: j.result.confidence,
              heatmapKey: j.result.heatmapKey ?? null,
              raw: j.result.raw,
            })),
          },
        };
      },
      runId,
      (judged) =>
        (judged.result as { route: InspectRoute }).route === 'NORMAL'
          ? { outcome: ImageOutcome.NORMAL, inspectModelVersion: judged.modelVersion, screenModelVersion: screen?.modelVersion ?? null }
          : null,
    );
    const route = (detection.result as { route: InspectRoute }).route;
    if (route === 'NORMAL') {
      if (!outcomeRecorded)
        await this.recordOutcome(this.deps.prisma, runId, imageId, ImageOutcome.NORMAL, {
          inspectModelVersion: detection.modelVersion,
          screenModelVersion: screen?.modelVersion,
        });
      await this.sampleForQa(image, detection);
    }
    return { imageId, route };
  }

  /** Stores the anomalies of the image's stage-2 detection; a replay finds them and announces nothing twice. */
  async recordAnomalies(runId: string, imageId: string): Promise<{ imageId: string; anomalies: number }> {
    const { image, detections } = await this.judging(imageId, [DetectionStage.INSPECT]);
    const detection = detections[0];
    if (!detection) throw new Error(`image ${imageId} has no stage-2 detection to record anomalies from`);
    const found = (detection.result as { regions?: InspectRegion[] }).regions ?? [];
    // An anomalous verdict without a located region still names the image.
    const regions = found.length ? found : [{ box: { ...WHOLE_IMAGE }, type: 'anomaly', confidence: detection.confidence }];
    const created = await this.deps.prisma.$transaction(async (tx) => {
      const existing = await tx.anomaly.findMany({ where: { detectionId: detection.id }, select: { regionIndex: true } });
      const have = new Set(existing.map((a) => a.regionIndex));
      const rows = regions
        .map((r, regionIndex) => ({ r, regionIndex }))
        .filter(({ regionIndex }) => !have.has(regionIndex))
        .map(({ r, regionIndex }) => ({
          imageId,
          inspectionId: image.inspectionId,
          deviceId: image.deviceId,
          detectionId: detection.id,
          regionIndex,
          type: r.type,
          confidence: clamp01(r.confidence),
          boxX: clamp01(r.box.x),
          boxY: clamp01(r.box.y),
          boxWidth: clamp01(r.box.width),
          boxHeight: clamp01(r.box.height),
          source: 'MODEL' as const,
        }));
      const inserted = await tx.anomaly.createManyAndReturn({ data: rows, skipDuplicates: true });
      if (inserted.length)
        await webhookEvents(
          tx,
          inserted.map((a) => anomalyEvent(WebhookEventType.ANOMALY_DETECTED, a)),
        );
      await this.recordOutcome(tx as PrismaClient, runId, imageId, ImageOutcome.ANOMALY, { inspectModelVersion: detection.modelVersion });
      return inserted;
    });
    await this.sampleForQa(image, detection);
    for (const a of created) {
      await this.deps.events.publish('ANOMALY_DETECTED', anomalyDetectedEvent(a));
    }
    return { imageId, anomalies: regions.length };
  }

  /** A person decides: the model was unsure (LOW_CONFIDENCE) or there is no model yet (COLD_START). */
  async requestReview(runId: string, imageId: string, reason: ReviewReason): Promise<{ imageId: string; reviewTaskId: string }> {
    const lowConfidence = reason === 'LOW_CONFIDENCE';
    const { image, detections } = await this.judging(imageId, lowConfidence ? [DetectionStage.INSPECT] : []);
    // The latest stage-2 detection: the one the model was unsure in.
    const detection = lowConfidence ? (detections[0] ?? null) : null;
    const uncertainty = detection ? uncertaintyOf(detection.confidence) : 1;
    const task = await this.deps.prisma.$transaction(async (tx) => {
      const created = await this.deps.reviews.createOnce(tx as PrismaClient, {
        imageId,
        inspectionId: image.inspectionId,
        detectionId: detection?.id ?? null,
        reason,
        uncertainty,
      });
      await this.recordOutcome(
        tx as PrismaClient,
        runId,
        imageId,
        reason === 'COLD_START' ? ImageOutcome.COLD_START : ImageOutcome.UNCERTAIN,
        {
          inspectModelVersion: detection?.modelVersion,
        },
      );
      return created;
    });
    await this.deps.reviews.created(task);
    return { imageId, reviewTaskId: task.task.id };
  }

  /** A confident verdict is sometimes (REVIEW_QA_SHARE) checked by a person too, so accuracy is measured without bias. */
  private async sampleForQa(image: ImageWithDevice, detection: Detection): Promise<void> {
    const { sampled, priority } = this.deps.reviews.qaSample(image.id, detection.modelVersion);
    if (!sampled) return;
    const task = await this.deps.reviews.createOnce(this.deps.prisma, {
      imageId: image.id,
      inspectionId: image.inspectionId,
      detectionId: detection.stage === DetectionStage.INSPECT ? detection.id : null,
      reason: 'SAMPLED_QA',
      uncertainty: uncertaintyOf(detection.confidence),
      priority,
    });
    await this.deps.reviews.created(task);
  }

  /**
   * End of a run: some of its confident verdicts go to people too (ACTIVE_LEARNING), the ones the
   * model was least sure of. Picking is best effort: a failure is logged and never fails the run.
   */
  async sampleForLearning(runId: string): Promise<void> {
    try {
      await this.learning.sampleRun(runId);
    } catch (err) {
      this.deps.log.error({ err, runId }, 'active-learning picks for the run failed; its confident verdicts stand without them');
    }
  }

  private price(detector: string): number {
    return this.deps.prices[detector] ?? 0;
  }

  private async image(id: string): Promise<ImageWithDevice> {
    return (await this.judging(id, [])).image;
  }

  /** The image a step judges, with its detections of `stages` (newest first) read in the same statement. */
  private async judging(id: string, stages: DetectionStage[]): Promise<{ image: ImageWithDevice; detections: Detection[] }> {
    const found = await imageToJudge(this.deps.prisma, id, stages);
    if (!found) throw notFound('Image', id);
    if (!found.owner) throw new Error(`image ${id} has not found its device yet; it cannot be judged`);
    return { image: { ...found.image, ...found.owner }, detections: found.detections };
  }

  /** The model versions a run judges a device type's images with (see RunModelVersions). */
  pinned(runId: string, deviceType: string): Promise<PinnedVersions> {
    return this.versions.pinned(runId, deviceType);
  }

  /** The detection of this (image, stage, version), judged now only if it does not exist yet (see detectionOnce). */
  private once(
    imageId: string,
    stage: DetectionStage,
    modelVersion: string,
    read: Detection[],
    judge: () => Promise<JudgedDetection>,
    runId: string,
    final?: (judged: JudgedDetection) => FinalOutcome | null,
  ): Promise<{ detection: Detection; outcomeRecorded: boolean }> {
    return detectionOnce(this.deps.prisma, { imageId, stage, modelVersion, runId }, read, judge, final);
  }

  private async recordOutcome(
    db: Pick<PrismaClient, 'workflowRunImage'>,
    runId: string,
    imageId: string,
    outcome: ImageOutcome,
    versions: { screenModelVersion?: string | null; inspectModelVersion?: string | null },
  ): Promise<void> {
    const data = {
      outcome,
      screenModelVersion: versions.screenModelVersion ?? null,
      inspectModelVersion: versions.inspectModelVersion ?? null,
    };
    await db.workflowRunImage.upsert({ where: { runId_imageId: { runId, imageId } }, create: { runId, imageId, ...data }, update: data });
  }
}
