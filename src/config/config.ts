import path from 'node:path';
import { detectorsConfig } from './detector-settings';
import { ENV_NAMES, envSchema } from './env';
import { limitsConfig } from './limits-settings';
import { modelsConfig } from './model-settings';
import { reviewsConfig } from './review-settings';
import { serverConfig } from './server-settings';
import { webhooksConfig } from './webhook-settings';
import { type Config } from './config.types';

// The only module that reads process.env: everything else receives a typed Config.
//
// The settings by area: server-settings.ts (process, HTTP, database, storage, uploads, workflows),
// detector-settings.ts (detectors, backbone, prices), review-settings.ts (reviews, datasets),
// model-settings.ts (retraining, gate, health, AWS training), limits-settings.ts (query cost, rate limits, admission, sockets); env.ts joins their variables and
// checks the ones that depend on each other; training-settings.ts says what cloud training lacks.

export type { Config } from './config.types';
export { type BackboneConfig, DEFAULT_PRICES_USD } from './detector-settings';
export { type Env, ENV_NAMES, envSchema } from './env';
export type { LimitsConfig, QueryLimits } from './limits-settings';
export type { WebhooksConfig } from './webhook-settings';
export { MAX_PAGE_SIZE } from './server-settings';
export { type Checked, type DeployerSettings, deployerSettings, type TrainerSettings, trainerSettings } from './training-settings';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws ConfigError naming each bad variable and what it expects. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in docker-compose files with `VAR: ${VAR:-}`.
  const cleaned = Object.fromEntries(ENV_NAMES.map((k) => [k, source[k] === '' ? undefined : source[k]]));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${String(i.path[0])}=${JSON.stringify(cleaned[String(i.path[0])] ?? '')}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    ...serverConfig(e, dataDir),
    detectors: detectorsConfig(e, dataDir),
    ...reviewsConfig(e, dataDir),
    models: modelsConfig(e),
    limits: limitsConfig(e, e.DATABASE_URL ? 'postgres' : 'pglite'),
    webhooks: webhooksConfig(e),
  };
}
