import type { ChatRequest, ReasoningEffort, ThinkingConfig } from '../../canonical/chat.ts';
import type { AnthropicBlock, AnthropicTurn } from './messages.ts';

/** Anthropic's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

export interface AnthropicReasoning {
  thinking?: AnthropicBlock;
  /** `output_config.effort`. */
  effort?: string;
}

/**
 * How a model takes thinking, from its id. Claude 4.6 and later take adaptive thinking with an
 * effort and (from 4.7) refuse fixed budgets; earlier models take only a fixed budget, and refuse
 * adaptive thinking and (Sonnet/Haiku 4.5) the effort. Ids the pattern does not know are taken to be
 * newer models. Model ids look like `claude-sonnet-4-5-20250929`, `claude-opus-4-6`,
 * `claude-3-7-sonnet-20250219` (also inside Bedrock and Vertex ids).
 */
export function thinkingStyle(upstreamModel: string): 'adaptive' | 'budget' {
  const named = /claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?=-|@|$)/.exec(upstreamModel);
  const legacy = named === null ? /claude-(\d+)-(\d{1,2})-(?:opus|sonnet|haiku)/.exec(upstreamModel) : null;
  const match = named ?? legacy;
  if (match === null) return 'adaptive';
  const major = Number(match[1]);
  const minor = Number(match[2] ?? '0');
  return major > 4 || (major === 4 && minor >= 6) ? 'adaptive' : 'budget';
}

const ADAPTIVE_EFFORT: Record<ReasoningEffort, 'low' | 'medium' | 'high'> = { minimal: 'low', low: 'low', medium: 'medium', high: 'high' };
/** Share of the output cap a fixed budget gets; `minimal` gets the smallest budget there is. */
const BUDGET_SHARE: Record<ReasoningEffort, number> = { minimal: 0, low: 0.25, medium: 0.5, high: 0.75 };

/**
 * Anthropic refuses thinking together with a temperature other than 1, a top_p below 0.95, or a
 * forced tool; and, in a tool loop, when the assistant turn its tool results answer does not start
 * with that turn's signed thinking, which a client of another format cannot send back. The portable
 * effort is a wish, the others are settings: the wish yields.
 */
function thinkingRefused(request: ChatRequest, turns: readonly AnthropicTurn[]): boolean {
  const { temperature, topP } = request.sampling;
  if ((temperature !== null && temperature !== 1) || (topP !== null && topP < 0.95)) return true;
  if (request.tools.length > 0 && (request.toolChoice?.type === 'required' || request.toolChoice?.type === 'function')) return true;
  const last = turns.at(-1);
  const answered = turns.at(-2);
  if (last === undefined || answered === undefined || last.role !== 'user' || answered.role !== 'assistant') return false;
  const first = answered.content[0]?.type;
  return last.content.some((b) => b.type === 'tool_result') && first !== 'thinking' && first !== 'redacted_thinking';
}

function clientThinking(thinking: ThinkingConfig): AnthropicReasoning {
  const display = thinking.display !== null ? { display: thinking.display } : {};
  const out: AnthropicReasoning = {};
  if (thinking.type === 'enabled' && thinking.budgetTokens !== null) out.thinking = { type: 'enabled', budget_tokens: thinking.budgetTokens, ...display };
  else if (thinking.type === 'adaptive') out.thinking = { type: 'adaptive', ...display };
  else if (thinking.type === 'disabled') out.thinking = { type: 'disabled' };
  if (thinking.effort !== null) out.effort = thinking.effort;
  return out;
}

/**
 * The reasoning settings to send. An Anthropic-format client's own settings go as they came (it
 * chose them for an Anthropic model). The portable effort of other formats becomes, for models that
 * take it, adaptive thinking with that effort (the effort alone when thinking is refused, see
 * above); for earlier models, a thinking budget of a share of the output cap, or nothing when the
 * cap leaves no room for the smallest budget.
 */
export function anthropicReasoning(request: ChatRequest, upstreamModel: string, maxTokens: number, turns: readonly AnthropicTurn[]): AnthropicReasoning {
  if (request.thinking !== undefined && request.thinking !== null) return clientThinking(request.thinking);
  const effort = request.reasoningEffort;
  if (effort === null) return {};
  const refused = thinkingRefused(request, turns);
  if (thinkingStyle(upstreamModel) === 'adaptive') return refused ? { effort: ADAPTIVE_EFFORT[effort] } : { thinking: { type: 'adaptive' }, effort: ADAPTIVE_EFFORT[effort] };
  const budget = Math.max(MIN_THINKING_BUDGET, Math.floor(maxTokens * BUDGET_SHARE[effort]));
  return refused || budget >= maxTokens ? {} : { thinking: { type: 'enabled', budget_tokens: budget } };
}
