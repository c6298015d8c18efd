import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  getNamedType,
  isAbstractType,
  isObjectType,
  type SelectionSetNode,
} from 'graphql';

/**
 * A field extension (`@Extensions({ [READS]: ['boxX', 'boxY'] })`) naming the model fields a field resolver reads
 * from its row. A list read fetches only the columns its query's fields read (`readFields`); a field with a resolver
 * and no READS makes the read fetch every column.
 */
export const READS = 'vigil.reads';

/** The row fields `fieldName` of `type` reads; undefined when unknown (a resolver without READS). */
function fieldReads(type: GraphQLObjectType, fieldName: string): readonly string[] | undefined {
  if (fieldName === '__typename') return [];
  const field: GraphQLField<unknown, unknown> | undefined = type.getFields()[fieldName];
  if (!field) return [];
  const declared = field.extensions[READS] as readonly string[] | undefined;
  if (declared) return declared;
  // A field without a resolver is the row's property of the same name (src/graphql/plain-fields.ts).
  return field.resolve ? undefined : [fieldName];
}

/** Adds to `into` the fields of `type` that `selection` reads; false when one of them is unknown. */
function collect(
  type: GraphQLObjectType,
  selection: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  into: Set<string>,
): boolean {
  for (const s of selection?.selections ?? []) {
    // @skip/@include are not evaluated: a field that may be skipped is read anyway, which is never wrong.
    if (s.kind === 'Field') {
      const reads = fieldReads(type, s.name.value);
      if (!reads) return false;
      for (const r of reads) into.add(r);
    } else {
      const set = s.kind === 'InlineFragment' ? s.selectionSet : fragments[s.name.value]?.selectionSet;
      if (!collect(type, set, fragments, into)) return false;
    }
  }
  return true;
}

/** The selections a connection's rows get: `nodes { … }` and `edges { node { … } }`. */
function rowSelections(field: FieldNode, fragments: Record<string, FragmentDefinitionNode>): (SelectionSetNode | undefined)[] {
  const out: (SelectionSetNode | undefined)[] = [];
  const walk = (set: SelectionSetNode | undefined, inEdges: boolean) => {
    for (const s of set?.selections ?? []) {
      if (s.kind === 'Field') {
        const name = s.name.value;
        if (!inEdges && name === 'nodes') out.push(s.selectionSet);
        else if (!inEdges && name === 'edges') walk(s.selectionSet, true);
        else if (inEdges && name === 'node') out.push(s.selectionSet);
      } else {
        walk(s.kind === 'InlineFragment' ? s.selectionSet : fragments[s.name.value]?.selectionSet, inEdges);
      }
    }
  };
  walk(field.selectionSet, false);
  return out;
}

// Per field node of a parsed document: Apollo keeps parsed documents, so a repeated query computes this once.
const memo = new WeakMap<FieldNode, readonly string[] | null>();

/**
 * The row fields the query reads below this field, which returns a connection of rows (its `nodes` and
 * `edges.node`) or a row: what a list read must fetch. Undefined when some field's needs are unknown: then the read
 * fetches whole rows. Callers add what they need themselves (ids, ordering keys).
 */
export function readFields(info: GraphQLResolveInfo): readonly string[] | undefined {
  const first = info.fieldNodes[0];
  const known = info.fieldNodes.length === 1 ? memo.get(first) : undefined;
  if (known !== undefined) return known ?? undefined;
  const returned = getNamedType(info.returnType);
  let rowType: GraphQLObjectType | undefined;
  let selections: (SelectionSetNode | undefined)[] = [];
  if (isObjectType(returned) && returned.getFields().nodes) {
    const node = getNamedType(returned.getFields().nodes.type);
    rowType = isObjectType(node) ? node : undefined;
    selections = info.fieldNodes.flatMap((f) => rowSelections(f, info.fragments));
  } else if (isObjectType(returned) && !isAbstractType(returned)) {
    rowType = returned;
    selections = info.fieldNodes.map((f) => f.selectionSet);
  }
  const fields = new Set<string>();
  const ok = rowType !== undefined && selections.every((s) => collect(rowType, s, info.fragments, fields));
  const result = ok ? [...fields].sort() : undefined;
  if (info.fieldNodes.length === 1) memo.set(first, result ?? null);
  return result;
}
