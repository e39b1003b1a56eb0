import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { TrainingDataFact } from './promotion-gate.js';

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
}
