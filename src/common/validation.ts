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

/** PostgreSQL text and jsonb cannot hold U+0000, so no string input may carry it. */
export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

/** Values findNul does not look into: they hold no text. */
const isOpaque = (value: object) => value instanceof Date || ArrayBuffer.isView(value);

/**
 * The path of the first string (or object key) in an input value that holds U+0000; null when there
 * is none. Looks into arrays and objects, plain ones from graphql-js or input-type instances.
 */
export function findNul(value: unknown, path: string, ancestors: object[] = []): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object' || isOpaque(value) || ancestors.includes(value)) return null;
  const inside = [...ancestors, value];
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findNul(item, `${path}[${i}]`, inside);
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const found = key.includes('\u0000') ? at : findNul(item, at, inside);
    if (found) return found;
  }
  return null;
}
