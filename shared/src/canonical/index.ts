export * from './chat.ts';
export * from './events.ts';
export * from './usage.ts';
export * from './embeddings.ts';
export * from './completions.ts';
export * from './images.ts';
