import { usage as usageOf, type ChatResponse, type StreamEvent, type Usage, type UsageSource } from '@tollgate/shared';
import { estimateBytesAsTokens } from './estimate.ts';
import { countTokens } from './tokenizer.ts';

/**
 * The quick estimate counts three bytes per token, which over-counts English by a third. The cut at
 * the hold compares the *under*-count (four bytes per token) with the budget, so an honest provider
 * that stops at the cap we sent it is never cut early; the bill is capped at the hold either way.
 */
const CUT_BYTES_PER_TOKEN = 4;
/** Output text kept for the tokenizer when a provider reports no usage; past it, extrapolated by bytes. */
const KEPT_OUTPUT_BYTES = 1024 * 1024;

/**
 * Metering of one answer as it passes: the usage the provider reported (the last one wins), the
 * output's size for the cut at the hold, and a bounded copy of the output for the tokenizer, used
 * only when the provider reports nothing.
 */
export class Meter {
  private reported: Usage | null = null;
  private outputBytes = 0;
  private keptBytes = 0;
  private readonly kept: string[] = [];

  constructor(
    /** The tokenizer's count of the request's input, for when the provider reports none. */
    private readonly countInput: () => Promise<number>,
    /** Output tokens the hold covers: the output cap times `n`. */
    private readonly outputBudget: number,
    /** The quick estimate, for when the tokenizer cannot load. */
    private readonly inputEstimate: number,
  ) {}

  private output(text: string): void {
    const bytes = Buffer.byteLength(text, 'utf8');
    this.outputBytes += bytes;
    if (this.keptBytes < KEPT_OUTPUT_BYTES) {
      this.kept.push(text);
      this.keptBytes += bytes;
    }
  }

  /** Counts a batch of events; true when the output has passed what the hold covers. */
  observe(events: readonly StreamEvent[]): boolean {
    for (const e of events) {
      switch (e.type) {
        case 'text':
        case 'reasoning':
        case 'refusal':
          this.output(e.text);
          break;
        case 'tool_call':
          if (e.name !== null) this.output(e.name);
          this.output(e.arguments);
          break;
        case 'usage':
          this.reported = e.usage;
          break;
        default:
          break;
      }
    }
    return Math.floor(this.outputBytes / CUT_BYTES_PER_TOKEN) > this.outputBudget;
  }

  /** Usage a provider reported outside any stream event (a whole answer of another operation). */
  report(usage: Usage | null): void {
    if (usage !== null) this.reported = usage;
  }

  /** Meters a whole answer: its reported usage, and its output for the estimate. */
  observeResponse(response: ChatResponse): void {
    for (const choice of response.choices) {
      for (const text of [choice.text, choice.reasoning, choice.refusal]) if (text !== null) this.output(text);
      for (const call of choice.toolCalls) {
        this.output(call.name);
        this.output(call.arguments);
      }
    }
    if (response.usage !== null) this.reported = response.usage;
  }

  get hasReport(): boolean {
    return this.reported !== null;
  }

  /**
   * The usage to bill: the provider's report when there is one, else the tokenizer's estimate.
   * `called` says whether the upstream was called at all; an uncalled or failed-before-content
   * request costs nothing.
   */
  async final(called: boolean): Promise<{ usage: Usage; source: UsageSource }> {
    if (this.reported !== null) return { usage: this.reported, source: 'reported' };
    if (!called) return { usage: usageOf({}), source: 'estimated' };
    try {
      const keptTokens = await countTokens(this.kept.join(''));
      // Past the kept text, the rest is extrapolated at the same tokens-per-byte.
      const output = this.keptBytes >= this.outputBytes ? keptTokens : Math.ceil((keptTokens * this.outputBytes) / Math.max(1, this.keptBytes));
      return { usage: usageOf({ input: await this.countInput(), output }), source: 'estimated' };
    } catch {
      // The tokenizer could not load: the quick, conservative estimate still bills the request.
      return { usage: usageOf({ input: this.inputEstimate, output: estimateBytesAsTokens(this.outputBytes) }), source: 'estimated' };
    }
  }
}
