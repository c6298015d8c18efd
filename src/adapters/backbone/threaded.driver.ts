import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PROJECT_ROOT } from '../../common/paths';
import { type BackboneConfig } from '../../config/config';
import {
  type Backbone,
  BackboneError,
  type BackboneIdentity,
  type BackboneInput,
  type FeatureMap,
  type InputSizing,
  inputSizeOf,
} from './backbone.port';

// The backbone's forward pass is tens of milliseconds of arithmetic per picture. On the thread that answers
// the API and drives the workflows it holds every request and every database write back; on a thread of its
// own it runs beside them, on the second core. The thread opens the configured backbone itself
// (backbone-thread.ts); pictures go to it and feature maps come back, moved rather than copied.

/** The compiled entry (src/adapters/backbone/backbone-thread.ts): a thread runs JavaScript, so it is the built one, under jest too. */
export const BACKBONE_THREAD_ENTRY = path.join(PROJECT_ROOT, 'dist/src/adapters/backbone/backbone-thread.js');

export type BackboneThreadRequest = { type: 'extract'; id: number; input: BackboneInput } | { type: 'close' };

export type BackboneThreadReply =
  | { type: 'ready'; identity: BackboneIdentity; memoryTaps?: readonly string[]; sizing: InputSizing }
  | { type: 'failed'; name: string; message: string }
  | { type: 'maps'; id: number; maps: FeatureMap[] }
  | { type: 'error'; id: number; name: string; message: string };

type Ready = Extract<BackboneThreadReply, { type: 'ready' }>;

const asError = (name: string, message: string) =>
  name === 'BackboneError' ? new BackboneError(message) : Object.assign(new Error(message), { name });

/** One worker thread holding the backbone; started again on the next picture if it dies. */
export class BackboneThread {
  private worker: Worker | null = null;
  private starting: Promise<Ready> | null = null;
  private readonly pending = new Map<number, { resolve: (maps: FeatureMap[]) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly config: BackboneConfig) {}

  start(): Promise<Ready> {
    this.starting ??= new Promise<Ready>((resolve, reject) => {
      if (!fs.existsSync(BACKBONE_THREAD_ENTRY)) {
        reject(new BackboneError(`${BACKBONE_THREAD_ENTRY} is missing: run npm run build (or set BACKBONE_THREAD=false)`));
        return;
      }
      const worker = new Worker(BACKBONE_THREAD_ENTRY, { workerData: this.config });
      this.worker = worker;
      worker.unref();
      worker.on('message', (m: BackboneThreadReply) => {
        if (m.type === 'ready') resolve(m);
        else if (m.type === 'failed') reject(asError(m.name, m.message));
        else this.settle(m);
      });
      worker.on('error', (err) => this.stopped(worker, err.message, reject));
      worker.on('exit', (code) => this.stopped(worker, `exit code ${code}`, reject));
    }).catch((err: Error) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  async extract(input: BackboneInput): Promise<FeatureMap[]> {
    if (this.closed) throw new BackboneError('the backbone is closed');
    await this.start();
    const worker = this.worker;
    if (!worker) throw new BackboneError('the backbone thread stopped before the picture reached it');
    const id = this.nextId++;
    const maps = new Promise<FeatureMap[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // The thread keeps the process alive only while a picture is on it.
    if (this.pending.size === 1) worker.ref();
    worker.postMessage({ type: 'extract', id, input } satisfies BackboneThreadRequest);
    return maps;
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((r) => worker.once('exit', () => r()));
    worker.postMessage({ type: 'close' } satisfies BackboneThreadRequest);
    const timer = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** Ends the thread as a crash would: what is on it fails, and the next picture starts a new one. */
  async stopThread(): Promise<void> {
    await this.worker?.terminate();
  }

  private settle(m: Extract<BackboneThreadReply, { type: 'maps' | 'error' }>): void {
    const waiting = this.pending.get(m.id);
    if (!waiting) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (m.type === 'maps') waiting.resolve(m.maps);
    else waiting.reject(asError(m.name, m.message));
  }

  /** The thread ended: whatever was on it fails, and the next picture starts a new one. */
  private stopped(worker: Worker, why: string, rejectStart: (err: Error) => void): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.starting = null;
    const err = new BackboneError(`the backbone thread stopped (${why})`);
    rejectStart(err);
    for (const waiting of this.pending.values()) waiting.reject(err);
    this.pending.clear();
  }
}

/**
 * The configured backbone on a worker thread of its own, behind the same port. Its identity is checked
 * again whenever the thread is started anew, so a model is never judged by other weights than it was trained on.
 */
export async function openThreadedBackbone(config: BackboneConfig): Promise<Backbone> {
  const thread = new BackboneThread(config);
  const first = await thread.start();
  return {
    identity: first.identity,
    memoryTaps: first.memoryTaps,
    sizing: first.sizing,
    inputSize: (aspect, area) => inputSizeOf(first.sizing, aspect, area),
    async extract(input) {
      const now = await thread.start();
      if (now.identity.weightsSha256 !== first.identity.weightsSha256) {
        throw new BackboneError(`the backbone thread opened other weights (${now.identity.weightsSha256}) than it started with`);
      }
      return thread.extract(input);
    },
    close: () => thread.close(),
  };
}
