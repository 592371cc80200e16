import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  answer, endlessStream, errorEventAfterChunks, fail, hang, hugeBody, rawBytes, resetAfterChunks, resetConnection,
  stallAfterChunks, stallForeverAfterChunks, startUpstream, UPSTREAM_SECRET, type FakeUpstream,
} from './upstream.ts';

/** The parts of a chat.completion(.chunk) these tests look at. */
interface ToolCallJson {
  index?: number;
  id?: string;
  type?: string;
  function: { name?: string; arguments: string };
}
interface ChunkJson {
  id: string;
  object: string;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: string; content?: string | null; tool_calls?: ToolCallJson[] };
    finish_reason: string | null;
  }>;
  usage?: Record<string, unknown> | null;
}
interface CompletionJson {
  object: string;
  model: string;
  choices: Array<{ message: { role: string; content: string | null; tool_calls?: ToolCallJson[] }; finish_reason: string }>;
  usage?: Record<string, unknown>;
}

let up: FakeUpstream;
beforeEach(async () => {
  up = await startUpstream();
});
afterEach(async () => {
  await up.close();
});

const post = (body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> =>
  fetch(`${up.url}/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' }, body: JSON.stringify(body), signal,
  });
const streamed = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'gpt-test', messages: [], stream: true, ...extra });

/** Reads SSE events one at a time, so a test can stop, time or race any of them. */
class Events {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(response: Response) {
    if (!response.body) throw new Error('no body');
    this.reader = response.body.getReader();
  }

  /** The next event's data, or null at the end of the body; rejects if the body fails. */
  async next(): Promise<string | null> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const event = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        if (!event.startsWith('data: ')) throw new Error(`not a data event: ${event}`);
        return event.slice('data: '.length);
      }
      const { value, done } = await this.reader.read();
      if (done) return null;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** Every remaining event, and the error that ended the body early, if any. */
  async rest(): Promise<{ data: string[]; error: Error | null }> {
    const data: string[] = [];
    try {
      for (let event = await this.next(); event !== null; event = await this.next()) data.push(event);
      return { data, error: null };
    } catch (error) {
      return { data, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

const chunks = (data: string[]): ChunkJson[] => data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as ChunkJson);
const contentOf = (data: string[]): string => chunks(data).map((c) => c.choices[0]?.delta.content ?? '').join('');
const settled = (index: number): Promise<void> =>
  up.waitFor(() => (up.requests[index]?.outcome ?? 'pending') !== 'pending', 2000, `request ${index} to end`);

describe('normal answers', () => {
  it('answers a non-streamed request with a chat.completion and records the request', async () => {
    up.setDefault(answer({ reply: 'Hi there', usage: { promptTokens: 11, completionTokens: 2 } }));
    const before = performance.now();
    const res = await post({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    const text = await res.text();
    await settled(0);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(text)).toEqual({
      id: 'chatcmpl-fake0', object: 'chat.completion', created: expect.any(Number), model: 'gpt-test', system_fingerprint: 'fp_fake',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there', refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 },
    });
    const [record] = up.requests;
    expect(record).toMatchObject({
      index: 0, method: 'POST', path: '/v1/chat/completions', behavior: 'answer', outcome: 'completed', abortedAt: null,
      rawBody: '{"model":"gpt-test","messages":[{"role":"user","content":"hi"}]}',
      body: { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] },
      chunksWritten: 1, bytesWritten: Buffer.byteLength(text),
    });
    expect(record?.headers.authorization).toBe('Bearer sk-test');
    expect(record?.receivedAt).toBeGreaterThanOrEqual(before);
    expect(record?.endedAt).toBeGreaterThanOrEqual(record?.headersSentAt ?? Infinity);
  });

  it('streams exactly `chunks` content events, and no usage at all unless include_usage is set', async () => {
    up.setDefault(answer({ reply: 'abcdefgh', chunks: 4 }));
    const res = await post(streamed());
    const { data, error } = await new Events(res).rest();
    await settled(0);

    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(error).toBeNull();
    // role + 4 content + finish + [DONE]
    expect(data).toHaveLength(7);
    expect(data.at(-1)).toBe('[DONE]');
    expect(chunks(data).map((c) => c.choices[0]?.delta.content)).toEqual(['', 'ab', 'cd', 'ef', 'gh', undefined]);
    expect(chunks(data).map((c) => c.choices[0]?.finish_reason)).toEqual([null, null, null, null, null, 'stop']);
    expect(chunks(data).every((c) => c.object === 'chat.completion.chunk' && c.id === 'chatcmpl-fake0' && !('usage' in c))).toBe(true);
    expect(up.requests[0]?.chunksWritten).toBe(7);
  });

  it('with include_usage, sends usage: null on each chunk and one usage-only chunk with cached and reasoning details', async () => {
    up.setDefault(answer({ usage: { promptTokens: 100, completionTokens: 40, cachedTokens: 64, reasoningTokens: 30 } }));
    const { data } = await new Events(await post(streamed({ stream_options: { include_usage: true } }))).rest();

    const parsed = chunks(data);
    expect(data).toHaveLength(7); // role + 3 content + finish + usage + [DONE]
    expect(parsed.slice(0, -1).map((c) => c.usage)).toEqual([null, null, null, null, null]);
    expect(parsed.at(-1)).toMatchObject({
      choices: [],
      usage: {
        prompt_tokens: 100, completion_tokens: 40, total_tokens: 140,
        prompt_tokens_details: { cached_tokens: 64, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 30, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
    });
  });

  it('sends no usage chunk when the upstream reports no usage, even if asked', async () => {
    up.setDefault(answer({ usage: null }));
    const { data } = await new Events(await post(streamed({ stream_options: { include_usage: true } }))).rest();

    expect(data).toHaveLength(6);
    expect(chunks(data).filter((c) => c.choices.length === 0)).toEqual([]);
  });

  it('streams parallel tool calls whose arguments arrive in pieces, finishing with tool_calls', async () => {
    up.setDefault(answer({
      reply: '',
      toolCalls: [
        { name: 'get_weather', arguments: '{"city":"Paris"}', argumentChunks: 4 },
        { name: 'get_time', arguments: '{"tz":"Europe/Paris"}', id: 'call_given' },
      ],
    }));
    const { data } = await new Events(await post(streamed())).rest();

    const parsed = chunks(data);
    // role + (1 + 4) + (1 + 3) + finish + [DONE]
    expect(data).toHaveLength(12);
    expect(parsed[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: null, refusal: null });
    const calls = new Map<number, { id: string; name: string; arguments: string; pieces: number }>();
    for (const delta of parsed.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])) {
      const call = calls.get(delta.index ?? -1) ?? { id: delta.id ?? '', name: delta.function.name ?? '', arguments: '', pieces: 0 };
      calls.set(delta.index ?? -1, { ...call, arguments: call.arguments + delta.function.arguments, pieces: call.pieces + 1 });
    }
    expect([...calls.entries()]).toEqual([
      [0, { id: 'call_fake0', name: 'get_weather', arguments: '{"city":"Paris"}', pieces: 5 }],
      [1, { id: 'call_given', name: 'get_time', arguments: '{"tz":"Europe/Paris"}', pieces: 4 }],
    ]);
    expect(parsed.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('returns tool calls in a non-streamed message', async () => {
    up.setDefault(answer({ reply: '', toolCalls: [{ name: 'lookup', arguments: '{"q":1}' }] }));
    const body = (await (await post({ model: 'm' })).json()) as CompletionJson;

    expect(body.choices[0]).toMatchObject({
      message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_fake0', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }] },
      finish_reason: 'tool_calls',
    });
  });
});

describe('failures', () => {
  it('fails with the status, extra headers and an OpenAI-shaped error body holding a secret', async () => {
    up.setDefault(fail(503, { headers: { 'retry-after': '1' } }));
    const res = await post({ model: 'm' });
    const text = await res.text();

    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(text).toContain(UPSTREAM_SECRET);
    expect(JSON.parse(text)).toEqual({ error: { message: expect.any(String), type: 'server_error', param: null, code: null } });
  });

  it('fails with a given body and content-type', async () => {
    up.setDefault(fail(429, { body: 'slow down', headers: { 'content-type': 'text/plain' } }));
    const res = await post({ model: 'm' });

    expect([res.status, res.headers.get('content-type'), await res.text()]).toEqual([429, 'text/plain', 'slow down']);
  });
});

describe('choosing a behaviour', () => {
  it('runs queued one-shot scripts in order, then the default', async () => {
    up.enqueue(fail(503, { headers: { 'retry-after': '1' } }), resetAfterChunks(2));
    expect(up.queued()).toBe(2);

    const first = await post(streamed());
    await first.text();
    const second = await new Events(await post(streamed())).rest();
    const third = await new Events(await post(streamed())).rest();

    expect([first.status, first.headers.get('retry-after')]).toEqual([503, '1']);
    expect(second.data).toHaveLength(2);
    expect(second.error).toBeInstanceOf(TypeError);
    expect(third).toEqual({ data: expect.arrayContaining(['[DONE]']), error: null });
    expect(up.requests.map((r) => r.behavior)).toEqual(['fail', 'answer', 'answer']);
    expect(up.requests.map((r) => r.outcome)).toEqual(['completed', 'reset', 'completed']);
    expect(up.queued()).toBe(0);
  });

  it('asks the responder when the queue is empty; undefined falls through to the default', async () => {
    up.setDefault(answer({ reply: 'default' }));
    up.respondWith((r) => (r.body?.model === 'broken' ? fail(500) : undefined));
    up.enqueue(answer({ reply: 'scripted' }));

    const scripted = (await (await post({ model: 'broken' })).json()) as CompletionJson;
    const broken = await post({ model: 'broken' });
    const fine = (await (await post({ model: 'fine' })).json()) as CompletionJson;

    expect(scripted.choices[0]?.message.content).toBe('scripted');
    expect(broken.status).toBe(500);
    expect(fine.choices[0]?.message.content).toBe('default');
  });

  it('waitForRequests resolves with the requests once there are enough, and rejects after its timeout', async () => {
    const waiting = up.waitForRequests(2, 1000);
    await (await post({ model: 'a' })).text();
    await (await post({ model: 'b' })).text();

    expect((await waiting).map((r) => r.body?.model)).toEqual(['a', 'b']);
    await expect(up.waitForRequests(3, 50)).rejects.toThrow('timed out after 50 ms waiting for 3 requests (2 requests so far)');
  });
});

describe('timing', () => {
  it('delays the status line and headers by firstByteDelayMs', async () => {
    up.setDefault(answer({ firstByteDelayMs: 200 }));
    const start = performance.now();
    const res = await post(streamed());
    const headersAt = performance.now();
    await res.text();

    expect(headersAt - start).toBeGreaterThanOrEqual(195);
    const record = up.requests[0];
    expect((record?.headersSentAt ?? 0) - (record?.receivedAt ?? Infinity)).toBeGreaterThanOrEqual(199);
  });

  it('waits chunkDelayMs between chunks and stalls once for the given time', async () => {
    up.setDefault(stallAfterChunks(2, 250, { chunks: 3, chunkDelayMs: 30 }));
    const events = new Events(await post(streamed()));
    const times: number[] = [];
    for (let event = await events.next(); event !== null; event = await events.next()) times.push(performance.now());
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? t));

    expect(times).toHaveLength(6);
    // the stall comes after the role and the first content chunk, on top of the usual delay
    expect(gaps[1]).toBeGreaterThanOrEqual(270);
    expect(gaps.filter((_, i) => i !== 1).every((gap) => gap >= 20 && gap < 250)).toBe(true);
  });

  it('hangs without answering; the client giving up is recorded with abortedAt', async () => {
    up.setDefault(hang());
    const start = performance.now();
    const failure = await post({ model: 'm' }, AbortSignal.timeout(100)).then(() => null, (error: unknown) => error);
    await settled(0);

    expect(failure).toBeInstanceOf(DOMException);
    expect((failure as DOMException).name).toBe('TimeoutError');
    const record = up.requests[0];
    expect(record).toMatchObject({ behavior: 'hang', outcome: 'client-aborted', headersSentAt: null, chunksWritten: 0 });
    expect(record?.abortedAt).toBeGreaterThan(record?.receivedAt ?? Infinity);
    expect((record?.abortedAt ?? 0) - start).toBeGreaterThanOrEqual(99);
  });

  it('stalls forever after N chunks until the client leaves', async () => {
    up.setDefault(stallForeverAfterChunks(3));
    const controller = new AbortController();
    const events = new Events(await post(streamed(), controller.signal));
    const received = [await events.next(), await events.next(), await events.next()];
    const fourth = await Promise.race([events.next(), new Promise((resolve) => setTimeout(resolve, 150, 'nothing yet'))]);
    controller.abort();
    await settled(0);

    // role, 'He', 'll' of 'Hello!'
    expect(contentOf(received.map(String))).toBe('Hell');
    expect(fourth).toBe('nothing yet');
    expect(up.requests[0]).toMatchObject({ outcome: 'client-aborted', chunksWritten: 3, abortedAt: expect.any(Number) });
  });
});

describe('connection faults', () => {
  it('resets the connection before any response', async () => {
    up.setDefault(resetConnection());
    const failure = await post({ model: 'm' }).then(() => null, (error: unknown) => error);
    await settled(0);

    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as TypeError).cause).toMatchObject({ code: 'ECONNRESET' });
    expect(up.requests[0]).toMatchObject({ behavior: 'reset', outcome: 'reset', headersSentAt: null, bytesWritten: 0, abortedAt: null });
  });

  it('resets mid-stream after exactly N chunks', async () => {
    up.setDefault(resetAfterChunks(2, { reply: 'abcdef', chunks: 3 }));
    const { data, error } = await new Events(await post(streamed())).rest();

    expect(contentOf(data)).toBe('ab');
    expect(data).toHaveLength(2);
    expect(error).toBeInstanceOf(TypeError);
    expect(error?.cause).toMatchObject({ code: 'ECONNRESET' });
    expect(up.requests[0]).toMatchObject({ outcome: 'reset', chunksWritten: 2, abortedAt: null });
  });

  it('sends an in-stream provider error event after N chunks and ends without [DONE]', async () => {
    up.setDefault(errorEventAfterChunks(2));
    const res = await post(streamed());
    const { data, error } = await new Events(res).rest();

    expect(res.status).toBe(200);
    expect(error).toBeNull();
    expect(data).toHaveLength(3);
    expect(JSON.parse(data[2] ?? '')).toEqual({ error: { message: `Internal error (key ${UPSTREAM_SECRET})`, type: 'server_error', param: null, code: null } });
    expect(up.requests[0]).toMatchObject({ outcome: 'completed', chunksWritten: 3 });
  });

  it('writes raw pieces verbatim, strings and bytes alike', async () => {
    const pieces = ['data: {"choices":[{"delta":{"content":"x"', 'data: null\n\n', new Uint8Array([0xff, 0x00, 0x0a])];
    up.setDefault(rawBytes(pieces, { headers: { 'x-extra': 'yes' } }));
    const res = await post(streamed());
    const body = Buffer.from(await res.arrayBuffer());

    expect(res.headers.get('x-extra')).toBe('yes');
    expect(body.equals(Buffer.concat(pieces.map((p) => Buffer.from(p))))).toBe(true);
    expect(up.requests[0]).toMatchObject({ behavior: 'raw', chunksWritten: 3, bytesWritten: body.length });
  });
});

describe('bounds', () => {
  it('sends a huge valid chat.completion of exactly the size asked, with its length declared', async () => {
    up.setDefault(hugeBody(3, { declareLength: true }));
    const res = await post({ model: 'm' });
    const text = await res.text();

    expect(res.headers.get('content-length')).toBe(String(3 * 1024 * 1024));
    expect(Buffer.byteLength(text)).toBe(3 * 1024 * 1024);
    expect((JSON.parse(text) as CompletionJson).choices[0]?.finish_reason).toBe('length');
    expect(up.requests[0]).toMatchObject({ outcome: 'completed', bytesWritten: 3 * 1024 * 1024, chunksWritten: 50 });
  });

  it('sends a huge body of garbage', async () => {
    up.setDefault(hugeBody(0.5, { content: 'garbage', pieceBytes: 100_000 }));
    const res = await post({ model: 'm' });
    const body = Buffer.from(await res.arrayBuffer());

    expect(res.headers.get('content-length')).toBeNull();
    expect(body.length).toBe(512 * 1024);
    expect(() => JSON.parse(body.toString('latin1'))).toThrow(SyntaxError);
    expect(up.requests[0]?.chunksWritten).toBe(6);
  });

  it('stops writing a huge body when the client leaves', async () => {
    up.setDefault(hugeBody(64));
    const controller = new AbortController();
    const res = await post({ model: 'm' }, controller.signal);
    const reader = res.body?.getReader();
    let read = 0;
    while (reader && read < 1024 * 1024) read += (await reader.read()).value?.length ?? Infinity;
    controller.abort();
    await settled(0);

    expect(up.requests[0]).toMatchObject({ outcome: 'client-aborted', abortedAt: expect.any(Number) });
    expect(up.requests[0]?.bytesWritten).toBeLessThan(32 * 1024 * 1024);
  });

  it('streams endlessly until the client leaves', async () => {
    up.setDefault(endlessStream());
    const controller = new AbortController();
    const events = new Events(await post(streamed(), controller.signal));
    const received: string[] = [];
    while (received.length < 50) received.push((await events.next()) ?? 'ended');
    controller.abort();
    await settled(0);

    expect(received.includes('ended')).toBe(false);
    expect(contentOf(received)).toBe('lorem ipsum '.repeat(49));
    expect(up.requests[0]).toMatchObject({ behavior: 'endless', outcome: 'client-aborted', abortedAt: expect.any(Number) });
  });

  it('ends an endless stream at its byte cap, without [DONE]', async () => {
    up.setDefault(endlessStream({ maxBytes: 64 * 1024 }));
    const res = await post(streamed());
    const body = await res.text();
    await settled(0);

    const record = up.requests[0];
    expect(record).toMatchObject({ outcome: 'capped', bytesWritten: Buffer.byteLength(body) });
    expect(record?.bytesWritten).toBeLessThanOrEqual(64 * 1024);
    expect(record?.bytesWritten).toBeGreaterThan(63 * 1024);
    expect(body.includes('[DONE]')).toBe(false);
  });

  it('cuts an endless stream at its time cap even when the client stops reading', async () => {
    up.setDefault(endlessStream({ maxBytes: 1024 * 1024 * 1024, maxSeconds: 0.3 }));
    const res = await post(streamed());
    await settled(0);
    await res.body?.cancel();

    const record = up.requests[0];
    const lasted = (record?.endedAt ?? Infinity) - (record?.receivedAt ?? 0);
    expect(record?.outcome).toBe('capped');
    expect(lasted).toBeGreaterThanOrEqual(299);
    expect(lasted).toBeLessThan(1000);
  });
});

describe('gzip', () => {
  it('gzips a body even when the client did not ask for it', async () => {
    up.setDefault(answer({ reply: 'zipped', gzip: true }));
    const res = await request(`${up.url}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm' }) });
    const raw = Buffer.from(await res.body.arrayBuffer());

    expect(up.requests[0]?.headers['accept-encoding']).toBeUndefined();
    expect(res.headers['content-encoding']).toBe('gzip');
    expect((JSON.parse(gunzipSync(raw).toString()) as CompletionJson).choices[0]?.message.content).toBe('zipped');
  });

  it('gzips a stream chunk by chunk', async () => {
    up.setDefault(answer({ reply: 'zipped', gzip: true }));
    const res = await post(streamed());
    const { data, error } = await new Events(res).rest();

    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect([error, data.length, contentOf(data)]).toEqual([null, 6, 'zipped']);
  });
});

describe('closing and counting', () => {
  it('close() cuts hanging and stalled connections at once', async () => {
    up.enqueue(hang(), stallForeverAfterChunks(1));
    const hanging = post({ model: 'm' }).then(() => null, (error: unknown) => error);
    const stalled = new Events(await post(streamed()));
    await stalled.next();
    await up.waitForRequests(2);
    const start = performance.now();
    await up.close();
    const closedIn = performance.now() - start;

    expect(closedIn).toBeLessThan(500);
    expect(await hanging).toBeInstanceOf(TypeError);
    expect((await stalled.rest()).error).toBeInstanceOf(TypeError);
    expect(up.requests.map((r) => [r.outcome, r.abortedAt])).toEqual([['closed', null], ['closed', null]]);
  });

  it('counts requests by how they ended', async () => {
    up.enqueue(resetConnection(), fail(500), hang());
    await post({ model: 'm' }).catch(() => null);
    await (await post({ model: 'm' })).text();
    await post({ model: 'm' }, AbortSignal.timeout(50)).catch(() => null);
    await up.waitFor(() => up.stats().clientAborted === 1);
    await (await post({ model: 'm' })).text();

    expect(up.stats()).toEqual({ received: 4, inFlight: 0, completed: 2, clientAborted: 1, reset: 1, capped: 0, closed: 0 });
  });
});
