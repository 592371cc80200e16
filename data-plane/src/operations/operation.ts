import type { IngressCodec } from '../codecs/codec.ts';
import type { Exchange } from '../dispatch/exchange.ts';
import type { Meter } from '../metering/meter.ts';
import type { ItemRule } from '../metering/pricing.ts';
import type { RoutePlan } from '../routing/resolve.ts';

/** What the pipeline itself needs to know of a request, whatever the operation. */
export interface RequestShape {
  model: string;
  stream: boolean;
  /** The client asked for usage in the stream. */
  includeUsage: boolean;
  /** The client's output cap per choice (null: the model's), and how many choices. */
  maxOutputTokens: number | null;
  n: number;
  /** Whether the answer has output tokens at all (embeddings do not). */
  producesOutput: boolean;
}

/**
 * One kind of /v1 call (DESIGN.md, "Data plane pipeline"): its codec (the client's wire format),
 * what the pipeline reads of its requests, how it estimates their input, and what it asks of a
 * provider. Every operation runs through the one pipeline: authenticate, parse, route, admit,
 * dispatch, relay, settle. A new endpoint is a new operation, never a copy of the pipeline.
 */
export interface Operation<Req, Res> {
  /** The endpoint's name on usage records. */
  name: string;
  codec: IngressCodec<Req, Res>;
  shape(request: Req): RequestShape;
  /** The quick, conservative input estimate that sizes a hold. */
  estimateInput(request: Req): number;
  /** The tokenizer's count of the input, billed when a provider reports no usage. */
  countInput(request: Req): Promise<number>;
  /** The leading texts of the prompt, for prompt-cache affinity. */
  promptTexts(request: Req): string[];
  exchange(request: Req): Exchange<Res>;
  /** Meters a whole answer: its reported usage and its output. */
  meterWhole(meter: Meter, response: Res): void;
  /** Priced per item returned (images), or not at all (a token count); absent: per token. */
  pricing?: ItemRule<Req, Res> | 'free';
  /**
   * An answer the gateway gives itself when no target of the lane offers the endpoint (a token
   * count for a model no provider of which counts): no provider is called. Null: dispatch.
   */
  answerLocally?(request: Req, plan: RoutePlan): Promise<Res> | null;
}
