import type { Response } from 'express';
import type { Principal } from '../auth/principal.js';
import { JOB_EVENT_SEQUENCE } from './job.dto.js';
import type { JobsService } from './jobs.service.js';

const POLL_MS = 500;
const KEEPALIVE_MS = 15_000;

/**
 * Server-sent events of a job's log. Events come from Postgres, so a client sees the events of a
 * job whichever replica runs it. Ends once the job has ended and every event was sent.
 */
export function streamJobEvents(
  jobs: JobsService,
  principal: Principal,
  jobId: string,
  after: string,
  response: Response,
): Promise<void> {
  response.status(200);
  response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  response.setHeader('Cache-Control', 'no-cache, no-transform');
  response.setHeader('Connection', 'keep-alive');
  response.setHeader('X-Accel-Buffering', 'no');
  response.flushHeaders();
  let cursor = JOB_EVENT_SEQUENCE.test(after) ? after : '0';
  let closed = false;
  let lastWrite = Date.now();
  response.on('close', () => {
    closed = true;
  });
  const loop = async () => {
    while (!closed) {
      const { events, ended } = await jobs.pollEvents(principal, jobId, cursor);
      for (const event of events) {
        response.write(`id: ${event.sequence}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        cursor = event.sequence;
        lastWrite = Date.now();
      }
      if (ended && events.length === 0) {
        response.write('event: end\ndata: {}\n\n');
        break;
      }
      if (Date.now() - lastWrite > KEEPALIVE_MS) {
        response.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      if (events.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
  };
  return loop()
    .catch(() => undefined)
    .finally(() => response.end());
}
