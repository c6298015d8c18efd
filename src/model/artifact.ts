import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import zlib from 'node:zlib';
import { type LinearModel } from './numeric';
import { type FeatureConfig } from './features';
import { type Profile, type Thresholds } from './types';

export const ARTIFACT_FORMAT = 'vigil-anomaly-model';
export const ARTIFACT_FORMAT_VERSION = 1;
export const METHOD = 'patch-knn-coreset+logistic';

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
  features: FeatureConfig & { bankSize: number; descriptor: number };
  seed: number;
  createdAt: string;
  trainingSet: { hash: string; count: number; normal: number; anomalous: number; types: string[]; supervised: boolean };
  thresholds: Thresholds;
  /** Platt scaling: P(anomalous) = sigmoid(a·score + b). */
  calibration: { a: number; b: number };
  /** Measured on the validation part of the training set. */
  validation: { count: number; imageAuroc: number | null; precision: number; recall: number; f1: number; reviewBandShare: number };
  payloadSha256: string;
}

export interface Payload {
  knnScaler: Scaler;
  bank: Float32Array;
  patchScaler: Scaler;
  /** Per-patch classifier over standardised descriptors and their squares; null without labelled anomalies. */
  patchModel: LinearModel | null;
  /** Image-level classifier over score statistics; null without labelled anomalies. */
  imageScaler: { mean: number[]; scale: number[] } | null;
  imageModel: LinearModel | null;
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
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

function encodePayload(p: Payload): string {
  return JSON.stringify({
    knnScaler: { mean: f32(p.knnScaler.mean), scale: f32(p.knnScaler.scale) },
    bank: f32(p.bank),
    patchScaler: { mean: f32(p.patchScaler.mean), scale: f32(p.patchScaler.scale) },
    patchModel: p.patchModel,
    imageScaler: p.imageScaler,
    imageModel: p.imageModel,
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
  let doc: { manifest?: Manifest; payload?: Record<string, any> };
  try {
    doc = JSON.parse(zlib.gunzipSync(bytes).toString('utf8'));
  } catch {
    throw new ModelArtifactError(`${origin} is not a vigil model (not a gzip'd JSON document); it may be corrupt or truncated`);
  }
  const m = doc.manifest;
  if (!m || m.format !== ARTIFACT_FORMAT) throw new ModelArtifactError(`${origin} is not a vigil model (format ${JSON.stringify(m?.format)})`);
  if (m.formatVersion !== ARTIFACT_FORMAT_VERSION) {
    throw new ModelArtifactError(`${origin} has format version ${m.formatVersion}; this vigil reads version ${ARTIFACT_FORMAT_VERSION}: retrain the model`);
  }
  if (m.method !== METHOD) throw new ModelArtifactError(`${origin} was made by method ${m.method}; this vigil runs ${METHOD}`);
  const p = doc.payload;
  let payload: Payload;
  try {
    payload = {
      knnScaler: { mean: fromF32(p!.knnScaler.mean), scale: fromF32(p!.knnScaler.scale) },
      bank: fromF32(p!.bank),
      patchScaler: { mean: fromF32(p!.patchScaler.mean), scale: fromF32(p!.patchScaler.scale) },
      patchModel: p!.patchModel ?? null,
      imageScaler: p!.imageScaler ?? null,
      imageModel: p!.imageModel ?? null,
    };
  } catch {
    throw new ModelArtifactError(`${origin} has a damaged payload`);
  }
  if (payloadHash(payload) !== m.payloadSha256) {
    throw new ModelArtifactError(`${origin} is corrupt: its numbers do not match the hash in its manifest`);
  }
  if (payload.bank.length !== m.features.bankSize * m.features.descriptor) {
    throw new ModelArtifactError(`${origin} is corrupt: the memory bank has the wrong size`);
  }
  return { manifest: m, payload };
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
