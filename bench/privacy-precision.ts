/**
 * Precision and recall of findPersonalData per type on the labelled corpus of
 * test/support/personal-data-corpus.ts (mail headers, CVS commit mails, changelogs, code, PGP-signed
 * mail, support prose and Chinese customer records with planted true cases). Prints JSON.
 *
 *   npx tsc -p . && node dist/bench/privacy-precision.js [documents per kind] [seed]
 */
import { findPersonalData } from '../src/datasets/privacy/personal-data.js';
import { labelledCorpus, scoreDetector } from '../test/support/personal-data-corpus.js';

const count = Number(process.argv[2] ?? 40);
const seed = Number(process.argv[3] ?? 20_021_001);
const documents = labelledCorpus(count, seed);
const scores = scoreDetector(documents, (text) => findPersonalData(text));
console.log(
  JSON.stringify(
    {
      documents: documents.length,
      seed,
      characters: documents.reduce((sum, document) => sum + document.text.length, 0),
      perType: scores,
    },
    null,
    2,
  ),
);
