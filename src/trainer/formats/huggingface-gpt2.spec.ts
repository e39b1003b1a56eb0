import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BpeTokenizer } from '../tokenizer/bpe-tokenizer.js';
import {
  HuggingFaceFormatError,
  readHuggingFaceGpt2Config,
  tokenizerJsonFromVocabAndMerges,
  writeHuggingFaceGpt2Config,
} from './huggingface-gpt2.js';

/** The released GPT-2 small `config.json`, as published with the model. */
const GPT2_SMALL = {
  activation_function: 'gelu_new',
  architectures: ['GPT2LMHeadModel'],
  attn_pdrop: 0.1,
  bos_token_id: 50256,
  embd_pdrop: 0.1,
  eos_token_id: 50256,
  initializer_range: 0.02,
  layer_norm_epsilon: 1e-5,
  model_type: 'gpt2',
  n_ctx: 1024,
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_positions: 1024,
  resid_pdrop: 0.1,
  summary_activation: null,
  summary_first_dropout: 0.1,
  summary_proj_to_labels: true,
  summary_type: 'cls_index',
  summary_use_proj: true,
  task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } },
  vocab_size: 50257,
};

describe('Hugging Face GPT-2 config.json', () => {
  it("reads GPT-2 small's published config", () => {
    const imported = readHuggingFaceGpt2Config(GPT2_SMALL);
    assert.deepEqual(imported.config, {
      vocabSize: 50257,
      nPositions: 1024,
      nEmbd: 768,
      nLayer: 12,
      nHead: 12,
      layerNormEpsilon: 1e-5,
      dropout: 0.1,
    });
    assert.deepEqual(imported.head, { type: 'causal-lm' });
    assert.equal(imported.eosTokenId, 50256);
  });

  it('round-trips every head, labels in order', () => {
    const { config } = readHuggingFaceGpt2Config(GPT2_SMALL);
    const classification = writeHuggingFaceGpt2Config(
      config,
      { type: 'classification', numLabels: 3 },
      {
        labels: ['negative', 'neutral', 'positive'],
        endOfTextId: 50256,
      },
    );
    assert.deepEqual(classification.architectures, ['GPT2ForSequenceClassification']);
    assert.equal(classification.pad_token_id, 50256);
    const back = readHuggingFaceGpt2Config(classification);
    assert.deepEqual(back.labels, ['negative', 'neutral', 'positive']);
    assert.deepEqual(back.head, { type: 'classification', numLabels: 3 });
    assert.deepEqual(back.config, config);
    assert.deepEqual(readHuggingFaceGpt2Config(writeHuggingFaceGpt2Config(config, { type: 'regression' })).head, {
      type: 'regression',
    });
    assert.deepEqual(
      readHuggingFaceGpt2Config(writeHuggingFaceGpt2Config(config, { type: 'causal-lm' })).config,
      config,
    );
  });

  it('refuses what would load differently, naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...GPT2_SMALL, model_type: 'llama' }, 'model_type'],
      [{ ...GPT2_SMALL, activation_function: 'relu' }, 'activation_function'],
      [{ ...GPT2_SMALL, n_inner: 1000 }, 'n_inner'],
      [{ ...GPT2_SMALL, n_head: 7 }, 'n_head'],
      [{ ...GPT2_SMALL, n_layer: -1 }, 'n_layer'],
      [{ ...GPT2_SMALL, vocab_size: undefined }, 'vocab_size'],
      [{ ...GPT2_SMALL, add_cross_attention: true }, 'add_cross_attention'],
      [{ ...GPT2_SMALL, architectures: ['GPT2ForTokenClassification'] }, 'architectures'],
      [
        { ...GPT2_SMALL, architectures: ['GPT2ForSequenceClassification'], id2label: { '0': 'a', '2': 'b' } },
        'id2label',
      ],
    ];
    for (const [json, field] of cases) {
      assert.throws(
        () => readHuggingFaceGpt2Config(json),
        (error: unknown) => error instanceof HuggingFaceFormatError && error.field === field,
        field,
      );
    }
  });
});

describe('vocab.json + merges.txt', () => {
  it('gives a tokenizer that encodes exactly as the tokenizer.json they came from', () => {
    const texts = ['the model learns the data', 'tokens of the layer', 'Ünïcödé and emoji 🤖 too', 'the the the data'];
    const trained = BpeTokenizer.train(texts, { vocabSize: 300 });
    const json = trained.toJSON();
    const mergesText = [
      '#version: 0.2',
      ...json.model.merges.map((merge) => (typeof merge === 'string' ? merge : merge.join(' '))),
    ].join('\n');
    const vocab: Record<string, number> = { ...json.model.vocab };
    for (const added of json.added_tokens) {
      vocab[added.content] = added.id;
    }
    const converted = BpeTokenizer.fromJSON(tokenizerJsonFromVocabAndMerges(vocab, `${mergesText}\n`));
    for (const text of [...texts, 'unseen words: dataset, layered <|endoftext|>']) {
      assert.deepEqual(converted.encode(text), trained.encode(text), text);
    }
  });

  it('names the line of a malformed merge', () => {
    assert.throws(() => tokenizerJsonFromVocabAndMerges({ a: 0 }, '#version: 0.2\na b\nabc\n'), /merges.txt line 3/);
    assert.throws(() => tokenizerJsonFromVocabAndMerges({ a: 'x' }, ''), /vocab.json/);
  });
});
