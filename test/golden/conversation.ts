/**
 * The golden conversation, the same whatever the client speaks and whatever the upstream speaks:
 * the user asks with text and an image; the assistant says a few words and makes two parallel tool
 * calls; the client sends the tool results back; the assistant answers in text.
 */
export const SYSTEM = 'Answer in one sentence.';
export const QUESTION = 'What is the weather and the local time in the city in this photo?';
/** A 1×1 PNG. */
export const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
export const IMAGE_URL = `data:image/png;base64,${PNG_BASE64}`;
export const PREAMBLE = 'Let me look both up.';
export const ANSWER = 'It is 18°C and clear in Paris, and 14:05 local time.';

export interface Tool {
  name: string;
  description: string;
  parameters: { type: 'object'; properties: Record<string, { type: 'string' }>; required: string[] };
}

export const TOOLS: Tool[] = [
  { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  { name: 'get_local_time', description: 'Local time in a time zone', parameters: { type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'] } },
];

/** The two calls the assistant makes, in order, and what each tool answers. */
export const CALLS = [
  { name: 'get_weather', input: { city: 'Paris' }, result: '{"celsius":18,"sky":"clear"}' },
  { name: 'get_local_time', input: { timezone: 'Europe/Paris' }, result: '{"time":"14:05"}' },
] as const;

export const resultFor = (name: string): string => {
  const call = CALLS.find((c) => c.name === name);
  if (call === undefined) throw new Error(`the golden conversation has no tool ${name}`);
  return call.result;
};

/** What a client understood from one answer, in its own format's words. */
export interface Meaning {
  text: string;
  toolCalls: { id: string; name: string; input: unknown }[];
  /** finish_reason, stop_reason or status. */
  finish: string | null;
  /** The usage the client was shown, as its format names the counts. */
  usage: Record<string, number | null>;
}
