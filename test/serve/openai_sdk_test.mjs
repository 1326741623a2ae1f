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
