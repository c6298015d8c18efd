import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../common/paths';
import { openDatabase } from './database';
import { type Migration, migrate, readMigrations } from './migrator';

// A fresh embedded database is made from a template: the data folder of an empty PGlite database with every
// migration applied, written by the build (node dist/src/db/pglite-template.js). Copying it (openDatabase's
// `template`) takes a fraction of a second where initdb and the migrations take several (and unpacking PGlite's own
// dump over a second). The template is used only when it was made from exactly the migrations and the PGlite
// version this build has; otherwise the folder is created and migrated as before.

/** Where the build writes the template (beside the compiled code, so a rebuild refreshes it). */
export const TEMPLATE_DIR = path.join(PROJECT_ROOT, 'dist', 'pglite-template');
const DATA = 'datadir';
const MANIFEST = 'manifest.json';
const PG_VERSION = 'PG_VERSION';

export interface TemplateManifest {
  /** PGlite's version: a data folder from another version may not open. */
  pglite: string;
  /** The migrations applied in the template, in order, with the checksums `_prisma_migrations` records. */
  migrations: { name: string; checksum: string }[];
}

export function pgliteVersion(): string {
  const file = path.join(PROJECT_ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

const manifestFor = (migrations: Migration[]): TemplateManifest => ({
  pglite: pgliteVersion(),
  migrations: migrations.map(({ name, checksum }) => ({ name, checksum })),
});

/** The template's data folder when it exists and was made from these migrations with this PGlite; null otherwise. */
export function findTemplate(dir = TEMPLATE_DIR, migrations: Migration[] = readMigrations()): string | null {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as TemplateManifest;
    if (JSON.stringify(manifest) !== JSON.stringify(manifestFor(migrations))) return null;
    const data = path.join(dir, DATA);
    return fs.existsSync(path.join(data, PG_VERSION)) ? data : null;
  } catch {
    // No template, or one that cannot be read: the folder is created and migrated.
    return null;
  }
}

/** Creates a PGlite folder, migrates it and makes it the template in `dir`; returns the manifest. */
export async function writeTemplate(dir = TEMPLATE_DIR, migrations: Migration[] = readMigrations()): Promise<TemplateManifest> {
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${DATA}-${crypto.randomBytes(4).toString('hex')}`);
  const db = await openDatabase({ kind: 'pglite', dataDir: tmp });
  try {
    await migrate(db, { migrations });
  } catch (err) {
    await db.close();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  // A clean shutdown: the folder holds no postmaster.pid and opens anywhere it is copied.
  await db.close();
  const manifest = manifestFor(migrations);
  // The manifest goes first and comes back last: a reader never pairs a manifest with another folder.
  fs.rmSync(path.join(dir, MANIFEST), { force: true });
  fs.rmSync(path.join(dir, DATA), { recursive: true, force: true });
  fs.renameSync(tmp, path.join(dir, DATA));
  fs.writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(manifest)}\n`);
  return manifest;
}

if (require.main === module) {
  writeTemplate().then(
    (m) =>
      console.log(
        `wrote the embedded database template (${m.migrations.length} migrations) to ${path.relative(PROJECT_ROOT, TEMPLATE_DIR)}`,
      ),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
