/** One server-sent event: its `event:` name (`message` when absent), its `id:` and its data
 * (the `data:` lines joined by newlines). */
export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

/** Reads a `text/event-stream` from text chunks cut anywhere, even inside a line or between the
 * `\r` and `\n` of a line end, and returns each event once its blank line has arrived.
 * Comments (`: heartbeat`) and events without data are dropped, as the SSE spec says. */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id: string | null = null;
  private skipNewline = false;

  push(chunk: string): SseEvent[] {
    const events: SseEvent[] = [];
    let text = this.buffer + chunk;
    if (this.skipNewline && text.startsWith("\n")) {
      text = text.slice(1);
    }
    this.skipNewline = false;
    let start = 0;
    for (let index = 0; index < text.length; index += 1) {
      const char = text[index];
      if (char !== "\n" && char !== "\r") {
        continue;
      }
      const event = this.line(text.slice(start, index));
      if (event !== null) {
        events.push(event);
      }
      if (char === "\r") {
        if (index + 1 === text.length) {
          this.skipNewline = true;
        } else if (text[index + 1] === "\n") {
          index += 1;
        }
      }
      start = index + 1;
    }
    this.buffer = text.slice(start);
    return events;
  }

  private line(line: string): SseEvent | null {
    if (line === "") {
      return this.dispatch();
    }
    if (line.startsWith(":")) {
      return null;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) {
      value = value.slice(1);
    }
    if (field === "data") {
      this.data.push(value);
    } else if (field === "event") {
      this.event = value;
    } else if (field === "id") {
      this.id = value;
    }
    return null;
  }

  private dispatch(): SseEvent | null {
    const event =
      this.data.length === 0
        ? null
        : { event: this.event === "" ? "message" : this.event, id: this.id, data: this.data.join("\n") };
    this.data = [];
    this.event = "";
    return event;
  }
}

/** Reads a response body to its end, handing each server-sent event to `onEvent` as it
 * completes (events may arrive split across chunks). */
export async function readSseEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: SseEvent) => void,
): Promise<void> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      return;
    }
    for (const event of parser.push(decoder.decode(value, { stream: true }))) {
      onEvent(event);
    }
  }
}
