import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type ModelArtifact } from '../anomaly-model/artifact';
import { type Progress } from '../anomaly-model/profiles';
import { type Profile } from '../anomaly-model/types';
import { PROJECT_ROOT } from '../common/paths';
import { type ModelMetrics } from './evaluation';
import { type SnapshotEntry, type TrainingThreadSettings } from './training.types';

// Training the built-in model and measuring it are seconds of arithmetic at a time: on the thread that
// answers the API they would hold every request back. A worker thread does them instead, with its own
// object store and backbone opened from the same settings; it ends with the job, and its memory with it.

export type TrainingJob =
  | { job: 'train'; entries: SnapshotEntry[]; profile: Profile; seed?: number }
  | { job: 'evaluate'; artifact: ModelArtifact; entries: SnapshotEntry[]; splitHash: string };

type JobResult<J extends TrainingJob> = J extends { job: 'train' } ? ModelArtifact : ModelMetrics;

/** Messages from the thread: progress any number of times, then one result or one error. */
export type TrainingThreadMessage =
  | { type: 'progress'; phase: string; done: number; total: number }
  | { type: 'done'; result: ModelArtifact | ModelMetrics }
  | { type: 'error'; name: string; message: string };

/** The compiled entry (src/app/training-thread.ts): a thread runs JavaScript, so it is the built one, under jest too. */
export const TRAINING_THREAD_ENTRY = path.join(PROJECT_ROOT, 'dist/src/app/training-thread.js');

/** Runs one job on a new worker thread; its progress reaches onProgress, its error is thrown here with the same message. */
export function runOnTrainingThread<J extends TrainingJob>(
  settings: TrainingThreadSettings,
  job: J,
  onProgress?: Progress,
): Promise<JobResult<J>> {
  if (!fs.existsSync(TRAINING_THREAD_ENTRY)) {
    return Promise.reject(new Error(`${TRAINING_THREAD_ENTRY} is missing: run npm run build (or set MODEL_TRAINING_THREAD=false)`));
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const worker = new Worker(TRAINING_THREAD_ENTRY, { workerData: { settings, job } });
    worker.on('message', (m: TrainingThreadMessage) => {
      if (m.type === 'progress') onProgress?.(m.phase, m.done, m.total);
      else if (m.type === 'done') {
        settled = true;
        resolve(m.result as JobResult<J>);
      } else {
        settled = true;
        reject(Object.assign(new Error(m.message), { name: m.name }));
      }
    });
    worker.on('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`the training thread stopped (exit code ${code}) before it finished`));
    });
  });
}
