// Client for the same-origin Ocular server (OpenAI-compatible). No other host is contacted.
import { SseParser } from './sse';
import type { Attachment, Message, Sampling, Usage } from './types';
import { windowFromChunk, type WindowResult } from './video_analysis';

export class ApiError extends Error {
  constructor(message: string, public status: number, public param?: string, public code?: string) {
    super(message);
  }
}

// Image parts naming a media id the server has cached (see media_refs.ts).
export const MEDIA_REF_PREFIX = 'ocular-media:';
// The media id to send instead of an attachment's bytes, if any.
export type MediaRefLookup = (a: Attachment) => string | undefined;

export interface ModelInfo {
  id: string;
  demo?: boolean;
  description?: string;
  max_model_len?: number;
}

type Part =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } }
  | { type: 'video_url'; video_url: { url: string } };

function attachmentPart(a: Attachment, refFor?: MediaRefLookup): Part {
  if (a.kind === 'video') return { type: 'video_url', video_url: { url: a.dataUrl } };
  const id = refFor?.(a);
  return { type: 'image_url', image_url: { url: id ? MEDIA_REF_PREFIX + id : a.dataUrl } };
}

// The OpenAI `messages` array for a conversation (assistant turns as plain text).
export function buildMessages(system: string, history: Message[], refFor?: MediaRefLookup): unknown[] {
  const out: unknown[] = [];
  if (system.trim()) out.push({ role: 'system', content: system });
  for (const m of history) {
    if (m.role === 'system') continue;
    if (m.role === 'user' && m.attachments && m.attachments.length > 0) {
      const parts: Part[] = m.attachments.map((a) => attachmentPart(a, refFor));
      if (m.content) parts.push({ type: 'text', text: m.content });
      out.push({ role: 'user', content: parts });
    } else {
      out.push({ role: m.role, content: m.content });
    }
  }
  return out;
}

export function buildBody(model: string, system: string, history: Message[], s: Sampling,
                          refFor?: MediaRefLookup): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model,
    messages: buildMessages(system, history, refFor),
    stream: true,
    stream_options: { include_usage: true },
  };
  // Only what the user set: everything else keeps the server's defaults.
  if (s.temperature !== null) body.temperature = s.temperature;
  if (s.top_p !== null) body.top_p = s.top_p;
  if (s.top_k !== null) body.top_k = s.top_k;
  if (s.max_tokens !== null) body.max_tokens = s.max_tokens;
  if (s.seed !== null) body.seed = s.seed;
  return body;
}

async function errorFrom(res: Response): Promise<ApiError> {
  let message = `server answered ${res.status}`;
  let param: string | undefined;
  let code: string | undefined;
  try {
    const j = await res.json();
    if (j && j.error && typeof j.error.message === 'string') {
      message = j.error.message;
      param = j.error.param || undefined;
      code = typeof j.error.code === 'string' ? j.error.code : undefined;
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(message, res.status, param, code);
}

function networkError(e: unknown): Error {
  if (e instanceof DOMException && e.name === 'AbortError') return e;
  return new ApiError('cannot reach the server (is it running?)', 0);
}

// The banner text for a random-weight demo model (/v1/models says "demo": true), else null.
export function demoNotice(model: ModelInfo | null): string | null {
  if (!model || model.demo !== true) return null;
  return 'Demo model with random weights: its answers are meaningless. ' +
    'Start the server with a real Qwen3-VL checkpoint (--model) for real answers.';
}

export async function fetchModels(signal?: AbortSignal): Promise<ModelInfo[]> {
  let res: Response;
  try {
    res = await fetch('./v1/models', { signal });
  } catch (e) {
    throw networkError(e);
  }
  if (!res.ok) throw await errorFrom(res);
  const j = await res.json();
  return Array.isArray(j.data) ? j.data : [];
}

export interface StreamCallbacks {
  onHeaders?: (ms: number) => void; // request sent and headers back: the upload time
  onDelta: (text: string) => void;
  onUsage?: (u: Usage) => void;
  onFinish?: (reason: string) => void;
  onWindow?: (w: WindowResult) => void; // windowed video analysis: one per window, time order
}

// POSTs a streaming chat completion and feeds the deltas to `cb`. Aborting `signal` closes the
// connection, which makes the server cancel the request.
export async function streamChat(body: Record<string, unknown>, signal: AbortSignal, cb: StreamCallbacks,
                                 fetchImpl: typeof fetch = fetch): Promise<void> {
  const t0 = performance.now();
  let res: Response;
  try {
    res = await fetchImpl('./v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
      signal,
    });
  } catch (e) {
    throw networkError(e);
  }
  if (!res.ok) throw await errorFrom(res);
  cb.onHeaders?.(performance.now() - t0);
  if (!res.body) throw new ApiError('empty response', res.status);
  const parser = new SseParser();
  const reader = res.body.getReader();
  let done = false;
  const handle = (data: string) => {
    if (data === '[DONE]') {
      done = true;
      return;
    }
    let j: any;
    try {
      j = JSON.parse(data);
    } catch {
      throw new ApiError('malformed stream chunk from the server', res.status);
    }
    if (j.error && (!j.choices || j.choices.length === 0)) {
      throw new ApiError(String(j.error.message || 'generation failed'), res.status);
    }
    for (const c of j.choices || []) {
      const t = c.delta && typeof c.delta.content === 'string' ? c.delta.content : '';
      if (t) cb.onDelta(t);
      if (c.finish_reason) cb.onFinish?.(c.finish_reason);
    }
    if (j.error) throw new ApiError(String(j.error.message || 'generation failed'), res.status);
    if (j.usage) cb.onUsage?.(j.usage);
    const w = windowFromChunk(j);
    if (w) cb.onWindow?.(w);
  };
  try {
    while (!done) {
      const { value, done: end } = await reader.read();
      if (end) break;
      for (const ev of parser.push(value)) handle(ev.data);
    }
    for (const ev of parser.finish()) handle(ev.data);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw networkError(e);
  } finally {
    reader.releaseLock?.();
  }
}

// ---- /metrics (Prometheus text) ----

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l: RegExpExecArray | null;
      while ((l = re.exec(m[3]))) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    const v = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

export interface MetricsSummary {
  running: number;
  waiting: number;
  prefixHitTokens: number;
  promptTokens: number | null;
  featureHits: number;
  featureMisses: number;
  featureHitRate: number | null; // hits / (hits + misses)
  kvUsed: number | null;
  kvTotal: number | null;
}

export function summarizeMetrics(samples: Sample[]): MetricsSummary {
  const sum = (name: string) => samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
  const has = (name: string) => samples.some((s) => s.name === name);
  const featureHits = sum('ocular_feature_cache_hits_total');
  const featureMisses = sum('ocular_feature_cache_misses_total');
  const n = featureHits + featureMisses;
  return {
    running: sum('ocular_requests_running'),
    waiting: sum('ocular_requests_waiting'),
    prefixHitTokens: sum('ocular_prefix_cache_hit_tokens_total'),
    promptTokens: has('ocular_prompt_tokens_total') ? sum('ocular_prompt_tokens_total') : null,
    featureHits,
    featureMisses,
    featureHitRate: n > 0 ? featureHits / n : null,
    kvUsed: has('ocular_kv_blocks_used') ? sum('ocular_kv_blocks_used') : null,
    kvTotal: has('ocular_kv_blocks_total') ? sum('ocular_kv_blocks_total') : null,
  };
}

export async function fetchMetrics(signal?: AbortSignal): Promise<MetricsSummary> {
  let res: Response;
  try {
    res = await fetch('./metrics', { signal });
  } catch (e) {
    throw networkError(e);
  }
  if (!res.ok) throw await errorFrom(res);
  return summarizeMetrics(parsePrometheus(await res.text()));
}

// ---- latency breakdown shown under each answer ----

export interface Stage {
  label: string;
  value: string;
}

const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);

export function latencyStages(m: Message): Stage[] {
  const u = m.usage;
  const out: Stage[] = [];
  const t = u?.timings;
  if (m.uploadMs !== undefined) {
    // The response headers come back once the server has fetched and preprocessed the media
    // (it validates the whole request first): that time is reported as its own stages.
    const serverSide = (t?.fetch_ms || 0) + (t?.preprocess_ms || 0);
    out.push({ label: 'upload', value: ms(Math.max(0, m.uploadMs - serverSide)) });
  }
  if (!u || !t) return out;
  if (t.queue_ms !== undefined) out.push({ label: 'queue', value: ms(t.queue_ms) });
  if (t.fetch_ms) out.push({ label: 'fetch', value: ms(t.fetch_ms) });
  const media = u.media || [];
  if (media.length > 0 || t.preprocess_ms) out.push({ label: 'preprocess', value: ms(t.preprocess_ms || 0) });
  if (media.length > 0) {
    const allCached = media.every((x) => x.cache !== 'miss');
    const n = media.filter((x) => x.cache !== 'miss').length;
    out.push({
      label: 'vision',
      value: allCached ? 'cached' : n > 0 ? `${ms(t.encode_ms || 0)} (${n}/${media.length} cached)` : ms(t.encode_ms || 0),
    });
  }
  const reused = u.prompt_tokens_details?.cached_tokens || 0;
  if (t.prefill_ms !== undefined) {
    out.push({
      label: 'prefill',
      value: `${ms(t.prefill_ms)}${u.prompt_tokens !== undefined ? ` · ${u.prompt_tokens} tok` : ''}${reused ? `, ${reused} reused` : ''}`,
    });
  }
  if (t.ttft_ms !== undefined) out.push({ label: 'first token', value: ms(t.ttft_ms) });
  if (t.decode_ms && u.completion_tokens && u.completion_tokens > 1) {
    // The first token comes out of prefill; the rest are decode steps.
    const rate = ((u.completion_tokens - 1) * 1000) / t.decode_ms;
    out.push({ label: 'speed', value: `${rate.toFixed(1)} tok/s` });
  }
  if (t.total_ms !== undefined) out.push({ label: 'total', value: ms(t.total_ms) });
  return out;
}
