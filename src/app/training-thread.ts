// The worker thread that trains or measures one built-in model (src/models/training-thread.ts starts it):
// a composition root of its own, opening the object store and the backbone from the settings it is given.
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { openBackbone } from '../adapters/backbone/backbone.factory';
import { createObjectStore } from '../adapters/object-store/object-store.factory';
import { train } from '../anomaly-model/detector';
import { evaluateOn } from '../models/evaluation';
import { type TrainingJob, type TrainingThreadMessage } from '../models/training-thread';
import { type TrainingThreadSettings } from '../models/training.types';
import { snapshotItem } from '../models/training-snapshot';

const post = (m: TrainingThreadMessage) => parentPort!.postMessage(m);

/**
 * Training is background work: on Linux a thread has its own nice value, so this thread takes the
 * lowest and the kernel runs the API's requests first when the cores are busy. Elsewhere it runs as is.
 */
function yieldToRequests(): void {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, 19);
  } catch {
    // No /proc/thread-self (not Linux) or not permitted: the thread keeps the process's priority.
  }
}

async function run({ settings, job }: { settings: TrainingThreadSettings; job: TrainingJob }) {
  const { store } = createObjectStore(settings.objectStore);
  const backbone = await openBackbone(settings.backbone);
  try {
    const items = job.entries.map((e) => snapshotItem(store, e));
    if (job.job === 'train') {
      return await train(
        backbone,
        { items },
        {
          profile: job.profile,
          seed: job.seed,
          onProgress: (phase, done, total) => post({ type: 'progress', phase, done, total }),
        },
      );
    }
    return await evaluateOn(backbone, job.artifact, items, job.splitHash);
  } finally {
    await backbone.close();
  }
}

if (parentPort) {
  yieldToRequests();
  run(workerData).then(
    (result) => post({ type: 'done', result }),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      post({ type: 'error', name: e.name, message: e.message });
    },
  );
}
