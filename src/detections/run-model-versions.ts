import { type PrismaClient } from '../generated/prisma/client';
import { ModelProfile } from '../generated/prisma/enums';
import { type InspectDetector, type ScreenDetector } from '../adapters/detectors/detector.port';

/** The model versions a run judges a device type's images with; null: none yet (cold start). */
export interface PinnedVersions {
  screen: string | null;
  inspect: string | null;
}

/** Each run's model versions per device type, pinned in its row at its first image and kept here once stored. */
export class RunModelVersions {
  /** Pinned model versions by run and device type, as stored (see pinned). */
  private readonly kept = new Map<string, PinnedVersions>();

  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      screen: Pick<ScreenDetector, 'versionFor'>;
      inspect: Pick<InspectDetector, 'versionFor'>;
    },
  ) {}

  /**
   * The model versions a run uses for a device type, fixed at its first image: a deployment while the
   * run goes on changes the next run, not this one. The first writer wins, so images judged at once
   * agree. A version deployed through the API comes first; without one, the detector's own.
   */
  async pinned(runId: string, deviceType: string): Promise<PinnedVersions> {
    const key = JSON.stringify([runId, deviceType]);
    const kept = this.kept.get(key);
    if (kept) return kept;
    const { versions, stored } = await this.pin(runId, deviceType);
    // Once stored a run's versions never change: each step of each image asked the database again.
    if (stored) this.kept.set(key, versions);
    while (this.kept.size > 1000) this.kept.delete(this.kept.keys().next().value!);
    return versions;
  }

  private async pin(runId: string, deviceType: string): Promise<{ versions: PinnedVersions; stored: boolean }> {
    const { prisma } = this.deps;
    const read = async () =>
      (
        (await prisma.workflowRun.findUnique({ where: { id: runId }, select: { modelVersions: true } }))?.modelVersions as Record<
          string,
          PinnedVersions
        > | null
      )?.[deviceType] ?? null;
    const existing = await read();
    if (existing) return { versions: existing, stored: true };
    const now = await this.current(deviceType);
    await prisma.$executeRaw`
      UPDATE workflow_runs SET model_versions = jsonb_set(COALESCE(model_versions, '{}'::jsonb), ARRAY[${deviceType}::text], ${JSON.stringify(now)}::jsonb)
      WHERE id = ${runId}::uuid AND (model_versions -> ${deviceType}::text) IS NULL`;
    const stored = await read();
    return { versions: stored ?? now, stored: !!stored };
  }

  /** The versions a run starting now would pin for a device type. */
  async current(deviceType: string): Promise<PinnedVersions> {
    return {
      screen: (await this.activeVersion(deviceType, ModelProfile.SCREEN)) ?? (await this.deps.screen.versionFor(deviceType)),
      inspect: (await this.activeVersion(deviceType, ModelProfile.INSPECT)) ?? (await this.deps.inspect.versionFor(deviceType)),
    };
  }

  private async activeVersion(deviceType: string, profile: ModelProfile): Promise<string | null> {
    const active = await this.deps.prisma.activeModel.findUnique({
      where: { deviceType_profile: { deviceType, profile } },
      select: { model: { select: { version: true } } },
    });
    return active?.model.version ?? null;
  }
}
