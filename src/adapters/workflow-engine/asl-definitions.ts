import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../common/paths';
import { type WorkflowName } from './workflow-engine.port';

export const WORKFLOWS_DIR = path.join(PROJECT_ROOT, 'workflows');

/** An ASL document as JSON; the engines check it further. */
export interface AslDefinition {
  Comment?: string;
  StartAt: string;
  States: Record<string, AslState>;
}
export interface AslState {
  Type: string;
  Resource?: string;
  ItemProcessor?: AslDefinition & { ProcessorConfig?: { Mode?: string } };
  Iterator?: AslDefinition;
  Branches?: AslDefinition[];
  [field: string]: unknown;
}

export function readDefinition(name: WorkflowName | string): AslDefinition {
  const file = path.join(WORKFLOWS_DIR, `${name}.asl.json`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as AslDefinition;
}

const RESOURCE = /^\$\{([A-Za-z0-9]+)FunctionArn\}$/;

/** The handler a Task's resource names: `${ScreenImageFunctionArn}` → ScreenImage. */
export function resourceName(resource: string | undefined): string | null {
  return RESOURCE.exec(resource ?? '')?.[1] ?? null;
}

/** Every Task state of a definition, nested Map and Parallel states included, with the handler it names (null for a service integration). */
export function taskStates(definition: AslDefinition): { state: string; handler: string | null; resource: string | null }[] {
  const found: { state: string; handler: string | null; resource: string | null }[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') found.push({ state: name, handler: resourceName(state.Resource), resource: state.Resource ?? null });
    for (const child of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) if (child) found.push(...taskStates(child));
  }
  return found;
}

/**
 * The definition with each `${<Name>FunctionArn}` replaced, as CloudFormation's DefinitionSubstitutions
 * does at deployment; the local engine gets well-formed Lambda ARNs that name the handler.
 */
export function substituteResources(definition: AslDefinition, arnFor: (handler: string) => string): AslDefinition {
  return JSON.parse(JSON.stringify(definition), (key, value) => {
    const handler = key === 'Resource' && typeof value === 'string' ? resourceName(value) : null;
    return handler ? arnFor(handler) : value;
  }) as AslDefinition;
}

export const localFunctionArn = (handler: string) => `arn:aws:lambda:local:000000000000:function:vigil-${handler}`;
