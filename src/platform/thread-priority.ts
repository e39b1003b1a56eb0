import { readlinkSync } from 'node:fs';
import os from 'node:os';

/** The calling thread's kernel thread id, from /proc/thread-self (Linux); null elsewhere. */
export function kernelThreadId(): number | null {
  try {
    // "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/**
 * Lowers the calling thread's priority to `niceness` (never raises it: that needs privileges).
 * Called first thing by the compute worker threads: on Linux a thread id given to setpriority
 * renices that one thread, so the main thread, which answers HTTP, keeps its priority and is
 * scheduled first when the worker threads keep every core busy. Returns the thread's niceness
 * afterwards, or null where a single thread cannot be reniced (not Linux).
 */
export function lowerThreadPriority(niceness: number): { threadId: number; niceness: number } | null {
  const threadId = kernelThreadId();
  if (threadId === null) {
    return null;
  }
  try {
    if (os.getPriority(threadId) < niceness) {
      os.setPriority(threadId, niceness);
    }
    return { threadId, niceness: os.getPriority(threadId) };
  } catch {
    return null;
  }
}
