// Shapes shared by the API client, the stores and the components.
import type { WindowResult } from './video_analysis';

export interface Timings {
  queue_ms?: number;
  fetch_ms?: number;
  preprocess_ms?: number;
  encode_ms?: number;
  prefill_ms?: number;
  decode_ms?: number;
  ttft_ms?: number;
  total_ms?: number;
}

export interface MediaUsage {
  id: string;
  tokens: number;
  cache: 'miss' | 'hit' | 'similar';
  distance?: number;
  prefix?: boolean;
}

export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number };
  timings?: Timings;
  media?: MediaUsage[];
}

export interface Attachment {
  kind: 'image' | 'video';
  name: string;
  mime: string;
  dataUrl: string; // what is sent (possibly compressed)
  originalBytes: number;
  sentBytes: number;
  width?: number;
  height?: number;
  key: string; // content hash of the original file + compression settings
  mediaId?: string; // the server's id for it (usage.media[].id): later turns send a reference
}

export interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
  attachments?: Attachment[];
  usage?: Usage;
  uploadMs?: number; // client-measured: request start to response headers
  clientTtftMs?: number;
  finishReason?: string;
  error?: string;
  stopped?: boolean;
  windows?: WindowResult[]; // windowed video analysis: per-window results, time order
}

export interface Conversation {
  id: string;
  title: string;
  created: number;
  updated: number;
  system: string;
  messages: Message[];
}

// null: not sent, so the server's default (the model's generation config) applies.
export interface Sampling {
  temperature: number | null;
  top_p: number | null;
  top_k: number | null;
  max_tokens: number | null;
  seed: number | null;
}

export interface Settings {
  sampling: Sampling;
  compress: boolean;
  maxSide: number;
  quality: number;
  theme: 'auto' | 'light' | 'dark';
  showMetrics: boolean;
}
