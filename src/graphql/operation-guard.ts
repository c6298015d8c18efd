import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getOperationAST,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { type Caller } from '../auth/caller';
import { type DomainError, ErrorCode } from '../common/errors';
import { type QueryLimits } from '../config/config';
import { type CostSettings, operationCost } from './query-cost';

/** GraphiQL's introspection query nests three lists (types → fields → args); deeper nesting multiplies without bound. */
const MAX_INTROSPECTION_LISTS = 3;
const MAX_INTROSPECTION_FIELDS = 2;

const tooComplex = (message: string, details: Record<string, unknown>) =>
  new GraphQLError(message, { extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, ...details } });

/**
 * The limits every operation passes before it runs, over HTTP and WebSocket alike: tokens while
 * parsing, depth, aliases and directives while validating (graphql-armor's rules), and then, with
 * the variables and the caller known, the estimated cost against the role's budget.
 */
export class OperationGuard {
  readonly parseOptions: ParseOptions;
  readonly validationRules: ValidationRule[];

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly limits: QueryLimits,
    private readonly pages: CostSettings,
  ) {
    this.parseOptions = { maxTokens: limits.maxTokens };
    const reject = (setting: string, noun: string, max: number) => (context: ValidationContext | null, error: GraphQLError) => {
      const found = Number(/found (\d+)/.exec(error.message)?.[1]);
      context?.reportError(
        tooComplex(`the operation has ${found} ${noun}; the limit is ${max} (${setting})`, { limit: setting, max, found }),
      );
    };
    const common = { exposeLimits: true, propagateOnRejection: false };
    this.validationRules = [
      maxDepthRule({ ...common, n: limits.maxDepth, onReject: [reject('QUERY_MAX_DEPTH', 'levels of nesting', limits.maxDepth)] }),
      // __typename counts too: 50,000 aliases of it are as much work as any other field.
      maxAliasesRule({
        ...common,
        n: limits.maxAliases,
        allowList: [],
        onReject: [reject('QUERY_MAX_ALIASES', 'aliases', limits.maxAliases)],
      }),
      maxDirectivesRule({
        ...common,
        n: limits.maxDirectives,
        onReject: [reject('QUERY_MAX_DIRECTIVES', 'directives', limits.maxDirectives)],
      }),
    ];
  }

  /**
   * Null when the operation may run. Without a valid key only introspection (what GraphiQL needs to
   * load the schema) is answered; anything else is UNAUTHENTICATED before it runs.
   */
  check(
    document: DocumentNode,
    operationName: string | null | undefined,
    variables: Record<string, unknown> | null | undefined,
    identity: { caller: Caller | null; authError: DomainError | null },
  ): GraphQLError | null {
    const operation = getOperationAST(document, operationName);
    if (!operation) return null;
    const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
    const estimate = operationCost(this.schema, operation, fragments, variables, this.pages);
    if (estimate.introspectionListDepth > MAX_INTROSPECTION_LISTS) {
      return tooComplex(
        `introspection nests ${estimate.introspectionListDepth} lists; at most ${MAX_INTROSPECTION_LISTS} (types → fields → args)`,
        {
          limit: 'introspection',
          max: MAX_INTROSPECTION_LISTS,
          found: estimate.introspectionListDepth,
        },
      );
    }
    if (estimate.introspectionRoots > MAX_INTROSPECTION_FIELDS) {
      return tooComplex(
        `the operation asks for __schema or __type ${estimate.introspectionRoots} times; at most ${MAX_INTROSPECTION_FIELDS}`,
        {
          limit: 'introspection',
          max: MAX_INTROSPECTION_FIELDS,
          found: estimate.introspectionRoots,
        },
      );
    }
    const { caller } = identity;
    if (!caller) {
      if (estimate.dataFields === 0 && operation.operation === 'query') return null;
      const message =
        identity.authError?.message ??
        'an API key is required: send "Authorization: Bearer <key>" (without one, only introspection is answered)';
      return new GraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED } });
    }
    const max = this.limits.maxCost[caller.role];
    if (estimate.cost > max) {
      return tooComplex(
        `the operation could return about ${estimate.cost} objects; a ${caller.role} key may ask for ${max} at once (QUERY_MAX_COST_${caller.role}). Ask for smaller pages (first) or fewer nested lists`,
        { limit: `QUERY_MAX_COST_${caller.role}`, max, found: estimate.cost },
      );
    }
    return null;
  }
}
