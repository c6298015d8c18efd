import { validate, type ValidationError } from 'class-validator';

export interface FieldProblem {
  field: string;
  message: string;
}

function flatten(errors: ValidationError[], prefix: string): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Validates one input object with its class-validator decorators, for inputs checked row by row. */
export async function validateInput<T extends object>(cls: new () => T, value: object, prefix = ''): Promise<FieldProblem[]> {
  const instance = Object.assign(new cls(), value);
  return flatten(await validate(instance, { forbidUnknownValues: false }), prefix);
}

export { flatten as flattenValidationErrors };
