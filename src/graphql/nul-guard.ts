import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema, isObjectType } from 'graphql';
import { badInput } from '../common/errors';
import { findNul, NUL_MESSAGE } from '../common/validation';

/**
 * A field extension (`@Extensions({ [NUL_REPORTED_PER_ROW]: ['devices'] })`) naming the arguments whose
 * service reports a NUL for the row that holds it, as it reports the row's other problems.
 */
export const NUL_REPORTED_PER_ROW = 'nulReportedPerRow';

type Resolver = GraphQLFieldResolver<unknown, unknown>;

function guarded(argNames: string[], next: Resolver): Resolver {
  return (source, args, context, info) => {
    for (const name of argNames) {
      const at = findNul(args[name], name);
      if (at) throw badInput(at, NUL_MESSAGE);
    }
    return next(source, args, context, info);
  };
}

/**
 * Refuses, as BAD_USER_INPUT naming its path, every argument string that holds U+0000, which no
 * PostgreSQL text column can store: the check wraps each field that takes arguments, in every
 * operation, before its resolver (and so before any service) runs.
 */
export function refuseNulInArguments(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const perRow = (field.extensions?.[NUL_REPORTED_PER_ROW] as string[] | undefined) ?? [];
      const names = field.args.map((a) => a.name).filter((name) => !perRow.includes(name));
      if (names.length === 0) continue;
      // A subscription's arguments are checked once, when it starts; its events reuse them.
      if (field.subscribe) field.subscribe = guarded(names, field.subscribe);
      else field.resolve = guarded(names, field.resolve ?? defaultFieldResolver);
    }
  }
  return schema;
}
