// The worker thread that runs the backbone for the API's process (threaded.driver.ts starts it): it opens the
// configured backbone, says what it is, then turns each picture it is sent into feature maps, or judges it with
// a built-in model it was sent (kept by number until the other side lets the model go).
import { parentPort, workerData } from 'node:worker_threads';
import { type ModelArtifact } from '../../anomaly-model/artifact';
import { predict } from '../../anomaly-model/predict';
import { type BackboneConfig } from '../../config/config';
import { openBackbone } from './backbone.factory';
import { type Backbone } from './backbone.port';
import { type BackboneThreadReply, type BackboneThreadRequest } from './threaded.driver';

// Buffers named in `transfer` are moved, not copied. Only JavaScript's own memory can be: Node 22 refuses memory a
// native library holds (sharp's output, for one) with a DataCloneError, so such results are sent as copies.
const post = (m: BackboneThreadReply, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

/** Floats that own their whole buffer, so it can be moved to the other thread; a view into a larger (or shared) memory is copied first. */
function movable(a: Float32Array): Float32Array {
  const own = a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
  return own ? a : a.slice();
}

async function extract(backbone: Backbone, m: Extract<BackboneThreadRequest, { type: 'extract' }>): Promise<void> {
  try {
    const maps = (await backbone.extract(m.input)).map((map) => ({ ...map, data: movable(map.data) }));
    post(
      { type: 'maps', id: m.id, maps },
      maps.map((map) => map.data.buffer as ArrayBuffer),
    );
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'error', id: m.id, name: e.name, message: e.message });
  }
}

const models = new Map<number, ModelArtifact>();

async function judge(backbone: Backbone, m: Extract<BackboneThreadRequest, { type: 'predict' }>): Promise<void> {
  try {
    if (m.artifact) models.set(m.model, m.artifact);
    const model = models.get(m.model);
    if (!model) throw new Error(`model ${m.model} is not on the backbone thread`);
    const result = await predict(backbone, model, Buffer.from(m.image.buffer, m.image.byteOffset, m.image.byteLength), m.options);
    // The map is moved; the heatmap (a few kB that sharp's native memory holds) is copied.
    const values = movable(result.map.values);
    post({ type: 'judged', id: m.id, result: { ...result, map: { ...result.map, values } } }, [values.buffer as ArrayBuffer]);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'error', id: m.id, name: e.name, message: e.message });
  }
}

async function serve(config: BackboneConfig): Promise<void> {
  let backbone: Backbone;
  try {
    backbone = await openBackbone(config);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'failed', name: e.name, message: e.message });
    return;
  }
  post({ type: 'ready', identity: backbone.identity, memoryTaps: backbone.memoryTaps, sizing: backbone.sizing });
  parentPort!.on('message', (m: BackboneThreadRequest) => {
    if (m.type === 'extract') void extract(backbone, m);
    else if (m.type === 'predict') void judge(backbone, m);
    else if (m.type === 'forget') models.delete(m.model);
    else void backbone.close().finally(() => parentPort!.close());
  });
}

if (parentPort) void serve(workerData as BackboneConfig);
