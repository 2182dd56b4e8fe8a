import { describe, expect, it } from 'vitest';
import { ApiError, buildBody, demoNotice, streamChat } from './api';
import { MEDIA_REF_PREFIX, MediaIds, isMediaNotCached, sendWithMediaFallback } from './media_refs';
import type { Attachment, Message } from './types';

const ID_A = 'a'.repeat(64);
const ID_B = '0123456789abcdef'.repeat(4);

function image(key: string, dataUrl = `data:image/png;base64,${key}`): Attachment {
  return { kind: 'image', name: `${key}.png`, mime: 'image/png', dataUrl, originalBytes: 10, sentBytes: 10, key };
}
const video: Attachment = { kind: 'video', name: 'v.mp4', mime: 'video/mp4', dataUrl: 'data:video/mp4;base64,AA', originalBytes: 2, sentBytes: 2, key: 'v' };
const sampling = { temperature: null, top_p: null, top_k: null, max_tokens: null, seed: null };

// The image_url / video_url urls of a request body, in order.
function urls(body: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const m of body.messages as any[]) {
    if (!Array.isArray(m.content)) continue;
    for (const p of m.content) if (p.type !== 'text') out.push((p.image_url ?? p.video_url).url);
  }
  return out;
}

describe('MediaIds', () => {
  it('learns ids in prompt order (all user turns, videos included in the order) and sends references', () => {
    const history: Message[] = [
      { role: 'user', content: 'one', attachments: [image('x'), video] },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'two', attachments: [image('y')] },
    ];
    const ids = new MediaIds();
    const n = ids.learn(history, [
      { id: ID_A, tokens: 80, cache: 'miss' },
      { id: ID_B, tokens: 40, cache: 'miss' }, // the video: never referenced
      { id: ID_B, tokens: 80, cache: 'hit' },
    ]);
    expect(n).toBe(2);
    expect(history[0].attachments![0].mediaId).toBe(ID_A);
    expect(history[0].attachments![1].mediaId).toBeUndefined();
    // Next turn: the same image attached again (same key, a fresh object) goes by reference too.
    const next: Message[] = [...history, { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'again', attachments: [image('x')] }];
    const body = buildBody('m', '', next, sampling, (a) => ids.get(a));
    expect(urls(body)).toEqual([MEDIA_REF_PREFIX + ID_A, video.dataUrl, MEDIA_REF_PREFIX + ID_B, MEDIA_REF_PREFIX + ID_A]);
    expect(JSON.stringify(body)).not.toContain('data:image');
    // Without a lookup (the fallback) every image is sent as bytes.
    expect(urls(buildBody('m', '', next, sampling))).toEqual([image('x').dataUrl, video.dataUrl, image('y').dataUrl, image('x').dataUrl]);
  });

  it('does not learn near-duplicate hits, malformed ids or a usage that does not match the request', () => {
    const ids = new MediaIds();
    const h: Message[] = [{ role: 'user', content: '', attachments: [image('x'), image('y')] }];
    expect(ids.learn(h, [{ id: ID_A, tokens: 1, cache: 'similar', distance: 3 }, { id: 'xyz', tokens: 1, cache: 'miss' }])).toBe(0);
    expect(ids.learn(h, [{ id: ID_A, tokens: 1, cache: 'miss' }])).toBe(0); // 1 entry for 2 images
    expect(ids.learn(h, undefined)).toBe(0);
    expect(ids.get(image('x'))).toBeUndefined();
  });

  it('remembers ids stored on a reloaded conversation and forgets them all when told', () => {
    const ids = new MediaIds();
    const a = { ...image('x'), mediaId: ID_A };
    ids.remember([a, { ...video, mediaId: ID_B }]);
    expect(ids.get(image('x'))).toBe(ID_A);
    expect(ids.get(video)).toBeUndefined();
    ids.forget([{ role: 'user', content: '', attachments: [a] }]);
    expect(ids.get(image('x'))).toBeUndefined();
    expect(a.mediaId).toBeUndefined();
  });
});

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}
const notCached = () => jsonResponse(409, { error: { message: 'messages[0].content[0].image_url.url: this media id is not cached',
  type: 'invalid_request_error', param: 'messages[0].content[0].image_url.url', code: 'media_not_cached' } });
const okStream = () => new Response('data: {"choices":[{"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
  { status: 200, headers: { 'Content-Type': 'text/event-stream' } });

describe('sendWithMediaFallback', () => {
  it('on 409 media_not_cached resends once with the image bytes', async () => {
    const history: Message[] = [{ role: 'user', content: 'q', attachments: [{ ...image('x'), mediaId: ID_A }] }];
    const ids = new MediaIds();
    ids.remember(history[0].attachments!);
    const sent: string[] = [];
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      sent.push(String(init.body));
      return sent.length === 1 ? notCached() : okStream();
    }) as unknown as typeof fetch;
    let text = '';
    await sendWithMediaFallback(
      (useRefs) => streamChat(buildBody('m', '', history, sampling, useRefs ? (a) => ids.get(a) : undefined),
        new AbortController().signal, { onDelta: (t) => (text += t) }, fetchImpl),
      () => ids.forget(history));
    expect(sent.length).toBe(2);
    expect(sent[0]).toContain(MEDIA_REF_PREFIX + ID_A);
    expect(sent[0]).not.toContain('data:image');
    expect(sent[1]).toContain('data:image/png;base64,x');
    expect(sent[1]).not.toContain(MEDIA_REF_PREFIX);
    expect(text).toBe('hi');
    expect(history[0].attachments![0].mediaId).toBeUndefined();
  });

  it('passes other errors through without a retry', async () => {
    let calls = 0;
    const fail = async () => {
      calls++;
      throw new ApiError('bad', 400, 'temperature', 'invalid_argument');
    };
    await expect(sendWithMediaFallback(fail, () => {})).rejects.toThrow('bad');
    expect(calls).toBe(1);
    expect(isMediaNotCached(new ApiError('x', 409, undefined, 'media_not_cached'))).toBe(true);
    expect(isMediaNotCached(new ApiError('x', 409, undefined, 'other'))).toBe(false);
    expect(isMediaNotCached(new ApiError('x', 400, undefined, 'media_not_cached'))).toBe(false);
  });
});

describe('demoNotice', () => {
  it('is shown only when the server says the model is a random-weight demo', () => {
    expect(demoNotice({ id: 'tiny', demo: true })).toMatch(/random weights/);
    expect(demoNotice({ id: 'real' })).toBeNull();
    expect(demoNotice({ id: 'real', demo: false })).toBeNull();
    expect(demoNotice(null)).toBeNull();
  });
});
