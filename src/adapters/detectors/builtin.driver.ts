import { type ModelArtifact } from '../../anomaly-model/artifact';
import { predict, type PredictOptions } from '../../anomaly-model/detector';
import { type BackboneProvider } from '../backbone/backbone.factory';
import { ThreadedBackbone } from '../backbone/threaded.driver';
import { type ObjectStore } from '../object-store/object-store.port';
import { type DetectorImage, type InspectDetector, type InspectResult, type ScreenDetector, type ScreenResult } from './detector.port';
import { type ModelRegistry } from './model-registry';

const round = (v: number) => Math.round(v * 1e4) / 1e4;

/**
 * Judges a picture on the backbone's own thread when it has one (the decoding, the feature maps and the model's
 * arithmetic all stay off the thread that runs the API and the workflows), else here: the same result either way.
 */
async function judge(provider: BackboneProvider, artifact: ModelArtifact, image: Buffer, options?: PredictOptions) {
  const backbone = await provider.get();
  return backbone instanceof ThreadedBackbone ? backbone.predict(artifact, image, options) : predict(backbone, artifact, image, options);
}

async function model(registry: ModelRegistry, image: DetectorImage, profile: 'screen' | 'inspect') {
  const artifact = await registry.get(image.deviceType, profile, image.modelVersion);
  if (!artifact) throw new Error(`no ${profile} model for device type ${image.deviceType}`);
  return artifact;
}

/** Stage 1 on the built-in `screen` model: anything anomalous or inside the review band goes on to stage 2. */
export class BuiltinScreenDetector implements ScreenDetector {
  readonly name = 'builtin-screen';

  constructor(
    private readonly registry: ModelRegistry,
    private readonly backbone: BackboneProvider,
  ) {}

  async versionFor(deviceType: string) {
    return (await this.registry.get(deviceType, 'screen'))?.manifest.version ?? null;
  }

  async screen(image: DetectorImage): Promise<ScreenResult> {
    const artifact = await model(this.registry, image, 'screen');
    const p = await judge(this.backbone, artifact, await image.read(), { heatmap: false });
    const flagged = p.isAnomalous || p.uncertain;
    return {
      flagged,
      confidence: round(flagged ? Math.max(p.anomalyProbability, 0.5) : 1 - p.anomalyProbability),
      labels: p.regions.length ? [{ name: 'anomaly', confidence: round(p.anomalyProbability), boxes: p.regions.map((r) => r.box) }] : [],
      modelVersion: p.model.version,
      raw: { score: round(p.score), anomalyProbability: round(p.anomalyProbability), uncertain: p.uncertain },
    };
  }
}

/** Stage 2 on the built-in `inspect` model; its heatmap is stored next to the picture for reviewers. */
export class BuiltinInspectDetector implements InspectDetector {
  readonly name = 'builtin-inspect';

  constructor(
    private readonly registry: ModelRegistry,
    private readonly store: ObjectStore,
    private readonly backbone: BackboneProvider,
  ) {}

  async versionFor(deviceType: string) {
    return (await this.registry.get(deviceType, 'inspect'))?.manifest.version ?? null;
  }

  async inspect(image: DetectorImage): Promise<InspectResult> {
    const artifact = await model(this.registry, image, 'inspect');
    const p = await judge(this.backbone, artifact, await image.read());
    const heatmapKey = `${image.key}.heatmap-${p.model.version}.png`;
    await this.store.put(heatmapKey, p.heatmap, { contentType: 'image/png' });
    return {
      isAnomalous: p.isAnomalous,
      confidence: round(p.confidence),
      uncertain: p.uncertain,
      regions: p.regions.map((r) => ({ box: r.box, type: 'anomaly', confidence: round(p.anomalyProbability) })),
      modelVersion: p.model.version,
      heatmapKey,
      raw: {
        score: round(p.score),
        anomalyProbability: round(p.anomalyProbability),
        uncertain: p.uncertain,
        thresholds: artifact.manifest.thresholds,
        views: p.views,
      },
    };
  }
}
