/**
 * A real tokenizer (o200k_base, the encoding of OpenAI's current models) for usage estimates when a
 * provider reports none. Loaded on first use, not at start: it costs ~70 MB and ~170 ms to load,
 * and most requests never need it because their provider reports usage.
 */
type Counter = (text: string) => number;

let loading: Promise<Counter> | null = null;

function load(): Promise<Counter> {
  loading ??= import('gpt-tokenizer/encoding/o200k_base').then((m) => (text: string) => m.countTokens(text));
  return loading;
}

export async function countTokens(text: string): Promise<number> {
  if (text.length === 0) return 0;
  return (await load())(text);
}

/** Loads the tokenizer now (a server that expects estimates may warm it at start). */
export function warmTokenizer(): Promise<void> {
  return load().then(() => undefined);
}
