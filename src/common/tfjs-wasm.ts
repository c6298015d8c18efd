import path from 'node:path';

// tfjs-core and tfjs-layers, not the @tensorflow/tfjs bundle: that one also loads the webgl and cpu
// backends, the converter and tf.data (about 14 MB of a server's memory) which vigil never uses.
// Without the bundle, tensors have no chained methods (t.sqrt()): the model code calls tf.sqrt(t).
// They load with the first model that needs them, so a server that judges no image does not hold them.
export type Tfjs = typeof import('@tensorflow/tfjs-core') & { loadLayersModel: typeof import('@tensorflow/tfjs-layers').loadLayersModel };

let ready: Promise<Tfjs> | null = null;

/**
 * tfjs keeps one backend per process: the wasm one (SIMD, ~15× the plain-JS CPU backend), set up
 * once. The built-in model does its tensor arithmetic here whichever backbone runs the network.
 */
export function tfjsWasm(threads = 1): Promise<Tfjs> {
  ready ??= (async () => {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    const core = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
    const { loadLayersModel } = require('@tensorflow/tfjs-layers') as typeof import('@tensorflow/tfjs-layers');
    wasm.setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    wasm.setThreadsCount(threads);
    if (!(await core.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not start');
    await core.ready();
    return { ...core, loadLayersModel };
  })();
  return ready;
}
