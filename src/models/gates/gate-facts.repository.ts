import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { DatasetVersionRef, EvaluationFact, TrainingDataFact } from './promotion-gate.js';

/** Reads what promotion gates decide on, inside the promotion's transaction. */
@Injectable()
export class GateFactsRepository {
  /**
   * Dataset versions that trained the model version or anything upstream of it (the jobs of the
   * models it was fine-tuned from), with their quality verdicts and personal-data counts.
   */
  async trainingData(manager: EntityManager, projectId: string, modelVersionId: string): Promise<TrainingDataFact[]> {
    const rows = await manager.query<
      Array<{
        id: string;
        name: string;
        version: number;
        verdict: 'pass' | 'warn' | 'fail' | null;
        rows_with_personal_data: string | null;
        by_type: Record<string, { count?: unknown; rows?: unknown }> | null;
      }>
    >(
      `WITH RECURSIVE walk(type, id) AS (
         SELECT 'model_version'::text, $2::uuid
         UNION
         SELECT e.from_type, e.from_id
           FROM walk w JOIN lineage_edges e ON e.project_id = $1 AND e.to_type = w.type AND e.to_id = w.id
       ),
       trained AS (
         SELECT DISTINCT e.from_id AS id
           FROM lineage_edges e JOIN walk w ON w.type = 'job' AND e.to_type = 'job' AND e.to_id = w.id
          WHERE e.project_id = $1 AND e.relation = 'trained_on' AND e.from_type = 'dataset_version'
       )
       SELECT v.id, d.name, v.version, q.verdict,
              q.report -> 'privacy' ->> 'rowsWithPersonalData' AS rows_with_personal_data,
              q.report -> 'privacy' -> 'byType' AS by_type
         FROM trained t
         JOIN dataset_versions v ON v.id = t.id AND v.project_id = $1
         JOIN datasets d ON d.id = v.dataset_id
         LEFT JOIN quality_reports q ON q.dataset_version_id = v.id
        ORDER BY d.name, v.version`,
      [projectId, modelVersionId],
    );
    return rows.map((row) => ({
      datasetVersionId: row.id,
      datasetName: row.name,
      version: row.version,
      qualityVerdict: row.verdict,
      rowsWithPersonalData: row.rows_with_personal_data === null ? null : Number(row.rows_with_personal_data),
      personalDataTypes: Object.fromEntries(
        Object.entries(row.by_type ?? {}).map(([type, report]) => [type, Number(report.rows ?? 0)]),
      ),
    }));
  }

  async datasetVersionId(manager: EntityManager, projectId: string, ref: DatasetVersionRef): Promise<string | null> {
    const rows = await manager.query<Array<{ id: string }>>(
      `SELECT v.id FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id
        WHERE d.project_id = $1 AND d.name = $2 AND v.version = $3`,
      [projectId, ref.name, ref.version],
    );
    return rows[0]?.id ?? null;
  }

  /** Dataset versions that any job upstream of the model version trained or validated on. */
  async lineageDataVersionIds(manager: EntityManager, projectId: string, modelVersionId: string): Promise<Set<string>> {
    const rows = await manager.query<Array<{ id: string }>>(
      `WITH RECURSIVE walk(type, id) AS (
         SELECT 'model_version'::text, $2::uuid
         UNION
         SELECT e.from_type, e.from_id
           FROM walk w JOIN lineage_edges e ON e.project_id = $1 AND e.to_type = w.type AND e.to_id = w.id
       )
       SELECT DISTINCT e.from_id AS id
         FROM lineage_edges e JOIN walk w ON w.type = 'job' AND e.to_type = 'job' AND e.to_id = w.id
        WHERE e.project_id = $1 AND e.relation IN ('trained_on', 'validated_on') AND e.from_type = 'dataset_version'`,
      [projectId, modelVersionId],
    );
    return new Set(rows.map((row) => row.id));
  }

  /** The latest succeeded evaluation (by finish time) of a model version on a dataset version. */
  async latestEvaluation(
    manager: EntityManager,
    projectId: string,
    modelVersionId: string,
    datasetVersionId: string,
    comparedWith: string | undefined,
  ): Promise<EvaluationFact | null> {
    const rows = await manager.query<
      Array<{
        id: string;
        finished_at: Date;
        result: {
          examples: number;
          metrics: Record<string, unknown>;
          comparison: { differences: EvaluationFact['differences'] } | null;
        };
      }>
    >(
      `SELECT id, finished_at, result FROM evaluations
        WHERE project_id = $1 AND model_version_id = $2 AND dataset_version_id = $3 AND status = 'succeeded'
          AND result IS NOT NULL AND ($4::uuid IS NULL OR baseline_model_version_id = $4::uuid)
        ORDER BY finished_at DESC, id DESC LIMIT 1`,
      [projectId, modelVersionId, datasetVersionId, comparedWith ?? null],
    );
    const row = rows[0];
    if (!row) {
      return null;
    }
    return {
      evaluationId: row.id,
      finishedAt: row.finished_at,
      examples: row.result.examples,
      metrics: row.result.metrics,
      differences: comparedWith ? (row.result.comparison?.differences ?? null) : null,
    };
  }
}
