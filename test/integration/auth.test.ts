import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildVigilSchema } from '../../src/app/schema';
import { toGlobalId } from '../../src/common/global-id';
import { Role } from '../../src/auth/roles';
import { failure, ok, startTestApp, type TestApp } from '../support/app';
import { seedFleet } from '../support/seed';
import { surface, toPng } from '../support/textures';

let t: TestApp;
let fx: {
  deviceId: string;
  inspectionId: string;
  rawInspectionId: string;
  anomalyId: string;
  apiKeyId: string;
  surveyId: string;
  surveyImageId: string;
  taskId: string;
  datasetId: string;
  rawDatasetId: string;
  modelVersionId: string;
  importFolder: string;
  defectId: string;
  workOrderId: string;
  finishedInspectionId?: string;
  finishedSurveyId?: string;
  endpointId?: string;
  deliveryId?: string;
};
let seq = 0;

beforeAll(async () => {
  t = await startTestApp();
  const [device] = await seedFleet(t.app.db.prisma, { devices: 1, inspectionsPerDevice: 1, anomaliesPerInspection: 1 });
  const inspection = await t.app.db.prisma.inspection.findFirstOrThrow({ where: { deviceId: device.id } });
  const anomaly = await t.app.db.prisma.anomaly.findFirstOrThrow({ where: { deviceId: device.id } });
  const survey = await t.app.services.surveys.create({ name: 'auth', source: 'DRONE', requestedBy: 'test' });
  const surveyImage = await t.app.db.prisma.image.create({
    data: {
      surveyId: survey.id,
      objectKey: 'uploads/auth-survey',
      sha256: 'a'.repeat(64),
      contentType: 'image/jpeg',
      bytes: 1,
      status: 'READY',
      deviceMatch: 'NO_GPS',
    },
  });
  // A survey image already matched to the device, so startSurvey has an inspection to start.
  await t.app.db.prisma.image.create({
    data: {
      surveyId: survey.id,
      inspectionId: inspection.id,
      objectKey: 'uploads/auth-survey-matched',
      sha256: 'b'.repeat(64),
      contentType: 'image/jpeg',
      bytes: 1,
      status: 'READY',
      deviceMatch: 'MATCHED',
    },
  });
  fx = {
    surveyId: toGlobalId('Survey', survey.id),
    surveyImageId: toGlobalId('Image', surveyImage.id),
    deviceId: toGlobalId('Device', device.id),
    inspectionId: toGlobalId('Inspection', inspection.id),
    anomalyId: toGlobalId('Anomaly', anomaly.id),
    apiKeyId: '',
    rawInspectionId: inspection.id,
    taskId: '',
    defectId: '',
    workOrderId: '',
    ...(await modelFixtures()),
  };
});
afterAll(async () => {
  await t.stop();
  fs.rmSync(fx.importFolder, { recursive: true, force: true });
});

/** A dataset trainModel accepts (its pictures need not exist: only the request is under test), a TRAINED version, a folder to import. */
async function modelFixtures() {
  const prisma = t.app.db.prisma;
  const dataset = await prisma.dataset.create({ data: { name: 'auth-models', deviceType: 'auth-models' } });
  await prisma.datasetEntry.createMany({
    data: (['TRAIN', 'TRAIN', 'TEST'] as const).map((split, i) => ({
      datasetId: dataset.id,
      sourceKey: `datasets/auth/${i}.png`,
      label: 'NORMAL' as const,
      split,
    })),
  });
  const version = await prisma.modelVersion.create({
    data: {
      datasetId: dataset.id,
      deviceType: 'auth-models',
      profile: 'INSPECT',
      status: 'TRAINED',
      trainer: 'builtin',
      version: 'inspect-auth',
    },
  });
  // The default import root, DATA_DIR/imports; importDataset takes the folder relative to it.
  fs.mkdirSync(path.join(t.dataDir, 'imports'), { recursive: true });
  const importFolder = fs.mkdtempSync(path.join(t.dataDir, 'imports', 'auth-'));
  fs.mkdirSync(path.join(importFolder, 'normal'));
  fs.writeFileSync(path.join(importFolder, 'normal', 'a.png'), await toPng(surface(1, 96), 96));
  return {
    datasetId: toGlobalId('Dataset', dataset.id),
    rawDatasetId: dataset.id,
    modelVersionId: toGlobalId('ModelVersion', version.id),
    importFolder,
  };
}

const { ADMIN, OPERATOR, REVIEWER, INTEGRATOR } = Role;
const ALL = [ADMIN, OPERATOR, REVIEWER, INTEGRATOR];
const READ_REPAIRS = [ADMIN, OPERATOR, INTEGRATOR];
const PLAN_REPAIRS = [ADMIN, OPERATOR];
const WEBHOOKS = [ADMIN, INTEGRATOR];
// Loopback, port 9 (nothing listens): a redelivered fixture fails at once and nothing leaves the machine.
const WEBHOOK_URL = 'http://127.0.0.1:9';
const WEBHOOK_OPS = [
  'Query.webhookEndpoint',
  'Query.webhookDeliveries',
  'Mutation.updateWebhookEndpoint',
  'Mutation.rotateWebhookSecret',
  'Mutation.deleteWebhookEndpoint',
  'Mutation.redeliverWebhook',
];

let repairSeq = 0;
/** A device of its own with one anomaly, tracked into an open defect; a work order of it moved to `status`. */
async function repairFixture(status?: 'OPEN' | 'IN_PROGRESS') {
  const [device] = await seedFleet(t.app.db.prisma, {
    devices: 1,
    inspectionsPerDevice: 1,
    anomaliesPerInspection: 1,
    prefix: `auth-repair-${++repairSeq}`,
  });
  await t.app.services.defectTracker.track(device.id);
  const defect = await t.app.db.prisma.defect.findFirstOrThrow({ where: { deviceId: device.id } });
  fx.defectId = Buffer.from(`Defect:${defect.id}`).toString('base64url');
  if (!status) return;
  const caller = { apiKeyId: 'auth-test', name: 'auth test', role: ADMIN };
  const order = await t.app.services.workOrders.create(caller, { defectIds: [defect.id] });
  if (status === 'IN_PROGRESS') {
    await t.app.services.workOrders.transition(caller, order.id, 'SCHEDULED');
    await t.app.services.workOrders.transition(caller, order.id, 'IN_PROGRESS');
  }
  fx.workOrderId = Buffer.from(`WorkOrder:${order.id}`).toString('base64url');
}
const REPAIR_FIXTURES: Record<string, 'OPEN' | 'IN_PROGRESS' | undefined> = {
  'Query.defect': undefined,
  'Mutation.resolveDefect': undefined,
  'Mutation.createWorkOrder': undefined,
  'Query.workOrder': 'OPEN',
  'Mutation.updateWorkOrder': 'OPEN',
  'Mutation.moveWorkOrder': 'OPEN',
  'Mutation.completeWorkOrder': 'IN_PROGRESS',
};

/** Every operation with a valid call and the roles that may make it. */
const OPERATIONS: Record<string, { roles: Role[]; call: () => [string, Record<string, unknown>?] }> = {
  'Query.viewer': { roles: ALL, call: () => ['{ viewer { role } }'] },
  // Per-type rules for node() are tested below; an id that names nothing is null for every role.
  'Query.node': { roles: ALL, call: () => ['query($id: ID!) { node(id: $id) { id } }', { id: 'bm90aGluZw' }] },
  'Query.devices': { roles: [ADMIN, OPERATOR, INTEGRATOR], call: () => ['{ devices(first: 1) { totalCount } }'] },
  'Query.device': {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    call: () => ['query($id: ID!) { device(id: $id) { name } }', { id: fx.deviceId }],
  },
  'Query.inspections': { roles: [ADMIN, OPERATOR, INTEGRATOR], call: () => ['{ inspections(first: 1) { totalCount } }'] },
  'Query.inspection': {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    call: () => ['query($id: ID!) { inspection(id: $id) { status } }', { id: fx.inspectionId }],
  },
  'Query.anomalies': { roles: [ADMIN, OPERATOR, INTEGRATOR], call: () => ['{ anomalies(first: 1) { totalCount } }'] },
  'Query.anomaly': {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    call: () => ['query($id: ID!) { anomaly(id: $id) { status } }', { id: fx.anomalyId }],
  },
  'Query.apiKeys': { roles: [ADMIN], call: () => ['{ apiKeys(first: 5) { totalCount } }'] },
  'Mutation.createDevice': {
    roles: [ADMIN, OPERATOR],
    call: () => [
      'mutation($e: String!) { createDevice(input: { externalId: $e, name: "n", type: "pole" }) { id } }',
      { e: `auth-${++seq}` },
    ],
  },
  'Mutation.updateDevice': {
    roles: [ADMIN, OPERATOR],
    call: () => ['mutation($id: ID!) { updateDevice(id: $id, input: { name: "renamed" }) { id } }', { id: fx.deviceId }],
  },
  'Mutation.importDevices': {
    roles: [ADMIN, OPERATOR],
    call: () => ['mutation { importDevices(devices: [{ externalId: "auth-import", name: "n", type: "pole" }]) { failed } }'],
  },
  'Mutation.decommissionDevice': {
    roles: [ADMIN, OPERATOR],
    call: () => [
      'mutation($e: String!) { createDevice(input: { externalId: $e, name: "n", type: "pole" }) { id } }',
      { e: `auth-${++seq}` },
    ],
  },
  'Mutation.createInspection': {
    roles: [ADMIN, OPERATOR],
    call: () => [
      'mutation($d: ID!) { createInspection(input: { deviceId: $d, source: DRONE, capturedAt: "2026-02-01T00:00:00Z" }) { id } }',
      { d: fx.deviceId },
    ],
  },
  'Mutation.requestImageUploads': {
    roles: [ADMIN, OPERATOR],
    call: () => ['mutation($i: ID!) { requestImageUploads(inspectionId: $i, files: []) { filename } }', { i: fx.inspectionId }],
  },
  'Query.surveys': { roles: [ADMIN, OPERATOR, INTEGRATOR], call: () => ['{ surveys(first: 1) { totalCount } }'] },
  'Query.survey': {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    call: () => ['query($id: ID!) { survey(id: $id) { imageCounts { total } } }', { id: fx.surveyId }],
  },
  'Query.unassignedImages': { roles: [ADMIN, OPERATOR, INTEGRATOR], call: () => ['{ unassignedImages(first: 1) { totalCount } }'] },
  // Starting twice returns the run already under way, so every allowed role gets an answer.
  'Mutation.startInspection': {
    roles: [ADMIN, OPERATOR],
    call: () => ['mutation($id: ID!) { startInspection(inspectionId: $id) { id } }', { id: fx.inspectionId }],
  },
  'Mutation.startSurvey': {
    roles: [ADMIN, OPERATOR],
    call: () => ['mutation($id: ID!) { startSurvey(surveyId: $id) { id } }', { id: fx.surveyId }],
  },
  'Query.costReport': {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    call: () => ['{ costReport(from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z") { totalUsd savedUsd byDetector { detector } } }'],
  },
  'Mutation.createSurvey': {
    roles: [ADMIN, OPERATOR],
    call: () => ['mutation { createSurvey(input: { name: "flight", source: DRONE, idempotencyKey: "auth" }) { id } }'],
  },
  'Mutation.requestSurveyUploads': {
    roles: [ADMIN, OPERATOR],
    call: () => ['mutation($s: ID!) { requestSurveyUploads(surveyId: $s, files: []) { filename } }', { s: fx.surveyId }],
  },
  'Mutation.assignImage': {
    roles: [ADMIN, OPERATOR],
    call: () => [
      'mutation($i: ID!, $d: ID!) { assignImage(imageId: $i, deviceId: $d) { deviceMatch } }',
      { i: fx.surveyImageId, d: fx.deviceId },
    ],
  },
  'Mutation.completeImageUploads': { roles: [ADMIN, OPERATOR], call: () => ['mutation { completeImageUploads(imageIds: []) { id } }'] },
  'Mutation.createApiKey': { roles: [ADMIN], call: () => ['mutation { createApiKey(name: "k", role: INTEGRATOR) { secret } }'] },
  'Mutation.revokeApiKey': { roles: [ADMIN], call: () => ['mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: fx.apiKeyId }] },
  'Query.reviewQueue': { roles: [ADMIN, OPERATOR, INTEGRATOR], call: () => ['{ reviewQueue(first: 1) { totalCount } }'] },
  // A task id that names nothing is null for every role; a REVIEWER's limits are tested in reviews.test.ts.
  'Query.reviewTask': {
    roles: ALL,
    call: () => [
      'query($id: ID!) { reviewTask(id: $id) { id } }',
      { id: toGlobalId('ReviewTask', '01a21000-0000-7000-8000-000000000000') },
    ],
  },
  'Query.reviewStats': { roles: ALL, call: () => ['{ reviewStats { pending mineToday } }'] },
  'Query.reviewSettings': { roles: ALL, call: () => ['{ reviewSettings { anomalyTypes } }'] },
  'Query.datasets': { roles: [ADMIN, OPERATOR, INTEGRATOR], call: () => ['{ datasets { id } }'] },
  'Query.dataset': {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    call: () => ['query($id: ID!) { dataset(id: $id) { id stats { labelsWaiting } } }', { id: fx.datasetId }],
  },
  'Mutation.importDataset': {
    roles: [ADMIN],
    call: () => [
      'mutation($i: ImportDatasetInput!) { importDataset(input: $i) { imported unchanged } }',
      { i: { deviceType: 'auth-import', folder: path.basename(fx.importFolder) } },
    ],
  },
  'Query.modelVersions': { roles: [ADMIN, OPERATOR, INTEGRATOR], call: () => ['{ modelVersions(first: 1) { totalCount } }'] },
  'Query.modelVersion': {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    call: () => ['query($id: ID!) { modelVersion(id: $id) { id status } }', { id: fx.modelVersionId }],
  },
  'Query.activeModels': { roles: [ADMIN, OPERATOR, INTEGRATOR], call: () => ['{ activeModels { deviceType } }'] },
  'Query.modelHealth': {
    roles: [ADMIN, OPERATOR, INTEGRATOR],
    call: () => ['{ modelHealth(deviceType: "auth-models") { qa { samples } labelsWaiting } }'],
  },
  'Mutation.trainModel': {
    roles: [ADMIN],
    call: () => [
      'mutation($i: TrainModelInput!) { trainModel(input: $i) { status } }',
      { i: { datasetId: fx.datasetId, profile: 'SCREEN' } },
    ],
  },
  'Mutation.deployModel': {
    roles: [ADMIN],
    call: () => ['mutation($i: DeployModelInput!) { deployModel(input: $i) { action } }', { i: { id: fx.modelVersionId } }],
  },
  // Acts on a (device type, profile) with two deployments, made fresh (below).
  'Mutation.rollbackModel': {
    roles: [ADMIN],
    call: () => [
      'mutation($i: RollbackModelInput!) { rollbackModel(input: $i) { action } }',
      { i: { deviceType: `auth-rollback-${seq}`, profile: 'INSPECT' } },
    ],
  },
  'Mutation.claimNextReview': { roles: [ADMIN, REVIEWER], call: () => ['mutation { claimNextReview { id } }'] },
  // Each repair operation that needs a defect or a work order gets a fresh one (repairFixture, below).
  'Query.defects': { roles: READ_REPAIRS, call: () => ['{ defects(first: 1) { totalCount } }'] },
  'Query.defect': { roles: READ_REPAIRS, call: () => ['query($id: ID!) { defect(id: $id) { status } }', { id: fx.defectId }] },
  'Query.repairQueue': { roles: READ_REPAIRS, call: () => ['{ repairQueue(first: 1) { nodes { score } } }'] },
  'Query.workOrders': { roles: READ_REPAIRS, call: () => ['{ workOrders(first: 1) { totalCount } }'] },
  'Query.workOrder': { roles: READ_REPAIRS, call: () => ['query($id: ID!) { workOrder(id: $id) { status } }', { id: fx.workOrderId }] },
  'Query.severityRules': { roles: READ_REPAIRS, call: () => ['{ severityRules(deviceType: "pole") { source } }'] },
  'Query.severityRuleTypes': { roles: READ_REPAIRS, call: () => ['{ severityRuleTypes }'] },
  'Query.autoWorkOrderRules': { roles: READ_REPAIRS, call: () => ['{ autoWorkOrderRules { deviceType } }'] },
  'Mutation.resolveDefect': {
    roles: PLAN_REPAIRS,
    call: () => ['mutation($id: ID!) { resolveDefect(id: $id, reason: "auth test") { status } }', { id: fx.defectId }],
  },
  'Mutation.setAnomalySeverity': {
    roles: [ADMIN, OPERATOR, REVIEWER],
    call: () => ['mutation($id: ID!) { setAnomalySeverity(id: $id, severity: HIGH, reason: "auth test") { id } }', { id: fx.anomalyId }],
  },
  'Mutation.createWorkOrder': {
    roles: PLAN_REPAIRS,
    call: () => ['mutation($i: CreateWorkOrderInput!) { createWorkOrder(input: $i) { status } }', { i: { defectIds: [fx.defectId] } }],
  },
  'Mutation.updateWorkOrder': {
    roles: PLAN_REPAIRS,
    call: () => ['mutation($id: ID!) { updateWorkOrder(id: $id, input: { notes: "auth" }) { notes } }', { id: fx.workOrderId }],
  },
  'Mutation.moveWorkOrder': {
    roles: PLAN_REPAIRS,
    call: () => ['mutation($id: ID!) { moveWorkOrder(id: $id, status: SCHEDULED) { status } }', { id: fx.workOrderId }],
  },
  'Mutation.completeWorkOrder': {
    roles: PLAN_REPAIRS,
    call: () => [
      'mutation($id: ID!, $f: [FieldFindingInput!]!) { completeWorkOrder(id: $id, findings: $f) { status } }',
      { id: fx.workOrderId, f: [{ defectId: fx.defectId, finding: 'FIXED' }] },
    ],
  },
  'Mutation.setSeverityRules': {
    roles: PLAN_REPAIRS,
    call: () => ['mutation { setSeverityRules(input: { deviceType: "auth-rules", rules: [{ severity: LOW }] }) { source } }'],
  },
  'Mutation.setAutoWorkOrderRule': {
    roles: PLAN_REPAIRS,
    call: () => ['mutation { setAutoWorkOrderRule(input: { deviceType: "auth-rules", minSeverity: HIGH }) { enabled } }'],
  },
  'Mutation.createExport': {
    roles: READ_REPAIRS,
    call: () => ['mutation { createExport(input: { kind: DEVICES_GEOJSON }) { url } }'],
  },
  // Both act on a finished inspection or survey made for the call (below).
  'Mutation.createInspectionReport': {
    roles: READ_REPAIRS,
    call: () => ['mutation($id: ID!) { createInspectionReport(inspectionId: $id) { url } }', { id: fx.finishedInspectionId }],
  },
  'Mutation.createSurveyReport': {
    roles: READ_REPAIRS,
    call: () => ['mutation($id: ID!) { createSurveyReport(surveyId: $id) { url } }', { id: fx.finishedSurveyId }],
  },
  'Mutation.exportDataLake': { roles: [ADMIN], call: () => ['mutation { exportDataLake(tables: [INSPECTIONS], maxRows: 10) { upTo } }'] },
  'Query.webhookHosts': { roles: [ADMIN], call: () => ['{ webhookHosts { host } }'] },
  'Mutation.allowWebhookHost': { roles: [ADMIN], call: () => ['mutation { allowWebhookHost(host: "auth-allowed.example") { host } }'] },
  'Mutation.removeWebhookHost': { roles: [ADMIN], call: () => ['mutation { removeWebhookHost(host: "auth-removed.example") }'] },
  'Query.webhookEndpoints': { roles: WEBHOOKS, call: () => ['{ webhookEndpoints(first: 5) { nodes { id } } }'] },
  'Mutation.createWebhookEndpoint': {
    roles: WEBHOOKS,
    call: () => [
      'mutation($u: String!) { createWebhookEndpoint(input: { url: $u, events: [DEFECT_OPENED] }) { secret } }',
      { u: `${WEBHOOK_URL}/created` },
    ],
  },
  // These act on an endpoint of the caller's own key (or of the ADMIN's, for roles that cannot have one), made for the call.
  'Query.webhookEndpoint': {
    roles: WEBHOOKS,
    call: () => ['query($id: ID!) { webhookEndpoint(id: $id) { id } }', { id: fx.endpointId }],
  },
  'Query.webhookDeliveries': {
    roles: WEBHOOKS,
    call: () => ['query($id: ID!) { webhookDeliveries(endpointId: $id, first: 5) { totalCount } }', { id: fx.endpointId }],
  },
  'Mutation.updateWebhookEndpoint': {
    roles: WEBHOOKS,
    call: () => ['mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { description: "auth" }) { id } }', { id: fx.endpointId }],
  },
  'Mutation.rotateWebhookSecret': {
    roles: WEBHOOKS,
    call: () => ['mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }', { id: fx.endpointId }],
  },
  'Mutation.deleteWebhookEndpoint': {
    roles: WEBHOOKS,
    call: () => ['mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id: fx.endpointId }],
  },
  'Mutation.redeliverWebhook': {
    roles: WEBHOOKS,
    call: () => ['mutation($id: ID!) { redeliverWebhook(id: $id) { status } }', { id: fx.deliveryId }],
  },
  // Both act on a task the caller has just claimed (below).
  'Mutation.submitReview': {
    roles: [ADMIN, REVIEWER],
    call: () => ['mutation($id: ID!) { submitReview(taskId: $id, verdict: NORMAL) { status } }', { id: fx.taskId }],
  },
  'Mutation.releaseReview': {
    roles: [ADMIN, REVIEWER],
    call: () => ['mutation($id: ID!) { releaseReview(taskId: $id) { status } }', { id: fx.taskId }],
  },
};
// decommissionDevice needs a fresh device each time; its call creates one first (below).
const DECOMMISSION = 'mutation($id: ID!) { decommissionDevice(id: $id) { status } }';

/** A COMPLETED inspection of the fixture device, and a survey whose one image found it. */
async function finishedFixtures() {
  const prisma = t.app.db.prisma;
  const { deviceId } = await prisma.inspection.findUniqueOrThrow({ where: { id: fx.rawInspectionId } });
  const inspection = await prisma.inspection.create({
    data: { deviceId, source: 'DRONE', capturedAt: new Date(), requestedBy: 'auth', status: 'COMPLETED' },
  });
  const survey = await t.app.services.surveys.create({ name: `auth finished ${++seq}`, source: 'DRONE', requestedBy: 'test' });
  await prisma.image.create({
    data: {
      surveyId: survey.id,
      inspectionId: inspection.id,
      objectKey: `uploads/auth-finished-${seq}`,
      sha256: String(seq).padStart(64, 'f'),
      contentType: 'image/jpeg',
      bytes: 1,
      status: 'READY',
      deviceMatch: 'MATCHED',
    },
  });
  fx.finishedInspectionId = toGlobalId('Inspection', inspection.id);
  fx.finishedSurveyId = toGlobalId('Survey', survey.id);
}

/** An allowed host; for the per-endpoint operations, an endpoint of the caller (or of the ADMIN) with one FAILED delivery. */
async function webhookFixture(op: string, secret: string | null) {
  ok(await t.gql('mutation { allowWebhookHost(host: "127.0.0.1", allowPrivateNetwork: true) { host } }'));
  if (!WEBHOOK_OPS.includes(op)) return;
  const create = 'mutation($u: String!) { createWebhookEndpoint(input: { url: $u, events: [DEFECT_OPENED] }) { endpoint { id } } }';
  const variables = { u: `${WEBHOOK_URL}/${++seq}` };
  const own = secret ? await t.gql(create, variables, secret) : null;
  const made = own && !own.errors ? own : await t.gql(create, variables);
  fx.endpointId = ok(made).createWebhookEndpoint.endpoint.id as string;
  const endpointId = Buffer.from(fx.endpointId, 'base64url').toString('utf8').split(':')[1];
  const event = await t.app.db.prisma.webhookEvent.create({
    data: { id: crypto.randomUUID(), type: 'DEFECT_OPENED', payload: { auth: true } },
  });
  const delivery = await t.app.db.prisma.webhookDelivery.create({
    data: { id: crypto.randomUUID(), endpointId, eventId: event.id, status: 'FAILED', attempts: 12 },
  });
  fx.deliveryId = Buffer.from(`WebhookDelivery:${delivery.id}`).toString('base64url');
}

async function call(op: string, secret: string | null) {
  if (op === 'Mutation.rollbackModel') {
    const deviceType = `auth-rollback-${++seq}`;
    for (const n of [1, 2]) {
      const v = await t.app.db.prisma.modelVersion.create({
        data: {
          datasetId: fx.rawDatasetId,
          deviceType,
          profile: 'INSPECT',
          status: 'TRAINED',
          trainer: 'builtin',
          version: `inspect-r${n}`,
        },
      });
      await t.app.services.modelDeployments.deploy(v.id, { override: true, reason: 'auth test fixture' });
    }
  }
  if (op === 'Mutation.revokeApiKey') {
    const { apiKey } = await t.app.services.apiKeys.create('to revoke', INTEGRATOR);
    fx.apiKeyId = toGlobalId('ApiKey', apiKey.id);
  }
  if (op === 'Mutation.submitReview' || op === 'Mutation.releaseReview') {
    // A task of its own image at the head of the queue, claimed by the caller when its role may.
    const image = await t.app.db.prisma.image.create({
      data: {
        inspectionId: fx.rawInspectionId,
        objectKey: `uploads/auth-${++seq}`,
        sha256: String(seq).padStart(64, 'c'),
        contentType: 'image/jpeg',
        bytes: 1,
        status: 'READY',
        deviceMatch: 'ASSIGNED',
      },
    });
    const task = await t.app.db.prisma.reviewTask.create({
      data: { imageId: image.id, inspectionId: fx.rawInspectionId, reason: 'COLD_START', priority: 100 + seq },
    });
    fx.taskId = toGlobalId('ReviewTask', task.id);
    if (secret) await t.gql('mutation { claimNextReview { id } }', {}, secret);
  }
  if (op in REPAIR_FIXTURES) await repairFixture(REPAIR_FIXTURES[op]);
  if (op === 'Mutation.createInspectionReport' || op === 'Mutation.createSurveyReport') await finishedFixtures();
  if (op === 'Mutation.createWebhookEndpoint' || WEBHOOK_OPS.includes(op)) await webhookFixture(op, secret);
  if (op === 'Mutation.decommissionDevice') {
    const [q, v] = OPERATIONS[op].call();
    const id = ok(await t.gql(q, v)).createDevice.id;
    return t.gql(DECOMMISSION, { id }, secret);
  }
  const [query, variables] = OPERATIONS[op].call();
  return t.gql(query, variables, secret);
}

describe('authorization', () => {
  it('covers every query and mutation in the schema', () => {
    const schema = buildVigilSchema();
    const fields = [
      ...Object.keys(schema.getQueryType()!.getFields()).map((f) => `Query.${f}`),
      ...Object.keys(schema.getMutationType()!.getFields()).map((f) => `Mutation.${f}`),
    ];
    expect(Object.keys(OPERATIONS).sort()).toEqual(fields.sort());
  });

  describe.each(Object.keys(OPERATIONS))('%s', (op) => {
    it('is UNAUTHENTICATED without a key, with an unknown key and with a malformed header', async () => {
      expect(failure(await call(op, null)).extensions?.code).toBe('UNAUTHENTICATED');
      expect(failure(await call(op, 'vgl_not-a-real-key')).extensions?.code).toBe('UNAUTHENTICATED');
      const res = await fetch(`${t.app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Basic YWRtaW46YWRtaW4=' },
        body: JSON.stringify({ query: OPERATIONS[op].call()[0], variables: OPERATIONS[op].call()[1] }),
      });
      expect(failure((await res.json()) as never).extensions?.code).toBe('UNAUTHENTICATED');
    });

    it.each(ALL)('as %s: allowed roles succeed, the others are FORBIDDEN', async (role) => {
      const res = await call(op, await t.keyFor(role));
      if (OPERATIONS[op].roles.includes(role)) {
        expect(res.errors).toBeUndefined();
      } else {
        expect(failure(res).extensions?.code).toBe('FORBIDDEN');
        expect(failure(res).message).toContain(role);
      }
    });
  });

  it('refuses a revoked key at once', async () => {
    const { apiKey, secret } = await t.app.services.apiKeys.create('short-lived', OPERATOR);
    ok(await t.gql('{ viewer { role } }', {}, secret));
    ok(await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: toGlobalId('ApiKey', apiKey.id) }));
    const err = failure(await t.gql('{ viewer { role } }', {}, secret));
    expect(err).toMatchObject({ message: 'unknown or revoked API key', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('shows a new key its secret once and stores only a hash', async () => {
    const res = ok(
      await t.gql('mutation { createApiKey(name: "integration partner", role: INTEGRATOR) { secret apiKey { id name role prefix } } }'),
    );
    const { secret, apiKey } = res.createApiKey;
    expect(secret).toMatch(/^vgl_[A-Za-z0-9_-]{40}$/);
    expect(secret.startsWith(apiKey.prefix)).toBe(true);
    const rows = await t.app.db.prisma.apiKey.findMany();
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(ok(await t.gql('{ viewer { name role } }', {}, secret)).viewer).toEqual({ name: 'integration partner', role: 'INTEGRATOR' });
  });

  it('will not revoke the last active ADMIN key', async () => {
    const admins = await t.app.db.prisma.apiKey.findMany({ where: { role: ADMIN, revokedAt: null } });
    // Revoke every ADMIN key but the bootstrap one, then try that one.
    const bootstrap = admins.find((a) => a.name.includes('VIGIL_ADMIN_API_KEY'))!;
    for (const a of admins.filter((x) => x.id !== bootstrap.id)) await t.app.services.apiKeys.revoke(a.id);
    const err = failure(await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: toGlobalId('ApiKey', bootstrap.id) }));
    expect(err.extensions?.code).toBe('CONFLICT');
    expect(await t.app.db.prisma.apiKey.count({ where: { id: bootstrap.id, revokedAt: null } })).toBe(1);
  });

  it('leaves an ADMIN when two ADMIN keys revoke each other at the same moment', async () => {
    // Keys are cached as in production, so both requests are past authentication when they revoke.
    const own = await startTestApp({ API_KEY_CACHE_MS: '60000' });
    try {
      const REVOKE = 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }';
      const gid = (id: string) => toGlobalId('ApiKey', id);
      const active = () => own.app.db.prisma.apiKey.findMany({ where: { role: ADMIN, revokedAt: null } });
      let survivor = await own.app.services.apiKeys.create('admin 0', ADMIN);
      const [bootstrap] = await active().then((rows) => rows.filter((r) => r.id !== survivor.apiKey.id));
      ok(await own.gql(REVOKE, { id: gid(bootstrap.id) }, survivor.secret));
      for (let round = 1; round <= 5; round++) {
        const other = await own.app.services.apiKeys.create(`admin ${round}`, ADMIN);
        const pair = [survivor, other];
        // Concurrently, so that each of the racing requests finds an open connection.
        await Promise.all(pair.map(async (key) => ok(await own.gql('{ viewer { role } }', {}, key.secret))));
        const results = await Promise.all([
          own.gql(REVOKE, { id: gid(other.apiKey.id) }, survivor.secret),
          own.gql(REVOKE, { id: gid(survivor.apiKey.id) }, other.secret),
        ]);
        const won = results.map((r) => !r.errors);
        expect(won.filter(Boolean)).toHaveLength(1);
        // The loser is refused as the last ADMIN, or (when the winner was quicker still) as a revoked key.
        expect(['CONFLICT', 'UNAUTHENTICATED']).toContain(failure(results[won.indexOf(false)]).extensions?.code);
        survivor = pair[won.indexOf(true)];
        expect((await active()).map((k) => k.id)).toEqual([survivor.apiKey.id]);
      }
      // The same race without HTTP in between (on PGlite, the only way the two overlap).
      const other = await own.app.services.apiKeys.create('admin 6', ADMIN);
      const settled = await Promise.allSettled([survivor, other].map((k) => own.app.services.apiKeys.revoke(k.apiKey.id)));
      expect(settled.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(settled.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'CONFLICT' } });
      if (settled[0].status === 'fulfilled') survivor = other;
      expect((await active()).map((k) => k.id)).toEqual([survivor.apiKey.id]);

      const last = failure(await own.gql(REVOKE, { id: gid(survivor.apiKey.id) }, survivor.secret));
      expect(last.extensions?.code).toBe('CONFLICT');
      expect(last.message).toMatch(/last active ADMIN key/);
      expect(await active()).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });

  it('node() does not show a REVIEWER the fleet, nor anyone but an ADMIN the API keys', async () => {
    const reviewer = await t.keyFor(REVIEWER);
    expect(failure(await t.gql('query($id: ID!) { node(id: $id) { id } }', { id: fx.deviceId }, reviewer)).extensions?.code).toBe(
      'FORBIDDEN',
    );
    const keyId = toGlobalId('ApiKey', (await t.app.db.prisma.apiKey.findFirstOrThrow()).id);
    const operator = await t.keyFor(OPERATOR);
    expect(failure(await t.gql('query($id: ID!) { node(id: $id) { id } }', { id: keyId }, operator)).extensions?.code).toBe('FORBIDDEN');
    expect(ok(await t.gql('query($id: ID!) { node(id: $id) { id } }', { id: keyId })).node.id).toBe(keyId);
  });
});
