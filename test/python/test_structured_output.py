import json
import os

import pytest

import r1

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 8}, "age": {"type": "integer"},
                   "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 3}},
    "required": ["name", "age"],
}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_response_format_json_schema(session, seed):
    stream = session.generate("Once upon a time", temperature=1.0, seed=seed, max_new_tokens=400,
                              response_format={"type": "json_schema", "json_schema": {"schema": SCHEMA}})
    text = "".join(e.text for e in stream)
    result = stream.result
    assert result.stop_reason == r1.StopReason.END_OF_GENERATION
    answer = json.loads(text)
    assert list(answer)[:2] == ["name", "age"]
    assert isinstance(answer["name"], str) and len(answer["name"]) <= 8
    assert isinstance(answer["age"], int)
    assert set(answer.get("tags", [])) <= {"a", "b"}


def test_json_object_and_grammar(session):
    # A storyteller fills an open-ended object with dialogue until the limit: it must still
    # be the start of one, and a finished one must parse.
    stream = session.generate("Once", temperature=1.0, seed=4, max_new_tokens=100,
                              response_format={"type": "json_object"})
    list(stream)
    assert stream.result.content.startswith("{")
    if stream.result.stop_reason == r1.StopReason.END_OF_GENERATION:
        assert isinstance(json.loads(stream.result.content), dict)
    else:
        assert stream.result.stop_reason == r1.StopReason.MAX_TOKENS
    stream = session.generate("Once", seed=4, max_new_tokens=10, grammar='root ::= "yes" | "no"')
    list(stream)
    assert stream.result.content in ("yes", "no")


def test_options_carry_the_format():
    opts = r1.GenerateOptions(response_format={"type": "json_schema", "json_schema": {"schema": SCHEMA}})
    assert json.loads(opts.json_schema) == SCHEMA
    assert list(json.loads(opts.json_schema)["properties"]) == ["name", "age", "tags"]  # order kept
    assert opts.response_format == {"type": "json_schema", "json_schema": {"schema": SCHEMA}}
    opts.response_format = {"type": "json_object"}
    assert opts.json_schema == "" and opts.grammar
    assert opts.response_format == {"type": "json_object"}
    opts.response_format = None
    assert opts.grammar == "" and opts.response_format is None
    with pytest.raises(ValueError):
        opts.response_format = {"type": "yaml"}


def test_bad_grammar_is_a_clear_error(session):
    with pytest.raises(ValueError, match="line 2"):
        list(session.generate("Once", max_new_tokens=4, grammar='root ::= "a" |\n  ('))
    with pytest.raises(ValueError, match="pattern"):
        list(session.generate("Once", max_new_tokens=4, response_format={
            "type": "json_schema", "json_schema": {"schema": {"type": "string", "pattern": "a+"}}}))


TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "The weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}},
                   "required": ["city"]}}}]


def test_tool_call_round_trip(shared_dir):
    model = r1.Model(os.path.join(shared_dir, "reference", "qwen2-dev.F32.gguf"), n_threads=2)
    session = r1.Session(model, n_ctx=2048, n_threads=2)
    ask = [{"role": "user", "content": "Weather in Paris?"}]
    stream = session.chat(ask, chat_template="deepseek-r1-distill", tools=TOOLS, tool_choice="required",
                          reasoning_budget=4, temperature=1.0, seed=3, max_new_tokens=300)
    list(stream)
    calls = stream.result.tool_calls
    assert len(calls) == 1
    assert calls[0]["type"] == "function"
    assert calls[0]["function"]["name"] == "get_weather"
    assert isinstance(json.loads(calls[0]["function"]["arguments"])["city"], str)
    assert "get_weather" not in stream.result.content  # the call is not content

    conversation = ask + [{"role": "assistant", "content": None, "tool_calls": calls},
                          {"role": "tool", "tool_call_id": calls[0]["id"], "content": '{"celsius": 21}'}]
    answer = session.chat(conversation, chat_template="deepseek-r1-distill", tools=TOOLS, max_new_tokens=8)
    list(answer)
    assert answer.result.n_prompt_tokens > stream.result.n_prompt_tokens

    opts = r1.GenerateOptions(tools=TOOLS, tool_choice={"type": "function", "function": {"name": "get_weather"}})
    assert opts.tool_choice == "get_weather"
    assert opts.tools[0]["function"]["parameters"]["required"] == ["city"]
    with pytest.raises(ValueError, match="tools\\[0\\]"):
        r1.GenerateOptions(tools=[{"type": "function", "function": {"description": "no name"}}])
