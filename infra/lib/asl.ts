import fs from 'node:fs';
import path from 'node:path';

// Reading workflows/*.asl.json: which Task resources each file names, and which ${…} placeholders it needs.

export interface WorkflowFile {
  /** The file name without `.asl.json`, e.g. `detect-inspection`. */
  name: string;
  file: string;
  text: string;
}

/** One resource a state calls: `${NameFunctionArn}` or a service integration `arn:aws:states:::service:action`. */
export interface TaskResource {
  state: string;
  resource: string;
}

interface AslState {
  Type?: string;
  Resource?: string;
  Parameters?: { FunctionName?: unknown };
  ItemReader?: { Resource?: string };
  ResultWriter?: { Resource?: string };
  ItemProcessor?: AslMachine;
  Iterator?: AslMachine;
  Branches?: AslMachine[];
}

interface AslMachine {
  States?: Record<string, AslState>;
  ProcessorConfig?: { Mode?: string };
}

export function loadWorkflows(dir: string): WorkflowFile[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.asl.json'))
    .sort()
    .map((f) => ({ name: f.replace(/\.asl\.json$/, ''), file: f, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
}

function parse(workflow: WorkflowFile): AslMachine {
  try {
    return JSON.parse(workflow.text) as AslMachine;
  } catch (err) {
    throw new Error(`workflows/${workflow.file} is not valid JSON: ${(err as Error).message}`);
  }
}

function* statesOf(machine: AslMachine): Generator<[string, AslState]> {
  for (const [name, state] of Object.entries(machine.States ?? {})) {
    yield [name, state];
    for (const inner of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) if (inner) yield* statesOf(inner);
  }
}

/** Every resource the file calls, nested Map and Parallel states included (a Lambda `lambda:invoke` counts as its function). */
export function taskResources(workflow: WorkflowFile): TaskResource[] {
  const found: TaskResource[] = [];
  for (const [state, s] of statesOf(parse(workflow))) {
    if (s.Type === 'Task' && s.Resource) {
      const viaInvoke = /:states:::lambda:invoke$/.test(s.Resource) && typeof s.Parameters?.FunctionName === 'string';
      found.push({ state, resource: viaInvoke ? (s.Parameters!.FunctionName as string) : s.Resource });
    }
    if (s.ItemReader?.Resource) found.push({ state: `${state}.ItemReader`, resource: s.ItemReader.Resource });
    if (s.ResultWriter?.Resource) found.push({ state: `${state}.ResultWriter`, resource: s.ResultWriter.Resource });
  }
  return found;
}

/** A Distributed Map starts child executions of its own state machine. */
export function hasDistributedMap(workflow: WorkflowFile): boolean {
  return [...statesOf(parse(workflow))].some(([, s]) => s.Type === 'Map' && s.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED');
}

/** The names of every `${Name}` in the file. */
export function placeholders(workflow: WorkflowFile): string[] {
  return [...new Set([...workflow.text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]))];
}

/** `${ScreenImageFunctionArn}` → `ScreenImage`; null for anything else. */
export function functionPlaceholder(resource: string): string | null {
  return /^\$\{([A-Za-z0-9]+)FunctionArn\}$/.exec(resource)?.[1] ?? null;
}

/** `arn:aws:states:::sagemaker:createTransformJob.sync` → `sagemaker:createTransformJob.sync`; null for anything else. */
export function serviceIntegration(resource: string): string | null {
  return /^arn:aws[a-z-]*:states:::(.+)$/.exec(resource)?.[1] ?? null;
}
