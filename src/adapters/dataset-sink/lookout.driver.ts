import { createHash } from 'node:crypto';
import { UpdateDatasetEntriesCommand, type LookoutVisionClient } from '@aws-sdk/client-lookoutvision';
import { toAwsError } from '../aws-errors';
import { TransientDetectorError } from '../detectors/detector.port';
import { MAX_MANIFEST_LINE_BYTES } from './limits';

export { MAX_MANIFEST_LINE_BYTES };

// Writes manifest lines into a Lookout for Vision dataset with UpdateDatasetEntries: a line whose
// source-ref is already in the dataset replaces that entry, otherwise it adds one. Limits from the
// API model: Changes is a blob of at most 10485760 bytes, a dataset entry at most 8192 characters,
// ClientToken 1–64 characters of [a-zA-Z0-9-]. Reference:
// https://docs.aws.amazon.com/lookout-for-vision/latest/APIReference/API_UpdateDatasetEntries.html

/** Largest Changes blob one UpdateDatasetEntries call takes (10 MiB). */
export const MAX_CHANGES_BYTES = 10 * 1024 * 1024;

const ACTION = 'lookoutvision:UpdateDatasetEntries';

export type LookoutDatasetType = 'train' | 'test';

export interface LookoutDatasetSinkOptions {
  client: LookoutVisionClient;
  projectName: string;
  /** Bytes per call, at most MAX_CHANGES_BYTES; smaller only to exercise chunking. */
  maxChangesBytes?: number;
}

/** A dataset update no retry will fix: a refused line, missing permission, project or dataset. */
export class DatasetSinkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Vigil.DatasetSinkError';
  }
}

function sourceRefOf(entry: Record<string, unknown>, index: number): string {
  const ref = entry['source-ref'];
  return typeof ref === 'string' ? ref : `line ${index} (no source-ref)`;
}

export class LookoutDatasetSink {
  private readonly client: LookoutVisionClient;
  private readonly projectName: string;
  private readonly maxChangesBytes: number;

  constructor(options: LookoutDatasetSinkOptions) {
    const max = options.maxChangesBytes ?? MAX_CHANGES_BYTES;
    if (!Number.isInteger(max) || max <= MAX_MANIFEST_LINE_BYTES || max > MAX_CHANGES_BYTES) {
      throw new RangeError(
        `maxChangesBytes must be a whole number above ${MAX_MANIFEST_LINE_BYTES} and at most ${MAX_CHANGES_BYTES}, got ${max}`,
      );
    }
    this.client = options.client;
    this.projectName = options.projectName;
    this.maxChangesBytes = max;
  }

  /**
   * Sends the JSON lines in as few calls as fit; checks every line before the first call. Each call's
   * ClientToken is a hash of project, dataset and content, so repeating an update (a workflow retry
   * after a partial failure) within AWS's 8-hour token window does not apply a chunk twice.
   */
  async update(datasetType: LookoutDatasetType, lines: string[]): Promise<{ calls: number; status: string[] }> {
    if (datasetType !== 'train' && datasetType !== 'test')
      throw new RangeError(`datasetType must be "train" or "test", got ${String(datasetType)}`);
    const chunks = this.chunk(this.checked(lines));
    const status: string[] = [];
    for (const chunk of chunks) {
      const response = await this.send(datasetType, chunk);
      status.push(response?.Status ?? 'UNKNOWN');
    }
    return { calls: chunks.length, status };
  }

  /** The lines Lookout will take, or a DatasetSinkError naming the first it would refuse. */
  private checked(lines: string[]): string[] {
    const kept: string[] = [];
    lines.forEach((line, index) => {
      if (line.trim() === '') return; // the empty tail of a split manifest carries no entry
      if (/[\r\n]/.test(line)) throw new DatasetSinkError(`dataset line ${index} contains a line break; pass one JSON object per line`);
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        throw new DatasetSinkError(`dataset line ${index} is not JSON: ${line.slice(0, 80)}`);
      }
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
        throw new DatasetSinkError(`dataset line ${index} is not a JSON object`);
      const bytes = Buffer.byteLength(line, 'utf8');
      if (bytes > MAX_MANIFEST_LINE_BYTES) {
        const ref = sourceRefOf(entry as Record<string, unknown>, index);
        throw new DatasetSinkError(
          `the dataset line for ${ref} is ${bytes} bytes; Lookout for Vision takes at most ${MAX_MANIFEST_LINE_BYTES} per entry`,
        );
      }
      kept.push(line);
    });
    return kept;
  }

  /** Newline-terminated lines packed greedily into chunks of at most maxChangesBytes. */
  private chunk(lines: string[]): Buffer[] {
    const chunks: Buffer[] = [];
    let current: string[] = [];
    let size = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line, 'utf8') + 1;
      if (size + bytes > this.maxChangesBytes && current.length > 0) {
        chunks.push(Buffer.from(current.join(''), 'utf8'));
        current = [];
        size = 0;
      }
      current.push(`${line}\n`);
      size += bytes;
    }
    if (current.length > 0) chunks.push(Buffer.from(current.join(''), 'utf8'));
    return chunks;
  }

  private async send(datasetType: LookoutDatasetType, changes: Buffer) {
    const clientToken = createHash('sha256').update(`${this.projectName}\n${datasetType}\n`).update(changes).digest('hex');
    try {
      return await this.client.send(
        new UpdateDatasetEntriesCommand({
          ProjectName: this.projectName,
          DatasetType: datasetType,
          Changes: changes,
          ClientToken: clientToken,
        }),
      );
    } catch (err) {
      throw this.mapError(err, datasetType);
    }
  }

  private mapError(err: unknown, datasetType: LookoutDatasetType): Error {
    const mapped = toAwsError(err, ACTION);
    if (mapped instanceof TransientDetectorError) return mapped;
    const name = (err as { name?: string } | null)?.name ?? 'Error';
    const said = (err as { message?: string } | null)?.message;
    const aws = said ? ` (AWS said: ${said})` : '';
    const dataset = `the ${datasetType} dataset of Lookout for Vision project "${this.projectName}"`;
    switch (name) {
      case 'AccessDeniedException':
        return new DatasetSinkError(
          `${ACTION} was denied: the IAM role vigil runs as needs the "${ACTION}" permission on project "${this.projectName}"${aws}`,
          { cause: err },
        );
      case 'ResourceNotFoundException':
        return new DatasetSinkError(`${ACTION}: ${dataset} does not exist; create the project and its ${datasetType} dataset first${aws}`, {
          cause: err,
        });
      case 'ConflictException':
        // Lookout refuses changes while the dataset is still applying an earlier update; that passes by itself.
        return new TransientDetectorError(`${ACTION}: ${dataset} is busy, try again later${aws}`, { cause: err });
      default:
        return new DatasetSinkError(`${ACTION} failed for ${dataset} (${name})${aws}`, { cause: err });
    }
  }
}
