import { describe, expect, it } from 'vitest';
import { compressImage, fitSize, validateOptions, type CanvasBackend, type DecodedImage } from './compress';

describe('fitSize', () => {
  it('scales the long side down to the limit keeping the aspect ratio', () => {
    expect(fitSize(4000, 3000, 1536)).toEqual({ width: 1536, height: 1152 }); // 3000*1536/4000
    expect(fitSize(1000, 3000, 1536)).toEqual({ width: 512, height: 1536 });
  });
  it('never upscales', () => {
    expect(fitSize(800, 600, 1536)).toEqual({ width: 800, height: 600 });
    expect(fitSize(1536, 10, 1536)).toEqual({ width: 1536, height: 10 });
  });
  it('keeps at least one pixel on a very thin image', () => {
    expect(fitSize(10000, 1, 100)).toEqual({ width: 100, height: 1 });
  });
  it('rejects an image with no size', () => {
    expect(() => fitSize(0, 10, 100)).toThrow();
  });
});

describe('validateOptions', () => {
  it('replaces out-of-range values with the defaults', () => {
    expect(validateOptions({ enabled: true, maxSide: -5, quality: 7 })).toEqual({
      enabled: true, maxSide: 1536, quality: 0.85,
    });
    expect(validateOptions({ enabled: false, maxSide: 1024.4, quality: 0.5 })).toEqual({
      enabled: false, maxSide: 1024, quality: 0.5,
    });
  });
});

// A fake backend: "decodes" a blob whose text is "WxH", "encodes" to a blob of w*h*q bytes.
interface Fake extends DecodedImage {
  closed: boolean;
}
function fakeBackend(calls: unknown[]): CanvasBackend<Fake> & { last?: Fake } {
  const be: CanvasBackend<Fake> & { last?: Fake } = {
    async decode(blob) {
      const [w, h] = (await blob.text()).split('x').map(Number);
      const img: Fake = { width: w, height: h, closed: false };
      img.close = () => { img.closed = true; };
      be.last = img;
      return img;
    },
    async encodeJpeg(_img, width, height, quality) {
      calls.push([width, height, quality]);
      return new Blob([new Uint8Array(Math.round(width * height * quality / 100))], { type: 'image/jpeg' });
    },
  };
  return be;
}

describe('compressImage', () => {
  it('resizes and re-encodes a large image, reporting before and after bytes', async () => {
    const calls: unknown[] = [];
    const be = fakeBackend(calls);
    const file = new Blob(['4000x3000'.padEnd(500000, ' ')], { type: 'image/png' });
    const r = await compressImage(file, { enabled: true, maxSide: 1536, quality: 0.8 }, be);
    expect(calls).toEqual([[1536, 1152, 0.8]]);
    expect(r.compressed).toBe(true);
    expect(r.mime).toBe('image/jpeg');
    expect([r.width, r.height]).toEqual([1536, 1152]);
    expect(r.originalBytes).toBe(500000);
    expect(r.sentBytes).toBe(Math.round(1536 * 1152 * 0.8 / 100));
    expect(be.last?.closed).toBe(true);
  });

  it('sends the original when compression is off', async () => {
    const calls: unknown[] = [];
    const file = new Blob(['4000x3000'], { type: 'image/png' });
    const r = await compressImage(file, { enabled: false, maxSide: 1536, quality: 0.8 }, fakeBackend(calls));
    expect(calls).toEqual([]);
    expect(r.compressed).toBe(false);
    expect(r.blob).toBe(file);
    expect([r.width, r.height]).toEqual([4000, 3000]);
  });

  it('keeps a small image whose re-encoding would be larger', async () => {
    const file = new Blob(['100x100'], { type: 'image/png' }); // 7 bytes < 100*100*0.9/100
    const r = await compressImage(file, { enabled: true, maxSide: 1536, quality: 0.9 }, fakeBackend([]));
    expect(r.compressed).toBe(false);
    expect(r.sentBytes).toBe(7);
    expect(r.mime).toBe('image/png');
  });

  it('uses the re-encoding of a small image when it is smaller', async () => {
    const file = new Blob(['100x100'.padEnd(1000, ' ')], { type: 'image/png' });
    const r = await compressImage(file, { enabled: true, maxSide: 1536, quality: 0.5 }, fakeBackend([]));
    expect(r.compressed).toBe(true);
    expect(r.sentBytes).toBe(50);
  });
});
