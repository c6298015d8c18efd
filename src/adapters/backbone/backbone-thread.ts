// The worker thread that runs the backbone for the API's process (threaded.driver.ts starts it): it opens the
// configured backbone, says what it is, then turns each picture it is sent into feature maps.
import { parentPort, workerData } from 'node:worker_threads';
import { type BackboneConfig } from '../../config/config';
import { openBackbone } from './backbone.factory';
import { type Backbone, type FeatureMap } from './backbone.port';
import { type BackboneThreadReply, type BackboneThreadRequest } from './threaded.driver';

const post = (m: BackboneThreadReply, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

/** A map whose data owns its whole buffer can be moved to the other thread; a view into a larger (or shared) memory is copied first. */
function movable(map: FeatureMap): FeatureMap {
  const d = map.data;
  const own = d.buffer instanceof ArrayBuffer && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength;
  return own ? map : { ...map, data: d.slice() };
}

async function extract(backbone: Backbone, m: Extract<BackboneThreadRequest, { type: 'extract' }>): Promise<void> {
  try {
    const maps = (await backbone.extract(m.input)).map(movable);
    post(
      { type: 'maps', id: m.id, maps },
      maps.map((map) => map.data.buffer as ArrayBuffer),
    );
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
    else void backbone.close().finally(() => parentPort!.close());
  });
}

if (parentPort) void serve(workerData as BackboneConfig);
