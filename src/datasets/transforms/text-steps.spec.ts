import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DatasetRecord } from '../dataset-types.js';
import { redactPersonalData } from '../privacy/personal-data.js';
import { applyTransforms } from './transform-engine.js';
import { cleanText, stripControlCharacters, stripHtml } from './text-steps.js';
import {
  TransformError,
  type PersonalDataType,
  type RedactFunction,
  type TransformContext,
  type TransformStep,
} from './transform-types.js';

const classification: TransformContext = {
  task: 'classification',
  schema: { inputFields: ['text'], labelField: 'label' },
};

function rowsOf(result: ReturnType<typeof applyTransforms>): DatasetRecord[] {
  return result.outputs[0].rows;
}

/** Redacts emails and runs of 7+ digits, as the real redactor would, and counts them. */
const fakeRedact: RedactFunction = (text, types) => {
  const counts: Partial<Record<PersonalDataType, number>> = {};
  let result = text;
  const replace = (type: PersonalDataType, pattern: RegExp, placeholder: string): void => {
    if (types && !types.has(type)) {
      return;
    }
    result = result.replace(pattern, () => {
      counts[type] = (counts[type] ?? 0) + 1;
      return placeholder;
    });
  };
  replace('email', /[\w.]+@[\w.]+\.\w+/gu, '[EMAIL]');
  replace('phone', /\+?\d{7,}/gu, '[PHONE]');
  return { text: result, counts };
};

describe('stripHtml', () => {
  it('removes tags, comments and script/style contents and decodes entities once', () => {
    assert.equal(stripHtml('<p>Fish &amp; chips</p>'), '\nFish & chips\n');
    assert.equal(stripHtml('a<br/>b<span class="x">c</span>'), 'a\nbc');
    assert.equal(stripHtml('<script>alert("x")</script>ok<style>p{}</style><!-- hidden -->'), ' ok ');
    assert.equal(stripHtml('&lt;b&gt; is a tag; &amp;lt; stays escaped'), '<b> is a tag; &lt; stays escaped');
    assert.equal(stripHtml('&#233;t&#xE9; &nbsp;&unknown; &#0; &#xD800;'), 'été \u00a0&unknown; &#0; &#xD800;');
  });

  it('leaves comparisons that only look like tags', () => {
    assert.equal(stripHtml('3 < 4 and 5 > 2'), '3 < 4 and 5 > 2');
  });
});

describe('stripControlCharacters', () => {
  it('keeps tab and newline, turns CR/CRLF into LF and drops other C0/C1 controls', () => {
    assert.equal(stripControlCharacters('a\u0000b\tc\r\nd\re\u0007f\u007fg\u0085h\u009fi'), 'ab\tc\nd\nefghi');
  });
});

describe('cleanText', () => {
  it('applies NFKC, control stripping, lowercasing and trimming', () => {
    const options = { trim: true, nfkc: true, stripControl: true, stripHtml: false, lowercase: true };
    assert.equal(cleanText('  ＨＥＬＬＯ\u0000 ﬁne  ', options), 'hello fine');
  });
});

describe('clean step', () => {
  it('by default trims, applies NFKC and strips controls in the input fields, and trims/NFKCs labels', () => {
    const input = [
      { text: '  Ｆｕｌｌ\u0007 width\t<b>Bold</b>  ', label: ' Ｐｏｓ ', id: 1 },
      { text: 'already clean', label: 'neg', id: 2 },
    ];
    const result = applyTransforms(input, [{ op: 'clean' }], classification);
    assert.deepEqual(rowsOf(result), [
      { text: 'Full width\t<b>Bold</b>', label: 'Pos', id: 1 },
      { text: 'already clean', label: 'neg', id: 2 },
    ]);
    assert.equal(rowsOf(result)[1], input[1], 'unchanged rows are not copied');
    assert.equal(input[0].text, '  Ｆｕｌｌ\u0007 width\t<b>Bold</b>  ', 'the input is not modified');
    assert.deepEqual(result.report[0], {
      step: 0,
      op: 'clean',
      rowsIn: 2,
      rowsOut: 2,
      details: {
        fields: ['text'],
        options: { trim: true, nfkc: true, stripControl: true, stripHtml: false, lowercase: false },
        valuesChanged: 1,
        labelsChanged: 1,
        rowsChanged: 1,
      },
    });
  });

  it('strips HTML and lowercases when asked, but never lowercases labels by default', () => {
    const result = applyTransforms(
      [{ text: '<div>Hello &amp; <i>Welcome</i></div>', label: 'Greeting' }],
      [{ op: 'clean', stripHtml: true, lowercase: true }],
      classification,
    );
    assert.deepEqual(rowsOf(result), [{ text: 'hello & welcome', label: 'Greeting' }]);
  });

  it('applies everything to the label field when it is listed', () => {
    const result = applyTransforms(
      [{ text: ' A ', label: ' POS ' }],
      [{ op: 'clean', fields: ['text', 'label'], lowercase: true }],
      classification,
    );
    assert.deepEqual(rowsOf(result), [{ text: 'a', label: 'pos' }]);
  });

  it("cleans chat messages' content and leaves roles alone", () => {
    const input = [
      {
        messages: [
          { role: 'user', content: ' Hi\u0000 ' },
          { role: 'assistant', content: 'Hello' },
        ],
      },
    ];
    const result = applyTransforms(input, [{ op: 'clean' }], { task: 'chat', schema: { inputFields: ['messages'] } });
    assert.deepEqual(rowsOf(result), [
      {
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello' },
        ],
      },
    ]);
    assert.equal(input[0].messages[0].content, ' Hi\u0000 ');
  });

  it('fails on a field that no row has', () => {
    assert.throws(
      () => applyTransforms([{ text: 'a', label: 'x' }], [{ op: 'clean', fields: ['txt'] }], classification),
      (error: unknown) =>
        error instanceof TransformError &&
        error.step === 0 &&
        error.op === 'clean' &&
        error.reason === 'unknown field txt: no row has it' &&
        error.field === 'steps.0',
    );
  });
});

describe('redact step', () => {
  const context: TransformContext = { ...classification, redact: fakeRedact };

  it('replaces personal data through the injected redactor and counts it by type', () => {
    const input = [
      { text: 'mail a.b@example.com or call +441234567890', label: 'x' },
      { text: 'write to c@d.org and e@f.net', label: 'y' },
      { text: 'nothing here', label: 'x' },
    ];
    const result = applyTransforms(input, [{ op: 'redact' }], context);
    assert.deepEqual(rowsOf(result), [
      { text: 'mail [EMAIL] or call [PHONE]', label: 'x' },
      { text: 'write to [EMAIL] and [EMAIL]', label: 'y' },
      { text: 'nothing here', label: 'x' },
    ]);
    assert.deepEqual(result.report[0].details.redactions, { email: 3, phone: 1 });
    assert.equal(result.report[0].details.rowsChanged, 2);
  });

  it('passes the requested types to the redactor', () => {
    const seen: (string[] | undefined)[] = [];
    const spy: RedactFunction = (text, types) => {
      seen.push(types ? [...types] : undefined);
      return fakeRedact(text, types);
    };
    const result = applyTransforms([{ text: 'a@b.com 12345678', label: 'x' }], [{ op: 'redact', types: ['phone'] }], {
      ...classification,
      redact: spy,
    });
    assert.deepEqual(seen, [['phone']]);
    assert.deepEqual(rowsOf(result), [{ text: 'a@b.com [PHONE]', label: 'x' }]);
  });

  it('redacts the completion of prompt-completion datasets too', () => {
    const result = applyTransforms(
      [{ prompt: 'Who do I email?', completion: 'Write to help@example.com' }],
      [{ op: 'redact' }],
      { task: 'prompt-completion', schema: { inputFields: ['prompt'], labelField: 'completion' }, redact: fakeRedact },
    );
    assert.deepEqual(rowsOf(result), [{ prompt: 'Who do I email?', completion: 'Write to [EMAIL]' }]);
  });

  it('works with the real redactor, placeholders typed', () => {
    const result = applyTransforms(
      [{ text: 'Contact jane.doe@example.com from 192.168.1.20', label: 'x' }],
      [{ op: 'redact' }, { op: 'redact', types: ['email'] }],
      { ...classification, redact: redactPersonalData },
    );
    assert.deepEqual(rowsOf(result), [{ text: 'Contact [EMAIL] from [IPV4]', label: 'x' }]);
    assert.deepEqual(result.report[0].details.redactions, { email: 1, ipv4: 1 });
    assert.deepEqual(result.report[1].details.redactions, {});
  });

  it('fails before touching rows when no redactor is configured', () => {
    const spec: TransformStep[] = [{ op: 'dedupe', mode: 'exact' }, { op: 'redact' }];
    assert.throws(
      () => applyTransforms([{ text: 'a@b.com', label: 'x' }], spec, classification),
      (error: unknown) =>
        error instanceof TransformError && error.step === 1 && /no personal-data redactor/.test(error.reason),
    );
  });
});
