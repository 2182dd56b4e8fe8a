import { describe, expect, it } from 'vitest';
import {
  ConversationStore, MemoryBackend, exportJson, importJson, matches, newConversation, parseSettings, titleFrom,
} from './store';
import type { Conversation } from './types';

function conv(text: string, updated: number): Conversation {
  const c = newConversation('', updated);
  c.messages.push({ role: 'user', content: text }, { role: 'assistant', content: `answer to ${text}` });
  return c;
}

describe('ConversationStore', () => {
  it('saves through to the backend and lists newest first after a reload', async () => {
    const be = new MemoryBackend();
    const s = new ConversationStore(be);
    const a = conv('first question', 0);
    const b = conv('second question', 0);
    await s.save(a, 100);
    await s.save(b, 200);
    expect(s.list.map((c) => c.id)).toEqual([b.id, a.id]);
    await s.save(a, 300); // touching a moves it to the top
    const again = new ConversationStore(be);
    await again.load();
    expect(again.list.map((c) => c.id)).toEqual([a.id, b.id]);
    expect(again.get(a.id)?.title).toBe('first question');
  });

  it('deletes from memory and backend', async () => {
    const be = new MemoryBackend();
    const s = new ConversationStore(be);
    const a = conv('x', 0);
    await s.save(a);
    await s.remove(a.id);
    expect(s.list).toEqual([]);
    expect(be.map.size).toBe(0);
  });

  it('searches titles and message text, all words, case-insensitively', async () => {
    const s = new ConversationStore(new MemoryBackend());
    await s.save(conv('The Red Fox', 0), 1);
    await s.save(conv('a blue whale', 0), 2);
    expect(s.search('red').map((c) => c.title)).toEqual(['The Red Fox']);
    expect(s.search('ANSWER whale').map((c) => c.title)).toEqual(['a blue whale']);
    expect(s.search('red whale')).toEqual([]);
    expect(s.search('  ').length).toBe(2);
  });

  it('round-trips through export and import with fresh ids', async () => {
    const s = new ConversationStore(new MemoryBackend());
    const a = conv('keep me', 0);
    await s.save(a, 5);
    const text = exportJson(s.list);
    const t = new ConversationStore(new MemoryBackend());
    expect(await t.importText(text)).toBe(1);
    expect(t.list[0].messages).toEqual(a.messages);
    expect(t.list[0].id).not.toBe(a.id);
    expect(t.list[0].updated).toBe(5);
  });
});

describe('importJson', () => {
  it('rejects what is not an export', () => {
    expect(() => importJson('nope')).toThrow('not a JSON file');
    expect(() => importJson('{"a":1}')).toThrow('not an Ocular conversations export');
    expect(() => importJson('[{"messages":[{"role":"robot","content":"x"}]}]')).toThrow('conversation 1 is malformed');
  });
});

describe('titles and matching', () => {
  it('takes the first user text, shortened, or the first attachment name', () => {
    expect(titleFrom([])).toBe('New chat');
    expect(titleFrom([{ role: 'user', content: '  hello \n world ' }])).toBe('hello world');
    expect(titleFrom([{ role: 'user', content: 'x'.repeat(100) }])).toBe('x'.repeat(57) + '...');
    expect(titleFrom([{ role: 'user', content: '', attachments: [
      { kind: 'image', name: 'cat.png', mime: 'image/png', dataUrl: '', originalBytes: 0, sentBytes: 0, key: 'k' }] }]))
      .toBe('[cat.png]');
  });
  it('matches the system prompt too', () => {
    const c = newConversation('You are a pirate');
    expect(matches(c, 'pirate')).toBe(true);
  });
});

describe('parseSettings', () => {
  it('falls back to defaults for missing or out-of-range values', () => {
    const d = parseSettings(null);
    expect(d.sampling.temperature).toBeNull();
    expect(d.maxSide).toBe(1536);
    expect(d.quality).toBe(0.85);
    const s = parseSettings(JSON.stringify({ sampling: { temperature: 5, top_k: 40 }, maxSide: 1024, quality: 2, theme: 'x' }));
    expect(s.sampling.temperature).toBeNull();
    expect(s.sampling.top_k).toBe(40);
    expect(s.maxSide).toBe(1024);
    expect(s.quality).toBe(0.85);
    expect(s.theme).toBe('auto');
    expect(parseSettings('{bad').compress).toBe(true);
  });
});
