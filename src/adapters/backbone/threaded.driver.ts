import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { type ModelArtifact } from '../../anomaly-model/artifact';
import { type PredictOptions } from '../../anomaly-model/predict';
import { type PredictResult } from '../../anomaly-model/types';
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
// A built-in model judges there too (`predict`): the picture's decoding, the model's arithmetic on the feature
// maps (projection, nearest normal patches, classifiers) and the heatmap then stay off the API's thread as
// well. A model crosses once: the thread keeps it under a number until this side lets the model go.

/** The compiled entry (src/adapters/backbone/backbone-thread.ts): a thread runs JavaScript, so it is the built one, under jest too. */
export const BACKBONE_THREAD_ENTRY = path.join(PROJECT_ROOT, 'dist/src/adapters/backbone/backbone-thread.js');

export type BackboneThreadRequest =
  | { type: 'extract'; id: number; input: BackboneInput }
  /** `artifact` comes with a model's first picture on this thread; later pictures name its number alone. */
  | { type: 'predict'; id: number; model: number; artifact?: ModelArtifact; image: Uint8Array; options: PredictOptions }
  | { type: 'forget'; model: number }
  | { type: 'close' };

export type BackboneThreadReply =
  | { type: 'ready'; identity: BackboneIdentity; memoryTaps?: readonly string[]; sizing: InputSizing }
  | { type: 'failed'; name: string; message: string }
  | { type: 'maps'; id: number; maps: FeatureMap[] }
  | { type: 'judged'; id: number; result: PredictResult }
  | { type: 'error'; id: number; name: string; message: string };

type Ready = Extract<BackboneThreadReply, { type: 'ready' }>;
type Answer = Extract<BackboneThreadReply, { type: 'maps' | 'judged' | 'error' }>;

const asError = (name: string, message: string) =>
  name === 'BackboneError' ? new BackboneError(message) : Object.assign(new Error(message), { name });

/** Bytes that own their whole memory, so that sending them copies no more than they are (a pooled Buffer is a view into 8 KiB). */
const ownBytes = (b: Uint8Array) => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice());

/** One worker thread holding the backbone; started again on the next picture if it dies. */
export class BackboneThread {
  private worker: Worker | null = null;
  private starting: Promise<Ready> | null = null;
  private readonly pending = new Map<number, { resolve: (answer: Answer) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private closed = false;
  /** The number each model goes by on the thread, and the models each thread holds (a new thread holds none). */
  private readonly modelNumbers = new WeakMap<ModelArtifact, number>();
  private nextModel = 1;
  private readonly held = new WeakMap<Worker, Set<number>>();
  /** A model this side has let go is dropped on the thread too. */
  private readonly letGo = new FinalizationRegistry<number>((model) => {
    const worker = this.worker;
    if (worker && this.held.get(worker)?.delete(model)) worker.postMessage({ type: 'forget', model } satisfies BackboneThreadRequest);
  });

  constructor(private readonly config: BackboneConfig) {}

  start(): Promise<Ready> {
    // Once closed, no picture starts a thread (and loads the backbone) again.
    if (this.closed) return Promise.reject(new BackboneError('the backbone is closed'));
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
    const answer = await this.ask((id) => ({ type: 'extract', id, input }));
    return (answer as Extract<Answer, { type: 'maps' }>).maps;
  }

  /** predict() (src/anomaly-model/predict.ts) on the thread, with its backbone: the same result, number for number. */
  async predict(model: ModelArtifact, image: Buffer, options: PredictOptions = {}): Promise<PredictResult> {
    let number = this.modelNumbers.get(model);
    if (number === undefined) {
      number = this.nextModel++;
      this.modelNumbers.set(model, number);
      this.letGo.register(model, number);
    }
    const known = number;
    const answer = await this.ask(
      (id, worker) => {
        const artifact = this.held.get(worker)?.has(known) ? undefined : model;
        return { type: 'predict', id, model: known, artifact, image: ownBytes(image), options };
      },
      (worker) => {
        const held = this.held.get(worker) ?? new Set<number>();
        this.held.set(worker, held);
        held.add(known);
      },
    );
    const { result } = answer as Extract<Answer, { type: 'judged' }>;
    const png = result.heatmap as Uint8Array;
    return { ...result, heatmap: Buffer.from(png.buffer, png.byteOffset, png.byteLength) };
  }

  /** Sends the request `make` builds to the thread (started if need be) and waits for its answer; `sent` runs once it is on its way. */
  private async ask(
    make: (id: number, worker: Worker) => Extract<BackboneThreadRequest, { id: number }>,
    sent?: (worker: Worker) => void,
  ): Promise<Answer> {
    if (this.closed) throw new BackboneError('the backbone is closed');
    await this.start();
    const worker = this.worker;
    if (!worker) throw new BackboneError('the backbone thread stopped before the picture reached it');
    const id = this.nextId++;
    const answer = new Promise<Answer>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // The thread keeps the process alive only while a picture is on it.
    if (this.pending.size === 1) worker.ref();
    try {
      worker.postMessage(make(id, worker));
    } catch (err) {
      // Something that cannot cross to a thread: nothing was sent.
      this.pending.delete(id);
      if (this.pending.size === 0) worker.unref();
      throw err;
    }
    sent?.(worker);
    return answer;
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

  private settle(m: Answer): void {
    const waiting = this.pending.get(m.id);
    if (!waiting) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (m.type === 'error') waiting.reject(asError(m.name, m.message));
    else waiting.resolve(m);
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

/** The configured backbone on a worker thread of its own, behind the same port, that also judges pictures with a built-in model there. */
export class ThreadedBackbone implements Backbone {
  readonly identity: BackboneIdentity;
  readonly memoryTaps?: readonly string[];
  readonly sizing: InputSizing;

  constructor(
    private readonly thread: BackboneThread,
    first: Ready,
  ) {
    this.identity = first.identity;
    this.memoryTaps = first.memoryTaps;
    this.sizing = first.sizing;
  }

  inputSize(aspect: number, area: number) {
    return inputSizeOf(this.sizing, aspect, area);
  }

  async extract(input: BackboneInput): Promise<FeatureMap[]> {
    await this.sameWeights();
    return this.thread.extract(input);
  }

  /** predict(this backbone, model, image, options), run on the backbone's thread. */
  async predict(model: ModelArtifact, image: Buffer, options: PredictOptions = {}): Promise<PredictResult> {
    await this.sameWeights();
    return this.thread.predict(model, image, options);
  }

  close(): Promise<void> {
    return this.thread.close();
  }

  /** A thread started anew opens the backbone again: it must be the same weights, so a model is never judged by others. */
  private async sameWeights(): Promise<void> {
    const now = await this.thread.start();
    if (now.identity.weightsSha256 !== this.identity.weightsSha256) {
      throw new BackboneError(`the backbone thread opened other weights (${now.identity.weightsSha256}) than it started with`);
    }
  }
}

export async function openThreadedBackbone(config: BackboneConfig): Promise<ThreadedBackbone> {
  const thread = new BackboneThread(config);
  return new ThreadedBackbone(thread, await thread.start());
}
