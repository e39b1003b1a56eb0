import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Output, progressBar } from './output.js';
import { readServerSentEvents } from './sse.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(encoder.encode(chunk));
      }
      controller.close();
    },
  });
}

async function collect(chunks: string[]) {
  const events = [];
  for await (const event of readServerSentEvents(streamOf(chunks))) {
    events.push(event);
  }
  return events;
}

class FakeStream {
  written = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns = 80,
  ) {}
  write(text: string): boolean {
    this.written += text;
    return true;
  }
}

describe('server-sent events reader', () => {
  it('reads ids, event names, multi-line data and skips comments', async () => {
    const events = await collect([
      ': keep-alive\n\n',
      'id: 7\nevent: metrics\ndata: {"a":1}\n\n',
      'data: line one\ndata: line two\r\n\r\n',
      'event: end\ndata: {}\n\n',
    ]);
    assert.deepEqual(events, [
      { id: '7', event: 'metrics', data: '{"a":1}' },
      { id: '7', event: 'message', data: 'line one\nline two' },
      { id: '7', event: 'end', data: '{}' },
    ]);
  });

  it('gives the same events however the bytes are cut into chunks', async () => {
    const text = 'id: 1\nevent: message\ndata: {"k":"é ü"}\n\nid: 2\ndata: x\n\n: c\n\nevent: end\ndata: {}\n\n';
    const bytes = new TextEncoder().encode(text);
    const expected = await collect([text]);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }),
        async (cuts) => {
          const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
          const decoder = new TextDecoder('latin1');
          // Cut at byte boundaries, even inside a multi-byte character.
          const stream = new ReadableStream<Uint8Array>({
            start(controller) {
              for (let i = 0; i + 1 < points.length; i += 1) {
                controller.enqueue(bytes.slice(points[i], points[i + 1]));
              }
              controller.close();
            },
          });
          const events = [];
          for await (const event of readServerSentEvents(stream)) {
            events.push(event);
          }
          assert.deepEqual(events, expected, decoder.decode(bytes));
        },
      ),
    );
  });
});

describe('CLI output', () => {
  it('redraws a live line on a terminal and ends it before the next line', () => {
    const out = new FakeStream(true);
    const output = new Output(false, out as unknown as NodeJS.WriteStream, new FakeStream(false) as never);
    output.live(`${progressBar(0.5, 10)} step 5/10`);
    output.live(`${progressBar(1, 10)} step 10/10`);
    output.result({ ok: true }, 'done');
    assert.equal(out.written, '\r\x1b[2K[#####.....] 50% step 5/10\r\x1b[2K[##########] 100% step 10/10\ndone\n');
  });

  it('prints plain lines and no redraws when not a terminal, and JSON documents with --json', () => {
    const plain = new FakeStream(false);
    const output = new Output(false, plain as never, new FakeStream(false) as never);
    output.live('progress');
    output.line('an event', { kind: 'x' });
    output.result({ ok: true }, 'done');
    assert.equal(plain.written, 'an event\ndone\n');

    const json = new FakeStream(true);
    const machine = new Output(true, json as never, new FakeStream(false) as never);
    machine.live('progress');
    machine.line('an event', { kind: 'x' });
    machine.result({ ok: true }, 'done');
    assert.equal(json.written, '{"kind":"x"}\n{"ok":true}\n');
  });

  it('draws bars for any fraction, clamped', () => {
    assert.equal(progressBar(-1, 4), '[....] 0%');
    assert.equal(progressBar(2, 4), '[####] 100%');
    assert.equal(progressBar(Number.NaN, 4), '[....] 0%');
  });
});
