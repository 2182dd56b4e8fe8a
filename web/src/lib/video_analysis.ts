// "Analyse in windows" for a long video (server: docs/long-video.md). The request keeps the
// system message and the last user message (the one with the video) and adds a
// `video_analysis` object; the stream then carries one chunk per window
// (x_ocular.window) before the combined answer.

export interface WindowResult {
  index: number;
  start_s: number;
  end_s: number;
  text: string;
  finish_reason?: string;
}

export interface WindowOptions {
  windowSeconds: number;
  strideSeconds: number | null; // null: windows end to end
  maxWindows: number | null;
}

export const DEFAULT_WINDOW_OPTIONS: WindowOptions = { windowSeconds: 10, strideSeconds: null, maxWindows: null };

interface PartLike {
  type?: string;
}
interface MessageLike {
  role?: string;
  content?: unknown;
}

function hasVideo(m: MessageLike): boolean {
  return Array.isArray(m.content) && (m.content as PartLike[]).some((p) => p && p.type === 'video_url');
}

// True when the conversation's last user message holds a video.
export function lastUserHasVideo(messages: unknown[]): boolean {
  const users = (messages as MessageLike[]).filter((m) => m && m.role === 'user');
  return users.length > 0 && hasVideo(users[users.length - 1]);
}

// The chat body turned into a windowed-analysis request, or null when its last user message
// has no video (the body is then sent unchanged).
export function withVideoAnalysis(body: Record<string, unknown>, o: WindowOptions): Record<string, unknown> | null {
  const messages = (body.messages as MessageLike[]) || [];
  if (!lastUserHasVideo(messages)) return null;
  const users = messages.filter((m) => m.role === 'user');
  const system = messages.filter((m) => m.role === 'system' && typeof m.content === 'string').slice(0, 1);
  const va: Record<string, number> = { window_seconds: o.windowSeconds };
  if (o.strideSeconds !== null) va.stride_seconds = o.strideSeconds;
  if (o.maxWindows !== null) va.max_windows = o.maxWindows;
  return { ...body, messages: [...system, users[users.length - 1]], video_analysis: va };
}

// The window carried by a stream chunk, if any.
export function windowFromChunk(j: unknown): WindowResult | null {
  const w = (j as { x_ocular?: { window?: unknown } } | null)?.x_ocular?.window as Partial<WindowResult> | undefined;
  if (!w || typeof w.index !== 'number' || typeof w.start_s !== 'number' || typeof w.end_s !== 'number') return null;
  return { index: w.index, start_s: w.start_s, end_s: w.end_s, text: typeof w.text === 'string' ? w.text : '',
           finish_reason: w.finish_reason };
}

// Timeline geometry: each window as left/width percentages of the span [0, max end].
export function timelineSegments(windows: WindowResult[]): { left: number; width: number; w: WindowResult }[] {
  const end = Math.max(0, ...windows.map((w) => w.end_s));
  if (end <= 0) return [];
  return windows.map((w) => ({ left: (100 * w.start_s) / end, width: (100 * (w.end_s - w.start_s)) / end, w }));
}

export function formatRange(w: WindowResult): string {
  return `${w.start_s.toFixed(1)}–${w.end_s.toFixed(1)} s`;
}
