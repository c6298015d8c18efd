import { type Logger } from 'pino';
import { type BackboneProvider } from '../backbone/backbone.factory';
import { type ObjectStore } from '../object-store/object-store.port';
import { type Config } from '../../config/config';
import { type AwsDetectorClients } from './aws-detectors';
import { BuiltinInspectDetector, BuiltinScreenDetector } from './builtin.driver';
import { ModelRegistry, type StoredModelSource } from './model-registry';
import { type InspectDetector, type ScreenDetector } from './detector.port';

export interface Detectors {
  screen: ScreenDetector;
  inspect: InspectDetector;
}

/** The AWS detectors, loaded with their SDK clients only when one is configured. */
const aws = () => require('./aws-detectors') as typeof import('./aws-detectors');

/** The stage-1 and stage-2 detectors the configuration names; built-in models unless an AWS service is chosen. */
export function createDetectors(
  config: Pick<Config, 'detectors'>,
  deps: { store: ObjectStore; log: Logger; backbone: BackboneProvider; aws?: AwsDetectorClients; stored?: StoredModelSource },
): Detectors {
  const registry = new ModelRegistry(config.detectors.modelsDir, deps.stored ?? null);
  const { screen, inspect } = config.detectors;
  if (inspect.kind === 'lookout-for-vision') deps.log.warn(aws().LOOKOUT_DEPRECATION_NOTICE);
  return {
    screen:
      screen.kind === 'builtin'
        ? new BuiltinScreenDetector(registry, deps.backbone)
        : aws().createAwsScreenDetector(config.detectors, deps.aws)!,
    inspect:
      inspect.kind === 'builtin'
        ? new BuiltinInspectDetector(registry, deps.store, deps.backbone)
        : aws().createAwsInspectDetector(config.detectors, deps.aws)!,
  };
}
