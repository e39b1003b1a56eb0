import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSchema, type DatasetRecord, type DatasetTask } from '../dataset-types.js';
import { validateRow } from './row-validator.js';

function reason(task: DatasetTask, record: DatasetRecord, schema = defaultSchema(task)): string | undefined {
  return validateRow(record, task, schema, 7)?.reason;
}

describe('validateRow', () => {
  it('classification: needs an input and a string or integer label', () => {
    assert.equal(reason('classification', { text: 'good', label: 'pos' }), undefined);
    assert.equal(reason('classification', { text: 'good', label: 3 }), undefined);
    assert.equal(
      reason('classification', { text: '', label: 'pos' }),
      undefined,
      'an empty input is completeness, not an error',
    );
    assert.deepEqual(validateRow({ text: 'good' }, 'classification', defaultSchema('classification'), 7), {
      line: 7,
      field: 'label',
      reason: 'missing label field "label"',
    });
    assert.equal(reason('classification', { text: 'good', label: null }), 'missing label field "label"');
    assert.equal(
      reason('classification', { text: 'good', label: 1.5 }),
      'label field "label" must be a non-empty string or an integer',
    );
    assert.equal(
      reason('classification', { text: 'good', label: ' ' }),
      'label field "label" must be a non-empty string or an integer',
    );
    assert.equal(
      reason('classification', { text: 'good', label: ['a'] }),
      'label field "label" must be a non-empty string or an integer',
    );
    assert.equal(reason('classification', { label: 'pos' }), 'missing input field "text"');
    assert.equal(
      reason('classification', { text: { nested: true }, label: 'pos' }),
      'input field "text" must be a string, number or boolean',
    );
  });

  it('tabular inputs: one present input is enough; missing ones are completeness', () => {
    const schema = { inputFields: ['age', 'city'], labelField: 'churn' };
    assert.equal(reason('classification', { age: 40, churn: 'yes' }, schema), undefined);
    assert.equal(reason('classification', { age: 40, city: null, churn: 'no' }, schema), undefined);
    assert.equal(reason('classification', { churn: 'no' }, schema), 'missing input fields: none of "age", "city"');
    assert.equal(validateRow({ churn: 'no' }, 'classification', schema)?.field, undefined);
  });

  it('regression: a finite number, or a numeric string from CSV', () => {
    assert.equal(reason('regression', { text: 'x', label: 0.5 }), undefined);
    assert.equal(reason('regression', { text: 'x', label: '-2.5e3' }), undefined);
    assert.equal(reason('regression', { text: 'x' }), 'missing label field "label"');
    for (const label of ['abc', '', ' ', Number.NaN, Number.POSITIVE_INFINITY, true]) {
      assert.equal(
        reason('regression', { text: 'x', label }),
        'label field "label" must be a finite number',
        String(label),
      );
    }
  });

  it('prompt-completion: the completion is a string', () => {
    assert.equal(reason('prompt-completion', { prompt: 'Q', completion: 'A' }), undefined);
    assert.equal(reason('prompt-completion', { prompt: 'Q', completion: '' }), undefined);
    assert.equal(reason('prompt-completion', { prompt: 'Q' }), 'missing label field "completion"');
    assert.equal(
      reason('prompt-completion', { prompt: 'Q', completion: 3 }),
      'label field "completion" must be a string',
    );
    assert.equal(reason('prompt-completion', { completion: 'A' }), 'missing input field "prompt"');
  });

  it('causal-lm: the text is a string', () => {
    assert.equal(reason('causal-lm', { text: 'once upon a time' }), undefined);
    assert.equal(reason('causal-lm', { text: '' }), undefined);
    assert.equal(reason('causal-lm', {}), 'missing text field "text"');
    assert.equal(reason('causal-lm', { text: 42 }), 'text field "text" must be a string');
  });

  it('chat: a non-empty list of well-formed messages with an assistant turn', () => {
    const ok = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ],
    };
    assert.equal(reason('chat', ok), undefined);
    const toolCall = {
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: '1', type: 'function' }] },
        { role: 'tool', content: '{"temp": 20}' },
        { role: 'assistant', content: 'It is 20 degrees.' },
      ],
    };
    assert.equal(reason('chat', toolCall), undefined);
    assert.equal(reason('chat', {}), 'missing messages field "messages"');
    assert.equal(reason('chat', { messages: [] }), 'field "messages" must be a non-empty array of messages');
    assert.equal(reason('chat', { messages: 'hi' }), 'field "messages" must be a non-empty array of messages');
    assert.equal(reason('chat', { messages: ['hi'] }), 'message 1 must be an object with role and content');
    assert.equal(
      reason('chat', { messages: [{ role: 'robot', content: 'x' }] }),
      'message 1: role must be one of system, user, assistant, tool',
    );
    assert.equal(
      reason('chat', {
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: 5 },
        ],
      }),
      'message 2: content must be a string',
    );
    assert.equal(
      reason('chat', { messages: [{ role: 'user', content: 'x' }, { role: 'assistant' }] }),
      'message 2: content must be a string',
    );
    assert.equal(
      reason('chat', { messages: [{ role: 'user', content: 'x' }] }),
      'field "messages" has no assistant message',
    );
  });

  it('rejects records that are not objects', () => {
    assert.equal(reason('causal-lm', [] as unknown as DatasetRecord), 'row must be a JSON object');
  });
});
