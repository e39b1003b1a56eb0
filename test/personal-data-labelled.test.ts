import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABELLED_TYPES, labelledCorpus, scoreDetector } from './support/personal-data-corpus.js';
import { findPersonalData, PERSONAL_DATA_TYPES } from '../src/datasets/privacy/personal-data.js';

/**
 * Precision and recall on the labelled corpus (mail headers, CVS commit mails, changelogs, code,
 * PGP-signed mail, prose, Chinese records; `npm run build && node dist/bench/privacy-precision.js`
 * prints the table). Every planted value must be found; false alarms must stay below the floors.
 */
const PRECISION_FLOORS: Record<string, number> = {
  email: 0.99,
  phone: 0.99,
  cn_mobile: 0.99,
  payment_card: 0.99,
  iban: 0.99,
  ipv4: 0.97,
  ipv6: 0.99,
  cn_resident_id: 0.99,
  secret: 0.99,
};

describe('personal-data detector on the labelled corpus', () => {
  const documents = labelledCorpus();
  const scores = scoreDetector(documents, (text) => findPersonalData(text));

  it('covers every detector type with planted cases', () => {
    assert.deepEqual([...LABELLED_TYPES].sort(), [...PERSONAL_DATA_TYPES].sort());
    for (const type of LABELLED_TYPES) {
      assert.ok(scores[type].planted >= 40, `${type}: ${scores[type].planted} planted`);
    }
  });

  for (const type of LABELLED_TYPES) {
    it(`${type}: finds every planted value and stays above its precision floor`, () => {
      const score = scores[type];
      assert.equal(score.recall, 1, `${type} missed ${JSON.stringify(score.missed)}`);
      assert.ok(
        score.precision >= PRECISION_FLOORS[type],
        `${type} precision ${score.precision}; false alarms ${JSON.stringify(score.falseAlarms)}`,
      );
    });
  }

  it('finds none of the reported false alarms: CVS revisions, version strings, a key fingerprint', () => {
    const text =
      'Modified Files:\n\tConf.pm,1.100.2.11,1.100.2.12\nretrieving revision 1.100.2.11\n' +
      'Upgraded to version 0.9.14.1\nKey fingerprint = BB64 2339 1CAA EC70 0646 1F22 5782 09A8 18C7 B1EE\n';
    assert.deepEqual(findPersonalData(text), []);
  });
});
