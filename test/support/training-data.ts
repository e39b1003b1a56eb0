/**
 * Small synthetic datasets that a test-sized model learns in seconds, with a signal strong enough
 * that a trained model clearly beats the majority-class baseline.
 */
import { seededRandom } from '../../src/trainer/runtime/examples.js';
import { apiClient, expectStatus } from './api.js';

const SUBJECTS = [
  'the film',
  'this phone',
  'our trip',
  'the service',
  'the meal',
  'that book',
  'the hotel',
  'the game',
];
const WORDS: Record<string, string[]> = {
  positive: ['wonderful', 'great', 'lovely', 'excellent', 'delightful', 'brilliant'],
  negative: ['terrible', 'awful', 'horrible', 'dreadful', 'poor', 'disappointing'],
  neutral: ['ordinary', 'average', 'typical', 'standard', 'acceptable', 'usual'],
};
const FILLERS = ['really', 'truly', 'quite', 'very', 'so', 'rather'];

export function sentimentRows(count: number, seed: number): Array<{ text: string; label: string }> {
  const random = seededRandom(seed);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  const labels = Object.keys(WORDS);
  return Array.from({ length: count }, () => {
    const label = pick(labels);
    return { text: `${pick(SUBJECTS)} was ${pick(FILLERS)} ${pick(WORDS[label])}`, label };
  });
}

export function textRows(count: number, seed: number): Array<{ text: string }> {
  return sentimentRows(count, seed).map((row) => ({ text: `${row.text}.` }));
}

export const jsonl = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).join('\n') + '\n';

export const PROVENANCE = { source: 'generated for tests', license: 'CC0-1.0', containsPersonalData: 'no' };

/** Creates a dataset and uploads its first version; returns the dataset id. */
export async function uploadDataset(
  api: ReturnType<typeof apiClient>,
  name: string,
  task: string,
  rows: unknown[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  const created = await api<{ id: string }>('POST', '/api/v1/datasets', {
    name,
    task,
    ...PROVENANCE,
    // Templated sentences repeat by design: duplicates are expected, not a data problem.
    qualityThresholds: { maxExactDuplicateRatio: { fail: null }, maxNearDuplicateRatio: { fail: null } },
    ...extra,
  });
  expectStatus(created, 201);
  const uploaded = await api('POST', `/api/v1/datasets/${created.body.id}/versions`, jsonl(rows), {
    'Content-Type': 'application/x-ndjson',
  });
  if (uploaded.status !== 201) {
    throw new Error(`upload failed: ${uploaded.status} ${JSON.stringify(uploaded.body)}`);
  }
  return created.body.id;
}

export interface JobView {
  id: string;
  status: string;
  attempt: number;
  currentStep: number;
  totalSteps: number;
  backend: string | null;
  error: { code: string; message: string; step: number | null } | null;
  resultModelVersionId: string | null;
  pendingControl: string | null;
  specHash: string;
  specChanges: unknown[];
  memoryEstimate: Record<string, number>;
}

export async function waitForJob(
  api: ReturnType<typeof apiClient>,
  jobId: string,
  until: (job: JobView) => boolean,
  timeoutMs = 120_000,
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await api<JobView>('GET', `/api/v1/jobs/${jobId}`);
    expectStatus(response, 200);
    if (until(response.body)) {
      return response.body;
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} did not reach the expected state: ${JSON.stringify(response.body)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export const ended = (job: JobView) => ['succeeded', 'failed', 'cancelled'].includes(job.status);

export async function jobEvents(
  api: ReturnType<typeof apiClient>,
  jobId: string,
): Promise<Array<{ kind: string; level: string; message: string; data: Record<string, unknown> | null }>> {
  const all: Array<{ kind: string; level: string; message: string; data: Record<string, unknown> | null }> = [];
  let after = '0';
  for (;;) {
    const page = await api<{
      data: Array<{
        sequence: string;
        kind: string;
        level: string;
        message: string;
        data: Record<string, unknown> | null;
      }>;
      nextCursor: string | null;
    }>('GET', `/api/v1/jobs/${jobId}/events?after=${after}&limit=1000`);
    expectStatus(page, 200);
    all.push(...page.body.data);
    if (!page.body.nextCursor) {
      return all;
    }
    after = page.body.nextCursor;
  }
}

/** Waits until the job's events include one that `matches` (events are kept, so none is missed). */
export async function waitForEvent(
  api: ReturnType<typeof apiClient>,
  jobId: string,
  matches: (events: Awaited<ReturnType<typeof jobEvents>>) => boolean,
  timeoutMs = 120_000,
): Promise<Awaited<ReturnType<typeof jobEvents>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await jobEvents(api, jobId);
    if (matches(events)) {
      return events;
    }
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} did not record the expected events: ${events.map((e) => e.kind).join(',')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
