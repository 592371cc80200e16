import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from './config.ts';

const base = { REDIS_URL: 'redis://127.0.0.1:1', TOLLGATE_MASTER_KEY: randomBytes(32).toString('base64') };

describe('the data plane reads TOLLGATE_SETTLED_MARKER_HOURS', () => {
  it('remembers a settled request for 24 hours unless told otherwise, and takes whole hours up to a year', () => {
    expect(readConfig(base).settledMarkerSeconds).toBe(86_400);
    expect(readConfig({ ...base, TOLLGATE_SETTLED_MARKER_HOURS: '' }).settledMarkerSeconds).toBe(86_400);
    expect(readConfig({ ...base, TOLLGATE_SETTLED_MARKER_HOURS: '1' }).settledMarkerSeconds).toBe(3_600);
    expect(readConfig({ ...base, TOLLGATE_SETTLED_MARKER_HOURS: '168' }).settledMarkerSeconds).toBe(604_800);
    expect(readConfig({ ...base, TOLLGATE_SETTLED_MARKER_HOURS: '8760' }).settledMarkerSeconds).toBe(31_536_000);
  });

  it.each(['0', '-1', '1.5', '8761', 'a day'])('refuses %j', (hours) => {
    expect(() => readConfig({ ...base, TOLLGATE_SETTLED_MARKER_HOURS: hours })).toThrow(new ConfigError(`TOLLGATE_SETTLED_MARKER_HOURS must be an integer from 1 to 8760, got "${hours}"`));
  });
});
