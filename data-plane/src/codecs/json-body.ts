import { GatewayError } from '@tollgate/shared';

/** A request body as a JSON object, or the 400 every codec answers for anything else. */
export function jsonObjectBody(raw: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new GatewayError('invalid_json', 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new GatewayError('invalid_json', 'The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}
