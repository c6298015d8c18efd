import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { sniffImageType } from '../image-processing/sniff';
import { ApiError, type ApiClient } from './api-client';

/** File names `vigil ingest` picks up; the server still decides by content. */
const IMAGE_NAME = /\.(jpe?g|png|webp|tiff?)$/i;

export type IngestTarget = { device: string } | { matchGps: true };

export interface IngestOptions {
  folder: string;
  target: IngestTarget;
  source: 'DRONE' | 'VEHICLE' | 'MANUAL';
  concurrency: number;
}

export interface LocalFile {
  /** Relative to the folder, with forward slashes. */
  name: string;
  absolute: string;
  bytes: number;
  modifiedAt: Date;
}

export type Outcome =
  | { kind: 'accepted'; device: string | null; distanceM: number | null }
  | { kind: 'unassigned'; match: string }
  | { kind: 'rejected'; reason: string; message: string }
  | { kind: 'failed'; message: string };

export interface FileResult {
  file: LocalFile;
  outcome: Outcome;
  /** True when the server already had the file from an earlier run: no bytes were sent. */
  skipped: boolean;
}

export interface IngestReporter {
  start(plan: { target: string; files: number; bytes: number; ignored: number }): void;
  file(result: FileResult, progress: { files: number; bytes: number }): void;
  stop(): void;
}

export interface IngestSummary {
  target: string;
  results: FileResult[];
  ignored: string[];
  seconds: number;
}

const TICKET_FIELDS = `uploadUrl uploadHeaders problem { code message } image { id status }`;
const IMAGE_FIELDS = 'id status deviceMatch matchDistanceM rejection { reason message } inspection { device { externalId name } }';

interface Ticket {
  uploadUrl: string | null;
  uploadHeaders: Record<string, string> | null;
  problem: { code: string; message: string } | null;
  image: { id: string; status: string } | null;
}

interface ServerImage {
  id: string;
  status: string;
  deviceMatch: string | null;
  matchDistanceM: number | null;
  rejection: { reason: string; message: string } | null;
  inspection: { device: { externalId: string; name: string } } | null;
}

/** Every image-named file under the folder, hidden ones excepted, in name order; other files are listed as ignored. */
export async function listFiles(folder: string): Promise<{ files: LocalFile[]; ignored: string[] }> {
  const root = path.resolve(folder);
  const stat = await fs.stat(root).catch(() => null);
  if (!stat?.isDirectory()) throw new Error(`${folder} is not a folder`);
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  const files: LocalFile[] = [];
  const ignored: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const absolute = path.join(entry.parentPath ?? entry.path, entry.name);
    const name = path.relative(root, absolute).split(path.sep).join('/');
    if (name.split('/').some((part) => part.startsWith('.'))) continue;
    if (!IMAGE_NAME.test(entry.name)) {
      ignored.push(name);
      continue;
    }
    const s = await fs.stat(absolute);
    files.push({ name, absolute, bytes: s.size, modifiedAt: s.mtime });
  }
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { files: files.sort((a, b) => byName(a.name, b.name)), ignored: ignored.sort(byName) };
}

/** The same folder and target give the same key, so a second run finds the first run's inspection or survey. */
function resumeKey(folder: string, target: string): string {
  return `ingest:${crypto
    .createHash('sha256')
    .update(`${path.resolve(folder)}\n${target}`)
    .digest('hex')
    .slice(0, 40)}`;
}

async function resolveDevice(api: ApiClient, device: string): Promise<{ id: string; externalId: string }> {
  try {
    const found = await api.graphql<{ device: { id: string; externalId: string } }>(
      `query($id: ID!) { device(id: $id) { id externalId } }`,
      { id: device },
    );
    return found.device;
  } catch (err) {
    if (!(err instanceof ApiError) || !['BAD_USER_INPUT', 'NOT_FOUND'].includes(err.code)) throw err;
  }
  // Not a global id: look it up as an external id.
  const { devices } = await api.graphql<{ devices: { nodes: { id: string; externalId: string }[] } }>(
    `query($s: String!) { devices(filter: { search: $s }, first: 100) { nodes { id externalId } } }`,
    { s: device },
  );
  const exact = devices.nodes.find((d) => d.externalId === device);
  if (!exact) throw new Error(`no device has the id or external id "${device}"`);
  return exact;
}

type RequestUpload = (file: { filename: string; contentType: string; byteSize: number; sha256: string }) => Promise<Ticket>;

/** Where the files go: one inspection of a named device, or a survey whose photos find their device by GPS. */
async function uploadTarget(
  api: ApiClient,
  options: IngestOptions,
  files: LocalFile[],
): Promise<{ label: string; request: RequestUpload }> {
  const folderName = path.basename(path.resolve(options.folder));
  if ('device' in options.target) {
    const device = await resolveDevice(api, options.target.device);
    const oldest = files.reduce((t, f) => Math.min(t, f.modifiedAt.getTime()), Date.now());
    const { createInspection } = await api.graphql<{ createInspection: { id: string } }>(
      `mutation($input: CreateInspectionInput!) { createInspection(input: $input) { id } }`,
      {
        input: {
          deviceId: device.id,
          source: options.source,
          capturedAt: new Date(oldest).toISOString(),
          notes: `vigil ingest of ${folderName}`.slice(0, 2000),
          idempotencyKey: resumeKey(options.folder, `device:${device.id}`),
        },
      },
    );
    return {
      label: `device ${device.externalId}, inspection ${createInspection.id}`,
      request: async (file) =>
        (
          await api.graphql<{ requestImageUploads: Ticket[] }>(
            `mutation($i: ID!, $f: [UploadFileInput!]!) { requestImageUploads(inspectionId: $i, files: $f) { ${TICKET_FIELDS} } }`,
            { i: createInspection.id, f: [file] },
          )
        ).requestImageUploads[0],
    };
  }
  const { createSurvey } = await api.graphql<{ createSurvey: { id: string } }>(
    `mutation($input: CreateSurveyInput!) { createSurvey(input: $input) { id } }`,
    { input: { name: folderName.slice(0, 200) || 'survey', source: options.source, idempotencyKey: resumeKey(options.folder, 'gps') } },
  );
  return {
    label: `survey ${createSurvey.id} (devices by GPS)`,
    request: async (file) =>
      (
        await api.graphql<{ requestSurveyUploads: Ticket[] }>(
          `mutation($s: ID!, $f: [UploadFileInput!]!) { requestSurveyUploads(surveyId: $s, files: $f) { ${TICKET_FIELDS} } }`,
          { s: createSurvey.id, f: [file] },
        )
      ).requestSurveyUploads[0],
  };
}

/** Uploads a folder of photographs through vigil's public API; resumable, bounded in parallelism, never throws for one bad file. */
export async function ingestFolder(api: ApiClient, options: IngestOptions, reporter: IngestReporter): Promise<IngestSummary> {
  const started = Date.now();
  const { files, ignored } = await listFiles(options.folder);
  const { label: targetLabel, request } = await uploadTarget(api, options, files);

  const complete = async (id: string) =>
    (
      await api.graphql<{ completeImageUploads: ServerImage[] }>(
        `mutation($ids: [ID!]!) { completeImageUploads(imageIds: $ids) { ${IMAGE_FIELDS} } }`,
        { ids: [id] },
      )
    ).completeImageUploads[0];

  async function one(file: LocalFile): Promise<FileResult> {
    let skipped = false;
    try {
      const bytes = await fs.readFile(file.absolute);
      const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
      const contentType = sniffImageType(bytes.subarray(0, 32)) ?? 'application/octet-stream';
      const ticket = await request({ filename: path.basename(file.name), contentType, byteSize: bytes.length, sha256 });
      if (ticket.problem || !ticket.image) {
        return {
          file,
          skipped,
          outcome: { kind: 'rejected', reason: ticket.problem?.code ?? 'UNKNOWN', message: ticket.problem?.message ?? 'refused' },
        };
      }
      if (ticket.uploadUrl) await api.put(ticket.uploadUrl, ticket.uploadHeaders ?? {}, bytes);
      else skipped = true;
      // Completing is idempotent: it finishes what an interrupted run left UPLOADED and returns the rest as it is.
      return { file, skipped, outcome: outcomeOf(await complete(ticket.image.id)) };
    } catch (err) {
      return { file, skipped, outcome: { kind: 'failed', message: (err as Error).message } };
    }
  }

  reporter.start({ target: targetLabel, files: files.length, bytes: files.reduce((s, f) => s + f.bytes, 0), ignored: ignored.length });
  const results: FileResult[] = new Array(files.length);
  const progress = { files: 0, bytes: 0 };
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      results[i] = await one(files[i]);
      progress.files += 1;
      progress.bytes += files[i].bytes;
      reporter.file(results[i], progress);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, files.length)) }, worker));
  reporter.stop();
  return { target: targetLabel, results, ignored, seconds: (Date.now() - started) / 1000 };
}

function outcomeOf(image: ServerImage): Outcome {
  if (image.status === 'REJECTED')
    return { kind: 'rejected', reason: image.rejection?.reason ?? 'UNKNOWN', message: image.rejection?.message ?? '' };
  if (image.status === 'UPLOADING')
    return { kind: 'failed', message: 'another upload of this file is still sending its bytes; run again once it has finished' };
  if (image.status !== 'READY') return { kind: 'failed', message: `the server left the image ${image.status}` };
  if (!image.inspection) return { kind: 'unassigned', match: image.deviceMatch ?? 'UNKNOWN' };
  return { kind: 'accepted', device: image.inspection.device.externalId, distanceM: image.matchDistanceM };
}

/** Whether the run should end with a non-zero exit code: any file rejected or not delivered. */
export function hasFailures(summary: IngestSummary): boolean {
  return summary.results.some((r) => r.outcome.kind === 'rejected' || r.outcome.kind === 'failed');
}
