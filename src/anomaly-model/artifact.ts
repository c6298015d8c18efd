import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import zlib from 'node:zlib';
import { type BackboneIdentity } from '../adapters/backbone/backbone.port';
import { type PatchHead, type Projection } from './features';
import { type LinearModel } from './numeric';
import { isViewCount, MAX_VIEWS } from './profiles';
import { type Look } from './thresholds';
import { type Profile, type Thresholds } from './types';

export const ARTIFACT_FORMAT = 'vigil-anomaly-model';
/** 3: the memory compares 2×2-averaged patch descriptors (version 2 models compared single patches). */
export const ARTIFACT_FORMAT_VERSION = 3;
export const METHOD = 'backbone-patchcore+logistic';
/** The pixels a model may ask the backbone to see (the profiles use 128² and 160²): a manifest outside them is damaged. */
const MIN_AREA = 16 * 16;
const MAX_AREA = 1024 * 1024;

/** How the image score is made: distance to the memory of normal patches, the supervised image classifier, or both weighed. */
export type ScoreMode = 'memory' | 'classifier' | 'stacked';

export interface Scaler {
  mean: Float32Array;
  scale: Float32Array;
}

/** What a model file says about itself; `predict` checks it before trusting the numbers. */
export interface Manifest {
  format: typeof ARTIFACT_FORMAT;
  formatVersion: number;
  /** `<profile>-<first 12 hex of the payload hash>`: two trainings that learn the same numbers share it. */
  version: string;
  method: string;
  profile: Profile;
  /** The network the features come from: a model refuses to run on another. */
  backbone: BackboneIdentity;
  /**
   * `views`: how many flipped views the image classifier averages over (absent in older models: 1).
   * `looks`: the looks at some of the views, in order, each deciding alone when its score lies its
   * margin outside the review band (absent: every picture gets all its views). `oneViewMargin`, in
   * models of before the looks: one look at view 0 with that margin on both sides.
   */
  features: {
    area: number;
    dim: number;
    channels: number;
    bankSize: number;
    pooled: number;
    views?: number;
    looks?: Look[];
    oneViewMargin?: number;
  };
  scoreMode: ScoreMode;
  seed: number;
  createdAt: string;
  trainingSet: { hash: string; count: number; normal: number; anomalous: number; types: string[]; supervised: boolean };
  thresholds: Thresholds;
  /** Platt scaling: P(anomalous) = sigmoid(a·score + b). */
  calibration: { a: number; b: number };
  /** Measured on cross-validated (out-of-fold) predictions of the whole training set. */
  validation: {
    count: number;
    folds: number;
    imageAuroc: number | null;
    memoryAuroc: number | null;
    classifierAuroc: number | null;
    stackedAuroc: number | null;
    precision: number;
    recall: number;
    f1: number;
    reviewBandShare: number;
  };
  payloadSha256: string;
}

export interface Payload {
  projection: Projection;
  /** Memory of normal patches (bankSize × dim); what `memory` mode scores and draws with. */
  bank: Float32Array;
  /** Per-patch classifier over the standardised descriptors (all channels); null without labelled anomalies. */
  patchModel: PatchHead | null;
  /** Image-level classifier over pooled statistics; null without enough labelled anomalies. */
  imageScaler: Scaler | null;
  imageModel: LinearModel | null;
  /** Weights of the classifier's logit, the memory score and the local score in `stacked` mode. */
  stack: LinearModel | null;
  /** The local scorer (patch classifier on projected descriptors) in `stacked` mode. */
  localModel: LinearModel | null;
}

export interface ModelArtifact {
  manifest: Manifest;
  payload: Payload;
}

export class ModelArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelArtifactError';
  }
}

const f32 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const fromF32 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  if (b.length % 4) throw new Error('not float32 data');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

function encodePayload(p: Payload): string {
  return JSON.stringify({
    projection: {
      channels: p.projection.channels,
      dim: p.projection.dim,
      seed: p.projection.seed,
      mean: f32(p.projection.mean),
      scale: f32(p.projection.scale),
      select: p.projection.select,
      identity: p.projection.identity,
    },
    bank: f32(p.bank),
    patchModel: p.patchModel,
    imageScaler: p.imageScaler && { mean: f32(p.imageScaler.mean), scale: f32(p.imageScaler.scale) },
    imageModel: p.imageModel,
    stack: p.stack,
    localModel: p.localModel,
  });
}

export const payloadHash = (p: Payload) => crypto.createHash('sha256').update(encodePayload(p)).digest('hex');

/** One gzip'd JSON file: the manifest in clear, the numbers as base64 float32. */
export function serializeArtifact(artifact: ModelArtifact): Buffer {
  const payload = encodePayload(artifact.payload);
  return zlib.gzipSync(`${JSON.stringify({ manifest: artifact.manifest, payload: JSON.parse(payload) })}\n`);
}

export async function saveArtifact(file: string, artifact: ModelArtifact): Promise<void> {
  const temp = `${file}.${process.pid}.partial`;
  await fs.writeFile(temp, serializeArtifact(artifact));
  await fs.rename(temp, file);
}

export function parseArtifact(bytes: Buffer, origin = 'the model file'): ModelArtifact {
  // biome-ignore lint/suspicious/noExplicitAny: an untrusted file, checked field by field below.
  let doc: { manifest?: Manifest; payload?: Record<string, any> };
  try {
    doc = JSON.parse(zlib.gunzipSync(bytes).toString('utf8'));
  } catch {
    throw new ModelArtifactError(`${origin} is not a vigil model (not a gzip'd JSON document); it may be corrupt or truncated`);
  }
  const m = doc.manifest;
  if (!m || m.format !== ARTIFACT_FORMAT)
    throw new ModelArtifactError(`${origin} is not a vigil model (format ${JSON.stringify(m?.format)})`);
  if (m.formatVersion === 1) {
    throw new ModelArtifactError(
      `${origin} is a version 1 model (hand-crafted features); this vigil runs models on a pretrained backbone (format ${ARTIFACT_FORMAT_VERSION}): retrain it (vigil model train, or trainModel)`,
    );
  }
  if (m.formatVersion === 2) {
    throw new ModelArtifactError(
      `${origin} is a version 2 model (its memory compares single patches); this vigil compares 2×2-averaged patches (format ${ARTIFACT_FORMAT_VERSION}): retrain it (vigil model train, or trainModel)`,
    );
  }
  if (m.formatVersion !== ARTIFACT_FORMAT_VERSION) {
    throw new ModelArtifactError(
      `${origin} has format version ${m.formatVersion}; this vigil reads version ${ARTIFACT_FORMAT_VERSION}: retrain the model`,
    );
  }
  if (m.method !== METHOD) throw new ModelArtifactError(`${origin} was made by method ${m.method}; this vigil runs ${METHOD}`);
  const area = m.features?.area;
  if (!(Number.isFinite(area) && area >= MIN_AREA && area <= MAX_AREA))
    throw new ModelArtifactError(`${origin} is corrupt: its pictures would be ${JSON.stringify(area)} pixels (${MIN_AREA} to ${MAX_AREA})`);
  const views = m.features?.views;
  if (views !== undefined && !isViewCount(views))
    throw new ModelArtifactError(`${origin} is corrupt: it asks for ${JSON.stringify(views)} views of a picture (1 to ${MAX_VIEWS})`);
  const margin = m.features.oneViewMargin;
  if (margin !== undefined && !(Number.isFinite(margin) && margin >= 0))
    throw new ModelArtifactError(`${origin} is corrupt: its one-view margin is ${JSON.stringify(margin)} (a number ≥ 0)`);
  const badLook = badLookOf(m.features.looks, views ?? 1);
  if (badLook) throw new ModelArtifactError(`${origin} is corrupt: ${badLook}`);
  assertNumbers(m, origin);
  const p = doc.payload;
  let payload: Payload;
  try {
    payload = {
      projection: {
        channels: p!.projection.channels,
        dim: p!.projection.dim,
        seed: p!.projection.seed,
        mean: fromF32(p!.projection.mean),
        scale: fromF32(p!.projection.scale),
        select: p!.projection.select ?? null,
        identity: !!p!.projection.identity,
      },
      bank: fromF32(p!.bank),
      patchModel: p!.patchModel ?? null,
      imageScaler: p!.imageScaler ? { mean: fromF32(p!.imageScaler.mean), scale: fromF32(p!.imageScaler.scale) } : null,
      imageModel: p!.imageModel ?? null,
      stack: p!.stack ?? null,
      localModel: p!.localModel ?? null,
    };
  } catch {
    throw new ModelArtifactError(`${origin} has a damaged payload`);
  }
  if (payloadHash(payload) !== m.payloadSha256) {
    throw new ModelArtifactError(`${origin} is corrupt: its numbers do not match the hash in its manifest`);
  }
  if (payload.bank.length !== m.features.bankSize * m.features.dim || payload.projection.mean.length !== m.features.channels) {
    throw new ModelArtifactError(`${origin} is corrupt: the memory bank or the projection has the wrong size`);
  }
  return { manifest: m, payload };
}

/** Thresholds and calibration a model would judge by: finite, and the band around the operating point. */
function assertNumbers(m: Manifest, origin: string): void {
  const t = m.thresholds;
  const c = m.calibration;
  const finite = [t?.operating, t?.reviewBand?.low, t?.reviewBand?.high, t?.patch, c?.a, c?.b].every((v) => Number.isFinite(v));
  if (!finite) throw new ModelArtifactError(`${origin} is corrupt: its thresholds or calibration are not all numbers`);
  if (!(t.reviewBand.low <= t.operating && t.operating <= t.reviewBand.high))
    throw new ModelArtifactError(
      `${origin} is corrupt: its review band [${t.reviewBand.low}, ${t.reviewBand.high}) does not hold its operating threshold ${t.operating}`,
    );
}

export async function loadArtifact(file: string): Promise<ModelArtifact> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new ModelArtifactError(`cannot read the model ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseArtifact(bytes, file);
}

/** What is wrong with a manifest's looks, or null: each takes view 0 and fewer views than the last, all of them below `views`, with margins ≥ 0. */
function badLookOf(looks: unknown, views: number): string | null {
  if (looks === undefined) return null;
  if (!Array.isArray(looks) || looks.length >= views) return `its looks are ${JSON.stringify(looks)} (fewer than its ${views} views)`;
  let taken = 0;
  for (const look of looks as Partial<Look>[]) {
    const ok =
      Array.isArray(look?.views) &&
      look.views[0] === 0 &&
      look.views.length > taken &&
      look.views.length < views &&
      look.views.every((v, i) => Number.isInteger(v) && v < views && (i === 0 || v > look.views![i - 1])) &&
      [look.below, look.above].every((x) => Number.isFinite(x) && x! >= 0);
    if (!ok) return `a look is ${JSON.stringify(look)} (views from 0 up, below ${views}; margins numbers ≥ 0)`;
    taken = look.views!.length;
  }
  return null;
}

/** The looks a picture gets before all its views (none: all of them at once); a model with a one-view margin has one. */
export function looksOf(m: Manifest): Look[] {
  if (m.features.looks) return m.features.looks;
  const margin = m.features.oneViewMargin;
  return margin === undefined ? [] : [{ views: [0], below: margin, above: margin }];
}

/** How many views of a picture a model judges by: its classifier's when its score reads the classifier, else one. */
export const judgingViews = (m: Manifest): number => (m.scoreMode === 'memory' ? 1 : (m.features.views ?? 1));

/** A model runs only on the backbone it was trained on: other features would be other numbers. */
export function assertBackbone(manifest: Manifest, backbone: BackboneIdentity): void {
  const want = manifest.backbone;
  if (want.weightsSha256 === backbone.weightsSha256 && want.taps.join(',') === backbone.taps.join(',')) return;
  throw new ModelArtifactError(
    `model ${manifest.version} was trained on backbone ${want.name} ${want.version} (weights ${want.weightsSha256.slice(0, 12)}, taps ${want.taps.join(',')}); ` +
      `this vigil runs ${backbone.name} ${backbone.version} (weights ${backbone.weightsSha256.slice(0, 12)}, taps ${backbone.taps.join(',')}): configure that backbone or retrain the model`,
  );
}
