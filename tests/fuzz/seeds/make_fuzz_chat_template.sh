#!/usr/bin/env bash
# Seed corpus for fuzz_chat_template: the built-in Qwen3-VL template, the golden model's
# template when the golden data is present, and small snippets for each language feature.
# Usage: make_fuzz_chat_template.sh OUTDIR
set -euo pipefail
out="${1:?usage: $0 OUTDIR}"
mkdir -p "$out"
repo="$(cd "$(dirname "$0")/../../.." && pwd)"

# The built-in template, cut out of its C++ raw string.
sed -n '/R"JINJA(/,/)JINJA"/p' "$repo/src/model/chat/builtin_template.cc" |
  sed '1s/.*R"JINJA(//; $s/)JINJA".*//' >"$out/builtin_qwen3vl.jinja"

golden="${OCULAR_GOLDEN_DIR:-$repo/../shared/golden}"
if [ -f "$golden/models/tiny-a/chat_template.json" ] && command -v python3 >/dev/null; then
  python3 -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["chat_template"])' \
    "$golden/models/tiny-a/chat_template.json" >"$out/qwen3vl_instruct.jinja"
fi

i=0
seed() {
  i=$((i + 1))
  printf '%s' "$1" >"$out/snippet_$i.jinja"
}
seed '{{ messages[0].content }}'
seed '{% for m in messages %}{{ loop.index }}{{ m.role }}{% endfor %}'
seed '{% if tools %}{{ tools | tojson }}{% else %}none{% endif %}'
seed '{%- set ns = namespace(n=0) -%}{% for m in messages if m.role != "system" %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}'
seed '{{ messages | selectattr("role", "equalto", "user") | map(attribute="content") | list }}'
seed '{{ "a,b".split(",")[::-1] | join("-") }}{{ " x ".strip() }}{{ "<think>".startswith("<") }}'
seed '{% macro m(x, y=2) %}{{ x ~ y }}{% endmacro %}{{ m(1) }}{% call m(3) %}c{% endcall %}'
seed '{{ 1 + 2 * 3 // 4 % 5 - -6 ** 2 }}{{ "x" if true else "y" }}{{ [1, 2][1:] }}'
seed '{% for k, v in {"a": 1}.items() %}{{ k }}={{ v }}{% else %}e{% endfor %}'
seed '{{ raise_exception("bad") }}'
seed '{% set x %}block{% endset %}{% filter upper %}{{ x }}{% endfilter %}'
seed '{{ range(3) | list | tojson(indent=2) }}{{ "%s" }}{{ none is none }}{{ 3 is odd }}'
seed '{#- comment -#}  {%- if true -%}  x  {%- endif %}
{%+ if false %}{% endif +%}'
seed '{% for i in range(3) %}{% if i == 1 %}{% continue %}{% endif %}{{ loop.previtem }}{% break %}{% endfor %}'
