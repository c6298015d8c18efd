import path from 'node:path';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';

let ready: Promise<void> | null = null;

/**
 * tfjs keeps one backend per process: the wasm one (SIMD, ~15× the plain-JS CPU backend), set up
 * once. The built-in model does its tensor arithmetic here whichever backbone runs the network.
 */
export function tfjsWasm(threads = 1): Promise<typeof tf> {
  ready ??= (async () => {
    setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    setThreadsCount(threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not start');
    await tf.ready();
  })();
  return ready.then(() => tf);
}
