// Incremental parser for a text/event-stream body (the OpenAI streaming format).
// Bytes arrive in arbitrary pieces: a line, an event or a UTF-8 character may be split
// anywhere, so the parser keeps the unfinished tail between calls.

export interface SseEvent {
  event: string; // "message" unless an `event:` field said otherwise
  data: string; // `data:` lines joined with "\n"
}

export class SseParser {
  private decoder = new TextDecoder('utf-8');
  private buffer = '';
  private data: string[] = [];
  private event = '';

  // Feeds a piece of the body; returns the events it completed.
  push(chunk: Uint8Array | string): SseEvent[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    return this.drain(false);
  }

  // The body ended: a final event without its blank line still counts.
  finish(): SseEvent[] {
    this.buffer += this.decoder.decode();
    return this.drain(true);
  }

  private drain(end: boolean): SseEvent[] {
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone "\r" at the very end may be the first half of "\r\n": wait for more.
      if (m[0] === '\r' && m.index === this.buffer.length - 1 && !end) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line, out);
    }
    if (end) {
      if (this.buffer.length > 0) this.line(this.buffer, out);
      this.buffer = '';
      this.line('', out);
    }
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n') });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return; // comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}
