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
    assert.equal(config.httpKeepAliveSeconds, 65);
    assert.equal(config.httpRequestTimeoutSeconds, 3600);
    assert.equal(config.workerThreadNiceness, 10);
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
      HTTP_KEEP_ALIVE_SECONDS: '120',
      HTTP_REQUEST_TIMEOUT_SECONDS: '0',
      WORKER_THREAD_NICENESS: '0',
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
    assert.equal(config.httpKeepAliveSeconds, 120);
    assert.equal(config.httpRequestTimeoutSeconds, 0);
    assert.equal(config.workerThreadNiceness, 0);
  });

  it('treats empty strings as unset and ignores unknown variables', () => {
    const config = loadConfig({ PORT: '', HOME: '/root', SOMETHING_ELSE: 'x' });
    assert.equal(config.port, 8080);
  });

  const bad: [string, string, RegExp][] = [
    ['PORT', 'eighty', /^Invalid configuration: PORT must be a whole number from 0 to 65535 \(got "eighty"\)$/],
    ['PORT', 'abc', /PORT must be a whole number from 0 to 65535 \(got "abc"\)/],
    ['PORT', '70000', /PORT must be a whole number from 0 to 65535 \(got "70000"\)/],
    ['PORT', '-1', /PORT must be a whole number from 0 to 65535 \(got "-1"\)/],
    ['PORT', '80.5', /PORT must be a whole number from 0 to 65535/],
    ['HTTP_KEEP_ALIVE_SECONDS', '0', /HTTP_KEEP_ALIVE_SECONDS must be a whole number from 1 to 3600/],
    ['HTTP_REQUEST_TIMEOUT_SECONDS', '-1', /HTTP_REQUEST_TIMEOUT_SECONDS must be a whole number from 0 to 86400/],
    ['WORKER_THREAD_NICENESS', '20', /WORKER_THREAD_NICENESS must be a whole number from 0 to 19/],
    ['TRAINER_SLOTS', '65', /TRAINER_SLOTS must be a whole number from 0 to 64/],
    ['JOB_POLL_MS', '10', /JOB_POLL_MS must be a whole number from 50 to 60000/],
    ['DB_POOL_SIZE', 'lots', /DB_POOL_SIZE must be a whole number from 1 to 200/],
    ['AUTH_FAILURE_BURST', '0', /AUTH_FAILURE_BURST must be a whole number from 1 to 1000000/],
    ['DB_RESTART_ATTEMPTS', '-3', /DB_RESTART_ATTEMPTS must be a whole number from 0 to 100/],
    ['TRAINER_MEMORY_BUDGET', 'big', /TRAINER_MEMORY_BUDGET must be a size such as 2gb/],
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
          // Not class-validator's generic wording, which says only one of the things that are wrong.
          assert.doesNotMatch(error.message, /must not be (greater|less) than|must be an integer number/);
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
