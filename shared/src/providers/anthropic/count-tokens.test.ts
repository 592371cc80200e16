import { describe, expect, it } from 'vitest';
import { UpstreamFormatError } from '../adapter.ts';
import { parseAnthropicCountTokens } from './count-tokens.ts';

describe('Anthropic count_tokens answers', () => {
  const parse = (text: string) => parseAnthropicCountTokens(Buffer.from(text));

  it('reads the input count', () => {
    expect(parse('{"input_tokens":2095}')).toBe(2095);
    expect(parse('{"input_tokens":0,"context_management":null}')).toBe(0);
  });

  it.each(['{}', '{"input_tokens":-1}', '{"input_tokens":1.5}', '{"input_tokens":"12"}', '[12]', 'null', 'not json'])('refuses %s as no answer', (text) => {
    expect(() => parse(text)).toThrow(UpstreamFormatError);
  });
});
