export * from './chat.ts';
export * from './events.ts';
export * from './usage.ts';
