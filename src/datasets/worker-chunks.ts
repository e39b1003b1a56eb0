import type { MessagePort } from 'node:worker_threads';

/**
 * Inside a worker thread: the byte chunks the main thread posts (`{type: 'chunk'}` messages, any
 * other message ends them) as an async iterable, calling `consumed` after each is used so the main
 * thread can keep a bounded window of bytes in flight.
 */
export async function* receiveChunks(port: MessagePort, consumed: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  const queue: (Uint8Array | null)[] = [];
  let wake: (() => void) | undefined;
  port.on('message', (message: { type: string; chunk?: Uint8Array }) => {
    queue.push(message.type === 'chunk' && message.chunk ? message.chunk : null);
    wake?.();
    wake = undefined;
  });
  for (;;) {
    if (queue.length === 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      continue;
    }
    const chunk = queue.shift();
    if (!chunk) {
      return;
    }
    yield chunk;
    consumed(chunk.byteLength);
  }
}
