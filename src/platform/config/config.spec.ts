import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigurationError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('gives working defaults with no variables set', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.s3, undefined);
    assert.equal(config.trainerBackend, 'auto');
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.trainerHoldAtSteps, []);
  });

  it('reads and converts typed values', () => {
    const config = loadConfig({
      PORT: '9000',
      S3_BUCKET: 'artifacts',
      S3_ENDPOINT: 'http://127.0.0.1:5055',
      S3_FORCE_PATH_STYLE: 'true',
      S3_PREFIX: '/team-a/',
      TRAINER_SLOTS: '2',
      TRAINER_HOLD_AT_STEPS: '4,10',
    });
    assert.equal(config.port, 9000);
    assert.deepEqual(config.s3, {
      bucket: 'artifacts',
      endpoint: 'http://127.0.0.1:5055',
      region: 'us-east-1',
      forcePathStyle: true,
      prefix: 'team-a/',
    });
    assert.equal(config.trainerSlots, 2);
    assert.deepEqual(config.trainerHoldAtSteps, [4, 10]);
  });

  it('treats empty strings as unset and ignores unknown variables', () => {
    const config = loadConfig({ PORT: '', HOME: '/root', SOMETHING_ELSE: 'x' });
    assert.equal(config.port, 8080);
  });

  const bad: [string, string, RegExp][] = [
    ['PORT', 'eighty', /PORT/],
    ['PORT', '70000', /PORT/],
    ['S3_FORCE_PATH_STYLE', 'maybe', /S3_FORCE_PATH_STYLE must be one of true, false/],
    ['TRAINER_BACKEND', 'tpu', /TRAINER_BACKEND must be one of auto, tensorflow-gpu, tensorflow, wasm, cpu/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of/],
    ['TRAINER_HOLD_AT_STEPS', '4, x', /TRAINER_HOLD_AT_STEPS must be step numbers/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL must be a postgres/],
    ['TUNEFORGE_BOOTSTRAP_KEY', 'short', /TUNEFORGE_BOOTSTRAP_KEY must start with tf_/],
  ];
  for (const [variable, value, expected] of bad) {
    it(`stops on a bad ${variable} with one line naming it`, () => {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigurationError);
          assert.equal(error.variable, variable);
          assert.match(error.message, expected);
          assert.doesNotMatch(error.message, /\n/);
          return true;
        },
      );
    });
  }

  it('never echoes a bad bootstrap key', () => {
    assert.throws(
      () => loadConfig({ TUNEFORGE_BOOTSTRAP_KEY: 'secret-value' }),
      (error: Error) => {
        assert.doesNotMatch(error.message, /secret-value/);
        return true;
      },
    );
  });

  it('needs S3_BUCKET when other S3 variables are set', () => {
    assert.throws(() => loadConfig({ S3_ENDPOINT: 'http://localhost:9000' }), /S3_BUCKET must be set/);
  });
});
