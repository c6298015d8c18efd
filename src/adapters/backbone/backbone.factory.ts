import { type BackboneConfig } from '../../config/config';
import { type Backbone } from './backbone.port';
import { openMobilenetBackbone } from './mobilenet.driver';

/** The backbone the configuration names, loaded once and warmed up. */
export async function openBackbone(config: BackboneConfig): Promise<Backbone> {
  if (config.kind === 'onnx') {
    const { openOnnxBackbone } = await import('./onnx.driver');
    return openOnnxBackbone(config);
  }
  return openMobilenetBackbone({ threads: config.threads });
}

/**
 * The process's one backbone, opened on first use (a deployment whose detectors and trainer are
 * all AWS services never loads it); `close()` releases it if it was opened.
 */
export interface BackboneProvider {
  get(): Promise<Backbone>;
  close(): Promise<void>;
}

export function backboneProvider(open: () => Promise<Backbone>): BackboneProvider {
  let opened: Promise<Backbone> | null = null;
  return {
    get() {
      opened ??= open().catch((err) => {
        opened = null;
        throw err;
      });
      return opened;
    },
    async close() {
      const was = opened;
      opened = null;
      if (was) await (await was.catch(() => null))?.close();
    },
  };
}
