import { z } from 'zod';
import { type Services } from '../../app/services';

/** A payload the state machine should never send: a bug in a definition, not a transient problem. */
export class HandlerInputError extends Error {
  constructor(task: string, problems: string) {
    super(`${task} received a bad payload: ${problems}`);
    this.name = 'Vigil.BadInput';
  }
}

export interface TaskHandler<O> {
  /** The Task's resource name in the ASL files: `${<name>FunctionArn}`. */
  readonly name: string;
  /** The function the local engine calls, bound to this process's services. */
  local(services: Services): (input: unknown) => Promise<O>;
  /** The same step as an AWS Lambda handler; services come from the environment, opened once per container. */
  readonly lambda: (event: unknown) => Promise<O>;
  readonly schema: z.ZodType;
}

let lambdaServices: Promise<Services> | undefined;

/** Opens the services once per Lambda container (the database pool and clients are reused by later invocations). */
function servicesForLambda(): Promise<Services> {
  // Loaded lazily so that the local engine never pulls in the Lambda bootstrap.
  lambdaServices ??= import('../../app/app').then(async ({ openWorkflowServices }) => openWorkflowServices());
  return lambdaServices;
}

export function defineHandler<S extends z.ZodType, O>(name: string, schema: S, step: (services: Services, input: z.infer<S>) => Promise<O>): TaskHandler<O> {
  const parse = (input: unknown) => {
    const parsed = schema.safeParse(input);
    if (!parsed.success) throw new HandlerInputError(name, parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; '));
    return parsed.data;
  };
  return {
    name,
    schema,
    local: (services) => (input) => step(services, parse(input)),
    lambda: async (event) => step(await servicesForLambda(), parse(event)),
  };
}

export const ids = z.object({ runId: z.uuid(), imageId: z.uuid() });
export const runOnly = z.object({ runId: z.uuid() });
export const versionOnly = z.object({ modelVersionId: z.uuid() });
export const trainingFailure = z.object({ modelVersionId: z.uuid(), error: z.string(), cause: z.string() });
