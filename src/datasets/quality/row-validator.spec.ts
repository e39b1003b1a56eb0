import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultSchema, type DatasetRecord, type DatasetTask } from '../dataset-types.js';
import { RowValidator, validateRow } from './row-validator.js';

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
      'input field "text" must be a string, number, boolean or an array of numbers',
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

  it('prompt-completion inputs stay scalars: an array is refused', () => {
    assert.equal(
      reason('prompt-completion', { prompt: [1, 2], completion: 'x' }),
      'input field "prompt" must be a string, number or boolean',
    );
  });
});

describe('RowValidator: vector input fields', () => {
  const schema = { inputFields: ['features'], labelField: 'label' };

  it('accepts fixed-length arrays of finite numbers and holds later rows to the first length', () => {
    const validator = new RowValidator('classification', schema);
    assert.equal(validator.validate({ features: [0, 0.5, 255], label: 3 }, 1), undefined);
    assert.equal(validator.validate({ features: [1, 2, 3], label: 4 }, 2), undefined);
    assert.deepEqual(validator.validate({ features: [1, 2], label: 4 }, 3), {
      line: 3,
      field: 'features',
      reason: 'input field "features" has 2 numbers; earlier rows have 3',
    });
    assert.equal(
      validator.validate({ features: 7, label: 4 }, 4)?.reason,
      'input field "features" must be an array of 3 numbers, as in earlier rows',
    );
  });

  it('names the first element that is not a finite number', () => {
    const validator = new RowValidator('regression', schema);
    assert.equal(
      validator.validate({ features: [1, 'x', 3], label: 1.5 })?.reason,
      'input field "features" must be an array of finite numbers; element 1 is "x"',
    );
    assert.equal(
      validator.validate({ features: [1, Infinity], label: 1.5 })?.reason,
      'input field "features" must be an array of finite numbers; element 1 is Infinity',
    );
    assert.equal(
      validator.validate({ features: [[1, 2]], label: 1.5 })?.reason,
      'input field "features" must be an array of finite numbers; element 0 is an array',
    );
    assert.equal(
      validator.validate({ features: [], label: 1.5 })?.reason,
      'input field "features" is an empty array; a vector needs at least one number',
    );
    // Nothing above established a length: the first valid vector does.
    assert.equal(validator.validate({ features: [1, 2, 3, 4], label: 1 }), undefined);
  });

  it('refuses an array in a field that held single values', () => {
    const validator = new RowValidator('classification', { inputFields: ['x'], labelField: 'label' });
    assert.equal(validator.validate({ x: 1, label: 'a' }), undefined);
    assert.equal(
      validator.validate({ x: [1, 2], label: 'a' })?.reason,
      'input field "x" holds single values in earlier rows, not arrays',
    );
  });

  it('property: rows of one length pass, and a row of any other length fails with its length named', () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        finite,
        (length, otherLengths, value) => {
          const validator = new RowValidator('classification', schema);
          for (const candidate of [length, ...otherLengths]) {
            const problem = validator.validate({ features: new Array<number>(candidate).fill(value), label: 1 });
            if (candidate === length) {
              assert.equal(problem, undefined);
            } else {
              assert.equal(
                problem?.reason,
                `input field "features" has ${candidate} numbers; earlier rows have ${length}`,
              );
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
