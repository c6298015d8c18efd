import crypto from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { type PrismaClient } from '../generated/prisma/client';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { type ModelArtifact, parseArtifact, serializeArtifact } from '../anomaly-model/artifact';
import { type Profile } from '../anomaly-model/types';
import { toDbProfile } from './profile';

/** Artifacts are immutable (the version is their content hash), so a handful stay parsed in memory. */
const CACHE_SIZE = 8;
const KEYS_KEPT = 1000;
/**
 * How long a version found in no training's row is taken for one the detector has from elsewhere (a model file
 * in MODELS_DIR): each picture a run judged with a file model asked the database again. Versions are content
 * hashes, so a row registered meanwhile names the same bytes; this only bounds how long the file is read instead.
 */
const ABSENT_KEPT_MS = 10_000;

/**
 * Built-in model files in the object store, `models/<deviceType>/<profile>/<version>.vgm`, found
 * through the ModelVersion rows that name them. Written once, never changed: a version's bytes are
 * the same wherever and whenever they are read.
 */
export class StoredModels {
  private readonly cache = new Map<string, ModelArtifact>();
  private readonly keys = new Map<string, string>();
  /** Versions no row names, and until when that is believed (see ABSENT_KEPT_MS). */
  private readonly absent = new Map<string, number>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly store: ObjectStore,
    private readonly options: { absentKeptMs?: number } = {},
  ) {}

  static keyFor(deviceType: string, profile: Profile, version: string): string {
    const segment =
      deviceType
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/^[^a-z0-9]+/, '') || 'type';
    const digest = crypto.createHash('sha256').update(deviceType).digest('hex').slice(0, 8);
    return `models/${segment}-${digest}/${profile}/${version}.vgm`;
  }

  /** Stores an artifact; idempotent (same version, same key, same bytes). */
  async put(deviceType: string, artifact: ModelArtifact): Promise<{ key: string; bytes: number; sha256: string }> {
    const bytes = serializeArtifact(artifact);
    const key = StoredModels.keyFor(deviceType, artifact.manifest.profile, artifact.manifest.version);
    await this.store.put(key, bytes, { contentType: 'application/gzip' });
    this.remember(key, artifact);
    this.absent.delete(JSON.stringify([deviceType, artifact.manifest.profile, artifact.manifest.version]));
    return { key, bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
  }

  async read(key: string): Promise<ModelArtifact> {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const artifact = parseArtifact(await buffer(await this.store.get(key)), key);
    this.remember(key, artifact);
    return artifact;
  }

  /**
   * The stored artifact of a version trained by vigil, or null when no training produced it. A version's
   * artifact key is written once and versions are never deleted, so a key found is kept (each judged picture asked again).
   */
  async load(deviceType: string, profile: Profile, version: string): Promise<ModelArtifact | null> {
    const id = JSON.stringify([deviceType, profile, version]);
    let key = this.keys.get(id);
    if (!key) {
      if ((this.absent.get(id) ?? 0) > Date.now()) return null;
      const row = await this.prisma.modelVersion.findFirst({
        where: { deviceType, profile: toDbProfile(profile), version, artifactKey: { not: null } },
        select: { artifactKey: true },
      });
      if (!row?.artifactKey) {
        this.absent.delete(id);
        this.absent.set(id, Date.now() + (this.options.absentKeptMs ?? ABSENT_KEPT_MS));
        while (this.absent.size > KEYS_KEPT) this.absent.delete(this.absent.keys().next().value!);
        return null;
      }
      key = row.artifactKey;
      this.keys.set(id, key);
      while (this.keys.size > KEYS_KEPT) this.keys.delete(this.keys.keys().next().value!);
    }
    return this.read(key);
  }

  private remember(key: string, artifact: ModelArtifact) {
    this.cache.delete(key);
    this.cache.set(key, artifact);
    while (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
  }
}
