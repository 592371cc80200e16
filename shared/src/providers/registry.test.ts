import { describe, expect, it } from 'vitest';
import { PROTOCOLS } from './catalog.ts';
import { openAIAdapter } from './openai/adapter.ts';
import { adapterFor } from './registry.ts';

describe('adapter registry', () => {
  it('routes the openai protocol to the OpenAI adapter', () => {
    expect(adapterFor('openai')).toBe(openAIAdapter);
  });

  it('each adapter declares the protocol it is registered under', () => {
    const registered = PROTOCOLS.filter((p) => adapterFor(p) !== null);
    expect(registered.map((p) => adapterFor(p)!.protocol)).toEqual(registered);
  });
});
