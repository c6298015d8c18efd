import '../runtime-defaults';
import { Command, InvalidArgumentError, Option } from 'commander';
import { openServices } from '../app/app';
import { Role } from '../auth/roles';
import { ConfigError, loadConfig } from '../config/config';
import { createLogger } from '../logging/logger';
import { main as serve } from '../main';

/** `vigil <command>`: one entry point sharing configuration and services with the server. */
export function buildCli(): Command {
  const program = new Command('vigil')
    .description('Watch a fleet of field devices through photographs. Configuration comes from the environment (see README).')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(`vigil: ${str}`) });

  program
    .command('serve')
    .description('Run the GraphQL API server (what `npm start` runs).')
    .action(() => serve());

  program
    .command('migrate')
    .description('Apply pending database migrations and exit (the server also does this at start-up).')
    .action(async () => {
      const { db, log } = await openServices(config());
      log.info('migrations are up to date');
      await db.close();
    });

  const apiKey = program.command('api-key').description('Manage API keys.');
  apiKey
    .command('create')
    .description('Create an API key and print its secret once.')
    .requiredOption('--name <name>', 'who or what will use the key')
    .addOption(new Option('--role <role>', 'what the key may do').choices(Object.values(Role)).makeOptionMandatory())
    .action(async (opts: { name: string; role: Role }) => {
      const { db, services } = await openServices(config(), { log: quietLogger() });
      try {
        const { apiKey: key, secret } = await services.apiKeys.create(opts.name, opts.role);
        process.stdout.write(`${JSON.stringify({ id: key.id, name: key.name, role: key.role, secret })}\n`);
      } finally {
        await db.close();
      }
    });
  return program;
}

function config() {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

function quietLogger() {
  return createLogger({ logLevel: 'warn' });
}

export async function run(argv = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`vigil: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void run();
