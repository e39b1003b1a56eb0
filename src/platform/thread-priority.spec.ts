import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { kernelThreadId } from './thread-priority.js';

/** A thread's niceness as the kernel reports it (field 19 of /proc/<pid>/task/<tid>/stat). */
async function nicenessOf(threadId: number): Promise<number> {
  const stat = await readFile(`/proc/${process.pid}/task/${threadId}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const onLinux = os.platform() === 'linux';

describe('lowerThreadPriority', { skip: !onLinux && 'threads are reniced on Linux only' }, () => {
  it('renices the calling worker thread only, not the main thread', async () => {
    const mainBefore = await nicenessOf(process.pid);
    // The worker lowers its own priority, reports it, and waits to be terminated so that its
    // thread can still be inspected.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       import(${JSON.stringify(new URL('./thread-priority.js', import.meta.url).href)}).then((module) => {
         parentPort.postMessage(module.lowerThreadPriority(7));
       });`,
      { eval: true },
    );
    try {
      const [reported] = (await once(worker, 'message')) as [{ threadId: number; niceness: number }];
      assert.equal(reported.niceness, Math.max(7, mainBefore));
      assert.notEqual(reported.threadId, process.pid);
      assert.equal(await nicenessOf(reported.threadId), reported.niceness, 'the kernel sees the worker reniced');
      assert.equal(await nicenessOf(process.pid), mainBefore, 'the main thread keeps its priority');
    } finally {
      await worker.terminate();
    }
  });

  it('never raises a priority', async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       import(${JSON.stringify(new URL('./thread-priority.js', import.meta.url).href)}).then((module) => {
         module.lowerThreadPriority(12);
         parentPort.postMessage(module.lowerThreadPriority(3));
       });`,
      { eval: true },
    );
    try {
      const [reported] = (await once(worker, 'message')) as [{ niceness: number }];
      assert.ok(reported.niceness >= 12, `niceness went back to ${reported.niceness}`);
    } finally {
      await worker.terminate();
    }
  });

  it('knows the main thread by the process id', () => {
    assert.equal(kernelThreadId(), process.pid);
  });
});
