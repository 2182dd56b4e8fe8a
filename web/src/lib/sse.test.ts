import { describe, expect, it } from 'vitest';
import { SseParser } from './sse';

const enc = new TextEncoder();

describe('SseParser', () => {
  it('parses complete events and ignores comments', () => {
    const p = new SseParser();
    const ev = p.push('data: {"a":1}\n\n: keep-alive\n\ndata: [DONE]\n\n');
    expect(ev.map((e) => e.data)).toEqual(['{"a":1}', '[DONE]']);
    expect(ev[0].event).toBe('message');
  });

  it('reassembles events split at every byte, including inside a UTF-8 character', () => {
    const text = 'data: {"t":"héllo 世界"}\r\n\r\nevent: x\ndata: a\ndata: b\n\n';
    const bytes = enc.encode(text);
    const p = new SseParser();
    const out = [];
    for (const b of bytes) out.push(...p.push(new Uint8Array([b])));
    expect(out).toEqual([
      { event: 'message', data: '{"t":"héllo 世界"}' },
      { event: 'x', data: 'a\nb' },
    ]);
  });

  it('does not treat a CR at the end of a piece as a finished line before LF arrives', () => {
    const p = new SseParser();
    expect(p.push('data: 1\r')).toEqual([]);
    expect(p.push('\n')).toEqual([]);
    expect(p.push('\r\n')).toEqual([{ event: 'message', data: '1' }]);
  });

  it('keeps only one leading space of the value and handles a field without colon', () => {
    const p = new SseParser();
    expect(p.push('data:  two\ndata\n\n')).toEqual([{ event: 'message', data: ' two\n' }]);
  });

  it('flushes a final event without a blank line at the end', () => {
    const p = new SseParser();
    expect(p.push('data: last')).toEqual([]);
    expect(p.finish()).toEqual([{ event: 'message', data: 'last' }]);
  });

  it('emits nothing for an event with no data lines', () => {
    const p = new SseParser();
    expect(p.push('event: ping\n\n')).toEqual([]);
  });
});
