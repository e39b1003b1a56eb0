import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailableError } from './connection-errors.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailableError', () => {
  const unavailable: Array<[string, unknown]> = [
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:36211')],
    ['connection reset', withCode('ECONNRESET')],
    ['admin shutdown (57P01)', withCode('57P01', 'terminating connection due to administrator command')],
    ['crash shutdown (57P02)', withCode('57P02')],
    ['cannot connect now (57P03)', withCode('57P03', 'the database system is starting up')],
    ['connection exception class 08', withCode('08006')],
    ['too many connections', withCode('53300')],
    ['connection terminated', new Error('Connection terminated unexpectedly')],
    ['pool timeout', new Error('timeout exceeded when trying to connect')],
    ['unqueryable client', new Error('Client has encountered a connection error and is not queryable')],
    [
      'TypeORM wrapping a driver error',
      new QueryFailedError('SELECT 1', [], withCode('57P01', 'terminating connection due to administrator command')),
    ],
    ['an error caused by one', new Error('lookup failed', { cause: withCode('ECONNREFUSED') })],
  ];
  for (const [name, error] of unavailable) {
    it(`says unavailable for ${name}`, () => {
      assert.equal(isDatabaseUnavailableError(error), true);
    });
  }

  const other: Array<[string, unknown]> = [
    ['a unique violation', new QueryFailedError('INSERT', [], withCode('23505', 'duplicate key'))],
    ['a syntax error', withCode('42601')],
    ['a plain bug', new TypeError('x is undefined')],
    ['not an error', 'ECONNREFUSED'],
    ['null', null],
  ];
  for (const [name, error] of other) {
    it(`says available for ${name}`, () => {
      assert.equal(isDatabaseUnavailableError(error), false);
    });
  }

  it('does not loop on a cause cycle', () => {
    const error = new Error('a') as Error & { cause?: unknown };
    error.cause = error;
    assert.equal(isDatabaseUnavailableError(error), false);
  });
});
