import { describe, expect, it } from 'vitest';
import { timelineSegments, windowFromChunk, withVideoAnalysis } from './video_analysis';

const video = { type: 'video_url', video_url: { url: 'data:video/mp4;base64,AAAA' } };

describe('withVideoAnalysis', () => {
  it('keeps the system message and the last user message and adds the window options', () => {
    const body = {
      model: 'm', stream: true,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: 'hi' },
        { role: 'user', content: [video, { type: 'text', text: 'what happens?' }] },
      ],
    };
    const out = withVideoAnalysis(body, { windowSeconds: 8, strideSeconds: 4, maxWindows: 20 })!;
    expect(out.messages).toEqual([body.messages[0], body.messages[3]]);
    expect(out.video_analysis).toEqual({ window_seconds: 8, stride_seconds: 4, max_windows: 20 });
    expect(out.stream).toBe(true);
  });
  it('omits unset stride and max_windows', () => {
    const out = withVideoAnalysis({ messages: [{ role: 'user', content: [video] }] },
      { windowSeconds: 10, strideSeconds: null, maxWindows: null })!;
    expect(out.video_analysis).toEqual({ window_seconds: 10 });
  });
  it('is null without a video in the last user message', () => {
    expect(withVideoAnalysis({ messages: [{ role: 'user', content: [video] }, { role: 'user', content: 'x' }] },
      { windowSeconds: 10, strideSeconds: null, maxWindows: null })).toBeNull();
  });
});

describe('windowFromChunk', () => {
  it('reads x_ocular.window and ignores other chunks', () => {
    expect(windowFromChunk({ choices: [], x_ocular: { window: { index: 2, start_s: 10, end_s: 15, text: 'a dog' } } }))
      .toEqual({ index: 2, start_s: 10, end_s: 15, text: 'a dog', finish_reason: undefined });
    expect(windowFromChunk({ choices: [{ delta: { content: 'x' } }] })).toBeNull();
    expect(windowFromChunk({ x_ocular: { window: { index: '1', start_s: 0, end_s: 1 } } })).toBeNull();
    expect(windowFromChunk(null)).toBeNull();
  });
});

describe('timelineSegments', () => {
  it('places windows proportionally on [0, last end]', () => {
    const segs = timelineSegments([
      { index: 0, start_s: 0, end_s: 10, text: '' },
      { index: 1, start_s: 5, end_s: 15, text: '' },
      { index: 2, start_s: 10, end_s: 20, text: '' },
    ]);
    expect(segs.map((s) => [s.left, s.width])).toEqual([[0, 50], [25, 50], [50, 50]]);
    expect(timelineSegments([])).toEqual([]);
  });
});
