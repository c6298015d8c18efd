import fs from 'node:fs';
import path from 'node:path';
import { type Page } from 'playwright-core';
import { ok, type TestApp } from './app';
import { untilTrained } from './models';
import { offset, photo, sha256 } from './images';
import { daysAgo, inspect, newDevice, type Region } from './repairs';
import { writeDataset } from './textures';
import { deviceWithInspection, surfacePhoto, uploadImages, waitForRun } from './workflow';

// Data for the console's browser test, made through the API: a small fleet, devices with real defects (a real workflow run
// and a review each), and a trained, deployed model with figures on its test split.

export const CRACK: Region = { box: { x: 0.2, y: 0.25, width: 0.35, height: 0.3 }, type: 'crack' };

/** `count` devices around Utrecht (52.09, 5.12) through importDevices; returns their external ids. */
export async function importFleet(t: TestApp, count: number, type = 'pole') {
  const devices = Array.from({ length: count }, (_, i) => ({
    externalId: `fleet-${String(i).padStart(3, '0')}`,
    name: `Pole ${String(i).padStart(3, '0')}`,
    type,
    latitude: 52.0 + (i % 8) * 0.04,
    longitude: 5.0 + Math.floor(i / 8) * 0.05,
    criticality: i % 5 === 0 ? 'HIGH' : 'MEDIUM',
  }));
  const result = ok(
    await t.gql('mutation($d: [DeviceInput!]!) { importDevices(devices: $d) { created failed } }', { d: devices }),
  ).importDevices;
  if (result.created !== count) throw new Error(`importDevices: ${JSON.stringify(result)}`);
}

/** A device (its own type, no model) with one open crack seen `days` ago: a real run, a COLD_START task, a reviewer's box. */
export async function crackedDevice(t: TestApp, reviewer: string, days: number, criticality = 'HIGH') {
  const device = await newDevice(t, criticality);
  const inspectionId = await inspect(t, reviewer, device.id, daysAgo(days), [CRACK]);
  return { ...device, inspectionId };
}

/** Trains SCREEN and INSPECT models for `type` from generated pictures (importDataset + trainModel) and deploys both. */
export async function deployedModel(t: TestApp, importRoot: string, type: string) {
  await writeDataset(path.join(importRoot, 'train'), { normal: 10, anomalous: 4, seed: 21 });
  await writeDataset(path.join(importRoot, 'test'), { normal: 5, anomalous: 3, seed: 900 });
  const IMPORT = 'mutation($i: ImportDatasetInput!) { importDataset(input: $i) { dataset { id } } }';
  const { dataset } = ok(await t.gql(IMPORT, { i: { deviceType: type, folder: 'train', split: 'TRAIN' } })).importDataset;
  ok(await t.gql(IMPORT, { i: { deviceType: type, folder: 'test', split: 'TEST' } }));
  const versions: { id: string; version: string; profile: string }[] = [];
  for (const profile of ['SCREEN', 'INSPECT']) {
    const TRAIN = 'mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }';
    const started = ok(await t.gql(TRAIN, { i: { datasetId: dataset.id, profile } })).trainModel;
    const version = await untilTrained(
      t,
      'query($id: ID!) { modelVersion(id: $id) { id status error cause version profile } }',
      started.id,
    );
    if (version.status !== 'TRAINED') throw new Error(`training ${profile} failed: ${version.error} ${version.cause}`);
    ok(await t.gql('mutation($i: DeployModelInput!) { deployModel(input: $i) { id } }', { i: { id: version.id } }));
    versions.push(version);
  }
  return versions;
}

/** A device of `type` photographed with some defective pictures, judged by its models (detector calls, costs, anomalies). */
export async function judgedInspection(t: TestApp, type: string) {
  const { deviceId, inspectionId } = await deviceWithInspection(t, type);
  await uploadImages(t, inspectionId, await Promise.all([false, true, false, true].map((d, i) => surfacePhoto(4100 + i, d))));
  const run = await waitForRun(t, inspectionId, 120_000);
  if (run.workflowRuns.at(-1).status !== 'SUCCEEDED') throw new Error(`run failed: ${JSON.stringify(run)}`);
  return { deviceId, inspectionId };
}

/**
 * A drone survey over Pole 000 of importFleet (52.0, 5.0), run through the API: a picture 10 m from the pole (matched by GPS,
 * judged by startSurvey's run), one 300 m north of it (out of range: unassigned, Pole 000 the nearest candidate) and one with
 * no position (unassigned, no candidate).
 */
export async function flownSurvey(t: TestApp, name: string) {
  const pole = ok(await t.gql('{ devices(first: 1, filter: { search: "Pole 000" }) { nodes { id latitude longitude } } }')).devices
    .nodes[0];
  const survey = ok(
    await t.gql('mutation($n: String!) { createSurvey(input: { name: $n, source: DRONE }) { id } }', { n: name }),
  ).createSurvey;
  const shots: [string, Buffer][] = [
    ['at-pole-000.jpg', await photo({ ...offset(pole.latitude, pole.longitude, -10, 0), seed: 31 })],
    ['off-the-line.jpg', await photo({ ...offset(pole.latitude, pole.longitude, 300, 0), seed: 32 })],
    ['no-gps.jpg', await photo({ seed: 33 })],
  ];
  const tickets = ok(
    await t.gql(
      'mutation($s: ID!, $f: [UploadFileInput!]!) { requestSurveyUploads(surveyId: $s, files: $f) { uploadUrl uploadHeaders image { id } problem { message } } }',
      { s: survey.id, f: shots.map(([filename, b]) => ({ filename, contentType: 'image/jpeg', byteSize: b.length, sha256: sha256(b) })) },
    ),
  ).requestSurveyUploads as { uploadUrl: string; uploadHeaders: Record<string, string>; image: { id: string }; problem: unknown }[];
  for (const [i, ticket] of tickets.entries()) {
    if (ticket.problem) throw new Error(`survey upload ${i} refused: ${JSON.stringify(ticket.problem)}`);
    const res = await fetch(ticket.uploadUrl, { method: 'PUT', body: shots[i][1], headers: ticket.uploadHeaders });
    if (!res.ok) throw new Error(`PUT ${i}: ${res.status}`);
  }
  const images = ok(
    await t.gql('mutation($ids: [ID!]!) { completeImageUploads(imageIds: $ids) { id deviceMatch inspection { id } } }', {
      ids: tickets.map((x) => x.image.id),
    }),
  ).completeImageUploads;
  const [matched, offsite, noGps] = images;
  if (matched.deviceMatch !== 'MATCHED' || offsite.deviceMatch !== 'OUT_OF_RANGE' || noGps.deviceMatch !== 'NO_GPS')
    throw new Error(`survey images did not match as planned: ${JSON.stringify(images)}`);
  ok(await t.gql('mutation($s: ID!) { startSurvey(surveyId: $s) { id } }', { s: survey.id }));
  const run = await waitForRun(t, matched.inspection.id, 120_000);
  if (run.workflowRuns.at(-1).status !== 'SUCCEEDED') throw new Error(`survey run failed: ${JSON.stringify(run)}`);
  return { id: survey.id as string, name, poleId: pole.id as string, offsite: offsite.id as string, noGps: noGps.id as string };
}

/** Runs axe-core in the page (page.evaluate is not subject to the page's CSP) and returns serious and critical violations. */
export async function axeViolations(page: Page): Promise<string[]> {
  const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const found: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] = await page.evaluate(async () => {
    const result = await (globalThis as any).axe.run((globalThis as any).document, { runOnly: ['wcag2a', 'wcag2aa', 'best-practice'] });
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n: any) => ({ target: n.target })),
    }));
  });
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} at ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(' '))
          .join(', ')}`,
    );
}
