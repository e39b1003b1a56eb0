/** The profiler with the service's own personal-data detector and masker (as DatasetIngestor wires them). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findPersonalData, maskValue } from '../privacy/personal-data.js';
import { QualityProfiler } from './quality-profiler.js';
import { asRows, seededRandom, sentence, wordList } from './quality-test-helpers.js';

describe('QualityProfiler with findPersonalData', () => {
  const random = seededRandom(21);
  const words = wordList(2000, random);
  const records = Array.from({ length: 200 }, (_, index) => ({
    text: sentence(random, words, 15),
    label: index % 2 === 0 ? 'pos' : 'neg',
  }));
  const planted = {
    12: 'please mail john.doe@example.com about it',
    34: 'card 4111 1111 1111 1111 was charged twice',
    56: 'my key is sk-proj-abcdefghijklmnopqrstuvwx1234 oops',
    78: 'reach me at anna@example.org or bob@example.net',
  };
  for (const [line, text] of Object.entries(planted)) {
    records[Number(line) - 1] = { text, label: 'pos' };
  }

  it('finds the planted personal data by type, masked, and fails on the secret', () => {
    const profiler = new QualityProfiler({
      task: 'classification',
      schema: { inputFields: ['text'], labelField: 'label' },
      detectPersonalData: findPersonalData,
      maskValue,
    });
    profiler.addRows(asRows(records));
    const report = profiler.finish();
    const privacy = report.privacy;
    assert.equal(privacy.rowsWithPersonalData, 4);
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(privacy.byType).map(([type, found]) => [type, [found.count, found.rows, found.lines]]),
      ),
      {
        email: [3, 2, [12, 78]],
        payment_card: [1, 1, [34]],
        secret: [1, 1, [56]],
      },
    );
    assert.deepEqual(privacy.byType.email.examples, ['j***@e***.com', 'a***@e***.org', 'b***@e***.net']);
    assert.deepEqual(privacy.byType.payment_card.examples, ['**** **** **** 1111']);
    assert.equal(privacy.secretRows, 1);
    assert.equal(privacy.verdict, 'fail');
    const serialised = JSON.stringify(report);
    for (const value of ['john.doe@example.com', '4111 1111 1111 1111', 'sk-proj-abcdefghijklmnopqrstuvwx1234']) {
      assert.ok(!serialised.includes(value), value);
    }
  });
});
