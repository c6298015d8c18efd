import path from 'node:path';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as core from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';

// tfjs-core and tfjs-layers, not the @tensorflow/tfjs bundle: that one also loads the webgl and cpu
// backends, the converter and tf.data (about 14 MB of a server's memory) which vigil never uses.
// Without the bundle, tensors have no chained methods (t.sqrt()): the model code calls tf.sqrt(t).
const tf = { ...core, loadLayersModel };
export type Tfjs = typeof tf;

let ready: Promise<void> | null = null;

/**
 * tfjs keeps one backend per process: the wasm one (SIMD, ~15× the plain-JS CPU backend), set up
 * once. The built-in model does its tensor arithmetic here whichever backbone runs the network.
 */
export function tfjsWasm(threads = 1): Promise<Tfjs> {
  ready ??= (async () => {
    setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not start');
    await tf.ready();
  })();
  return ready.then(() => tf);
}
