import { describe, expect, it } from 'vitest';
import { generateSecret } from './keys.ts';
import { createLogger, redactText } from './log.ts';

describe('logger redaction', () => {
  it('masks secrets in messages, values, errors and secret-named fields', () => {
    const lines: string[] = [];
    const log = createLogger('test', { write: (line) => lines.push(line) });
    const key = generateSecret('api_key').secret;
    const token = generateSecret('management_token').secret;
    log.info(`auth failed for ${key}`, {
      header: `Bearer ${token}`,
      apiKey: 'sk-live-abcdefghijkl',
      nested: { error: new Error(`upstream said sk-proj-abcdefghijklmnop`) },
      amount: 5n,
      inputTokens: 12,
      accessToken: 'opaque-value',
    });
    const text = lines.join('\n');
    expect(text).not.toContain(key);
    expect(text).not.toContain(token);
    expect(text).not.toContain('sk-live-abcdefghijkl');
    expect(text).not.toContain('sk-proj-abcdefghijklmnop');
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ level: 'info', name: 'test', apiKey: '[redacted]', accessToken: '[redacted]', amount: '5', inputTokens: 12 });
    expect(record.msg).toBe('auth failed for tg_[redacted]');
  });

  it('leaves ordinary text alone', () => {
    expect(redactText('model gpt-4o-mini took 12 ms')).toBe('model gpt-4o-mini took 12 ms');
  });

  it('respects the level', () => {
    const lines: string[] = [];
    const log = createLogger('test', { level: 'warn', write: (line) => lines.push(line) });
    log.info('no');
    log.warn('yes');
    expect(lines).toHaveLength(1);
  });
});
