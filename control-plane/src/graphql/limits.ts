import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './builder.ts';

/**
 * Bounds on one GraphQL document, checked before anything executes, so the worst accepted request
 * is cheap (issue 8: a 1.28 M-alias query once took 12.6 s and stalled the embedded data plane):
 * - the body (yoga's maxRequestBodySize) and the token count (graphql-js `maxTokens`) bound parsing;
 * - depth, aliases and cost bound execution: cost counts every field, multiplied by the page size
 *   of each connection above it (`first`/`last`; a variable counts as the largest page).
 * At the defaults a request can touch at most ~`maxCost` resolved fields, i.e. a few thousand rows.
 */
export interface QueryLimits {
  maxBodyBytes: number;
  maxTokens: number;
  /** Token limit for anonymous requests, which may only use the public fields. */
  maxAnonymousTokens: number;
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
}

export const DEFAULT_LIMITS: QueryLimits = {
  maxBodyBytes: 1_000_000,
  maxTokens: 5_000,
  maxAnonymousTokens: 300,
  maxDepth: 12,
  maxAliases: 30,
  maxCost: 10_000,
};

const PAGE_ARGS = new Set(['first', 'last']);

/** Fields that run a query of their own per parent (not batched by the drizzle plugin) cost more. */
const FIELD_WEIGHTS: Record<string, number> = { usage: 100, balance: 10, exportConfig: 1000, testChannel: 1000, testByokCredential: 1000 };

export function limitsRule(limits: QueryLimits) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    let aliases = 0;
    const fail = (message: string, code: string): void => {
      context.reportError(new GraphQLError(message, { extensions: { code, http: { status: 400 } } }));
    };

    /** Cost and depth of a selection set; fragments are expanded, and a cycle counts once. */
    const measure = (set: SelectionSetNode, depth: number, seen: Set<string>): { cost: number; depth: number } => {
      let cost = 0;
      let deepest = depth;
      for (const selection of set.selections) {
        let inner: { cost: number; depth: number } = { cost: 0, depth };
        if (selection.kind === Kind.FIELD) {
          if (selection.alias) aliases++;
          inner = measureField(selection, depth + 1, seen);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          inner = measure(selection.selectionSet, depth, seen);
        } else {
          const fragment = fragments.get(selection.name.value);
          if (fragment && !seen.has(fragment.name.value)) inner = measure(fragment.selectionSet, depth, new Set([...seen, fragment.name.value]));
        }
        cost += inner.cost;
        deepest = Math.max(deepest, inner.depth);
        // Stop early: a hostile document must not make this walk itself expensive.
        if (cost > limits.maxCost) break;
      }
      return { cost, depth: deepest };
    };

    const measureField = (field: FieldNode, depth: number, seen: Set<string>): { cost: number; depth: number } => {
      const weight = FIELD_WEIGHTS[field.name.value] ?? 1;
      if (!field.selectionSet) return { cost: weight, depth };
      let page = 1;
      for (const arg of field.arguments ?? []) {
        if (!PAGE_ARGS.has(arg.name.value)) continue;
        page = arg.value.kind === Kind.INT ? Math.min(Number(arg.value.value), MAX_PAGE_SIZE) : MAX_PAGE_SIZE;
      }
      const isConnection = field.selectionSet.selections.some((s) => s.kind === Kind.FIELD && (s.name.value === 'edges' || s.name.value === 'pageInfo'));
      if (isConnection && page === 1 && !(field.arguments ?? []).some((a) => PAGE_ARGS.has(a.name.value))) page = DEFAULT_PAGE_SIZE;
      const inner = measure(field.selectionSet, depth, seen);
      return { cost: weight + Math.max(1, page) * inner.cost, depth: inner.depth };
    };

    return {
      OperationDefinition(operation) {
        aliases = 0;
        const { cost, depth } = measure(operation.selectionSet, 0, new Set());
        if (depth > limits.maxDepth) fail(`the query is nested ${depth} levels deep; at most ${limits.maxDepth} are allowed`, 'QUERY_TOO_DEEP');
        if (aliases > limits.maxAliases) fail(`the query uses ${aliases} aliases; at most ${limits.maxAliases} are allowed`, 'TOO_MANY_ALIASES');
        if (cost > limits.maxCost) fail(`the query could resolve more than ${limits.maxCost} fields; ask for smaller pages or fewer fields`, 'QUERY_TOO_COSTLY');
        return false;
      },
    };
  };
}
