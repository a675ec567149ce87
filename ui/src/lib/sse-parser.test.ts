import { describe, expect, it } from "vitest";

import { SseParser, type SseEvent } from "./sse-parser";

const STREAM =
  'event: hello\ndata: {"lastId":41}\n\n' +
  ": heartbeat\n\n" +
  'id: 42\r\nevent: request\r\ndata: {"requestId":"req_1"}\r\n\r\n' +
  "id: 43\revent: limits\rdata: line one\rdata: line two\r\r";

const EXPECTED: SseEvent[] = [
  { event: "hello", id: null, data: '{"lastId":41}' },
  { event: "request", id: "42", data: '{"requestId":"req_1"}' },
  { event: "limits", id: "43", data: "line one\nline two" },
];

function parseInPieces(pieces: string[]): SseEvent[] {
  const parser = new SseParser();
  return pieces.flatMap((piece) => parser.push(piece));
}

describe("the SSE parser", () => {
  it("reads a whole stream given at once", () => {
    expect(parseInPieces([STREAM])).toEqual(EXPECTED);
  });

  it("reads the same events however the stream is cut in two", () => {
    for (let cut = 0; cut <= STREAM.length; cut += 1) {
      expect(parseInPieces([STREAM.slice(0, cut), STREAM.slice(cut)])).toEqual(EXPECTED);
    }
  });

  it("reads the same events one character at a time", () => {
    expect(parseInPieces(Array.from({ length: STREAM.length }, (_, at) => STREAM.charAt(at)))).toEqual(EXPECTED);
  });

  it("keeps an event without its blank line until the line comes", () => {
    const parser = new SseParser();

    expect(parser.push("event: request\ndata: {}\n")).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "request", id: null, data: "{}" }]);
  });

  it("names an event without an event line `message` and drops one without data", () => {
    expect(parseInPieces(["event: empty\n\ndata: x\n\n"])).toEqual([
      { event: "message", id: null, data: "x" },
    ]);
  });
});
