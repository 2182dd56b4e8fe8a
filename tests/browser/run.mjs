// Browser tests for the web UI: Debian's Chromium driven by playwright-core (from web/'s
// node_modules; no browser download) against a real `ocular serve` on the tiny checkpoint.
//
//   node tests/browser/run.mjs --ocular BIN --golden DIR --web-dir web --artifacts OUT
//
// Exit 0: all passed; 1: a check failed; 77: skipped (reason printed: no chromium, no golden
// data, no playwright-core). Screenshots of each state and the server log go to OUT.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const CHROMIUM = process.env.OCULAR_CHROMIUM || '/usr/bin/chromium';
const golden = process.env.OCULAR_GOLDEN_DIR || args.golden;
const artifacts = path.resolve(args.artifacts || 'browser-artifacts');

function skip(why) {
  console.log(`SKIPPED: ${why}`);
  process.exit(77);
}
if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} not found (apt-get install chromium; scripts/setup-debian.sh)`);
if (!golden || !fs.existsSync(path.join(golden, 'models', 'tiny-a'))) skip('golden data (models/tiny-a) not found');
if (!args.ocular || !fs.existsSync(args.ocular)) skip('ocular binary not given or missing');
let chromium;
try {
  chromium = createRequire(path.resolve(args['web-dir'] || 'web', 'package.json'))('playwright-core').chromium;
} catch {
  skip('playwright-core is not installed in web/node_modules (run npm ci in web/)');
}
fs.mkdirSync(artifacts, { recursive: true });

const failures = [];
let passed = 0;
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const log = fs.openSync(path.join(artifacts, 'server.log'), 'w');
const server = spawn(args.ocular, ['serve', '--model', path.join(golden, 'models', 'tiny-a'), '--host', '127.0.0.1',
  '--port', String(port), '--max-model-len', '32768'], { stdio: ['ignore', log, log] });
let serverExited = false;
server.on('exit', () => { serverExited = true; });

async function metric(name) {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.trim().split(/\s+/).pop()) : NaN;
}

let browser;
try {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (serverExited) throw new Error('ocular serve exited during start-up (see server.log)');
    try {
      if ((await fetch(`${origin}/ready`)).ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error('ocular serve not ready after 120 s');
    await sleep(200);
  }

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ocular-chromium-'));
  // A fresh, empty profile per run (Playwright passes it as --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  browser = context;
  const page = context.pages()[0] || await context.newPage();
  const foreign = [];
  const requested = [];
  page.on('request', (r) => {
    const u = r.url();
    requested.push(u);
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: false });
  const answers = page.locator('[data-testid="message-assistant"]');
  const lastAnswer = () => answers.last();
  const waitIdle = (timeout = 120_000) => page.locator('[data-testid="send"]').waitFor({ state: 'visible', timeout });

  await page.goto(`${origin}/`);
  await page.locator('[data-testid="input"]').waitFor();

  // Answers of the random tiny model are short when asked: 48 tokens by default in these tests.
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Max tokens').fill('48');
  await page.getByLabel('Temperature').fill('0');
  await page.getByRole('button', { name: 'Settings' }).click();

  await check('text message streams tokens into the page', async () => {
    // Count how often the answer's text grows while the request is open.
    await page.evaluate(() => {
      window.__growth = [];
      const obs = new MutationObserver(() => {
        const all = document.querySelectorAll('[data-testid="answer"]');
        const last = all[all.length - 1];
        const n = last ? last.textContent.length : 0;
        const g = window.__growth;
        if (n > 0 && (g.length === 0 || g[g.length - 1] !== n)) g.push(n);
      });
      obs.observe(document.querySelector('[data-testid="chat"]'), { subtree: true, childList: true, characterData: true });
    });
    await page.locator('[data-testid="input"]').fill('Hello, who are you?');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="stop"]').waitFor({ timeout: 30_000 });
    await waitIdle();
    const growth = await page.evaluate(() => window.__growth);
    const text = await lastAnswer().locator('[data-testid="answer"]').textContent();
    assert(text.trim().length > 0, 'the answer is empty');
    assert(growth.length >= 3, `the answer arrived in ${growth.length} update(s), not streamed`);
    const stages = await lastAnswer().locator('.stage').allTextContents();
    assert(stages.some((s) => s.startsWith('first token')), `no first-token stage: ${stages}`);
    await shot('1-text-streamed');
  });

  const png = path.join(golden, 'inputs', 'images', 'img_320x240_shapes.png');
  const stageText = async (label) =>
    (await lastAnswer().locator(`.stage[data-stage="${label}"]`).textContent({ timeout: 5000 })).replace(label, '').trim();

  await check('PNG attached with compression gets an answer with a timing breakdown', async () => {
    await page.locator('[data-testid="file-input"]').setInputFiles(png);
    const size = page.locator('[data-testid="attachment-size"]');
    await size.waitFor({ timeout: 10_000 });
    const sizeText = await size.textContent();
    assert(sizeText.includes('→'), `compression did not shrink the PNG: "${sizeText}"`);
    await page.locator('[data-testid="input"]').fill('What is in this picture?');
    await page.keyboard.press('Enter');
    await waitIdle();
    const labels = await lastAnswer().locator('.stage').evaluateAll((els) => els.map((e) => e.dataset.stage));
    for (const want of ['upload', 'queue', 'preprocess', 'vision', 'prefill', 'first token']) {
      assert(labels.includes(want), `stage ${want} missing from ${labels}`);
    }
    const vision = await stageText('vision');
    assert(vision !== 'cached' && /ms|s/.test(vision), `first sight of the image should be encoded, got "${vision}"`);
    await shot('2-image-answer');
  });

  await check('the same image in a second turn is reported as cached', async () => {
    await page.locator('[data-testid="file-input"]').setInputFiles(png);
    await page.locator('[data-testid="attachment-size"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="input"]').fill('And now?');
    await page.keyboard.press('Enter');
    await waitIdle();
    const vision = await stageText('vision');
    assert(vision === 'cached', `vision stage is "${vision}", expected "cached"`);
    const prefill = await stageText('prefill');
    assert(/reused/.test(prefill), `prefill does not report reused tokens: "${prefill}"`);
    await shot('3-image-cached');
  });

  await check('a video attachment gets an answer that went through the vision encoder', async () => {
    await page.locator('[data-testid="file-input"]').setInputFiles(path.join(golden, 'inputs', 'video', 'video_a.mp4'));
    await page.locator('[data-testid="pending-attachment"] .vid').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="input"]').fill('Describe the video.');
    await page.keyboard.press('Enter');
    await waitIdle();
    assert((await lastAnswer().locator('[data-testid="message-error"]').count()) === 0, 'the video answer failed');
    const vision = await stageText('vision');
    assert(vision.length > 0, 'no vision stage for the video');
    assert((await page.locator('[data-testid="message-user"] video').count()) >= 1, 'no video preview in the thread');
    await shot('3b-video');
  });

  await check('a video analysed in windows shows each window on a timeline, then the summary', async () => {
    // A chat of its own: the server takes one video per request and the history already has one.
    await page.getByRole('button', { name: /New chat/ }).click();
    await page.locator('[data-testid="file-input"]').setInputFiles(path.join(golden, 'inputs', 'video', 'video_a.mp4'));
    await page.locator('[data-testid="analyse-windows"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="analyse-windows"]').check();
    await page.getByLabel('Window length in seconds').fill('1');
    await page.locator('[data-testid="input"]').fill('What happens here?');
    await page.keyboard.press('Enter');
    await waitIdle();
    const answer = lastAnswer();
    assert((await answer.locator('[data-testid="message-error"]').count()) === 0, 'the windowed answer failed');
    // video_a is 2.0 s: 1 s windows end to end give [0, 1) and [1, 2), in time order.
    const items = await answer.locator('[data-testid="window-item"]').allTextContents();
    assert(items.length === 2, `windows shown: ${items.length}`);
    assert(items[0].startsWith('0.0–1.0 s') && items[1].startsWith('1.0–2.0 s'), `window ranges: ${items.join(' | ')}`);
    assert((await answer.locator('[data-testid="window-seg"]').count()) === 2, 'timeline segments missing');
    assert((await answer.locator('[data-testid="answer"]').textContent()).trim().length > 0, 'no combined answer');
    await shot('3c-video-windows');
  });

  await check('stop mid-stream ends the request on the server', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Max tokens').fill('20000');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.locator('[data-testid="input"]').fill('Tell me a very long story.');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="stop"]').waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => {
      const all = document.querySelectorAll('[data-testid="answer"]');
      return all.length > 0 && all[all.length - 1].textContent.trim().length > 20;
    }, null, { timeout: 60_000 });
    assert((await metric('ocular_requests_running')) >= 1, 'the request is not running on the server');
    await page.locator('[data-testid="stop"]').click();
    const t0 = Date.now();
    let running = NaN;
    while (Date.now() - t0 < 3000) {
      running = await metric('ocular_requests_running');
      if (running === 0) break;
      await sleep(50);
    }
    assert(running === 0, `ocular_requests_running is ${running} 3 s after stop`);
    await waitIdle(5000);
    assert(await lastAnswer().getByText('stopped').isVisible(), 'the answer is not marked as stopped');
    await shot('4-stopped');
  });

  await check('regenerate replaces the last answer; edit takes a message back into the composer', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Max tokens').fill('16');
    await page.getByRole('button', { name: 'Settings' }).click();
    const n = await page.locator('[data-testid^="message-"]').count();
    await page.getByRole('button', { name: 'Regenerate this answer' }).click();
    await page.locator('[data-testid="stop"]').waitFor({ timeout: 30_000 }).catch(() => {});
    await waitIdle();
    assert((await page.locator('[data-testid^="message-"]').count()) === n, 'regenerate changed the message count');
    assert(!(await lastAnswer().getByText('stopped').isVisible()), 'the regenerated answer is still the stopped one');
    await page.getByRole('button', { name: 'Edit this message' }).last().click();
    assert((await page.locator('[data-testid="input"]').inputValue()) === 'Tell me a very long story.', 'edit did not fill the composer');
    assert((await page.locator('[data-testid^="message-"]').count()) === n - 2, 'edit did not remove the turn');
    await page.locator('[data-testid="input"]').fill('Tell me a short story.');
    await page.keyboard.press('Enter');
    await waitIdle();
    assert((await page.locator('[data-testid^="message-"]').count()) === n, 'the edited turn was not answered');
  });

  await check('an unsupported file shows a message and keeps the typed text', async () => {
    await page.locator('[data-testid="input"]').fill('draft I typed');
    await page.locator('[data-testid="file-input"]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') });
    const banner = page.locator('[data-testid="banner"]');
    await banner.waitFor({ timeout: 5000 });
    assert(/unsupported file type/.test(await banner.textContent()), 'no unsupported-file message');
    assert((await page.locator('[data-testid="input"]').inputValue()) === 'draft I typed', 'typed text lost');
    await shot('5-unsupported-file');
    await page.locator('[data-testid="input"]').fill('');
  });

  await check('after a reload the conversation is listed and opens', async () => {
    // The first conversation (the windowed analysis ran in a chat of its own).
    const item = page.locator('[data-testid="conversations"] .conv', { hasText: 'Hello, who are you?' });
    await item.click();
    await page.locator('[data-testid="message-user"]').first().waitFor();
    const before = await page.locator('[data-testid^="message-"]').count();
    await page.reload();
    await item.waitFor({ timeout: 10_000 });
    await item.click();
    await page.locator('[data-testid="message-user"]').first().waitFor();
    const after = await page.locator('[data-testid^="message-"]').count();
    assert(after === before, `${after} messages after reload, ${before} before`);
    assert((await answers.first().locator('.stage').count()) > 0, 'the timing breakdown was not kept');
    await shot('6-reloaded');
  });

  await check('imported conversation renders code highlighting and lazily loaded LaTeX', async () => {
    const katexBefore = requested.filter((u) => /katex/i.test(u)).length;
    assert(katexBefore === 0, 'KaTeX was loaded before any formula appeared');
    const file = path.join(artifacts, 'import.json');
    fs.writeFileSync(file, JSON.stringify({ format: 'ocular-conversations', version: 1, conversations: [{
      id: 'x', title: 'Math and code', created: 1, updated: 2, system: '', messages: [
        { role: 'user', content: 'show me' },
        { role: 'assistant', content: 'Euler: $e^{i\\pi}+1=0$\n\n$$\\sum_{k=1}^n k = \\frac{n(n+1)}{2}$$\n\n```python\ndef f(x):\n    return x\n```\n\n<img src=x onerror="window.__xss=1">' },
      ] }] }));
    await page.locator('[data-testid="import-input"]').setInputFiles(file);
    const item = page.locator('[data-testid="conversations"] .conv', { hasText: 'Math and code' });
    await item.waitFor({ timeout: 5000 });
    await item.click();
    await page.locator('.katex').first().waitFor({ timeout: 10_000 });
    assert((await page.locator('.katex-display').count()) === 1, 'display math not rendered');
    assert((await page.locator('.hljs-keyword').count()) >= 1, 'code not highlighted');
    assert(!(await page.evaluate(() => window.__xss)), 'unsanitised HTML ran');
    assert(requested.some((u) => /katex.*\.js$/.test(u)), 'KaTeX chunk not fetched');
    await shot('7-math-code');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Theme').selectOption('dark');
    await page.getByRole('button', { name: 'Settings' }).click();
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert(bg === 'rgb(22, 24, 28)', `dark theme background is ${bg}`);
    await shot('8-dark');
  });

  await check('a repeated image is sent by its media id, not re-uploaded, and shows as cached', async () => {
    const bodies = [];
    const onRequest = (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/v1/chat/completions')) bodies.push(r.postData() || '');
    };
    page.on('request', onRequest);
    try {
      await page.getByRole('button', { name: /New chat/ }).click();
      // An image this page has not sent before (the earlier steps' PNG is already known by id).
      const fresh = path.join(golden, 'inputs', 'images', 'img_224x224_shapes.png');
      for (const text of ['What is this?', 'Look at it again.']) {
        // Turn 2 repeats the image: the history holds it and it is attached once more.
        await page.locator('[data-testid="file-input"]').setInputFiles(fresh);
        await page.locator('[data-testid="attachment-size"]').waitFor({ timeout: 10_000 });
        await page.locator('[data-testid="input"]').fill(text);
        await page.keyboard.press('Enter');
        await waitIdle();
      }
      assert(bodies.length === 2, `${bodies.length} chat requests, expected 2`);
      const [first, second] = bodies;
      assert(first.includes('"data:image/'), 'the first turn did not upload the image');
      assert(!second.includes('data:image/'), 'the second turn uploaded image bytes again');
      const refs = second.match(/"ocular-media:[0-9a-f]{64}"/g) || [];
      assert(refs.length === 2, `the second turn has ${refs.length} media-id references, expected 2`);
      assert(second.length < 4096 && second.length * 4 < first.length,
        `second request body ${second.length} bytes (first ${first.length})`);
      assert((await lastAnswer().locator('[data-testid="message-error"]').count()) === 0, 'the answer failed');
      const vision = await stageText('vision');
      assert(vision === 'cached', `vision stage is "${vision}", expected "cached"`);
      await shot('8b-media-reference');
    } finally {
      page.off('request', onRequest);
    }
  });

  await check('the demo banner shows exactly when /v1/models marks a random-weight demo', async () => {
    const served = await (await fetch(`${origin}/v1/models`)).json();
    const isDemo = served.data && served.data[0] && served.data[0].demo === true;
    assert((await page.locator('[data-testid="demo-banner"]').count()) === (isDemo ? 1 : 0),
      `banner shown: ${!isDemo}, server demo flag: ${isDemo}`);
    // The same page against a /v1/models that says demo (the server's answer, flag set).
    const demoPage = await context.newPage();
    try {
      await demoPage.route('**/v1/models', async (route) => {
        const res = await route.fetch();
        const j = await res.json();
        j.data[0].demo = true;
        await route.fulfill({ response: res, json: j });
      });
      await demoPage.goto(`${origin}/`);
      const b = demoPage.locator('[data-testid="demo-banner"]');
      await b.waitFor({ timeout: 10_000 });
      assert(/random weights/.test(await b.textContent()), `banner text: ${await b.textContent()}`);
      await demoPage.screenshot({ path: path.join(artifacts, '8c-demo-banner.png') });
    } finally {
      await demoPage.close();
    }
  });

  await check('with the server down a send shows a message and keeps the text', async () => {
    server.kill('SIGKILL');
    for (let i = 0; i < 100 && !serverExited; i++) await sleep(50);
    const n = await page.locator('[data-testid^="message-"]').count();
    await page.locator('[data-testid="input"]').fill('are you there?');
    await page.keyboard.press('Enter');
    const banner = page.locator('[data-testid="banner"]');
    await banner.waitFor({ timeout: 10_000 });
    assert(/not reachable/.test(await banner.textContent()), `banner: ${await banner.textContent()}`);
    assert((await page.locator('[data-testid="input"]').inputValue()) === 'are you there?', 'typed text lost');
    assert((await page.locator('[data-testid^="message-"]').count()) === n, 'a failed send left messages behind');
    await shot('9-server-down');
  });

  await check('phone width: no horizontal overflow', async () => {
    await page.setViewportSize({ width: 380, height: 740 });
    await sleep(400); // the drawer's slide-out transition
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(overflow <= 0, `page overflows by ${overflow}px at 380px`);
    await shot('10-phone');
  });

  await check('no request left the server origin, no page errors', async () => {
    assert(foreign.length === 0, `requests to other hosts: ${foreign.join(', ')}`);
    assert(consoleErrors.length === 0, `page errors: ${consoleErrors.join('; ')}`);
  });
} catch (e) {
  failures.push('setup');
  console.log(`FAIL setup: ${e && e.stack ? e.stack : e}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (!serverExited) server.kill('SIGKILL');
}
console.log(`${passed} passed, ${failures.length} failed; screenshots in ${artifacts}`);
process.exit(failures.length ? 1 : 0);
