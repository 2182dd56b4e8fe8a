// The built-in Qwen3-VL Instruct prompt format, written from its documented layout (our spec
// section 6.2): used only for checkpoints that ship no chat template. It is tested to render
// the golden conversations exactly like the checkpoint's own template.
#include <string_view>

#include "model/chat/chat_template.h"

namespace ocular::chat {
namespace {

constexpr std::string_view kBuiltinQwen3VL = R"JINJA(
{#- Text of a message: a plain string, or the concatenated text parts of a list. -#}
{%- macro text_of(content) -%}
  {%- if content is string -%}
    {{- content -}}
  {%- elif content -%}
    {%- for part in content if 'text' in part -%}{{- part.text -}}{%- endfor -%}
  {%- endif -%}
{%- endmacro -%}
{#- User / tool content: text verbatim, images and videos as vision placeholders. -#}
{%- macro visual_content(content) -%}
  {%- if content is string -%}
    {{- content -}}
  {%- elif content -%}
    {%- for part in content -%}
      {%- if part.type == 'image' or 'image' in part or 'image_url' in part -%}
        {%- set counts.image = counts.image + 1 -%}
        {%- if add_vision_id -%}{{- 'Picture ' ~ counts.image ~ ': ' -}}{%- endif -%}
        {{- '<|vision_start|><|image_pad|><|vision_end|>' -}}
      {%- elif part.type == 'video' or 'video' in part -%}
        {%- set counts.video = counts.video + 1 -%}
        {%- if add_vision_id -%}{{- 'Video ' ~ counts.video ~ ': ' -}}{%- endif -%}
        {{- '<|vision_start|><|video_pad|><|vision_end|>' -}}
      {%- elif 'text' in part -%}
        {{- part.text -}}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
{%- endmacro -%}
{%- set counts = namespace(image=0, video=0) -%}
{%- set has_system = messages and messages[0].role == 'system' -%}
{%- if tools -%}
  {{- '<|im_start|>system\n' -}}
  {%- if has_system -%}{{- text_of(messages[0].content) ~ '\n\n' -}}{%- endif -%}
  {{- '# Tools\n\nYou may call one or more functions to assist with the user query.\n\n' -}}
  {{- 'You are provided with function signatures within <tools></tools> XML tags:\n<tools>' -}}
  {%- for tool in tools -%}{{- '\n' ~ (tool | tojson) -}}{%- endfor -%}
  {{- '\n</tools>\n\nFor each function call, return a json object with function name and ' -}}
  {{- 'arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n' -}}
  {{- '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n' -}}
{%- elif has_system -%}
  {{- '<|im_start|>system\n' ~ text_of(messages[0].content) ~ '<|im_end|>\n' -}}
{%- endif -%}
{%- for message in messages -%}
  {%- if message.role == 'user' -%}
    {{- '<|im_start|>user\n' ~ visual_content(message.content) ~ '<|im_end|>\n' -}}
  {%- elif message.role == 'assistant' -%}
    {{- '<|im_start|>assistant\n' ~ text_of(message.content) -}}
    {%- for call in (message.tool_calls or []) -%}
      {%- if not loop.first or message.content -%}{{- '\n' -}}{%- endif -%}
      {%- set fn = call.function if call.function else call -%}
      {{- '<tool_call>\n{"name": "' ~ fn.name ~ '", "arguments": ' -}}
      {{- fn.arguments if fn.arguments is string else (fn.arguments | tojson) -}}
      {{- '}\n</tool_call>' -}}
    {%- endfor -%}
    {{- '<|im_end|>\n' -}}
  {%- elif message.role == 'tool' -%}
    {%- if loop.first or loop.previtem.role != 'tool' -%}{{- '<|im_start|>user' -}}{%- endif -%}
    {{- '\n<tool_response>\n' ~ visual_content(message.content) ~ '\n</tool_response>' -}}
    {%- if loop.last or loop.nextitem.role != 'tool' -%}{{- '<|im_end|>\n' -}}{%- endif -%}
  {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}
)JINJA";

}  // namespace

std::string_view BuiltinQwen3VLTemplateText() { return kBuiltinQwen3VL; }

}  // namespace ocular::chat
