import '../runtime-defaults';
import { Command, InvalidArgumentError, Option } from 'commander';
import { openServices } from './app';
import { Role } from '../auth/roles';
import { ConfigError, loadConfig } from '../config/config';
import { ApiClient } from '../ingest/api-client';
import { hasFailures, ingestFolder } from '../ingest/ingest';
import { ProgressReporter, renderSummary } from '../ingest/report';
import { createLogger } from '../logging/logger';
import { registerModelCommands } from '../cli/model.commands';
import { registerDataLakeCommands } from '../cli/datalake.commands';
import { openBackbone } from '../adapters/backbone/backbone.factory';
import { openThreadedBackbone } from '../adapters/backbone/threaded.driver';
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
      const { log, close } = await openServices(config(), { eventBus: 'in-process' });
      log.info('migrations are up to date');
      await close();
    });

  registerIngestCommand(program);

  registerModelCommands(
    program,
    () => openBackbone(config().detectors.backbone),
    () => openThreadedBackbone(config().detectors.backbone),
  );

  registerDataLakeCommands(program, async () => {
    const { services, close } = await openServices(config(), { log: quietLogger(), eventBus: 'in-process' });
    return { dataLake: services.dataLake, close };
  });

  const apiKey = program.command('api-key').description('Manage API keys.');
  apiKey
    .command('create')
    .description('Create an API key and print its secret once.')
    .requiredOption('--name <name>', 'who or what will use the key')
    .addOption(new Option('--role <role>', 'what the key may do').choices(Object.values(Role)).makeOptionMandatory())
    .action(async (opts: { name: string; role: Role }) => {
      const { services, close } = await openServices(config(), { log: quietLogger(), eventBus: 'in-process' });
      try {
        const { apiKey: key, secret } = await services.apiKeys.create(opts.name, opts.role);
        process.stdout.write(`${JSON.stringify({ id: key.id, name: key.name, role: key.role, secret })}\n`);
      } finally {
        await close();
      }
    });
  return program;
}

/** `vigil ingest <folder>`: a client of a running vigil, so it opens no services. */
function registerIngestCommand(program: Command): void {
  program
    .command('ingest')
    .description(
      'Upload a folder of photographs (recursively) through the API of a running vigil; a second run skips what is already there.',
    )
    .argument('<folder>', 'the folder to upload')
    .option('--device <id>', 'every photo shows this device (global id or external id)')
    .option('--match-gps', 'each photo finds its device by its EXIF GPS position (a survey)')
    .addOption(new Option('--source <source>', 'who took the photos').choices(['DRONE', 'VEHICLE', 'MANUAL']).default('DRONE'))
    .option('--url <server>', 'where vigil runs (default: $VIGIL_URL or http://127.0.0.1:4000)')
    .option('--api-key <key>', 'an OPERATOR or ADMIN key (default: $VIGIL_API_KEY)')
    .option('--concurrency <n>', 'files in flight at once', positiveInt, 4)
    .action(
      async (
        folder: string,
        opts: {
          device?: string;
          matchGps?: boolean;
          source: 'DRONE' | 'VEHICLE' | 'MANUAL';
          url?: string;
          apiKey?: string;
          concurrency: number;
        },
      ) => {
        if (!!opts.device === !!opts.matchGps) throw new InvalidArgumentError('choose one of --device <id> or --match-gps');
        const apiKey = opts.apiKey ?? process.env.VIGIL_API_KEY;
        if (!apiKey) throw new InvalidArgumentError('an API key is needed: --api-key <key> or VIGIL_API_KEY');
        const api = new ApiClient({ url: opts.url ?? process.env.VIGIL_URL ?? 'http://127.0.0.1:4000', apiKey });
        const summary = await ingestFolder(
          api,
          {
            folder,
            target: opts.device ? { device: opts.device } : { matchGps: true },
            source: opts.source,
            concurrency: opts.concurrency,
          },
          new ProgressReporter(process.stdout),
        );
        process.stdout.write(renderSummary(summary, process.stdout.isTTY === true));
        if (hasFailures(summary)) process.exitCode = 1;
      },
    );
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
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
