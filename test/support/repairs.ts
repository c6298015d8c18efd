import crypto from 'node:crypto';
import { ok, type TestApp } from './app';
import { CLAIM, SUBMIT } from './reviews';
import { surfacePhoto, uploadImages, waitForRun } from './workflow';

export interface Region {
  box: { x: number; y: number; width: number; height: number };
  type: string;
}

let seed = 5000;
const DAY = 86_400_000;
export const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

/** A device of a type without a model, so every photograph of it goes to a person. */
export async function newDevice(t: TestApp, criticality = 'MEDIUM', type = `mast-${crypto.randomUUID().slice(0, 6)}`) {
  const externalId = `${type}-${crypto.randomUUID().slice(0, 8)}`;
  const device = ok(
    await t.gql(`mutation($i: DeviceInput!) { createDevice(input: $i) { id type criticality } }`, {
      i: { externalId, name: externalId, type, latitude: 52.1, longitude: 5.1, criticality },
    }),
  ).createDevice;
  return device as { id: string; type: string; criticality: string };
}

/**
 * One inspection of the device photographed at `capturedAt`, run through the real workflow (a
 * COLD_START review task) and answered by `reviewer`: the regions it draws (none = NORMAL).
 */
export async function inspect(t: TestApp, reviewer: string, deviceId: string, capturedAt: Date, regions: Region[]) {
  const inspection = ok(
    await t.gql(`mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id } }`, {
      i: { deviceId, source: 'DRONE', capturedAt: capturedAt.toISOString() },
    }),
  ).createInspection;
  await uploadImages(t, inspection.id, [await surfacePhoto(seed++, false)]);
  const run = await waitForRun(t, inspection.id);
  if (run.workflowRuns.at(-1).status !== 'SUCCEEDED') throw new Error(`run failed: ${JSON.stringify(run)}`);
  const claimed = ok(await t.gql(CLAIM, {}, reviewer)).claimNextReview;
  if (!claimed) throw new Error('no review task to answer');
  ok(await t.gql(SUBMIT, { id: claimed.id, v: regions.length ? 'ANOMALOUS' : 'NORMAL', r: regions }, reviewer));
  return inspection.id as string;
}

export const DEFECT_FIELDS = `id type status severity confirmed confidence firstSeenAt lastSeenAt observationCount firstArea lastArea growth
  reopenCount resolvedBy resolution box { x y width height }`;

/** The device's defects, oldest first. */
export async function defectsOf(t: TestApp, deviceId: string, fields = DEFECT_FIELDS) {
  const page = ok(await t.gql(`query($d: ID!) { defects(filter: { deviceId: $d }, first: 50) { nodes { ${fields} } } }`, { d: deviceId }));
  return [...page.defects.nodes].reverse();
}
