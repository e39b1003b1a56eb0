import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { assertUnreachable } from '../../platform/errors/error-codes.js';
import type { ModelVersionEntity } from '../model-version.entity.js';
import { GateFactsRepository } from './gate-facts.repository.js';
import { plainRule, type GateKind, type GateReport, type GateResult, type GateRule } from './gate-rule.js';
import { EvaluationMetricGate, HeldOutEvaluationGate, ImprovesOnAliasGate } from './evaluation.gates.js';
import { MetricGate } from './metric.gate.js';
import { NoPersonalDataGate } from './no-personal-data.gate.js';
import type { EvaluationFact, GateFacts, GateOutcome, PromotionGate, TrainingDataFact } from './promotion-gate.js';
import { TrainingDataQualityGate } from './training-data-quality.gate.js';

/** Runs an alias's gates against a candidate version and reports every rule, passed or not. */
@Injectable()
export class PromotionGateEvaluator {
  private readonly gates: { [K in GateKind]: PromotionGate<K> } = {
    training_data_quality_passed: new TrainingDataQualityGate(),
    no_personal_data: new NoPersonalDataGate(),
    metric: new MetricGate(),
    evaluation_metric: new EvaluationMetricGate(),
    improves_on_alias: new ImprovesOnAliasGate(),
    held_out_evaluation: new HeldOutEvaluationGate(),
  };

  constructor(private readonly facts: GateFactsRepository) {}

  async evaluate(
    manager: EntityManager,
    projectId: string,
    candidate: ModelVersionEntity,
    rules: GateRule[],
    current: ModelVersionEntity | null = null,
  ): Promise<GateReport> {
    let trainingData: Promise<TrainingDataFact[]> | undefined;
    let lineageData: Promise<Set<string>> | undefined;
    const evaluations = new Map<string, Promise<EvaluationFact | null>>();
    const facts: GateFacts = {
      candidate,
      current,
      trainingData: () => (trainingData ??= this.facts.trainingData(manager, projectId, candidate.id)),
      datasetVersionId: (ref) => this.facts.datasetVersionId(manager, projectId, ref),
      lineageDataVersionIds: () => (lineageData ??= this.facts.lineageDataVersionIds(manager, projectId, candidate.id)),
      evaluation: (datasetVersionId, comparedWith) => {
        const key = `${datasetVersionId}|${comparedWith ?? ''}`;
        let found = evaluations.get(key);
        if (!found) {
          found = this.facts.latestEvaluation(manager, projectId, candidate.id, datasetVersionId, comparedWith);
          evaluations.set(key, found);
        }
        return found;
      },
    };
    const results: GateResult[] = [];
    for (const rule of rules) {
      const outcome = await this.check(rule, facts);
      results.push({ kind: rule.kind, rule: plainRule(rule), ...outcome });
    }
    return { passed: results.every((result) => result.passed), results };
  }

  private check(rule: GateRule, facts: GateFacts): Promise<GateOutcome> {
    switch (rule.kind) {
      case 'training_data_quality_passed':
        return this.gates.training_data_quality_passed.check(rule, facts);
      case 'no_personal_data':
        return this.gates.no_personal_data.check(rule, facts);
      case 'metric':
        return this.gates.metric.check(rule, facts);
      case 'evaluation_metric':
        return this.gates.evaluation_metric.check(rule, facts);
      case 'improves_on_alias':
        return this.gates.improves_on_alias.check(rule, facts);
      case 'held_out_evaluation':
        return this.gates.held_out_evaluation.check(rule, facts);
      default:
        return assertUnreachable(rule);
    }
  }
}
