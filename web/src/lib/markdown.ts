// Markdown -> sanitised HTML. Math ($...$, $$...$$, \(...\), \[...\]) is cut out before Markdown
// sees it (so `_` and `*` inside formulas survive) and left as placeholders that renderMath()
// fills with KaTeX, which is only downloaded the first time a formula appears.
import { Marked } from 'marked';
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

const langs: Record<string, any> = { bash, c, cpp, css, go, java, javascript, json, python, rust, sql, typescript, xml, yaml };
for (const [name, lang] of Object.entries(langs)) hljs.registerLanguage(name, lang);
hljs.registerAliases(['sh', 'shell', 'zsh'], { languageName: 'bash' });
hljs.registerAliases(['js', 'jsx'], { languageName: 'javascript' });
hljs.registerAliases(['ts', 'tsx'], { languageName: 'typescript' });
hljs.registerAliases(['py'], { languageName: 'python' });
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' });
hljs.registerAliases(['c++', 'cc', 'h', 'hpp'], { languageName: 'cpp' });
hljs.registerAliases(['yml'], { languageName: 'yaml' });
hljs.registerAliases(['rs'], { languageName: 'rust' });

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    code({ text, lang }) {
      const l = (lang || '').trim().split(/\s+/)[0].toLowerCase();
      let body: string;
      if (l && hljs.getLanguage(l)) {
        body = hljs.highlight(text, { language: l, ignoreIllegals: true }).value;
      } else {
        body = escapeHtml(text);
      }
      return `<pre><code class="hljs${l ? ` language-${escapeHtml(l)}` : ''}">${body}</code></pre>\n`;
    },
  },
});

const MATH = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|(?<![\\$\w])\$(?!\s)([^$\n]+?)(?<!\s)\$(?![\w$])/g;
const FENCE = /(```[\s\S]*?(?:```|$)|`[^`\n]*`)/g;

// Splits out math (outside code) and returns markdown with placeholders plus the formulas.
export function extractMath(src: string): { text: string; math: { tex: string; display: boolean }[] } {
  const math: { tex: string; display: boolean }[] = [];
  const parts = src.split(FENCE);
  for (let i = 0; i < parts.length; i += 2) {
    parts[i] = parts[i].replace(MATH, (_m, d1, d2, i1, i2) => {
      const display = d1 !== undefined || d2 !== undefined;
      math.push({ tex: (d1 ?? d2 ?? i1 ?? i2).trim(), display });
      return `\uE000M${math.length - 1}\uE001`;
    });
  }
  return { text: parts.join(''), math };
}

export function renderMarkdown(src: string): string {
  const { text, math } = extractMath(src);
  let html = marked.parse(text, { async: false }) as string;
  html = html.replace(/\uE000M(\d+)\uE001/g, (_m, i) => {
    const f = math[Number(i)];
    const tag = f.display ? 'div' : 'span';
    return `<${tag} class="math${f.display ? ' math-display' : ''}" data-tex="${escapeHtml(f.tex)}">${escapeHtml(f.tex)}</${tag}>`;
  });
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, ADD_ATTR: ['data-tex'] });
}

let katexLoad: Promise<typeof import('katex')> | null = null;

export async function renderMath(root: HTMLElement): Promise<void> {
  const nodes = root.querySelectorAll<HTMLElement>('.math[data-tex]:not([data-done])');
  if (nodes.length === 0) return;
  if (!katexLoad) {
    katexLoad = Promise.all([import('katex'), import('katex/dist/katex.min.css')]).then(([k]) => k);
  }
  const katex = (await katexLoad).default;
  for (const n of nodes) {
    try {
      katex.render(n.dataset.tex || '', n, { displayMode: n.classList.contains('math-display'), throwOnError: false, trust: false });
    } catch {
      /* leave the source text */
    }
    n.dataset.done = '1';
  }
}
