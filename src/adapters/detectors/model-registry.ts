import fs from 'node:fs/promises';
import path from 'node:path';
import { loadArtifact, type ModelArtifact } from '../../anomaly-model/artifact';
import { type Profile } from '../../anomaly-model/types';

/** Device types become folder names; anything that could leave the models folder is not a model. */
const SAFE_TYPE = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;

interface Cached {
  file: string;
  mtimeMs: number;
  artifact: ModelArtifact;
}

/** Versions trained and stored by vigil (src/models/model-artifacts.ts). */
export interface StoredModelSource {
  load(deviceType: string, profile: Profile, version: string): Promise<ModelArtifact | null>;
}

/**
 * The built-in models by device type. A version deployed through the API is asked for by name and
 * read from the object store; without one, `<dir>/<deviceType>/screen` and `…/inspect` (any
 * extension), files written by `vigil model train`. A missing file is a cold start, not an error;
 * a file that changes on disk is picked up at the next image.
 */
export class ModelRegistry {
  private readonly cache = new Map<string, Cached>();

  constructor(
    readonly dir: string,
    private readonly stored: StoredModelSource | null = null,
  ) {}

  /** The model of `version` when given (a run pins the version it started with), else the file's. */
  async get(deviceType: string, profile: Profile, version?: string | null): Promise<ModelArtifact | null> {
    if (version) {
      const fromStore = await this.stored?.load(deviceType, profile, version);
      if (fromStore) return fromStore;
      const file = await this.fromFile(deviceType, profile);
      if (file?.manifest.version === version) return file;
      throw new Error(`model ${version} (${profile}, device type ${deviceType}) is neither stored nor the file in ${this.dir}`);
    }
    return this.fromFile(deviceType, profile);
  }

  private async fromFile(deviceType: string, profile: Profile): Promise<ModelArtifact | null> {
    const file = await this.find(deviceType, profile);
    if (!file) return null;
    const stat = await fs.stat(file);
    const cacheKey = `${deviceType}\u0000${profile}`;
    const cached = this.cache.get(cacheKey);
    if (cached && cached.file === file && cached.mtimeMs === stat.mtimeMs) return cached.artifact;
    const artifact = await loadArtifact(file);
    if (artifact.manifest.profile !== profile) {
      throw new Error(`${file} holds a ${artifact.manifest.profile} model where a ${profile} model belongs`);
    }
    this.cache.set(cacheKey, { file, mtimeMs: stat.mtimeMs, artifact });
    return artifact;
  }

  private async find(deviceType: string, profile: Profile): Promise<string | null> {
    if (!SAFE_TYPE.test(deviceType)) return null;
    const folder = path.join(this.dir, deviceType);
    let names: string[];
    try {
      names = await fs.readdir(folder);
    } catch {
      return null;
    }
    const name = names.sort().find((n) => n === profile || n.startsWith(`${profile}.`));
    return name ? path.join(folder, name) : null;
  }
}
