import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  estimateGpt2TrainingMemory,
  estimateMlpTrainingMemory,
  gpt2BackpropBlocks,
  gpt2ParameterCount,
  gpt2TrainingFlopsPerToken,
  mlpParameterCount,
} from './estimates.js';
import { gpt2ParameterSpecs, type Gpt2Config, type Gpt2Head } from './gpt2.js';
import { mlpParameterSpecs, type MlpConfig } from './mlp.js';
import { parameterCount } from './parameters.js';

const gpt2Small: Gpt2Config = {
  vocabSize: 50257,
  nPositions: 1024,
  nEmbd: 768,
  nLayer: 12,
  nHead: 12,
  layerNormEpsilon: 1e-5,
  dropout: 0.1,
};
const lm: Gpt2Head = { type: 'causal-lm' };

describe('estimates', () => {
  it('counts GPT-2 small as Hugging Face does, and agrees with the specs', () => {
    assert.equal(gpt2ParameterCount(gpt2Small, lm), 124_439_808);
    const small: Gpt2Config = { ...gpt2Small, vocabSize: 100, nPositions: 32, nEmbd: 16, nLayer: 3, nHead: 2 };
    for (const head of [lm, { type: 'classification', numLabels: 5 }, { type: 'regression' }] as Gpt2Head[]) {
      assert.equal(gpt2ParameterCount(small, head), parameterCount(gpt2ParameterSpecs(small, head)));
    }
    const mlp: MlpConfig = { inputSize: 10, hiddenSizes: [32, 16], outputSize: 3, activation: 'relu', dropout: 0 };
    assert.equal(mlpParameterCount(mlp), parameterCount(mlpParameterSpecs(mlp)));
  });

  it('counts parameter, gradient and Adam bytes by hand', () => {
    // d=4, V=10, P=8, 1 layer: 40 + 32 + (12*16 + 13*4) + 8 = 324 parameters, + 2*4 for the head.
    const config: Gpt2Config = { ...gpt2Small, vocabSize: 10, nPositions: 8, nEmbd: 4, nLayer: 1, nHead: 1 };
    const head: Gpt2Head = { type: 'classification', numLabels: 2 };
    const estimate = estimateGpt2TrainingMemory(config, head, {
      batchSize: 2,
      sequenceLength: 8,
      trainableParameters: 100,
      optimizerStateSlots: 2,
    });
    assert.equal(estimate.parameters, 332 * 4);
    assert.equal(estimate.gradients, 400);
    assert.equal(estimate.optimizerState, 800);
    assert.equal(
      estimate.total,
      estimate.parameters + estimate.gradients + estimate.optimizerState + estimate.activations,
    );
  });

  it('grows activations linearly in batch size and faster than linearly in sequence length', () => {
    const options = { batchSize: 4, sequenceLength: 256, trainableParameters: 1e6, optimizerStateSlots: 2 };
    const base = estimateGpt2TrainingMemory(gpt2Small, lm, options);
    const twiceBatch = estimateGpt2TrainingMemory(gpt2Small, lm, { ...options, batchSize: 8 });
    const twiceLength = estimateGpt2TrainingMemory(gpt2Small, lm, { ...options, sequenceLength: 512 });
    // Linear but for the [V, d] gradients of the tied head.
    assert.ok(Math.abs(twiceBatch.activations / base.activations - 2) < 0.15);
    const sequence: Gpt2Head = { type: 'classification', numLabels: 2 };
    const classification = estimateGpt2TrainingMemory(gpt2Small, sequence, options);
    assert.equal(
      estimateGpt2TrainingMemory(gpt2Small, sequence, { ...options, batchSize: 8 }).activations,
      2 * classification.activations,
    );
    assert.ok(twiceBatch.total > base.total);
    assert.ok(twiceLength.activations > 2 * base.activations);
    assert.equal(twiceBatch.parameters, base.parameters);
    // GPT-2 small, batch 4 x 256: a few GB, dominated by the blocks and the 50k-wide logits.
    assert.ok(base.activations > 2e9 && base.activations < 8e9, `${base.activations}`);
  });

  it('counts fewer activations when backprop stops early, and the LM logits only for causal-lm', () => {
    const options = { batchSize: 2, sequenceLength: 128, trainableParameters: 1e6, optimizerStateSlots: 2 };
    const full = estimateGpt2TrainingMemory(gpt2Small, lm, options);
    const top2 = estimateGpt2TrainingMemory(gpt2Small, lm, { ...options, backpropBlocks: 2 });
    assert.ok(top2.activations < full.activations);
    const classification = estimateGpt2TrainingMemory(gpt2Small, { type: 'classification', numLabels: 2 }, options);
    assert.ok(full.activations > classification.activations);
    // A small body with GPT-2's vocabulary, 4 x 512 tokens: the head dominates. gpt2LmLoss holds
    // 256 rows of 50k logits at a time, full logits all 2048 rows several times over.
    const narrow: Gpt2Config = { ...gpt2Small, nEmbd: 128, nLayer: 2, nHead: 2 };
    const long = { ...options, batchSize: 4, sequenceLength: 512 };
    const chunked = estimateGpt2TrainingMemory(narrow, lm, long);
    const fullLogits = estimateGpt2TrainingMemory(narrow, lm, { ...long, lmLossChunkTokens: 0 });
    assert.ok(fullLogits.activations > 5 * chunked.activations);
    assert.throws(
      () => estimateGpt2TrainingMemory(gpt2Small, lm, { ...options, backpropBlocks: 13 }),
      /backpropBlocks/,
    );
    assert.throws(() => estimateGpt2TrainingMemory(gpt2Small, lm, { ...options, batchSize: 0 }), /batchSize/);
  });

  it('finds how deep backprop goes from the trainable names', () => {
    assert.equal(gpt2BackpropBlocks(gpt2Small, ['score.weight', 'ln_f.weight']), 0);
    assert.equal(gpt2BackpropBlocks(gpt2Small, ['h.10.attn.c_attn.weight', 'h.11.mlp.c_fc.bias']), 2);
    assert.equal(gpt2BackpropBlocks(gpt2Small, ['h.11.mlp.c_fc.bias', 'wte.weight']), 12);
  });

  it('estimates MLP memory', () => {
    const config: MlpConfig = { inputSize: 10, hiddenSizes: [32], outputSize: 2, activation: 'relu', dropout: 0 };
    const small = estimateMlpTrainingMemory(config, {
      batchSize: 16,
      trainableParameters: 418,
      optimizerStateSlots: 2,
    });
    const large = estimateMlpTrainingMemory(config, {
      batchSize: 32,
      trainableParameters: 418,
      optimizerStateSlots: 2,
    });
    assert.equal(small.parameters, 418 * 4);
    assert.ok(large.activations > small.activations);
  });

  it('counts training FLOPs per token as 6N + 12 L T d + the head', () => {
    // GPT-2 small non-embedding N = 12 (12 d^2 + 13 d) + 2 d = 85,056,000.
    const n = 85_056_000;
    assert.equal(gpt2TrainingFlopsPerToken(gpt2Small, 1024, lm), 6 * n + 12 * 12 * 1024 * 768 + 6 * 768 * 50257);
    const classification = gpt2TrainingFlopsPerToken(gpt2Small, 512, { type: 'classification', numLabels: 4 });
    assert.equal(classification, 6 * n + 12 * 12 * 512 * 768 + (6 * 768 * 4) / 512);
  });
});
