import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DeploymentAction, ModelProfile, ModelStatus, ModelTrigger } from '../generated/prisma/enums';
import { ConnectionType } from '../common/pagination/connection.type';
import { Node } from '../graphql/node.type';
import { DatasetSplitStatsType } from '../datasets/dataset.type';

export { DeploymentAction, ModelProfile, ModelStatus, ModelTrigger };

registerEnumType(ModelProfile, {
  name: 'ModelProfile',
  valuesConfig: {
    SCREEN: { description: 'Stage 1: cheap, sees every image.' },
    INSPECT: { description: 'Stage 2: the anomaly model, sees what SCREEN flagged.' },
  },
});
registerEnumType(ModelStatus, {
  name: 'ModelStatus',
  valuesConfig: {
    TRAINING: { description: 'The train-model workflow is running.' },
    TRAINED: { description: 'Trained and measured on the test split; deployModel may make it serve.' },
    FAILED: { description: 'Training failed; error and cause say why.' },
  },
});
registerEnumType(ModelTrigger, {
  name: 'ModelTrigger',
  valuesConfig: {
    MANUAL: { description: 'trainModel.' },
    AUTO_LABELS: { description: 'MODEL_RETRAIN_AFTER_LABELS new reviewed labels arrived.' },
    AUTO_SCHEDULE: { description: 'MODEL_RETRAIN_INTERVAL_HOURS passed with new labels.' },
  },
});
registerEnumType(DeploymentAction, {
  name: 'DeploymentAction',
  valuesConfig: { DEPLOY: { description: 'deployModel.' }, ROLLBACK: { description: 'rollbackModel.' } },
});

@ObjectType('ConfusionMatrix', { description: 'Counts at the operating threshold: anomalous is positive.' })
export class ConfusionMatrix {
  @Field(() => Int) tp: number;
  @Field(() => Int) fp: number;
  @Field(() => Int) tn: number;
  @Field(() => Int) fn: number;
}

@ObjectType('CurvePoint', {
  description: 'A point of a curve: ROC (x false-positive rate, y true-positive rate) or precision-recall (x recall, y precision).',
})
export class CurvePointType {
  @Field(() => Float) x: number;
  @Field(() => Float) y: number;
}

@ObjectType('ModelMetrics', { description: 'A version measured on a test split (never on what it trained on).' })
export class ModelMetricsType {
  @Field({ description: 'Who measured: builtin (vigil) or the cloud service that trained it.' })
  source: string;

  @Field(() => Int) testCount: number;
  @Field(() => Int) normal: number;
  @Field(() => Int) anomalous: number;

  @Field(() => Float, { nullable: true, description: 'Image AUROC; null when the split lacks either label or the service reports none.' })
  auroc: number | null;

  @Field(() => Float, { nullable: true }) precision: number | null;
  @Field(() => Float, { nullable: true }) recall: number | null;
  @Field(() => Float, { nullable: true, description: 'F1 at the operating threshold.' }) f1: number | null;
  @Field(() => Float, { nullable: true, description: 'The operating threshold, on the model score scale.' }) threshold: number | null;

  @Field(() => Float, { nullable: true, description: 'Share of test images inside the review band: the human-review load.' })
  reviewBandShare: number | null;

  @Field(() => Float, { nullable: true, description: 'Accuracy of the verdicts outside the review band.' })
  accuracyOutsideBand: number | null;

  @Field(() => ConfusionMatrix, { nullable: true }) confusion: ConfusionMatrix | null;

  @Field(() => Float, {
    nullable: true,
    description: 'The recall precisionAtRecall and fprAtRecall are read at (0.95), the same for every version.',
  })
  atRecall?: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      'The best precision of any threshold reaching atRecall: independent of the operating threshold, so versions compare fairly. Null when not measured.',
  })
  precisionAtRecall?: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'The lowest false-positive rate of any threshold reaching atRecall. Null when not measured.',
  })
  fprAtRecall?: number | null;

  @Field(() => [CurvePointType], {
    nullable: true,
    description:
      'The ROC curve on the test split, one point per score threshold (at most 101), from (0, 0) to (1, 1). Null when not measured.',
  })
  roc?: CurvePointType[] | null;

  @Field(() => [CurvePointType], {
    nullable: true,
    description:
      'The precision-recall curve on the test split, from the highest threshold down (at most 101 points). Null when not measured.',
  })
  pr?: CurvePointType[] | null;

  @Field({ description: 'Identifies the test split (its entries and labels): figures compare only on equal hashes.' })
  splitHash: string;
}

@ObjectType('ModelThresholds')
export class ModelThresholdsType {
  @Field(() => Float, { description: 'Scores at or above are anomalous.' }) operating: number;
  @Field(() => Float, { description: 'Review band: scores in [reviewLow, reviewHigh) go to a person.' }) reviewLow: number;
  @Field(() => Float) reviewHigh: number;
  @Field(() => Float, { description: 'A patch at or above belongs to a region.' }) patch: number;
}

@ObjectType('TrainedOn', { description: 'The dataset as it was when training began.' })
export class TrainedOnType {
  @Field() takenAt: Date;
  @Field(() => Date, { nullable: true, description: 'The newest label included; later labels count towards the next training.' })
  labelledThrough: Date | null;
  @Field(() => Int) entries: number;
  @Field(() => DatasetSplitStatsType) train: DatasetSplitStatsType;
  @Field(() => DatasetSplitStatsType) test: DatasetSplitStatsType;
  @Field() splitHash: string;
  @Field(() => String, {
    nullable: true,
    description: 'The TRAIN entries as a Lookout-format manifest (link valid for UPLOAD_URL_TTL_SECONDS).',
  })
  trainManifestUrl: string | null;
  @Field(() => String, { nullable: true }) testManifestUrl: string | null;
}

@ObjectType('ModelArtifact')
export class ModelArtifactType {
  @Field(() => String, { nullable: true, description: 'Object-store key of the built-in model file.' }) key: string | null;
  @Field(() => String, { nullable: true, description: 'Download link (valid for UPLOAD_URL_TTL_SECONDS).' }) url: string | null;
  @Field(() => String, { nullable: true, description: "Where a cloud service keeps the model (SageMaker's model.tar.gz)." }) uri:
    | string
    | null;
  @Field(() => Int, { nullable: true }) bytes: number | null;
  @Field(() => String, { nullable: true }) sha256: string | null;
}

@ObjectType('ModelVersion', { implements: Node, description: 'One training of a model from a dataset.' })
export class ModelVersionType extends Node {
  @Field() deviceType: string;
  @Field(() => ModelProfile) profile: ModelProfile;
  @Field(() => ModelStatus) status: ModelStatus;
  @Field({ description: 'builtin, lookout-for-vision or sagemaker.' }) trainer: string;
  @Field(() => ModelTrigger) trigger: ModelTrigger;
  @Field(() => GraphQLJSONObject) params: Record<string, unknown>;
  @Field(() => String, { nullable: true, description: 'What detections record as their modelVersion; null until trained.' }) version:
    | string
    | null;
  @Field(() => String, { nullable: true, description: "The cloud service's id for the training." }) externalId: string | null;
  @Field(() => String, { nullable: true }) error: string | null;
  @Field(() => String, { nullable: true }) cause: string | null;
  @Field(() => String, { nullable: true, description: 'API key name, or auto:<trigger>.' }) requestedBy: string | null;
  @Field() createdAt: Date;
  @Field(() => Date, { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
}

@ObjectType('GateFigures')
export class GateFiguresType {
  @Field() modelVersionId: string;
  @Field(() => String, { nullable: true }) version: string | null;
  @Field(() => Float, { nullable: true }) recall: number | null;
  @Field(() => Float, { nullable: true }) f1: number | null;
  @Field(() => Float, { nullable: true }) auroc: number | null;
  @Field(() => Float, { nullable: true }) atRecall?: number | null;
  @Field(() => Float, { nullable: true }) precisionAtRecall?: number | null;
  @Field(() => Float, { nullable: true }) fprAtRecall?: number | null;
}

@ObjectType('GateMargins')
export class GateMarginsType {
  @Field(() => Float) recall: number;
  @Field(() => Float) f1: number;
  @Field(() => Float, { nullable: true, description: 'MODEL_GATE_AUROC_MARGIN; null in gates stored before it existed.' }) auroc?:
    | number
    | null;
  @Field(() => Float, { nullable: true, description: 'MODEL_GATE_PRECISION_MARGIN; null in gates stored before it existed.' })
  precisionAtRecall?: number | null;
}

@ObjectType('DeployGate', { description: 'What the deploy gate compared: both versions on the same test split.' })
export class DeployGateType {
  @Field() passed: boolean;
  @Field(() => String, { nullable: true }) splitHash: string | null;
  @Field(() => GateFiguresType) candidate: GateFiguresType;
  @Field(() => GateFiguresType, { nullable: true, description: 'The version serving then; null for a first deployment.' })
  active: GateFiguresType | null;
  @Field(() => GateMarginsType) margins: GateMarginsType;
  @Field(() => [String], {
    nullable: true,
    description:
      "The figures compared: auroc and precisionAtRecall when both versions have them, plus recall and f1 at each version's own threshold when either is missing. Null in gates stored before this list existed.",
  })
  compared?: string[] | null;
  @Field(() => [String]) reasons: string[];
}

@ObjectType('ModelDeployment', { implements: Node, description: 'A change of the version serving a device type and profile.' })
export class ModelDeploymentType extends Node {
  @Field() deviceType: string;
  @Field(() => ModelProfile) profile: ModelProfile;
  @Field(() => DeploymentAction) action: DeploymentAction;
  @Field({ description: 'The gate refused and an ADMIN deployed anyway.' }) overridden: boolean;
  @Field(() => String, { nullable: true, description: 'Why the gate was overridden.' }) reason: string | null;
  @Field(() => String, { nullable: true }) deployedBy: string | null;
  @Field() createdAt: Date;
}

@ObjectType('ActiveModel', { description: 'The version serving a device type and profile now.' })
export class ActiveModelType {
  @Field() deviceType: string;
  @Field(() => ModelProfile) profile: ModelProfile;
  @Field({ description: 'The agreement monitor last found it below MODEL_HEALTH_FLOOR.' }) drifting: boolean;
  @Field({ description: 'When it started serving (or its drift state changed).' }) updatedAt: Date;
}

export const ModelVersionConnection = ConnectionType(ModelVersionType, 'ModelVersion');

@ObjectType('ModelAgreement', {
  description: 'Model verdicts against reviewer verdicts on completed review tasks (anomalous is positive).',
})
export class AgreementType {
  @Field(() => Int) samples: number;
  @Field(() => Int) tp: number;
  @Field(() => Int) fp: number;
  @Field(() => Int) tn: number;
  @Field(() => Int) fn: number;
  @Field(() => Float, { nullable: true }) precision: number | null;
  @Field(() => Float, { nullable: true }) recall: number | null;
  @Field(() => Float, { nullable: true, description: 'Share of samples where model and reviewer agree.' }) agreement: number | null;
}

@ObjectType('ModelHealthSettings')
export class ModelHealthSettingsType {
  @Field(() => Int, { description: 'MODEL_HEALTH_WINDOW: the last N completed tasks of each kind.' }) window: number;
  @Field(() => Int, { description: 'MODEL_HEALTH_MIN_SAMPLES: fewer QA samples never raise drift.' }) minSamples: number;
  @Field(() => Float, { description: 'MODEL_HEALTH_FLOOR.' }) floor: number;
}

@ObjectType('ModelHealth', { description: 'How well the serving model agrees with reviewers, and where its training stands.' })
export class ModelHealthType {
  @Field() deviceType: string;
  @Field(() => AgreementType, { description: 'SAMPLED_QA tasks: a fixed share of confident verdicts, an unbiased estimate.' })
  qa: AgreementType;
  @Field(() => AgreementType, {
    description: 'LOW_CONFIDENCE tasks: cases the model doubted, biased towards its mistakes by construction.',
  })
  lowConfidence: AgreementType;
  @Field(() => ModelHealthSettingsType) settings: ModelHealthSettingsType;
  @Field({ description: 'The QA estimate (with enough samples) is below the floor.' }) belowFloor: boolean;
  @Field({ description: 'A modelDrift alert is raised and not yet cleared.' }) drifting: boolean;
  @Field(() => Int, { description: 'Labels added since the last training began.' }) labelsWaiting: number;
  @Field(() => Date, { nullable: true }) lastTrainedAt: Date | null;
}

@ObjectType('ModelDriftEvent', { description: "The serving model's agreement with reviewers fell below MODEL_HEALTH_FLOOR." })
export class ModelDriftEventType {
  @Field() deviceType: string;
  @Field(() => Float, { nullable: true }) precision: number | null;
  @Field(() => Float, { nullable: true }) recall: number | null;
  @Field(() => Int) samples: number;
  @Field(() => Float) floor: number;
  @Field() at: Date;
}
