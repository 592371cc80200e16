import type { Usage } from '@tollgate/shared';
import type { IngressCodec, RenderContext } from '../codecs/codec.ts';
import type { Headers, Reply } from '../http/reply.ts';
import type { RelayOutcome } from './outcome.ts';

export interface WholeRelayInput<Req, Res> {
  /** The answer, and the provider's bytes of it for the passthrough path. */
  answer: { response: Res; raw: Buffer };
  codec: IngressCodec<Req, Res>;
  passthrough: boolean;
  reply: Reply;
  context: RenderContext;
  headers: Headers;
  usage: Usage;
  /** `x-tollgate-cost`, in credits. */
  cost: string;
}

/**
 * Sends a whole answer: the provider's bytes as they came when it speaks the client's format (the
 * passthrough path; it was parsed and bounded already), else rendered by the client's codec.
 */
export function relayWhole<Req, Res>(input: WholeRelayInput<Req, Res>): RelayOutcome {
  const { answer, reply } = input;
  // The client left while the answer was read: the upstream did the work, so it is billed.
  if (!reply.open) return { status: 'client_aborted', httpStatus: 499, billable: true, errorCode: null };
  const body = input.passthrough ? answer.raw : input.codec.renderResponse(answer.response, input.usage, input.context);
  reply.sendJson(200, [...input.headers, ['x-tollgate-cost', input.cost]], body);
  return { status: 'ok', httpStatus: 200, billable: true, errorCode: null };
}
