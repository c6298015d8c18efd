import { DetectAnomaliesCommand, type LookoutVisionClient } from '@aws-sdk/client-lookoutvision';
import { DetectorError, type DetectorImage, type InspectDetector, type InspectResult } from './detector.port';
import { toInspectResult } from './anomaly-result';
import { callAws } from '../aws-errors';
import { assertLookoutLimits } from './limits';
import { lookoutVersionName } from './version-names';

export const LOOKOUT_DEPRECATION_NOTICE =
  'Amazon Lookout for Vision: AWS ended the service on 2025-10-31; INSPECT_DETECTOR=lookout-for-vision only works for accounts that still have it — plan a move to sagemaker or builtin.';

export { lookoutVersionName } from './version-names';

export interface LookoutOptions {
  projectName: string;
  modelVersion: string;
  /** Confidence below which a person should decide. */
  reviewBelow: number;
}

/** Stage 2 on a running Lookout for Vision model (one model for every device type). */
export class LookoutForVisionDetector implements InspectDetector {
  static readonly deprecationNotice = LOOKOUT_DEPRECATION_NOTICE;
  readonly name = 'lookout-for-vision';

  constructor(
    private readonly client: LookoutVisionClient,
    private readonly options: LookoutOptions,
  ) {}

  async versionFor(): Promise<string> {
    return lookoutVersionName(this.options.projectName, this.options.modelVersion);
  }

  /** The model version number to call: the one the run pinned (a version deployed through vigil), else LOOKOUT_MODEL_VERSION. */
  private modelVersionOf(image: DetectorImage): string {
    const prefix = lookoutVersionName(this.options.projectName, '');
    const pinned = image.modelVersion?.startsWith(prefix) ? image.modelVersion.slice(prefix.length) : null;
    return pinned && /^[1-9][0-9]*$/.test(pinned) ? pinned : this.options.modelVersion;
  }

  async inspect(image: DetectorImage): Promise<InspectResult> {
    assertLookoutLimits(image);
    const modelVersion = this.modelVersionOf(image);
    const body = await image.read();
    const response = await callAws('lookoutvision:DetectAnomalies', () =>
      this.client.send(
        new DetectAnomaliesCommand({
          ProjectName: this.options.projectName,
          ModelVersion: modelVersion,
          ContentType: image.contentType,
          Body: body,
        }),
      ),
    );
    const result = response.DetectAnomalyResult;
    if (typeof result?.IsAnomalous !== 'boolean' || typeof result.Confidence !== 'number') {
      throw new DetectorError('Lookout for Vision DetectAnomalies answered without IsAnomalous and Confidence');
    }
    return toInspectResult(
      { ...result, IsAnomalous: result.IsAnomalous, Confidence: result.Confidence },
      { modelVersion: lookoutVersionName(this.options.projectName, modelVersion), reviewBelow: this.options.reviewBelow },
    );
  }
}
