// Client-side image compression before upload: scale so the long side is at most `maxSide`
// and re-encode as JPEG at `quality`. The geometry and the keep-or-replace decision are pure
// functions (unit-tested); the pixel work goes through a small Canvas interface so tests can
// substitute a fake and the browser can use OffscreenCanvas or a <canvas>.

export interface CompressOptions {
  enabled: boolean;
  maxSide: number; // long side limit in pixels
  quality: number; // JPEG quality in (0, 1]
}

export const DEFAULT_COMPRESS: CompressOptions = { enabled: true, maxSide: 1536, quality: 0.85 };

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/bmp'];
export const VIDEO_TYPES = ['video/mp4', 'video/webm', 'video/quicktime', 'video/x-matroska'];

// Target size keeping the aspect ratio; never upscales; each side at least 1.
export function fitSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  if (!(width > 0 && height > 0)) throw new Error('image has no size');
  const long = Math.max(width, height);
  if (maxSide <= 0 || long <= maxSide) return { width, height };
  const s = maxSide / long;
  return {
    width: Math.max(1, Math.min(maxSide, Math.round(width * s))),
    height: Math.max(1, Math.min(maxSide, Math.round(height * s))),
  };
}

export function validateOptions(o: CompressOptions): CompressOptions {
  const maxSide = Math.round(Number(o.maxSide));
  const quality = Number(o.quality);
  return {
    enabled: !!o.enabled,
    maxSide: Number.isFinite(maxSide) && maxSide >= 28 ? Math.min(maxSide, 16384) : DEFAULT_COMPRESS.maxSide,
    quality: Number.isFinite(quality) && quality > 0 && quality <= 1 ? quality : DEFAULT_COMPRESS.quality,
  };
}

export interface DecodedImage {
  width: number;
  height: number;
  close?: () => void;
}

export interface CanvasBackend<I extends DecodedImage = DecodedImage> {
  decode(blob: Blob): Promise<I>;
  // Draws `image` scaled to width x height and encodes it as JPEG.
  encodeJpeg(image: I, width: number, height: number, quality: number): Promise<Blob>;
}

export interface CompressResult {
  blob: Blob; // what to send
  mime: string;
  width: number;
  height: number;
  originalBytes: number;
  sentBytes: number;
  compressed: boolean; // false: the original bytes are sent
}

export async function compressImage<I extends DecodedImage>(
  file: Blob,
  options: CompressOptions,
  backend: CanvasBackend<I>,
): Promise<CompressResult> {
  const o = validateOptions(options);
  const image = await backend.decode(file);
  try {
    const { width, height } = image;
    const original: CompressResult = {
      blob: file, mime: file.type || 'application/octet-stream', width, height,
      originalBytes: file.size, sentBytes: file.size, compressed: false,
    };
    if (!o.enabled) return original;
    const target = fitSize(width, height, o.maxSide);
    const out = await backend.encodeJpeg(image, target.width, target.height, o.quality);
    // Re-encoding a small, already compressed image can make it bigger: keep the original then,
    // unless it had to shrink (the size limit is the point).
    const resized = target.width !== width || target.height !== height;
    if (!resized && out.size >= file.size) return original;
    return {
      blob: out, mime: 'image/jpeg', width: target.width, height: target.height,
      originalBytes: file.size, sentBytes: out.size, compressed: true,
    };
  } finally {
    image.close?.();
  }
}

// The browser backend: createImageBitmap + OffscreenCanvas (falls back to a <canvas>).
export const browserBackend: CanvasBackend<ImageBitmap> = {
  async decode(blob) {
    return createImageBitmap(blob, { imageOrientation: 'from-image' });
  },
  async encodeJpeg(image, width, height, quality) {
    if (typeof OffscreenCanvas !== 'undefined') {
      const c = new OffscreenCanvas(width, height);
      const g = c.getContext('2d');
      if (!g) throw new Error('no 2d canvas');
      g.fillStyle = '#fff'; // JPEG has no alpha: flatten onto white, not black
      g.fillRect(0, 0, width, height);
      g.imageSmoothingQuality = 'high';
      g.drawImage(image, 0, 0, width, height);
      return c.convertToBlob({ type: 'image/jpeg', quality });
    }
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    const g = c.getContext('2d');
    if (!g) throw new Error('no 2d canvas');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, width, height);
    g.drawImage(image, 0, 0, width, height);
    return new Promise((resolve, reject) =>
      c.toBlob((b) => (b ? resolve(b) : reject(new Error('encode failed'))), 'image/jpeg', quality));
  },
};

export function blobToDataUrl(blob: Blob, mime: string): Promise<string> {
  return blob.arrayBuffer().then((buf) => {
    const bytes = new Uint8Array(buf);
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return `data:${mime};base64,${btoa(bin)}`;
  });
}

export async function sha256Hex(blob: Blob): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
