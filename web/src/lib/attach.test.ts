import { describe, expect, it } from 'vitest';
import { AttachError, Attacher, MAX_VIDEO_BYTES } from './attach';

// Only name, type and size are read before a file is rejected.
const fakeFile = (name: string, type: string, size: number) => ({ name, type, size }) as unknown as File;
const opts = { enabled: true, maxSide: 1536, quality: 0.85 };

describe('Attacher', () => {
  it('rejects an unsupported file with a message naming it', async () => {
    const e = await new Attacher().fromFile(fakeFile('notes.txt', 'text/plain', 10), opts).catch((x) => x);
    expect(e).toBeInstanceOf(AttachError);
    expect(e.message).toMatch(/^notes\.txt: unsupported file type/);
  });

  it('rejects a video over the size limit before reading it', async () => {
    const e = await new Attacher().fromFile(fakeFile('clip.mp4', 'video/mp4', MAX_VIDEO_BYTES + 1), opts).catch((x) => x);
    expect(e).toBeInstanceOf(AttachError);
    expect(e.message).toBe('clip.mp4: the video is 256.0 MiB; the limit is 256.0 MiB');
  });

  it('sends the same bytes for a repeated video without re-reading it into a new data URL', async () => {
    const a = new Attacher();
    const bytes = new Uint8Array([0, 0, 0, 24, 102, 116, 121, 112]);
    const f1 = new File([bytes], 'a.mp4', { type: 'video/mp4' });
    const f2 = new File([bytes], 'b.mp4', { type: 'video/mp4' });
    const x = await a.fromFile(f1, opts);
    const y = await a.fromFile(f2, opts);
    expect(x.dataUrl).toBe('data:video/mp4;base64,AAAAGGZ0eXA=');
    expect(y.dataUrl).toBe(x.dataUrl);
    expect(y.key).toBe(x.key);
    expect(y.name).toBe('b.mp4');
  });
});
