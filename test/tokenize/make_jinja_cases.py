#!/usr/bin/env python3
"""Writes data/jinja_cases.json: small Jinja templates covering r1's Jinja subset, each with a
context and the text Jinja2 renders for it (or the error it raises), in the environment
transformers renders chat templates with: a sandbox, trim_blocks and lstrip_blocks on, loop
controls, raise_exception, and tojson as json.dumps(ensure_ascii=False).

Run from the repository root with Jinja2 installed (Debian: python3-jinja2):
    python3 test/tokenize/make_jinja_cases.py
"""
import json
import os

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


ENV = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                    extensions=[loopcontrols])
ENV.filters["tojson"] = tojson
ENV.globals["raise_exception"] = raise_exception

MSGS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "  Hi there  "},
    {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHello!"},
    {"role": "user", "content": "Ünïcödé ✓ \"quoted\"\n"},
]

CASES = [
    ("whitespace control",
     "a\n{% if true %}\n  b\n{% endif %}\n  {% if true %}c{% endif %}\n"
     "d {{- ' e ' -}} f\n  {#- note -#}\n  g\n    {# comment #}\nh\n"
     "  {%+ if true %}i{% endif %}\n{%- if true -%}\n   j   \n{%- endif %}\nk {{ 'l' }}\n", {}),
    ("if elif else",
     "{% for x in [1, 2, 3, 0] %}{% if x == 1 %}one{% elif x == 2 %}two{% elif x %}many"
     "{% else %}none{% endif %},{% endfor %}", {}),
    ("loop variables",
     "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/"
     "{{ loop.revindex0 }}/{{ loop.length }}{% if loop.first %}F{% endif %}"
     "{% if loop.last %}L{% endif %}:{{ m.role }}"
     "{% if loop.previtem is defined %}<{{ loop.previtem.role }}{% endif %}"
     "{% if loop.nextitem is defined %}>{{ loop.nextitem.role }}{% endif %};{% endfor %}",
     {"messages": MSGS}),
    ("for else, filter and loop controls",
     "{% for x in [] %}x{% else %}empty{% endfor %}|"
     "{% for m in messages if m.role == 'user' %}{{ loop.index }}/{{ loop.length }} {% endfor %}|"
     "{% for x in range(10) %}{% if x is odd %}{% continue %}{% endif %}{% if x > 6 %}"
     "{% break %}{% endif %}{{ x }}{% endfor %}|"
     "{% for c in 'añb' %}[{{ c }}]{% endfor %}|{% for k in {'p': 1, 'q': 2} %}{{ k }}{% endfor %}",
     {"messages": MSGS}),
    ("tuple unpacking",
     "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}"
     "{% for k, v in d|items %}{{ k }}:{{ v }};{% endfor %}"
     "{% for a, b in [[1, 2], (3, 4)] %}{{ a + b }}{% endfor %}"
     "{% set x, y = 5, 6 %}{{ x * y }}",
     {"d": {"b": 2, "a": 1, "c": [1, "x"]}}),
    ("set, block set and namespace",
     "{% set greeting = 'hi' %}{% set ns = namespace(count=0, last='') %}"
     "{% for m in messages %}{% set greeting = 'inner' %}{% set ns.count = ns.count + 1 %}"
     "{% set ns.last = m.role %}{% endfor %}{{ greeting }} {{ ns.count }} {{ ns.last }}\n"
     "{% set block %}\n  [{{ greeting|upper }}]\n{% endset %}{{ block }}|{{ block|length }}",
     {"messages": MSGS}),
    ("macros",
     "{% macro tag(name, body='-', close=true) %}<{{ name }}>{{ body }}"
     "{% if close %}</{{ name }}>{% endif %}{% endmacro %}"
     "{{ tag('a') }}{{ tag('b', 'x') }}{{ tag('c', close=false) }}{{ tag(body='y', name='d') }}"
     "{% macro render(m) %}{{ m.role|upper }}: {{ m.content|trim }}{% endmacro %}"
     "{% for m in messages %}{{ render(m) }}\n{% endfor %}",
     {"messages": MSGS}),
    ("literals and printing",
     "{{ 1 }} {{ -2 }} {{ 1.5 }} {{ 2.0 }} {{ 1e3 }} {{ 1.0e-7 }} {{ true }} {{ False }} {{ none }} "
     "{{ 'a' 'b' }} {{ \"it's\" }} {{ [1, 'two', none, true, 1.25, [3]] }} "
     "{{ {'k': 'v', 'n': 1} }} {{ ('t', 1) }} {{ 'tab\\tnl\\nq\\'' }} {{ [\"x'y\", 'a\\\\b'] }}",
     {}),
    ("arithmetic and comparisons",
     "{{ 7 + 3 }} {{ 7 - 10 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 6 / 3 }} {{ 7 // 2 }} {{ -7 // 2 }} "
     "{{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1.5 + 1 }} {{ 'ab' + 'cd' }} "
     "{{ [1] + [2, 3] }} {{ 'ab' * 3 }} {{ 1 ~ 2 ~ 'x' ~ none }} {{ 1 < 2 }} {{ 2 <= 1 }} "
     "{{ 'b' > 'a' }} {{ 3 >= 3.0 }} {{ 1 == 1.0 }} {{ 'a' != 'a' }} {{ [1, 2] == [1, 2] }} "
     "{{ -(3 - 5) }} {{ 2 + 3 * 4 }} {{ (2 + 3) * 4 }} {{ 10 - 2 - 3 }}",
     {}),
    ("chained comparisons and brackets",
     "{{ 1 < 2 < 3 }} {{ 3 > 2 > 1 }} {{ 1 < 3 > 2 }} {{ 1 == 1 != 2 }} {{ 1 < 2 > 5 }} "
     "{{ 'a' in 'abc' in 'xabcx' }} {{ {'a': {'b': [1, {'c': None}]}}|tojson(indent=4) }} "
     "{{ {'k': {'v': 1}}['k'] }} {{ (1, 2)|list }} {{ (1,) }} {{ () }} {{ [] }} {{ {} }}",
     {}),
    ("logic, membership and conditional expressions",
     "{{ true and false }} {{ 0 or 'x' }} {{ '' and 'y' }} {{ not 0 }} {{ not [] and 1 }} "
     "{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} "
     "{{ 'yes' if 1 > 0 else 'no' }} {{ 'yes' if 0 else 'no' }} [{{ 'a' if false }}] "
     "{{ 1 if none else 2 if true else 3 }} {{ not 'a' in 'abc' }}",
     {}),
    ("attribute, subscript and slices",
     "{{ messages[0].role }} {{ messages[-1]['role'] }} {{ messages[1].content[2:4] }} "
     "{{ 'abcdef'[::-1] }} {{ 'abcdef'[1:] }} {{ 'abcdef'[:-2] }} {{ 'abcdef'[::2] }} "
     "{{ 'abcdef'[-3:-1] }} {{ [1, 2, 3, 4][::-1] }} {{ [1, 2, 3, 4][1:3] }} {{ 'añb'[1] }} "
     "{{ 'añb'[::-1] }} [{{ messages[9] }}] [{{ messages[0].missing }}] {{ d.nested.key }} "
     "{{ d['nested']['key'] }} {{ messages.0.role }} {{ 'abc'[-1] }} {{ [1, 2, 3][5:] }}",
     {"messages": MSGS, "d": {"nested": {"key": "v"}}}),
    ("undefined values",
     "[{{ nope }}] {{ nope is defined }} {{ nope is undefined }} {{ nope|default('dflt') }} "
     "{{ ''|default('e') }} {{ ''|default('e', true) }} {{ none|d('n') }} {{ nope|length }} "
     "{% for x in nope %}x{% else %}no items{% endfor %} {{ 'x' in nope }} {{ not nope }} "
     "{{ nope == none }} {{ nope ~ 'cat' }} {% if nope %}t{% else %}f{% endif %}",
     {}),
    ("tests",
     "{{ none is none }} {{ 1 is none }} {{ 'a' is string }} {{ 1 is string }} "
     "{{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} "
     "{{ 1 is iterable }} {{ 1 is number }} {{ 1.5 is number }} {{ 'a' is number }} "
     "{{ 1 is integer }} {{ 1.0 is integer }} {{ 1.0 is float }} {{ true is boolean }} "
     "{{ 0 is boolean }} {{ 3 is odd }} {{ 3 is even }} {{ 9 is divisibleby 3 }} "
     "{{ 9 is divisibleby(4) }} {{ 1 is eq 1 }} {{ 'a' is equalto 'a' }} {{ 2 is gt 1 }} "
     "{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'Abc' is lower }} {{ 1 is not none }} "
     "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 'b' is in 'abc' }} "
     "{{ 1 is sequence }} {{ 'x' is sequence }} {{ none is sameas none }}",
     {}),
    ("string filters",
     "[{{ '  pad  '|trim }}] [{{ 'xxpadxx'|trim('x') }}] {{ 'MiXed ñ'|upper }} "
     "{{ 'MiXed Ñ'|lower }} {{ 'hello WORLD'|capitalize }} {{ 'hello wide-world (of x)'|title }} "
     "{{ 'a-b-c'|replace('-', '+') }} {{ 'a-b-c'|replace('-', '', 1) }} {{ 'añb'|length }} "
     "{{ 'abc'|first }} {{ 'abc'|last }} {{ 'abc'|list }} {{ 42|string ~ '!' }} "
     "{{ 'x'|safe }} {{ 'abc'|reverse }} {{ 'a\\nb\\n\\nc'|indent(2) }} "
     "{{ 'a\\nb'|indent(3, true) }} {{ 'abc'|count }}",
     {}),
    ("list and dict filters",
     "{{ [3, 1, 2]|join(', ') }} {{ [1, 2]|join }} {{ messages|map(attribute='role')|join('/') }} "
     "{{ ['a', 'b']|map('upper')|list }} {{ messages|selectattr('role', 'equalto', 'user')|list|length }} "
     "{{ messages|rejectattr('role', 'eq', 'user')|map(attribute='role')|list }} "
     "{{ [0, 1, 2, none, 3]|select|list }} {{ [1, 2, 3, 4]|select('odd')|list }} "
     "{{ [1, 2, 3, 4]|reject('even')|list }} {{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} "
     "{{ [1, 2, 3]|length }} {{ {'a': 1}|length }} {{ {'a': 1, 'b': 2}|items|list }} "
     "{{ {'a': 1}|list }} {{ [1, 2]|reverse|list }} {{ messages|selectattr('tool_calls', 'defined')|list|length }} "
     "{{ messages|map(attribute='missing', default='?')|join }} "
     "{{ messages|join(',', attribute='role') }}",
     {"messages": MSGS}),
    ("number filters",
     "{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ true|int }} "
     "{{ '2.5'|float }} {{ 3|float }} {{ 'y'|float }} {{ -3|abs }} {{ -2.5|abs }} "
     "{{ 2.567|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.1|round(0, 'ceil') }} "
     "{{ 2.9|round(method='floor') }} {{ 7|round }} {{ -(4)|abs }}",
     {}),
    ("tojson",
     "{{ value|tojson }}\n{{ value|tojson(indent=2) }}\n{{ [1, [2, []], {}]|tojson(2) }}\n"
     "{{ 'ünï \"q\" \\\\ \\n \\t \\x01'|tojson }} {{ none|tojson }} {{ 1.5|tojson }} "
     "{{ true|tojson }} {{ [1, 'a']|tojson }} {{ 'ü😀'|tojson(true) }} {{ {'k': [1]}|tojson(indent=1) }}",
     {"value": {"name": "get_weather", "arguments": {"city": "Zürich", "days": 3,
                                                    "units": None, "ok": True,
                                                    "scale": 0.5, "tags": ["a", "b"]}}}),
    ("string methods",
     "[{{ '  s  '.strip() }}] [{{ '  s  '.lstrip() }}] [{{ '  s  '.rstrip() }}] "
     "[{{ 'xxsxx'.strip('x') }}] [{{ '\\n\\ns'.lstrip('\\n') }}] {{ 'a,b,,c'.split(',') }} "
     "{{ ' a  b \\n c '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'hello'.startswith('he') }} "
     "{{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.endswith('lo') }} {{ 'hello'.endswith('x') }} "
     "{{ 'MiX'.upper() }} {{ 'MiX'.lower() }} {{ 'a.b.c'.replace('.', '/') }} "
     "{{ 'hello world'.title() }} {{ 'hello'.capitalize() }} {{ '-'.join(['a', 'b']) }} "
     "{{ 'hello'.find('l') }} {{ 'hello'.count('l') }} "
     "{{ messages[2].content.split('</think>')[-1].lstrip() }}",
     {"messages": MSGS}),
    ("dict methods",
     "{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.keys()|list }} "
     "{{ d.values()|list }} {{ d.items()|list }} {% for k in d.keys() %}{{ k }}{% endfor %} "
     "{{ dict(x=1, y='2') }} {{ namespace(a=1).a }}",
     {"d": {"a": 1, "b": [2], "c": {"d": None}}}),
    ("raw and comments",
     "{% raw %}{{ not rendered }} {% if %}{% endraw %}\n{# a comment {{ with tags }} #}x", {}),
    ("chat template with tool calls",
     "{%- if messages[0]['role'] == 'system' %}\n"
     "    {%- set system_message = messages[0]['content'] %}\n"
     "    {%- set loop_messages = messages[1:] %}\n"
     "{%- else %}\n"
     "    {%- set loop_messages = messages %}\n"
     "{%- endif %}\n"
     "{{- bos_token }}\n"
     "{%- if system_message is defined %}\n"
     "    {{- '[SYS]' + system_message + '[/SYS]' }}\n"
     "{%- endif %}\n"
     "{%- for message in loop_messages %}\n"
     "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
     "        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}\n"
     "    {%- endif %}\n"
     "    {%- if message['role'] == 'user' %}\n"
     "        {{- '[INST] ' + message['content'] | trim + ' [/INST]' }}\n"
     "    {%- elif message['role'] == 'assistant' %}\n"
     "        {%- if message.tool_calls is defined and message.tool_calls %}\n"
     "            {{- '[TOOL_CALLS]' + message.tool_calls | tojson }}\n"
     "        {%- else %}\n"
     "            {{- ' ' + message['content'] | trim + eos_token }}\n"
     "        {%- endif %}\n"
     "    {%- endif %}\n"
     "{%- endfor %}\n"
     "{%- if add_generation_prompt %}{{ '<gen>' }}{% endif %}\n",
     {"messages": [MSGS[0], MSGS[1],
                   {"role": "assistant", "content": "",
                    "tool_calls": [{"name": "f", "arguments": {"x": 1}}]},
                   MSGS[3]],
      "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": True}),
    ("raise_exception",
     "{% for m in messages %}{% if m.role not in ['user', 'assistant'] %}"
     "{{ raise_exception('Unsupported role: ' + m.role) }}{% endif %}{% endfor %}",
     {"messages": MSGS}),
    ("attribute of undefined", "{{ nope.attr }}", {}),
    ("arithmetic on undefined", "{{ nope + 1 }}", {}),
]


def main():
    out = []
    for name, source, context in CASES:
        case = {"name": name, "template": source, "context": context}
        try:
            case["output"] = ENV.from_string(source).render(**context)
        except jinja2.exceptions.UndefinedError as e:
            case["error"] = "undefined"
        except jinja2.exceptions.TemplateError as e:
            case["error"] = str(e)
        out.append(case)
    path = os.path.join(os.path.dirname(__file__), "data", "jinja_cases.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"generator": "make_jinja_cases.py", "jinja2": jinja2.__version__,
                   "cases": out}, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
