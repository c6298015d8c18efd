import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { LocalObjectStore } from '../src/adapters/object-store/local.driver';
import { toGlobalId } from '../src/common/global-id';
import { type Database } from '../src/db/database';
import { benchDatabase, flag, opt, peakRssMb, runBench, startBenchServer, writeResult } from './bench-server';
import { GraphQLClient } from './graphql-client';

// npm run bench:report [-- --pglite] [--images 50] [--devices 10] [--side 2048] [--runs 3]
// A finished survey of IMAGES photographs over DEVICES devices is written straight into the database and the
// local object store (normalised copies, heatmaps, anomalies, defects, reviews, a measured model version); the
// built server renders its report through the signed link, as PDF and as HTML. Target: 50 images ≤ 20 s.

const IMAGES = opt('images', 50);
const DEVICES = opt('devices', 10);
const SIDE = opt('side', 2048);
const RUNS = opt('runs', 3);
const PORT = opt('port', 4594);
const TARGET_MS = 20_000;
const SECRET = `bench-admin-secret-${crypto.randomBytes(8).toString('hex')}`;
const MODEL = 'inspect-bench-0001';
const objectsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-report-objects-'));
const store = new LocalObjectStore(objectsDir);

/** A smooth photo-like picture (sky, a pole, texture): compresses like a real photograph, unlike noise. */
async function photo(seed: number): Promise<Buffer> {
  const [w, h] = [SIDE, Math.round(SIDE * 0.75)];
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 3 * (y * w + x);
      const pole = Math.abs(x - w * (0.4 + 0.05 * (seed % 5))) < w * 0.03;
      const wave = 12 * Math.sin((x + seed * 37) / 23) * Math.cos(y / 31);
      px[i] = pole ? 90 + wave : 120 + (80 * y) / h + wave;
      px[i + 1] = pole ? 80 + wave : 150 + (40 * y) / h + wave;
      px[i + 2] = pole ? 70 + wave : 210 - (90 * y) / h + wave;
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** A heatmap like the built-in model's: cold blue with one hot spot. */
async function heatmap(seed: number): Promise<Buffer> {
  const [w, h] = [256, 192];
  const px = Buffer.alloc(w * h * 3);
  const [cx, cy] = [60 + ((seed * 53) % 140), 50 + ((seed * 29) % 90)];
  for (let i = 0; i < w * h; i++) {
    const d = Math.hypot((i % w) - cx, Math.floor(i / w) - cy) / 40;
    const t = Math.max(0, 1 - d);
    px.set([10 + 230 * t, 20 + 120 * t * (1 - t) * 4, 90 - 70 * t], 3 * i);
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
}

async function seed(db: Database, surveyId: string): Promise<void> {
  const prisma = db.prisma;
  const now = Date.now();
  const dataset = await prisma.dataset.create({ data: { name: 'insulator', deviceType: 'insulator' } });
  await prisma.modelVersion.create({
    data: {
      datasetId: dataset.id,
      deviceType: 'insulator',
      profile: 'INSPECT',
      status: 'TRAINED',
      trainer: 'builtin',
      version: MODEL,
      finishedAt: new Date(now - 30 * 86_400_000),
      metrics: { source: 'builtin', testCount: 120, normal: 90, anomalous: 30, auroc: 0.94, precision: 0.82, recall: 0.9, f1: 0.86 },
    },
  });
  await prisma.survey.create({ data: { id: surveyId, name: 'Line 12 spring flight', source: 'DRONE', requestedBy: 'bench' } });
  const key = await prisma.apiKey.create({
    data: { name: 'Ana (reviewer)', role: 'REVIEWER', prefix: 'vgl_bench', secretHash: 'b'.repeat(64) },
  });
  for (let d = 0; d < DEVICES; d++) {
    const device = await prisma.device.create({
      data: {
        externalId: `line12-tower-${String(d + 1).padStart(3, '0')}`,
        name: `Line 12, tower ${d + 1}`,
        type: 'insulator',
        criticality: (['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const)[d % 4],
        latitude: 52.09 + 0.002 * d,
        longitude: 5.12 + 0.0015 * d,
      },
    });
    const capturedAt = new Date(now - 86_400_000);
    const inspection = await prisma.inspection.create({
      data: {
        deviceId: device.id,
        source: 'DRONE',
        status: 'COMPLETED',
        capturedAt,
        requestedBy: 'bench',
        idempotencyKey: `survey:${surveyId}`,
      },
    });
    const run = await prisma.workflowRun.create({
      data: { inspectionId: inspection.id, workflow: 'detect-inspection', engine: 'LOCAL', status: 'SUCCEEDED', finishedAt: new Date() },
    });
    const perDevice = Math.ceil(IMAGES / DEVICES);
    for (let k = 0; k < perDevice && d * perDevice + k < IMAGES; k++) {
      await seedImage(db, {
        surveyId,
        deviceId: device.id,
        inspectionId: inspection.id,
        runId: run.id,
        n: d * perDevice + k,
        apiKeyId: key.id,
      });
    }
  }
}

async function seedImage(
  db: Database,
  at: { surveyId: string; deviceId: string; inspectionId: string; runId: string; n: number; apiKeyId: string },
) {
  const prisma = db.prisma;
  const id = crypto.randomUUID();
  const jpeg = await photo(at.n);
  const normalizedKey = `images/${id}/normalized.jpg`;
  const heatmapKey = `images/${id}/normalized.jpg.heatmap-${MODEL}.png`;
  await store.put(normalizedKey, jpeg, { contentType: 'image/jpeg' });
  await store.put(heatmapKey, await heatmap(at.n), { contentType: 'image/png' });
  const { inspectionId, deviceId } = at;
  await prisma.image.create({
    data: {
      id,
      inspectionId,
      surveyId: at.surveyId,
      deviceMatch: 'MATCHED',
      matchDistanceM: 4.2,
      objectKey: `uploads/${id}`,
      sha256: crypto.createHash('sha256').update(jpeg).digest('hex'),
      contentType: 'image/jpeg',
      bytes: jpeg.length,
      width: SIDE,
      height: Math.round(SIDE * 0.75),
      status: 'READY',
      filename: `DJI_${String(at.n).padStart(4, '0')}.JPG`,
      normalizedKey,
      capturedAt: new Date(Date.now() - 86_400_000),
    },
  });
  const anomalous = at.n % 5 < 3;
  const detection = await prisma.detection.create({
    data: {
      imageId: id,
      stage: 'INSPECT',
      detector: 'builtin-inspect',
      modelVersion: MODEL,
      isAnomalous: anomalous,
      confidence: 0.93,
      workflowRunId: at.runId,
      result: {
        route: anomalous ? 'ANOMALY' : 'NORMAL',
        pictures: [{ tile: null, frame: { x: 0, y: 0, width: 1, height: 1 }, heatmapKey }],
      },
    },
  });
  await prisma.workflowRunImage.create({
    data: { runId: at.runId, imageId: id, outcome: anomalous ? 'ANOMALY' : 'NORMAL', inspectModelVersion: MODEL },
  });
  if (!anomalous) return;
  for (let r = 0; r < 2; r++) {
    const box = { boxX: 0.2 + 0.3 * r, boxY: 0.3, boxWidth: 0.15, boxHeight: 0.2 };
    const severity = (['MEDIUM', 'HIGH'] as const)[r];
    const defect = await prisma.defect.create({
      data: {
        deviceId,
        type: r ? 'crack' : 'corrosion',
        severity,
        confidence: 0.9,
        firstSeenAt: new Date(Date.now() - 90 * 86_400_000),
        lastSeenAt: new Date(),
        observationCount: 2,
        firstArea: 0.02,
        lastArea: 0.03,
        ...box,
      },
    });
    await prisma.anomaly.create({
      data: {
        imageId: id,
        inspectionId,
        deviceId,
        detectionId: detection.id,
        regionIndex: r,
        type: defect.type,
        confidence: 0.9,
        ...box,
        source: 'MODEL',
        status: 'CONFIRMED',
        severity,
        defectId: defect.id,
      },
    });
  }
  const task = await prisma.reviewTask.create({
    data: {
      imageId: id,
      inspectionId,
      detectionId: detection.id,
      reason: 'SAMPLED_QA',
      status: 'COMPLETED',
      verdict: 'ANOMALOUS',
      completedAt: new Date(),
    },
  });
  await prisma.reviewAnswer.create({
    data: { taskId: task.id, reviewer: at.apiKeyId, apiKeyId: at.apiKeyId, verdict: 'ANOMALOUS', comment: 'agree' },
  });
}

/** Downloads the report RUNS times; the first includes the server's cold start of sharp and pdfkit. */
async function measure(client: GraphQLClient, surveyId: string, format: 'PDF' | 'HTML') {
  const times: number[] = [];
  let bytes = 0;
  let pages: number | null = null;
  for (let i = 0; i < RUNS; i++) {
    const { createSurveyReport: link } = await client.request<{ createSurveyReport: { url: string } }>(
      `mutation($id: ID!, $f: ReportFormat) { createSurveyReport(surveyId: $id, format: $f) { url } }`,
      { id: toGlobalId('Survey', surveyId), f: format },
    );
    const started = performance.now();
    const res = await fetch(link.url);
    const body = Buffer.from(await res.arrayBuffer());
    times.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`${format}: ${res.status} ${body.toString('utf8').slice(0, 300)}`);
    bytes = body.length;
    if (format === 'PDF') pages = (body.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { format, runsMs: times.map(Math.round), medianMs: Math.round(sorted[Math.floor(sorted.length / 2)]), bytes, pages };
}

async function main() {
  const surveyId = crypto.randomUUID();
  const started = performance.now();
  const db = await benchDatabase({ pglite: flag('pglite'), seed: (d) => seed(d, surveyId) });
  const seedS = (performance.now() - started) / 1000;
  const dataDir = db.env.DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-report-'));
  fs.renameSync(objectsDir, path.join(dataDir, 'objects'));
  const server = await startBenchServer({ ...db.env, DATA_DIR: dataDir }, PORT, SECRET);
  try {
    const client = new GraphQLClient(server.url, SECRET);
    const pdf = await measure(client, surveyId, 'PDF');
    const html = await measure(client, surveyId, 'HTML');
    const slowest = Math.max(...pdf.runsMs, ...html.runsMs);
    const result = {
      database: db.label,
      images: IMAGES,
      devices: DEVICES,
      sourceSide: SIDE,
      seedSeconds: Math.round(seedS),
      pdf,
      html,
      serverPeakRssMb: Math.round(peakRssMb(server.process.pid!)),
      cores: os.cpus().length,
      target: `${IMAGES}-image survey report ≤ ${TARGET_MS / 1000} s`,
      met: slowest <= TARGET_MS,
    };
    console.log(
      `${IMAGES}-image survey over ${DEVICES} devices (${db.label}):\n  PDF  median ${pdf.medianMs} ms (runs ${pdf.runsMs.join(', ')}), ${pdf.pages} pages, ${(pdf.bytes / 1e6).toFixed(2)} MB\n  HTML median ${html.medianMs} ms (runs ${html.runsMs.join(', ')}), ${(html.bytes / 1e6).toFixed(2)} MB\n  target ${result.target}: ${result.met ? 'met' : 'NOT met'}`,
    );
    writeResult(`report-${flag('pglite') ? 'pglite' : 'postgres'}`, result);
  } finally {
    await server.stop();
    await db.cleanup();
    if (!db.env.DATA_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(main);
