import { label, type GateFacts, type GateOutcome, type PromotionGate } from './promotion-gate.js';

/** The quality reports of the candidate's training data found personal data in no row. */
export class NoPersonalDataGate implements PromotionGate<'no_personal_data'> {
  readonly kind = 'no_personal_data';

  async check(_rule: unknown, facts: GateFacts): Promise<GateOutcome> {
    const data = await facts.trainingData();
    const figures = {
      datasetVersions: data.map((fact) => ({
        datasetVersionId: fact.datasetVersionId,
        label: label(fact),
        rowsWithPersonalData: fact.rowsWithPersonalData,
        byType: fact.personalDataTypes,
      })),
    };
    if (data.length === 0) {
      return { passed: false, detail: 'no training data in the lineage (an imported model)', figures };
    }
    const unknown = data.filter((fact) => fact.rowsWithPersonalData === null);
    const found = data.filter((fact) => (fact.rowsWithPersonalData ?? 0) > 0);
    if (found.length === 0 && unknown.length === 0) {
      return { passed: true, detail: `no personal data in ${data.length} training dataset version(s)`, figures };
    }
    const problems = [
      ...found.map((fact) => `${label(fact)}: ${fact.rowsWithPersonalData} row(s) with personal data`),
      ...unknown.map((fact) => `${label(fact)}: no quality report`),
    ];
    return { passed: false, detail: problems.join('; '), figures };
  }
}
