import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BpeTokenizer, END_OF_TEXT, PAD, TokenizerError } from './bpe-tokenizer.js';

/** GPT-2's 256 byte symbols in vocab order: printable Latin-1 by code point, then U+0100.. for the rest. */
function byteSymbols(): string[] {
  const symbols: string[] = [];
  for (const [first, last] of [
    [0x21, 0x7e],
    [0xa1, 0xac],
    [0xae, 0xff],
    [0x100, 0x143],
  ]) {
    for (let code = first; code <= last; code += 1) {
      symbols.push(String.fromCharCode(code));
    }
  }
  return symbols;
}

/**
 * A hand-made tokenizer.json in GPT-2's shape: bytes 0..255 as in GPT-2 ("h" = 71, "Ġ" = 220), five
 * merges (in both spellings), <|endoftext|> = 261, and a stray vocab entry spelt "__proto__".
 */
function tinyTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  byteSymbols().forEach((symbol, id) => (vocab[symbol] = id));
  Object.assign(vocab, { he: 256, ll: 257, Ġt: 258, Ġthe: 259, hell: 260, [END_OF_TEXT]: 261 });
  Object.defineProperty(vocab, '__proto__', { value: 262, enumerable: true, writable: true, configurable: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: 261,
        content: END_OF_TEXT,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      vocab,
      merges: ['h e', ['l', 'l'], 'Ġ t', ['Ġt', 'he'], 'he ll'],
    },
  };
}

const CORPUS = [
  'The quick brown fox jumps over the lazy dog.',
  "It's the fox's den; they'll hunt there at 10:30 tonight.",
  'Tokenizers split text into words, then merge bytes by rank.',
  'Ünïcödé tëxt, 日本語のテキスト, and emoji 🎉🎉 are bytes too.',
  'def train(texts):\n    return [t.strip() for t in texts]\n',
];
const trained = BpeTokenizer.train(
  Array.from({ length: 20 }, (_, index) => CORPUS[index % CORPUS.length]),
  { vocabSize: 400 },
);

/** Well-formed strings (no lone surrogates), with special tokens and GPT-2's tricky bits mixed in. */
const textArbitrary = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string({
    unit: fc.oneof(
      fc.constantFrom(
        END_OF_TEXT,
        PAD,
        '<|',
        ' ',
        '  ',
        '\n',
        "'s",
        "'ll",
        'the',
        ' the',
        'é',
        '🎉',
        '\u0085',
        '\ufeff',
      ),
      fc.string({ unit: 'grapheme', maxLength: 3 }),
    ),
  }),
);

function assertTokenizerError(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof TokenizerError, `not a TokenizerError: ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('BpeTokenizer', () => {
  it('encodes with a hand-made tokenizer.json to hand-computed ids', () => {
    const tokenizer = BpeTokenizer.fromJSON(tinyTokenizerJson());
    // "hello": h e -> he, l l -> ll, he ll -> hell; then "o" (111 - 33 = 78).
    // " the": h e (rank 0) -> he first, then Ġ t -> Ġt, then Ġt he -> Ġthe.
    assert.deepEqual(tokenizer.encode(`hello the${END_OF_TEXT}`), [260, 78, 259, 261]);
    // Without special tokens "<|endoftext|>" is the words "<|", "endoftext", "|>", byte by byte.
    assert.deepEqual(
      tokenizer.encode(`hello the${END_OF_TEXT}`, { allowSpecial: false }),
      [260, 78, 259, 27, 91, 68, 77, 67, 78, 69, 83, 68, 87, 83, 91, 29],
    );
    // " é\n": Ġ = 220, é = C3 A9 = "Ã" 127 + "©" 102, \n = "Ċ" 198 (the same ids as GPT-2's).
    assert.deepEqual(tokenizer.encode(' é\n'), [220, 127, 102, 198]);
    assert.equal(tokenizer.decode([260, 78, 259, 261]), `hello the${END_OF_TEXT}`);
    assert.equal(tokenizer.decode([260, 78, 259, 261], { skipSpecial: true }), 'hello the');
    assert.equal(tokenizer.decode([220, 127, 102, 198]), ' é\n');
    // Half a character decodes to U+FFFD rather than throwing.
    assert.equal(tokenizer.decode([127]), '\ufffd');
    assert.equal(tokenizer.vocabSize, 263);
    assert.equal(tokenizer.endOfTextId, 261);
    assert.equal(tokenizer.padId, 261); // no <|pad|>: falls back to <|endoftext|>
    assert.equal(tokenizer.tokenId('Ġthe'), 259);
    assert.equal(tokenizer.tokenId(END_OF_TEXT), 261);
    assert.equal(tokenizer.tokenId(' the'), undefined);
    assert.equal(tokenizer.tokenId('__proto__'), 262);
    assert.ok(Object.hasOwn(tokenizer.toJSON().model.vocab, '__proto__'));
  });

  it('reads its own toJSON back to identical encodings and JSON', () => {
    for (const tokenizer of [trained, BpeTokenizer.fromJSON(tinyTokenizerJson())]) {
      const json = tokenizer.toJSON();
      const text = JSON.stringify(tokenizer);
      const again = BpeTokenizer.fromJSON(JSON.parse(text));
      assert.deepEqual(again.toJSON(), json);
      assert.equal(BpeTokenizer.fromJSON(text).vocabSize, tokenizer.vocabSize);
      fc.assert(
        fc.property(textArbitrary, (sample) => {
          assert.deepEqual(again.encode(sample), tokenizer.encode(sample));
          assert.deepEqual(
            again.encode(sample, { allowSpecial: false }),
            tokenizer.encode(sample, { allowSpecial: false }),
          );
        }),
      );
    }
  });

  it('writes the tokenizer.json shape of HF tokenizers', () => {
    const json = trained.toJSON();
    assert.deepEqual(Object.keys(json), [
      'version',
      'truncation',
      'padding',
      'added_tokens',
      'normalizer',
      'pre_tokenizer',
      'post_processor',
      'decoder',
      'model',
    ]);
    assert.deepEqual(json.added_tokens, [
      {
        id: 0,
        content: END_OF_TEXT,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
      { id: 1, content: PAD, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ]);
    assert.deepEqual(json.pre_tokenizer, {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    });
    assert.equal(json.model.type, 'BPE');
    assert.equal(Object.keys(json.model.vocab).length, 400);
    assert.equal(json.model.merges.length, 400 - 258);
    assert.ok(json.model.merges.every((merge) => typeof merge === 'string' && merge.split(' ').length === 2));
  });

  it('round trips any well-formed string: decode(encode(s)) === s', () => {
    fc.assert(
      fc.property(textArbitrary, (text) => {
        assert.equal(trained.decode(trained.encode(text)), text);
        assert.equal(trained.decode(trained.encode(text, { allowSpecial: false })), text);
      }),
      { numRuns: 500 },
    );
    const long = 'x'.repeat(5000) + 'the '.repeat(2000) + '🎉'.repeat(500);
    assert.equal(trained.decode(trained.encode(long)), long);
  });

  it('makes special tokens one id, or plain text when not allowed', () => {
    const eot = trained.endOfTextId;
    const pad = trained.padId;
    assert.deepEqual([eot, pad], [0, 1]);
    assert.deepEqual(trained.encode(END_OF_TEXT), [eot]);
    assert.deepEqual(trained.encode(`${PAD}${PAD}`), [pad, pad]);
    const ids = trained.encode(`a${END_OF_TEXT}b`);
    assert.deepEqual(ids, [...trained.encode('a'), eot, ...trained.encode('b')]);
    const plain = trained.encode(END_OF_TEXT, { allowSpecial: false });
    assert.ok(!plain.includes(eot) && plain.length > 1);
    assert.equal(trained.decode(plain), END_OF_TEXT);
    assert.equal(trained.decode([eot, ...trained.encode('hi'), pad], { skipSpecial: true }), 'hi');
    fc.assert(
      fc.property(textArbitrary, (text) => {
        const ordinary = trained.encode(text, { allowSpecial: false });
        assert.ok(!ordinary.includes(eot) && !ordinary.includes(pad));
      }),
    );
  });

  it('rejects ids it does not have when decoding', () => {
    for (const id of [-1, 400, 1.5, Number.NaN]) {
      assertTokenizerError(() => trained.decode([id]), /token id .* is not in the vocab/);
    }
    assert.equal(trained.decode(Int32Array.from(trained.encode('typed arrays'))), 'typed arrays');
  });

  it('rejects malformed tokenizer.json with a message naming the problem', () => {
    const cases: [(json: Record<string, unknown>) => unknown, RegExp][] = [
      [() => null, /must be an object, not null/],
      [() => '{"model": ', /not JSON/],
      [() => [], /must be an object, not an array of 0/],
      [(json) => ({ ...json, model: undefined }), /model must be an object/],
      [
        (json) => ({ ...json, model: { ...model(json), type: 'WordPiece' } }),
        /model.type must be BPE, not "WordPiece"/,
      ],
      [
        (json) => ({ ...json, pre_tokenizer: { type: 'Whitespace' } }),
        /pre_tokenizer must be ByteLevel, not "Whitespace"/,
      ],
      [(json) => ({ ...json, pre_tokenizer: null }), /pre_tokenizer must be ByteLevel/],
      [(json) => ({ ...json, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true } }), /add_prefix_space true/],
      [(json) => ({ ...json, pre_tokenizer: { type: 'ByteLevel', use_regex: 'yes' } }), /use_regex must be a boolean/],
      [(json) => ({ ...json, decoder: { type: 'WordPiece' } }), /decoder must be ByteLevel/],
      [(json) => ({ ...json, normalizer: { type: 'NFC' } }), /normalizer is not supported/],
      [(json) => ({ ...json, model: { ...model(json), dropout: 0.1 } }), /dropout 0.1 is not supported/],
      [(json) => ({ ...json, model: { ...model(json), continuing_subword_prefix: '##' } }), /"##" is not supported/],
      [(json) => ({ ...json, model: { ...model(json), vocab: [] } }), /model.vocab must be an object/],
      [
        (json) => ({ ...json, model: { ...model(json), vocab: { ...vocab(json), he: 'x' } } }),
        /"he" must be an integer id/,
      ],
      [
        (json) => ({ ...json, model: { ...model(json), vocab: { ...vocab(json), he: 2 ** 26 } } }),
        /"he" must be an integer/,
      ],
      [(json) => ({ ...json, model: { ...model(json), vocab: { ...vocab(json), he: 0 } } }), /"!" and "he" share id 0/],
      [
        (json) => ({ ...json, model: { ...model(json), vocab: without(vocab(json), 'A') } }),
        /lacks the byte symbol "A"/,
      ],
      [(json) => ({ ...json, model: { ...model(json), merges: {} } }), /model.merges must be an array/],
      [(json) => ({ ...json, model: { ...model(json), merges: ['h e l'] } }), /merges\[0\] "h e l" is not two tokens/],
      [
        (json) => ({ ...json, model: { ...model(json), merges: [['h']] } }),
        /merges\[0\] must be "a b" or \["a", "b"\]/,
      ],
      [
        (json) => ({ ...json, model: { ...model(json), merges: ['h x'] } }),
        /merge 0 \("h" "x"\): "hx" is not in the vocab/,
      ],
      [
        (json) => ({ ...json, model: { ...model(json), merges: ['h Z'] } }),
        /merge 0 \("h" "Z"\): "hZ" is not in the vocab/,
      ],
      [
        (json) => ({ ...json, model: { ...model(json), merges: ['h e', ['q', 'Ġthee']] } }),
        /merge 1 .*"Ġthee" is not in/,
      ],
      [(json) => ({ ...json, added_tokens: {} }), /added_tokens must be an array/],
      [(json) => ({ ...json, added_tokens: [{ id: -1, content: 'x' }] }), /added_tokens\[0\].id must be an integer/],
      [
        (json) => ({ ...json, added_tokens: [{ id: 300, content: '' }] }),
        /added_tokens\[0\].content must be a non-empty/,
      ],
      [(json) => ({ ...json, added_tokens: [{ id: 300, content: 'x', special: 1 }] }), /special must be a boolean/],
      [
        (json) => ({ ...json, added_tokens: [{ id: 261, content: 'xyz' }] }),
        /conflicts with the vocab entry "<\|endoftext\|>" = 261/,
      ],
      [
        (json) => ({ ...json, added_tokens: [{ id: 300, content: END_OF_TEXT }] }),
        /conflicts with the vocab entry "<\|endoftext\|>" = 261/,
      ],
      [
        (json) => ({
          ...json,
          added_tokens: [
            { id: 300, content: 'xx' },
            { id: 300, content: 'yy' },
          ],
        }),
        /share id 300/,
      ],
      [
        (json) => ({
          ...json,
          added_tokens: [
            { id: 300, content: 'xx' },
            { id: 301, content: 'xx' },
          ],
        }),
        /"xx" appears twice/,
      ],
      [
        (json) => ({ ...json, added_tokens: [], model: { ...model(json), vocab: without(vocab(json), END_OF_TEXT) } }),
        /no <\|endoftext\|> token/,
      ],
    ];
    for (const [mutate, pattern] of cases) {
      assertTokenizerError(() => BpeTokenizer.fromJSON(mutate(tinyTokenizerJson())), pattern);
    }
  });

  it('throws nothing but TokenizerError for arbitrary or mutated JSON', () => {
    const check = (json: unknown): void => {
      try {
        const tokenizer = BpeTokenizer.fromJSON(json);
        const ids = tokenizer.encode(`hello the ${END_OF_TEXT} é`);
        tokenizer.decode(ids);
        tokenizer.decode([0, 1, 2, 261, 262]);
        BpeTokenizer.fromJSON(JSON.parse(JSON.stringify(tokenizer)));
      } catch (error) {
        assert.ok(error instanceof TokenizerError, `unexpected ${String(error)}`);
      }
    };
    fc.assert(fc.property(fc.jsonValue(), check), { numRuns: 300 });
    fc.assert(fc.property(fc.json(), check), { numRuns: 300 });

    // Replace or delete one field anywhere in a valid tokenizer.json.
    const base = tinyTokenizerJson();
    const paths: string[][] = [];
    const walk = (value: unknown, path: string[]): void => {
      paths.push(path);
      if (typeof value === 'object' && value !== null && path.length < 4) {
        for (const key of Object.keys(value)) {
          walk((value as Record<string, unknown>)[key], [...path, key]);
        }
      }
    };
    walk(base, []);
    const replacement = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(undefined, 261, 262, 2 ** 26, -0, 'Ġ', END_OF_TEXT, 'he', 'h e', ['h', 'e'], {
        type: 'ByteLevel',
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: paths.length - 1 }), replacement), { minLength: 1, maxLength: 3 }),
        (edits) => {
          const json = structuredClone(base);
          for (const [pathIndex, value] of edits) {
            const path = paths[pathIndex];
            let target: unknown = json;
            for (const key of path.slice(0, -1)) {
              target =
                typeof target === 'object' && target !== null ? (target as Record<string, unknown>)[key] : undefined;
            }
            if (path.length === 0) {
              check(value);
              return;
            }
            if (typeof target === 'object' && target !== null) {
              Object.defineProperty(target, path[path.length - 1], {
                value,
                enumerable: true,
                writable: true,
                configurable: true,
              });
            }
          }
          check(json);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('rejects bad training options', () => {
    assertTokenizerError(() => BpeTokenizer.train(['x'], { vocabSize: 257 }), /vocabSize must be an integer from 258/);
    assertTokenizerError(() => BpeTokenizer.train(['x'], { vocabSize: 300.5 }), /vocabSize/);
    assertTokenizerError(
      () => BpeTokenizer.train(['x'], { vocabSize: 300, specialTokens: [PAD] }),
      /must include <\|endoftext\|>/,
    );
    assertTokenizerError(
      () => BpeTokenizer.train(['x'], { vocabSize: 300, specialTokens: [END_OF_TEXT, END_OF_TEXT] }),
      /duplicates/,
    );
    assertTokenizerError(
      () => BpeTokenizer.train(['x'], { vocabSize: 300, specialTokens: [END_OF_TEXT, 'Ġ'] }),
      /byte symbol/,
    );
    assertTokenizerError(() => BpeTokenizer.train(['x'], { vocabSize: 300, minFrequency: -1 }), /minFrequency/);
  });
});

function model(json: Record<string, unknown>): Record<string, unknown> {
  return json.model as Record<string, unknown>;
}

function vocab(json: Record<string, unknown>): Record<string, unknown> {
  return model(json).vocab as Record<string, unknown>;
}

function without(record: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}
