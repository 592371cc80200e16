export * from './adapter.ts';
export * from './base-url.ts';
export * from './catalog.ts';
export * from './credentials.ts';
export * from './registry.ts';
export * from './sanitise.ts';
export { openAIAdapter } from './openai/adapter.ts';
export { writeFinishReason } from './openai/finish.ts';
export { writeOpenAIUsage } from './openai/usage.ts';
