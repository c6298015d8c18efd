import {
  type FragmentDefinitionNode,
  getNamedType,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  isCompositeType,
  isListType,
  isNonNullType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** A list without paging arguments (an image's detections, a task's answers) is counted as this many items. */
export const UNPAGED_LIST_ITEMS = 10;

export interface CostSettings {
  defaultPageSize: number;
  maxPageSize: number;
}

export interface OperationCost {
  /** About the number of objects the operation can return: every object counts 1, a list its size times what each item holds. */
  cost: number;
  /** Introspection: the most lists nested inside one another, and how many __schema/__type fields there are. */
  introspectionListDepth: number;
  introspectionRoots: number;
  /** Root fields other than introspection and __typename: without a key there must be none. */
  dataFields: number;
}

type Variables = Record<string, unknown> | null | undefined;
type Fragments = Map<string, FragmentDefinitionNode>;

interface Walk {
  schema: GraphQLSchema;
  fragments: Fragments;
  variables: Variables;
  settings: CostSettings;
  result: OperationCost;
}

/**
 * The estimate the cost limit compares with the caller's budget, computed before anything runs:
 * `first`/`last` (or the default page size) multiply everything selected below a connection, so
 * a query nesting lists in lists costs the product of their page sizes. Scalars are free; fragments
 * count in full whatever their type condition (an over-estimate, never an under-estimate).
 */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: readonly FragmentDefinitionNode[],
  variables: Variables,
  settings: CostSettings,
): OperationCost {
  const root =
    operation.operation === 'mutation'
      ? schema.getMutationType()
      : operation.operation === 'subscription'
        ? schema.getSubscriptionType()
        : schema.getQueryType();
  const walk: Walk = {
    schema,
    fragments: new Map(fragments.map((f) => [f.name.value, f])),
    variables,
    settings,
    result: { cost: 0, introspectionListDepth: 0, introspectionRoots: 0, dataFields: 0 },
  };
  if (root) walk.result.cost = selectionCost(walk, operation.selectionSet, root, 1, new Set());
  walk.result.dataFields = rootFieldNames(walk, operation.selectionSet, new Set()).filter((name) => !name.startsWith('__')).length;
  return walk.result;
}

function selectionCost(walk: Walk, set: SelectionSetNode, type: GraphQLCompositeType, pageSize: number, seen: Set<string>): number {
  let cost = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name === '__typename') continue;
      if (name === '__schema' || name === '__type') {
        walk.result.introspectionRoots += 1;
        if (selection.selectionSet) introspectionDepth(walk, selection.selectionSet, 0, new Set());
        continue;
      }
      const field = 'getFields' in type ? type.getFields()[name] : undefined;
      if (!field || !selection.selectionSet) continue;
      const target = getNamedType(field.type);
      if (!isCompositeType(target)) continue;
      const items = listItems(walk, field, selection.arguments ?? [], type, pageSize);
      const childPage = target.name.endsWith('Connection') ? pageArgument(walk, selection.arguments ?? []) : 1;
      // Each object returned costs 1, and what is selected below it.
      cost += items * (1 + selectionCost(walk, selection.selectionSet, target, childPage, seen));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const on = selection.typeCondition ? walk.schema.getType(selection.typeCondition.name.value) : type;
      cost += selectionCost(walk, selection.selectionSet, isCompositeType(on) ? on : type, pageSize, seen);
    } else {
      const fragment = walk.fragments.get(selection.name.value);
      // A fragment spread inside itself is a validation error; never loop on it.
      if (!fragment || seen.has(fragment.name.value)) continue;
      const on = walk.schema.getType(fragment.typeCondition.name.value);
      const inner = new Set(seen).add(fragment.name.value);
      cost += selectionCost(walk, fragment.selectionSet, isCompositeType(on) ? on : type, pageSize, inner);
    }
  }
  return cost;
}

function rootFieldNames(walk: Walk, set: SelectionSetNode, seen: Set<string>): string[] {
  return set.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection.name.value];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFieldNames(walk, selection.selectionSet, seen);
    const fragment = walk.fragments.get(selection.name.value);
    if (!fragment || seen.has(fragment.name.value)) return [];
    return rootFieldNames(walk, fragment.selectionSet, new Set(seen).add(fragment.name.value));
  });
}

/** How many items a field returns at most: a connection's edges/nodes its page, another list its `first` or a fixed estimate. */
function listItems(
  walk: Walk,
  field: GraphQLField<unknown, unknown>,
  args: readonly { name: { value: string }; value: ValueNode }[],
  parent: GraphQLCompositeType,
  pageSize: number,
): number {
  const type = isNonNullType(field.type) ? field.type.ofType : field.type;
  if (!isListType(type)) return 1;
  if (parent.name.endsWith('Connection')) return pageSize;
  if (field.args.some((a) => a.name === 'first' || a.name === 'last')) return pageArgument(walk, args);
  return UNPAGED_LIST_ITEMS;
}

function pageArgument(walk: Walk, args: readonly { name: { value: string }; value: ValueNode }[]): number {
  const { defaultPageSize, maxPageSize } = walk.settings;
  let size: number | null = null;
  for (const arg of args) {
    if (arg.name.value !== 'first' && arg.name.value !== 'last') continue;
    const value = intValue(arg.value, walk.variables);
    if (value !== null) size = Math.max(size ?? 0, value);
  }
  // Out-of-range sizes are refused when the field runs; here they only must not make the estimate small.
  return Math.min(Math.max(size ?? defaultPageSize, 1), maxPageSize);
}

function intValue(node: ValueNode, variables: Variables): number | null {
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const value = variables?.[node.name.value];
    return typeof value === 'number' && Number.isFinite(value) ? value : null;
  }
  return null;
}

/** Introspection lists (types, fields, args, …) nested in one another; GraphiQL's own query nests three. */
function introspectionDepth(walk: Walk, set: SelectionSetNode, depth: number, seen: Set<string>): void {
  walk.result.introspectionListDepth = Math.max(walk.result.introspectionListDepth, depth);
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.selectionSet) {
        const nested = INTROSPECTION_LISTS.has(selection.name.value) ? depth + 1 : depth;
        introspectionDepth(walk, selection.selectionSet, nested, seen);
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      introspectionDepth(walk, selection.selectionSet, depth, seen);
    } else {
      const fragment = walk.fragments.get(selection.name.value);
      if (fragment && !seen.has(fragment.name.value)) {
        introspectionDepth(walk, fragment.selectionSet, depth, new Set(seen).add(fragment.name.value));
      }
    }
  }
}

const INTROSPECTION_LISTS = new Set(['types', 'fields', 'args', 'inputFields', 'interfaces', 'possibleTypes', 'enumValues', 'directives']);
