import crypto from 'node:crypto';
import { type Role } from '../../src/auth/roles';
import { ok, type TestApp } from './app';
import { deviceWithInspection, surfacePhoto, uploadImages, waitForRun } from './workflow';

/**
 * Review tasks made the way production makes them: images of a device type without a model go
 * through the detection workflow and each becomes a COLD_START task. Returns the tasks' global ids.
 */
export async function coldStartTasks(t: TestApp, count: number, type = `pole-${crypto.randomUUID().slice(0, 6)}`) {
  const { deviceId, inspectionId } = await deviceWithInspection(t, type);
  const photos = await Promise.all(Array.from({ length: count }, (_, i) => surfacePhoto(1000 + i, false)));
  await uploadImages(t, inspectionId, photos);
  const run = await waitForRun(t, inspectionId);
  if (run.workflowRuns.at(-1).status !== 'SUCCEEDED') throw new Error(`run failed: ${JSON.stringify(run)}`);
  const tasks = ok(await t.gql(`query($id: ID!) { inspection(id: $id) { reviewTasks { id reason status } } }`, { id: inspectionId }))
    .inspection.reviewTasks;
  return { deviceId, inspectionId, type, taskIds: tasks.map((x: { id: string }) => x.id) as string[] };
}

/** A new API key of the role (each call a different reviewer). */
export async function newKey(t: TestApp, role: Role, name = `${role} ${crypto.randomUUID().slice(0, 6)}`): Promise<string> {
  return (await t.app.services.apiKeys.create(name, role)).secret;
}

export const CLAIM = `mutation($skip: [ID!]) { claimNextReview(skip: $skip) { id status reason deviceType imageUrl claimedUntil escalated } }`;
export const SUBMIT = `mutation($id: ID!, $v: ReviewVerdict!, $r: [ReviewRegionInput!], $c: String) {
  submitReview(taskId: $id, verdict: $v, regions: $r, comment: $c) { id status verdict escalated answerCount completedAt }
}`;
export const RELEASE = `mutation($id: ID!) { releaseReview(taskId: $id) { id status } }`;
