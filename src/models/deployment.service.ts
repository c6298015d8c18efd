import { type Logger } from 'pino';
import { type ActiveModel, type ModelDeployment, type ModelVersion, type PrismaClient } from '../generated/prisma/client';
import { DeploymentAction, ModelStatus, type ModelProfile } from '../generated/prisma/enums';
import { badInput, conflict, DomainError, ErrorCode, notFound } from '../common/errors';
import { evaluateOn, type ModelMetrics } from './evaluation';
import { type StoredModels } from './model-artifacts';
import { type ExternalDeployer, type ExternalModel } from './trainer.port';
import { type ModelTrainingService, type StoredMetrics, type TrainedOn } from './training.service';

interface Figures {
  modelVersionId: string;
  version: string | null;
  recall: number | null;
  f1: number | null;
  auroc: number | null;
}

/** What the deploy gate compared and decided; stored with the deployment. */
export interface GateResult {
  passed: boolean;
  splitHash: string | null;
  candidate: Figures;
  /** The version serving when the gate ran; null for the first deployment of a (device type, profile). */
  active: Figures | null;
  margins: { recall: number; f1: number };
  /** Why it refused, one line per metric; empty when it passed. */
  reasons: string[];
}

export interface DeploymentDeps {
  prisma: PrismaClient;
  training: ModelTrainingService;
  models: StoredModels;
  /** Lookout for Vision (StartModel/StopModel) or SageMaker (UpdateEndpoint); null for the built-in model. */
  external: ExternalDeployer | null;
  settings: { recallMargin: number; f1Margin: number };
  log: Logger;
}

const figures = (v: ModelVersion, m: ModelMetrics | null): Figures => ({ modelVersionId: v.id, version: v.version, recall: m?.recall ?? null, f1: m?.f1 ?? null, auroc: m?.auroc ?? null });
const pct = (v: number | null) => (v === null ? 'none' : v.toFixed(3));

/**
 * Which version serves each (device type, profile). A deployment passes the gate (not worse than
 * the serving version on the same test split, within margins) or an ADMIN overrides it with a
 * reason; the swap is one row update, so a run sees the old version or the new one, never a mix
 * (runs pin the version they started with: DetectionService.pinned).
 */
export class ModelDeploymentService {
  constructor(private readonly deps: DeploymentDeps) {}

  active(filter: { deviceType?: string | null } = {}): Promise<(ActiveModel & { model: ModelVersion })[]> {
    return this.deps.prisma.activeModel.findMany({ where: filter.deviceType ? { deviceType: filter.deviceType } : {}, include: { model: true }, orderBy: [{ deviceType: 'asc' }, { profile: 'asc' }] });
  }

  async deploy(id: string, options: { override?: boolean; reason?: string | null; by?: string | null } = {}): Promise<ModelDeployment> {
    const { prisma } = this.deps;
    const candidate = await prisma.modelVersion.findUnique({ where: { id } });
    if (!candidate) throw notFound('ModelVersion', id);
    if (candidate.status !== ModelStatus.TRAINED) throw conflict('id', `model version ${id} is ${candidate.status}: only TRAINED versions deploy`);
    const reason = options.reason?.trim() || null;
    if (options.override && (!reason || reason.length < 10)) throw badInput('reason', 'required when override is true (at least 10 characters): say why the gate is overridden; it is stored with the deployment');
    const current = await this.current(candidate.deviceType, candidate.profile);
    if (current?.modelVersionId === id) return current.deployment;
    const gate = await this.gate(candidate, current?.model ?? null);
    if (!gate.passed && !options.override) {
      throw new DomainError(ErrorCode.GATE_REFUSED, `model version ${id} is worse than the serving version ${gate.active?.modelVersionId} on the same test split: ${gate.reasons.join('; ')}. An ADMIN may deploy it anyway with override: true and a reason.`, { gate });
    }
    await this.deployExternal(candidate, current?.model ?? null);
    return this.swap(candidate, current?.model ?? null, { action: DeploymentAction.DEPLOY, overridden: !gate.passed, reason, gate, by: options.by ?? null });
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
    const margins = { recall: this.deps.settings.recallMargin, f1: this.deps.settings.f1Margin };
    const metrics = candidate.metrics as unknown as StoredMetrics | null;
    const mine = figures(candidate, metrics);
    if (!active || active.id === candidate.id) return { passed: true, splitHash: metrics?.splitHash ?? null, candidate: mine, active: null, margins, reasons: [] };
    const theirs = figures(active, await this.baseline(candidate, active));
    const reasons: string[] = [];
    const check = (name: 'recall' | 'f1', margin: number) => {
      const [c, a] = [mine[name], theirs[name]];
      if (a === null) return;
      if (c === null || c < a - margin - 1e-9) reasons.push(`${name} ${pct(c)} < ${pct(a)} − margin ${margin}`);
    };
    check('recall', margins.recall);
    check('f1', margins.f1);
    return { passed: reasons.length === 0, splitHash: metrics?.splitHash ?? null, candidate: mine, active: theirs, margins, reasons };
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
      return evaluateOn(await this.deps.models.read(active.artifactKey), test, trainedOn.splitHash);
    }
    // A cloud model measured by its service on the project's test dataset: the figures it reported.
    return activeMetrics;
  }

  private async deployExternal(target: ModelVersion, previous: ModelVersion | null): Promise<void> {
    if (!this.deps.external || target.trainer === 'builtin') return;
    const external = (v: ModelVersion): ExternalModel => ({ modelVersionId: v.id, externalVersion: v.externalVersion ?? v.version ?? '', artifactUri: v.artifactUri });
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
        throw conflict('id', `the serving ${profile} model of ${deviceType} changed while this deployment was checked; look at activeModels and try again`);
      }
      const created = await tx.modelDeployment.create({
        data: { deviceType, profile, modelVersionId: target.id, previousVersionId: expected?.id ?? null, action: d.action, overridden: d.overridden, reason: d.reason, gate: (d.gate ?? {}) as object, deployedBy: d.by },
      });
      await tx.activeModel.upsert({
        where: { deviceType_profile: { deviceType, profile } },
        create: { deviceType, profile, modelVersionId: target.id, deploymentId: created.id },
        update: { modelVersionId: target.id, deploymentId: created.id, drifting: false },
      });
      return created;
    });
    this.deps.log.info({ deviceType, profile, modelVersionId: target.id, version: target.version, previous: expected?.id ?? null, action: d.action, overridden: d.overridden, reason: d.reason }, 'model deployed');
    return deployment;
  }

  private async current(deviceType: string, profile: ModelProfile) {
    return this.deps.prisma.activeModel.findUnique({ where: { deviceType_profile: { deviceType, profile } }, include: { model: true, deployment: true } });
  }

  deployments(filter: { deviceType?: string | null; profile?: ModelProfile | null; modelVersionId?: string | null }, limit = 50): Promise<ModelDeployment[]> {
    return this.deps.prisma.modelDeployment.findMany({
      where: { ...(filter.deviceType ? { deviceType: filter.deviceType } : {}), ...(filter.profile ? { profile: filter.profile } : {}), ...(filter.modelVersionId ? { modelVersionId: filter.modelVersionId } : {}) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit,
    });
  }
}
