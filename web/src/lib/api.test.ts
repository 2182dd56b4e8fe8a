import { describe, expect, it } from 'vitest';
import { ApiError, buildBody, latencyStages, parsePrometheus, streamChat, summarizeMetrics } from './api';
import type { Message } from './types';

const METRICS = `# HELP ocular_requests_running Requests being generated
# TYPE ocular_requests_running gauge
ocular_requests_running 2
ocular_requests_waiting 3
ocular_prefix_cache_hit_tokens_total 120
ocular_feature_cache_hits_total{kind="exact"} 3
ocular_feature_cache_hits_total{kind="similar"} 1
ocular_feature_cache_misses_total 4
ocular_stage_seconds_bucket{stage="encode",le="+Inf"} 7
`;

describe('metrics', () => {
  it('parses samples with labels and +Inf', () => {
    const s = parsePrometheus(METRICS);
    expect(s.find((x) => x.name === 'ocular_feature_cache_hits_total' && x.labels.kind === 'similar')?.value).toBe(1);
    expect(s.find((x) => x.name === 'ocular_stage_seconds_bucket')?.labels).toEqual({ stage: 'encode', le: '+Inf' });
  });
  it('summarises running, waiting and the feature-cache hit rate over all kinds', () => {
    const m = summarizeMetrics(parsePrometheus(METRICS));
    expect(m.running).toBe(2);
    expect(m.waiting).toBe(3);
    expect(m.prefixHitTokens).toBe(120);
    expect(m.featureHitRate).toBe(0.5); // (3+1) / (3+1+4)
    expect(m.kvUsed).toBeNull();
  });
});

describe('buildBody', () => {
  it('sends only the sampling values the user set, and media before text', () => {
    const history: Message[] = [{ role: 'user', content: 'what is this?', attachments: [
      { kind: 'image', name: 'a.png', mime: 'image/png', dataUrl: 'data:image/png;base64,AA==', originalBytes: 1, sentBytes: 1, key: 'k' }] }];
    const b = buildBody('m', 'be brief', history, { temperature: 0, top_p: null, top_k: null, max_tokens: 16, seed: null });
    expect(b).toEqual({
      model: 'm', stream: true, stream_options: { include_usage: true }, temperature: 0, max_tokens: 16,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } },
          { type: 'text', text: 'what is this?' }] },
      ],
    });
  });
});

function sseResponse(pieces: string[], status = 200): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of pieces) c.enqueue(enc.encode(p));
      c.close();
    },
  });
  return new Response(body, { status, headers: { 'Content-Type': 'text/event-stream' } });
}

describe('streamChat', () => {
  it('delivers deltas, the finish reason and the usage chunk', async () => {
    const chunks = [
      'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
      'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\ndata: {"choices":[{"index":0,"de',
      'lta":{"content":"lo"}}]}\n\n: keep-alive\n\n',
      'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
      'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"timings":{"ttft_ms":3}}}\n\n',
      'data: [DONE]\n\n',
    ];
    let text = '';
    let reason = '';
    let usage: any = null;
    const fake = (async () => sseResponse(chunks)) as unknown as typeof fetch;
    await streamChat({}, new AbortController().signal, {
      onDelta: (t) => (text += t), onFinish: (r) => (reason = r), onUsage: (u) => (usage = u),
    }, fake);
    expect(text).toBe('Hello');
    expect(reason).toBe('stop');
    expect(usage.timings.ttft_ms).toBe(3);
  });

  it('turns an OpenAI error body into an ApiError with the message and param', async () => {
    const fake = (async () => new Response(JSON.stringify({ error: { message: 'temperature: out of range', type: 'invalid_request_error', param: 'temperature', code: null } }), { status: 400 })) as unknown as typeof fetch;
    const e = await streamChat({}, new AbortController().signal, { onDelta: () => {} }, fake).catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.message).toBe('temperature: out of range');
    expect(e.status).toBe(400);
    expect(e.param).toBe('temperature');
  });

  it('reports a server that cannot be reached', async () => {
    const fake = (async () => { throw new TypeError('Failed to fetch'); }) as unknown as typeof fetch;
    const e = await streamChat({}, new AbortController().signal, { onDelta: () => {} }, fake).catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(0);
    expect(e.message).toMatch(/cannot reach the server/);
  });

  it('surfaces an error event in the stream', async () => {
    const fake = (async () => sseResponse([
      'data: {"choices":[{"index":0,"delta":{},"finish_reason":"error"}],"error":{"message":"generation failed"}}\n\n'])) as unknown as typeof fetch;
    const e = await streamChat({}, new AbortController().signal, { onDelta: () => {} }, fake).catch((x) => x);
    expect(e.message).toBe('generation failed');
  });
});

describe('latencyStages', () => {
  it('reports cached vision and reused prefill tokens', () => {
    const m: Message = { role: 'assistant', content: 'x', uploadMs: 12.3, usage: {
      prompt_tokens: 100, completion_tokens: 11, prompt_tokens_details: { cached_tokens: 80 },
      timings: { queue_ms: 1, preprocess_ms: 4, encode_ms: 0, prefill_ms: 20, decode_ms: 500, ttft_ms: 30, total_ms: 530 },
      media: [{ id: 'ab', tokens: 64, cache: 'hit' }] } };
    const s = Object.fromEntries(latencyStages(m).map((x) => [x.label, x.value]));
    expect(s.vision).toBe('cached');
    expect(s.prefill).toBe('20 ms · 100 tok, 80 reused');
    expect(s.speed).toBe('20.0 tok/s'); // 10 decode steps in 0.5 s
    expect(s.upload).toBe('8.3 ms'); // 12.3 ms to the headers minus 4 ms of server preprocessing
  });
  it('reports the encode time on a miss', () => {
    const m: Message = { role: 'assistant', content: 'x', usage: {
      timings: { encode_ms: 250, preprocess_ms: 3 }, media: [{ id: 'a', tokens: 4, cache: 'miss' }] } };
    expect(latencyStages(m).find((x) => x.label === 'vision')?.value).toBe('250 ms');
  });
});
