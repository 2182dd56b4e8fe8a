// Conversations kept in the browser. ConversationStore holds the list in memory, sorted by last
// update, and writes through to a Backend: IndexedDB in the browser, a Map in tests.
import type { Conversation, Message, Settings } from './types';

export interface Backend {
  getAll(): Promise<Conversation[]>;
  put(c: Conversation): Promise<void>;
  delete(id: string): Promise<void>;
}

export class MemoryBackend implements Backend {
  map = new Map<string, Conversation>();
  async getAll() {
    return [...this.map.values()].map((c) => structuredClone(c));
  }
  async put(c: Conversation) {
    this.map.set(c.id, structuredClone(c));
  }
  async delete(id: string) {
    this.map.delete(id);
  }
}

const DB_NAME = 'ocular';
const STORE = 'conversations';

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export class IdbBackend implements Backend {
  private db: Promise<IDBDatabase>;
  constructor(factory: IDBFactory = indexedDB) {
    this.db = new Promise((resolve, reject) => {
      const open = factory.open(DB_NAME, 1);
      open.onupgradeneeded = () => {
        if (!open.result.objectStoreNames.contains(STORE)) open.result.createObjectStore(STORE, { keyPath: 'id' });
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }
  private async tx(mode: IDBTransactionMode) {
    return (await this.db).transaction(STORE, mode).objectStore(STORE);
  }
  async getAll() {
    return req((await this.tx('readonly')).getAll() as IDBRequest<Conversation[]>);
  }
  async put(c: Conversation) {
    // $state proxies cannot be cloned into IndexedDB: store a plain copy.
    await req((await this.tx('readwrite')).put(JSON.parse(JSON.stringify(c))));
  }
  async delete(id: string) {
    await req((await this.tx('readwrite')).delete(id));
  }
}

export function newId(): string {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function newConversation(system = '', now = Date.now()): Conversation {
  return { id: newId(), title: 'New chat', created: now, updated: now, system, messages: [] };
}

export function titleFrom(messages: Message[]): string {
  const first = messages.find((m) => m.role === 'user');
  if (!first) return 'New chat';
  const text = first.content.replace(/\s+/g, ' ').trim();
  if (!text) return first.attachments?.length ? `[${first.attachments[0].name}]` : 'New chat';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// Case-insensitive match on the title and every message's text; all words must match.
export function matches(c: Conversation, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = [c.title, c.system, ...c.messages.map((m) => m.content)].join('\n').toLowerCase();
  return words.every((w) => hay.includes(w));
}

export const EXPORT_FORMAT = 'ocular-conversations';

export function exportJson(list: Conversation[]): string {
  return JSON.stringify({ format: EXPORT_FORMAT, version: 1, conversations: list }, null, 1);
}

function isMessage(m: any): m is Message {
  return m && typeof m === 'object' && ['system', 'user', 'assistant'].includes(m.role) &&
    typeof m.content === 'string' && (m.attachments === undefined || Array.isArray(m.attachments));
}

// Parses an export; throws a readable Error for anything else. Fresh ids avoid overwriting.
export function importJson(text: string, keepIds: (id: string) => boolean = () => false): Conversation[] {
  let j: any;
  try {
    j = JSON.parse(text);
  } catch {
    throw new Error('not a JSON file');
  }
  const list = Array.isArray(j) ? j : j && j.format === EXPORT_FORMAT ? j.conversations : null;
  if (!Array.isArray(list)) throw new Error('not an Ocular conversations export');
  return list.map((c: any, i: number) => {
    if (!c || typeof c !== 'object' || !Array.isArray(c.messages) || !c.messages.every(isMessage)) {
      throw new Error(`conversation ${i + 1} is malformed`);
    }
    const now = Date.now();
    const conv: Conversation = {
      id: typeof c.id === 'string' && keepIds(c.id) ? c.id : newId(),
      title: typeof c.title === 'string' ? c.title : titleFrom(c.messages),
      created: Number.isFinite(c.created) ? c.created : now,
      updated: Number.isFinite(c.updated) ? c.updated : now,
      system: typeof c.system === 'string' ? c.system : '',
      messages: c.messages,
    };
    return conv;
  });
}

export class ConversationStore {
  list: Conversation[] = [];
  constructor(private backend: Backend) {}

  async load(): Promise<void> {
    this.list = (await this.backend.getAll()).sort((a, b) => b.updated - a.updated);
  }

  get(id: string): Conversation | undefined {
    return this.list.find((c) => c.id === id);
  }

  async save(c: Conversation, now = Date.now()): Promise<void> {
    c.updated = now;
    if (c.title === 'New chat' || !c.title) c.title = titleFrom(c.messages);
    const i = this.list.findIndex((x) => x.id === c.id);
    if (i >= 0) this.list.splice(i, 1);
    this.list.unshift(c);
    await this.backend.put(c);
  }

  async remove(id: string): Promise<void> {
    this.list = this.list.filter((c) => c.id !== id);
    await this.backend.delete(id);
  }

  search(query: string): Conversation[] {
    return this.list.filter((c) => matches(c, query));
  }

  async importText(text: string): Promise<number> {
    const list = importJson(text);
    for (const c of list) {
      await this.backend.put(c);
    }
    await this.load();
    return list.length;
  }
}

// ---- settings (localStorage) ----

export const DEFAULT_SETTINGS: Settings = {
  sampling: { temperature: null, top_p: null, top_k: null, max_tokens: null, seed: null },
  compress: true,
  maxSide: 1536,
  quality: 0.85,
  theme: 'auto',
  showMetrics: true,
};

export function parseSettings(text: string | null): Settings {
  const d = structuredClone(DEFAULT_SETTINGS);
  if (!text) return d;
  try {
    const j = JSON.parse(text);
    const num = (v: unknown, lo: number, hi: number) =>
      typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi ? v : null;
    const s = j.sampling || {};
    return {
      sampling: {
        temperature: num(s.temperature, 0, 2),
        top_p: num(s.top_p, 0, 1),
        top_k: num(s.top_k, -1, 1 << 24),
        max_tokens: num(s.max_tokens, 1, 1 << 24),
        seed: num(s.seed, 0, Number.MAX_SAFE_INTEGER),
      },
      compress: typeof j.compress === 'boolean' ? j.compress : d.compress,
      maxSide: num(j.maxSide, 28, 16384) ?? d.maxSide,
      quality: num(j.quality, 0.05, 1) ?? d.quality,
      theme: ['auto', 'light', 'dark'].includes(j.theme) ? j.theme : d.theme,
      showMetrics: typeof j.showMetrics === 'boolean' ? j.showMetrics : d.showMetrics,
    };
  } catch {
    return d;
  }
}
