import {
  type FieldNode,
  type GraphQLOutputType,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  getNamedType,
  isObjectType,
  type SelectionSetNode,
} from 'graphql';
import { getArgumentValues } from 'graphql/execution/values';
import { type TreeRead } from '../common/pagination/tree';
import { type Loaders } from './loaders';

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

/** The type of the rows below a field of `returned` type, and their selections: a connection's nodes and edges.node, or a row's own. */
function rowsBelow(
  returned: GraphQLOutputType,
  nodes: readonly FieldNode[],
  fragments: Record<string, FragmentDefinitionNode>,
): { rowType?: GraphQLObjectType; selections: (SelectionSetNode | undefined)[] } {
  const named = getNamedType(returned);
  if (!isObjectType(named)) return { selections: [] };
  const nodesField = named.getFields().nodes;
  if (!nodesField) return { rowType: named, selections: nodes.map((f) => f.selectionSet) };
  const node = getNamedType(nodesField.type);
  return { rowType: isObjectType(node) ? node : undefined, selections: nodes.flatMap((f) => rowSelections(f, fragments)) };
}

/** readFields for the field nodes of one response key, whose type is `returned`. */
function readFieldsOf(
  nodes: readonly FieldNode[],
  returned: GraphQLOutputType,
  fragments: Record<string, FragmentDefinitionNode>,
): readonly string[] | undefined {
  const known = nodes.length === 1 ? memo.get(nodes[0]) : undefined;
  if (known !== undefined) return known ?? undefined;
  const { rowType, selections } = rowsBelow(returned, nodes, fragments);
  const fields = new Set<string>();
  const ok = rowType !== undefined && selections.every((s) => collect(rowType, s, fragments, fields));
  const result = ok ? [...fields].sort() : undefined;
  if (nodes.length === 1) memo.set(nodes[0], result ?? null);
  return result;
}

/**
 * The row fields the query reads below this field, which returns a connection of rows (its `nodes` and
 * `edges.node`) or a row: what a list read must fetch. Undefined when some field's needs are unknown: then the read
 * fetches whole rows. Callers add what they need themselves (ids, ordering keys).
 */
export function readFields(info: GraphQLResolveInfo): readonly string[] | undefined {
  return readFieldsOf(info.fieldNodes, info.returnType, info.fragments);
}

/** The fields below one `nodes` selection, grouped by response key as GraphQL runs them (fragments followed). */
function fieldsByKey(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, into: Map<string, FieldNode[]>) {
  for (const s of set?.selections ?? []) {
    if (s.kind === 'Field') {
      const key = s.alias?.value ?? s.name.value;
      into.set(key, [...(into.get(key) ?? []), s]);
    } else {
      fieldsByKey(s.kind === 'InlineFragment' ? s.selectionSet : fragments[s.name.value]?.selectionSet, fragments, into);
    }
  }
  return into;
}

/**
 * The lists below the rows of a connection's one `nodes { … }` selection, or below a single row, that `loaders` can
 * read in the parents' statement; anything else (edges.node, a repeated nodes) is left to the loaders.
 */
function childReadsOf(
  nodes: readonly FieldNode[],
  returned: GraphQLOutputType,
  info: GraphQLResolveInfo,
  loaders: Pick<Loaders, 'childRead' | 'oneRead'>,
): TreeRead[] {
  const named = getNamedType(returned);
  if (!isObjectType(named)) return [];
  let rowType: GraphQLNamedType = named;
  let rows: SelectionSetNode | undefined;
  if (named.getFields().nodes) {
    const nodeSelections = nodes.flatMap(
      (f) => f.selectionSet?.selections.filter((s) => s.kind === 'Field' && s.name.value === 'nodes') ?? [],
    );
    rowType = getNamedType(named.getFields().nodes.type);
    rows = nodeSelections.length === 1 ? (nodeSelections[0] as FieldNode).selectionSet : undefined;
  } else if (nodes.length === 1) {
    rows = nodes[0].selectionSet; // a single row, e.g. device(id:)
  }
  if (!rows || !isObjectType(rowType)) return [];
  const reads: TreeRead[] = [];
  for (const group of fieldsByKey(rows, info.fragments, new Map()).values()) {
    const def = rowType.getFields()[group[0].name.value];
    if (!def || !isObjectType(getNamedType(def.type))) continue;
    if (!getNamedType(def.type).name.endsWith('Connection')) {
      // A row the parent points at (an inspection's device).
      const one = def.args.length
        ? undefined
        : loaders.oneRead(`${rowType.name}.${def.name}`, readFieldsOf(group, def.type, info.fragments));
      if (one) reads.push(one);
      continue;
    }
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(def, group[0], info.variableValues);
    } catch {
      continue; // the resolver reports it
    }
    const children = childReadsOf(group, def.type, info, loaders);
    const read = loaders.childRead(`${rowType.name}.${def.name}`, args, readFieldsOf(group, def.type, info.fragments), children);
    if (read) reads.push(read);
  }
  return reads;
}

/**
 * The lists below the rows this field returns, a connection or one row (e.g. each device's latest inspection and
 * its anomalies below `devices`) that can be read in the same statement as the rows: their pages go into `loaders`, where the list fields'
 * resolvers find them instead of reading them one level at a time.
 */
export function childReads(info: GraphQLResolveInfo, loaders: Pick<Loaders, 'childRead' | 'oneRead'>): TreeRead[] {
  return childReadsOf(info.fieldNodes, info.returnType, info, loaders);
}
