// The official `openai` npm client against `ocular serve`: non-streaming and streaming chat
// with an image (data: URL). Env: OCULAR_URL (http://host:port), OCULAR_API_KEY, OCULAR_IMAGE.
import fs from "node:fs";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: `${process.env.OCULAR_URL}/v1`, apiKey: process.env.OCULAR_API_KEY });
const image = fs.readFileSync(process.env.OCULAR_IMAGE).toString("base64");
const messages = [{
  role: "user",
  content: [
    { type: "image_url", image_url: { url: `data:image/png;base64,${image}` } },
    { type: "text", text: "What is in this image?" },
  ],
}];
function check(cond, what) {
  if (!cond) {
    console.error(`FAIL: ${what}`);
    process.exit(1);
  }
}

const models = await client.models.list();
check(models.data.length === 1 && typeof models.data[0].id === "string", "models.list");

const full = await client.chat.completions.create({ model: models.data[0].id, messages, max_tokens: 16, temperature: 0 });
check(full.object === "chat.completion", "object");
const text = full.choices[0].message.content;
check(typeof text === "string" && text.length > 0, "non-streaming content");
check(full.usage.prompt_tokens > 64 && full.usage.completion_tokens > 0, "usage");
check(full.usage.media.length === 1 && full.usage.media[0].tokens === 64, "usage.media");

const stream = await client.chat.completions.create({
  model: models.data[0].id, messages, max_tokens: 16, temperature: 0, stream: true,
  stream_options: { include_usage: true },
});
let streamed = "";
let finish = null;
let usage = null;
let chunks = 0;
for await (const chunk of stream) {
  chunks++;
  for (const c of chunk.choices) {
    streamed += c.delta?.content ?? "";
    if (c.finish_reason) finish = c.finish_reason;
  }
  if (chunk.usage) usage = chunk.usage;
}
check(chunks >= 3, "several chunks");
check(streamed === text, "streamed text equals the non-streaming text (greedy)");
check(finish === "stop" || finish === "length", "finish_reason");
check(usage && usage.completion_tokens === full.usage.completion_tokens, "streamed usage");
check(usage.timings && typeof usage.timings.ttft_ms === "number", "usage.timings");

let status = 0;
try {
  await new OpenAI({ baseURL: `${process.env.OCULAR_URL}/v1`, apiKey: "wrong", maxRetries: 0 })
    .chat.completions.create({ model: "x", messages, max_tokens: 1 });
} catch (e) {
  status = e.status;
}
check(status === 401, "wrong key -> 401");
console.log(`openai client OK: ${chunks} chunks, ${JSON.stringify(text)}`);
