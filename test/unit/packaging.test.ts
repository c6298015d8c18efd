import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ENV_NAMES, loadConfig } from '../../src/config/config';

// No Docker engine runs here: these check what can be checked without one.
const ROOT = path.resolve(__dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
const compose = YAML.parse(read('docker-compose.yml'));
const dockerfile = read('Dockerfile');
const vigil = compose.services.vigil;
/** `${VAR:?msg}` and `${VAR:-default}` as compose would expand them with VAR set. */
const expand = (v: unknown) =>
  String(v).replace(/\$\{(\w+)(?::[?-][^}]*)?\}/g, (_m, name) =>
    name === 'VIGIL_ADMIN_API_KEY' ? 'a-compose-secret-of-24-characters' : 'info',
  );

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, Redis and vigil built from the Dockerfile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['postgres', 'redis', 'vigil']);
    expect(vigil.build).toBe('.');
    expect(vigil.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
  });

  it('sets only variables the config module knows, with values it accepts', () => {
    const known = ENV_NAMES;
    for (const name of Object.keys(vigil.environment)) expect(known).toContain(name);
    const env = Object.fromEntries(Object.entries(vigil.environment).map(([k, v]) => [k, expand(v)]));
    const config = loadConfig(env);
    expect(config.database.kind).toBe('postgres');
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.http.host).toBe('0.0.0.0');
  });

  it('points DATABASE_URL at the postgres service with its credentials', () => {
    const url = new URL(vigil.environment.DATABASE_URL);
    const pg = compose.services.postgres.environment;
    expect(url.hostname).toBe('postgres');
    expect([url.username, url.password, url.pathname]).toEqual([pg.POSTGRES_USER, pg.POSTGRES_PASSWORD, `/${pg.POSTGRES_DB}`]);
    expect(new URL(vigil.environment.REDIS_URL).hostname).toBe('redis');
  });

  it('publishes the port the service listens on and the Dockerfile exposes', () => {
    const port = vigil.environment.PORT;
    expect(vigil.ports).toEqual([`${port}:${port}`]);
    expect(dockerfile).toContain(`EXPOSE ${port}`);
    expect(dockerfile).toMatch(/healthz/);
  });
});

describe('Dockerfile', () => {
  it('builds in one stage and runs in another, as an unprivileged user', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^FROM .* AS build$/m);
    expect(dockerfile).toMatch(/^FROM .* AS runtime$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('copies only files that exist and runs the entry point the build produces', () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(?:--chown=\S+ )?(.+) \S+$/gm)].flatMap((m) => m[1].split(' '));
    for (const f of copied) expect(fs.existsSync(path.join(ROOT, f))).toBe(true);
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(dockerfile)![1]);
    expect(cmd).toEqual(['node', 'dist/src/main.js']);
    expect(read('package.json')).toContain('"start": "node dist/src/main.js"');
  });

  it('compiles only sources the build stage copies and .dockerignore lets in', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const build = dockerfile.split(/^FROM .* AS runtime$/m)[0];
    const copied = [...build.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(' '));
    const project = /tsc -p (\S+)/.exec(build)![1];
    expect(copied).toContain(project);
    for (const include of JSON.parse(read(project)).include as string[]) {
      const top = include.split('/')[0];
      expect(ignored).not.toContain(top);
      expect(copied.some((c) => c === top || c.startsWith(`${top}/`))).toBe(true);
    }
  });

  it('sets only variables the config module knows', () => {
    const names = [...dockerfile.matchAll(/^\s*(?:ENV )?([A-Z_]+)=\S+/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(ENV_NAMES).toContain(name);
  });
});

describe('README', () => {
  it('documents every configuration variable', () => {
    const table = read('README.md').split('## Configuration')[1].split('\n## ')[0];
    for (const name of ENV_NAMES) expect(table).toContain(`\`${name}\``);
  });
});
