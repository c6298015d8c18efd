import { type Logger } from 'pino';
import { type ActiveModel, type ModelDeployment, type ModelVersion, type PrismaClient } from '../generated/prisma/client';
import { DeploymentAction, ModelStatus, type ModelProfile } from '../generated/prisma/enums';
import { badInput, conflict, DomainError, ErrorCode, notFound } from '../common/errors';
import { type ModelMetrics } from './evaluation';
import { type StoredModels } from './model-artifacts';
import { type ExternalDeployer, type ExternalModel } from '../adapters/model-trainer/model-trainer.port';
import { type ModelTrainingService, type StoredMetrics, type TrainedOn } from './training.service';
import { modelDeployedEvent, webhookEvents } from '../webhooks/outbox';

interface Figures {
  modelVersionId: string;
  version: string | null;
  /** At the version's own operating threshold. */
  recall: number | null;
  f1: number | null;
  /** Threshold-free, or at a recall fixed for every version (atRecall): what a threshold swing cannot move. */
  auroc: number | null;
  atRecall: number | null;
  precisionAtRecall: number | null;
  fprAtRecall: number | null;
}

/** The figures the gate may compare, in the order it reports them. */
export type GateFigure = 'auroc' | 'precisionAtRecall' | 'recall' | 'f1';

/** What the deploy gate compared and decided; stored with the deployment. */
export interface GateResult {
  passed: boolean;
  splitHash: string | null;
  candidate: Figures;
  /** The version serving when the gate ran; null for the first deployment of a (device type, profile). */
  active: Figures | null;
  margins: { recall: number; f1: number; auroc: number; precisionAtRecall: number };
  /**
   * What was compared: AUROC and precision at the fixed recall when both versions have them; recall
   * and F1 at each version's own threshold as well when either is missing (cloud services report
   * only some figures; versions measured before these figures existed have neither).
   */
  compared: GateFigure[];
  /** Why it refused, one line per metric; empty when it passed. */
  reasons: string[];
}

/** Margins of the threshold-free figures when the composition root gives none (MODEL_GATE_AUROC_MARGIN, MODEL_GATE_PRECISION_MARGIN). */
export const DEFAULT_GATE_MARGINS = { auroc: 0.01, precisionAtRecall: 0.02 };

export interface DeploymentDeps {
  prisma: PrismaClient;
  training: ModelTrainingService;
  models: StoredModels;
  /** Lookout for Vision (StartModel/StopModel) or SageMaker (UpdateEndpoint); null for the built-in model. */
  external: ExternalDeployer | null;
  settings: { recallMargin: number; f1Margin: number; aurocMargin?: number; precisionMargin?: number; autoDeploy?: boolean };
  log: Logger;
}

const figures = (v: ModelVersion, m: ModelMetrics | null): Figures => ({
  modelVersionId: v.id,
  version: v.version,
  recall: m?.recall ?? null,
  f1: m?.f1 ?? null,
  auroc: m?.auroc ?? null,
  atRecall: m?.atRecall ?? null,
  precisionAtRecall: m?.precisionAtRecall ?? null,
  fprAtRecall: m?.fprAtRecall ?? null,
});
const pct = (v: number | null) => (v === null ? 'none' : v.toFixed(3));

/** Which figures decide: the threshold-free pair when both versions have it, else (also) the operating-threshold pair. */
export function gateFigures(candidate: Figures, active: Figures): GateFigure[] {
  const both = (name: 'auroc' | 'precisionAtRecall') => candidate[name] !== null && active[name] !== null;
  const compared: GateFigure[] = [];
  if (both('auroc')) compared.push('auroc');
  if (both('precisionAtRecall') && candidate.atRecall === active.atRecall) compared.push('precisionAtRecall');
  if (compared.length < 2) compared.push('recall', 'f1');
  return compared;
}

/**
 * Which version serves each (device type, profile). A deployment passes the gate (not worse than
 * the serving version on the same test split, within margins, by AUROC and precision at a fixed
 * recall, which a move of either model's own threshold cannot change) or an ADMIN overrides it with a
 * reason; the swap is one row update, so a run sees the old version or the new one, never a mix
 * (runs pin the version they started with: DetectionService.pinned).
 */
export class ModelDeploymentService {
  constructor(private readonly deps: DeploymentDeps) {}

  active(filter: { deviceType?: string | null } = {}): Promise<(ActiveModel & { model: ModelVersion })[]> {
    return this.deps.prisma.activeModel.findMany({
      where: filter.deviceType ? { deviceType: filter.deviceType } : {},
      include: { model: true },
      orderBy: [{ deviceType: 'asc' }, { profile: 'asc' }],
    });
  }

  /**
   * MODEL_AUTO_DEPLOY: a version trained automatically goes live if it passes the gate; a refusal
   * leaves it TRAINED for a person to judge. Manual trainings wait for a person.
   */
  async deployIfAutomatic(version: Pick<ModelVersion, 'id' | 'trigger'>): Promise<void> {
    if (version.trigger === 'MANUAL' || !this.deps.settings.autoDeploy) return;
    try {
      await this.deploy(version.id, { by: `auto:${version.trigger}` });
    } catch (err) {
      if (!(err instanceof DomainError) || err.code !== ErrorCode.GATE_REFUSED) throw err;
      this.deps.log.warn(
        { modelVersionId: version.id, gate: err.details.gate },
        'automatically trained version not deployed: the gate refused it',
      );
    }
  }

  async deploy(id: string, options: { override?: boolean; reason?: string | null; by?: string | null } = {}): Promise<ModelDeployment> {
    const { prisma } = this.deps;
    const candidate = await prisma.modelVersion.findUnique({ where: { id } });
    if (!candidate) throw notFound('ModelVersion', id);
    if (candidate.status !== ModelStatus.TRAINED)
      throw conflict('id', `model version ${id} is ${candidate.status}: only TRAINED versions deploy`);
    const reason = options.reason?.trim() || null;
    if (options.override && (!reason || reason.length < 10))
      throw badInput(
        'reason',
        'required when override is true (at least 10 characters): say why the gate is overridden; it is stored with the deployment',
      );
    const current = await this.current(candidate.deviceType, candidate.profile);
    if (current?.modelVersionId === id) return current.deployment;
    const gate = await this.gate(candidate, current?.model ?? null);
    if (!gate.passed && !options.override) {
      throw new DomainError(
        ErrorCode.GATE_REFUSED,
        `model version ${id} is worse than the serving version ${gate.active?.modelVersionId} on the same test split: ${gate.reasons.join('; ')}. An ADMIN may deploy it anyway with override: true and a reason.`,
        { gate },
      );
    }
    await this.deployExternal(candidate, current?.model ?? null);
    return this.swap(candidate, current?.model ?? null, {
      action: DeploymentAction.DEPLOY,
      overridden: !gate.passed,
      reason,
      gate,
      by: options.by ?? null,
    });
  }

  /** Back to the version that served before the current one (walking further back on each call); no gate. */
  async rollback(deviceType: string, profile: ModelProfile, by: string | null = null): Promise<ModelDeployment> {
    const current = await this.current(deviceType, profile);
    if (!current) throw notFound('ActiveModel', `${deviceType}/${profile}`);
    const targetId = await this.rollbackTarget(current.deployment);
    if (!targetId) throw conflict('profile', `${deviceType} ${profile} has no earlier version to roll back to`);
    const target = await this.deps.prisma.modelVersion.findUniqueOrThrow({ where: { id: targetId } });
    await this.deployExternal(target, current.model);
    return this.swap(target, current.model, { action: DeploymentAction.ROLLBACK, overridden: false, reason: null, gate: null, by });
  }

  /** The version a rollback from `deployment` returns to: its predecessor, or for a rollback, the predecessor of the version it restored. */
  private async rollbackTarget(deployment: ModelDeployment): Promise<string | null> {
    if (deployment.action === DeploymentAction.DEPLOY) return deployment.previousVersionId;
    const restored = await this.deps.prisma.modelDeployment.findFirst({
      where: { modelVersionId: deployment.modelVersionId, action: DeploymentAction.DEPLOY, createdAt: { lte: deployment.createdAt } },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
    return restored?.previousVersionId ?? null;
  }

  async gate(candidate: ModelVersion, active: ModelVersion | null): Promise<GateResult> {
    const s = this.deps.settings;
    const margins = {
      recall: s.recallMargin,
      f1: s.f1Margin,
      auroc: s.aurocMargin ?? DEFAULT_GATE_MARGINS.auroc,
      precisionAtRecall: s.precisionMargin ?? DEFAULT_GATE_MARGINS.precisionAtRecall,
    };
    const metrics = candidate.metrics as unknown as StoredMetrics | null;
    const mine = figures(candidate, metrics);
    if (!active || active.id === candidate.id)
      return { passed: true, splitHash: metrics?.splitHash ?? null, candidate: mine, active: null, margins, compared: [], reasons: [] };
    const theirs = figures(active, await this.baseline(candidate, active));
    const compared = gateFigures(mine, theirs);
    const label = (name: GateFigure) =>
      name === 'auroc' ? 'AUROC' : name === 'precisionAtRecall' ? `precision at recall ${mine.atRecall}:` : name;
    const reasons: string[] = [];
    for (const name of compared) {
      const [c, a, margin] = [mine[name], theirs[name], margins[name]];
      if (a === null) continue;
      if (c === null || c < a - margin - 1e-9) reasons.push(`${label(name)} ${pct(c)} < ${pct(a)} − margin ${margin}`);
    }
    return {
      passed: reasons.length === 0,
      splitHash: metrics?.splitHash ?? null,
      candidate: mine,
      active: theirs,
      margins,
      compared,
      reasons,
    };
  }

  /** The serving version's figures on the candidate's test split: measured at training time, or now if another version served then. */
  private async baseline(candidate: ModelVersion, active: ModelVersion): Promise<ModelMetrics | null> {
    const metrics = candidate.metrics as unknown as StoredMetrics | null;
    if (metrics?.baseline?.modelVersionId === active.id) return metrics.baseline.metrics;
    const activeMetrics = active.metrics as unknown as StoredMetrics | null;
    if (activeMetrics && metrics && activeMetrics.splitHash === metrics.splitHash) return activeMetrics;
    if (active.artifactKey && candidate.trainedOn) {
      const trainedOn = candidate.trainedOn as unknown as TrainedOn;
      const test = (await this.deps.training.snapshot(trainedOn)).filter((e) => e.split === 'TEST').map((e) => this.deps.training.item(e));
      return this.deps.training.measure(active.artifactKey, test, trainedOn.splitHash);
    }
    // A cloud model measured by its service on the project's test dataset: the figures it reported.
    return activeMetrics;
  }

  private async deployExternal(target: ModelVersion, previous: ModelVersion | null): Promise<void> {
    if (!this.deps.external || target.trainer === 'builtin') return;
    const external = (v: ModelVersion): ExternalModel => ({
      modelVersionId: v.id,
      externalVersion: v.externalVersion ?? v.version ?? '',
      artifactUri: v.artifactUri,
    });
    await this.deps.external.deploy(external(target), previous && previous.trainer !== 'builtin' ? external(previous) : null);
  }

  private async swap(
    target: ModelVersion,
    expected: ModelVersion | null,
    d: { action: DeploymentAction; overridden: boolean; reason: string | null; gate: GateResult | null; by: string | null },
  ): Promise<ModelDeployment> {
    const { deviceType, profile } = target;
    const deployment = await this.deps.prisma.$transaction(async (tx) => {
      // One deployment of a (device type, profile) at a time; the second waits, then sees the first.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`vigil-deploy:${deviceType}:${profile}`}))`;
      const now = await tx.activeModel.findUnique({ where: { deviceType_profile: { deviceType, profile } } });
      if ((now?.modelVersionId ?? null) !== (expected?.id ?? null)) {
        throw conflict(
          'id',
          `the serving ${profile} model of ${deviceType} changed while this deployment was checked; look at activeModels and try again`,
        );
      }
      const created = await tx.modelDeployment.create({
        data: {
          deviceType,
          profile,
          modelVersionId: target.id,
          previousVersionId: expected?.id ?? null,
          action: d.action,
          overridden: d.overridden,
          reason: d.reason,
          gate: (d.gate ?? {}) as object,
          deployedBy: d.by,
        },
      });
      await tx.activeModel.upsert({
        where: { deviceType_profile: { deviceType, profile } },
        create: { deviceType, profile, modelVersionId: target.id, deploymentId: created.id },
        update: { modelVersionId: target.id, deploymentId: created.id, drifting: false },
      });
      await webhookEvents(tx, [modelDeployedEvent(created, target)]);
      return created;
    });
    this.deps.log.info(
      {
        deviceType,
        profile,
        modelVersionId: target.id,
        version: target.version,
        previous: expected?.id ?? null,
        action: d.action,
        overridden: d.overridden,
        reason: d.reason,
      },
      'model deployed',
    );
    return deployment;
  }

  private async current(deviceType: string, profile: ModelProfile) {
    return this.deps.prisma.activeModel.findUnique({
      where: { deviceType_profile: { deviceType, profile } },
      include: { model: true, deployment: true },
    });
  }

  deployments(
    filter: { deviceType?: string | null; profile?: ModelProfile | null; modelVersionId?: string | null },
    limit = 50,
  ): Promise<ModelDeployment[]> {
    return this.deps.prisma.modelDeployment.findMany({
      where: {
        ...(filter.deviceType ? { deviceType: filter.deviceType } : {}),
        ...(filter.profile ? { profile: filter.profile } : {}),
        ...(filter.modelVersionId ? { modelVersionId: filter.modelVersionId } : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
  }
}
