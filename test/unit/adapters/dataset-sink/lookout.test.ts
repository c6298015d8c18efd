import { createHash } from 'node:crypto';
import {
  AccessDeniedException,
  ConflictException,
  InternalServerException,
  LookoutVisionClient,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateDatasetEntriesCommand,
  ValidationException,
} from '@aws-sdk/client-lookoutvision';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { toJsonLines } from '../../../../src/datasets/lookout-manifest';
import { DatasetSinkError, LookoutDatasetSink, MAX_CHANGES_BYTES } from '../../../../src/adapters/dataset-sink/lookout.driver';
import { TransientDetectorError } from '../../../../src/adapters/detectors/detector.port';

const credentials = { accessKeyId: 'AKIAVIGILTEST', secretAccessKey: 'vigil-test-secret' };
const lookout = mockClient(LookoutVisionClient);
const client = new LookoutVisionClient({ region: 'eu-west-1', credentials });
const sink = new LookoutDatasetSink({ client, projectName: 'vigil-insulators' });

beforeEach(() => {
  lookout.reset();
  lookout.on(UpdateDatasetEntriesCommand).resolves({ Status: 'UPDATE_IN_PROGRESS' });
});

const createdAt = new Date('2024-05-06T07:08:09.123Z');
const manifest = toJsonLines([
  { sourceRef: 's3://vigil-images/normalized/im/img-1.jpg', anomalous: false, createdAt, jobName: 'vigil/review' },
  { sourceRef: 's3://vigil-images/normalized/im/img-2.jpg', anomalous: true, createdAt, jobName: 'vigil/review' },
]);
const lines = manifest.trimEnd().split('\n');

/** A JSON line of about `bytes` bytes (Lookout only cares about the size here). */
const bigLine = (i: number, bytes = 8000) => {
  const head = JSON.stringify({ 'source-ref': `s3://vigil-images/normalized/im/img-${i}.jpg`, pad: '' });
  return head.replace('"pad":""', `"pad":"${'x'.repeat(bytes - head.length)}"`);
};

const calls = () => lookout.commandCalls(UpdateDatasetEntriesCommand).map((c) => c.args[0].input);
const decoded = (changes: Uint8Array | undefined) => Buffer.from(changes!).toString('utf8');

describe('the Lookout for Vision dataset sink', () => {
  it('sends the project, dataset type, the lines as Changes bytes and a content-hash ClientToken', async () => {
    expect(await sink.update('train', lines)).toEqual({ calls: 1, status: ['UPDATE_IN_PROGRESS'] });
    const [input] = calls();
    expect(Object.keys(input).sort()).toEqual(['Changes', 'ClientToken', 'DatasetType', 'ProjectName']);
    expect(input).toMatchObject({ ProjectName: 'vigil-insulators', DatasetType: 'train' });
    expect(input.Changes).toBeInstanceOf(Uint8Array);
    expect(decoded(input.Changes)).toBe(manifest);
    expect(
      decoded(input.Changes)
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(lines.map((l) => JSON.parse(l)));
    const expected = createHash('sha256').update(`vigil-insulators\ntrain\n${manifest}`).digest('hex');
    expect(input.ClientToken).toBe(expected);
    expect(input.ClientToken).toMatch(/^[a-zA-Z0-9-]{1,64}$/);
  });

  it('gives the same input the same ClientToken, and other content or another dataset another one', async () => {
    await sink.update('train', lines);
    await sink.update('train', [...lines]);
    await sink.update('test', lines);
    await sink.update('train', lines.slice(0, 1));
    const tokens = calls().map((c) => c.ClientToken);
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).not.toBe(tokens[0]);
    expect(tokens[3]).not.toBe(tokens[0]);
  });

  it('splits many lines into calls of at most 10 MB each, in order and without losing a line', async () => {
    expect(MAX_CHANGES_BYTES).toBe(10 * 1024 * 1024);
    const many = Array.from({ length: 3000 }, (_, i) => bigLine(i));
    const result = await sink.update('train', many);
    const sent = calls();
    expect(result.calls).toBe(3);
    expect(sent).toHaveLength(3);
    expect(result.status).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS']);
    for (const input of sent) expect(input.Changes!.byteLength).toBeLessThanOrEqual(MAX_CHANGES_BYTES);
    // Full chunks: another 8001-byte line would not have fitted.
    for (const input of sent.slice(0, -1)) expect(input.Changes!.byteLength).toBeGreaterThan(MAX_CHANGES_BYTES - 8001);
    expect(sent.map((c) => decoded(c.Changes)).join('')).toBe(many.map((l) => `${l}\n`).join(''));
    expect(new Set(sent.map((c) => c.ClientToken)).size).toBe(3);
  });

  it('packs to a smaller limit when given one', async () => {
    const small = new LookoutDatasetSink({ client, projectName: 'vigil-insulators', maxChangesBytes: 20_000 });
    const five = Array.from({ length: 5 }, (_, i) => bigLine(i, 8192));
    expect((await small.update('test', five)).calls).toBe(3);
    expect(calls().map((c) => c.Changes!.byteLength)).toEqual([2 * 8193, 2 * 8193, 8193]);
    expect(() => new LookoutDatasetSink({ client, projectName: 'p', maxChangesBytes: MAX_CHANGES_BYTES + 1 })).toThrow(RangeError);
    expect(() => new LookoutDatasetSink({ client, projectName: 'p', maxChangesBytes: 8192 })).toThrow(RangeError);
  });

  it('refuses a line over 8 KB, naming its source-ref, before any call', async () => {
    const many = [bigLine(1, 8192), bigLine(2, 8193), bigLine(3)];
    const error = await sink.update('train', many).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetSinkError);
    expect((error as Error).message).toContain('s3://vigil-images/normalized/im/img-2.jpg');
    expect((error as Error).message).toContain('8193 bytes');
    expect(calls()).toHaveLength(0);
  });

  it('refuses lines that are not one JSON object each, and skips blank ones', async () => {
    await expect(sink.update('train', ['{"source-ref":"s3://b/k.jpg"}\n{"a":1}'])).rejects.toThrow(/line break/);
    await expect(sink.update('train', ['not json'])).rejects.toThrow(/line 0 is not JSON/);
    await expect(sink.update('train', ['[1,2]'])).rejects.toThrow(/not a JSON object/);
    expect(calls()).toHaveLength(0);
    expect(await sink.update('train', manifest.split('\n'))).toEqual({ calls: 1, status: ['UPDATE_IN_PROGRESS'] });
    expect(decoded(calls()[0].Changes)).toBe(manifest);
    expect(await sink.update('train', [])).toEqual({ calls: 0, status: [] });
  });

  it.each([
    new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} }),
    new InternalServerException({ message: 'Internal error', Message: 'Internal error', $metadata: { httpStatusCode: 500 } }),
  ])('turns $name into a transient error', async (sdkError) => {
    lookout.on(UpdateDatasetEntriesCommand).rejects(sdkError);
    const error = await sink.update('train', lines).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientDetectorError);
    expect(error).toMatchObject({ name: 'Vigil.TransientError', cause: sdkError });
  });

  it('treats a dataset busy with an earlier update as transient', async () => {
    const busy = new ConflictException({
      message: 'Dataset is being updated',
      Message: 'Dataset is being updated',
      ResourceId: 'train',
      ResourceType: 'DATASET',
      $metadata: { httpStatusCode: 409 },
    });
    lookout.on(UpdateDatasetEntriesCommand).rejects(busy);
    await expect(sink.update('train', lines)).rejects.toMatchObject({ name: 'Vigil.TransientError', cause: busy });
  });

  it('names the missing permission, the missing project and dataset, and passes other refusals on', async () => {
    lookout
      .on(UpdateDatasetEntriesCommand)
      .rejectsOnce(new AccessDeniedException({ message: 'not authorized', Message: 'not authorized', $metadata: { httpStatusCode: 403 } }))
      .rejectsOnce(
        new ResourceNotFoundException({
          message: 'no project',
          Message: 'no project',
          ResourceId: 'vigil-insulators',
          ResourceType: 'PROJECT',
          $metadata: { httpStatusCode: 404 },
        }),
      )
      .rejectsOnce(new ValidationException({ message: 'bad entry', Message: 'bad entry', $metadata: { httpStatusCode: 400 } }));

    const denied = await sink.update('train', lines).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(DatasetSinkError);
    expect((denied as Error).message).toContain('needs the "lookoutvision:UpdateDatasetEntries" permission');

    const missing = await sink.update('test', lines).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(DatasetSinkError);
    expect((missing as Error).message).toContain('the test dataset of Lookout for Vision project "vigil-insulators" does not exist');

    await expect(sink.update('train', lines)).rejects.toMatchObject({
      name: 'Vigil.DatasetSinkError',
      message:
        'lookoutvision:UpdateDatasetEntries failed for the train dataset of Lookout for Vision project "vigil-insulators" (ValidationException) (AWS said: bad entry)',
    });
  });

  it('stops at the first failed chunk; a retry resends the sent chunks with their same tokens', async () => {
    const small = new LookoutDatasetSink({ client, projectName: 'vigil-insulators', maxChangesBytes: 20_000 });
    const five = Array.from({ length: 5 }, (_, i) => bigLine(i));
    lookout
      .on(UpdateDatasetEntriesCommand)
      .resolvesOnce({ Status: 'UPDATE_IN_PROGRESS' })
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} }))
      .resolves({ Status: 'UPDATE_IN_PROGRESS' });
    await expect(small.update('train', five)).rejects.toThrow(TransientDetectorError);
    expect(calls()).toHaveLength(2);
    await small.update('train', five);
    const tokens = calls().map((c) => c.ClientToken);
    expect(tokens).toHaveLength(5);
    expect(tokens.slice(2)).toEqual([tokens[0], tokens[1], expect.any(String)]);
  });
});
