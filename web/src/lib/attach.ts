// Turns a picked, dropped or pasted file into an Attachment: images are compressed once per
// (content, settings) and remembered, so an image that repeats in the conversation is sent as
// the very same bytes (the server's feature cache then recognises it) without re-encoding.
import { IMAGE_TYPES, VIDEO_TYPES, blobToDataUrl, browserBackend, compressImage, sha256Hex, formatBytes } from './compress';
import type { Attachment } from './types';

export const MAX_VIDEO_BYTES = 256 * 1024 * 1024;
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

export class AttachError extends Error {}

function kindOf(file: File): 'image' | 'video' | null {
  const t = (file.type || '').toLowerCase();
  if (IMAGE_TYPES.includes(t)) return 'image';
  if (VIDEO_TYPES.includes(t)) return 'video';
  const ext = file.name.toLowerCase().split('.').pop() || '';
  if (['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp'].includes(ext)) return 'image';
  if (['mp4', 'webm', 'mov', 'mkv'].includes(ext)) return 'video';
  return null;
}

export class Attacher {
  private cache = new Map<string, Attachment>();

  // Registers attachments already in a conversation so repeats reuse their bytes.
  remember(list: Attachment[]): void {
    for (const a of list) if (a.key && !this.cache.has(a.key)) this.cache.set(a.key, a);
  }

  async fromFile(file: File, compress: { enabled: boolean; maxSide: number; quality: number }): Promise<Attachment> {
    const kind = kindOf(file);
    if (!kind) {
      throw new AttachError(`${file.name}: unsupported file type (use PNG, JPEG, WebP, GIF, BMP, MP4, WebM or MOV)`);
    }
    if (kind === 'video') {
      if (file.size > MAX_VIDEO_BYTES) {
        throw new AttachError(`${file.name}: the video is ${formatBytes(file.size)}; the limit is ${formatBytes(MAX_VIDEO_BYTES)}`);
      }
      const mime = file.type || 'video/mp4';
      const key = `v:${await sha256Hex(file)}`;
      const hit = this.cache.get(key);
      if (hit) return { ...hit, name: file.name };
      const a: Attachment = { kind, name: file.name, mime, dataUrl: await blobToDataUrl(file, mime), originalBytes: file.size, sentBytes: file.size, key };
      this.cache.set(key, a);
      return a;
    }
    if (file.size > MAX_IMAGE_BYTES) {
      throw new AttachError(`${file.name}: the image is ${formatBytes(file.size)}; the limit is ${formatBytes(MAX_IMAGE_BYTES)}`);
    }
    const o = compress.enabled ? `${compress.maxSide}/${compress.quality}` : 'exact';
    const key = `i:${await sha256Hex(file)}:${o}`;
    const hit = this.cache.get(key);
    if (hit) return { ...hit, name: file.name };
    let r;
    try {
      r = await compressImage(file, compress, browserBackend);
    } catch {
      throw new AttachError(`${file.name}: the browser cannot decode this image`);
    }
    const a: Attachment = {
      kind, name: file.name, mime: r.mime, dataUrl: await blobToDataUrl(r.blob, r.mime),
      originalBytes: r.originalBytes, sentBytes: r.sentBytes, width: r.width, height: r.height, key,
    };
    this.cache.set(key, a);
    return a;
  }
}
