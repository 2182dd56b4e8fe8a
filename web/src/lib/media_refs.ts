// Media-id references: an image the server has already encoded is sent again as
// "ocular-media:<id>" (the id from usage.media[].id) instead of its bytes, so later turns of a
// conversation upload nothing. The server keeps encodings in a bounded cache; when it no
// longer has one it answers 409 with code "media_not_cached" and the request is sent once more
// with the bytes.
import { ApiError, MEDIA_REF_PREFIX } from './api';
import type { Attachment, MediaUsage, Message } from './types';

export { MEDIA_REF_PREFIX };
export const MEDIA_NOT_CACHED = 'media_not_cached';

const ID_RE = /^[0-9a-f]{64}$/;

// Attachment key -> media id, learned from the server's answers. Only images: the server
// resolves references for images only.
export class MediaIds {
  private ids = new Map<string, string>();

  // Ids already stored on a conversation's attachments (e.g. after a reload).
  remember(list: Attachment[]): void {
    for (const a of list) if (a.kind === 'image' && a.mediaId && ID_RE.test(a.mediaId)) this.ids.set(a.key, a.mediaId);
  }

  get(a: Attachment): string | undefined {
    return a.kind === 'image' ? this.ids.get(a.key) : undefined;
  }

  // After an answer: `sent` is the history that was sent (user attachments in prompt order,
  // the order of usage.media). Images that were encoded or found by exact id are now cached
  // under their id; a near-duplicate hit ("similar") cached some other image, not this one.
  // The ids are also stored on the attachments so they survive a reload.
  learn(sent: Message[], media: MediaUsage[] | undefined): number {
    if (!media) return 0;
    const attachments = sent.filter((m) => m.role === 'user').flatMap((m) => m.attachments ?? []);
    if (attachments.length !== media.length) return 0; // not the request we think it was
    let n = 0;
    attachments.forEach((a, i) => {
      const u = media[i];
      if (a.kind !== 'image' || u.cache === 'similar' || !ID_RE.test(u.id)) return;
      this.ids.set(a.key, u.id);
      a.mediaId = u.id;
      n++;
    });
    return n;
  }

  // The server lost them (restart, eviction): send bytes until it reports new ids.
  forget(history: Message[]): void {
    this.ids.clear();
    for (const m of history) for (const a of m.attachments ?? []) delete a.mediaId;
  }
}

export function isMediaNotCached(e: unknown): boolean {
  return e instanceof ApiError && e.status === 409 && e.code === MEDIA_NOT_CACHED;
}

// Sends with references first; on media_not_cached calls `onStale` and sends once more with
// every image as bytes. Other errors propagate unchanged.
export async function sendWithMediaFallback<T>(send: (useRefs: boolean) => Promise<T>, onStale: () => void): Promise<T> {
  try {
    return await send(true);
  } catch (e) {
    if (!isMediaNotCached(e)) throw e;
    onStale();
    return send(false);
  }
}
