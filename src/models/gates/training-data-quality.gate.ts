import { label, type GateFacts, type GateOutcome, type PromotionGate } from './promotion-gate.js';

/**
 * Every dataset version the candidate's lineage trained on (its own job's training data and that
 * of every model it was fine-tuned from) has a quality verdict of pass. A model with no training
 * data in its lineage (an import) has nothing to vouch for it and fails.
 */
export class TrainingDataQualityGate implements PromotionGate<'training_data_quality_passed'> {
  readonly kind = 'training_data_quality_passed';

  async check(_rule: unknown, facts: GateFacts): Promise<GateOutcome> {
    const data = await facts.trainingData();
    const figures = {
      datasetVersions: data.map((fact) => ({
        datasetVersionId: fact.datasetVersionId,
        label: label(fact),
        verdict: fact.qualityVerdict,
      })),
    };
    if (data.length === 0) {
      return { passed: false, detail: 'no training data in the lineage (an imported model)', figures };
    }
    const failing = data.filter((fact) => fact.qualityVerdict !== 'pass');
    return failing.length === 0
      ? { passed: true, detail: `all ${data.length} training dataset version(s) passed quality`, figures }
      : {
          passed: false,
          detail: `quality not passed: ${failing.map((fact) => `${label(fact)} (${fact.qualityVerdict ?? 'no report'})`).join(', ')}`,
          figures,
        };
  }
}
