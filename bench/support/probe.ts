/**
 * Loaded into the service's process by the soak bench (`node --import`): measures the main
 * thread's event-loop delay and garbage collection, and writes them to SOAK_PROBE_FILE each time
 * the process receives SIGUSR2, starting a fresh measurement. The service itself never loads it.
 */
import { writeFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

const file = process.env.SOAK_PROBE_FILE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const fresh = () => ({ count: 0, totalMs: 0, maxMs: 0, majorCount: 0, majorMs: 0 });
  let gc = fresh();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count += 1;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gc.majorCount += 1;
        gc.majorMs += entry.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  const ms = (nanoseconds: number) => Math.round(nanoseconds / 1e4) / 100;
  process.on('SIGUSR2', () => {
    const memory = process.memoryUsage();
    writeFileSync(
      file,
      JSON.stringify({
        eventLoopDelayMs: {
          p50: ms(delay.percentile(50)),
          p99: ms(delay.percentile(99)),
          max: ms(delay.max),
        },
        gc: { ...gc, totalMs: Math.round(gc.totalMs), maxMs: Math.round(gc.maxMs), majorMs: Math.round(gc.majorMs) },
        memoryMb: {
          rss: Math.round(memory.rss / 1e6),
          heapUsed: Math.round(memory.heapUsed / 1e6),
          external: Math.round(memory.external / 1e6),
          arrayBuffers: Math.round(memory.arrayBuffers / 1e6),
        },
      }),
    );
    delay.reset();
    gc = fresh();
  });
}
