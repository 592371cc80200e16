import { writeOpenAIUsage, type GatewayError, type StreamEvent, type Usage } from '@tollgate/shared';
import type { RenderContext, StreamRenderer } from './codec.ts';

const DONE = 'data: [DONE]\n\n';

type StartEvent = Extract<StreamEvent, { type: 'start' }>;

/**
 * What the two OpenAI chunk streams (`chat.completion.chunk`, `text_completion`) share: the
 * chunk envelope, the choices that started and finished, and the end: a finish chunk for each
 * choice still open, the usage once (unless a passed-on chunk already showed it), then `[DONE]`.
 */
export abstract class OpenAIChunkRenderer implements StreamRenderer {
  protected id: string;
  private model: string;
  private created = Math.floor(Date.now() / 1000);
  protected readonly open = new Set<number>();
  protected readonly finished = new Set<number>();
  private usageSent = false;

  /** `object` names the chunks; the id, until the provider names one, is `<idPrefix>-<request id>`. */
  constructor(
    private readonly ctx: RenderContext,
    private readonly object: string,
    idPrefix: string,
  ) {
    this.id = `${idPrefix}-${ctx.requestId}`;
    this.model = ctx.model;
  }

  abstract events(events: readonly StreamEvent[]): string;

  /** One choice of a chunk that closes `choice` with `finishReason` and no content. */
  protected abstract closing(choice: number, finishReason: string): unknown;

  /** What a passed-on chunk's event tells this stream's state (which choices started or finished). */
  protected abstract track(event: StreamEvent): void;

  protected chunk(choices: unknown[], usage?: Usage): string {
    const body: Record<string, unknown> = { id: this.id, object: this.object, created: this.created, model: this.model, choices };
    if (usage) body.usage = writeOpenAIUsage(usage);
    return `data: ${JSON.stringify(body)}\n\n`;
  }

  protected start(e: StartEvent): void {
    if (e.id) this.id = e.id;
    if (e.model) this.model = e.model;
    this.created = e.created;
  }

  passthrough(raw: string, events: readonly StreamEvent[]): string {
    const usageOnly = events.length > 0 && events.every((e) => e.type === 'usage');
    for (const e of events) this.track(e);
    // The provider's usage-only chunk exists because the gateway asked for it.
    if (usageOnly && !this.ctx.includeUsage) return '';
    // Usage the client sees here (alone, or inside a last content chunk) is not sent again at the end.
    if (events.some((e) => e.type === 'usage')) this.usageSent = true;
    return `data: ${raw}\n\n`;
  }

  finish(usage: Usage, cutReason: 'length' | null): string {
    let out = '';
    for (const choice of this.open) {
      if (this.finished.has(choice)) continue;
      this.finished.add(choice);
      out += this.chunk([this.closing(choice, cutReason ?? 'stop')]);
    }
    if (this.ctx.includeUsage && !this.usageSent) {
      this.usageSent = true;
      out += this.chunk([], usage);
    }
    return out + DONE;
  }

  fail(error: GatewayError): string {
    return `data: ${error.toBody()}\n\n${DONE}`;
  }
}
