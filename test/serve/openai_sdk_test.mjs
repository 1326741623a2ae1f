// `r1 serve` through OpenAI's official Node client: run by run_openai_sdk_test.py with the
// server's URL in R1_BASE_URL, its key in R1_KEY and the client's install folder in
// R1_NODE_DIR. Exits non-zero on the first failed check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.env.R1_NODE_DIR, 'package.json'));
const { OpenAI, AuthenticationError, BadRequestError } = require('openai');

const baseURL = process.env.R1_BASE_URL;
const client = new OpenAI({ baseURL, apiKey: process.env.R1_KEY, maxRetries: 0 });
const request = {
  model: 'qwen2-dev.F32',
  messages: [{ role: 'user', content: 'Why is the sky blue?' }],
  temperature: 0,
  max_tokens: 24,
  reasoning_budget: 6,  // r1's extension; the client passes unknown fields through
};

async function check(name, fn) {
  await fn();
  console.log(`ok - ${name}`);
}

await check('models', async () => {
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['qwen2-dev.F32']);
});

let whole;
await check('chat, not streamed', async () => {
  whole = await client.chat.completions.create(request);
  const message = whole.choices[0].message;
  assert.equal(message.role, 'assistant');
  assert.ok(message.reasoning_content, 'reasoning_content is there');
  assert.ok(message.content, 'content is there');
  assert.equal(whole.choices[0].finish_reason, 'length');
  assert.equal(whole.usage.completion_tokens, 24);
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + 24);
  assert.equal(whole.usage.completion_tokens_details.reasoning_tokens, 6);
});

await check('chat, streamed', async () => {
  const stream = await client.chat.completions.create({ ...request, stream: true,
                                                        stream_options: { include_usage: true } });
  let reasoning = '', content = '', usage = null, finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    if (chunk.choices.length === 0) continue;
    const delta = chunk.choices[0].delta;
    reasoning += delta.reasoning_content ?? '';
    content += delta.content ?? '';
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  assert.equal(reasoning, whole.choices[0].message.reasoning_content);
  assert.equal(content, whole.choices[0].message.content);
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 24);
  assert.equal(usage.prompt_tokens, whole.usage.prompt_tokens);
});

await check('raw completion', async () => {
  const completion = await client.completions.create({ model: 'qwen2-dev.F32', prompt: 'Once upon a time',
                                                       max_tokens: 8, temperature: 0 });
  assert.ok(completion.choices[0].text);
  assert.equal(completion.usage.completion_tokens, 8);
});

await check('a wrong key raises AuthenticationError', async () => {
  const wrong = new OpenAI({ baseURL, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(wrong.chat.completions.create(request), AuthenticationError);
});

await check('a prompt longer than the context raises BadRequestError', async () => {
  const long = { ...request, messages: [{ role: 'user', content: 'blue sky '.repeat(3000) }] };
  await assert.rejects(client.chat.completions.create(long), (e) => {
    assert.ok(e instanceof BadRequestError);
    assert.equal(e.code, 'context_length_exceeded');
    return true;
  });
});

await check('n = 2 raises BadRequestError', async () => {
  await assert.rejects(client.chat.completions.create({ ...request, n: 2 }), BadRequestError);
});

await check('response_format json_schema: the answer parses and has the schema\'s shape', async () => {
  const schema = {
    type: 'object',
    properties: { city: { type: 'string', maxLength: 10 }, population: { type: 'integer' },
                  rainy: { type: 'boolean' } },
    required: ['city', 'population', 'rainy'],
    additionalProperties: false,
  };
  for (const seed of [1, 2, 3]) {
    const reply = await client.chat.completions.create({
      ...request, max_tokens: 400, temperature: 1, seed,
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema, strict: true } },
    });
    const answer = JSON.parse(reply.choices[0].message.content);
    assert.deepEqual(Object.keys(answer), ['city', 'population', 'rainy']);
    assert.equal(typeof answer.city, 'string');
    assert.ok([...answer.city].length <= 10);  // characters, as maxLength counts them
    assert.ok(Number.isInteger(answer.population));
    assert.equal(typeof answer.rainy, 'boolean');
    assert.equal(reply.choices[0].finish_reason, 'stop');
    assert.ok(reply.choices[0].message.reasoning_content, 'the thought is there, unconstrained');
  }
});

await check('response_format, streamed: the same answer as whole', async () => {
  const format = { type: 'json_schema', json_schema: { name: 'flag', schema: {
    type: 'object', properties: { ok: { type: 'boolean' }, n: { type: 'integer' } }, required: ['ok', 'n'] } } };
  const body = { ...request, max_tokens: 400, temperature: 1, seed: 5, response_format: format };
  const whole = await client.chat.completions.create(body);
  const stream = await client.chat.completions.create({ ...body, stream: true });
  let content = '', finish = null;
  for await (const chunk of stream) {
    content += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(content, whole.choices[0].message.content);
  assert.equal(finish, 'stop');
  assert.deepEqual(Object.keys(JSON.parse(content)), ['ok', 'n']);
});

await check('a schema r1 cannot honour raises BadRequestError naming the field', async () => {
  const schema = { type: 'object', properties: { a: { type: 'string', pattern: '^a+$' } } };
  await assert.rejects(client.chat.completions.create({
    ...request, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }), (e) => {
    assert.ok(e instanceof BadRequestError);
    assert.equal(e.param, 'response_format.json_schema.schema');
    return true;
  });
});

await check('tools: a required call comes back as tool_calls, and its result goes back in', async () => {
  const tools = [{
    type: 'function',
    function: {
      name: 'get_weather', description: 'The weather of a city',
      parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 } }, required: ['city'] },
    },
  }];
  const messages = [{ role: 'user', content: 'Weather in Paris?' }];
  const first = await client.chat.completions.create({ ...request, max_tokens: 300, temperature: 1, seed: 3,
                                                       tools, tool_choice: 'required' });
  const choice = first.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
  assert.ok(call.id);

  // Streamed, the call arrives as a tool_calls delta the client's stream helper assembles.
  const completions = client.chat.completions.stream ? client.chat.completions : client.beta.chat.completions;
  const stream = completions.stream({ ...request, max_tokens: 300, temperature: 1, seed: 3,
                                                       tools, tool_choice: 'required' });
  const streamed = await stream.finalChatCompletion();
  assert.deepEqual(streamed.choices[0].message.tool_calls.map((c) => [c.id, c.function.name, c.function.arguments]),
                   [[call.id, call.function.name, call.function.arguments]]);

  const answer = await client.chat.completions.create({
    ...request, max_tokens: 8, tools,
    messages: [...messages, choice.message, { role: 'tool', tool_call_id: call.id, content: '{"celsius": 21}' }],
  });
  assert.ok(answer.usage.prompt_tokens > first.usage.prompt_tokens);
  assert.ok(['length', 'stop', 'tool_calls'].includes(answer.choices[0].finish_reason));

  await assert.rejects(client.chat.completions.create({ ...request, tools,
    tool_choice: { type: 'function', function: { name: 'nope' } } }), BadRequestError);
});
