import { formatCredits, MoneyFormatError, parseCredits } from '@tollgate/shared';
import { GraphQLError, Kind } from 'graphql';
import { builder } from '../builder.ts';

function creditsFromInput(value: unknown): bigint {
  if (typeof value !== 'string') {
    // Numbers are refused: a float literal such as 0.1 is already inexact before we see it.
    throw new GraphQLError('Credits must be a decimal string such as "12.50"');
  }
  try {
    return parseCredits(value);
  } catch (error) {
    if (error instanceof MoneyFormatError) throw new GraphQLError(error.message);
    throw error;
  }
}

builder.scalarType('Credits', {
  description:
    'An exact amount of credits (1 credit = 1 USD) as a decimal string with at most 9 decimal places, e.g. "12.5". Stored as integer nanocredits.',
  serialize: (value) => formatCredits(value),
  parseValue: creditsFromInput,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('Credits must be a decimal string such as "12.50"');
    return creditsFromInput(ast.value);
  },
});

function dateFromInput(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string');
  return date;
}

builder.scalarType('DateTime', {
  description: 'An instant as an ISO 8601 string, e.g. "2025-01-31T12:00:00.000Z".',
  serialize: (value) => value.toISOString(),
  parseValue: dateFromInput,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be an ISO 8601 string');
    return dateFromInput(ast.value);
  },
});

function tokenCountFromInput(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new GraphQLError('TokenCount must be a non-negative integer no larger than 2^53 - 1');
  }
  return value;
}

builder.scalarType('TokenCount', {
  description: 'A number of tokens: a non-negative integer up to 2^53 - 1 (counts pass 2^31, GraphQL Int\'s limit), as a JSON number.',
  serialize: (value) => value,
  parseValue: tokenCountFromInput,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.INT) throw new GraphQLError('TokenCount must be an integer');
    return tokenCountFromInput(Number(ast.value));
  },
});
