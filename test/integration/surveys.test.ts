import { failure, ok, startTestApp, type TestApp } from '../support/app';
import { offset, photo, sha256 } from '../support/images';

let t: TestApp;
const BASE = { latitude: 52.0, longitude: 5.0 };
const dev: Record<string, string> = {};

async function device(externalId: string, at: { latitude: number; longitude: number }) {
  const res = ok(
    await t.gql(
      `mutation($e: String!, $lat: Float!, $lon: Float!) { createDevice(input: { externalId: $e, name: $e, type: "pole", latitude: $lat, longitude: $lon }) { id } }`,
      {
        e: externalId,
        lat: at.latitude,
        lon: at.longitude,
      },
    ),
  );
  dev[externalId] = res.createDevice.id;
  return res.createDevice.id as string;
}

const REQUEST = `mutation($s: ID!, $files: [UploadFileInput!]!) {
  requestSurveyUploads(surveyId: $s, files: $files) { uploadUrl uploadHeaders image { id status } problem { code message } }
}`;
const COMPLETE = `mutation($ids: [ID!]!) {
  completeImageUploads(imageIds: $ids) { id status deviceMatch matchDistanceM inspection { id source device { id } } survey { id } }
}`;

async function createSurvey(name: string, key?: string) {
  return ok(
    await t.gql(
      `mutation($n: String!, $k: String) { createSurvey(input: { name: $n, source: DRONE, idempotencyKey: $k }) { id name source requestedBy } }`,
      { n: name, k: key },
    ),
  ).createSurvey;
}

async function ingest(surveyId: string, bytes: Buffer, filename = 'frame.jpg') {
  const [ticket] = ok(
    await t.gql(REQUEST, { s: surveyId, files: [{ filename, contentType: 'image/jpeg', byteSize: bytes.length, sha256: sha256(bytes) }] }),
  ).requestSurveyUploads;
  expect(ticket.problem).toBeNull();
  if (ticket.uploadUrl)
    expect((await fetch(ticket.uploadUrl, { method: 'PUT', body: bytes, headers: ticket.uploadHeaders })).status).toBe(200);
  return { ticket, image: ok(await t.gql(COMPLETE, { ids: [ticket.image.id] })).completeImageUploads[0] };
}

beforeAll(async () => {
  t = await startTestApp({ GPS_MATCH_RADIUS_M: '50', GPS_MATCH_AMBIGUITY_M: '5' });
  await device('pole-1', BASE);
  await device('pole-2', offset(BASE.latitude, BASE.longitude, 40, 0));
  // Two poles 3 m apart: a drone's GPS cannot tell them apart.
  await device('pair-a', offset(BASE.latitude, BASE.longitude, 1000, 0));
  await device('pair-b', offset(BASE.latitude, BASE.longitude, 1000, 3));
  const retired = await device('retired', offset(BASE.latitude, BASE.longitude, 2000, 0));
  ok(await t.gql(`mutation($id: ID!) { decommissionDevice(id: $id) { id } }`, { id: retired }));
  // Either side of the antimeridian, 22 m apart.
  await device('dateline', { latitude: 0, longitude: 179.9999 });
});
afterAll(() => t.stop());

describe('surveys: GPS → device', () => {
  let surveyId: string;
  const images: Record<string, any> = {};

  beforeAll(async () => {
    surveyId = (await createSurvey('flight 2026-05-01')).id;
    const at = (north: number, east: number) => offset(BASE.latitude, BASE.longitude, north, east);
    const shots: [string, Parameters<typeof photo>[0]][] = [
      ['near-pole-1', { ...at(-10, 0), seed: 1 }],
      ['also-pole-1', { ...at(0, 8), seed: 2 }],
      ['between-poles', { ...at(20, 0), seed: 3 }],
      ['at-the-pair', { ...at(1000, 1), seed: 4 }],
      ['nowhere', { ...at(5000, 0), seed: 5 }],
      ['at-retired', { ...at(2000, 0), seed: 6 }],
      ['no-gps', { seed: 7 }],
      ['dateline', { latitude: 0, longitude: -179.9999, seed: 8 }],
    ];
    for (const [name, spec] of shots) images[name] = (await ingest(surveyId, await photo(spec), `${name}.jpg`)).image;
  });

  it('matches an image to the nearest device in service within the radius, with the distance', () => {
    expect(images['near-pole-1']).toMatchObject({
      status: 'READY',
      deviceMatch: 'MATCHED',
      inspection: { source: 'DRONE', device: { id: dev['pole-1'] } },
      survey: { id: surveyId },
    });
    expect(images['near-pole-1'].matchDistanceM).toBeCloseTo(10, 0);
    expect(images['also-pole-1'].matchDistanceM).toBeCloseTo(8, 0);
    expect(images.dateline).toMatchObject({ deviceMatch: 'MATCHED', inspection: { device: { id: dev.dateline } } });
    expect(images.dateline.matchDistanceM).toBeCloseTo(22.2, 0);
  });

  it("puts a survey's images of one device into one inspection", async () => {
    expect(images['also-pole-1'].inspection.id).toBe(images['near-pole-1'].inspection.id);
    const { device } = ok(
      await t.gql(`query($id: ID!) { device(id: $id) { inspections(first: 10) { totalCount nodes { imageCount notes } } } }`, {
        id: dev['pole-1'],
      }),
    );
    expect(device.inspections.totalCount).toBe(1);
    expect(device.inspections.nodes[0]).toEqual({ imageCount: 2, notes: 'survey "flight 2026-05-01"' });
  });

  it('leaves ambiguous, out-of-range and position-less images unassigned', () => {
    expect(images['between-poles']).toMatchObject({ deviceMatch: 'AMBIGUOUS', inspection: null, matchDistanceM: null });
    expect(images['at-the-pair']).toMatchObject({ deviceMatch: 'AMBIGUOUS', inspection: null });
    expect(images.nowhere).toMatchObject({ deviceMatch: 'OUT_OF_RANGE', inspection: null });
    // A decommissioned device takes no new images.
    expect(images['at-retired']).toMatchObject({ deviceMatch: 'OUT_OF_RANGE', inspection: null });
    expect(images['no-gps']).toMatchObject({ status: 'READY', deviceMatch: 'NO_GPS', inspection: null });
  });

  it('lists the unassigned images, filtered by survey and outcome, and counts them on the survey', async () => {
    const q = `query($s: ID, $m: [DeviceMatch!]) { unassignedImages(surveyId: $s, match: $m, first: 20) { totalCount nodes { id filename deviceMatch } } }`;
    const all = ok(await t.gql(q, { s: surveyId })).unassignedImages;
    expect(all.nodes.map((n: any) => n.filename)).toEqual([
      'between-poles.jpg',
      'at-the-pair.jpg',
      'nowhere.jpg',
      'at-retired.jpg',
      'no-gps.jpg',
    ]);
    expect(all.totalCount).toBe(5);
    const ambiguous = ok(await t.gql(q, { s: surveyId, m: ['AMBIGUOUS'] })).unassignedImages;
    expect(ambiguous.nodes.map((n: any) => n.filename)).toEqual(['between-poles.jpg', 'at-the-pair.jpg']);
    const { survey } = ok(
      await t.gql(`query($id: ID!) { survey(id: $id) { name imageCounts { total pending matched assigned unassigned } } }`, {
        id: surveyId,
      }),
    );
    expect(survey).toEqual({ name: 'flight 2026-05-01', imageCounts: { total: 8, pending: 0, matched: 3, assigned: 0, unassigned: 5 } });
  });

  it('assignImage places an unassigned image and moves a wrongly matched one', async () => {
    const assign = `mutation($i: ID!, $d: ID!) { assignImage(imageId: $i, deviceId: $d) { id deviceMatch matchDistanceM inspection { id device { id } } } }`;
    const placed = ok(await t.gql(assign, { i: images['between-poles'].id, d: dev['pole-2'] })).assignImage;
    expect(placed).toMatchObject({ deviceMatch: 'ASSIGNED', matchDistanceM: null, inspection: { device: { id: dev['pole-2'] } } });
    // Assigning twice is harmless.
    expect(ok(await t.gql(assign, { i: images['between-poles'].id, d: dev['pole-2'] })).assignImage.inspection.id).toBe(
      placed.inspection.id,
    );
    const moved = ok(await t.gql(assign, { i: images['also-pole-1'].id, d: dev['pole-2'] })).assignImage;
    expect(moved).toMatchObject({ deviceMatch: 'ASSIGNED', inspection: { id: placed.inspection.id } });
    const left = ok(await t.gql(`query($s: ID) { unassignedImages(surveyId: $s) { totalCount } }`, { s: surveyId })).unassignedImages;
    expect(left.totalCount).toBe(4);
  });

  it('refuses assignments that make no sense, saying why', async () => {
    const assign = `mutation($i: ID!, $d: ID!) { assignImage(imageId: $i, deviceId: $d) { id } }`;
    const retired = failure(await t.gql(assign, { i: images.nowhere.id, d: dev.retired }));
    expect(retired.extensions?.code).toBe('CONFLICT');
    expect(retired.message).toContain('decommissioned');
    const missing = failure(await t.gql(assign, { i: images.nowhere.id, d: 'RGV2aWNlOjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA' }));
    expect(missing.extensions?.code).toBe('NOT_FOUND');
    // An image uploaded into an inspection already has its device.
    const insp = ok(
      await t.gql(
        `mutation($d: ID!) { createInspection(input: { deviceId: $d, source: MANUAL, capturedAt: "2026-05-01T00:00:00Z" }) { id } }`,
        { d: dev['pole-1'] },
      ),
    );
    const bytes = await photo({ seed: 99 });
    const [ticket] = ok(
      await t.gql(`mutation($i: ID!, $f: [UploadFileInput!]!) { requestImageUploads(inspectionId: $i, files: $f) { image { id } } }`, {
        i: insp.createInspection.id,
        f: [{ filename: 'x.jpg', contentType: 'image/jpeg', byteSize: bytes.length, sha256: sha256(bytes) }],
      }),
    ).requestImageUploads;
    const direct = failure(await t.gql(assign, { i: ticket.image.id, d: dev['pole-2'] }));
    expect(direct.extensions?.code).toBe('CONFLICT');
    expect(direct.message).toContain('inspection');
  });

  it('finds the same survey and the same image again (a resumed ingest)', async () => {
    const first = await createSurvey('resumable', 'ingest:abc');
    const again = await createSurvey('resumable', 'ingest:abc');
    expect(again.id).toBe(first.id);
    const bytes = await photo({ ...offset(BASE.latitude, BASE.longitude, 0, 5), seed: 11 });
    const one = await ingest(first.id, bytes);
    const two = await ingest(first.id, bytes);
    expect(two.ticket.uploadUrl).toBeNull();
    expect(two.image).toEqual(one.image);
    expect(one.image.deviceMatch).toBe('MATCHED');
  });
});
