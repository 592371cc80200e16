import { asRecord, field, stringField } from '../json.ts';

/** Most candidates and function calls per candidate read from one answer; more are not believed. */
export const MAX_CANDIDATES = 128;
export const MAX_TOOL_CALLS = 128;

/** What one `Part` of a candidate's content means to the gateway. */
export type ReadPart =
  | { type: 'text'; text: string; thought: boolean }
  | { type: 'call'; id: string | null; name: string; arguments: string; signature: string | null };

/**
 * Reads one part of a candidate's content: text (a thought summary when `thought` is true) or a
 * whole `functionCall`. Anything else (inline data, executable code, a bare thought signature on
 * an empty text part, hostile shapes) is null: nothing to pass on.
 */
export function readPart(part: unknown): ReadPart | null {
  const text = stringField(part, 'text');
  if (text) return { type: 'text', text, thought: field(part, 'thought') === true };
  const call = asRecord(field(part, 'functionCall'));
  const name = stringField(call, 'name');
  if (call === null || !name) return null;
  const args = callArguments(call.args);
  if (args === null) return null;
  const id = stringField(call, 'id');
  return { type: 'call', id: id && id.length <= MAX_CALL_ID_CHARS ? id : null, name, arguments: args, signature: stringField(part, 'thoughtSignature') || null };
}

/** A provider id longer than this is not used: clients echo ids back, and codecs bound them. */
const MAX_CALL_ID_CHARS = 128;

/**
 * Gemini sends arguments parsed (`args` is a JSON object); the canonical call holds JSON text.
 * Absent args are an empty object; args that are not an object, or nested too deep to serialise,
 * make the call unreadable (null).
 */
function callArguments(args: unknown): string | null {
  if (args === undefined || args === null) return '{}';
  if (asRecord(args) === null) return null;
  try {
    return JSON.stringify(args);
  } catch {
    return null;
  }
}

/**
 * The id of a function call Gemini gave none (the Gemini API mostly does not): derived from the
 * response id, the candidate and the call's position among that candidate's calls, so the same
 * answer yields the same ids streamed or not. The response id is reduced to id-safe characters.
 */
export function callId(responseId: string | null, choice: number, index: number): string {
  const base = (responseId ?? '').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64);
  return base ? `call_${base}_${choice}_${index}` : `call_${choice}_${index}`;
}
