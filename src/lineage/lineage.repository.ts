import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { LineageEntityType, LineageRelation } from './lineage-edge.entity.js';

export interface LineageEdgeRow {
  fromType: LineageEntityType;
  fromId: string;
  toType: LineageEntityType;
  toId: string;
  relation: LineageRelation;
}

export interface LineageNodeRow {
  type: LineageEntityType;
  id: string;
  label: string;
  state: string | null;
  attributes: Record<string, unknown>;
}

/**
 * The project's lineage graph: the recorded edges, plus the links other tables already hold (a
 * transformed dataset version's parent, a checkpoint's job, an alias moved to a model version, an
 * evaluation's model and data), so that no module has to write them twice. Every query is scoped
 * to one project.
 */
const EDGES = `
  SELECT from_type, from_id, to_type, to_id, relation FROM lineage_edges WHERE project_id = $1
  UNION ALL
  SELECT 'dataset_version', parent_version_id, 'dataset_version', id, 'derived_from'
    FROM dataset_versions WHERE project_id = $1 AND parent_version_id IS NOT NULL
  UNION ALL
  SELECT 'job', job_id, 'checkpoint', id, 'produced' FROM checkpoints WHERE project_id = $1
  UNION ALL
  SELECT 'model_version', to_version_id, 'alias_move', id, 'promoted_to'
    FROM alias_history WHERE project_id = $1 AND kind IN ('promoted', 'forced')
  UNION ALL
  SELECT 'model_version', model_version_id, 'evaluation', id, 'evaluated' FROM evaluations WHERE project_id = $1
  UNION ALL
  SELECT 'dataset_version', dataset_version_id, 'evaluation', id, 'evaluated_on' FROM evaluations WHERE project_id = $1
  UNION ALL
  SELECT 'model_version', baseline_model_version_id, 'evaluation', id, 'compared_with'
    FROM evaluations WHERE project_id = $1 AND baseline_model_version_id IS NOT NULL`;

@Injectable()
export class LineageRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Entities within `depth` edges of the root, walking edges backwards (upstream) or forwards. */
  async walk(
    projectId: string,
    root: { type: LineageEntityType; id: string },
    upstream: boolean,
    depth: number,
  ): Promise<Map<string, number>> {
    const [next, match] = upstream ? ['from', 'to'] : ['to', 'from'];
    const rows = await this.dataSource.query<Array<{ type: LineageEntityType; id: string; distance: number }>>(
      `WITH RECURSIVE edges AS (${EDGES}),
       walk(type, id, distance) AS (
         SELECT $2::text, $3::uuid, 0
         UNION
         SELECT e.${next}_type, e.${next}_id, w.distance + 1
           FROM walk w JOIN edges e ON e.${match}_type = w.type AND e.${match}_id = w.id
          WHERE w.distance < $4
       )
       SELECT type, id, min(distance)::int AS distance FROM walk GROUP BY type, id`,
      [projectId, root.type, root.id, depth],
    );
    return new Map(rows.map((row) => [`${row.type}:${row.id}`, row.distance]));
  }

  async edgesAmong(projectId: string, keys: string[]): Promise<LineageEdgeRow[]> {
    return this.dataSource.query<LineageEdgeRow[]>(
      `WITH edges AS (${EDGES})
       SELECT DISTINCT from_type AS "fromType", from_id AS "fromId", to_type AS "toType", to_id AS "toId", relation
         FROM edges
        WHERE (from_type || ':' || from_id) = ANY($2) AND (to_type || ':' || to_id) = ANY($2)
        ORDER BY 1, 2, 3, 4, 5`,
      [projectId, keys],
    );
  }

  /** Labels, states and locating fields of the given entities (those of the project only). */
  async describe(projectId: string, ids: Map<LineageEntityType, string[]>): Promise<LineageNodeRow[]> {
    const nodes: LineageNodeRow[] = [];
    const of = (type: LineageEntityType) => ids.get(type) ?? [];
    if (of('dataset_version').length > 0) {
      const rows = await this.dataSource.query<
        Array<{
          id: string;
          name: string;
          version: number;
          state: string;
          dataset_id: string;
          split_name: string | null;
        }>
      >(
        `SELECT v.id, d.name, v.version, v.state, v.dataset_id, v.split_name
           FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id
          WHERE v.project_id = $1 AND v.id = ANY($2::uuid[])`,
        [projectId, of('dataset_version')],
      );
      for (const row of rows) {
        nodes.push({
          type: 'dataset_version',
          id: row.id,
          label: `${row.name} v${row.version}${row.split_name ? ` (${row.split_name})` : ''}`,
          state: row.state,
          attributes: { datasetId: row.dataset_id, datasetName: row.name, version: row.version },
        });
      }
    }
    if (of('job').length > 0) {
      const rows = await this.dataSource.query<
        Array<{ id: string; name: string; status: string; output_model_name: string }>
      >(`SELECT id, name, status, output_model_name FROM jobs WHERE project_id = $1 AND id = ANY($2::uuid[])`, [
        projectId,
        of('job'),
      ]);
      for (const row of rows) {
        nodes.push({
          type: 'job',
          id: row.id,
          label: row.name,
          state: row.status,
          attributes: { jobId: row.id, outputModelName: row.output_model_name },
        });
      }
    }
    if (of('model_version').length > 0) {
      const rows = await this.dataSource.query<Array<{ id: string; name: string; version: number; state: string }>>(
        `SELECT v.id, m.name, v.version, v.state FROM model_versions v JOIN registered_models m ON m.id = v.model_id
          WHERE v.project_id = $1 AND v.id = ANY($2::uuid[])`,
        [projectId, of('model_version')],
      );
      for (const row of rows) {
        nodes.push({
          type: 'model_version',
          id: row.id,
          label: `${row.name} v${row.version}`,
          state: row.state,
          attributes: { modelName: row.name, version: row.version },
        });
      }
    }
    if (of('alias_move').length > 0) {
      const rows = await this.dataSource.query<
        Array<{
          id: string;
          name: string;
          alias_name: string;
          kind: string;
          from_version: number | null;
          to_version: number;
          actor_key_id: string | null;
          created_at: Date;
        }>
      >(
        `SELECT h.id, m.name, h.alias_name, h.kind, h.from_version, h.to_version, h.actor_key_id, h.created_at
           FROM alias_history h JOIN registered_models m ON m.id = h.model_id
          WHERE h.project_id = $1 AND h.id = ANY($2::uuid[])`,
        [projectId, of('alias_move')],
      );
      for (const row of rows) {
        nodes.push({
          type: 'alias_move',
          id: row.id,
          label: `${row.name}@${row.alias_name} -> v${row.to_version}`,
          state: row.kind,
          attributes: {
            modelName: row.name,
            alias: row.alias_name,
            fromVersion: row.from_version,
            version: row.to_version,
            movedByKeyId: row.actor_key_id,
            movedAt: row.created_at.toISOString(),
          },
        });
      }
    }
    if (of('checkpoint').length > 0) {
      const rows = await this.dataSource.query<Array<{ id: string; job_id: string; step: number; is_best: boolean }>>(
        `SELECT id, job_id, step, is_best FROM checkpoints WHERE project_id = $1 AND id = ANY($2::uuid[])`,
        [projectId, of('checkpoint')],
      );
      for (const row of rows) {
        nodes.push({
          type: 'checkpoint',
          id: row.id,
          label: `checkpoint at step ${row.step}${row.is_best ? ' (best)' : ''}`,
          state: null,
          attributes: { jobId: row.job_id, step: row.step },
        });
      }
    }
    if (of('evaluation').length > 0) {
      const rows = await this.dataSource.query<
        Array<{
          id: string;
          model_name: string;
          model_version: number;
          dataset_name: string;
          dataset_version: number;
          status: string;
        }>
      >(
        `SELECT id, model_name, model_version, dataset_name, dataset_version, status FROM evaluations
          WHERE project_id = $1 AND id = ANY($2::uuid[])`,
        [projectId, of('evaluation')],
      );
      for (const row of rows) {
        nodes.push({
          type: 'evaluation',
          id: row.id,
          label: `${row.model_name} v${row.model_version} on ${row.dataset_name} v${row.dataset_version}`,
          state: row.status,
          attributes: { evaluationId: row.id, modelName: row.model_name, modelVersion: row.model_version },
        });
      }
    }
    return nodes;
  }
}
