#!/usr/bin/env python3
"""Writes jinja_cases.json: template snippets rendered by Python Jinja2 with HF's
apply_chat_template environment (trim_blocks, lstrip_blocks, loopcontrols, tojson =
json.dumps(ensure_ascii=False), raise_exception). The C++ interpreter must give the same
output (or fail where Jinja2 fails). Needs python3-jinja2 (Debian); run:
    python3 make_jinja_cases.py > jinja_cases.json
"""
import json
import sys

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                    extensions=["jinja2.ext.loopcontrols"])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

CONTEXT = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Hi <b>"}]},
        {"role": "assistant", "content": "<think>\nplan\n</think>\n\nHello!",
         "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"x": 1, "y": [True, None, 2.5]}}}]},
        {"role": "tool", "content": "42"},
    ],
    "tools": [{"name": "f", "description": "Zürich \"quoted\"\n", "n": 3}],
    "flag": True, "off": False, "nothing": None, "n": 7, "f": 2.5, "s": "  Hello World  ",
    "words": ["b", "A", "c", "a"], "nums": [3, 1, 2], "d": {"b": 1, "a": 2, "items": "key"},
    "uni": "héllo wörld ß", "empty": [], "nested": {"a": {"b": {"c": "deep"}}},
}

CASES = [
    # text, whitespace control, trim_blocks / lstrip_blocks
    "plain text",
    "a\n{% if true %}\nb\n{% endif %}\nc\n",
    "  {% if true %}\n  x\n  {% endif %}\ny",
    "a  {%- if true -%}  b  {%- endif -%}  c",
    "a {{- 1 -}} b",
    "  {%+ if true %}x{% endif %}",
    "x {# comment #}\ny\n  {# indented comment #}\nz",
    "a {#- c -#} b",
    "line1\r\nline2\r\n",
    "{% if true %}x{% endif +%}\ny",
    "{{ 'a' }}\n{{ 'b' }}\n",
    "\t{% if true %}\n\tx\n{% endif %}",
    # literals and printing
    "{{ 1 }} {{ -2 }} {{ 1.5 }} {{ 1e3 }} {{ 2.0 }} {{ 1_000 }}",
    "{{ true }} {{ false }} {{ none }} {{ True }} {{ None }}",
    "{{ 'it''s' }} {{ \"a\" 'b' }}",
    "{{ 'tab\\there\\n' }}|{{ '\\u00e9\\x41\\101' }}|{{ '\\q' }}",
    "{{ [1, 'a', none, true, 2.5] }}",
    "{{ {'k': 'v', 'n': [1]} }}",
    "{{ ('a', 1) }} {{ ('a',) }} {{ () }}",
    "{{ [\"it's\", 'say \"hi\"', 'both \\' \"'] }}",
    "{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e-5 }} {{ 123456789.0 }} {{ 1/3 }}",
    "{{ undefined_var }}|{{ nothing }}|{{ d.missing }}",
    # arithmetic
    "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }}",
    "{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 + 2.5 }} {{ 3 * 1.5 }} {{ true + 1 }}",
    "{{ 'ab' * 3 }} {{ 3 * 'x' }} {{ [1] * 3 }} {{ 'a' * -1 }}|",
    "{{ 'a' ~ 1 ~ none ~ true ~ [1] }}",
    "{{ 'a' + 'b' }} {{ [1] + [2, 3] }}",
    "{{ 1 + 2 * 3 - 4 / 2 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }}",
    "{{ n - 10 | abs }} {{ -n | abs }}",
    # comparisons and logic
    "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ 'a' != 'a' }}",
    "{{ 1 and 'x' }} {{ 0 and 'x' }} {{ '' or 'y' }} {{ 'z' or 'y' }} {{ not 0 }} {{ not [] }}",
    "{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'a' in d }} {{ 'z' not in d }} {{ 3 not in nums }}",
    "{{ 'yes' if flag else 'no' }} {{ 'yes' if off else 'no' }} [{{ 'x' if off }}]",
    "{{ not flag and off or 'fallback' }}",
    "{% if not(flag and off) %}ok{% endif %}",
    # variables, attributes, items, slicing
    "{{ messages[0].role }} {{ messages[0]['content'] }} {{ messages[-1].content }} {{ messages.0.role }}",
    "{{ nested.a.b.c }} {{ nested['a']['b'] }} {{ messages[10] }}|",
    "{{ d['items'] }}",
    "{{ words[1:3] }} {{ words[::-1] }} {{ words[-2:] }} {{ words[::2] }} {{ 'hello'[1:-1] }} {{ uni[::-1] }}",
    "{{ 'hello'[0] }} {{ 'hello'[-1] }} {{ uni[1] }} {{ uni | length }}",
    "{{ nums[5:1:-1] }} {{ nums[:] }} {{ 'abcdef'[-100:100:2] }}",
    # set, namespace, scoping
    "{% set x = 1 %}{% set y, z = [2, 3] %}{{ x }}{{ y }}{{ z }}",
    "{% set x = 1 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}",
    "{% set ns = namespace(total=0, items=[]) %}{% for i in nums %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}",
    "{% set ns = namespace(a=1) %}{% set ns.b = 2 %}{{ ns.a }}{{ ns.b }}{{ ns.c }}|",
    "{% if true %}{% set inner = 'set in if' %}{% endif %}{{ inner }}",
    "{% set block %}captured {{ n }}{% endset %}[{{ block }}]",
    "{% set up | upper %}shout{% endset %}{{ up }}",
    "{% set t = (1, 2) %}{{ t }}{% set a, b = t %}{{ a + b }}",
    # loops
    "{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }},{% endfor %}",
    "{% for x in nums %}{{ loop.previtem }}-{{ x }}-{{ loop.nextitem }};{% endfor %}",
    "{% for x in empty %}never{% else %}empty{% endfor %}",
    "{% for x in nums if x > 1 %}{{ x }}{{ loop.index }}/{{ loop.length }} {% else %}none{% endfor %}",
    "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
    "{% for k in d %}{{ k }}{% endfor %}",
    "{% for c in 'héllo' %}[{{ c }}]{% endfor %}",
    "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}",
    "{% for x in nums %}{{ loop.cycle('odd', 'even') }}{% endfor %}",
    "{{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ range(5, 0, -2) | list }} {{ range(0) | list }}",
    # tests
    "{{ n is defined }} {{ zz is defined }} {{ zz is undefined }} {{ nothing is none }} {{ n is number }} {{ f is float }} {{ n is integer }}",
    "{{ s is string }} {{ d is mapping }} {{ nums is sequence }} {{ nums is iterable }} {{ n is iterable }} {{ flag is boolean }}",
    "{{ flag is true }} {{ 1 is true }} {{ off is false }} {{ n is odd }} {{ n is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }}",
    "{{ n is equalto 7 }} {{ n is eq 7 }} {{ n is ne 7 }} {{ 'a' is lower }} {{ 'A' is upper }} {{ n is not none }} {{ 2 is in nums }}",
    "{{ n is gt 3 }} {{ n is lt 3 }} {{ n is ge 7 }} {{ n is le 6 }} {{ n is sameas 7 }} {{ raise_exception is callable }}",
    # filters
    "{{ s | trim }}|{{ s | length }}|{{ s | lower }}|{{ s | upper }}|{{ 'hELLO wORLD' | capitalize }}|{{ 'hello big-world' | title }}",
    "{{ uni | upper }}|{{ 'ÉCOLE' | lower }}|{{ 'xxhixx' | trim('x') }}",
    "{{ nums | first }} {{ nums | last }} {{ 'abc' | first }} {{ 'abc' | last }} {{ empty | first }}|",
    "{{ words | join }} {{ words | join(', ') }} {{ messages | join('|', attribute='role') }} {{ nums | join('-') }}",
    "{{ zz | default('dflt') }} {{ nothing | default('dflt') }} {{ '' | default('dflt', true) }} {{ n | d(0) }} {{ zz | default }}|",
    "{{ d | items | list }} {{ d | dictsort }} {{ zz | items | list }}",
    "{{ 'a-b-c' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'ab' | replace('', '.') }}",
    "{{ words | sort }} {{ words | sort(reverse=true) }} {{ words | sort(case_sensitive=true) }} {{ nums | sort }}",
    "{{ nums | reverse | list }} {{ 'abc' | reverse }} {{ words | unique | list }} {{ nums | min }} {{ nums | max }} {{ nums | sum }}",
    "{{ messages | map(attribute='role') | list }} {{ words | map('upper') | list }} {{ messages | map(attribute='zz', default='-') | list }}",
    "{{ messages | selectattr('role', 'equalto', 'user') | list | length }} {{ messages | rejectattr('tool_calls') | map(attribute='role') | join(',') }}",
    "{{ messages | selectattr('tool_calls') | map(attribute='role') | first }} {{ nums | select('odd') | list }} {{ nums | reject('odd') | list }} {{ [0, 1, '', 'a'] | select | list }}",
    "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(5) }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 7 | float }} {{ 'q' | float }}",
    "{{ 5 | string }}{{ none | string }}{{ [1, 'a'] | string }}{{ zz | string }}|{{ (s | string) is string }}",
    "{{ 2.567 | round }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 2.1 | round(0, 'ceil') }} {{ -3 | abs }} {{ -2.5 | abs }}",
    "{{ 'line1\nline2\n\nline4' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}",
    "{{ '<a href=\"x\">&</a>' | e }} {{ '<b>' | safe }} {{ 'one two  three' | wordcount }}",
    "{{ nums | length }} {{ d | length }} {{ zz | length }} {{ d | count }}",
    "{{ tools | tojson }}",
    "{{ tools[0] | tojson(indent=2) }}",
    "{{ {'b': 1, 'a': [1.0, 2.5e-7, 'é\\u0001'], 'c': none, 'd': false} | tojson }}",
    "{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }} {{ [] | tojson }} {{ {} | tojson }} {{ 'x\"y\\\\z\\t' | tojson }}",
    "{{ messages[2].tool_calls[0].function.arguments | tojson }}",
    "{{ nested | list }} {{ 'ab' | list }} {{ nested.a | attr('b') }}",
    # string methods
    "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\n\nabc\n'.lstrip('\n') }}|{{ '\n\nabc\n'.rstrip('\n') }}",
    "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ '  x  y '.rsplit(None, 1) }}",
    "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.endswith('x') }}",
    "{{ 'Hello'.upper() }} {{ 'Hello'.lower() }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'a-b'.replace('-', '') }}",
    "{{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ ', '.join(words) }}",
    "{{ '123'.isdigit() }} {{ 'abc'.isalpha() }} {{ '   '.isspace() }} {{ 'a1'.isalnum() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }}",
    "{{ 'a\nb\r\nc'.splitlines() }}",
    "{% set c = messages[2].content %}{{ c.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') }}|{{ c.split('</think>')[-1].lstrip('\n') }}",
    "{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }}",
    # macros and call blocks
    "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C', punct='.') }}",
    "{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k }}*{{ fact(k - 1) }}{% endif %}{% endmacro %}{{ fact(5) }}",
    "{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inside {{ n }}{% endcall %}",
    "{% macro item(x) %}<{{ caller(x * 2) }}>{% endmacro %}{% call(v) item(21) %}v={{ v }}{% endcall %}",
    "{% macro uses_global() %}{{ n }}{% endmacro %}{{ uses_global() }}",
    # filter blocks, generation
    "{% filter upper %}quiet {{ 'words' }}{% endfilter %}",
    # dict and list literals
    "{{ {'a': 1, 'b': {'c': [1, 2]}}['b']['c'][1] }} {{ [[1, 2], [3]][0][1] }} {{ {'a': 1}.a }}",
    "{{ dict(a=1, b='x') }} {{ namespace(a=1).a }}",
    # errors
    "{{ raise_exception('custom failure') }}",
    "{{ undefined_var.attr }}",
    "{{ 1 / 0 }}",
    "{{ 1 + 'a' }}",
    "{{ 1 < 'a' }}",
    "{% for x in 5 %}{% endfor %}",
    "{% if true %}unterminated",
    "{{ 'unterminated }}",
    "{{ x | nosuchfilter }}",
    "{{ x is nosuchtest }}",
    "{% nosuchtag %}",
    "{% set x = %}",
    "{{ (1 }}",
    "{% endfor %}",
    "{{ 1 2 }}",
    "{% set n.attr = 1 %}",
]


def main():
    out = []
    for template in CASES:
        case = {"template": template}
        try:
            case["expected"] = env.from_string(template).render(**CONTEXT)
        except Exception as exc:  # noqa: BLE001 - any Jinja2 failure means "must fail"
            case["error"] = type(exc).__name__
        out.append(case)
    json.dump({"context": CONTEXT, "cases": out}, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
